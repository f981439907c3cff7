"""Pages of the mandate reports up the chain (appeals/reports/chain.py): the period's reports of the
offices the user sees, one report with its review, and the region's report as PDF and XLSX."""
import datetime as dt
import io

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from appeals.auth.permissions import can, permission_required, require, visible_office_ids
from appeals.core import labels, parsing, submission
from appeals.core.extensions import db
from appeals.core.i18n import fmt_date
from appeals.core.spreadsheets import xlsx_row
from appeals.core.timeutil import local_today
from appeals.reference.models import Office, Region
from appeals.reports import chain, documents, services
from appeals.reports.statistics import REPORT_FIGURES
from appeals.reports.views import _lang, _pdf_response, bp


def figure_labels():
    """Column names of a report, in REPORT_FIGURES' order (translated when asked)."""
    names = {"registered_in_period": _("Registered in the period"), "total": _("Mandates in total"),
             "overdue": _("Overdue")}
    return [(name, names.get(name) or str(labels.MANDATE_STATUS_LABELS.get(name, name))) for name in REPORT_FIGURES]


def change_label(change):
    kinds = {"new": _("new mandate"), "status": _("status"), "progress": _("progress, %")}
    return kinds.get(change.get("change"), change.get("change"))


def _status_label(value):
    if value is None or value == "":
        return "—"
    return str(labels.MANDATE_STATUS_LABELS.get(value, value))


def state_label(state):
    return {"submitted": _("Submitted, awaiting approval"), "returned": _("Sent back"),
            "approved": _("Approved (locked)")}.get(state, _("Not submitted"))


def _last_month():
    first_of_this = local_today().replace(day=1)
    end = first_of_this - dt.timedelta(days=1)
    return end.replace(day=1), end


def _period(args):
    """date_from/date_to, the previous month when absent; a bad value is flashed and the default used."""
    default = _last_month()
    try:
        start = parsing.parse_date(args.get("date_from"), "date_from") or default[0]
        end = parsing.parse_date(args.get("date_to"), "date_to") or default[1]
    except parsing.ParseError as exc:
        flash(exc.message, "error")
        return default
    if end < start:
        flash(_("The end of the period is before its start."), "error")
        return default
    return start, end


def _offices_for(user):
    offices = visible_office_ids(user)
    query = sa.select(Office).order_by(Office.region_id, Office.kind, Office.code)
    if offices is not None:
        query = query.where(Office.id.in_(sorted(offices) or [-1]))
    return db.session.scalars(query).all()


def _regions_for(user):
    return [r for r in db.session.scalars(sa.select(Region).order_by(Region.code)) if can(user, "report.region", r)]


@bp.route("/reports/chain")
@permission_required("report.chain")
def chain_reports():
    start, end = _period(request.args)
    reports = chain.reports_of_period(start, end, current_user)
    rows = [(office, reports.get(office.id)) for office in _offices_for(current_user)]
    return render_template("reports/chain.html", rows=rows, start=start, end=end, regions=_regions_for(current_user),
                           state_label=state_label, figure_labels=figure_labels(), period_over=end < local_today())


@bp.route("/reports/chain/submit", methods=["POST"])
@permission_required("report.submit")
def chain_submit():
    office = db.session.get(Office, parsing.lenient(parsing.parse_id, request.form.get("office_id")) or 0)
    if office is None:
        abort(404)
    require("report.chain", office)
    try:
        start = parsing.parse_date(request.form.get("date_from"), "date_from", required=True)
        end = parsing.parse_date(request.form.get("date_to"), "date_to", required=True)
    except parsing.ParseError as exc:
        flash(exc.message, "error")
        return redirect(url_for("reports.chain_reports"))
    back = url_for("reports.chain_reports", date_from=start.isoformat(), date_to=end.isoformat())

    def submitted():
        report = chain.submit_report(office, start, end, current_user)
        page = url_for("reports.chain_report", report_id=report.id)
        return submission.Created(location=page, object_url=page, object_label=office.code,
                                  message=_("The report of %(office)s is submitted for approval.", office=office.code))

    try:
        created = submission.create_once(current_user, submitted)
    except chain.ReportChainError as exc:
        flash(exc.message, "error")
        return redirect(back)
    return submission.finish(created)


