"""Reference data administration pages (administrators only)."""
import csv
import io

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from appeals.auth.permissions import permission_required
from appeals.core import parsing, submission
from appeals.core.extensions import db
from appeals.core.pagination import paginate
from appeals.core.spreadsheets import csv_row
from appeals.reference import services
from appeals.reference.forms import CategoryForm, DistrictForm, ImportForm, OfficeForm, RegionForm, SettlementForm
from appeals.reference.models import Category, District, Office, Region, Settlement

bp = Blueprint("reference", __name__, url_prefix="/admin/reference")

def _form_data(form):
    return {name: f.data for name, f in form._fields.items() if name not in ("submit", "csrf_token")}


def _edit(form, save, obj, title, back, fields_hint=None):
    """The shared create/edit flow: validate, call the service, show its error on the right field.
    Creating goes through the form's one-time token, so a double submit adds one row."""
    if form.validate_on_submit():
        def saved():
            row = save(_form_data(form), current_user, obj)
            page = url_for(back, **({"district": row.district_id} if back == "reference.settlements" else {}))
            return submission.Created(location=page, object_url=page, object_label=getattr(row, "code", None) or row.name,
                                      message=_("Saved."))
        try:
            created = saved() if obj is not None else submission.create_once(current_user, saved)
        except services.ReferenceError as exc:
            target = getattr(form, exc.field or "", None)
            (target.errors if target is not None else form.form_errors).append(exc.message)
        else:
            return submission.finish(created)
    return render_template("reference/form.html", form=form, title=title, back=back, obj=obj,
                           hints=fields_hint or {})


def _choices(model, blank=True, where=None):
    query = sa.select(model).order_by(model.code)
    if where is not None:
        query = query.where(where)
    rows = [SelectChoice(o.id, f"{o.code} — {o.name}") for o in db.session.scalars(query)]
    return ([SelectChoice("", "—")] if blank else []) + rows


# --- offices -------------------------------------------------------------------------------------


@bp.route("/offices")
@permission_required("admin.reference")
def offices():
    rows = db.session.scalars(sa.select(Office).order_by(Office.kind, Office.code)).all()
    return render_template("reference/offices.html", offices=rows)


def _office_form(office=None):
    form = OfficeForm(obj=office)
    form.parent_id.choices = _choices(Office, where=Office.kind == "regional")
    form.region_id.choices = _choices(Region)
    form.district_id.choices = _choices(District)
    return form


@bp.route("/offices/new", methods=["GET", "POST"])
@permission_required("admin.reference")
def new_office():
    return _edit(_office_form(), services.save_office, None, _("New office"), "reference.offices")


@bp.route("/offices/<int:office_id>", methods=["GET", "POST"])
@permission_required("admin.reference")
def edit_office(office_id):
    office = db.session.get(Office, office_id) or abort(404)
    return _edit(_office_form(office), services.save_office, office, office.code, "reference.offices")


# --- regions and districts -----------------------------------------------------------------------


@bp.route("/districts")
@permission_required("admin.reference")
def districts():
    regions = db.session.scalars(sa.select(Region).order_by(Region.code)).all()
    counts = dict(db.session.execute(
        sa.select(Settlement.district_id, sa.func.count(Settlement.id)).group_by(Settlement.district_id)).all())
    return render_template("reference/districts.html", regions=regions, counts=counts)


@bp.route("/regions/new", methods=["GET", "POST"])
@permission_required("admin.reference")
def new_region():
    return _edit(RegionForm(), services.save_region, None, _("New region"), "reference.districts")


@bp.route("/regions/<int:region_id>", methods=["GET", "POST"])
@permission_required("admin.reference")
def edit_region(region_id):
    region = db.session.get(Region, region_id) or abort(404)
    return _edit(RegionForm(obj=region), services.save_region, region, region.name, "reference.districts")


def _district_form(district=None):
    form = DistrictForm(obj=district)
    form.region_id.choices = _choices(Region, blank=False)
    return form


@bp.route("/districts/new", methods=["GET", "POST"])
@permission_required("admin.reference")
def new_district():
    return _edit(_district_form(), services.save_district, None, _("New district"), "reference.districts")


