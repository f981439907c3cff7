"""Booking a reception (issue 16, item 3): slots on an approved session, a citizen's booking
confirmed by an SMS code, the reminder the day before, cancelling by a signed link, and the
clerk's day: arrived / no-show, and the appeal registered from a booking.

No double booking. The last place of a slot is taken by exactly one of any number of concurrent
requests: the booking is written in a unit of work that first locks the session row (PostgreSQL:
SELECT ... FOR UPDATE; SQLite: write_transaction takes the database's write lock at BEGIN), then
counts the slot's live bookings and inserts. Every other request for the same session waits on
that lock and then counts the new booking. A pending booking holds its place for the code's minutes
only: an abandoned one frees it without any clean-up job.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer

from appeals.auth.models import User
from appeals.auth.permissions import can
from appeals.core import audit, outbox, ratelimit, verification
from appeals.core.database import is_postgresql, write_transaction
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.phones import PhoneError, normalise_phone
from appeals.core.timeutil import local_now, utcnow
from appeals.schedules.models import Booking, ReceptionSession

PURPOSE = "booking"
NAME_MAX, TOPIC_MAX = 200, 300
SLOT_MINUTES_MIN, SLOT_MINUTES_MAX = 5, 240
SLOT_CAPACITY_MAX = 50
# Booked or done: these always hold their place; a pending one only while its code lives.
HOLDING = ("confirmed", "arrived", "no_show")


class BookingError(DomainError):
    pass


@dataclass(frozen=True)
class Slot:
    start: dt.time
    end: dt.time
    capacity: int
    taken: int

    @property
    def free(self) -> int:
        return max(self.capacity - self.taken, 0)

    @property
    def key(self) -> str:
        return self.start.strftime("%H:%M")


def _pending_cutoff() -> dt.datetime:
    return utcnow() - dt.timedelta(minutes=int(current_app.config.get("VERIFICATION_CODE_MINUTES", 10)))


def holds_place(booking: Booking) -> bool:
    """The booking holds its place now (booked, done, or pending with its first code still live): the
    rule of holding_condition, for one booking in hand."""
    return booking.status in HOLDING or booking.status == "pending" and booking.created_at > _pending_cutoff()


def holding_condition() -> sa.ColumnElement[bool]:
    """SQL: the booking holds its place (booked, done, or pending with a live code)."""
    return sa.or_(Booking.status.in_(HOLDING),
                  sa.and_(Booking.status == "pending", Booking.created_at > _pending_cutoff()))


def slot_starts(reception: ReceptionSession) -> list[tuple[dt.time, dt.time]]:
    """The slots of a session: slot_minutes each from its start; the last one ends by the session's end."""
    if not reception.slot_minutes or not reception.slot_capacity:
        return []
    day = reception.date
    step = dt.timedelta(minutes=reception.slot_minutes)
    moment = dt.datetime.combine(day, reception.start_time)
    end = dt.datetime.combine(day, reception.end_time)
    slots = []
    while moment + step <= end:
        slots.append((moment.time(), (moment + step).time()))
        moment += step
    return slots


def slots(reception: ReceptionSession) -> list[Slot]:
    """Every slot of the session with its taken places."""
    starts = slot_starts(reception)
    if not starts:
        return []
    taken = {start: count for start, count in db.session.execute(
        sa.select(Booking.slot_start, sa.func.count()).where(Booking.session_id == reception.id, holding_condition())
        .group_by(Booking.slot_start))} if reception.id else {}
    capacity = int(reception.slot_capacity or 0)
    return [Slot(start, end, capacity, int(taken.get(start, 0))) for start, end in starts]


def is_bookable(reception: ReceptionSession, now: dt.datetime | None = None) -> bool:
    """Approved, with slots, and not begun yet (local time)."""
    now = now or local_now().replace(tzinfo=None)
    return (reception.status == "approved" and bool(reception.slot_minutes and reception.slot_capacity)
            and dt.datetime.combine(reception.date, reception.start_time) > now)


def free_slots(reception: ReceptionSession) -> list[Slot]:
    """Slots a citizen can still book: not begun, with a free place."""
    if not is_bookable(reception):
        return []
    now = local_now().replace(tzinfo=None)
    return [slot for slot in slots(reception) if slot.free and dt.datetime.combine(reception.date, slot.start) > now]


def free_places(sessions: Sequence[ReceptionSession]) -> dict[int, int]:
    """{session id: free places} for the public schedule (one query for all sessions)."""
    bookable = [s for s in sessions if is_bookable(s)]
    if not bookable:
        return {}
    taken = {session_id: count for session_id, count in db.session.execute(
        sa.select(Booking.session_id, sa.func.count()).where(Booking.session_id.in_([s.id for s in bookable]),
                                                             holding_condition())
        .group_by(Booking.session_id))}
    return {s.id: max(len(slot_starts(s)) * int(s.slot_capacity or 0) - int(taken.get(s.id, 0)), 0) for s in bookable}


