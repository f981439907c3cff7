"""Printed documents and the statistics dashboard (thin: parse, check permission, call, render)."""
import io
from pathlib import Path
from urllib.parse import quote_plus

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from appeals.auth.models import User
from appeals.auth.permissions import can, permission_required, require, stats_office_ids
from appeals.core import parsing
from appeals.core.extensions import db
from appeals.core.i18n import fmt_number
from appeals.core.jobs import Job, JobResult, job_kind, queue_position, result_bytes, start_job
from appeals.core.timeutil import local_today
from appeals.core.web import safe_redirect_target, with_search_term
from appeals.reference.models import Office, Region
from appeals.register.models import Appeal
from appeals.reports import documents, services, statistics
from appeals.schedules.models import Host

bp = Blueprint("reports", __name__)


def _lang():
    return services.pick_lang(request.args.get("lang") or str(getattr(current_user, "locale", "") or ""))


def _pdf_response(data, name):
    response = send_file(io.BytesIO(data), mimetype="application/pdf", download_name=name, as_attachment=False)
    response.headers["Cache-Control"] = "no-store"
    return response


def _bad_request(exc):
    flash(exc.message, "error")
    default = url_for("reports.dashboard") if can(current_user, "stats.view") else url_for("home.index")
    return redirect(safe_redirect_target(request.referrer, default))


def reports_folder():
    folder = Path(current_app.instance_path) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _cache_dir():
    return reports_folder() / "cache"


# --- 1. Journal -------------------------------------------------------------------------------


@bp.route("/reports/journal.pdf")
@permission_required("report.journal")
def journal_pdf():
    try:
        filters = services.journal_filters(with_search_term(request.args, current_user.id))
    except parsing.ParseError as exc:
        return _bad_request(exc)
    lang = _lang()
    count = services.count_journal(filters, current_user)
    limit = current_app.config.get("JOURNAL_MAX_ROWS", 20000)
    if count > limit:
        return _bad_request(services.ReportError(
            _("The journal would have %(count)s rows; at most %(limit)s can be printed at once. Narrow the filters "
              "(period, office, district).", count=fmt_number(count), limit=fmt_number(limit)), "rows"))
    if count > current_app.config.get("REPORT_BACKGROUND_ROWS", 3000):
        job = _start_job("journal_pdf", {"args": request.args.to_dict(), "lang": lang, "rows": count})
        return redirect(url_for("reports.job_status", job_id=job.id))
    doc = services.build_journal(filters, current_user, lang)
    data = documents.render_journal(doc, cache_dir=_cache_dir())
    return _pdf_response(data, f"journal-{local_today():%Y%m%d}.pdf")


def _render_job(kind, params, user, progress):
    """The document a background job produces, from the request's arguments saved on the Job."""
    if kind == "journal_pdf":
        # The job's params keep the search sealed, as the URL had it: opened for the job's own user.
        doc = services.build_journal(services.journal_filters(with_search_term(params.get("args", {}), user.id)),
                                     user, params.get("lang"))
        db.session.rollback()
        return documents.render_journal(doc, progress=progress, cache_dir=_cache_dir()), "journal"
    if kind == "mandates_pdf":
        args = params.get("args", {})
        doc = services.build_mandates(_mandate_filters(args), user, params.get("lang"),
                                      version=args.get("version", "public"), group=args.get("group", "settlement"))
        db.session.rollback()
        progress(0, 1)
        return documents.render_simple("reports/pdf/mandates.html", doc), "mandates"
    raise ValueError(f"unknown report job {kind!r}")


@job_kind("journal_pdf", redo_safe=True)
@job_kind("mandates_pdf", redo_safe=True)
def _render_work(job):
    """A report job's work: build and render the document, reporting progress on the Job row.

    Safe to redo: it only reads, and its file is stored once it is whole."""
    user = db.session.get(User, job.user_id)
    with current_app.test_request_context():
        data, stem = _render_job(job.kind, job.params, user, job.progress)
    return JobResult(data=data, name=f"{stem}-{local_today():%Y%m%d}.pdf")


def _start_job(kind, params):
    return start_job(kind, current_user, params)


