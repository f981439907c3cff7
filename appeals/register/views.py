"""The register's pages: list, keyboard-first registration, appeal page with its workflow, import and export."""
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple, Optional

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from wtforms import SelectChoice

from appeals.auth.permissions import (
    PERSONAL_ON_REQUEST,
    can,
    own_offices_only,
    own_region_ids,
    permission_required,
    personal_data_mode,
    personal_view,
    require,
)
from appeals.auth.services import display_names
from appeals.core import hooks, labels, submission
from appeals.core.audit import AuditRecord
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.i18n import fmt_date
from appeals.core.jobs import Job, queue_position
from appeals.core.pagination import paginate, rows_to_read
from appeals.core.parsing import FieldErrors, ParseError, lenient, parse_datetime
from appeals.core.timeutil import local_now, local_today
from appeals.core.web import SEARCH_ARG, attach_errors, file_response, redirect_with_sealed_search, search_token, with_search_term
from appeals.reference import cache as reference_cache
from appeals.reference.models import Category, District, Office, Settlement
from appeals.register import attachments as attachment_files
from appeals.register import (
    deadlines,
    exports,
    imports,
    personal_data,
    queries,
    repeats,
    validation,
    widgets,  # noqa: F401  (connects this domain's page blocks)
    workflow,
)
from appeals.register.forms import AppealForm, ExtendForm, ForwardForm, ImportForm, SuspendForm
from appeals.register.models import Appeal
from appeals.schedules import bookings
from appeals.schedules.models import Booking, Host, ReceptionSession

bp = Blueprint("register", __name__)

TIMELINE_LABELS = {
    "created": _l("Registered"),
    "imported": _l("Registered by import"),
    "updated": _l("Details corrected"),
    "status_changed": _l("Status changed"),
    "forwarded": _l("Forwarded to a competent body"),
    "deadline_extended": _l("Deadline extended"),
    "clock_suspended": _l("Answer clock stopped"),
    "clock_resumed": _l("Answer clock resumed"),
    "personal_data_viewed": _l("Personal data viewed"),
    "attachment_added": _l("File attached"),
    "attachment_opened": _l("File opened"),
    "attachment_removed": _l("File removed"),
    "attachment_opened_by_applicant": _l("File downloaded by the applicant"),
    "online_appeal_confirmed": _l("Sent online, confirmed by the applicant's code"),
}
FIELD_LABELS = {
    "status": _l("Status"), "responsible_id": _l("Responsible person"), "answer_text": _l("Answer"),
    "answered_at": _l("Date answered"), "withdrawn_reason": _l("Reason"), "due_date": _l("Deadline"),
    "reason": _l("Reason"), "forwarded_to": _l("Competent body"), "forwarded_at": _l("Date forwarded"),
    "late": _l("Later than 3 working days"), "summary": _l("Summary"), "text": _l("Full text"),
    "applicant_name": _l("Full name"), "iin": _l("IIN"), "phone": _l("Phone"), "address": _l("Address"),
    "received_at": _l("Date and time received"), "channel": _l("Channel"), "appeal_type": _l("Type of appeal"),
    "category_id": _l("Category"), "settlement_id": _l("Settlement"), "signatories": _l("Number of signatories"),
    "applicant_kind": _l("Kind of applicant"), "session_id": _l("Reception session"), "host_id": _l("Host who received it"),
    "suspended_since": _l("Clock stopped since"), "paused_days": _l("Working days paused"),
}


def _get_appeal(appeal_id, action="appeal.view"):
    appeal = db.session.get(Appeal, appeal_id) or abort(404)
    require(action, appeal)
    return appeal


# --- Choices --------------------------------------------------------------------------------

def _creatable_offices():
    offices = db.session.scalars(sa.select(Office).where(Office.is_active.is_(True)).order_by(Office.code)).all()
    return [office for office in offices if can(current_user, "appeal.create", office)]


