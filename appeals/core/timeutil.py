"""Clock and time-zone helpers: stored timestamps are naive UTC, business times are local (Asia/Almaty)."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local_zone():
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_now():
    """The wall-clock time at the branch, naive, as clerks type it on forms."""
    return datetime.now(local_zone()).replace(tzinfo=None)


def local_today():
    return local_now().date()


def utc_to_local(value):
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).astimezone(local_zone()).replace(tzinfo=None)


def local_to_utc(value):
    """A naive local (branch) time as the naive UTC value stored in timestamps."""
    if value is None:
        return None
    return value.replace(tzinfo=local_zone()).astimezone(timezone.utc).replace(tzinfo=None)


def last_full_days(days=30, today=None):
    """The `days` days that ended yesterday: the default reporting period of statistics."""
    from datetime import timedelta

    end = (today or local_today()) - timedelta(days=1)
    return end - timedelta(days=days - 1), end