def _own_job(job_id):
    job = db.session.get(Job, job_id) or abort(404)
    if not can(current_user, "job.view", job):
        abort(404)  # another user's document: do not even confirm it exists
    return job


@bp.route("/reports/jobs/<int:job_id>")
@login_required
def job_status(job_id):
    job = _own_job(job_id)
    if request.args.get("format") == "json":
        return jsonify({
            "status": job.status, "progress": job.progress, "total": job.total, "position": queue_position(job),
            "download": url_for("reports.job_download", job_id=job.id) if job.status == "done" else None,
            "error": job.error if job.status == "failed" else None,
        })
    return render_template("reports/job.html", job=job, position=queue_position(job))


@bp.route("/reports/jobs/<int:job_id>/download")
@login_required
def job_download(job_id):
    job = _own_job(job_id)
    data = result_bytes(job)
    if data is None:
        abort(404)
    response = send_file(io.BytesIO(data), mimetype="application/pdf", download_name=job.result_name or "report.pdf")
    response.headers["Cache-Control"] = "no-store"
    return response


# --- 2. Mandates --------------------------------------------------------------------------------


def _mandate_filters(args):
    from appeals.mandates.queries import parse_mandate_filters

    return parse_mandate_filters(args)


@bp.route("/reports/mandates.pdf")
@permission_required("mandate.view")
def mandates_pdf():
    version = request.args.get("version") if request.args.get("version") in ("public", "internal") else "public"
    if version == "internal":
        require("mandate.view_internal")
    group = request.args.get("group") if request.args.get("group") in ("settlement", "category") else "settlement"
    try:
        filters = _mandate_filters(request.args)
    except parsing.ParseError as exc:
        return _bad_request(exc)
    lang = _lang()
    if services.count_mandates(filters, current_user) > current_app.config.get("REPORT_BACKGROUND_MANDATES", 200):
        args = {**request.args.to_dict(), "version": version, "group": group}
        job = _start_job("mandates_pdf", {"args": args, "lang": lang})
        return redirect(url_for("reports.job_status", job_id=job.id))
    doc = services.build_mandates(filters, current_user, lang, version=version, group=group)
    data = documents.render_simple("reports/pdf/mandates.html", doc)
    return _pdf_response(data, f"mandates-{version}-{local_today():%Y%m%d}.pdf")


# --- 3. Schedule --------------------------------------------------------------------------------


@bp.route("/reports/schedule.pdf")
@permission_required("schedule.view")
def schedule_pdf():
    kind = request.args.get("period") if request.args.get("period") in ("week", "month") else "week"
    try:
        anchor = parsing.parse_date(request.args.get("date"), "date") or local_today()
        office_id = parsing.parse_id(request.args.get("office"), "office")
        host_id = parsing.parse_id(request.args.get("host"), "host")
    except parsing.ParseError as exc:
        return _bad_request(exc)
    start, end = services.period_for(kind, anchor)
    office = db.session.get(Office, office_id) if office_id else None
    host = db.session.get(Host, host_id) if host_id else None
    if office_id and office is None or host_id and host is None:
        abort(404)
    if host is None and office is None and can(current_user, "schedule.own"):
        from appeals.schedules.queries import host_for_user

        host = host_for_user(current_user)
    doc = services.build_schedule(current_user, _lang(), start, end, office=office, host=host)
    data = documents.render_simple("reports/pdf/schedule.html", doc)
    return _pdf_response(data, f"schedule-{start:%Y%m%d}.pdf")


# --- 4. Registration card ----------------------------------------------------------------------


@bp.route("/reports/appeals/<int:appeal_id>/card.pdf")
@permission_required("appeal.view")
def card_pdf(appeal_id):
    appeal = db.session.get(Appeal, appeal_id) or abort(404)
    require("appeal.view", appeal)
    doc = services.build_card(appeal, current_user, _lang())
    data = documents.render_simple("reports/pdf/card.html", doc)
    return _pdf_response(data, f"card-{appeal.number}.pdf")


# --- 5. Summary and dashboard ------------------------------------------------------------------