# --- The office opens slots -------------------------------------------------------------------

def open_slots(reception: ReceptionSession, minutes: object, capacity: object, actor: User | None) -> ReceptionSession:
    """Let citizens book the approved session: slots of `minutes`, `capacity` citizens each.
    Empty minutes close booking (bookings already made stay). Audited."""
    if not can(actor, "booking.manage", reception):
        raise BookingError(_("You may not open booking for this reception."), kind="forbidden")
    if reception.status != "approved":
        raise BookingError(_("Only an approved reception can be booked."), "slot_minutes")
    errors: dict[str, list[str]] = {}
    close = minutes in (None, "", 0, "0")
    length = number = None
    if not close:
        length = _int(minutes)
        number = _int(capacity)
        if length is None or not SLOT_MINUTES_MIN <= length <= SLOT_MINUTES_MAX:
            errors["slot_minutes"] = [_("A slot lasts %(low)d to %(high)d minutes.", low=SLOT_MINUTES_MIN,
                                        high=SLOT_MINUTES_MAX)]
        if number is None or not 1 <= number <= SLOT_CAPACITY_MAX:
            errors["slot_capacity"] = [_("From 1 to %(n)d citizens per slot.", n=SLOT_CAPACITY_MAX)]
        if not errors:
            span = (dt.datetime.combine(reception.date, reception.end_time)
                    - dt.datetime.combine(reception.date, reception.start_time))
            if dt.timedelta(minutes=length or 0) > span:
                errors["slot_minutes"] = [_("The reception is shorter than one slot.")]
    if errors:
        raise BookingError(errors=errors)
    with write_transaction():
        reception = _lock_session(reception.id)
        before = {"slot_minutes": reception.slot_minutes, "slot_capacity": reception.slot_capacity}
        reception.slot_minutes, reception.slot_capacity = length, number
        changes = audit.diff(before, {"slot_minutes": length, "slot_capacity": number})
        if changes:
            audit.record("booking_slots_opened" if not close else "booking_slots_closed", reception,
                         changes=changes, user=actor)
    return reception


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _lock_session(session_id: int) -> ReceptionSession:
    statement = (sa.select(ReceptionSession).where(ReceptionSession.id == session_id)
                 .execution_options(populate_existing=True))
    if is_postgresql():
        statement = statement.with_for_update()
    reception = db.session.scalars(statement).first()
    if reception is None:
        raise BookingError(_("This reception no longer exists."), kind="not_found")
    return reception


# --- A citizen books --------------------------------------------------------------------------

def _clean_phone(value: object) -> str:
    try:
        return normalise_phone(str(value or ""))
    except PhoneError:
        raise BookingError(_("Enter a mobile number, e.g. +7 701 123 45 67."), "phone") from None


def _parse_slot(value: object) -> dt.time | None:
    text = str(value or "").strip()
    if not re.fullmatch(r"\d{2}:\d{2}", text):
        return None
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        return None