def _settlements(region_ids=None):
    """Active settlements by name; of these regions only when region_ids is given."""
    query = sa.select(Settlement).where(Settlement.is_active.is_(True))
    if region_ids is not None:
        query = query.join(District, District.id == Settlement.district_id).where(
            District.region_id.in_(region_ids or [-1]))
    return sorted(db.session.scalars(query).all(), key=lambda s: s.name.casefold())


def _categories(include_id=None):
    query = sa.select(Category).where(sa.or_(Category.is_active.is_(True), Category.id == (include_id or 0)))
    return db.session.scalars(query.order_by(Category.sort_order, Category.code)).all()


def _recent_sessions(office_ids, include_id=None):
    """Receptions an appeal can come from: held ones, or approved ones that have already started,
    of the last three weeks, the most recent first."""
    now = local_now()
    since = now.date() - timedelta(days=21)
    started = sa.or_(ReceptionSession.date < now.date(),
                     sa.and_(ReceptionSession.date == now.date(), ReceptionSession.start_time <= now.time()))
    query = (
        sa.select(ReceptionSession)
        .where(ReceptionSession.office_id.in_(office_ids or {-1}), ReceptionSession.date >= since,
               sa.or_(ReceptionSession.status == "held", sa.and_(ReceptionSession.status == "approved", started)))
    )
    if include_id:
        query = sa.select(ReceptionSession).where(sa.or_(ReceptionSession.id == include_id, query.whereclause))
    return db.session.scalars(query.order_by(ReceptionSession.date.desc(), ReceptionSession.start_time.desc())).all()


def _session_label(session):
    hosts = ", ".join(host.full_name for host in session.hosts)
    return f"{session.date:%d.%m.%Y} {session.start_time:%H:%M}–{session.end_time:%H:%M} · {session.office.code} · {hosts}"


def _session_choice(session):
    # register.js narrows the hosts and fills the received date and time from these attributes;
    # the options are grouped by day (the most recent first).
    return SelectChoice(str(session.id), _session_label(session), optgroup=fmt_date(session.date, "full"), render_kw={
        "data-hosts": ",".join(str(h.id) for h in session.hosts),
        "data-date": f"{session.date:%d.%m.%Y}", "data-time": f"{session.start_time:%H:%M}",
    })


def _fill_choices(form, appeal=None):
    if appeal is not None and appeal.channel == "online":
        # An appeal the citizen sent online stays "online" when a clerk corrects its details.
        form.channel.choices = [SelectChoice("online", labels.CHANNEL_LABELS["online"])]
    if appeal is None:
        offices = _creatable_offices()
    elif can(current_user, "appeal.correct_office", appeal):
        offices = [appeal.office] + [o for o in _creatable_offices() if o.id != appeal.office_id]
    else:
        offices = [appeal.office]
    form.office_id.choices = [SelectChoice(str(o.id), f"{o.code} — {o.name}") for o in offices]
    office_ids = {o.id for o in offices}
    form.session_id.choices = [SelectChoice("", "—")] + [
        _session_choice(s) for s in _recent_sessions(office_ids, appeal.session_id if appeal else None)
    ]
    hosts = db.session.scalars(
        sa.select(Host).where(sa.or_(Host.is_active.is_(True), Host.id == ((appeal.host_id if appeal else None) or 0)))
        .order_by(Host.full_name)
    ).all()
    form.host_id.choices = [SelectChoice("", "—")] + [SelectChoice(str(h.id), h.full_name) for h in hosts]
    form.settlement_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(s.id), f"{s.name} ({s.district.name})") for s in _settlements()
    ]
    form.category_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(c.id), c.name) for c in _categories(appeal.category_id if appeal else None)
    ]
    office = appeal.office if appeal else (offices[0] if len(offices) == 1 else None)
    form.responsible_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(u.id), u.display_name) for u in validation.responsible_choices(office)
    ] if office else [SelectChoice("", "—")]


def _autofocus(form, prefilled):
    # After "save and register next" the receipt is already filled in: start at the applicant.
    if prefilled:
        target = form.applicant_name
    elif len(form.office_id.choices) > 1:
        target = form.office_id
    else:
        target = form.channel
    target.render_kw = {**(target.render_kw or {}), "autofocus": True}


