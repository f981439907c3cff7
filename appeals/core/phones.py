"""Phone numbers written the Kazakh way, in E.164: the register's rule and the booking's share it."""
from __future__ import annotations

from functools import lru_cache

import phonenumbers


class PhoneError(ValueError):
    """`code`: "phone_format" (not a phone number) or "phone_invalid" (no such number)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def normalise_phone(value: str | None) -> str:
    """E.164 form of a phone number written the Kazakh way (8 701 ..., +7 701 ..., 701 ...)."""
    return _normalise((value or "").strip())


@lru_cache(maxsize=64)
def _normalise(raw: str) -> str:
    # A registration reads its phone more than once (the checks, the repeat look-up): parsed once. Only a
    # few dozen answers are kept (an exception is not): the last requests' numbers, not a directory.
    if not raw:
        raise PhoneError("phone_format")
    digits = "".join(c for c in raw if c.isdigit())
    # Local habit: a ten-digit mobile number written without the trunk prefix (701 123 45 67).
    if len(digits) == 10 and not raw.startswith("+") and digits[0] == "7":
        raw = "+7" + digits
    try:
        parsed = phonenumbers.parse(raw, "KZ")
    except phonenumbers.NumberParseException as exc:
        raise PhoneError("phone_format") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneError("phone_invalid")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
