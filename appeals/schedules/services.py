"""Reception schedule rules: sessions, conflicts, approval, recurrence, hosts and feed tokens.

Views, the API, the CLI and the demo loader all go through these functions; inputs are plain
values (dicts, dataclasses, ids, ISO strings) so that no caller depends on WTForms.
"""
import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Optional

import holidays
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from appeals.auth.models import User
from appeals.auth.permissions import can, scope_sessions
from appeals.core import audit, outbox
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.text import clean_name
from appeals.core.timeutil import local_now, local_today, utcnow
from appeals.core.tokens import hash_token
from appeals.reference.models import Office
from appeals.schedules.models import HOST_KINDS, Host, ReceptionSession, session_hosts

# Before this date the branch kept no electronic schedule; later than MAX_YEARS_AHEAD is a typo.
MIN_DATE = dt.date(2015, 1, 1)
MAX_YEARS_AHEAD = 2
# A single generation request may not flood the calendar (one year of every working day).
MAX_GENERATED = 260
MAX_VISITORS = 10000
SESSION_AUDIT_FIELDS = ("office_id", "date", "start_time", "end_time", "room", "capacity", "topic", "status")
HOST_AUDIT_FIELDS = ("full_name", "position", "kind", "office_id", "user_id", "is_active")
# Statuses that occupy a host and a room; a cancelled session frees both.
BLOCKING_STATUSES = ("draft", "approved", "held")


