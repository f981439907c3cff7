"""Directives, mandates (flag appeals, read, update, progress) and the statistics."""
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from appeals.api.endpoints import current, get_or_404, page_of, require
from appeals.api.problems import ApiError, domain_error_to_api
from appeals.api.registry import endpoint
from appeals.api.schemas import mandates as schemas
from appeals.api.views import bp
from appeals.auth.permissions import mandate_text, scope_directives, stats_office_ids
from appeals.core.extensions import db
from appeals.core.parsing import parse_period
from appeals.core.timeutil import local_today, utc_to_local
from appeals.mandates import directives, flagging, lifecycle, queries
from appeals.mandates.models import Directive, Mandate
from appeals.reference.models import District, Office
from appeals.reports import statistics as figures

DIRECTIVE_LISTS = ("appeal_types", "category_ids", "settlement_ids", "district_ids")


def directive_out(directive):
    data = {name: getattr(directive, name) for name in schemas.DirectiveOut.model_fields}
    for name in DIRECTIVE_LISTS:
        data[name] = list(data[name] or [])
    return data


def mandate_out(mandate):
    data = {name: getattr(mandate, name) for name in schemas.MandateOut.model_fields
            if name not in ("appeal_ids", "registered_on")}
    data["appeal_ids"] = [link.appeal_id for link in mandate.active_links]
    data["registered_on"] = utc_to_local(mandate.created_at).date()
    # Title and description start as the appeal's summary and letter: personal data hidden for masked roles.
    data["title"] = mandate_text(current(), mandate, mandate.title)
    data["description"] = mandate_text(current(), mandate, mandate.description)
    return data


def _mandate(mandate_id):
    mandate = get_or_404(Mandate, mandate_id)
    require("mandate.view", mandate)
    return mandate


# --- Directives -------------------------------------------------------------------------------


@endpoint(bp, "GET", "/directives", summary="List directives", tag="Directives", response=schemas.DirectiveList,
          permission="directive.view")
def list_directives():
    rows = db.session.scalars(scope_directives(sa.select(Directive), current())
                              .order_by(Directive.issued_on.desc(), Directive.id.desc()))
    return {"items": [directive_out(d) for d in rows]}


@endpoint(bp, "GET", "/directives/<int:directive_id>", summary="Read a directive", tag="Directives",
          response=schemas.DirectiveOut, permission="directive.view")
def get_directive(directive_id):
    return directive_out(_directive(directive_id))


def _directive(directive_id, action="directive.view"):
    """The directive, if the user may do `action` to it (a region's own directive is another region's 403)."""
    directive = get_or_404(Directive, directive_id)
    require("directive.view", directive)
    require(action, directive)
    return directive


@endpoint(bp, "POST", "/directives", summary="Register a directive", tag="Directives", body=schemas.DirectiveIn,
          response=schemas.DirectiveOut, status=201, permission="directive.manage", idempotent=True)
def create_directive(body):
    """Its criteria (types, categories, places, keywords, signatories, date window) select the appeals
    that may become mandates."""
    try:
        directive = directives.create_directive(body.model_dump(exclude_unset=True), current())
    except directives.DirectiveError as exc:
        raise domain_error_to_api(exc) from None
    return directive_out(directive)


@endpoint(bp, "PATCH", "/directives/<int:directive_id>", summary="Change a directive", tag="Directives",
          body=schemas.DirectiveUpdate, response=schemas.DirectiveOut, permission="directive.manage", errors=(409,))
def update_directive(directive_id, body):
    """Only the fields sent change; the numbering is fixed once a mandate exists (409)."""
    directive = _directive(directive_id, "directive.manage")
    try:
        directive = directives.update_directive(directive, body.model_dump(exclude_unset=True), current())
    except directives.DirectiveError as exc:
        raise domain_error_to_api(exc) from None
    return directive_out(directive)


@endpoint(bp, "POST", "/directives/<int:directive_id>/mandates", summary="Flag appeals as mandates", tag="Mandates",
          body=schemas.FlagIn, response=schemas.MandateList, status=201, permission="mandate.flag",
          idempotent=True, errors=(409,))
def flag_appeals(directive_id, body):
    """One mandate per appeal, or all in one (`as_one`), or added to an existing mandate (`merge_into`).
    All or nothing; appeals already flagged under the directive give 409."""
    directive = _directive(directive_id)
    try:
        mandates = flagging.flag_appeals(directive, body.appeal_ids, current(), override_reason=body.override_reason,
                                         merge_into=body.merge_into, as_one=body.as_one,
                                         registered_on=body.registered_on,
                                         responsible_user_id=body.responsible_user_id, target_date=body.target_date)
    except directives.MandateError as exc:
        raise domain_error_to_api(exc) from None
    ids = [mandate.id for mandate in mandates]
    db.session.expire_all()
    loaded = db.session.scalars(sa.select(Mandate).where(Mandate.id.in_(ids)).order_by(Mandate.seq)
                                .options(selectinload(Mandate.links), selectinload(Mandate.notes))).all()
    return {"items": [mandate_out(m) for m in loaded]}