@bp.route("/districts/<int:district_id>", methods=["GET", "POST"])
@permission_required("admin.reference")
def edit_district(district_id):
    district = db.session.get(District, district_id) or abort(404)
    return _edit(_district_form(district), services.save_district, district, district.name, "reference.districts")


# --- settlements ---------------------------------------------------------------------------------


@bp.route("/settlements")
@permission_required("admin.reference")
def settlements():
    district_id = parsing.lenient(parsing.parse_id, request.args.get("district"))
    search = (request.args.get("q") or "").strip()
    query = sa.select(Settlement).order_by(Settlement.district_id, Settlement.name_kk, Settlement.id)
    if district_id:
        query = query.where(Settlement.district_id == district_id)
    if search:
        # SQLite folds only ASCII case, so Cyrillic is matched in the usual spellings instead.
        variants = {search, search.lower(), search.capitalize(), search.upper()}
        conditions = [Settlement.kato.like(f"{search}%")]
        for variant in variants:
            conditions += [Settlement.name_kk.like(f"%{variant}%"), Settlement.name_ru.like(f"%{variant}%"),
                           Settlement.name_en.like(f"%{variant}%")]
        query = query.where(sa.or_(*conditions))
    page = paginate(query, request.args)
    districts = db.session.scalars(sa.select(District).order_by(District.code)).all()
    return render_template("reference/settlements.html", page=page, districts=districts, district_id=district_id,
                           search=search)


def _settlement_form(settlement=None):
    form = SettlementForm(obj=settlement)
    form.district_id.choices = _choices(District, blank=False)
    district_id = parsing.lenient(parsing.parse_id, request.args.get("district"))
    if settlement is None and request.method == "GET" and district_id:
        form.district_id.data = district_id
    return form


@bp.route("/settlements/new", methods=["GET", "POST"])
@permission_required("admin.reference")
def new_settlement():
    return _edit(_settlement_form(), services.save_settlement, None, _("New settlement"), "reference.settlements")


@bp.route("/settlements/<int:settlement_id>", methods=["GET", "POST"])
@permission_required("admin.reference")
def edit_settlement(settlement_id):
    settlement = db.session.get(Settlement, settlement_id) or abort(404)
    return _edit(_settlement_form(settlement), services.save_settlement, settlement, settlement.name,
                 "reference.settlements")


@bp.route("/settlements/export.csv")
@permission_required("admin.reference")
def export_settlements():
    """The settlements in the import's CSV format (UTF-8 with BOM, so spreadsheets read Kazakh letters)."""
    district_id = parsing.lenient(parsing.parse_id, request.args.get("district"))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in services.export_settlements(district_id):
        writer.writerow(csv_row(row))
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="settlements.csv"'})


@bp.route("/settlements/import", methods=["GET", "POST"])
@permission_required("admin.reference")
def import_settlements():
    form = ImportForm()
    errors = []
    if form.validate_on_submit():
        # Read as a stream within the import's bounds, not whole first.
        content = form.file.data.stream

        def imported():
            result = services.import_settlements(content, current_user)
            page = url_for("reference.settlements")
            return submission.Created(location=page, object_url=page, object_label=_("Settlements"), message=_(
                "Import finished: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.",
                created=result.created, updated=result.updated, unchanged=result.unchanged))
        try:
            created = submission.create_once(current_user, imported)
        except services.ImportErrors as exc:
            errors = exc.row_errors
        else:
            return submission.finish(created)
    return render_template("reference/import.html", form=form, errors=errors, columns=services.IMPORT_COLUMNS,
                           optional_columns=services.IMPORT_OPTIONAL_COLUMNS)


# --- categories ----------------------------------------------------------------------------------


@bp.route("/categories")
@permission_required("admin.reference")
def categories():
    rows = db.session.scalars(sa.select(Category).order_by(Category.sort_order, Category.code)).all()
    return render_template("reference/categories.html", categories=rows)


@bp.route("/categories/new", methods=["GET", "POST"])
@permission_required("admin.reference")
def new_category():
    return _edit(CategoryForm(), services.save_category, None, _("New category"), "reference.categories")


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@permission_required("admin.reference")
def edit_category(category_id):
    category = db.session.get(Category, category_id) or abort(404)
    return _edit(CategoryForm(obj=category), services.save_category, category, category.code, "reference.categories")
