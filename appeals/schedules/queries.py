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


def public_sessions(office_id: int | None = None, days: int = 60) -> Sequence[ReceptionSession]:
    """Approved sessions from now on, for the page citizens open without logging in."""
    now = local_now()
    query = sessions_query(SessionFilters(office_id=office_id, date_from=now.date(),
                                          date_to=now.date() + dt.timedelta(days=days), statuses=["approved"]), None)
    query = query.where(sa.or_(ReceptionSession.date > now.date(), ReceptionSession.end_time > now.time()))
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
