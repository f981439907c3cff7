"""Scheduled duties, run by the workers' maintenance round (appeals/worker.py) in local time.

On working days at NOTIFY_MORNING_TIME (09:00): each responsible person gets their appeals due
within NOTIFY_DUE_WITHIN_WORKING_DAYS (2) working days, each office's coordinators the appeals that
became overdue since the last working day, responsible persons (or the registering clerk) the
appeals whose forwarding period (APPEAL_FORWARD_WORKING_DAYS, 3) ends today, and coordinators and
each mandate's responsible person the mandates that passed their target date unfulfilled. At NOTIFY_DIGEST_TIME (18:00) the daily digests go out.
Every day at CLEANUP_TIME (03:00): old job files, PDF chunks, idempotency keys (core/retention),
login-throttle rows and expired sessions (appeals/auth) are deleted.

Each duty runs once per day however many workers run: a worker first claims it by inserting its
(duty, day) row; the one whose insert succeeded does it, in the same transaction as the notices it
writes, so a crash mid-way leaves the duty unclaimed and the next round does it again.
"""
from datetime import date, datetime, time, timedelta
from typing import Callable, Optional

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from appeals.auth.models import User
from appeals.auth.permissions import can, office_in_scope
from appeals.core import outbox
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.timeutil import local_now, local_to_utc, utcnow
from appeals.mandates.models import OPEN_MANDATE_STATUSES, Mandate
from appeals.reference.models import Office
from appeals.register.deadlines import clock_running, overdue_condition
from appeals.register.models import OPEN_STATUSES, Appeal
from appeals.register.rules import add_working_days, is_working_day
from appeals.schedules import bookings


class DutyRun(db.Model):
    __tablename__ = "duty_runs"
    duty: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)


def _at(setting: str, default: str) -> time:
    hours, minutes = (current_app.config.get(setting) or default).split(":")
    return time(int(hours), int(minutes))


def run_due_duties(now: Optional[datetime] = None) -> list[str]:
    """Run every duty whose time has come today (local `now`) and that has not run today; returns their names."""
    now = now or local_now()
    today = now.date()
    done = []
    # (name, time, working days only, the duty, whether it writes inside the claim's transaction)
    plan: list[tuple[str, time, bool, Callable[[date], object], bool]] = [
        ("morning", _at("NOTIFY_MORNING_TIME", "09:00"), True, morning_notices, True),
        # Citizens who booked tomorrow's reception get an SMS today, weekends too (a Monday's reception).
        ("booking_reminders", _at("BOOKING_REMINDER_TIME", "10:00"), False, bookings.send_reminders, True),
        # These two commit in steps of their own; interrupted, they finish next time (held notices
        # wait for the next digest, old rows for the next cleanup).
        ("digest", _at("NOTIFY_DIGEST_TIME", "18:00"), True, lambda day: outbox.send_digests(), False),
        ("cleanup", _at("CLEANUP_TIME", "03:00"), False, lambda day: cleanup(local_to_utc(now)), False),
    ]
    for name, when, working_days_only, duty, together in plan:
        if now.time() < when or working_days_only and not is_working_day(today):
            continue
        if _run_once(name, today, duty, together):
            done.append(name)
    return done


def _run_once(name: str, day: date, duty: Callable[[date], object], together: bool) -> bool:
    if db.session.get(DutyRun, (name, day)) is not None:
        db.session.rollback()
        return False
    try:
        with write_transaction():
            db.session.add(DutyRun(duty=name, day=day, ran_at=utcnow()))
            # Taken first: another worker's claim of the same day now waits, then fails on the key.
            db.session.flush()
            if together:
                # The notices commit with the claim: a crash leaves neither, and the next round runs it.
                duty(day)
    except sa.exc.IntegrityError:
        db.session.rollback()
        return False
    if not together:
        duty(day)
    return True


# --- The morning's notices ----------------------------------------------------------------------


def _previous_working_day(day: date) -> date:
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def _active_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.is_active_account.is_(True)).order_by(User.id)))


def _coordinators_of(office_id: Optional[int], users: list[User]) -> list[User]:
    """The coordinators linked to the office; when none is, every coordinator of the office's region."""
    coordinators = [user for user in users if can(user, "notice.escalations")
                    and (office_id is None or office_in_scope(user, office_id))]
    linked = [user for user in coordinators if office_id in {office.id for office in user.offices}]
    return linked or coordinators


def _item(appeal_id: int, number: str, due: date) -> dict:
    return {"id": appeal_id, "number": number, "due_date": due.isoformat()}


