"""Booking a reception (issue 16, item 3): slots, the SMS code, cancelling by link, the reminder,
the clerk's day, the appeal from a booking, and no double booking under concurrency."""
import datetime as dt
import re

import pytest
import sqlalchemy as sa

from appeals.core import outbox, verification
from appeals.core.audit import AuditRecord
from appeals.core.extensions import db as _db
from appeals.core.timeutil import local_today
from appeals.schedules import bookings
from appeals.schedules.models import Booking, ReceptionSession
from tests.concurrency import at_once

PHONE = "+77011234567"


def _data(**overrides):
    return {"slot": "10:00", "name": "Сейітқали Гүлнұр", "phone": "8 701 123 45 67", "topic": "Жол жөндеу", **overrides}


def _sent_code(gateway):
    """Deliver what is due and read the last 6-digit code the SMS gateway received."""
    outbox.deliver_due()
    texts = [body["text"] for _status, _auth, body in gateway.received]
    codes = [m.group(0) for text in texts for m in re.finditer(r"\b\d{6}\b", text)]
    assert codes, texts
    return codes[-1]


def test_opening_slots_is_validated_audited_and_only_for_the_office(bookable, users, db, app_ctx):
    assert [s.key for s in bookings.slots(bookable)] == ["10:00", "10:30", "11:00", "11:30"]
    assert all(s.capacity == 2 and s.taken == 0 for s in bookings.slots(bookable))
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "booking_slots_opened"))
    assert record.changes == {"slot_minutes": [None, 30], "slot_capacity": [None, 2]}
    with pytest.raises(bookings.BookingError) as caught:
        bookings.open_slots(bookable, "3", "0", users.clerk)
    assert set(caught.value.errors) == {"slot_minutes", "slot_capacity"}
    with pytest.raises(bookings.BookingError) as caught:
        bookings.open_slots(bookable, "180", "1", users.clerk)
    assert "shorter" in caught.value.errors["slot_minutes"][0]
    with pytest.raises(bookings.BookingError) as caught:
        bookings.open_slots(bookable, "15", "1", users.other_clerk)
    assert caught.value.kind == "forbidden"
    draft = ReceptionSession(office_id=bookable.office_id, date=bookable.date, start_time=dt.time(14, 0),
                             end_time=dt.time(15, 0), status="draft")
    db.session.add(draft)
    db.session.commit()
    with pytest.raises(bookings.BookingError):
        bookings.open_slots(draft, "15", "1", users.clerk)


def test_a_citizen_books_confirms_with_the_sms_code_and_cancels(bookable, sms_gateway, db, app_ctx):
    booking = bookings.create_booking(bookable.id, _data(), "kk")
    assert booking.status == "pending" and booking.phone == PHONE and booking.slot_start == dt.time(10, 0)
    # The code goes to the booking's phone, in the citizen's language; only its HMAC is stored.
    code = _sent_code(sms_gateway)
    assert sms_gateway.received[-1][2]["to"] == PHONE
    stored = db.session.scalar(sa.select(verification.VerificationCode))
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(verification.CodeError) as caught:
        bookings.confirm_booking(booking, wrong)
    assert "4 tries left" in caught.value.message
    bookings.confirm_booking(booking, code)
    db.session.refresh(booking)
    assert booking.status == "confirmed" and booking.confirmed_at is not None
    # The confirmation SMS carries the signed link to the booking (view and cancel).
    outbox.deliver_due()
    confirmation = sms_gateway.received[-1][2]["text"]
    token = bookings.booking_token(booking)
    assert f"/booking/{token}" in confirmation and "Сейітқали" not in confirmation
    assert bookings.booking_from_token(token).id == booking.id
    assert bookings.booking_from_token(token[:-2] + "xx") is None
    # A used code cannot confirm twice.
    with pytest.raises(bookings.BookingError):
        bookings.confirm_booking(booking, code)
    bookings.cancel_booking(booking)
    db.session.refresh(booking)
    assert booking.status == "cancelled"
    assert bookings.slots(bookable)[0].taken == 0


def test_five_wrong_codes_lock_the_code(bookable, db, app_ctx):
    booking = bookings.create_booking(bookable.id, _data(), "ru")
    for _attempt in range(5):
        with pytest.raises(verification.CodeError):
            bookings.confirm_booking(booking, "12345x")
    with pytest.raises(verification.CodeError) as caught:
        bookings.confirm_booking(booking, "123456")
    assert caught.value.kind == "conflict"
    db.session.refresh(booking)
    assert booking.status == "pending"


