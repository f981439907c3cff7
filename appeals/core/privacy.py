"""Masking of citizens' personal data for roles that do not need it in full."""


def mask_iin(iin):
    """900101******12 style: birth date prefix and the last two digits stay readable."""
    if not iin:
        return ""
    if len(iin) <= 6:
        return "*" * len(iin)
    return iin[:4] + "*" * (len(iin) - 6) + iin[-2:]


def mask_phone(phone):
    if not phone:
        return ""
    if len(phone) <= 6:
        return "*" * len(phone)
    return phone[:4] + "*" * (len(phone) - 6) + phone[-2:]


def mask_name(full_name):
    """Keep the surname, reduce the other names to initials (Әбілқасымов Ә. Қ.)."""
    parts = (full_name or "").split()
    if len(parts) <= 1:
        return full_name or ""
    return " ".join([parts[0]] + [p[0] + "." for p in parts[1:]])