def _form_data(form):
    return {
        "office_id": form.office_id.data,
        "received_at": _received_at(form),
        "channel": form.channel.data,
        "session_id": form.session_id.data,
        "host_id": form.host_id.data,
        "applicant_kind": form.applicant_kind.data,
        "applicant_name": form.applicant_name.data,
        "iin": form.iin.data,
        "phone": form.phone.data,
        "address": form.address.data,
        "settlement_id": form.settlement_id.data,
        "signatories": form.signatories.data if form.signatories.data is not None else request.form.get("signatories"),
        "appeal_type": form.appeal_type.data,
        "category_id": form.category_id.data,
        "summary": form.summary.data,
        "text": form.text.data,
        "responsible_id": form.responsible_id.data,
        "language": form.language.data,
    }


FORM_FIELD = {"office": "office_id", "received_at": "received_date"}
BACKDATE_DAYS = 30


def _received_at(form):
    """The date and time fields as one value for the service. Left empty with a session chosen,
    they are the session's (a clerk registering the day after a reception)."""
    if "received_at" in request.form and "received_date" not in request.form:
        return request.form.get("received_at")  # a client of the former single field
    day = " ".join((form.received_date.data or "").split())
    clock = (form.received_time.data or "").strip()
    if not day and not clock and form.session_id.data and str(form.session_id.data).isdigit():
        session = db.session.get(ReceptionSession, int(form.session_id.data))
        if session is not None:
            return datetime.combine(session.date, session.start_time)
    if day and not clock:
        return day + " ?"  # a date without its time is not a complete answer
    if len(clock) == 4 and clock[1] == ":":
        clock = "0" + clock
    return f"{day} {clock}".strip()


def _fill_received(form, when):
    form.received_date.data = f"{when:%d.%m.%Y}" if when else ""
    form.received_time.data = f"{when:%H:%M}" if when else ""


def _check_backdated(form, data):
    """More than 30 days back needs the clerk's confirmation with a reason (a mistyped year opened
    a new series, overdue from birth). Returns the reason, or None after adding the question."""
    received = lenient(parse_datetime, data["received_at"])
    if received is None or received.date() >= local_today() - timedelta(days=BACKDATE_DAYS):
        return ""
    reason = " ".join((form.backdate_reason.data or "").split())
    if reason:
        return reason
    form.received_date.errors = list(form.received_date.errors or []) + [_(
        "This date is more than %(n)d days back. Check the year; if it is right, say why the appeal is "
        "registered so late.", n=BACKDATE_DAYS)]
    form.backdate_reason.errors = list(form.backdate_reason.errors or []) + [_("Give the reason to confirm the date.")]
    return None


def _attach_errors(form, exc):
    attach_errors(form, exc, FORM_FIELD, fallback="summary")


def _repeat_rows(check, data):
    # The check returns only appeals the user may see; other offices' matches come as check.elsewhere.
    same_person = repeats.same_person_test(data)
    suggested = next((appeal.id for appeal in check.appeals if same_person(appeal)), None)
    return [
        # Pre-selected only for the same IIN or phone; a similar summary alone suggests nothing.
        {"appeal": appeal, "suggested": appeal.id == suggested, "view": personal_view(appeal, current_user)}
        for appeal in check.appeals
    ]


# --- Registration -------------------------------------------------------------------------

