"""Clock and time-zone helpers: stored timestamps are naive UTC, business times are local (Asia/Almaty).

The one place the app reads the clock: everything that needs "now" or "today" calls these, so the
tests can set the clock (time-machine, tests/conftest.py) and CI runs them at 00:30 and 23:30.
"""
import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow():
    return datetime.now(UTC).replace(tzinfo=None)


def local_zone():
    # Outside the app (pure rule modules called from a script) the zone comes from the environment
    # the way config.py reads it.
    if has_app_context():
        return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return ZoneInfo(os.environ.get("QABYLDAU_TIMEZONE", "Asia/Almaty"))


def local_now():
    """The wall-clock time at the branch, naive, as clerks type it on forms."""
    return datetime.now(local_zone()).replace(tzinfo=None)


def local_today():
    return local_now().date()


def utc_to_local(value):
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(local_zone()).replace(tzinfo=None)


def local_to_utc(value):
    """A naive local (branch) time as the naive UTC value stored in timestamps."""
    if value is None:
        return None
    return value.replace(tzinfo=local_zone()).astimezone(UTC).replace(tzinfo=None)


def last_full_days(days=30, today=None):
    """The `days` days that ended yesterday: the default reporting period of statistics."""
    from datetime import timedelta

    end = (today or local_today()) - timedelta(days=1)
    return end - timedelta(days=days - 1), end