@bp.route("/reports/summary.pdf")
@permission_required("stats.view")
def summary_pdf():
    try:
        start, end = services.parse_period(request.args)
    except parsing.ParseError as exc:
        return _bad_request(exc)
    doc = services.build_summary(current_user, _lang(), start, end)
    data = documents.render_simple("reports/pdf/summary.html", doc)
    return _pdf_response(data, f"summary-{start:%Y%m%d}-{end:%Y%m%d}.pdf")


_LINK_ENDPOINTS = {"appeals": "register.list_appeals", "mandates": "mandates.list_mandates",
                   "sessions": "schedules.calendar"}


def _dashboard_link(kind, **args):
    """The list behind a figure or bar. A country's dashboard links some 450 bars: each list's address is
    built once per request and the filters added as its query string (what url_for would add)."""
    bases = g.setdefault("dashboard_link_bases", {})
    if kind not in bases:
        endpoint = _LINK_ENDPOINTS[kind]
        bases[kind] = url_for(endpoint) if endpoint in current_app.view_functions else ""
    if not bases[kind]:
        return ""
    query = "&".join(f"{quote_plus(k)}={quote_plus(str(v))}" for k, v in args.items() if v not in (None, ""))
    return f"{bases[kind]}?{query}" if query else bases[kind]


@bp.route("/reports")
@permission_required("stats.view")
def dashboard():
    error = None
    try:
        start, end = services.parse_period(request.args)
    except parsing.ParseError as exc:
        error = exc
        start, end = services.parse_period({})
    # A region's coordinators and viewers see their region only; the central office chooses one or all.
    scope = stats_office_ids(current_user)
    regions = db.session.scalars(sa.select(Region).order_by(Region.code)).all() if scope is None else []
    region = None
    if len(regions) > 1:
        # One region's offices, or the whole country (no region chosen). An unknown id is an error on the field.
        try:
            region_id = parsing.parse_id(request.args.get("region"), "region")
        except parsing.ParseError as exc:
            error, region_id = error or exc, None
        region = next((r for r in regions if r.id == region_id), None)
        if region_id is not None and region is None:
            error = error or parsing.ParseError(_("Choose the region from the list."), "region")
    office_ids = statistics.region_office_ids(region.id) if region else scope
    stats = statistics.dashboard(start, end, link=_dashboard_link, office_ids=office_ids)
    return render_template("reports/dashboard.html", stats=stats, start=start, end=end, error=error,
                           regions=regions if len(regions) > 1 else [], region=region,
                           charts=_charts(stats), figure_labels=statistics.FIGURE_LABELS,
                           figure_hints=statistics.FIGURE_HINTS, figure_names=statistics.FIGURES)


@bp.route("/mandates/statistics")
@permission_required("stats.view")
def mandate_statistics():
    """The briefing's table: the same figures as the dashboard, per office and per district."""
    from appeals.core.timeutil import last_full_days

    error = None
    try:
        start, end = parsing.parse_period(request.args.get("start"), request.args.get("end"),
                                          start_field="start", end_field="end", default=lambda: last_full_days(30))
    except parsing.ParseError as exc:
        error = exc.message
        start, end = last_full_days(30)
    stats = statistics.briefing(start, end, stats_office_ids(current_user))
    return render_template("mandates/statistics.html", stats=stats, start=start, end=end, error=error,
                           links=statistics.figure_links(start, end, _dashboard_link),
                           figure_labels=statistics.FIGURE_LABELS, figure_hints=statistics.FIGURE_HINTS)


def _charts(stats):
    from appeals.reports.charts import bar_chart, column_chart

    return {
        "weeks": column_chart(stats["weeks"], _("Appeals by week")),
        "categories": bar_chart(stats["categories"], _("Appeals by category")),
        "channels": bar_chart(stats["channels"], _("Appeals by channel")),
        "districts": bar_chart(stats["districts"], _("Appeals by district")),
        "offices": bar_chart(stats["offices"], _("Appeals by office")),
        "mandates": bar_chart(stats["mandate_statuses"], _("Mandates registered in the period, by status")),
    }


from appeals.reports import chain_views  # noqa: E402,F401  (the reports up the chain add their pages to bp)
