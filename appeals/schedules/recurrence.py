"""Sessions generated from a recurrence pattern (every given weekday), skipping Kazakhstan's public holidays."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

import holidays
from flask_babel import gettext as _

from appeals.auth.permissions import can
from appeals.core import audit
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.schedules.models import ReceptionSession
from appeals.schedules.sessions import (
    ScheduleError,
    clean_session_data,
    find_conflicts,
    lock_office,
    parse_session_date,
    raise_conflicts,
    session_label,
)

if TYPE_CHECKING:
    from appeals.auth.models import User

# A single generation request may not flood the calendar (one year of every working day).
MAX_GENERATED = 260


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


def holiday_calendar(years: Iterable[int], language: str | None = None) -> holidays.HolidayBase:
    """Kazakhstan's public holidays, including the observed (moved) days off.

    The package names them in Kazakh or English only; Russian pages get the Kazakh names.
    """
    language = "en_US" if language == "en" else "kk" if language else None
    return holidays.country_holidays("KZ", years=sorted(set(years)), language=language)


def pattern_dates(pattern: RecurrencePattern) -> tuple[list[dt.date], list[tuple[dt.date, Any]]]:
    """The dates a recurrence pattern produces, and the holidays it skipped as (date, name)."""
    first = parse_session_date(pattern.date_from, "date_from")
    last = parse_session_date(pattern.date_to, "date_to")
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


def generate_sessions(pattern: RecurrencePattern | dict[str, Any], actor: User,
                      dry_run: bool = False) -> tuple[list[ReceptionSession], list[tuple[dt.date, Any]]]:
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
        values = clean_session_data({**base, "date": dates[0]}, actor)
        lock_office(values["office"])
        host_ids = [h.id for h in values["hosts"]]
        conflicts = []
        for day in dates:
            conflicts.extend(find_conflicts(
                values["office"].id, day, values["start_time"], values["end_time"], host_ids, values["room"],
            ))
        raise_conflicts(conflicts)
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
            audit.record("session_created", session, label=session_label(session),
                         changes={"generated": [None, True], "date": [None, session.date]}, user=actor)
    return sessions, skipped