def morning_notices(today: date) -> dict:
    """Write the morning's notices (inside the duty's transaction); returns how many of each kind."""
    within = int(current_app.config.get("NOTIFY_DUE_WITHIN_WORKING_DAYS", 2))
    horizon = add_working_days(today, within)
    counts = {"due_soon": 0, "overdue": 0, "forward_due": 0, "mandates_overdue": 0}

    due_soon: dict[int, list[dict]] = {}
    for appeal_id, number, due, responsible_id in db.session.execute(
            sa.select(Appeal.id, Appeal.number, Appeal.due_date, Appeal.responsible_id)
            .where(Appeal.status.in_(OPEN_STATUSES), clock_running(), Appeal.responsible_id.is_not(None),
                   Appeal.due_date >= today, Appeal.due_date <= horizon)
            .order_by(Appeal.due_date, Appeal.number)):
        due_soon.setdefault(responsible_id, []).append(_item(appeal_id, number, due))
    for user_id, items in due_soon.items():
        outbox.notify(user_id, "due_soon", {"appeals": items})
        counts["due_soon"] += 1

    users = _active_users()
    since = _previous_working_day(today)
    overdue: dict[tuple[int, str], list[dict]] = {}
    for appeal_id, number, due, office_id, office_code in db.session.execute(
            sa.select(Appeal.id, Appeal.number, Appeal.due_date, Appeal.office_id, Office.code)
            .join(Office, Office.id == Appeal.office_id)
            .where(overdue_condition(today), Appeal.due_date >= since)
            .order_by(Appeal.office_id, Appeal.due_date, Appeal.number)):
        overdue.setdefault((office_id, office_code), []).append(_item(appeal_id, number, due))
    for (office_id, office_code), items in overdue.items():
        for coordinator in _coordinators_of(office_id, users):
            outbox.notify(coordinator, "overdue", {"office": office_code, "appeals": items})
            counts["overdue"] += 1

    forward_days = int(current_app.config.get("APPEAL_FORWARD_WORKING_DAYS", 3))
    # Received on a day whose forwarding period ends today (that working day and the days off after
    # it): registered, not yet acted upon.
    first_day = _back_working_days(today, forward_days)
    after_last = add_working_days(first_day, 1)
    forward: dict[int, list[dict]] = {}
    for appeal_id, number, _received_at, responsible_id, created_by_id in db.session.execute(
            sa.select(Appeal.id, Appeal.number, Appeal.received_at, Appeal.responsible_id, Appeal.created_by_id)
            .where(Appeal.status == "registered", Appeal.received_at >= datetime.combine(first_day, time()),
                   Appeal.received_at < datetime.combine(after_last, time()))
            .order_by(Appeal.number)):
        recipient = responsible_id or created_by_id
        if recipient:
            forward.setdefault(recipient, []).append(_item(appeal_id, number, today))
    for user_id, items in forward.items():
        outbox.notify(user_id, "forward_due", {"appeals": items})
        counts["forward_due"] += 1

    # Mandates that passed their target date unfulfilled: the office's coordinators and each
    # mandate's responsible person, one notice per person with all of theirs (issue 17, item 6).
    by_user: dict[int, list[dict]] = {}
    for mandate_id, number, target, office_id, responsible_id in db.session.execute(
            sa.select(Mandate.id, Mandate.number, Mandate.target_date, Mandate.office_id, Mandate.responsible_user_id)
            .where(Mandate.status.in_(OPEN_MANDATE_STATUSES), Mandate.target_date >= since,
                   Mandate.target_date < today).order_by(Mandate.target_date, Mandate.number)):
        item = {"id": mandate_id, "number": number, "target_date": target.isoformat()}
        recipients = {coordinator.id for coordinator in _coordinators_of(office_id, users)}
        if responsible_id is not None and responsible_id in {user.id for user in users}:
            recipients.add(responsible_id)
        for user_id in recipients:
            by_user.setdefault(user_id, []).append(item)
    for user_id, items in by_user.items():
        outbox.notify(user_id, "mandates_overdue", {"mandates": items})
        counts["mandates_overdue"] += 1
    return counts


def _back_working_days(day: date, count: int) -> date:
    """The working day `count` working days before `day` (whose period of `count` days ends on `day`)."""
    for _ in range(count):
        day = _previous_working_day(day)
    return day


# --- Cleanup -----------------------------------------------------------------------------------


def cleanup(now: Optional[datetime] = None) -> dict:
    """The daily clean-up: each kind of record is purged by the module that owns it."""
    from appeals.auth.sessions import purge_expired_sessions
    from appeals.auth.throttle import purge_expired_throttles
    from appeals.core import retention

    now = now or utcnow()
    # Job files, cached PDF chunks and idempotency keys (the workers also purge them every round).
    counts = retention.purge_expired(now)
    counts["login_throttle"] = purge_expired_throttles(now)
    counts["sessions"] = purge_expired_sessions(now)
    from appeals.register.online import purge_submissions

    # Online appeals never confirmed by their code: the form's data and files go.
    counts["online_submissions"] = purge_submissions(now)
    from appeals.mandates.subscriptions import purge_unconfirmed

    # Mandate subscriptions whose confirmation link expired: the address goes with them.
    counts["mandate_subscriptions"] = purge_unconfirmed(now)
    return counts