def _check_rate_limits_recording(address: str | None, phone: str) -> None:
    """Count one booking against the client's address and the phone (appeals/core/ratelimit.py)."""
    hour = 3600
    wait = max(ratelimit.hit("booking-address", address, int(current_app.config.get("BOOKINGS_PER_ADDRESS_PER_HOUR", 10)),
                             hour),
               ratelimit.hit("booking-phone", phone, int(current_app.config.get("BOOKINGS_PER_PHONE_PER_DAY", 5)),
                             24 * hour))
    if wait:
        raise BookingError(_("Too many bookings were made from here or with this phone. Please try again in "
                             "%(minutes)s min or call the reception room.", minutes=max(1, (wait + 59) // 60)),
                           kind="conflict")


def create_booking(session_id: int, data: dict[str, Any], locale: str, address: str | None = None) -> Booking:
    """Take a place in a slot (pending) and send the SMS code, in one transaction; or BookingError.
    `address`: the client's, for the rate limit (with the phone's)."""
    errors: dict[str, list[str]] = {}
    name = " ".join(str(data.get("name") or "").split())
    topic = " ".join(str(data.get("topic") or "").split())
    start = _parse_slot(data.get("slot"))
    if not name:
        errors["name"] = [_("Write your name.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("At most %(n)d characters.", n=NAME_MAX)]
    if not topic:
        errors["topic"] = [_("Say in a few words what you want to raise.")]
    elif len(topic) > TOPIC_MAX:
        errors["topic"] = [_("At most %(n)d characters.", n=TOPIC_MAX)]
    phone = ""
    try:
        phone = _clean_phone(data.get("phone"))
    except BookingError as exc:
        errors.update(exc.errors)
    if start is None:
        errors["slot"] = [_("Choose a time.")]
    if errors:
        raise BookingError(errors=errors)
    _check_rate_limits_recording(address, phone)
    with write_transaction():
        reception = _lock_session(session_id)
        if not is_bookable(reception):
            raise BookingError(_("This reception can no longer be booked."), "slot", kind="conflict")
        known = {begin for begin, _end in slot_starts(reception)}
        if start not in known:
            raise BookingError(_("Choose a time."), "slot")
        if _has_begun(reception, start):
            raise BookingError(_("This time has passed."), "slot", kind="conflict")
        same_phone = db.session.scalars(
            sa.select(Booking).where(Booking.session_id == reception.id, Booking.phone == phone, holding_condition())
            .order_by(Booking.id.desc()).limit(1)).first()
        if same_phone is not None:
            if same_phone.status == "pending" and same_phone.slot_start == start:
                # The same form sent twice (a double tap): the first booking, its code already on the way.
                return same_phone
            raise BookingError(_("This phone number already has a time at this reception."), "phone", kind="conflict")
        if _is_full(reception, start):
            raise BookingError(_("This time has just been taken; please choose another."), "slot", kind="conflict")
        booking = Booking(session_id=reception.id, slot_start=start, name=name, phone=phone, topic=topic,
                          status="pending", locale=locale, created_at=utcnow())
        db.session.add(booking)
        db.session.flush()
        verification.issue_code(PURPOSE, subject(booking), "sms", phone, locale=locale)
    return booking


def subject(booking: Booking) -> str:
    return f"booking:{booking.id}"


def _has_begun(reception: ReceptionSession, start: dt.time) -> bool:
    return dt.datetime.combine(reception.date, start) <= local_now().replace(tzinfo=None)


def _is_full(reception: ReceptionSession, start: dt.time) -> bool:
    """The slot's places are all held (call it under the session's lock)."""
    taken = db.session.scalar(
        sa.select(sa.func.count()).select_from(Booking)
        .where(Booking.session_id == reception.id, Booking.slot_start == start, holding_condition())) or 0
    return taken >= int(reception.slot_capacity or 0)


def _lock_pending(booking: Booking) -> tuple[ReceptionSession, Booking]:
    """The booking's session and the booking, locked in that order (create_booking's lock first), or
    BookingError when it is no longer pending."""
    reception = _lock_session(booking.session_id)
    booking = _lock_booking(booking.id)
    if booking.status != "pending":
        raise BookingError(_("This booking is already confirmed or cancelled."), "code", kind="conflict")
    return reception, booking


def _still_open(booking: Booking, reception: ReceptionSession) -> None:
    """A pending booking can still be confirmed: its reception is open for booking, its time has not
    begun, and it still holds its place, or, its hold lapsed, the slot still has a free place (a lapsed
    hold counts for nobody: others may have taken the place meanwhile)."""
    if not is_bookable(reception) or _has_begun(reception, booking.slot_start):
        raise BookingError(_("This reception can no longer be booked."), "code", kind="conflict")
    if not holds_place(booking) and _is_full(reception, booking.slot_start):
        raise BookingError(_("This time was taken while the code waited; please book another time."), "code",
                           kind="conflict")


def resend_code(booking: Booking) -> None:
    """A new code while the booking holds its place; after that the citizen books again (so that one
    abandoned booking cannot keep sending SMS to a phone)."""
    with write_transaction():
        reception, booking = _lock_pending(booking)
        if not holds_place(booking):
            raise BookingError(_("This booking was not confirmed in time; please book the time again."), "code",
                               kind="conflict")
        _still_open(booking, reception)
        verification.issue_code(PURPOSE, subject(booking), "sms", booking.phone, locale=booking.locale)


def confirm_booking(booking: Booking, code: object) -> Booking:
    """The citizen typed the SMS code: the booking is confirmed and the cancel link is sent, in one
    transaction under the session's lock (the one create_booking takes), so a booking whose hold lapsed
    is confirmed only into a place that is still free. A wrong code's try is committed and raised after."""
    error = None
    with write_transaction():
        reception, booking = _lock_pending(booking)
        _still_open(booking, reception)
        error = verification.take_code(PURPOSE, subject(booking), code)
        if error is None:
            booking.status = "confirmed"
            booking.confirmed_at = utcnow()
            outbox.notify_address("sms", booking.phone, "booking_confirmed", _notice_params(booking),
                                  locale=booking.locale)
    if error is not None:
        raise error
    return booking


def cancel_booking(booking: Booking) -> Booking:
    """The citizen cancels through the signed link (before the reception begins)."""
    with write_transaction():
        booking = _lock_booking(booking.id)
        if booking.status not in ("pending", "confirmed"):
            raise BookingError(_("This booking can no longer be cancelled."), kind="conflict")
        if _has_begun(booking.session, booking.slot_start):
            raise BookingError(_("This booking can no longer be cancelled."), kind="conflict")
        booking.status = "cancelled"
        booking.cancelled_at = utcnow()
    return booking


def _lock_booking(booking_id: int) -> Booking:
    statement = sa.select(Booking).where(Booking.id == booking_id).execution_options(populate_existing=True)
    if is_postgresql():
        statement = statement.with_for_update()
    return db.session.scalars(statement).one()


def _notice_params(booking: Booking) -> dict[str, Any]:
    """Ids, times and the link; the citizen's name and phone stay out of the notice's params."""
    reception = booking.session
    return {"booking_id": booking.id, "date": reception.date.isoformat(), "time": booking.slot_start.strftime("%H:%M"),
            "office": reception.office.localized_name(booking.locale), "token": booking_token(booking)}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="booking-link")


def booking_token(booking: Booking) -> str:
    """The signed part of the citizen's link to their booking (view, confirm, cancel)."""
    return _serializer().dumps(booking.id)


def booking_from_token(token: str) -> Booking | None:
    try:
        booking_id = _serializer().loads(token)
    except BadSignature:
        return None
    return db.session.get(Booking, booking_id) if isinstance(booking_id, int) else None


# --- The reminder the day before ------------------------------------------------------------

def send_reminders(today: dt.date) -> int:
    """Write an SMS reminder for each confirmed booking of tomorrow's receptions (once); returns how many.
    Runs inside the duty's transaction."""
    tomorrow = today + dt.timedelta(days=1)
    rows = db.session.scalars(
        sa.select(Booking).join(ReceptionSession, ReceptionSession.id == Booking.session_id)
        .where(ReceptionSession.date == tomorrow, ReceptionSession.status == "approved",
               Booking.status == "confirmed", Booking.reminded_at.is_(None))
        .order_by(Booking.id)).all()
    now = utcnow()
    for booking in rows:
        outbox.notify_address("sms", booking.phone, "booking_reminder", _notice_params(booking), locale=booking.locale)
        booking.reminded_at = now
    return len(rows)


# --- The clerk's day --------------------------------------------------------------------------

def day_bookings(day: dt.date, user: User | None) -> list[tuple[ReceptionSession, list[Booking]]]:
    """The day's sessions with booking open in the user's offices, each with its live bookings by time."""
    sessions = db.session.scalars(
        sa.select(ReceptionSession).where(ReceptionSession.date == day,
                                          ReceptionSession.status.in_(("approved", "held")),
                                          ReceptionSession.slot_minutes.is_not(None))
        .order_by(ReceptionSession.start_time, ReceptionSession.id)).all()
    result = []
    for reception in sessions:
        if not can(user, "booking.view", reception):
            continue
        bookings = db.session.scalars(
            sa.select(Booking).where(Booking.session_id == reception.id,
                                     sa.or_(Booking.status != "pending", holding_condition()))
            .order_by(Booking.slot_start, Booking.id)).all()
        result.append((reception, list(bookings)))
    return result


MARKS = ("arrived", "no_show")


def mark_booking(booking: Booking, status: str, actor: User | None) -> Booking:
    """The clerk marks a booked citizen as arrived or not come (on the reception's day or after)."""
    if not can(actor, "booking.manage", booking.session):
        raise BookingError(_("You may not change this booking."), kind="forbidden")
    if status not in MARKS:
        raise BookingError(_("Choose arrived or did not come."), "status")
    with write_transaction():
        booking = _lock_booking(booking.id)
        if booking.status not in ("confirmed", "arrived", "no_show"):
            raise BookingError(_("Only a confirmed booking can be marked."), "status", kind="conflict")
        old = booking.status
        booking.status = status
        booking.marked_by_id = getattr(actor, "id", None)
        audit.record("booking_marked", booking, label=booking.session.date.isoformat(),
                     changes={"status": [old, status]}, user=actor)
    return booking


def link_appeal(booking_id: int | None, appeal_id: int, actor: User | None) -> None:
    """Inside the registration's transaction: the booking the appeal was registered from is done."""
    if not booking_id:
        return
    booking = db.session.get(Booking, booking_id)
    if booking is None or not can(actor, "booking.manage", booking.session) or booking.appeal_id:
        return
    booking.appeal_id = appeal_id
    if booking.status in ("confirmed", "no_show"):
        booking.status = "arrived"
        booking.marked_by_id = getattr(actor, "id", None)