class ScheduleError(ValueError):
    """A schedule rule was broken; `field` names the form field, `conflicts` lists colliding sessions."""

    def __init__(self, message, field=None, conflicts=None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        self.conflicts = conflicts or []


@dataclass
class Conflict:
    """`session` collides with the proposed slot, because of `host` or because of the room."""

    kind: str  # "host" or "room"
    session: ReceptionSession
    host: Optional[Host] = None
    proposed_date: Optional[dt.date] = None

    def describe(self):
        when = f"{self.session.date:%d.%m.%Y} {self.session.start_time:%H:%M}–{self.session.end_time:%H:%M}"
        if self.kind == "host":
            return _("%(host)s already has a session at %(office)s on %(when)s.",
                     host=self.host.full_name, office=self.session.office.code, when=when)
        return _("Room «%(room)s» at %(office)s is already booked on %(when)s.",
                 room=self.session.room, office=self.session.office.code, when=when)


@dataclass
class RecurrencePattern:
    """Every given weekday (0 = Monday) between date_from and date_to, at the same time and place."""

    office_id: int
    host_ids: list
    weekdays: list
    start_time: object
    end_time: object
    date_from: object
    date_to: object
    room: str = ""
    capacity: Optional[int] = None
    topic: str = ""
    skip_holidays: bool = True


@dataclass
class SessionFilters:
    office_id: Optional[int] = None
    host_id: Optional[int] = None
    date_from: Optional[dt.date] = None
    date_to: Optional[dt.date] = None
    statuses: list = field(default_factory=list)


# --- parsing plain input --------------------------------------------------------------------


def _parse_date(value, field_name):
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ScheduleError(_("Enter a valid date."), field_name) from None
    if not isinstance(value, dt.date):
        raise ScheduleError(_("Enter a valid date."), field_name)
    latest = local_today().replace(year=local_today().year + MAX_YEARS_AHEAD)
    if value < MIN_DATE or value > latest:
        raise ScheduleError(
            _("The date must be between %(first)s and %(last)s.",
              first=MIN_DATE.strftime("%d.%m.%Y"), last=latest.strftime("%d.%m.%Y")),
            field_name,
        )
    return value


def _parse_time(value, field_name):
    if isinstance(value, str):
        try:
            value = dt.time.fromisoformat(value.strip())
        except ValueError:
            raise ScheduleError(_("Enter a valid time (HH:MM)."), field_name) from None
    if not isinstance(value, dt.time):
        raise ScheduleError(_("Enter a valid time (HH:MM)."), field_name)
    return value.replace(second=0, microsecond=0, tzinfo=None)


def _parse_int(value, field_name, minimum=0, maximum=MAX_VISITORS, required=False):
    if value in (None, ""):
        if required:
            raise ScheduleError(_("This field is required."), field_name)
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ScheduleError(_("Enter a whole number."), field_name) from None
    if number < minimum or number > maximum:
        raise ScheduleError(_("Enter a number from %(low)d to %(high)d.", low=minimum, high=maximum), field_name)
    return number


def _load_office(office_id, actor):
    try:
        office = db.session.get(Office, int(office_id)) if office_id not in (None, "") else None
    except (TypeError, ValueError):
        office = None
    if office is None or not office.is_active:
        raise ScheduleError(_("Choose an existing office."), "office_id")
    if actor is not None and actor.role == "clerk" and office.id not in actor.office_ids:
        raise ScheduleError(_("You can plan sessions only for your own offices."), "office_id")
    return office


def _load_hosts(host_ids):
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


def _clean_session_data(data, actor):
    """Validate a session's fields; returns a dict of model values plus the host objects."""
    office = _load_office(data.get("office_id"), actor)
    date = _parse_date(data.get("date"), "date")
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


# --- conflicts -------------------------------------------------------------------------------


def _room_key(room):
    return " ".join((room or "").lower().split())


def find_conflicts(office_id, date, start_time, end_time, host_ids=(), room="", exclude_id=None):
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


def _raise_conflicts(conflicts):
    if conflicts:
        raise ScheduleError(
            _("The session collides with other sessions; nothing was saved."), "start_time", conflicts=conflicts
        )


def _lock_office(office):
    # Serialises room bookings of one office on PostgreSQL; a no-op on SQLite.
    db.session.execute(sa.select(Office.id).where(Office.id == office.id).with_for_update())


# --- sessions --------------------------------------------------------------------------------


def _session_label(session):
    return f"{session.office.code} {session.date:%Y-%m-%d} {session.start_time:%H:%M}"


def _host_ids_of(session):
    return sorted(host.id for host in session.hosts)


def create_session(data, actor):
    """A new draft session. `data`: office_id, host_ids, date, start_time, end_time, room, capacity, topic."""
    if not can(actor, "schedule.edit"):
        raise ScheduleError(_("You may not plan reception sessions."), None)
    with write_transaction():
        values = _clean_session_data(data, actor)
        _lock_office(values["office"])
        _raise_conflicts(find_conflicts(
            values["office"].id, values["date"], values["start_time"], values["end_time"],
            [h.id for h in values["hosts"]], values["room"],
        ))
        session = ReceptionSession(status="draft", created_by_id=actor.id, **values)
        db.session.add(session)
        db.session.flush()
        changes = {name: [None, value] for name, value in audit.snapshot(session, SESSION_AUDIT_FIELDS).items()}
        changes["hosts"] = [None, _host_ids_of(session)]
        audit.record("session_created", session, label=_session_label(session), changes=changes, user=actor)
    return session


def _require_editable(session, actor):
    if session.status in ("held", "cancelled"):
        raise ScheduleError(_("A held or cancelled session can no longer be changed."), None)
    if not can(actor, "schedule.edit", session):
        if session.status == "approved":
            raise ScheduleError(_("Only a coordinator can change an approved session."), None)
        raise ScheduleError(_("You may not change this session."), None)


def update_session(session, data, actor):
    """Change a session's slot, place or hosts; approved sessions only by a coordinator, always audited."""
    with write_transaction():
        session = db.session.merge(session)
        _require_editable(session, actor)
        values = _clean_session_data(data, actor)
        _lock_office(values["office"])
        _raise_conflicts(find_conflicts(
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
            audit.record("session_updated", session, label=_session_label(session), changes=changes, user=actor)
        if session.status == "approved" and changes.keys() & {"date", "start_time", "end_time", "office_id", "room"}:
            _tell_hosts(session, "session_moved")
    return session


def _tell_hosts(session, template):
    """Hosts plan their days by the schedule: each one with an account is told of a change to theirs."""
    params = {"session_id": session.id, "date": session.date.isoformat(),
              "start": session.start_time.strftime("%H:%M"), "end": session.end_time.strftime("%H:%M"),
              "office_id": session.office_id}
    for host in session.hosts:
        if host.user_id:
            outbox.notify(host.user_id, template, params)


def approve_sessions(ids, actor):
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
        if len(sessions) != len(wanted):
            raise ScheduleError(_("Some of the chosen sessions no longer exist."), "ids")
        blocked = [s for s in sessions if s.status in ("held", "cancelled")]
        if blocked:
            raise ScheduleError(
                _("Held or cancelled sessions cannot be approved: %(list)s",
                  list=", ".join(_session_label(s) for s in blocked)), "ids")
        approved = 0
        now = utcnow()
        for session in sessions:
            if session.status != "draft":
                continue
            session.status, session.approved_by_id, session.approved_at = "approved", actor.id, now
            audit.record("session_approved", session, label=_session_label(session),
                         changes={"status": ["draft", "approved"]}, user=actor)
            _tell_hosts(session, "session_approved")
            approved += 1
    return approved


def holiday_calendar(years, language=None):
    """Kazakhstan's public holidays, including the observed (moved) days off.

    The package names them in Kazakh or English only; Russian pages get the Kazakh names.
    """
    language = "en_US" if language == "en" else "kk" if language else None
    return holidays.country_holidays("KZ", years=sorted(set(years)), language=language)


def pattern_dates(pattern):
    """The dates a recurrence pattern produces, and the holidays it skipped as (date, name)."""
    first = _parse_date(pattern.date_from, "date_from")
    last = _parse_date(pattern.date_to, "date_to")
    if last < first:
        raise ScheduleError(_("The last date must not be earlier than the first date."), "date_to")
    try:
        weekdays = {int(day) for day in pattern.weekdays or ()}
    except (TypeError, ValueError):
        weekdays = set()
    if not weekdays or not weekdays <= set(range(7)):
        raise ScheduleError(_("Choose at least one day of the week."), "weekdays")
    days_off = holiday_calendar(range(first.year, last.year + 1)) if pattern.skip_holidays else {}
    dates, skipped = [], []
    day = first
    while day <= last:
        if day.weekday() in weekdays:
            if day in days_off:
                skipped.append((day, days_off.get(day)))
            else:
                dates.append(day)
        day += dt.timedelta(days=1)
    return dates, skipped


def generate_sessions(pattern, actor, dry_run=False):
    """Create draft sessions from a RecurrencePattern (or a dict of its fields).

    All or nothing: when any generated session collides, nothing is saved and the error lists
    every collision. Returns (sessions, skipped_holidays).
    """
    if isinstance(pattern, dict):
        pattern = RecurrencePattern(**pattern)
    if not can(actor, "schedule.edit"):
        raise ScheduleError(_("You may not plan reception sessions."), None)
    with write_transaction():
        dates, skipped = pattern_dates(pattern)
        if not dates:
            raise ScheduleError(_("The pattern produces no dates in this period."), "date_from")
        if len(dates) > MAX_GENERATED:
            raise ScheduleError(_("At most %(n)d sessions can be generated at once.", n=MAX_GENERATED), "date_to")
        base = {
            "office_id": pattern.office_id, "host_ids": pattern.host_ids, "start_time": pattern.start_time,
            "end_time": pattern.end_time, "room": pattern.room, "capacity": pattern.capacity, "topic": pattern.topic,
        }
        values = _clean_session_data({**base, "date": dates[0]}, actor)
        _lock_office(values["office"])
        host_ids = [h.id for h in values["hosts"]]
        conflicts = []
        for day in dates:
            conflicts.extend(find_conflicts(
                values["office"].id, day, values["start_time"], values["end_time"], host_ids, values["room"],
            ))
        _raise_conflicts(conflicts)
        if dry_run:
            db.session.rollback()
            return [], skipped
        sessions = []
        for day in dates:
            session = ReceptionSession(status="draft", created_by_id=actor.id, **{**values, "date": day})
            db.session.add(session)
            sessions.append(session)
        db.session.flush()
        for session in sessions:
            audit.record("session_created", session, label=_session_label(session),
                         changes={"generated": [None, True], "date": [None, session.date]}, user=actor)
    return sessions, skipped


def mark_held(session, visitors, actor):
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
        audit.record("session_held", session, label=_session_label(session), user=actor,
                     changes=audit.diff(before, {"status": "held", "visitors_count": count}))
    return session


def cancel_session(session, reason, actor):
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
        audit.record("session_cancelled", session, label=_session_label(session), user=actor,
                     changes={"status": [before, "cancelled"], "cancel_reason": [None, reason]})
        if before == "approved":
            _tell_hosts(session, "session_cancelled")
    return session


# --- reading ---------------------------------------------------------------------------------


def session_visible(session, user):
    query = scope_sessions(sa.select(ReceptionSession.id).where(ReceptionSession.id == session.id), user)
    return db.session.scalar(query) is not None


def sessions_query(filters, user):
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


def list_sessions(filters, user):
    """Sessions matching `filters` (SessionFilters or dict) that `user` may see; None = the public."""
    return db.session.scalars(sessions_query(filters, user)).all()


def public_sessions(office_id=None, days=60):
    """Approved sessions from now on, for the page citizens open without logging in."""
    now = local_now()
    query = sessions_query(SessionFilters(office_id=office_id, date_from=now.date(),
                                          date_to=now.date() + dt.timedelta(days=days), statuses=["approved"]), None)
    query = query.where(sa.or_(ReceptionSession.date > now.date(), ReceptionSession.end_time > now.time()))
    return db.session.scalars(query).all()


def host_for_user(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(sa.select(Host).where(Host.user_id == user.id))


def host_sessions(host, upcoming=True, limit=None):
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


def sessions_held_count(start, end, office_ids=None):
    """Sessions held between `start` and `end` (inclusive dates), optionally only at some offices."""
    query = sa.select(sa.func.count(ReceptionSession.id)).where(
        ReceptionSession.status == "held", ReceptionSession.date >= start, ReceptionSession.date <= end)
    if office_ids is not None:
        query = query.where(ReceptionSession.office_id.in_(list(office_ids) or [-1]))
    return db.session.scalar(query) or 0


@dataclass
class OfficeCount:
    office: Office
    sessions: int
    visitors: int


def sessions_held_by_office(start, end):
    """Held sessions and visitors per office in the period; every office is listed, zeros included."""
    rows = db.session.execute(
        sa.select(ReceptionSession.office_id, sa.func.count(ReceptionSession.id),
                  sa.func.coalesce(sa.func.sum(ReceptionSession.visitors_count), 0))
        .where(ReceptionSession.status == "held", ReceptionSession.date >= start, ReceptionSession.date <= end)
        .group_by(ReceptionSession.office_id)
    ).all()
    counts = {office_id: (count, int(visitors)) for office_id, count, visitors in rows}
    offices = db.session.scalars(sa.select(Office).order_by(Office.kind, Office.code)).all()
    return [OfficeCount(office, *counts.get(office.id, (0, 0))) for office in offices
            if office.is_active or office.id in counts]


# --- hosts -----------------------------------------------------------------------------------


def _clean_host_data(data, host=None):
    full_name = clean_name(data.get("full_name"))
    if not full_name:
        raise ScheduleError(_("Enter the full name."), "full_name")
    if len(full_name) > 200:
        raise ScheduleError(_("At most %(n)d characters.", n=200), "full_name")
    position = (data.get("position") or "").strip()
    if len(position) > 300:
        raise ScheduleError(_("At most %(n)d characters.", n=300), "position")
    kind = data.get("kind") or ""
    if kind not in HOST_KINDS:
        raise ScheduleError(_("Choose the kind of host."), "kind")
    office_id = data.get("office_id") or None
    if office_id is not None:
        office = db.session.get(Office, int(office_id)) if str(office_id).isdigit() else None
        if office is None:
            raise ScheduleError(_("Choose an existing office."), "office_id")
        office_id = office.id
    user_id = data.get("user_id") or None
    if user_id is not None:
        user = db.session.get(User, int(user_id)) if str(user_id).isdigit() else None
        if user is None or user.role != "host":
            raise ScheduleError(_("Link only an account with the role Host."), "user_id")
        taken = db.session.scalar(sa.select(Host.id).where(Host.user_id == user.id,
                                                           Host.id != (host.id if host else -1)))
        if taken:
            raise ScheduleError(_("This account is already linked to another host."), "user_id")
        user_id = user.id
    return {"full_name": full_name, "position": position, "kind": kind, "office_id": office_id,
            "user_id": user_id, "is_active": bool(data.get("is_active", True))}


def create_host(data, actor):
    if not can(actor, "host.manage"):
        raise ScheduleError(_("You may not manage hosts."), None)
    with write_transaction():
        host = Host(**_clean_host_data(data))
        db.session.add(host)
        db.session.flush()
        changes = {name: [None, value] for name, value in audit.snapshot(host, HOST_AUDIT_FIELDS).items()}
        audit.record("host_created", host, label=host.full_name, changes=changes, user=actor)
    return host


def update_host(host, data, actor):
    if not can(actor, "host.manage"):
        raise ScheduleError(_("You may not manage hosts."), None)
    with write_transaction():
        host = db.session.merge(host)
        values = _clean_host_data(data, host)
        before = audit.snapshot(host, HOST_AUDIT_FIELDS)
        for name, value in values.items():
            setattr(host, name, value)
        changes = audit.diff(before, audit.snapshot(host, HOST_AUDIT_FIELDS))
        if changes:
            audit.record("host_updated", host, label=host.full_name, changes=changes, user=actor)
    return host


def may_manage_feed(user, host):
    """Coordinators manage every host's feed; a host may renew or revoke their own."""
    return can(user, "host.manage") or (can(user, "schedule.own") and host.user_id == user.id)


def regenerate_feed_token(host, actor):
    """A new secret feed URL; the old one stops working at once. Returns (host, secret).

    Only the secret's digest is stored (like API tokens): the secret is shown to the user once."""
    if not may_manage_feed(actor, host):
        raise ScheduleError(_("You may not manage this calendar feed."), None)
    with write_transaction():
        host = db.session.merge(host)
        had_token = host.feed_token is not None
        secret = secrets.token_urlsafe(32)
        host.feed_token = hash_token(secret)
        audit.record("feed_token_regenerated", host, label=host.full_name, user=actor,
                     changes={"replaced_previous": [None, had_token]})
    return host, secret


def revoke_feed_token(host, actor):
    if not may_manage_feed(actor, host):
        raise ScheduleError(_("You may not manage this calendar feed."), None)
    with write_transaction():
        host = db.session.merge(host)
        host.feed_token = None
        audit.record("feed_token_revoked", host, label=host.full_name, user=actor)
    return host


def host_by_feed_token(token):
    if not token or len(token) > 64:
        return None
    digest = hash_token(token)
    host = db.session.scalar(sa.select(Host).where(Host.feed_token == digest))
    if host is None or not host.is_active or not secrets.compare_digest(host.feed_token, digest):
        return None
    return host


def list_hosts(active=None, office_id=None):
    query = sa.select(Host).options(selectinload(Host.office), selectinload(Host.user)).order_by(Host.full_name)
    if active is not None:
        query = query.where(Host.is_active.is_(active))
    if office_id:
        query = query.where(Host.office_id == office_id)
    return db.session.scalars(query).all()
