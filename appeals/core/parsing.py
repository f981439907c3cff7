"""Reading what users type and what query strings carry: dates, periods, ids, numbers and choices.

One rule each, for every page, API filter, report and service. A value that cannot be read, or a
date outside FIRST_DATE … LAST_DATE, is a field error (ParseError, a DomainError of kind "invalid"),
shown on the form or filter, or returned as 422 by the API; never a 500 from date arithmetic
overflowing further on. Empty input is None (or an error when the value is required).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Optional, TypeVar

from flask_babel import gettext as _

from appeals.core.errors import DomainError
from appeals.core.timeutil import last_full_days, local_today

# The register starts in this century; later dates are typos (and near date.max they overflow).
FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
DATETIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                    "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")
# A date without a time of day (an import cell, a form without the time) is taken as received at 9:00.
DEFAULT_TIME = dt.time(9, 0)
# PostgreSQL's integer: a larger id cannot exist and would fail inside the database driver.
MAX_ID = 2**31 - 1
TRUE_VALUES = ("1", "true", "on", "yes")
# A report or list period may span at most this many days (ten years).
MAX_PERIOD_DAYS = 3700

T = TypeVar("T")


class ParseError(DomainError):
    """A value could not be read; `errors` names the field(s)."""

    kind = "invalid"


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _required(field: Optional[str]) -> ParseError:
    return ParseError(_("This field is required."), field)


def _in_range(day: dt.date, field: Optional[str], first: dt.date, last: dt.date) -> dt.date:
    if not first <= day <= last:
        raise ParseError(_("The date must be between %(first)s and %(last)s.",
                           first=first.strftime("%d.%m.%Y"), last=last.strftime("%d.%m.%Y")), field)
    return day


def parse_date(value: object, field: Optional[str] = None, *, required: bool = False,
               first: dt.date = FIRST_DATE, last: dt.date = LAST_DATE) -> Optional[dt.date]:
    """A date from a date, a datetime, or text as YYYY-MM-DD or dd.mm.yyyy, within [first, last]."""
    if _empty(value):
        if required:
            raise _required(field)
        return None
    if isinstance(value, dt.datetime):
        return _in_range(value.date(), field, first, last)
    if isinstance(value, dt.date):
        return _in_range(value, field, first, last)
    text = str(value).strip()
    for pattern in DATE_FORMATS:
        try:
            day = dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        return _in_range(day, field, first, last)
    raise ParseError(_("Enter a date as dd.mm.yyyy."), field)


def parse_datetime(value: object, field: Optional[str] = None, *, required: bool = False,
                   default_time: dt.time = DEFAULT_TIME) -> Optional[dt.datetime]:
    """A naive local date-time, to the minute; a date alone is taken at `default_time`."""
    if _empty(value):
        if required:
            raise _required(field)
        return None
    if isinstance(value, dt.datetime):
        moment = value.replace(second=0, microsecond=0, tzinfo=None)
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, default_time)
    else:
        text = str(value).strip()
        found: Optional[dt.datetime] = None
        for pattern in DATETIME_FORMATS:
            try:
                found = dt.datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        if found is None:
            day = parse_date(text, field, required=True)
            assert day is not None  # required: a date or ParseError
            found = dt.datetime.combine(day, default_time)
        moment = found
    _in_range(moment.date(), field, FIRST_DATE, LAST_DATE)
    return moment


def parse_int(value: object, field: Optional[str] = None, *, required: bool = False,
              minimum: Optional[int] = None, maximum: Optional[int] = None) -> Optional[int]:
    """A whole number within [minimum, maximum] (when given)."""
    if _empty(value):
        if required:
            raise _required(field)
        return None
    if isinstance(value, bool):
        raise ParseError(_("Enter a whole number."), field)
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise ParseError(_("Enter a whole number."), field) from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        if minimum is not None and maximum is not None:
            raise ParseError(_("Enter a number from %(low)d to %(high)d.", low=minimum, high=maximum), field)
        if minimum is not None:
            raise ParseError(_("Enter a number of at least %(low)d.", low=minimum), field)
        raise ParseError(_("Enter a number of at most %(high)d.", high=maximum), field)
    return number


def parse_id(value: object, field: Optional[str] = None, *, required: bool = False) -> Optional[int]:
    """A row id (1 … MAX_ID); "0" and "" mean none chosen."""
    if not isinstance(value, bool) and value in (0, "0"):
        value = None
    if _empty(value):
        if required:
            raise ParseError(_("Choose an item from the list."), field)
        return None
    try:
        return parse_int(value, field, minimum=1, maximum=MAX_ID)
    except ParseError:
        raise ParseError(_("Choose an item from the list."), field) from None


def parse_ids(values: Iterable[object] | None, field: Optional[str] = None) -> list[int]:
    """Distinct row ids, sorted."""
    ids = set()
    for value in values or ():
        ident = parse_id(value, field)
        if ident is not None:
            ids.add(ident)
    return sorted(ids)


def parse_choice(value: object, allowed: Iterable[str], field: Optional[str] = None, *,
                 required: bool = False, default: Optional[str] = None) -> Optional[str]:
    """One of `allowed`; empty gives `default`."""
    if _empty(value):
        if required:
            raise ParseError(_("Choose a value from the list."), field)
        return default
    text = str(value).strip()
    if text not in tuple(allowed):
        raise ParseError(_("Choose a value from the list."), field)
    return text


def parse_flag(value: object) -> bool:
    """A checkbox or query flag: 1, true, on, yes (any case) are true; anything else is false."""
    return str(value or "").strip().lower() in TRUE_VALUES


def parse_period(start_value: object, end_value: object, *, start_field: str = "date_from",
                 end_field: str = "date_to", default: Optional[Callable[[], tuple[dt.date, dt.date]]] = None,
                 today: Optional[dt.date] = None, max_days: int = MAX_PERIOD_DAYS) -> tuple[dt.date, dt.date]:
    """A period [start, end] of dates, inclusive: both ends given; only the end (the 30 days up to it);
    only the start (running to today); neither (`default()`, else the last 30 full days)."""

    collect = FieldErrors()
    given_start = collect(parse_date, start_value, start_field)
    given_end = collect(parse_date, end_value, end_field)
    collect.raise_if_any()
    today = today or local_today()
    start: dt.date
    end: dt.date
    if given_start is None and given_end is None:
        start, end = (default or (lambda: last_full_days(30)))()
    elif given_start is None:
        assert given_end is not None
        end = given_end
        start = max(FIRST_DATE, end - dt.timedelta(days=29))
    elif given_end is None:
        start = given_start
        end = max(start, min(today, LAST_DATE))
    else:
        start, end = given_start, given_end
    if end < start:
        raise ParseError(_("The end of the period is before its start."), end_field)
    if (end - start).days > max_days:
        raise ParseError(_("The period is too long (at most ten years)."), end_field)
    return start, end


def lenient(parse: Callable[..., T], *args: Any, **kwargs: Any) -> Optional[T]:
    """`parse(...)`, or None where a bad value simply means "not given" (a prefill, a repeat check)."""
    try:
        return parse(*args, **kwargs)
    except ParseError:
        return None


class FieldErrors:
    """Collects the field errors of several parses, so a form or filter reports all of them at once.

        errors = FieldErrors()
        start = errors(parse_date, args.get("date_from"), "date_from")
        errors.raise_if_any()
    """

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def __call__(self, parse: Callable[..., T], *args: Any, **kwargs: Any) -> Optional[T]:
        try:
            return parse(*args, **kwargs)
        except ParseError as exc:
            self.add(exc.errors)
            return None

    def add(self, errors: Mapping[str, list[str]]) -> None:
        for name, messages in errors.items():
            self.errors.setdefault(name, []).extend(messages)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ParseError(errors=self.errors)
