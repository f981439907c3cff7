"""Schedule pages: calendar, sessions, approval, recurrence, "my schedule", hosts, public page, feed."""
import calendar as pycalendar
import datetime as dt

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from appeals.auth.models import User
from appeals.auth.permissions import can, own_offices_only, permission_required, require, users_who_may
from appeals.core import parsing, submission
from appeals.core.extensions import db
from appeals.core.i18n import current_language
from appeals.core.labels import SESSION_STATUS_LABELS
from appeals.core.timeutil import local_today
from appeals.core.web import attach_errors, external_url, safe_redirect_target
from appeals.reference.models import District, Office, Settlement
from appeals.schedules import hosts as schedule_hosts
from appeals.schedules import queries as schedule_queries
from appeals.schedules import recurrence as schedule_recurrence
from appeals.schedules import sessions as schedule_sessions
from appeals.schedules import widgets  # noqa: F401  (connects this domain's page blocks)
from appeals.schedules.feed import build_feed
from appeals.schedules.forms import ActionForm, CancelForm, GenerateForm, HeldForm, HostForm, SessionForm
from appeals.schedules.models import Host, ReceptionSession

bp = Blueprint("schedules", __name__)

VIEWS = ("week", "month", "list")


def _active_offices():
    return db.session.scalars(sa.select(Office).where(Office.is_active.is_(True)).order_by(Office.kind, Office.code)).all()


def _office_choices(user, blank=None):
    offices = _active_offices()
    own = own_offices_only(user)
    if own is not None:
        offices = [o for o in offices if o.id in own]
    choices = [SelectChoice(o.id, f"{o.code} — {o.name}") for o in offices]
    return ([SelectChoice("", blank)] if blank else []) + choices


def _host_choices(selected=()):
    hosts = schedule_hosts.list_hosts()
    return [SelectChoice(h.id, f"{h.full_name}" + (f" ({h.localized_position()})" if h.localized_position() else "")) for h in hosts
            if h.is_active or h.id in selected]


def _arg_int(name):
    """An id to prefill or narrow by; a malformed one is simply not used (core.parsing's id rule)."""
    return parsing.lenient(parsing.parse_id, request.args.get(name))


def _arg_date(name, default):
    """A date to prefill; a malformed or out-of-range one gives `default` (core.parsing's date rule)."""
    return parsing.lenient(parsing.parse_date, request.args.get(name)) or default


def _apply_error(form, exc):
    attach_errors(form, exc, unplaced="form")


def _may_touch(session):
    """Editors of the session; the clerk of its office also reaches the form to learn why it is locked."""
    if can(current_user, "schedule.edit", session):
        return True
    return session.office_id in (own_offices_only(current_user) or ())


def _get_session(session_id):
    session = db.session.get(ReceptionSession, session_id) or abort(404)
    if not schedule_queries.session_visible(session, current_user):
        abort(404)
    return session


# --- public -----------------------------------------------------------------------------------


@bp.route("/schedule")
def public_schedule():
    """Approved upcoming receptions for citizens; no login, no drafts, no internal notes.

    Filters: district, settlement (its district's offices), office, host, and when: this week, next
    week or a date range; grouped by day, a few days to a page."""
    period = request.args.get("period", "")
    date_from = parsing.lenient(parsing.parse_date, request.args.get("from"))
    date_to = parsing.lenient(parsing.parse_date, request.args.get("to"))
    if period not in schedule_queries.PUBLIC_PERIODS:
        period = ""
    if not period and (date_from or date_to):
        period = "range"
    filters = schedule_queries.PublicFilters(
        district_id=_arg_int("district"), settlement_id=_arg_int("settlement"), office_id=_arg_int("office"),
        host_id=_arg_int("host"), period=period, date_from=date_from, date_to=date_to)
    page = schedule_queries.public_schedule(filters, parsing.lenient(parsing.parse_id, request.args.get("page")) or 1)
    lang = current_language()
    districts = sorted(db.session.scalars(sa.select(District)).all(), key=lambda d: d.localized_name(lang))
    settlements = sorted(db.session.scalars(sa.select(Settlement).where(Settlement.is_active.is_(True))).all(),
                         key=lambda s: s.localized_name(lang))
    active = any((filters.district_id, filters.settlement_id, filters.office_id, filters.host_id, period))
    return render_template("schedules/public.html", page=page, filters=filters, offices=_active_offices(),
                           districts=districts, settlements=settlements, hosts=schedule_queries.public_hosts(),
                           today=local_today(), filters_active=active,
                           max_date=local_today() + dt.timedelta(days=schedule_queries.PUBLIC_DAYS_AHEAD))


