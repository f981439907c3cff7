"""Masking of citizens' personal data for roles that do not need it in full.

Who sees what is decided in `appeals.auth.permissions` (the personal-data policy); this module only
knows how to hide a value: masks for the applicant's fields and a redaction of free text.
"""
import re
from collections.abc import Iterable

# What replaces a hidden value: the same mark everywhere (pages, API, PDFs, exports, audit trail).
HIDDEN = "***"

# Digit runs that may be an IIN (12 digits) or a phone number (10–11 digits, +7 / 8 prefixes):
# digits with spaces, hyphens or brackets between them, but not dots or colons, so that dates
# (01.02.2026) and times (10:00) stay readable. Any run of 10 or more digits is hidden: a letter's
# bank account or document number is personal too, and hiding too much is the safe error.
_DIGIT_RUN = re.compile(r"(?<![\w+])\+?\(?\d(?:[\s\-()\u00a0]{0,3}\d){9,}\)?(?!\w)")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)


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


def mask_address(address):
    return HIDDEN if address else ""


# The same redaction (without `known`) as SQL, for searches that must not match what is hidden:
# PostgreSQL's regexp_replace; SQLite gets redact_personal() itself as the function qb_redact().
_PG_EMAIL = r"[[:alnum:]_.+-]+@[[:alnum:]_-]+(\.[[:alnum:]_-]+)+"
_PG_DIGIT_RUN = r"\+?\(?[0-9]([[:space:]()-]{0,3}[0-9]){9,}\)?"


def redacted_sql(column, dialect_name: str):
    """A SQL expression of `column` with e-mail addresses and IIN- or phone-like digit runs hidden."""
    import sqlalchemy as sa

    if dialect_name == "postgresql":
        without_email = sa.func.regexp_replace(sa.func.coalesce(column, ""), _PG_EMAIL, HIDDEN, "g")
        return sa.func.regexp_replace(without_email, _PG_DIGIT_RUN, HIDDEN, "g")
    return sa.func.qb_redact(column)


def looks_personal(text: str | None) -> bool:
    """Whether `text` holds something redact_personal() would hide: an e-mail address, an IIN- or phone-like run."""
    if not text:
        return False
    return bool(_EMAIL.search(text)) or any(sum(c.isdigit() for c in match.group()) >= 10
                                            for match in _DIGIT_RUN.finditer(text))


def redact_personal(text: str | None, known: Iterable[str] = ()) -> str:
    """Free text with e-mail addresses and IIN- or phone-like digit runs hidden.

    `known` are further values to hide wherever they occur, whatever their case (the applicant's
    address, the parts of the name the reader may not see): a letter is usually signed with them.
    """
    if not text:
        return ""
    text = _EMAIL.sub(HIDDEN, text)
    text = _DIGIT_RUN.sub(lambda match: HIDDEN if sum(c.isdigit() for c in match.group()) >= 10 else match.group(),
                          text)
    terms = sorted({term.strip() for term in known if term and len(term.strip()) >= 3}, key=len, reverse=True)
    if terms:
        pattern = re.compile("|".join(re.escape(term) for term in terms), re.IGNORECASE)
        text = pattern.sub(HIDDEN, text)
    return text


# Address-like fragments: a street with a house number, a house or flat number ("ул. Абая, д. 12,
# кв. 5", "Абай көшесі 12-үй, 7-пәтер", "12 Abay street, apt 3"). A street or district on its own
# stays: a public mandate is often about one ("Абай көшесіне жарық"); the number is what points at
# a home. Hiding a little too much is the safe error here as well.
_STREET_BEFORE = (r"(?:ул|улица|пр|пр-т|просп|проспект|мкр|микрорайон|пер|переулок|б-р|бульвар|ш/а|"
                  r"шағын\s+аудан(?:ы)?|street|st|avenue|ave|road|rd)\.?")