@bp.route("/appeals/new", methods=["GET", "POST"])
@permission_required("appeal.create")
def new_appeal():
    form = AppealForm()
    _fill_choices(form)
    if not form.office_id.choices:
        abort(403)
    if request.method == "GET":
        # "Save and register next" keeps what a batch of appeals from one reception shares.
        for key in ("office_id", "channel", "session_id", "host_id", "settlement_id"):
            if request.args.get(key):
                getattr(form, key).data = request.args[key]
        if not form.office_id.data:
            default = workflow.default_office_id(current_user, _creatable_offices())
            form.office_id.data = str(default) if default else None
        received = lenient(parse_datetime, request.args.get("received_at"))
        _fill_received(form, received or local_now().replace(second=0, microsecond=0))
        _fill_from_booking(form, request.args.get("booking"))
        if not form.channel.data or form.channel.data not in {choice.value for choice in form.channel.choices}:
            form.channel.data = "session"
        _autofocus(form, prefilled=bool(request.args.get("channel")))
    if request.method == "POST" and form.validate_on_submit():
        data = _form_data(form)
        try:
            validation.clean_appeal_data(data, current_user)
            reason = _check_backdated(form, data)
            if reason is None:
                return render_template("register/form.html", form=form, appeal=None, repeats=[],
                                       backdated=True), 400
            data["backdate_reason"] = reason
            if not form.repeats_checked.data:
                check = repeats.find_possible_repeats(data, current_user)
                if check:
                    form.repeats_checked.data = "1"
                    return render_template("register/form.html", form=form, appeal=None,
                                           repeats=_repeat_rows(check, data), repeat_check=check)
            created = submission.create_once(current_user, lambda: _register(form, data))
        except validation.AppealError as exc:
            _attach_errors(form, exc)
            return render_template("register/form.html", form=form, appeal=None, repeats=[]), 400
        return submission.finish(created)
    status = 400 if request.method == "POST" else 200
    return render_template("register/form.html", form=form, appeal=None, repeats=[]), status


def _fill_from_booking(form, booking_id):
    """A citizen who booked a time is at the desk: the form starts with what they gave when booking."""
    booking = db.session.get(Booking, validation.int_or_none(booking_id) or 0) if booking_id else None
    if booking is None:
        return
    require("booking.manage", booking.session)
    reception = booking.session
    form.office_id.data = str(reception.office_id)
    form.channel.data = "session"
    form.session_id.data = str(reception.id)
    if len(reception.hosts) == 1:
        form.host_id.data = str(reception.hosts[0].id)
    form.applicant_name.data = booking.name
    form.phone.data = booking.phone
    form.summary.data = booking.topic
    # The citizen is answered in the language they booked in.
    form.language.data = booking.locale


def _register(form, data):
    appeal = workflow.register_appeal(data, current_user, link_repeat_of=form.repeat_of.data or None,
                                      backdate_reason=data.get("backdate_reason") or None)
    # In the same unit of work as the appeal: the booking it came from is done.
    bookings.link_appeal(validation.int_or_none(request.form.get("booking_id")), appeal.id, current_user)
    detail = url_for("register.appeal_detail", appeal_id=appeal.id)
    message = Markup(_("Appeal %(number)s registered.", number=Markup('<a href="%s">%s</a>') % (detail, appeal.number)))
    location = detail
    if form.save_next.data:
        # "Save and register next" keeps what a batch of appeals from one reception shares.
        location = url_for(
            "register.new_appeal", office_id=appeal.office_id, channel=appeal.channel,
            session_id=appeal.session_id or "", host_id=appeal.host_id or "",
            received_at=appeal.received_at.strftime("%Y-%m-%dT%H:%M") if appeal.session_id else None,
        )
    return submission.Created(location=location, object_url=detail, object_label=appeal.number, message=message)


@bp.route("/appeals/<int:appeal_id>/edit", methods=["GET", "POST"])
def edit_appeal(appeal_id):
    appeal = _get_appeal(appeal_id, "appeal.edit")
    if appeal.status in ("closed", "withdrawn"):
        flash(_("A closed or withdrawn appeal can no longer be edited."), "error")
        return redirect(url_for("register.appeal_detail", appeal_id=appeal.id))
    form = AppealForm(obj=appeal)
    _fill_choices(form, appeal)
    if request.method == "GET":
        _fill_received(form, appeal.received_at)
        for key in ("office_id", "session_id", "host_id", "settlement_id", "category_id", "responsible_id"):
            value = getattr(appeal, key)
            getattr(form, key).data = str(value) if value else ""
    elif form.validate_on_submit():
        data = _form_data(form)
        if not can(current_user, "appeal.correct_office", appeal):
            data.pop("office_id")
        try:
            workflow.update_appeal(appeal, data, current_user)
        except validation.AppealError as exc:
            _attach_errors(form, exc)
            return render_template("register/form.html", form=form, appeal=appeal, repeats=[]), 400
        flash(_("Appeal %(number)s saved.", number=appeal.number), "success")
        return redirect(url_for("register.appeal_detail", appeal_id=appeal.id))
    return render_template("register/form.html", form=form, appeal=appeal, repeats=[])


