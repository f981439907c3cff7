"""Reading the schedule: filtered lists in the user's scope, the public schedule, a host's own sessions."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from appeals.auth.permissions import scope_sessions
from appeals.core.extensions import db
from appeals.core.timeutil import local_now, local_today
from appeals.reference.models import Office, Settlement
from appeals.schedules.models import Host, ReceptionSession, session_hosts

if TYPE_CHECKING:
    from appeals.auth.models import User


@dataclass
class SessionFilters:
    office_id: Optional[int] = None
    host_id: Optional[int] = None
    date_from: Optional[dt.date] = None
    date_to: Optional[dt.date] = None
    statuses: list = field(default_factory=list)


def session_visible(session: ReceptionSession, user: User | None) -> bool:
    query = scope_sessions(sa.select(ReceptionSession.id).where(ReceptionSession.id == session.id), user)
    return db.session.scalar(query) is not None


def sessions_query(filters: SessionFilters | dict[str, Any], user: User | None) -> sa.Select:
    if isinstance(filters, dict):
        filters = SessionFilters(**filters)
    query = sa.select(ReceptionSession).options(
        selectinload(ReceptionSession.hosts), selectinload(ReceptionSession.office))
    if filters.office_id:
        query = query.where(ReceptionSession.office_id == filters.office_id)
    if filters.host_id:
        query = query.where(ReceptionSession.id.in_(
            sa.select(session_hosts.c.session_id).where(session_hosts.c.host_id == filters.host_id)))
    if filters.date_from:
        query = query.where(ReceptionSession.date >= filters.date_from)
    if filters.date_to:
        query = query.where(ReceptionSession.date <= filters.date_to)
    if filters.statuses:
        query = query.where(ReceptionSession.status.in_(filters.statuses))
    query = scope_sessions(query, user)
    return query.order_by(ReceptionSession.date, ReceptionSession.start_time, ReceptionSession.office_id,
                          ReceptionSession.id)


def list_sessions(filters: SessionFilters | dict[str, Any], user: User | None) -> Sequence[ReceptionSession]:
    """Sessions matching `filters` (SessionFilters or dict) that `user` may see; None = the public."""
    return db.session.scalars(sessions_query(filters, user)).all()


PUBLIC_DAYS_AHEAD = 60
PUBLIC_DAYS_PER_PAGE = 5
PUBLIC_PERIODS = ("", "this_week", "next_week", "range")


@dataclass
class PublicFilters:
    """What a citizen narrows the public schedule by. A settlement stands for the offices of its
    district (receptions are held at offices, and an office serves its district)."""

    district_id: Optional[int] = None
    settlement_id: Optional[int] = None
    office_id: Optional[int] = None
    host_id: Optional[int] = None
    period: str = ""
    date_from: Optional[dt.date] = None
    date_to: Optional[dt.date] = None


@dataclass
class PublicPage:
    days: list[tuple[dt.date, list[ReceptionSession]]]
    number: int
    has_prev: bool
    has_next: bool
    start: dt.date
    end: dt.date
    district_id: Optional[int] = None


def public_window(period: str, date_from: dt.date | None, date_to: dt.date | None,
                  today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The days the public schedule covers: this or next week (Monday to Sunday), a range (within
    the next PUBLIC_DAYS_AHEAD days; a reversed one is turned round), else today on."""
    today = today or local_today()
    horizon = today + dt.timedelta(days=PUBLIC_DAYS_AHEAD)
    monday = today - dt.timedelta(days=today.weekday())
    if period == "this_week":
        start, end = today, monday + dt.timedelta(days=6)
    elif period == "next_week":
        start, end = monday + dt.timedelta(days=7), monday + dt.timedelta(days=13)
    elif period == "range" and (date_from or date_to):
        start, end = date_from or today, date_to or horizon
        if end < start:
            start, end = end, start
    else:
        start, end = today, horizon
    return max(start, today), min(end, horizon)