def _get_report(report_id):
    report = db.session.get(chain.MandateReport, report_id) or abort(404)
    require("report.chain", report)
    return report


@bp.route("/reports/chain/<int:report_id>")
@permission_required("report.chain")
def chain_report(report_id):
    report = _get_report(report_id)
    return render_template("reports/chain_report.html", report=report, figure_labels=figure_labels(),
                           state_label=state_label, change_label=change_label, status_label=_status_label,
                           may_review=can(current_user, "report.review", report) and report.status == "submitted",
                           may_resubmit=report.status == "returned" and can(current_user, "report.submit", report.office))


@bp.route("/reports/chain/<int:report_id>/review", methods=["POST"])
@permission_required("report.review")
def chain_review(report_id):
    report = _get_report(report_id)
    try:
        if request.form.get("decision") == "approve":
            chain.approve_report(report, current_user)
            flash(_("The report is approved and locked."), "success")
        else:
            chain.return_report(report, current_user, request.form.get("comment"))
            flash(_("The report is sent back to its office."), "success")
    except chain.ReportChainError as exc:
        flash(exc.message, "error")
        if exc.kind == "forbidden":
            abort(403)
    return redirect(url_for("reports.chain_report", report_id=report.id))


def _region_arg(region_id):
    region = db.session.get(Region, region_id) or abort(404)
    require("report.region", region)
    return region


def region_document(region, start, end, user, lang):
    """The region's report as a printed document (fixed layout: one row per office, then the totals)."""
    with force_locale(lang):
        data = chain.region_report(region, start, end)
        doc = services._base_doc(
            lang, _("Mandate report of the region"), user,
            subtitle=f"{region.localized_name(lang)} · {fmt_date(start, 'short')} — {fmt_date(end, 'short')}",
            signatures=[_("Regional coordinator")])
        regional = next((row["office"] for row in data["rows"] if row["office"].kind == "regional"), None)
        if regional is not None:
            doc.org = regional.localized_name(lang)
        doc.filters = [(_("Offices with an approved report"), f"{data['approved']} / {data['offices']}")]
        doc.columns = figure_labels()
        doc.report_rows = [(row["office"].code, row["office"].localized_name(lang), state_label(
            row["report"].status if row["report"] else None), row["figures"]) for row in data["rows"]]
        doc.report_totals = data["totals"]
    return doc


@bp.route("/reports/chain/regions/<int:region_id>/report.pdf")
@permission_required("report.region")
def chain_region_pdf(region_id):
    region = _region_arg(region_id)
    start, end = _period(request.args)
    doc = region_document(region, start, end, current_user, _lang())
    data = documents.render_simple("reports/pdf/chain_region.html", doc)
    return _pdf_response(data, f"mandate-report-{region.code}-{start:%Y%m%d}-{end:%Y%m%d}.pdf")


@bp.route("/reports/chain/regions/<int:region_id>/report.xlsx")
@permission_required("report.region")
def chain_region_xlsx(region_id):
    from openpyxl import Workbook

    region = _region_arg(region_id)
    start, end = _period(request.args)
    lang = _lang()
    doc = region_document(region, start, end, current_user, lang)
    workbook = Workbook(write_only=True)
    with force_locale(lang):
        sheet = workbook.create_sheet(_("Mandate report"))
        sheet.append(xlsx_row(sheet, [doc.title, doc.subtitle]))
        sheet.append(xlsx_row(sheet, [label for label, _v in doc.filters] + [value for _l, value in doc.filters]))
        sheet.append(xlsx_row(sheet, [_("Code"), _("Office"), _("Report"), *[label for _n, label in doc.columns]]))
        for code, name, state, figures in doc.report_rows:
            counts = [figures.get(n, 0) if figures else None for n, _label in doc.columns]
            sheet.append([*xlsx_row(sheet, [code, name, state]), *counts])
        sheet.append([*xlsx_row(sheet, ["", _("Total"), ""]), *[doc.report_totals[n] for n, _l in doc.columns]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = send_file(io.BytesIO(buffer.getvalue()), as_attachment=True,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                         download_name=f"mandate-report-{region.code}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx")
    response.headers["Cache-Control"] = "no-store"
    return response
