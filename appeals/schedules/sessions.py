"""Reception sessions: their fields, collisions of hosts and rooms, and their life (draft, approved, held, cancelled).

Every write is one transaction with its audit record.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from appeals.auth.permissions import can
from appeals.core import audit, outbox, parsing
from appeals.core.database import write_transaction
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.timeutil import local_today, utcnow
from appeals.reference.models import Office
from appeals.schedules.models import Host, ReceptionSession, session_hosts

if TYPE_CHECKING:
    from appeals.auth.models import User

# Before this date the branch kept no electronic schedule; later than MAX_YEARS_AHEAD is a typo.
MIN_DATE = dt.date(2015, 1, 1)
MAX_YEARS_AHEAD = 2
MAX_VISITORS = 10000
SESSION_AUDIT_FIELDS = ("office_id", "date", "start_time", "end_time", "room", "capacity", "topic", "status")
# Statuses that occupy a host and a room; a cancelled session frees both.
BLOCKING_STATUSES = ("draft", "approved", "held")


class ScheduleError(DomainError):
    """A schedule rule was broken; `field` names the form field, `conflicts` lists colliding sessions
    (then it is a conflict: the slot is taken by another session)."""

    def __init__(self, message: str, field: str | None = None, conflicts: list[Conflict] | None = None) -> None:
        self.conflicts = conflicts or []
        super().__init__(message, field, kind="conflict" if self.conflicts else None)

    def problem_errors(self) -> list[dict[str, Any]]:
        if not self.conflicts:
            return super().problem_errors()
        return [{"field": self.field or "", "location": "body", "message": str(conflict.describe())}
                for conflict in self.conflicts]


@dataclass
class Conflict:
    """`session` collides with the proposed slot, because of `host` or because of the room."""

    kind: str  # "host" or "room"
    session: ReceptionSession
    host: Optional[Host] = None
    proposed_date: Optional[dt.date] = None

    def describe(self) -> str:
        when = f"{self.session.date:%d.%m.%Y} {self.session.start_time:%H:%M}–{self.session.end_time:%H:%M}"
        if self.kind == "host":
            return _("%(host)s already has a session at %(office)s on %(when)s.",
                     host=self.host.full_name, office=self.session.office.code, when=when)
        return _("Room «%(room)s» at %(office)s is already booked on %(when)s.",
                 room=self.session.room, office=self.session.office.code, when=when)


def parse_session_date(value: object, field_name: str) -> dt.date:
    """A session's date: core.parsing's date rule, within MIN_DATE … MAX_YEARS_AHEAD years from today."""
    latest = local_today().replace(year=local_today().year + MAX_YEARS_AHEAD)
    try:
        day = parsing.parse_date(value, field_name, required=True, first=MIN_DATE, last=latest)
    except parsing.ParseError as exc:
        raise ScheduleError(exc.message, field_name) from None
    assert day is not None  # required: a date or an error
    return day


def _parse_time(value: object, field_name: str) -> dt.time:
    if isinstance(value, str):
        try:
            value = dt.time.fromisoformat(value.strip())
        except ValueError:
            raise ScheduleError(_("Enter a valid time (HH:MM)."), field_name) from None
    if not isinstance(value, dt.time):
        raise ScheduleError(_("Enter a valid time (HH:MM)."), field_name)
    return value.replace(second=0, microsecond=0, tzinfo=None)


def _parse_int(value: object, field_name: str, minimum: int = 0, maximum: int = MAX_VISITORS,
               required: bool = False) -> Optional[int]:
    try:
        return parsing.parse_int(value, field_name, required=required, minimum=minimum, maximum=maximum)
    except parsing.ParseError as exc:
        raise ScheduleError(exc.message, field_name) from None


def _load_office(office_id: Any, actor: User | None) -> Office:
    try:
        office = db.session.get(Office, int(office_id)) if office_id not in (None, "") else None
    except (TypeError, ValueError):
        office = None
    if office is None or not office.is_active:
        raise ScheduleError(_("Choose an existing office."), "office_id")
    if actor is not None and not can(actor, "schedule.plan", office):
        raise ScheduleError(_("You can plan sessions only for your own offices."), "office_id")
    return office


def _load_hosts(host_ids: Iterable[Any] | None) -> Sequence[Host]:
    try:
        ids = sorted({int(i) for i in (host_ids or [])})
    except (TypeError, ValueError):
        raise ScheduleError(_("Choose existing hosts."), "host_ids") from None
    if not ids:
        raise ScheduleError(_("Choose at least one host."), "host_ids")
    # FOR UPDATE serialises concurrent planning for the same hosts on PostgreSQL (SQLite holds
    # the database write lock for the whole transaction anyway), so two clerks cannot both book them.
    hosts = db.session.scalars(sa.select(Host).where(Host.id.in_(ids)).order_by(Host.id).with_for_update()).all()
    if len(hosts) != len(ids) or not all(host.is_active for host in hosts):
        raise ScheduleError(_("Choose existing hosts."), "host_ids")
    return hosts


def clean_session_data(data: dict[str, Any], actor: User | None) -> dict[str, Any]:
    """Validate a session's fields; returns a dict of model values plus the host objects."""
    office = _load_office(data.get("office_id"), actor)
    date = parse_session_date(data.get("date"), "date")
    start = _parse_time(data.get("start_time"), "start_time")
    end = _parse_time(data.get("end_time"), "end_time")
    if end <= start:
        raise ScheduleError(_("The end time must be later than the start time."), "end_time")
    room = (data.get("room") or "").strip()
    if len(room) > 100:
        raise ScheduleError(_("At most %(n)d characters.", n=100), "room")
    topic = (data.get("topic") or "").strip()
    if len(topic) > 500:
        raise ScheduleError(_("At most %(n)d characters.", n=500), "topic")
    capacity = _parse_int(data.get("capacity"), "capacity", 0, 1000)
    hosts = _load_hosts(data.get("host_ids"))
    return {
        "office": office, "date": date, "start_time": start, "end_time": end,
        "room": room, "topic": topic, "capacity": capacity, "hosts": hosts,
    }


