"""Administration: user accounts, the answer terms per appeal type and the audit trail."""
from datetime import datetime, time

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from appeals.auth import services as accounts
from appeals.auth.forms import UserForm
from appeals.auth.models import User
from appeals.auth.permissions import permission_required
from appeals.core import audit_labels, parsing, submission
from appeals.core.audit import AuditRecord
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.pagination import paginate
from appeals.reference.models import Office, Region
from appeals.register import deadlines as deadline_rules

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _region_choices():
    regions = db.session.scalars(sa.select(Region).order_by(Region.code)).all()
    return [SelectChoice("", "—")] + [SelectChoice(region.code, f"{region.code} — {region.name}") for region in regions]


def _office_choices():
    offices = db.session.scalars(sa.select(Office).order_by(Office.code)).all()
    return [SelectChoice(office.code, f"{office.code} — {office.name}") for office in offices]


@bp.route("/users")
@permission_required("admin.users")
def users():
    role = request.args.get("role") or None
    return render_template("admin/users.html", users=accounts.list_users(role=role), role=role)


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required("admin.users")
def new_user():
    form = UserForm()
    form.offices.choices = _office_choices()
    form.region_code.choices = _region_choices()
    form.main_office.choices = [SelectChoice("", "—")] + _office_choices()
    form.password.flags.required = True  # a new account needs one; the service says how long
    if form.validate_on_submit():
        try:
            created = submission.create_once(current_user, lambda: _created_user(form))
        except accounts.AccountError as exc:
            getattr(form, exc.field or "username").errors.append(exc.message)
        else:
            return submission.finish(created)
    return render_template("admin/user_form.html", form=form, user=None)


def _created_user(form):
    user = accounts.create_user(
        form.username.data,
        form.password.data or "",
        form.role.data,
        form.offices.data,
        full_name=form.full_name.data,
        email=form.email.data,
        locale=form.locale.data or None,
        actor=current_user,
        region_code=form.region_code.data or None,
        main_office_code=form.main_office.data or None,
    )
    return submission.Created(location=url_for("admin.users"), object_url=url_for("admin.edit_user", user_id=user.id),
                              object_label=user.username, message=_("User %(name)s created.", name=user.username))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@permission_required("admin.users")
def edit_user(user_id):
    user = db.session.get(User, user_id) or abort(404)
    form = UserForm(obj=user)
    form.offices.choices = _office_choices()
    form.region_code.choices = _region_choices()
    form.main_office.choices = [SelectChoice("", "—")] + _office_choices()
    if request.method == "GET":
        form.offices.data = [office.code for office in user.offices]
        form.region_code.data = user.region.code if user.region else ""
        form.main_office.data = user.main_office.code if user.main_office else ""
        form.is_active.data = user.is_active_account
        form.locale.data = user.locale or ""
    if form.validate_on_submit():
        try:
            user = accounts.update_user(
                user,
                role=form.role.data,
                office_codes=form.offices.data,
                full_name=form.full_name.data,
                email=form.email.data,
                locale=form.locale.data,
                is_active=form.is_active.data,
                actor=current_user,
                region_code=form.region_code.data or None,
                main_office_code=form.main_office.data or None,
            )
            if form.password.data:
                accounts.set_password(user, form.password.data, actor=current_user)
        except accounts.AccountError as exc:
            getattr(form, exc.field or "role").errors.append(exc.message)
        else:
            flash(_("User %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    form.username.render_kw = {"readonly": True}
    return render_template("admin/user_form.html", form=form, user=user)


def _parse_day(value, end=False):
    # core.parsing's date rule; a malformed filter date filters nothing.
    day = parsing.lenient(parsing.parse_date, value)
    return None if day is None else datetime.combine(day, time.max if end else time.min)


@bp.route("/audit")
@permission_required("admin.audit")
def audit_log():
    query = sa.select(AuditRecord).order_by(AuditRecord.id.desc())
    filters = {key: (request.args.get(key) or "").strip() for key in ("user", "action", "object_type", "object_id", "date_from", "date_to")}
    if filters["user"]:
        query = query.where(AuditRecord.username == filters["user"])
    if filters["action"]:
        query = query.where(AuditRecord.action == filters["action"])
    if filters["object_type"]:
        query = query.where(AuditRecord.object_type == filters["object_type"])
    if filters["object_id"]:
        query = query.where(AuditRecord.object_id == filters["object_id"])
    if start := _parse_day(filters["date_from"]):
        query = query.where(AuditRecord.created_at >= start)
    if end := _parse_day(filters["date_to"], end=True):
        query = query.where(AuditRecord.created_at <= end)
    page = paginate(query, request.args)
    actions = db.session.scalars(sa.select(AuditRecord.action).distinct().order_by(AuditRecord.action)).all()
    object_types = db.session.scalars(sa.select(AuditRecord.object_type).distinct().order_by(AuditRecord.object_type)).all()
    return render_template("admin/audit.html", page=page, filters=filters, actions=actions, object_types=object_types,
                           names=accounts.display_names(entry.username for entry in page.items),
                           object_url=_audit_object_url, audit_labels=audit_labels)


@bp.route("/deadlines", methods=["GET", "POST"])
@permission_required("admin.deadlines")
def deadlines():
    terms = deadline_rules.deadline_rules()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        # Flask-WTF's CSRFProtect checks the token of every POST before this view runs.
        values = {kind: request.form.get(kind, "") for kind in terms}
        try:
            changes = deadline_rules.save_deadline_rules(values, current_user)
        except DomainError as exc:
            errors = exc.errors
            terms = values
        else:
            flash(_("Answer terms saved.") if changes else _("Nothing changed."), "success")
            return redirect(url_for("admin.deadlines"))
    return render_template("admin/deadlines.html", terms=terms, errors=errors,
                           defaults=deadline_rules.DEFAULT_WORKING_DAYS), 400 if errors else 200


# Where an audited object's own page is: the trail links to it.
AUDIT_OBJECT_PAGES = {
    "appeals": ("register.appeal_detail", "appeal_id"), "users": ("admin.edit_user", "user_id"),
    "reception_sessions": ("schedules.session_detail", "session_id"), "hosts": ("schedules.edit_host", "host_id"),
    "directives": ("mandates.directive_detail", "directive_id"), "mandates": ("mandates.mandate_detail", "mandate_id"),
    "mandate_reports": ("reports.chain_report", "report_id"),
}
# Objects without an id of their own: the trail links to their page.
AUDIT_TABLE_PAGES = {"deadline_rules": "admin.deadlines"}


def _audit_object_url(entry):
    if entry.object_type in AUDIT_TABLE_PAGES:
        return url_for(AUDIT_TABLE_PAGES[entry.object_type])
    page = AUDIT_OBJECT_PAGES.get(entry.object_type)
    if page is None or not str(entry.object_id or "").isdigit():
        return None
    return url_for(page[0], **{page[1]: int(entry.object_id)})
