"""Booking pages: the citizen's (book, confirm the SMS code, see and cancel through the signed link)
and the office's (open slots on a session, the day's bookings, arrived / no-show)."""
import datetime as dt

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from appeals.auth.permissions import can, permission_required, require
from appeals.core import parsing
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.i18n import current_language
from appeals.core.privacy import mask_phone
from appeals.core.timeutil import local_today
from appeals.core.web import private_page
from appeals.schedules import bookings
from appeals.schedules.models import Booking, ReceptionSession

bp = Blueprint("bookings", __name__)


def _public_session(session_id: int) -> ReceptionSession:
    reception = db.session.get(ReceptionSession, session_id)
    # Drafts and cancelled sessions do not exist for citizens.
    if reception is None or reception.status not in ("approved", "held"):
        abort(404)
    return reception


@bp.route("/schedule/<int:session_id>/book", methods=["GET", "POST"])
def book(session_id):
    reception = _public_session(session_id)
    errors: dict = {}
    values = request.form if request.method == "POST" else {}
    if request.method == "POST":
        try:
            booking = bookings.create_booking(reception.id, request.form, current_language(), request.remote_addr)
        except bookings.BookingError as exc:
            errors = exc.errors or {"": [exc.message]}
        else:
            return redirect(url_for("bookings.booking", token=bookings.booking_token(booking)))
    free = bookings.free_slots(reception)
    return private_page(make_response(render_template(
        "bookings/book.html", reception=reception, slots=free, errors=errors, values=values,
        bookable=bookings.is_bookable(reception)), 400 if errors else 200))


@bp.route("/booking/<token>", methods=["GET", "POST"])
def booking(token):
    """The citizen's booking: type the SMS code while pending, then the details and the cancel button."""
    found = bookings.booking_from_token(token) or abort(404)
    errors: dict = {}
    status = 200
    if request.method == "POST":
        action = request.form.get("action", "confirm")
        try:
            if action == "resend":
                bookings.resend_code(found)
                flash(_("A new code was sent."), "success")
            else:
                bookings.confirm_booking(found, request.form.get("code"))
                flash(_("Your time is booked. We sent the details and a link to cancel by SMS."), "success")
        except DomainError as exc:  # a BookingError, or the code's own (verification.CodeError)
            errors = exc.errors or {"code": [exc.message]}
            status = 400 if exc.kind == "invalid" else 409
        else:
            return redirect(url_for("bookings.booking", token=token))
        found = db.session.get(Booking, found.id)
    return private_page(make_response(render_template(
        "bookings/booking.html", booking=found, reception=found.session, token=token, errors=errors,
        masked_phone=mask_phone(found.phone), holds_place=bookings.holds_place(found)), status))


@bp.route("/booking/<token>/cancel", methods=["POST"])
def cancel(token):
    found = bookings.booking_from_token(token) or abort(404)
    try:
        bookings.cancel_booking(found)
    except bookings.BookingError as exc:
        flash(exc.message, "error")
        return redirect(url_for("bookings.booking", token=token)), 303
    flash(_("Your booking is cancelled. The time is free for others."), "success")
    return redirect(url_for("bookings.booking", token=token))


# --- The office -----------------------------------------------------------------------------

@bp.route("/schedule/sessions/<int:session_id>/slots", methods=["POST"])
def open_slots(session_id):
    reception = db.session.get(ReceptionSession, session_id) or abort(404)
    require("booking.manage", reception)
    try:
        bookings.open_slots(reception, request.form.get("slot_minutes"), request.form.get("slot_capacity"), current_user)
    except bookings.BookingError as exc:
        if exc.kind == "forbidden":
            abort(403)
        for messages in (exc.errors or {"": [exc.message]}).values():
            for message in messages:
                flash(message, "error")
    else:
        flash(_("Booking settings saved."), "success")
    return redirect(url_for("schedules.session_detail", session_id=session_id))


@bp.route("/bookings")
@permission_required("booking.view")
def day():
    """The day's bookings per session of the user's offices."""
    day_value = parsing.lenient(parsing.parse_date, request.args.get("date")) or local_today()
    return render_template("bookings/day.html", day=day_value, sessions=bookings.day_bookings(day_value, current_user),
                           previous=day_value - dt.timedelta(days=1), next=day_value + dt.timedelta(days=1),
                           mask_phone=mask_phone, show_phone=lambda s: can(current_user, "booking.manage", s))


@bp.route("/bookings/<int:booking_id>/mark", methods=["POST"])
def mark(booking_id):
    found = db.session.get(Booking, booking_id) or abort(404)
    require("booking.manage", found.session)
    try:
        bookings.mark_booking(found, request.form.get("status", ""), current_user)
    except bookings.BookingError as exc:
        flash(exc.message, "error")
    return redirect(url_for("bookings.day", date=found.session.date.isoformat()) + f"#session-{found.session_id}")


@bp.app_template_global("booking_slots")
def booking_slots(reception):
    """The session's slots with their taken places (the session page and the public schedule)."""
    return bookings.slots(reception)


@bp.app_template_global("booking_free_places")
def booking_free_places(sessions):
    return bookings.free_places(sessions)