def _room_key(room: str | None) -> str:
    return " ".join((room or "").lower().split())


def find_conflicts(office_id: int, date: dt.date, start_time: dt.time, end_time: dt.time,
                   host_ids: Iterable[int] | None = (), room: str | None = "",
                   exclude_id: int | None = None) -> list[Conflict]:
    """Sessions that overlap the slot and share a host, or the same room of the same office.

    Intervals are half-open: a session ending at 11:00 and one starting at 11:00 do not collide.
    """
    host_ids = set(host_ids or ())
    room_key = _room_key(room)
    query = (
        sa.select(ReceptionSession)
        .options(selectinload(ReceptionSession.hosts), selectinload(ReceptionSession.office))
        .where(
            ReceptionSession.date == date,
            ReceptionSession.start_time < end_time,
            ReceptionSession.end_time > start_time,
            ReceptionSession.status.in_(BLOCKING_STATUSES),
        )
        .order_by(ReceptionSession.start_time, ReceptionSession.id)
    )
    if exclude_id is not None:
        query = query.where(ReceptionSession.id != exclude_id)
    by_host = sa.select(session_hosts.c.session_id).where(session_hosts.c.host_id.in_(host_ids or {-1}))
    if room_key:
        query = query.where(sa.or_(ReceptionSession.id.in_(by_host), ReceptionSession.office_id == office_id))
    else:
        query = query.where(ReceptionSession.id.in_(by_host))
    conflicts = []
    for other in db.session.scalars(query):
        for host in other.hosts:
            if host.id in host_ids:
                conflicts.append(Conflict("host", other, host, date))
        if room_key and other.office_id == office_id and _room_key(other.room) == room_key:
            conflicts.append(Conflict("room", other, None, date))
    return conflicts


def raise_conflicts(conflicts: list[Conflict]) -> None:
    if conflicts:
        raise ScheduleError(
            _("The session collides with other sessions; nothing was saved."), "start_time", conflicts=conflicts
        )


def lock_office(office: Office) -> None:
    # Serialises room bookings of one office on PostgreSQL; a no-op on SQLite.
    db.session.execute(sa.select(Office.id).where(Office.id == office.id).with_for_update())


def session_label(session: ReceptionSession) -> str:
    return f"{session.office.code} {session.date:%Y-%m-%d} {session.start_time:%H:%M}"


def _host_ids_of(session: ReceptionSession) -> list[int]:
    return sorted(host.id for host in session.hosts)


def _tell_hosts(session: ReceptionSession, template: str) -> None:
    """Hosts plan their days by the schedule: each one with an account is told of a change to theirs."""
    params = {"session_id": session.id, "date": session.date.isoformat(),
              "start": session.start_time.strftime("%H:%M"), "end": session.end_time.strftime("%H:%M"),
              "office_id": session.office_id}
    for host in session.hosts:
        if host.user_id:
            outbox.notify(host.user_id, template, params)


def create_session(data: dict[str, Any], actor: User) -> ReceptionSession:
    """A new draft session. `data`: office_id, host_ids, date, start_time, end_time, room, capacity, topic."""
    if not can(actor, "schedule.edit"):
        raise ScheduleError(_("You may not plan reception sessions."), None)
    with write_transaction():
        values = clean_session_data(data, actor)
        lock_office(values["office"])
        raise_conflicts(find_conflicts(
            values["office"].id, values["date"], values["start_time"], values["end_time"],
            [h.id for h in values["hosts"]], values["room"],
        ))
        session = ReceptionSession(status="draft", created_by_id=actor.id, **values)
        db.session.add(session)
        db.session.flush()
        changes = {name: [None, value] for name, value in audit.snapshot(session, SESSION_AUDIT_FIELDS).items()}
        changes["hosts"] = [None, _host_ids_of(session)]
        audit.record("session_created", session, label=session_label(session), changes=changes, user=actor)
    return session


