"""Printed documents (journal, mandate lists, schedules, cards, summary) and their background jobs.

The same builders and renderers as the /reports pages (appeals.reports.services and documents), under
the same permissions; a large journal or mandate list goes to the queue as the same kind of job the
page starts, and is answered 202 with the job resource to poll.
"""
from flask import current_app, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from appeals.api.endpoints import current, get_or_404, require
from appeals.api.problems import ApiError
from appeals.api.registry import endpoint, json_response
from appeals.api.schemas import documents as schemas
from appeals.api.views import bp
from appeals.auth.permissions import can
from appeals.core.extensions import db
from appeals.core.i18n import fmt_number
from appeals.core.jobs import Job, queue_position, result_bytes, start_job
from appeals.core.timeutil import local_today
from appeals.reference.models import Office
from appeals.register.models import Appeal
from appeals.reports import documents, services
from appeals.schedules.models import Host

PDF = "application/pdf"


def _lang(query):
    return services.pick_lang(query.lang or str(get_locale() or ""))


def _pdf(data, name):
    response = current_app.response_class(data, mimetype=PDF)
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def job_out(job):
    return {
        "id": job.id, "kind": job.kind, "status": job.status, "progress": job.progress, "total": job.total,
        "position": queue_position(job), "created_at": job.created_at, "finished_at": job.finished_at,
        "download": url_for("api.download_job", job_id=job.id) if job.status == "done" else None,
        "error": job.error if job.status == "failed" else None,
    }


def _accepted(kind, params):
    job = start_job(kind, current(), params)
    db.session.refresh(job)
    return json_response(schemas.JobOut, job_out(job), 202, {"Location": url_for("api.get_job", job_id=job.id)})


@endpoint(bp, "GET", "/documents/journal.pdf", summary="The appeals journal (PDF)", tag="Documents",
          query=schemas.JournalQuery, permission="report.journal", media_type=PDF, accepted=schemas.JobOut)
def journal_document(query):
    """The register's journal of the appeals you see, masked as your role sees them. At most
    JOURNAL_MAX_ROWS rows (422 beyond: narrow the filters)."""
    args = query.list_filter_args()
    filters = services.journal_filters(args)
    count = services.count_journal(filters, current())
    limit = current_app.config.get("JOURNAL_MAX_ROWS", 20000)
    if count > limit:
        message = _("The journal would have %(count)s rows; at most %(limit)s can be printed at once. Narrow the "
                    "filters (period, office, district).", count=fmt_number(count), limit=fmt_number(limit))
        raise ApiError(422, message, errors=[{"field": "", "location": "query", "message": message}])
    lang = _lang(query)
    if query.background or count > current_app.config.get("REPORT_BACKGROUND_ROWS", 3000):
        return _accepted("journal_pdf", {"args": args, "lang": lang, "rows": count})
    doc = services.build_journal(filters, current(), lang)
    return _pdf(documents.render_journal(doc), f"journal-{local_today():%Y%m%d}.pdf")


@endpoint(bp, "GET", "/documents/mandates.pdf", summary="A mandate list (PDF), public or internal", tag="Documents",
          query=schemas.MandatesDocumentQuery, permission="mandate.view", media_type=PDF, accepted=schemas.JobOut)
def mandates_document(query):
    """The public list prints each mandate's reviewed public text only; the internal one (coordinators)
    its title, appeals and applicants."""
    if query.version == "internal":
        require("mandate.view_internal")
    args = {key: str(value) for key, value in query.model_dump(
        exclude_none=True, exclude={"lang", "background"}).items()}
    from appeals.mandates.queries import parse_mandate_filters

    filters = parse_mandate_filters(args)
    lang = _lang(query)
    if query.background or services.count_mandates(filters, current()) > current_app.config.get(
            "REPORT_BACKGROUND_MANDATES", 200):
        return _accepted("mandates_pdf", {"args": args, "lang": lang})
    doc = services.build_mandates(filters, current(), lang, version=query.version, group=query.group)
    return _pdf(documents.render_simple("reports/pdf/mandates.html", doc),
                f"mandates-{query.version}-{local_today():%Y%m%d}.pdf")


@endpoint(bp, "GET", "/documents/schedule.pdf", summary="The reception schedule of a week or month (PDF)",
          tag="Documents", query=schemas.ScheduleDocumentQuery, permission="schedule.view", media_type=PDF,
          errors=(404,))
def schedule_document(query):
    """The sessions you may see: an office's, a host's, or (a host's token) your own."""
    start, end = services.period_for(query.period, query.date or local_today())
    office = get_or_404(Office, query.office_id) if query.office_id else None
    host = get_or_404(Host, query.host_id) if query.host_id else None
    if host is None and office is None and can(current(), "schedule.own"):
        from appeals.schedules.queries import host_for_user

        host = host_for_user(current())
    doc = services.build_schedule(current(), _lang(query), start, end, office=office, host=host)
    return _pdf(documents.render_simple("reports/pdf/schedule.html", doc), f"schedule-{start:%Y%m%d}.pdf")


@endpoint(bp, "GET", "/appeals/<int:appeal_id>/card.pdf", summary="An appeal's registration card (PDF)",
          tag="Documents", query=schemas.DocumentQuery, permission="appeal.view", media_type=PDF, errors=(403,))
def card_document(appeal_id, query):
    appeal = get_or_404(Appeal, appeal_id)
    require("appeal.view", appeal)
    doc = services.build_card(appeal, current(), _lang(query))
    return _pdf(documents.render_simple("reports/pdf/card.html", doc), f"card-{appeal.number}.pdf")


@endpoint(bp, "GET", "/documents/summary.pdf", summary="The summary of a period (PDF)", tag="Documents",
          query=schemas.SummaryDocumentQuery, permission="stats.view", media_type=PDF)
def summary_document(query):
    """The statistics of the period with its charts (appeals.reports.statistics' figures)."""
    start, end = services.parse_period({"date_from": query.date_from, "date_to": query.date_to})
    doc = services.build_summary(current(), _lang(query), start, end)
    return _pdf(documents.render_simple("reports/pdf/summary.html", doc), f"summary-{start:%Y%m%d}-{end:%Y%m%d}.pdf")


# --- Jobs -----------------------------------------------------------------------------------------


def _own_job(job_id):
    job = get_or_404(Job, job_id)
    if not can(current(), "job.view", job):
        raise ApiError(404)  # another user's document: not even its existence is confirmed
    return job


@endpoint(bp, "GET", "/jobs/<int:job_id>", summary="A background job: status, progress, download link",
          tag="Documents", response=schemas.JobOut, permission="job.view")
def get_job(job_id):
    """Poll until `status` is done (then fetch `download`) or failed (`error` says why). Your own jobs only."""
    return job_out(_own_job(job_id))


@endpoint(bp, "GET", "/jobs/<int:job_id>/download", summary="A finished job's document", tag="Documents",
          permission="job.view", media_type=PDF, errors=(409,))
def download_job(job_id):
    """409 while the job is not done; 404 once its file has expired (JOB_RESULT_HOURS)."""
    job = _own_job(job_id)
    if job.status != "done":
        raise ApiError(409, _("The document is not ready yet."))
    data = result_bytes(job)
    if data is None:
        raise ApiError(404)
    return _pdf(data, job.result_name or "document.pdf")