# --- The appeal page ----------------------------------------------------------------------

def _timeline(appeal):
    records = db.session.scalars(
        sa.select(AuditRecord)
        .where(AuditRecord.object_type == "appeals", AuditRecord.object_id == str(appeal.id))
        .order_by(AuditRecord.created_at, AuditRecord.id)
    ).all()
    return records


def _render_detail(appeal, reveal=False, errors=None, open_action=None, status=200):
    applicant = personal_data.reveal_personal_data(appeal, current_user) if reveal else personal_view(appeal, current_user)
    appeal = db.session.get(Appeal, appeal.id)
    responsible = validation.responsible_choices(appeal.office) if can(current_user, "appeal.transition", appeal) else []
    timeline = _timeline(appeal)
    return render_template(
        "register/detail.html",
        appeal=appeal,
        applicant=applicant,
        timeline=timeline, timeline_names=display_names(record.username for record in timeline),
        timeline_labels=TIMELINE_LABELS,
        field_labels=FIELD_LABELS,
        allowed=workflow.allowed_transitions(appeal),
        deadline=deadlines.deadline_state(appeal),
        forward_due=deadlines.forward_due_date(appeal.received_at),
        extension_limit=deadlines.extension_limit(appeal),
        responsible_choices=responsible,
        repeats_of_this=db.session.scalars(
            sa.select(Appeal).where(Appeal.repeat_of_id == appeal.id).order_by(Appeal.received_at)
        ).all(),
        errors=errors or {},
        open_action=open_action,
        form_values=request.form if request.method == "POST" else {},
        today=local_today(),
        # Other modules' boxes (the appeal's mandates), contributed through appeals.core.hooks.
        page_blocks=hooks.collect(hooks.appeal_page_blocks, appeal, user=current_user._get_current_object()),
    ), status


@bp.route("/appeals/<int:appeal_id>", methods=["GET", "POST"])
def appeal_detail(appeal_id):
    appeal = _get_appeal(appeal_id)
    reveal = request.method == "POST" and request.form.get("reveal") == "1"
    if reveal and personal_data_mode(current_user, appeal) != PERSONAL_ON_REQUEST:
        abort(403)
    return _render_detail(appeal, reveal=reveal)


# --- Files of an appeal ----------------------------------------------------------------------


@bp.route("/appeals/<int:appeal_id>/attachments", methods=["POST"])
def attachment_upload(appeal_id):
    appeal = _get_appeal(appeal_id, "appeal.attachments.add")
    kind = request.form.get("kind", "appeal")
    if kind not in labels.ATTACHMENT_KIND_LABELS:
        kind = "appeal"
    try:
        uploads = attachment_files.read_uploads(request.files.getlist("files"))

        def attach():
            added = attachment_files.attach_files(appeal, uploads, current_user, kind=kind)
            page = url_for("register.appeal_detail", appeal_id=appeal.id) + "#attachments"
            return submission.Created(location=page, object_url=page, object_label=appeal.number, message=ngettext(
                "%(num)d file attached.", "%(num)d files attached.", len(added)))

        created = submission.create_once(current_user, attach)
    except DomainError as exc:
        return _render_detail(appeal, errors=exc.errors or {"files": [exc.message]}, status=400)
    return submission.finish(created)


@bp.route("/appeals/<int:appeal_id>/attachments/<int:attachment_id>")
def attachment_download(appeal_id, attachment_id):
    appeal = _get_appeal(appeal_id, "appeal.attachments.view")
    attachment = attachment_files.get_attachment(appeal, attachment_id)
    if attachment is None:
        abort(404)
    try:
        data = attachment_files.open_attachment_audited(attachment, current_user)
    except DomainError:
        abort(404)
    return file_response(data, attachment.content_type, attachment.name)


