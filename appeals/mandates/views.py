"""Directives, candidates with bulk flagging, mandates with progress, and the briefing's statistics."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from appeals.auth.permissions import can, permission_required, require, scope_appeals, scope_directives
from appeals.core import parsing, storage, submission
from appeals.core.extensions import db
from appeals.core.pagination import paginate
from appeals.core.timeutil import local_today
from appeals.core.web import attach_errors, safe_redirect_target
from appeals.mandates import (
    bulk,
    criteria,
    directives,
    flagging,
    lifecycle,
    publication,
    queries,
    widgets,  # noqa: F401  (connects this domain's page blocks)
)
from appeals.mandates.forms import DirectiveForm, MandateForm, ProgressForm, PublicTextForm, UnflagForm
from appeals.mandates.models import MANDATE_STATUSES, Directive, Mandate, MandateAppeal
from appeals.reference.models import Category, District, Office, Settlement
from appeals.register.models import APPEAL_TYPES, Appeal

bp = Blueprint("mandates", __name__)


@bp.app_template_global("criterion_label")
def criterion_label(name):
    return {
        "appeal_types": _("Appeal type"),
        "categories": _("Category"),
        "place": _("Settlement or district"),
        "keywords": _("Keywords"),
        "min_signatories": _("Signatories"),
        "received_window": _("Date received"),
    }.get(name, name)


def _reference_lists():
    return {
        "offices": db.session.scalars(sa.select(Office).where(Office.is_active).order_by(Office.kind, Office.code)).all(),
        "districts": db.session.scalars(sa.select(District).order_by(District.code)).all(),
        "settlements": db.session.scalars(
            sa.select(Settlement).where(Settlement.is_active).options(selectinload(Settlement.district))
            .order_by(Settlement.district_id, Settlement.name_kk)
        ).all(),
        "categories": db.session.scalars(sa.select(Category).where(Category.is_active).order_by(Category.sort_order)).all(),
    }


def _get_directive(directive_id, action="directive.view"):
    """The directive if the user may do `action` to it: a region's own directive is another region's 403."""
    directive = db.session.get(Directive, directive_id) or abort(404)
    require("directive.view", directive)
    require(action, directive)
    return directive


def _get_mandate(mandate_id):
    mandate = db.session.get(Mandate, mandate_id) or abort(404)
    require("mandate.view", mandate)
    return mandate


# --- Directives ------------------------------------------------------------------------------


@bp.route("/directives")
@permission_required("directive.view")
def list_directives():
    rows = db.session.scalars(scope_directives(sa.select(Directive), current_user)
                              .order_by(Directive.issued_on.desc(), Directive.id.desc())).all()
    progress = {d.id: queries.directive_progress(d, current_user) for d in rows}
    return render_template("mandates/directives.html", directives=rows, progress=progress,
                           is_open=directives.directive_is_open)


def _fill_directive_choices(form):
    lists = _reference_lists()
    form.category_ids.choices = [SelectChoice(c.id, c.name) for c in lists["categories"]]
    form.district_ids.choices = [SelectChoice(d.id, d.name) for d in lists["districts"]]
    form.settlement_ids.choices = [SelectChoice(s.id, f"{s.name} ({s.district.name})") for s in lists["settlements"]]


def _directive_form_data(form):
    return {name: getattr(form, name).data for name in directives.DIRECTIVE_FIELDS}


def _attach_errors(form, error):
    """Show a service error on its form fields; errors without a field become a flash message."""
    attach_errors(form, error)


@bp.route("/directives/new", methods=["GET", "POST"])
@permission_required("directive.manage")
def new_directive():
    form = DirectiveForm()
    _fill_directive_choices(form)
    if request.method == "GET":
        form.issuer.data = _("Central office")
        form.issued_on.data = local_today()
        form.valid_from.data = local_today()
    if form.validate_on_submit():
        try:
            created = submission.create_once(current_user, lambda: _created_directive(form))
        except directives.DirectiveError as exc:
            _attach_errors(form, exc)
        else:
            return submission.finish(created)
    return render_template("mandates/directive_form.html", form=form, directive=None)


def _created_directive(form):
    directive = directives.create_directive(_directive_form_data(form), current_user)
    page = url_for("mandates.directive_detail", directive_id=directive.id)
    return submission.Created(location=page, object_url=page, object_label=directive.number,
                              message=_("Directive %(number)s saved.", number=directive.number))


@bp.route("/directives/<int:directive_id>/edit", methods=["GET", "POST"])
@permission_required("directive.manage")
def edit_directive(directive_id):
    directive = _get_directive(directive_id, "directive.manage")
    form = DirectiveForm(obj=directive)
    _fill_directive_choices(form)
    if request.method == "GET":
        form.appeal_types.data = directive.appeal_types or []
        form.category_ids.data = directive.category_ids or []
        form.district_ids.data = directive.district_ids or []
        form.settlement_ids.data = directive.settlement_ids or []
    if form.validate_on_submit():
        try:
            directives.update_directive(directive, _directive_form_data(form), current_user)
        except directives.DirectiveError as exc:
            _attach_errors(form, exc)
        else:
            flash(_("Directive %(number)s saved.", number=directive.number), "success")
            return redirect(url_for("mandates.directive_detail", directive_id=directive.id))
    return render_template("mandates/directive_form.html", form=form, directive=directive)


def _criteria_summary(directive):
    """[(criterion label, human-readable value)] for the criteria the directive sets."""
    from appeals.core.labels import APPEAL_TYPE_LABELS

    def names(model, ids):
        return ", ".join(o.name for o in db.session.scalars(sa.select(model).where(model.id.in_(ids or [-1]))))

    rows = []
    if directive.appeal_types:
        rows.append((_("Appeal types"), ", ".join(str(APPEAL_TYPE_LABELS[t]) for t in directive.appeal_types)))
    if directive.category_ids:
        rows.append((_("Categories"), names(Category, directive.category_ids)))
    if directive.district_ids:
        rows.append((_("Districts"), names(District, directive.district_ids)))
    if directive.settlement_ids:
        rows.append((_("Settlements"), names(Settlement, directive.settlement_ids)))
    if directive.keywords:
        rows.append((_("Keywords"), directive.keywords))
    if directive.min_signatories:
        rows.append((_("Minimum number of signatories"), str(directive.min_signatories)))
    if directive.received_from or directive.received_to:
        from appeals.core.i18n import fmt_date

        rows.append((_("Received"), f"{fmt_date(directive.received_from, 'short') or '…'} — "
                                    f"{fmt_date(directive.received_to, 'short') or '…'}"))
    return rows


@bp.route("/directives/<int:directive_id>")
@permission_required("directive.view")
def directive_detail(directive_id):
    directive = _get_directive(directive_id)
    query = queries.build_mandate_query({"directive_id": directive.id, "status": request.args.get("status")},
                                         current_user).options(selectinload(Mandate.settlement), selectinload(Mandate.office))
    page = paginate(query, request.args)
    return render_template(
        "mandates/directive_detail.html", directive=directive, criteria=_criteria_summary(directive),
        progress=queries.directive_progress(directive, current_user), page=page, is_open=directives.directive_is_open(directive),
        status=request.args.get("status") or "", is_overdue=queries.is_overdue,
    )


# --- Candidates and flagging -----------------------------------------------------------------


CANDIDATE_FILTERS = ("q", "office_id", "district_id", "settlement_id", "category_id", "appeal_type", "all")


def _candidate_filters(args, errors):
    filters = {key: errors(parsing.parse_id, args.get(key), key)
               for key in ("office_id", "district_id", "settlement_id", "category_id")}
    filters.update(
        q=(args.get("q") or "").strip()[:100],
        appeal_type=errors(parsing.parse_choice, args.get("appeal_type"), APPEAL_TYPES, "appeal_type"),
        all=parsing.parse_flag(args.get("all")),
    )
    return filters


def _selected_ids(form):
    ids = []
    for value in form.getlist("appeal_id"):
        try:
            ids.append(int(value))
        except ValueError:
            continue
    return list(dict.fromkeys(ids))


def _selected_appeals(directive, ids):
    appeals = db.session.scalars(
        sa.select(Appeal).where(Appeal.id.in_(ids or [-1]))
        .options(selectinload(Appeal.settlement), selectinload(Appeal.office))
        .order_by(Appeal.received_at.desc())
    ).all()
    return [(a, criteria.unmet_criteria(directive, a)) for a in appeals]


def _flag_flow(directive, mandate=None):
    """The two-step bulk flag: 'review' shows the count (and asks for a reason if needed), 'flag' does it."""
    step = request.form.get("step")
    ids = _selected_ids(request.form)
    default = (url_for("mandates.merge", mandate_id=mandate.id) if mandate
               else url_for("mandates.candidates", directive_id=directive.id))
    back = safe_redirect_target(request.form.get("back"), default)
    if not ids:
        flash(_("Select at least one appeal."), "error")
        return redirect(back)
    selected = _selected_appeals(directive, ids)
    error = None
    if step == "flag":
        try:
            created = submission.create_once(
                current_user, lambda: _flagged(directive, mandate, [a.id for a, _u in selected], back))
        except directives.MandateError as exc:
            error = exc
        else:
            return submission.finish(created)
    return render_template(
        "mandates/confirm_flag.html", directive=directive, mandate=mandate, selected=selected, error=error,
        back=back, needs_reason=any(unmet for _a, unmet in selected), mode=request.form.get("mode") or "separate",
        override_reason=request.form.get("override_reason") or "",
        people=_responsible_user_choices(None), responsible_user_id=request.form.get("responsible_user_id") or "",
        target_date=request.form.get("target_date") or (directive.valid_to.isoformat() if directive.valid_to else ""),
    ), (422 if error else 200)


def _flagged(directive, mandate, ids, back):
    mandates = flagging.flag_appeals(
        directive, ids, current_user, override_reason=request.form.get("override_reason"),
        merge_into=mandate, as_one=request.form.get("mode") == "joint",
        responsible_user_id=request.form.get("responsible_user_id") or None,
        target_date=request.form.get("target_date") or None,
    )
    if mandate is not None:
        page = url_for("mandates.mandate_detail", mandate_id=mandate.id)
        return submission.Created(location=page, object_url=page, object_label=mandate.number, message=ngettext(
            "%(num)d appeal added to mandate %(number)s.", "%(num)d appeals added to mandate %(number)s.", len(ids),
            number=mandate.number))
    if len(mandates) == 1 and len(ids) > 1:
        message = _("%(num)d appeals registered as one joint mandate %(number)s.", num=len(ids), number=mandates[0].number)
    else:
        message = ngettext("%(num)d appeal registered as a mandate.", "%(num)d appeals registered as mandates.", len(ids))
    if len(mandates) == 1:
        page = url_for("mandates.mandate_detail", mandate_id=mandates[0].id)
        return submission.Created(location=page, object_url=page, object_label=mandates[0].number, message=message)
    return submission.Created(location=back, object_url=url_for("mandates.list_mandates"),
                              object_label=", ".join(m.number for m in mandates), message=message)


def _candidates_page(directive, mandate=None):
    errors = parsing.FieldErrors()
    filters = _candidate_filters(request.args, errors)
    if errors:
        flash(" ".join(message for messages in errors.errors.values() for message in messages), "error")
    query = scope_appeals(criteria.candidate_query(directive, filters), current_user).options(
        selectinload(Appeal.settlement).selectinload(Settlement.district), selectinload(Appeal.office),
        selectinload(Appeal.category),
    )
    page = paginate(query, request.args)
    rows = [(a, criteria.matches(directive, a), criteria.unmet_criteria(directive, a),
             criteria.matched_keywords(directive, a)) for a in page.items]
    return render_template(
        "mandates/candidates.html", directive=directive, mandate=mandate, page=page, rows=rows, filters=filters,
        appeal_types=APPEAL_TYPES, criteria=_criteria_summary(directive), is_open=directives.directive_is_open(directive),
        **_reference_lists(),
    )


@bp.route("/directives/<int:directive_id>/candidates", methods=["GET", "POST"])
@permission_required("mandate.flag")
def candidates(directive_id):
    directive = _get_directive(directive_id)
    if request.method == "POST":
        return _flag_flow(directive)
    return _candidates_page(directive)


@bp.route("/mandates/<int:mandate_id>/merge", methods=["GET", "POST"])
@permission_required("mandate.flag")
def merge(mandate_id):
    mandate = _get_mandate(mandate_id)
    if mandate.status == "withdrawn":
        flash(_("Appeals cannot be added to a withdrawn mandate."), "error")
        return redirect(url_for("mandates.mandate_detail", mandate_id=mandate.id))
    if request.method == "POST":
        return _flag_flow(mandate.directive, mandate)
    return _candidates_page(mandate.directive, mandate)


# --- Mandates --------------------------------------------------------------------------------


@bp.route("/mandates")
@permission_required("mandate.view")
def list_mandates():
    errors = parsing.FieldErrors()
    filters = queries.parse_mandate_filters(request.args, errors)
    if errors:
        flash(" ".join(message for messages in errors.errors.values() for message in messages), "error")
    query = queries.build_mandate_query(filters, current_user).options(
        selectinload(Mandate.settlement), selectinload(Mandate.office), selectinload(Mandate.directive),
        selectinload(Mandate.links),
    )
    page = paginate(query, request.args)
    choices = db.session.scalars(scope_directives(sa.select(Directive), current_user)
                                 .order_by(Directive.issued_on.desc())).all()
    bulk_edit = can(current_user, "mandate.edit")
    return render_template("mandates/mandates.html", page=page, filters=filters, directives=choices,
                           statuses=MANDATE_STATUSES, is_overdue=queries.is_overdue, bulk_edit=bulk_edit,
                           people=_responsible_user_choices(None) if bulk_edit else [], **_reference_lists())


@bp.route("/mandates/export")
@permission_required("mandate.view")
def export():
    """The list's mandates (its filters) as CSV or XLSX: the file the bulk import reads back."""
    from flask import Response

    from appeals.core.timeutil import local_now
    from appeals.mandates import sheets

    args = {key: value for key, value in request.args.items() if key != "format"}
    try:
        filters = queries.parse_mandate_filters(args)
    except parsing.ParseError:
        return redirect(url_for("mandates.list_mandates", **args))
    query = queries.build_mandate_query(filters, current_user)
    stamp = local_now().strftime("%Y%m%d-%H%M")
    fmt = request.args.get("format", "xlsx")
    if fmt == "xlsx":
        return Response(sheets.export_xlsx(query),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="mandates-{stamp}.xlsx"'})
    if fmt != "csv":
        abort(400)
    return Response("".join(sheets.export_csv(query)).encode("utf-8"), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="mandates-{stamp}.csv"'})


@bp.route("/mandates/import", methods=["GET", "POST"])
@permission_required("mandate.edit")
def import_updates():
    """Bulk updates from an edited export: all rows or none, every bad cell named."""
    from appeals.mandates import sheets

    result = error = None
    if request.method == "POST":
        upload = request.files.get("file")
        if not upload or not upload.filename:
            error = sheets.SheetImportError(_("Choose the file to import."))
        else:
            try:
                result = sheets.import_updates(upload.read(), upload.filename, current_user)
            except sheets.SheetImportError as exc:
                error = exc
    return render_template("mandates/import.html", result=result, error=error), (422 if error else 200)


@bp.route("/mandates/<int:mandate_id>")
@permission_required("mandate.view")
def mandate_detail(mandate_id):
    mandate = _get_mandate(mandate_id)
    links = db.session.scalars(
        sa.select(MandateAppeal).where(MandateAppeal.mandate_id == mandate.id)
        .options(selectinload(MandateAppeal.appeal).selectinload(Appeal.settlement),
                 selectinload(MandateAppeal.added_by), selectinload(MandateAppeal.removed_by))
        .order_by(MandateAppeal.id)
    ).all()
    progress_form = ProgressForm(formdata=None, noted_on=local_today())
    progress_form.set_status_choices(mandate.status, lifecycle.TRANSITIONS[mandate.status])
    return render_template(
        "mandates/mandate_detail.html", mandate=mandate, links=links, progress_form=progress_form,
        unflag_form=UnflagForm(formdata=None), overdue=queries.is_overdue(mandate),
    )


def _settlement_choices():
    lists = _reference_lists()
    return [SelectChoice("", "—")] + [SelectChoice(str(s.id), f"{s.name} ({s.district.name})") for s in lists["settlements"]]


def _responsible_user_choices(current_id):
    from appeals.auth.models import User

    people = db.session.scalars(sa.select(User).where(sa.or_(User.is_active_account.is_(True), User.id == current_id))
                                .order_by(User.full_name, User.username)).all()
    return [SelectChoice("", "—")] + [SelectChoice(str(u.id), f"{u.display_name} ({u.username})") for u in people]


@bp.route("/mandates/<int:mandate_id>/edit", methods=["GET", "POST"])
@permission_required("mandate.edit")
def edit_mandate(mandate_id):
    mandate = _get_mandate(mandate_id)
    if mandate.status == "withdrawn":
        flash(_("A withdrawn mandate cannot be changed."), "error")
        return redirect(url_for("mandates.mandate_detail", mandate_id=mandate.id))
    form = MandateForm(obj=mandate)
    form.settlement_id.choices = _settlement_choices()
    form.responsible_user_id.choices = _responsible_user_choices(mandate.responsible_user_id)
    form.set_status_choices(mandate.status, lifecycle.TRANSITIONS[mandate.status])
    if request.method == "GET":
        form.settlement_id.data = str(mandate.settlement_id or "")
        form.responsible_user_id.data = str(mandate.responsible_user_id or "")
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in lifecycle.MANDATE_FIELDS}
        try:
            lifecycle.update_mandate(mandate, data, current_user)
        except directives.MandateError as exc:
            _attach_errors(form, exc)
        else:
            flash(_("Mandate %(number)s saved.", number=mandate.number), "success")
            return redirect(url_for("mandates.mandate_detail", mandate_id=mandate.id))
    return render_template("mandates/mandate_form.html", form=form, mandate=mandate)


@bp.route("/mandates/<int:mandate_id>/public", methods=["GET", "POST"])
@permission_required("mandate.edit")
def public_text(mandate_id):
    """The mandate's public text: a coordinator edits the draft and approves it for the public pages."""
    mandate = _get_mandate(mandate_id)
    if mandate.status == "withdrawn":
        flash(_("A withdrawn mandate cannot be changed."), "error")
        return redirect(url_for("mandates.mandate_detail", mandate_id=mandate.id))
    form = PublicTextForm(obj=mandate)
    if form.validate_on_submit():
        publish = bool(form.publish.data)
        if publish:
            require("mandate.publish", mandate)
        try:
            publication.save_public_text(mandate, {name: getattr(form, name).data for name in publication.PUBLIC_FIELDS},
                                         current_user, publish=publish)
        except directives.MandateError as exc:
            _attach_errors(form, exc)
        else:
            flash(_("The public text is approved and published.") if publish
                  else _("The public text is saved as a draft: the public pages show it once it is approved."),
                  "success")
            return redirect(url_for("mandates.mandate_detail", mandate_id=mandate.id, _anchor="public-text"))
    return render_template("mandates/public_text_form.html", form=form, mandate=mandate), (422 if form.errors else 200)


@bp.route("/mandates/<int:mandate_id>/unpublish", methods=["POST"])
@permission_required("mandate.publish")
def unpublish(mandate_id):
    mandate = _get_mandate(mandate_id)
    publication.unpublish(mandate, current_user)
    flash(_("The mandate is no longer on the public pages."), "success")
    return redirect(url_for("mandates.mandate_detail", mandate_id=mandate.id, _anchor="public-text"))


@bp.route("/mandates/<int:mandate_id>/progress", methods=["POST"])
@permission_required("mandate.progress")
def add_progress(mandate_id):
    """A progress update by a coordinator or the mandate's responsible person: text, %, status, photos."""
    mandate = _get_mandate(mandate_id)
    require("mandate.progress", mandate)
    form = ProgressForm()
    form.set_status_choices(mandate.status, lifecycle.TRANSITIONS[mandate.status])
    if form.validate_on_submit():
        photos = [upload.read(storage.max_file_bytes() + 1) for upload in request.files.getlist("photos")
                  if upload and upload.filename]
        try:
            lifecycle.add_progress_note(mandate, form.noted_on.data, form.note.data, form.percent.data, current_user,
                                        status=form.status.data, photos=photos)
        except directives.MandateError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Progress update added."), "success")
            return redirect(url_for("mandates.mandate_detail", mandate_id=mandate.id, _anchor="progress"))
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for("mandates.mandate_detail", mandate_id=mandate.id, _anchor="progress"))


