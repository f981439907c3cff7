"""The citizen's pages (no login): the online appeal form (/appeal) and tracking (/track)."""
from __future__ import annotations

import time
from datetime import datetime

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer

from appeals.core import hooks, labels
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.i18n import current_language
from appeals.core.timeutil import utcnow
from appeals.core.web import attach_errors, file_response, private_page
from appeals.reference import cache as reference_cache
from appeals.reference.models import Category
from appeals.register import attachments, online
from appeals.register.forms import CodeForm, OnlineAppealForm, TrackForm
from appeals.register.models import APPEAL_TYPES

bp = Blueprint("citizen", __name__)

STARTED_SALT = "online-appeal-started"
RECEIPT_KEY = "online_receipt"
# What the confirmation page shows of the submission this browser just sent (its public id, where the
# code went, masked, and until when it waits), so that the page is shown without reading the database.
PENDING_KEY = "online_pending"


def _started_token() -> str:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=STARTED_SALT).dumps(int(time.time()))


def _filled_like_a_person(form: OnlineAppealForm) -> bool:
    """The honeypot left empty, and the form sent no sooner than a person could fill it in."""
    if (form.website.data or "").strip():
        return False
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=STARTED_SALT)
    try:
        started = serializer.loads(form.started.data or "", max_age=4 * 3600)
    except BadSignature:
        return False
    return time.time() - float(started) >= float(current_app.config.get("ONLINE_MIN_FILL_SECONDS", 5))


def _category_choices() -> list[tuple[str, str]]:
    def build() -> list[tuple[str, str]]:
        categories = db.session.scalars(db.select(Category).where(Category.is_active.is_(True))
                                        .order_by(Category.sort_order, Category.id)).all()
        return [(str(category.id), category.name) for category in categories]

    return reference_cache.cached("category-choices", build)


def _fill_choices(form: OnlineAppealForm) -> None:
    from wtforms import SelectChoice

    form.appeal_type.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(code, labels.APPEAL_TYPE_LABELS[code]) for code in APPEAL_TYPES]
    form.category_id.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(value, name) for value, name in _category_choices()]


def _render_form(form: OnlineAppealForm, status: int = 200):
    if status >= 400 and any(file.filename for file in request.files.getlist("files")):
        # A browser cannot be given the chosen files back: say so where they were chosen.
        form.files.errors = [*form.files.errors, _("Choose your files again: they are not kept when the form "
                                                   "comes back with a problem.")]
    return private_page(current_app.make_response((_form_html(form), status)))


def _form_html(form: OnlineAppealForm) -> str:
    return render_template(
        "citizen/appeal.html", form=form, settlements=online.settlement_options(),
        max_files=attachments.max_files(online=True),
        max_file_mb=attachments.storage.max_file_bytes() // (1024 * 1024),
        consent_version=online.CONSENT_VERSION)


# The empty form is the same page for every visitor of one language but for two tokens: rendered once
# per process, language and reference version (appeals/reference/cache.py), the tokens put in per request.
_CSRF_MARK, _STARTED_MARK = "\x00csrf\x00", "\x00started\x00"


def _empty_form_page() -> str:
    def build() -> str:
        form = OnlineAppealForm()
        _fill_choices(form)
        form.started.data = started = _started_token()
        return _form_html(form).replace(generate_csrf(), _CSRF_MARK).replace(started, _STARTED_MARK)

    page = reference_cache.cached("appeal-form-page", build)
    return page.replace(_CSRF_MARK, generate_csrf()).replace(_STARTED_MARK, _started_token())


def _same_for_everybody() -> bool:
    """No staff member's menu, no message waiting, no query string (the language links keep it)."""
    return not request.query_string and not current_user.is_authenticated and not session.get("_flashes")


@bp.route("/appeal", methods=["GET", "POST"])
def appeal_form():
    if request.method == "GET" and _same_for_everybody():
        return private_page(current_app.make_response(_empty_form_page()))
    form = OnlineAppealForm()
    _fill_choices(form)
    if request.method == "GET":
        form.started.data = _started_token()
        return _render_form(form)
    if not form.validate_on_submit():
        form.started.data = form.started.data or _started_token()
        return _render_form(form, 400)
    consent = "y" if form.consent.data else ""
    if not _filled_like_a_person(form):
        form.started.data = _started_token()
        form.form_errors.append(_("The form was sent too quickly or incompletely. Please check it and send it again."))
        try:  # what else is wrong is said at once too (checking writes nothing)
            online.clean_form(dict(request.form, consent=consent))
        except DomainError as error:
            attach_errors(form, error, {"summary": "summary"}, unplaced="form")
        return _render_form(form, 400)
    try:
        uploads = attachments.read_uploads(request.files.getlist("files"))
        submission = online.start_submission(dict(request.form, consent=consent), uploads,
                                             request.remote_addr, current_language())
    except DomainError as error:
        attach_errors(form, error, {"summary": "summary"}, unplaced="form")
        return _render_form(form, 429 if error.kind == "conflict" else 400)
    session[PENDING_KEY] = {"id": submission.public_id, "contact": online.masked_contact(submission),
                            "until": submission.expires_at.isoformat()}
    return redirect(url_for("citizen.confirm", public_id=submission.public_id), 303)