@bp.route("/appeals/<int:appeal_id>/attachments/<int:attachment_id>/remove", methods=["POST"])
def attachment_remove(appeal_id, attachment_id):
    appeal = _get_appeal(appeal_id, "appeal.attachments.remove")
    attachment = attachment_files.get_attachment(appeal, attachment_id)
    if attachment is None:
        abort(404)
    attachment_files.remove_attachment(attachment, current_user)
    flash(_("The file was removed from the appeal."), "success")
    return redirect(url_for("register.appeal_detail", appeal_id=appeal.id) + "#attachments")


@bp.route("/appeals/<int:appeal_id>/transition", methods=["POST"])
def transition(appeal_id):
    appeal = _get_appeal(appeal_id, "appeal.transition")
    new_status = request.form.get("status", "")
    try:
        workflow.transition(
            appeal, new_status, current_user,
            responsible_id=request.form.get("responsible_id"),
            answer_text=request.form.get("answer_text"),
            answered_at=request.form.get("answered_at"),
            reason=request.form.get("reason"),
            recipient=request.form.get("recipient"),
            date=request.form.get("date"),
        )
    except validation.AppealError as exc:
        errors = getattr(exc, "errors", None) or {exc.field or "status": [exc.message]}
        return _render_detail(appeal, errors=errors, open_action=new_status, status=400)
    from appeals.core.labels import APPEAL_STATUS_LABELS

    flash(_("Status changed to \u201c%(status)s\u201d.", status=APPEAL_STATUS_LABELS[new_status]), "success")
    return redirect(url_for("register.appeal_detail", appeal_id=appeal_id))


@bp.route("/appeals/<int:appeal_id>/extend", methods=["GET", "POST"])
def extend(appeal_id):
    appeal = _get_appeal(appeal_id, "appeal.extend")
    form = ExtendForm()
    if request.method == "GET":
        form.new_due.data = min(deadlines.extension_limit(appeal), appeal.due_date + timedelta(days=30))
    if form.validate_on_submit():
        try:
            workflow.extend_deadline(appeal, form.new_due.data, form.reason.data, current_user)
        except validation.AppealError as exc:
            _attach_errors(form, exc)
            return render_template("register/extend.html", form=form, appeal=appeal,
                                   limit=deadlines.extension_limit(appeal)), 400
        flash(_("The deadline of %(number)s was extended.", number=appeal.number), "success")
        return redirect(url_for("register.appeal_detail", appeal_id=appeal_id))
    if request.method == "POST" and form.new_due.errors:
        form.new_due.errors = [_("Enter a valid date.")]
        return render_template("register/extend.html", form=form, appeal=appeal, limit=deadlines.extension_limit(appeal)), 400
    return render_template("register/extend.html", form=form, appeal=appeal, limit=deadlines.extension_limit(appeal))


@bp.route("/appeals/<int:appeal_id>/suspend", methods=["GET", "POST"])
def suspend(appeal_id):
    appeal = _get_appeal(appeal_id, "appeal.suspend")
    form = SuspendForm()
    if form.validate_on_submit():
        try:
            workflow.suspend_clock(appeal, form.reason.data, current_user)
        except validation.AppealError as exc:
            attach_errors(form, exc)
            return render_template("register/suspend.html", form=form, appeal=appeal), 400
        flash(_("The answer clock of %(number)s is stopped.", number=appeal.number), "success")
        return redirect(url_for("register.appeal_detail", appeal_id=appeal_id))
    return render_template("register/suspend.html", form=form, appeal=appeal), 400 if request.method == "POST" else 200