def test_bad_input_is_reported_field_by_field(bookable, app_ctx):
    with pytest.raises(bookings.BookingError) as caught:
        bookings.create_booking(bookable.id, {"slot": "9:99", "name": " ", "phone": "123", "topic": ""}, "en")
    assert set(caught.value.errors) == {"slot", "name", "phone", "topic"}
    with pytest.raises(bookings.BookingError) as caught:
        bookings.create_booking(bookable.id, _data(slot="10:15"), "en")
    assert list(caught.value.errors) == ["slot"]


def test_a_full_slot_refuses_and_an_abandoned_pending_booking_frees_its_place(bookable, db, _clock, app_ctx):
    bookings.create_booking(bookable.id, _data(phone="+77011111111"), "kk")
    bookings.create_booking(bookable.id, _data(phone="+77012222222"), "kk")
    with pytest.raises(bookings.BookingError) as caught:
        bookings.create_booking(bookable.id, _data(phone="+77013333333"), "kk")
    assert caught.value.kind == "conflict" and "taken" in caught.value.message
    assert [s.free for s in bookings.free_slots(bookable)] == [2, 2, 2]
    # A double submit of one form gives the same booking; the same phone cannot take a second time.
    again = bookings.create_booking(bookable.id, _data(phone="+77011111111"), "kk")
    assert again.phone == "+77011111111"
    with pytest.raises(bookings.BookingError) as caught:
        bookings.create_booking(bookable.id, _data(phone="+77011111111", slot="11:00"), "kk")
    assert list(caught.value.errors) == ["phone"]
    # Codes live 10 minutes: past them an unconfirmed booking holds nothing.
    _clock.shift(dt.timedelta(minutes=11))
    assert bookings.slots(bookable)[0].taken == 0
    bookings.create_booking(bookable.id, _data(phone="+77013333333"), "kk")


def test_booking_closes_when_the_reception_begins_and_for_drafts(bookable, db, _clock, app_ctx):
    _clock.move_to(dt.datetime.combine(bookable.date, dt.time(10, 45)).astimezone(
        dt.timezone(dt.timedelta(hours=5))))
    # Booking is for receptions not begun yet.
    assert bookings.free_slots(bookable) == []
    with pytest.raises(bookings.BookingError):
        bookings.create_booking(bookable.id, _data(slot="11:30"), "kk")


def test_the_reminder_goes_the_day_before_once(bookable, sms_gateway, db, app_ctx):
    booking = bookings.create_booking(bookable.id, _data(), "kk")
    bookings.confirm_booking(booking, _sent_code(sms_gateway))
    other = bookings.create_booking(bookable.id, _data(phone="+77019999999"), "kk")  # never confirmed
    assert bookings.send_reminders(local_today() - dt.timedelta(days=1)) == 0
    assert bookings.send_reminders(local_today()) == 1
    _db.session.commit()
    assert bookings.send_reminders(local_today()) == 0
    reminders = _db.session.scalars(sa.select(outbox.Notice).where(outbox.Notice.template == "booking_reminder")).all()
    assert [(n.address, n.locale, n.user_id) for n in reminders] == [(PHONE, "kk", None)]
    assert "name" not in reminders[0].params and "phone" not in reminders[0].params
    outbox.deliver_due()
    assert sms_gateway.received[-1][2]["to"] == PHONE and "10:00" in sms_gateway.received[-1][2]["text"]
    assert other.status == "pending"


def test_the_reminder_duty_runs_every_day_at_its_time(bookable, sms_gateway, db, app_ctx):
    from appeals.notifications import duties

    booking = bookings.create_booking(bookable.id, _data(), "kk")
    bookings.confirm_booking(booking, _sent_code(sms_gateway))
    now = dt.datetime.combine(local_today(), dt.time(10, 5))
    assert "booking_reminders" in duties.run_due_duties(now)
    db.session.refresh(booking)
    assert booking.reminded_at is not None


def test_sixteen_concurrent_requests_for_the_last_place_give_one_booking(app, bookable, db):
    """Both databases: SQLite queues the writers at BEGIN IMMEDIATE, PostgreSQL on the session row's lock."""
    threads = 16
    bookings_before = bookings.create_booking(bookable.id, _data(phone="+77010000001"), "kk")
    assert bookings_before.id
    session_id = bookable.id
    outcomes = at_once(app, threads, lambda index: bookings.create_booking(
        session_id, _data(phone=f"+7701{2000000 + index:07d}"), "kk").id, bookings.BookingError)
    assert sorted(kind for kind, _detail in outcomes) == ["done"] + ["refused"] * (threads - 1), outcomes
    assert {detail for kind, detail in outcomes if kind == "refused"} == {"conflict"}
    held = db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(
        Booking.session_id == session_id, Booking.slot_start == dt.time(10, 0)))
    assert held == 2