def require_editable(session: ReceptionSession, actor: User) -> None:
    if session.status in ("held", "cancelled"):
        raise ScheduleError(_("A held or cancelled session can no longer be changed."), None)
    if not can(actor, "schedule.edit", session):
        if session.status == "approved":
            raise ScheduleError(_("Only a coordinator can change an approved session."), None)
        raise ScheduleError(_("You may not change this session."), None)


def update_session(session: ReceptionSession, data: dict[str, Any], actor: User) -> ReceptionSession:
    """Change a session's slot, place or hosts; approved sessions only by a coordinator, always audited."""
    with write_transaction():
        session = db.session.merge(session)
        require_editable(session, actor)
        values = clean_session_data(data, actor)
        lock_office(values["office"])
        raise_conflicts(find_conflicts(
            values["office"].id, values["date"], values["start_time"], values["end_time"],
            [h.id for h in values["hosts"]], values["room"], exclude_id=session.id,
        ))
        before = audit.snapshot(session, SESSION_AUDIT_FIELDS)
        before_hosts = _host_ids_of(session)
        for name, value in values.items():
            setattr(session, name, value)
        db.session.flush()
        changes = audit.diff(before, audit.snapshot(session, SESSION_AUDIT_FIELDS))
        if before_hosts != _host_ids_of(session):
            changes["hosts"] = [before_hosts, _host_ids_of(session)]
        if changes:
            audit.record("session_updated", session, label=session_label(session), changes=changes, user=actor)
        if session.status == "approved" and changes.keys() & {"date", "start_time", "end_time", "office_id", "room"}:
            _tell_hosts(session, "session_moved")
    return session


def approve_sessions(ids: Iterable[Any] | None, actor: User) -> int:
    """Approve drafts (one or a whole week at once). Already approved ones are left as they are.

    Returns the number of sessions approved now. All or nothing: one bad id approves none.
    """
    if not can(actor, "schedule.approve"):
        raise ScheduleError(_("Only a coordinator can approve sessions."), None)
    try:
        wanted = {int(i) for i in ids or ()}
    except (TypeError, ValueError):
        raise ScheduleError(_("Choose sessions to approve."), "ids") from None
    if not wanted:
        raise ScheduleError(_("Choose sessions to approve."), "ids")
    with write_transaction():
        sessions = db.session.scalars(
            sa.select(ReceptionSession).where(ReceptionSession.id.in_(wanted)).with_for_update()
        ).all()
        # Another region's drafts are not the coordinator's to approve: as good as absent.
        if len(sessions) != len(wanted) or not all(can(actor, "schedule.approve", s) for s in sessions):
            raise ScheduleError(_("Some of the chosen sessions no longer exist."), "ids")
        blocked = [s for s in sessions if s.status in ("held", "cancelled")]
        if blocked:
            raise ScheduleError(
                _("Held or cancelled sessions cannot be approved: %(list)s",
                  list=", ".join(session_label(s) for s in blocked)), "ids")
        approved = 0
        now = utcnow()
        for session in sessions:
            if session.status != "draft":
                continue
            session.status, session.approved_by_id, session.approved_at = "approved", actor.id, now
            audit.record("session_approved", session, label=session_label(session),
                         changes={"status": ["draft", "approved"]}, user=actor)
            _tell_hosts(session, "session_approved")
            approved += 1
    return approved


def mark_held(session: ReceptionSession, visitors: object, actor: User) -> ReceptionSession:
    """Record that an approved session took place, with the number of citizens received."""
    with write_transaction():
        session = db.session.merge(session)
        if not can(actor, "schedule.mark_held", session):
            raise ScheduleError(_("You may not mark this session as held."), None)
        if session.status not in ("approved", "held"):
            raise ScheduleError(_("Only an approved session can be marked as held."), None)
        if session.date > local_today():
            raise ScheduleError(_("A session cannot be marked as held before its date."), None)
        count = _parse_int(visitors, "visitors", 0, MAX_VISITORS, required=True)
        before = {"status": session.status, "visitors_count": session.visitors_count}
        session.status, session.visitors_count = "held", count
        audit.record("session_held", session, label=session_label(session), user=actor,
                     changes=audit.diff(before, {"status": "held", "visitors_count": count}))
    return session


def cancel_session(session: ReceptionSession, reason: str | None, actor: User) -> ReceptionSession:
    reason = (reason or "").strip()
    with write_transaction():
        session = db.session.merge(session)
        if session.status not in ("draft", "approved"):
            raise ScheduleError(_("Only a draft or approved session can be cancelled."), None)
        if not can(actor, "schedule.edit", session):
            if session.status == "approved":
                raise ScheduleError(_("Only a coordinator can cancel an approved session."), None)
            raise ScheduleError(_("You may not change this session."), None)
        if not reason:
            raise ScheduleError(_("State the reason for the cancellation."), "reason")
        if len(reason) > 500:
            raise ScheduleError(_("At most %(n)d characters.", n=500), "reason")
        before = session.status
        session.status, session.cancel_reason = "cancelled", reason
        audit.record("session_cancelled", session, label=session_label(session), user=actor,
                     changes={"status": [before, "cancelled"], "cancel_reason": [None, reason]})
        if before == "approved":
            _tell_hosts(session, "session_cancelled")
    return session