NEW_FEED_LINK = "new_feed_link"


@bp.app_context_processor
def _feed_link_helper():
    def new_feed_link(host):
        """The feed address just created for `host`, once (the database keeps only its digest)."""
        stored = session.get(NEW_FEED_LINK)
        if not stored or host is None or stored[0] != host.id:
            return None
        session.pop(NEW_FEED_LINK, None)
        return stored[1]

    return {"new_feed_link": new_feed_link}


@bp.route("/schedule/feed/<token>.ics")
def host_feed(token):
    host = schedule_hosts.host_by_feed_token(token)
    if host is None:
        abort(404)
    response = Response(build_feed(host), mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'inline; filename="qabyldau.ics"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- calendar and lists -------------------------------------------------------------------------


def _period(view, anchor):
    if view == "week":
        start = anchor - dt.timedelta(days=anchor.weekday())
        return start, start + dt.timedelta(days=6)
    if view == "month":
        start = anchor.replace(day=1)
        return start, start.replace(day=pycalendar.monthrange(start.year, start.month)[1])
    return None, None


def _shift(view, anchor, step):
    if view == "week":
        return anchor + dt.timedelta(days=7 * step)
    month = anchor.month - 1 + step
    year = anchor.year + month // 12
    return dt.date(year, month % 12 + 1, 1)


@bp.route("/schedule/calendar")
@permission_required("schedule.view")
def calendar():
    view = request.args.get("view") if request.args.get("view") in VIEWS else "week"
    today = local_today()
    errors = parsing.FieldErrors()
    anchor = errors(parsing.parse_date, request.args.get("date"), "date") or today
    office_id = errors(parsing.parse_id, request.args.get("office"), "office")
    host_id = errors(parsing.parse_id, request.args.get("host"), "host")
    status = request.args.get("status") if request.args.get("status") in SESSION_STATUS_LABELS else None
    start, end = _period(view, anchor)
    if view == "list":
        start = errors(parsing.parse_date, request.args.get("from"), "from") or today
        end = errors(parsing.parse_date, request.args.get("to"), "to") or start + dt.timedelta(days=30)
        if end < start:
            start, end = end, start
    if errors:
        # The calendar of the default period, with what was wrong on top.
        flash(" ".join(message for messages in errors.errors.values() for message in messages), "error")
    filters = schedule_queries.SessionFilters(office_id=office_id, host_id=host_id, date_from=start, date_to=end,
                                      statuses=[status] if status else [])
    sessions = schedule_queries.list_sessions(filters, current_user)
    by_day = {}
    for reception in sessions:
        by_day.setdefault(reception.date, []).append(reception)
    weeks = []
    if view in ("week", "month"):
        first = start - dt.timedelta(days=start.weekday())
        last = end + dt.timedelta(days=6 - end.weekday())
        day = first
        while day <= last:
            weeks.append([day + dt.timedelta(days=i) for i in range(7)])
            day += dt.timedelta(days=7)
    return render_template(
        "schedules/calendar.html", view=view, anchor=anchor, start=start, end=end, today=today,
        sessions=sessions, by_day=by_day, weeks=weeks, offices=_active_offices(), hosts=schedule_hosts.list_hosts(),
        office_id=office_id, host_id=host_id, status=status,
        prev_date=_shift(view, anchor, -1) if view != "list" else None,
        next_date=_shift(view, anchor, 1) if view != "list" else None,
        drafts=[s.id for s in sessions if s.status == "draft"], action_form=ActionForm(),
        holidays=schedule_recurrence.holiday_calendar({start.year, end.year}, current_language()),
    )


@bp.route("/schedule/my")
@permission_required("schedule.own")
def my_schedule():
    host = schedule_queries.host_for_user(current_user)
    upcoming = schedule_queries.host_sessions(host) if host else []
    past = schedule_queries.host_sessions(host, upcoming=False, limit=20) if host else []
    return render_template("schedules/my_schedule.html", host=host, upcoming=upcoming, past=past,
                           today=local_today(), action_form=ActionForm(), held_form=HeldForm())


# --- sessions ------------------------------------------------------------------------------------


def _session_form(session=None):
    form = SessionForm(obj=session)
    selected = [h.id for h in session.hosts] if session else []
    form.office_id.choices = _office_choices(current_user, blank="—")
    form.host_ids.choices = _host_choices(selected)
    if session is not None and request.method == "GET":
        form.host_ids.data = selected
    return form


@bp.route("/schedule/sessions/new", methods=["GET", "POST"])
@permission_required("schedule.edit")
def new_session():
    form = _session_form()
    conflicts = []
    if request.method == "GET":
        form.office_id.data = _arg_int("office") or (
            next(iter(sorted(own_offices_only(current_user) or ())), None))
        form.date.data = _arg_date("date", None)
    if form.validate_on_submit():
        try:
            created = submission.create_once(current_user, lambda: _created_session(form))
        except schedule_sessions.ScheduleError as exc:
            _apply_error(form, exc)
            conflicts = exc.conflicts
        else:
            return submission.finish(created)
    return render_template("schedules/session_form.html", form=form, session=None, conflicts=conflicts)


def _created_session(form):
    session = schedule_sessions.create_session(form.service_data(), current_user)
    detail = url_for("schedules.session_detail", session_id=session.id)
    return submission.Created(location=detail, object_url=detail, object_label=f"{session.date:%d.%m.%Y} {session.start_time:%H:%M}",
                              message=_("The session was saved as a draft."))


@bp.route("/schedule/sessions/<int:session_id>")
@permission_required("schedule.view")
def session_detail(session_id):
    session = _get_session(session_id)
    return render_template("schedules/session_detail.html", session=session, action_form=ActionForm(),
                           held_form=HeldForm(), cancel_form=CancelForm(), today=local_today())


@bp.route("/schedule/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@permission_required("schedule.edit")
def edit_session(session_id):
    session = _get_session(session_id)
    if not _may_touch(session):
        abort(403)
    form = _session_form(session)
    conflicts = []
    locked = None
    if not can(current_user, "schedule.edit", session) or session.status in ("held", "cancelled"):
        # The clerk of this office may look, but the service refuses; say why on the form.
        try:
            schedule_sessions.require_editable(session, current_user)
        except schedule_sessions.ScheduleError as exc:
            locked = exc.message
    if form.validate_on_submit():
        try:
            schedule_sessions.update_session(session, form.service_data(), current_user)
        except schedule_sessions.ScheduleError as exc:
            _apply_error(form, exc)
            conflicts = exc.conflicts
        else:
            flash(_("The session was updated."), "success")
            return redirect(url_for("schedules.session_detail", session_id=session.id))
    elif locked and request.method == "GET":
        form.form_errors.append(locked)
    return render_template("schedules/session_form.html", form=form, session=session, conflicts=conflicts,
                           locked=locked)


@bp.route("/schedule/approve", methods=["POST"])
@permission_required("schedule.approve")
def approve():
    form = ActionForm()
    back = safe_redirect_target(request.form.get("next"), url_for("schedules.calendar"))
    if not form.validate_on_submit():
        abort(400)
    try:
        count = schedule_sessions.approve_sessions(request.form.getlist("ids"), current_user)
    except schedule_sessions.ScheduleError as exc:
        flash(exc.message, "error")
    else:
        flash(_("Sessions approved: %(n)d.", n=count), "success")
    return redirect(back)


@bp.route("/schedule/generate", methods=["GET", "POST"])
@permission_required("schedule.edit")
def generate():
    form = GenerateForm()
    form.office_id.choices = _office_choices(current_user, blank="—")
    form.host_ids.choices = _host_choices()
    conflicts, skipped, preview = [], [], None
    if request.method == "GET":
        form.office_id.data = _arg_int("office")
        form.skip_holidays.data = True
    if form.validate_on_submit():
        dry_run = "preview" in request.form
        try:
            if dry_run:
                schedule_recurrence.generate_sessions(form.pattern_data(), current_user, dry_run=True)
            else:
                return submission.finish(submission.create_once(current_user, lambda: _generated_sessions(form)))
        except schedule_sessions.ScheduleError as exc:
            _apply_error(form, exc)
            conflicts = exc.conflicts
        else:
            preview = schedule_recurrence.pattern_dates(schedule_recurrence.RecurrencePattern(**form.pattern_data()))[0]
    return render_template("schedules/generate.html", form=form, conflicts=conflicts, skipped=skipped,
                           preview=preview)


def _generated_sessions(form):
    sessions, skipped = schedule_recurrence.generate_sessions(form.pattern_data(), current_user)
    if skipped:
        flash(_("Skipped public holidays: %(days)s.",
                days=", ".join(day.strftime("%d.%m.%Y") for day, _name in skipped)), "info")
    location = url_for("schedules.calendar", view="list", office=form.office_id.data, status="draft",
                       **{"from": sessions[0].date.isoformat(), "to": sessions[-1].date.isoformat()})
    return submission.Created(location=location, object_url=location,
                              object_label=_("Draft sessions created: %(n)d.", n=len(sessions)),
                              message=_("Draft sessions created: %(n)d.", n=len(sessions)))


@bp.route("/schedule/sessions/<int:session_id>/held", methods=["POST"])
@login_required
def mark_held(session_id):
    session = _get_session(session_id)
    require("schedule.mark_held", session)
    form = HeldForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    else:
        try:
            schedule_sessions.mark_held(session, form.visitors.data, current_user)
        except schedule_sessions.ScheduleError as exc:
            flash(exc.message, "error")
        else:
            flash(_("The session was marked as held."), "success")
    if request.form.get("next") == "my":
        return redirect(url_for("schedules.my_schedule"))
    return redirect(url_for("schedules.session_detail", session_id=session.id))


@bp.route("/schedule/sessions/<int:session_id>/cancel", methods=["POST"])
@permission_required("schedule.edit")
def cancel(session_id):
    session = _get_session(session_id)
    if not _may_touch(session):
        abort(403)
    form = CancelForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("schedules.session_detail", session_id=session.id))
    try:
        schedule_sessions.cancel_session(session, form.reason.data, current_user)
    except schedule_sessions.ScheduleError as exc:
        flash(exc.message, "error")
    else:
        flash(_("The session was cancelled."), "success")
    return redirect(url_for("schedules.session_detail", session_id=session.id))


# --- hosts ---------------------------------------------------------------------------------------


def _host_user_choices(host=None):
    linked = set(db.session.scalars(sa.select(Host.user_id).where(Host.user_id.is_not(None))))
    if host is not None and host.user_id:
        linked.discard(host.user_id)
    users = db.session.scalars(users_who_may("schedule.own").order_by(User.username)).all()
    return [SelectChoice("", "—")] + [
        SelectChoice(u.id, f"{u.username} — {u.full_name}" if u.full_name else u.username)
        for u in users if u.id not in linked
    ]


@bp.route("/schedule/hosts")
@permission_required("host.manage")
def hosts():
    return render_template("schedules/hosts.html", hosts=schedule_hosts.list_hosts())


@bp.route("/schedule/hosts/new", methods=["GET", "POST"])
@permission_required("host.manage")
def new_host():
    form = HostForm()
    form.office_id.choices = _office_choices(current_user, blank="—")
    form.user_id.choices = _host_user_choices()
    if form.validate_on_submit():
        try:
            created = submission.create_once(current_user, lambda: _created_host(form))
        except schedule_sessions.ScheduleError as exc:
            _apply_error(form, exc)
        else:
            return submission.finish(created)
    return render_template("schedules/host_form.html", form=form, host=None, action_form=ActionForm())


def _created_host(form):
    host = schedule_hosts.create_host(form.service_data(), current_user)
    page = url_for("schedules.edit_host", host_id=host.id)
    return submission.Created(location=page, object_url=page, object_label=host.full_name,
                              message=_("Host %(name)s added.", name=host.full_name))


@bp.route("/schedule/hosts/<int:host_id>", methods=["GET", "POST"])
@permission_required("host.manage")
def edit_host(host_id):
    host = db.session.get(Host, host_id) or abort(404)
    form = HostForm(obj=host)
    form.office_id.choices = _office_choices(current_user, blank="—")
    form.user_id.choices = _host_user_choices(host)
    if form.validate_on_submit():
        try:
            schedule_hosts.update_host(host, form.service_data(), current_user)
        except schedule_sessions.ScheduleError as exc:
            _apply_error(form, exc)
        else:
            flash(_("Host %(name)s saved.", name=host.full_name), "success")
            return redirect(url_for("schedules.edit_host", host_id=host.id))
    return render_template("schedules/host_form.html", form=form, host=host, action_form=ActionForm(),
                           upcoming=schedule_queries.host_sessions(host, limit=10))


@bp.route("/schedule/hosts/<int:host_id>/feed", methods=["POST"])
@login_required
def host_feed_token(host_id):
    host = db.session.get(Host, host_id) or abort(404)
    if not schedule_hosts.may_manage_feed(current_user, host):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    if request.form.get("action") == "revoke":
        schedule_hosts.revoke_feed_token(host, current_user)
        flash(_("The calendar link was revoked; subscriptions stop updating."), "success")
    else:
        _host, secret = schedule_hosts.regenerate_feed_token(host, current_user)
        # Only its digest is stored: the address is shown on the next page, once.
        session[NEW_FEED_LINK] = [host.id, external_url("schedules.host_feed", token=secret)]
        flash(_("A new calendar link was created; the previous one no longer works."), "success")
    if can(current_user, "host.manage"):
        return redirect(url_for("schedules.edit_host", host_id=host.id))
    return redirect(url_for("schedules.my_schedule"))