@bp.route("/mandates/photos/<int:photo_id>")
@permission_required("mandate.view")
def photo(photo_id):
    """An update's photo for staff who see the mandate (the public pages serve published ones)."""
    from flask import Response

    from appeals.mandates.models import MandateUpdatePhoto

    found = db.session.get(MandateUpdatePhoto, photo_id) or abort(404)
    require("mandate.view", found.note.mandate)
    data = storage.get(found.file_key) or abort(404)
    return Response(data, mimetype=found.content_type, headers={"X-Content-Type-Options": "nosniff"})


@bp.route("/mandates/<int:mandate_id>/unflag", methods=["POST"])
@permission_required("mandate.flag")
def unflag(mandate_id):
    mandate = _get_mandate(mandate_id)
    form = UnflagForm()
    link = None
    if (form.link_id.data or "").isdigit():
        link = db.session.get(MandateAppeal, int(form.link_id.data))
    if link is None or link.mandate_id != mandate.id:
        abort(404)
    if not form.validate_on_submit():
        flash(_("Give a reason for removing the appeal from the mandate."), "error")
    else:
        try:
            flagging.unflag(link, form.reason.data, current_user)
        except directives.MandateError as exc:
            flash(exc.message, "error")
        else:
            flash(_("Appeal %(number)s removed from the mandate.", number=link.appeal.number), "success")
    return redirect(url_for("mandates.mandate_detail", mandate_id=mandate.id))


