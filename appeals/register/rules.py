"""Pure rules of the register: IIN check digit, phone normalisation, legal deadlines.

They need no database, so the web form, the import, the API and the demo share them.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import holidays

from appeals.core.phones import PhoneError, normalise_phone
from appeals.core.timeutil import local_today

IIN_WEIGHTS_FIRST = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
IIN_WEIGHTS_SECOND = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
# The 7th digit of an IIN gives the century of birth (and the sex): 1-2 → 1800s, 3-4 → 1900s, 5-6 → 2000s.
IIN_CENTURIES = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


class RuleViolation(ValueError):
    """`code` says which rule failed; callers turn it into a translated message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def iin_check_digit(first_eleven: str) -> int | None:
    """The 12th digit of an IIN: weighted sum mod 11, a second pass with shifted weights when it gives 10.

    Returns None when both passes give 10: such a number is never issued.
    """
    digits = [int(c) for c in first_eleven]
    control = sum(d * w for d, w in zip(digits, IIN_WEIGHTS_FIRST)) % 11
    if control == 10:
        control = sum(d * w for d, w in zip(digits, IIN_WEIGHTS_SECOND)) % 11
    return None if control == 10 else control


def iin_birth_date(iin: str) -> date | None:
    century = IIN_CENTURIES.get(iin[6])
    if century is None:
        return None
    try:
        return date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return None


def check_iin(value: str | None, today: date | None = None) -> str:
    """The IIN without spaces, or RuleViolation('iin_format' | 'iin_date' | 'iin_checksum')."""
    iin = "".join((value or "").split())
    if len(iin) != 12 or not iin.isdigit():
        raise RuleViolation("iin_format")
    born = iin_birth_date(iin)
    if born is None or born > (today or local_today()):
        raise RuleViolation("iin_date")
    if iin_check_digit(iin[:11]) != int(iin[11]):
        raise RuleViolation("iin_checksum")
    return iin


def make_iin(born: date, sex: str = "m", serial: int = 1) -> str:
    """A structurally valid IIN for `born` (demo data and tests); tries serials until the check digit exists."""
    century_digit = {1800: (1, 2), 1900: (3, 4), 2000: (5, 6)}[born.year // 100 * 100]
    seventh = century_digit[0 if sex == "m" else 1]
    for attempt in range(serial, serial + 10000):
        head = f"{born:%y%m%d}{seventh}{attempt % 10000:04d}"
        check = iin_check_digit(head)
        if check is not None:
            return head + str(check)
    raise ValueError("no valid IIN for this date")


def check_phone(value: str | None) -> str:
    """E.164 form of a phone number written the Kazakh way (appeals/core/phones.py's rule)."""
    try:
        return normalise_phone(value)
    except PhoneError as exc:
        raise RuleViolation(exc.code) from exc


@lru_cache(maxsize=32)
def _calendar(first_year: int, last_year: int) -> Any:
    return holidays.KZ(years=range(first_year, last_year + 1))


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    """Kazakhstan's working days: weekends and public holidays off, transferred days applied both ways.
    (Kept per day: every deadline walks its three or four weeks of days one by one.)"""
    return _calendar(day.year - 1, day.year + 1).is_working_day(day)


def add_working_days(start: date, working_days: int) -> date:
    """The date `working_days` working days after `start` (the day of `start` itself is not counted).

    A period in days begins on the day after the event that starts it (APPK art. 76 counts the
    appeal's term from the day after registration).
    """
    day = start
    remaining = working_days
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (negative when `end` is earlier)."""
    if end == start:
        return 0
    sign = 1 if end > start else -1
    low, high = (start, end) if sign > 0 else (end, start)
    count = 0
    day = low
    while day < high:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return sign * count