def _pending_here(public_id: str):
    """The masked contact of `public_id` when this browser sent it and it still waits for its code."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("id") != public_id or RECEIPT_KEY in session:
        return None
    try:
        waiting = datetime.fromisoformat(str(pending.get("until"))) > utcnow()
    except ValueError:
        waiting = False
    return pending.get("contact") if waiting else None


@bp.route("/appeal/confirm/<public_id>", methods=["GET", "POST"])
def confirm(public_id):
    form = CodeForm()
    status = 200
    error_message = None
    if request.method == "POST" and not request.form.get("resend") and form.validate_on_submit():
        # The code goes straight to the registration, which reads the submission under its lock.
        try:
            appeal, receipt = online.confirm_submission(public_id, form.code.data)
        except DomainError as error:
            db.session.rollback()
            error_message = error
        else:
            session.pop(PENDING_KEY, None)
            session[RECEIPT_KEY] = {"number": receipt.number, "code": receipt.tracking_code, "link": receipt.link,
                                    "office": receipt.office, "due": appeal.due_date.isoformat()}
            return redirect(url_for("citizen.receipt"), 303)
    contact = _pending_here(public_id) if request.method == "GET" else None
    submission = None
    if contact is None:
        submission = online.find_pending(public_id)
        if submission is None:
            if RECEIPT_KEY in session:
                return redirect(url_for("citizen.receipt"), 303)
            return private_page(current_app.make_response((render_template("citizen/expired.html"), 404)))
        contact = online.masked_contact(submission)
    sent = ""
    if error_message is not None:
        attach_errors(form, error_message, unplaced="form")
        status = 429 if error_message.kind == "conflict" else 400
    elif submission is not None and request.method == "POST" and request.form.get("resend"):
        try:
            online.resend_code(submission, request.remote_addr)
            form.code.data = ""
            sent = _("A new code has been sent.")
        except DomainError as error:
            form.form_errors.append(error.message)
            status = 429
    elif request.method == "POST":
        status = 400
    return private_page(current_app.make_response((render_template(
        "citizen/confirm.html", form=form, contact=contact, sent=sent), status)))


@bp.route("/appeal/receipt")
def receipt():
    """The receipt, once: the number, the private tracking code and the link (then only the notice has the link)."""
    data = session.pop(RECEIPT_KEY, None)
    if not data:
        return redirect(url_for("citizen.track"))
    from datetime import date

    return private_page(current_app.make_response(render_template(
        "citizen/receipt.html", receipt=data, due=date.fromisoformat(data["due"]))))


@bp.route("/track", methods=["GET", "POST"])
def track():
    form = TrackForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                appeal = online.find_by_number_and_code(form.number.data, form.code.data, request.remote_addr)
            except DomainError as error:
                attach_errors(form, error, unplaced="form")
                status = 429 if error.kind == "conflict" else 400
            else:
                return redirect(url_for("citizen.track_link", token=online.tracking_link_token(appeal)), 303)
        else:
            status = 400
    return private_page(current_app.make_response((render_template("citizen/track.html", form=form), status)))


@bp.route("/track/<token>")
def track_link(token):
    appeal = online.appeal_from_link(token)
    if appeal is None:
        abort(404)
    return private_page(current_app.make_response(render_template(
        "citizen/status.html", view=online.track_view(appeal), token=token,
        page_blocks=hooks.collect(hooks.track_page_blocks, appeal, token=token))))


@bp.route("/track/<token>/files/<int:attachment_id>")
def track_file(token, attachment_id):
    """The answer's files, for whoever holds the tracking link; nothing of the appeal's own files."""
    appeal = online.appeal_from_link(token)
    if appeal is None:
        abort(404)
    files = {file.id: file for file in attachments.citizen_attachments(appeal)}
    file = files.get(attachment_id)
    if file is None:
        abort(404)
    data = attachments.open_citizen_file_audited(file)
    if data is None:
        abort(404)
    return private_page(file_response(data, file.content_type, file.name))
