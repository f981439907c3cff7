"""Which appeals a period holds: those received on its days (local dates, inclusive).

`received_at` is stored as the branch's local time, so a local date's bounds are compared directly.
The register's date filter, the directive criteria and every statistic use this one rule.
"""
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from appeals.register.models import Appeal


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min)


def received_between(start: date | None, end: date | None, column: Any = None) -> sa.ColumnElement[bool]:
    """Appeals received from `start` to `end` (either may be open). `column`: a copy of the received time
    to compare instead of Appeal.received_at (a mandate link's appeal_received_at)."""
    received = Appeal.received_at if column is None else column
    conditions = []
    if start is not None:
        conditions.append(received >= day_start(start))
    if end is not None:
        conditions.append(received < day_start(end + timedelta(days=1)))
    return sa.and_(sa.true(), *conditions)
