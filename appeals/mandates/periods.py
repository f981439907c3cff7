"""Which mandates a period counts, for the mandates list's filters and every statistic.

Two periods, two figures: a mandate is *registered in* the period of the day the coordinator
registered it (its created_at, stored in UTC, compared with the branch's local days), and it is
*formed from* the appeals of a period when one of its standing links is to an appeal received then
(a mandate merged from several appeals is still one mandate). A withdrawn mandate counts in neither.
"""
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from appeals.core.timeutil import local_to_utc
from appeals.mandates.models import Mandate, MandateAppeal
from appeals.register.models import Appeal
from appeals.register.periods import received_between


def counted(status: Any = None) -> sa.ColumnElement[bool]:
    """A mandate counts in the figures unless it was withdrawn. `status`: a copy of the mandate's status
    to test instead (a link's mandate_status)."""
    return (Mandate.status if status is None else status) != "withdrawn"


def _local_day_start_utc(day: date) -> datetime:
    """Midnight at the branch (local time) as the naive UTC value stored in created_at."""
    return local_to_utc(datetime.combine(day, time.min))


def registered_window(start: date, end: date) -> tuple[datetime, datetime]:
    """The stored registration times (naive UTC) of two local dates, inclusive: [from, to)."""
    return _local_day_start_utc(start), _local_day_start_utc(end + timedelta(days=1))


def registered_between(start: date | None, end: date | None) -> sa.ColumnElement[bool]:
    """Mandates registered (created) between two local dates, inclusive; either may be open."""
    conditions = []
    if start is not None:
        conditions.append(Mandate.created_at >= _local_day_start_utc(start))
    if end is not None:
        conditions.append(Mandate.created_at < _local_day_start_utc(end + timedelta(days=1)))
    return sa.and_(sa.true(), *conditions)


def standing_links() -> sa.ColumnElement[bool]:
    return MandateAppeal.removed_at.is_(None)


def formed_from_appeals_received(start: date | None, end: date | None) -> sa.ColumnElement[bool]:
    """Mandates with a standing link to an appeal received in the period."""
    return Mandate.id.in_(
        sa.select(MandateAppeal.mandate_id).join(Appeal, Appeal.id == MandateAppeal.appeal_id)
        .where(standing_links(), received_between(start, end))
    )