@bp.route("/appeals/<int:appeal_id>/resume", methods=["POST"])
def resume(appeal_id):
    appeal = _get_appeal(appeal_id, "appeal.suspend")
    try:
        suspension = workflow.resume_clock(appeal, current_user)
    except validation.AppealError as exc:
        return _render_detail(appeal, errors={exc.field or "status": [exc.message]}, status=409)
    flash(_("The answer clock of %(number)s runs again; new deadline %(date)s (%(n)d working days added).",
            number=appeal.number, date=fmt_date(suspension.due_after, "short"), n=suspension.paused_days or 0),
          "success")
    return redirect(url_for("register.appeal_detail", appeal_id=appeal_id))


@bp.route("/appeals/<int:appeal_id>/forward", methods=["GET", "POST"])
def forward(appeal_id):
    appeal = _get_appeal(appeal_id, "appeal.transition")
    form = ForwardForm()
    context = {"appeal": appeal, "forward_due": deadlines.forward_due_date(appeal.received_at)}
    if request.method == "GET":
        form.date.data = local_today()
    if form.validate_on_submit():
        try:
            workflow.forward(appeal, form.recipient.data, form.date.data, current_user)
        except validation.AppealError as exc:
            _attach_errors(form, exc)
            return render_template("register/forward.html", form=form, **context), 400
        flash(_("Appeal %(number)s forwarded.", number=appeal.number), "success")
        return redirect(url_for("register.appeal_detail", appeal_id=appeal_id))
    if request.method == "POST":
        form.date.errors = [_("Enter a valid date.")] if form.date.errors else form.date.errors
        return render_template("register/forward.html", form=form, **context), 400
    return render_template("register/forward.html", form=form, **context)


# --- The list and export ------------------------------------------------------------------

class _Choice(NamedTuple):
    id: int
    name: str
    district_id: Optional[int] = None
    code: str = ""


def _reference_choices(regions):
    """The list filter's offices, districts, settlements and categories of these regions (None: all), as
    plain values: kept per process by the reference cache (the ORM rows and their localised names cost
    more than the rest of the filter form)."""
    districts = sa.select(District)
    if regions is not None:
        districts = districts.where(District.region_id.in_(regions or [-1]))
    return {
        "offices": tuple(_Choice(o.id, o.name, code=o.code)
                         for o in db.session.scalars(sa.select(Office).order_by(Office.code))),
        "districts": tuple(_Choice(d.id, d.name) for d in sorted(db.session.scalars(districts).all(),
                                                                key=lambda d: d.name.casefold())),
        "settlements": tuple(_Choice(s.id, s.name, s.district_id) for s in _settlements(regions)),
        "categories": tuple(_Choice(c.id, c.name) for c in _categories()),
    }


def _filter_choices():
    # The districts and settlements of the user's own region(s) (a country has a thousand settlements;
    # a clerk's or a regional coordinator's filter offers theirs).
    regions = own_region_ids(current_user)
    key = "register-filters:" + ("all" if regions is None else ",".join(str(r) for r in sorted(regions)))
    lists = reference_cache.cached(key, lambda: _reference_choices(regions))
    own = own_offices_only(current_user)
    return {
        **lists,
        "offices": lists["offices"] if own is None else [office for office in lists["offices"] if office.id in own],
        "hosts": db.session.scalars(sa.select(Host).order_by(Host.full_name)).all()
        if can(current_user, "appeal.filter_by_host") else [],
    }


def _filter_labels():
    return {"office": _("Office"), "date_from": _("Received from"), "date_to": _("Received to"), "status": _("Status"),
            "appeal_type": _("Type"), "category": _("Category"), "channel": _("Channel"), "district": _("District"),
            "settlement": _("Settlement"), "host": _("Host"), "sort": _("Sort"), "q": _("Search")}