def _public_query(filters: PublicFilters, start: dt.date, end: dt.date) -> tuple[sa.Select, Optional[int]]:
    now = local_now()
    query = sessions_query(SessionFilters(office_id=filters.office_id, host_id=filters.host_id, date_from=start,
                                          date_to=end, statuses=["approved"]), None)
    # A reception that has ended today is no longer offered.
    query = query.where(sa.or_(ReceptionSession.date > now.date(), ReceptionSession.end_time > now.time()))
    district_id = filters.district_id
    if filters.settlement_id:
        district_id = db.session.scalar(sa.select(Settlement.district_id).where(Settlement.id == filters.settlement_id))
    if district_id:
        query = query.where(ReceptionSession.office_id.in_(sa.select(Office.id).where(Office.district_id == district_id)))
    return query, district_id


def public_schedule(filters: PublicFilters, page: int = 1) -> PublicPage:
    """Approved receptions still to come for the page citizens open without logging in, grouped by
    day, PUBLIC_DAYS_PER_PAGE days with receptions to a page (the days are counted first, so a page
    never cuts a day in two)."""
    start, end = public_window(filters.period, filters.date_from, filters.date_to)
    query, district_id = _public_query(filters, start, end)
    page = max(1, page)
    dates_query = (sa.select(ReceptionSession.date).where(ReceptionSession.id.in_(
        query.with_only_columns(ReceptionSession.id).order_by(None))).distinct().order_by(ReceptionSession.date)
        .offset((page - 1) * PUBLIC_DAYS_PER_PAGE).limit(PUBLIC_DAYS_PER_PAGE + 1))
    dates = list(db.session.scalars(dates_query))
    has_next = len(dates) > PUBLIC_DAYS_PER_PAGE
    dates = dates[:PUBLIC_DAYS_PER_PAGE]
    days: dict[dt.date, list[ReceptionSession]] = {day: [] for day in dates}
    if dates:
        for reception in db.session.scalars(query.where(ReceptionSession.date.in_(dates))):
            days[reception.date].append(reception)
    return PublicPage(days=list(days.items()), number=page, has_prev=page > 1, has_next=has_next,
                      start=start, end=end, district_id=district_id)


def public_hosts() -> Sequence[Host]:
    """Hosts with an approved reception ahead: the public page's host filter."""
    today = local_today()
    upcoming = (sa.select(session_hosts.c.host_id).join(ReceptionSession, ReceptionSession.id == session_hosts.c.session_id)
                .where(ReceptionSession.status == "approved", ReceptionSession.date >= today,
                       ReceptionSession.date <= today + dt.timedelta(days=PUBLIC_DAYS_AHEAD)))
    return db.session.scalars(sa.select(Host).where(Host.is_active.is_(True), Host.id.in_(upcoming))
                              .order_by(Host.full_name)).all()


def public_sessions(office_id: int | None = None, days: int = PUBLIC_DAYS_AHEAD) -> Sequence[ReceptionSession]:
    """Approved sessions from now on (every day up to `days` ahead, unpaged)."""
    today = local_today()
    query, _ = _public_query(PublicFilters(office_id=office_id), today, today + dt.timedelta(days=days))
    return db.session.scalars(query).all()


def host_for_user(user: User | None) -> Host | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(sa.select(Host).where(Host.user_id == user.id))


def host_sessions(host: Host, upcoming: bool = True, limit: int | None = None) -> Sequence[ReceptionSession]:
    """A host's sessions: upcoming first (today on), or the past ones newest first."""
    query = sa.select(ReceptionSession).options(selectinload(ReceptionSession.office),
                                                selectinload(ReceptionSession.hosts)).where(
        ReceptionSession.id.in_(sa.select(session_hosts.c.session_id).where(session_hosts.c.host_id == host.id)))
    today = local_today()
    if upcoming:
        query = query.where(ReceptionSession.date >= today).order_by(ReceptionSession.date, ReceptionSession.start_time)
    else:
        query = query.where(ReceptionSession.date < today).order_by(ReceptionSession.date.desc(),
                                                                    ReceptionSession.start_time.desc())
    if limit:
        query = query.limit(limit)
    return db.session.scalars(query).all()