def test_the_citizen_books_on_the_pages_and_the_clerk_registers_the_appeal(bookable, sms_gateway, users, login, db,
                                                                           app_ctx):
    from flask import current_app

    public = current_app.test_client()
    schedule = public.get("/schedule?lang=en").get_data(as_text=True)
    assert f"/schedule/{bookable.id}/book" in schedule and "8 free" in schedule
    page = public.get(f"/schedule/{bookable.id}/book?lang=en").get_data(as_text=True)
    assert 'value="10:00"' in page and 'value="11:30"' in page
    bad = public.post(f"/schedule/{bookable.id}/book?lang=en", data={**_data(), "phone": "12"})
    assert bad.status_code == 400 and "Enter a mobile number" in bad.get_data(as_text=True)
    response = public.post(f"/schedule/{bookable.id}/book?lang=en", data=_data())
    assert response.status_code == 302 and "/booking/" in response.headers["Location"]
    link = response.headers["Location"]
    pending = public.get(link + "?lang=en").get_data(as_text=True)
    assert "Waiting for the code" in pending and "+770******67" in pending and PHONE not in pending
    code = _sent_code(sms_gateway)
    wrong = public.post(link + "?lang=en", data={"action": "confirm", "code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400 and "tries left" in wrong.get_data(as_text=True)
    assert public.post(link, data={"action": "confirm", "code": code}).status_code == 302
    assert "Booked" in public.get(link + "?lang=en").get_data(as_text=True)
    booking = db.session.scalar(sa.select(Booking))
    assert booking.status == "confirmed"

    # The clerk's day: the booking with the name and phone, and the one-step registration.
    clerk = login(users.clerk)
    day = clerk.get(f"/bookings?date={bookable.date.isoformat()}&lang=en").get_data(as_text=True)
    assert "Сейітқали Гүлнұр" in day and PHONE in day and "Register an appeal" in day
    form = clerk.get(f"/appeals/new?booking={booking.id}&lang=en").get_data(as_text=True)
    assert 'value="Сейітқали Гүлнұр"' in form and 'Жол жөндеу</textarea>' in form and f'name="booking_id" value="{booking.id}"' in form
    # Another office's clerk cannot open it.
    other = current_app.test_client()
    login(users.other_clerk, test_client=other)
    assert other.get(f"/appeals/new?booking={booking.id}").status_code == 403
    assert "Сейітқали" not in other.get(f"/bookings?date={bookable.date.isoformat()}").get_data(as_text=True)
    assert other.post(f"/bookings/{booking.id}/mark", data={"status": "arrived"}).status_code == 403
    assert clerk.post(f"/bookings/{booking.id}/mark", data={"status": "no_show"}).status_code == 302
    db.session.refresh(booking)
    assert booking.status == "no_show" and booking.marked_by_id == users.clerk.id


def test_an_appeal_registered_from_a_booking_marks_it_arrived(bookable, sms_gateway, users, reg_data, db, app_ctx):
    from appeals.core.database import write_transaction
    from appeals.register import validation, workflow

    booking = bookings.create_booking(bookable.id, _data(), "kk")
    bookings.confirm_booking(booking, _sent_code(sms_gateway))
    values = validation.clean_appeal_data(reg_data(applicant_name=booking.name, phone=booking.phone,
                                                   summary=booking.topic), users.clerk)
    with write_transaction():
        appeal = workflow.insert_appeal(values, users.clerk)
        bookings.link_appeal(booking.id, appeal.id, users.clerk)
    db.session.refresh(booking)
    assert booking.appeal_id == appeal.id and booking.status == "arrived"


def test_the_citizen_cancels_through_the_link_and_the_place_is_free_again(bookable, sms_gateway, db, app_ctx):
    from flask import current_app

    booking = bookings.create_booking(bookable.id, _data(), "kk")
    bookings.confirm_booking(booking, _sent_code(sms_gateway))
    public = current_app.test_client()
    link = f"/booking/{bookings.booking_token(booking)}"
    assert public.post(link + "/cancel").status_code == 302
    db.session.refresh(booking)
    assert booking.status == "cancelled"
    assert "Cancelled" in public.get(link + "?lang=en").get_data(as_text=True)
    assert public.post(link + "/cancel").status_code == 303  # already cancelled: said so, nothing changes
    assert public.get("/booking/not-a-token").status_code == 404
    assert bookings.slots(bookable)[0].taken == 0


def test_bookings_are_rate_limited_per_address_and_per_phone(bookable, app, db, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "BOOKINGS_PER_ADDRESS_PER_HOUR", 2)
    bookings.create_booking(bookable.id, _data(phone="+77011111111"), "kk", "203.0.113.7")
    bookings.create_booking(bookable.id, _data(phone="+77012222222", slot="10:30"), "kk", "203.0.113.7")
    with pytest.raises(bookings.BookingError) as caught:
        bookings.create_booking(bookable.id, _data(phone="+77013333333", slot="11:00"), "kk", "203.0.113.7")
    assert caught.value.kind == "conflict" and "Too many bookings" in caught.value.message
    # Another address is not held back; one phone is, across addresses.
    monkeypatch.setitem(app.config, "BOOKINGS_PER_PHONE_PER_DAY", 1)
    bookings.create_booking(bookable.id, _data(phone="+77014444444", slot="11:00"), "kk", "198.51.100.1")
    with pytest.raises(bookings.BookingError):
        bookings.create_booking(bookable.id, _data(phone="+77014444444", slot="11:30"), "kk", "198.51.100.2")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 3


def test_a_booking_whose_hold_lapsed_is_confirmed_only_into_a_place_still_free(bookable, sms_gateway, db, _clock,
                                                                                app_ctx):
    """A pending booking holds its place for the code's minutes; confirmed later, it takes a place only if
    one is still free (else two more citizens could have the slot meanwhile: four in a slot of two)."""
    late = bookings.create_booking(bookable.id, _data(phone="+77011111111"), "kk")
    _sent_code(sms_gateway)
    _clock.shift(dt.timedelta(minutes=9))
    bookings.resend_code(late)  # a new code within the hold: it lives 10 minutes more, the hold does not
    late_code = _sent_code(sms_gateway)
    _clock.shift(dt.timedelta(minutes=2))
    assert not bookings.holds_place(late) and bookings.slots(bookable)[0].taken == 0
    # Past its hold no new code is sent: one abandoned booking cannot keep texting a phone.
    with pytest.raises(bookings.BookingError) as caught:
        bookings.resend_code(late)
    assert caught.value.kind == "conflict" and "not confirmed in time" in caught.value.message
    for phone in ("+77012222222", "+77013333333"):
        other = bookings.create_booking(bookable.id, _data(phone=phone), "kk")
        bookings.confirm_booking(other, _sent_code(sms_gateway))
    with pytest.raises(bookings.BookingError) as caught:
        bookings.confirm_booking(late, late_code)
    assert caught.value.kind == "conflict" and "taken while the code waited" in caught.value.message
    db.session.refresh(late)
    assert late.status == "pending"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(
        Booking.slot_start == dt.time(10, 0), bookings.holding_condition())) == 2

    # Into a slot with a free place, the same late confirmation goes through.
    free = bookings.create_booking(bookable.id, _data(phone="+77014444444", slot="10:30"), "kk")
    _clock.shift(dt.timedelta(minutes=9))
    bookings.resend_code(free)
    code = _sent_code(sms_gateway)
    _clock.shift(dt.timedelta(minutes=3))
    bookings.confirm_booking(free, code)
    db.session.refresh(free)
    assert free.status == "confirmed"


def test_a_booking_is_not_confirmed_once_its_reception_is_cancelled(bookable, sms_gateway, db, app_ctx):
    booking = bookings.create_booking(bookable.id, _data(), "kk")
    code = _sent_code(sms_gateway)
    bookable.status = "cancelled"
    db.session.commit()
    sent = len(sms_gateway.received)
    for attempt in (lambda: bookings.confirm_booking(booking, code), lambda: bookings.resend_code(booking)):
        with pytest.raises(bookings.BookingError) as caught:
            attempt()
        assert caught.value.kind == "conflict" and "can no longer be booked" in caught.value.message
    outbox.deliver_due()
    db.session.refresh(booking)
    assert booking.status == "pending" and len(sms_gateway.received) == sent


def test_the_booking_pages_are_not_stored_and_a_lapsed_booking_offers_to_book_again(bookable, sms_gateway, db,
                                                                                  _clock, app_ctx):
    from flask import current_app

    public = current_app.test_client()
    form = public.get(f"/schedule/{bookable.id}/book?lang=en")
    response = public.post(f"/schedule/{bookable.id}/book?lang=en", data=_data())
    link = response.headers["Location"]
    page = public.get(link + "?lang=en")
    for shown in (form, page):
        assert shown.headers["Cache-Control"] == "no-store" and shown.headers["Referrer-Policy"] == "no-referrer"
    assert 'value="resend"' in page.get_data(as_text=True)
    _clock.shift(dt.timedelta(minutes=11))
    lapsed = public.get(link + "?lang=en").get_data(as_text=True)
    assert "not confirmed in time" in lapsed and 'value="resend"' not in lapsed
    assert f'href="/schedule/{bookable.id}/book"' in lapsed
    refused = public.post(link + "?lang=en", data={"action": "resend"})
    assert refused.status_code == 409 and "not confirmed in time" in refused.get_data(as_text=True)