# --- Many mandates at once: bulk edit and merging (appeals/mandates/bulk.py) -------------------


@bp.route("/mandates/bulk", methods=["POST"])
@permission_required("mandate.edit")
def bulk_edit():
    back = safe_redirect_target(request.form.get("back"), url_for("mandates.list_mandates"))
    data = {field: request.form.get(field) for field in bulk.BULK_FIELDS}
    try:
        changed = bulk.bulk_update_mandates(request.form.getlist("mandate_id"), data, current_user)
    except directives.MandateError as exc:
        flash(exc.message, "error")
    else:
        flash(ngettext("%(num)d mandate changed.", "%(num)d mandates changed.", len(changed)), "success")
    return redirect(back)


@bp.route("/mandates/<int:mandate_id>/combine", methods=["GET", "POST"])
@permission_required("mandate.edit")
def combine(mandate_id):
    mandate = _get_mandate(mandate_id)
    require("mandate.edit", mandate)
    error = None
    if request.method == "POST":
        other = db.session.get(Mandate, parsing.lenient(parsing.parse_id, request.form.get("other_id")) or 0)
        try:
            if other is None:
                raise directives.MandateError(_("Choose the mandate to merge with."), "merge_into")
            keeper = bulk.merge_mandates(mandate, other, current_user)
        except directives.MandateError as exc:
            error = exc.message
        else:
            merged = other if keeper.id == mandate.id else mandate
            flash(_("Mandate %(merged)s is merged into %(keeper)s.", merged=merged.number, keeper=keeper.number),
                  "success")
            return redirect(url_for("mandates.mandate_detail", mandate_id=keeper.id))
    others = db.session.scalars(
        queries.build_mandate_query({"directive_id": mandate.directive_id, "status": "counted"}, current_user)
        .where(Mandate.id != mandate.id).order_by(None).order_by(Mandate.seq)).all()
    return render_template("mandates/combine.html", mandate=mandate, others=others, error=error), (
        422 if error else 200)