# --- Mandates ---------------------------------------------------------------------------------


@endpoint(bp, "GET", "/mandates", summary="List mandates", tag="Mandates", query=schemas.MandateQuery,
          response=schemas.MandatePage, permission="mandate.view")
def list_mandates(query):
    filters = query.model_dump(exclude={"page", "size"})
    select = queries.build_mandate_query(filters, current()).options(
        selectinload(Mandate.links), selectinload(Mandate.notes))
    result = page_of(select, query)
    result["items"] = [mandate_out(m) for m in result["items"]]
    return result


@endpoint(bp, "GET", "/mandates/<int:mandate_id>", summary="Read a mandate", tag="Mandates",
          response=schemas.MandateOut, permission="mandate.view")
def get_mandate(mandate_id):
    return mandate_out(_mandate(mandate_id))


@endpoint(bp, "PATCH", "/mandates/<int:mandate_id>", summary="Update a mandate", tag="Mandates",
          body=schemas.MandateUpdate, response=schemas.MandateOut, permission="mandate.edit", errors=(409,))
def update_mandate(mandate_id, body):
    """Only the fields sent change. Status moves follow the mandate workflow; a withdrawn mandate is final (409)."""
    mandate = _mandate(mandate_id)
    try:
        mandate = lifecycle.update_mandate(mandate, body.model_dump(exclude_unset=True), current())
    except directives.MandateError as exc:
        raise domain_error_to_api(exc) from None
    return mandate_out(mandate)


@endpoint(bp, "POST", "/mandates/<int:mandate_id>/progress", summary="Report progress on a mandate",
          tag="Mandates", body=schemas.ProgressIn, response=schemas.MandateOut, status=201,
          permission="mandate.edit", idempotent=True, errors=(409,))
def add_progress(mandate_id, body):
    mandate = _mandate(mandate_id)
    try:
        lifecycle.add_progress_note(mandate, body.noted_on, body.note, body.progress_percent, current())
    except directives.MandateError as exc:
        if "percent" in exc.errors:
            exc.errors["progress_percent"] = exc.errors.pop("percent")
        raise domain_error_to_api(exc) from None
    db.session.expire_all()
    return mandate_out(db.session.get(Mandate, mandate_id))


# --- Statistics -------------------------------------------------------------------------------


@endpoint(bp, "GET", "/statistics", summary="Receptions, appeals and mandates in a period", tag="Statistics",
          query=schemas.StatisticsQuery, response=schemas.StatisticsOut, permission="stats.view")
def statistics(query):
    """Every figure of the period (appeals.reports.statistics), per office and per district of the appeal."""
    # The one period rule (core.parsing); the API's default is the month so far, or the month of `end`.
    today = local_today()
    start, end = parse_period(query.date_from or (query.date_to.replace(day=1) if query.date_to else None),
                              query.date_to, start_field="date_from", end_field="date_to", today=today,
                              default=lambda: (today.replace(day=1), today))
    missing = []
    if query.directive_id is not None and db.session.get(Directive, query.directive_id) is None:
        missing.append(("directive_id", _("Directive %(value)s does not exist.", value=query.directive_id)))
    if query.office_id is not None and db.session.get(Office, query.office_id) is None:
        missing.append(("office_id", _("Office %(value)s does not exist.", value=query.office_id)))
    if query.district_id is not None and db.session.get(District, query.district_id) is None:
        missing.append(("district_id", _("District %(value)s does not exist.", value=query.district_id)))
    if missing:
        raise ApiError(422, missing[0][1], errors=[{"field": field, "location": "query", "message": message}
                                                   for field, message in missing])
    # The user's level first (a region's coordinators and viewers count their region only), then the filter.
    scope = stats_office_ids(current())
    office_ids = scope
    if query.office_id:
        office_ids = [query.office_id] if scope is None or query.office_id in scope else []
    result = figures.briefing(start, end, office_ids=office_ids,
                              district_id=query.district_id, directive_id=query.directive_id)
    return {
        "start": start, "end": end, "totals": result["totals"],
        "directive_id": query.directive_id, "office_id": query.office_id, "district_id": query.district_id,
        "offices": [{**{k: v for k, v in row.items() if k != "office"}, "office_id": row["office"].id,
                     "office_code": row["office"].code, "office_name": row["office"].localized_name()}
                    for row in result["offices"]],
        "districts": [{**{k: v for k, v in row.items() if k != "district"},
                       "district_id": row["district"].id if row["district"] else None,
                       "district_code": row["district"].code if row["district"] else None,
                       "district_name": row["district"].localized_name() if row["district"]
                       else _("No settlement stated")}
                      for row in result["districts"]],
    }