@bp.route("/appeals", methods=["GET", "POST"])
@permission_required("appeal.view")
def list_appeals():
    if request.method == "POST":
        # The filter form is posted so that a search by IIN, phone or name never reaches a URL.
        return redirect_with_sealed_search("register.list_appeals", request.form, current_user.id)
    errors = FieldErrors()
    filters = queries.parse_list_filters(with_search_term(request.args, current_user.id), errors)
    query = queries.with_list_relations(queries.build_list_query(filters, current_user,
                                                                  first_rows=rows_to_read(request.args)))
    page = paginate(query, request.args)
    items = list(dict.fromkeys(page.items))
    mode = personal_data_mode(current_user)
    views = [(a, personal_view(a, current_user, mode=mode, offer_reveal=False)) for a in items]
    rows = [
        {"appeal": a, "personal": (view.name, view.iin, view.phone), "view": view,
         "deadline": deadlines.deadline_state(a)}
        for a, view in views
    ]
    # A search reached by an old link (?q=...) is sealed in the links this page gives.
    export_args = {k: v for k, v in request.args.to_dict(flat=False).items() if k not in ("page", "size", "format", "q")}
    if filters["q"] and SEARCH_ARG not in export_args:
        export_args[SEARCH_ARG] = search_token(filters["q"], current_user.id)
    return render_template("register/list.html", page=page, rows=rows, filters=filters, choices=_filter_choices(),
                           export_args=export_args,
                           active_filters=any(filters[k] for k in queries.FILTER_KEYS if k != "sort"),
                           filter_errors=errors.errors, filter_labels=_filter_labels())


@bp.route("/appeals/export")
@permission_required("appeal.export")
def export():
    try:
        filters = queries.parse_list_filters(with_search_term(request.args, current_user.id))
    except ParseError:
        # The list shows which filter is wrong.
        return redirect(url_for("register.list_appeals", **request.args.to_dict(flat=False)))
    query = queries.build_list_query(filters, current_user)
    stamp = local_now().strftime("%Y%m%d-%H%M")
    fmt = request.args.get("format", "csv")
    if fmt == "xlsx":
        content = exports.export_xlsx(query, current_user._get_current_object())
        return Response(content, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="appeals-{stamp}.xlsx"'})
    if fmt != "csv":
        abort(400)
    # Built whole (at most EXPORT_MAX_ROWS rows): a streamed body would outlive the request's database session.
    content = "".join(exports.export_csv(query, current_user._get_current_object())).encode("utf-8")
    return Response(content, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="appeals-{stamp}.csv"'})


# --- Import ---------------------------------------------------------------------------------

def _imports_folder():
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@bp.route("/appeals/import/template")
@permission_required("appeal.import")
def import_template():
    return Response(imports.import_template_xlsx(),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="appeals-import-template.xlsx"'})


def _started_import(office, filename, rows):
    job = imports.start_import(office, filename, rows, current_user)
    page = url_for("register.import_appeals", job=job.id)
    return submission.Created(location=page, object_url=page, object_label=filename)


@bp.route("/appeals/import", methods=["GET", "POST"])
@permission_required("appeal.import")
def import_appeals():
    job_id = request.args.get("job", type=int)
    if job_id:
        job = db.session.get(Job, job_id)
        if job is None or job.kind != "import_appeals" or not can(current_user, "job.view", job):
            abort(404)
        return render_template("register/import_job.html", job=job, position=queue_position(job))

    form = ImportForm()
    form.office_id.choices = [SelectChoice(str(o.id), f"{o.code} — {o.name}") for o in _creatable_offices()]
    if form.validate_on_submit():
        office = db.session.get(Office, int(form.office_id.data or 0)) if (form.office_id.data or "").isdigit() else None
        upload = form.file.data
        if office is None or not can(current_user, "appeal.import", office):
            form.office_id.errors = [_("Choose the office that registers the appeal.")]
        elif upload is None or not upload.filename:
            form.file.errors = [_("Choose a file to import.")]
        else:
            try:
                # The upload's stream, read row by row within the import's bounds (not read whole first).
                rows = imports.read_import_file(upload.filename, upload.stream)
            except validation.AppealError as exc:
                form.file.errors = [exc.message]
            else:
                return submission.finish(submission.create_once(
                    current_user, lambda: _started_import(office, upload.filename, rows), own_transaction=True))
        return render_template("register/import.html", form=form, columns=imports.IMPORT_COLUMNS), 400
    return render_template("register/import.html", form=form, columns=imports.IMPORT_COLUMNS)