_STREET_AFTER = r"(?:көшесі|көш\.|даңғылы|даң\.|тұйығы|шағын\s+ауданы|ықшамауданы|street|st\.|avenue|ave\.|road)"
_HOUSE_NO = r"№?\s*\d+[\w/\-]*"
_FLAT = r"(?:кв|квартира|пәтер|apt|apartment|flat|үй|дом|д|house)\.?"
_ADDRESS = re.compile(
    r"(?:"
    rf"(?<!\w){_STREET_BEFORE}\s+[\w«»\"'\-]+(?:\s+[\w«»\"'\-]+)?,?\s*(?:{_FLAT}\s*)?{_HOUSE_NO}"
    rf"|[\w«»\"'\-]+\s+{_STREET_AFTER},?\s*(?:{_FLAT}\s*)?{_HOUSE_NO}(?:\s*[-–]?\s*(?:үй|пәтер))?"
    rf"|\d+[\w/]*\s+[\w«»\"'\-]+\s+{_STREET_AFTER}"
    rf"|(?<!\w){_FLAT}\s*{_HOUSE_NO}"
    rf"|(?<!\w)\d+[\w/]*\s*[-–]\s*(?:үй|пәтер)(?!\w)"
    r")",
    re.IGNORECASE | re.UNICODE,
)


def looks_like_address(text: str | None) -> bool:
    """Whether `text` holds a street with a house number, or a house or flat number."""
    return bool(text) and bool(_ADDRESS.search(text or ""))


def redact_for_public(text: str | None, known: Iterable[str] = ()) -> str:
    """A draft of a public text from an internal one (a mandate's appeal summary): e-mail
    addresses, IIN- and phone-like runs, address-like fragments and the `known` values (the
    applicants' names and addresses) replaced by HIDDEN, for a reviewer to rewrite before publishing."""
    text = redact_personal(text, known)
    text = _ADDRESS.sub(HIDDEN, text)
    # "***, ***" and the like read as one gap.
    return re.sub(r"\*\*\*(?:[\s,;]*\*\*\*)+", HIDDEN, text)


def public_text_problems(text: str | None, known: Iterable[str] = ()) -> list[str]:
    """What in `text` must not be published: codes "personal" (IIN-, phone-, e-mail-like),
    "address" (address-like), "hidden" (a HIDDEN mark left from a draft), "known" (one of the
    `known` values: an applicant's name, IIN, phone or address)."""
    text = text or ""
    problems = []
    if looks_personal(text):
        problems.append("personal")
    if looks_like_address(text):
        problems.append("address")
    if HIDDEN in text:
        problems.append("hidden")
    folded = text.casefold()
    if any(term and len(term.strip()) >= 3 and term.strip().casefold() in folded for term in known):
        problems.append("known")
    return problems


def hide(value):
    """A "changed" marker: the value is gone, that there was one stays visible."""
    return HIDDEN if value not in (None, "") else value


# How the audit trail keeps an appeal's personal fields (issue 13, finding 8): the trail is read by
# admins, who may not read appeals, and by everyone who sees an appeal's history. The register
# itself is the only place the full record is read from, through its own checks.
APPEAL_AUDIT_MASKS = {
    "applicant_name": hide, "address": hide, "text": hide, "answer_text": hide,
    "iin": mask_iin, "phone": mask_phone,
    "summary": redact_personal, "withdrawn_reason": redact_personal, "reason": redact_personal,
    "backdate_reason": redact_personal,
}
# A mandate starts as a copy of its appeal's summary (title) and letter (description).
MANDATE_AUDIT_MASKS = {"title": redact_personal, "description": hide, "reason": redact_personal,
                       "override_reason": redact_personal}


def mask_changes(changes, masks):
    """An audit record's values ({field: value} or {field: [old, new]}) with the fields in `masks` masked."""
    if not changes:
        return changes
    masked = {}
    for field, value in changes.items():
        mask = masks.get(field)
        if mask is None:
            masked[field] = value
        elif isinstance(value, (list, tuple)):
            masked[field] = [mask(item) if isinstance(item, str) and item else item for item in value]
        else:
            masked[field] = mask(value) if isinstance(value, str) and value else value
    return masked
