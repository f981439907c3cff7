"""Appeals: the register list (same filters as the page), read, register, correct, move along the workflow."""
from flask_babel import gettext as _

from appeals.api.endpoints import all_or_nothing, current, get_or_404, page_of, require
from appeals.api.problems import ApiError, domain_error_to_api
from appeals.api.registry import endpoint
from appeals.api.schemas import register as schemas
from appeals.api.views import bp
from appeals.auth.permissions import can, personal_view
from appeals.core.extensions import db
from appeals.core.pagination import rows_to_read
from appeals.core.privacy import looks_personal
from appeals.reference.models import Office
from appeals.register import personal_data, queries, repeats, validation, workflow
from appeals.register.models import Appeal

PLAIN_FIELDS = [name for name in schemas.AppealOut.model_fields
                if name not in ("applicant_name", "iin", "phone", "address", "personal_data_masked", "allowed_transitions")]


def appeal_out(appeal, user, reveal=False):
    """The appeal as `user` may see it: personal data masked unless their role and office allow it."""
    person = personal_data.reveal_personal_data(appeal, user) if reveal else personal_view(appeal, user, offer_reveal=False)
    return {
        **{name: getattr(appeal, name) for name in PLAIN_FIELDS},
        # Free text as the user may read it: IIN-, phone- and e-mail-like text hidden for masked roles.
        "summary": person.text(appeal.summary), "text": person.text(appeal.text),
        "answer_text": person.text(appeal.answer_text), "withdrawn_reason": person.text(appeal.withdrawn_reason),
        "applicant_name": person.name, "iin": person.iin or "", "phone": person.phone or "",
        "address": person.address or "", "personal_data_masked": person.masked,
        "allowed_transitions": list(workflow.allowed_transitions(appeal)),
    }


def _visible_appeal(appeal_id):
    appeal = get_or_404(Appeal, appeal_id)
    require("appeal.view", appeal)
    return appeal


def _service_data(body, **extra):
    data = body.model_dump(exclude_unset=True, exclude={"repeat_of_id"})
    if "received_at" in data:
        data["received_at"] = schemas.to_local_naive(data["received_at"])
    data.update(extra)
    return data


@endpoint(bp, "GET", "/appeals", summary="List appeals (the register)", tag="Appeals", query=schemas.AppealQuery,
          response=schemas.AppealPage, permission="appeal.view")
def list_appeals(query):
    """The register's filters and sort orders; each role sees what it sees on the register page.
    Search for an IIN, a phone or an e-mail address with POST /appeals/search: URLs end up in logs."""
    if looks_personal(query.q):
        message = _("An IIN, a phone number or an e-mail address is not sent in a URL: "
                    "search with POST /api/v1/appeals/search and the filters in the body.")
        raise ApiError(422, message, errors=[{"field": "q", "location": "query", "message": message}])
    return _appeal_page(query.list_filter_args(), query)


@endpoint(bp, "POST", "/appeals/search", summary="Search appeals (filters in the body)", tag="Appeals",
          body=schemas.AppealSearch, response=schemas.AppealPage, permission="appeal.view")
def search_appeals(body):
    """The same filters, sorts and pages as GET /appeals, sent as JSON so that the search term stays out of URLs."""
    return _appeal_page(body.list_filter_args(), body)


def _appeal_page(args, query):
    filters = queries.parse_list_filters(args)
    # The page may walk the newest appeals for common search words; the total counts through the index.
    rows = rows_to_read({"page": query.page, "size": query.size}, max_size=200)
    page = queries.build_list_query(filters, current(), first_rows=rows)
    result = page_of(queries.with_list_relations(page), query, count_select=queries.build_list_query(filters, current()))
    result["items"] = [appeal_out(appeal, current()) for appeal in result["items"]]
    return result


@endpoint(bp, "GET", "/appeals/<int:appeal_id>", summary="Read an appeal", tag="Appeals",
          query=schemas.AppealReadQuery, response=schemas.AppealOut, permission="appeal.view", errors=(403,))
def get_appeal(appeal_id, query):
    return appeal_out(_visible_appeal(appeal_id), current(), reveal=query.reveal)


def repeat_check_out(appeal, data, user):
    """The register form's repeat check for a just registered `appeal` (itself excluded), as `user` may see it."""
    check = repeats.find_possible_repeats({**data, "exclude_id": appeal.id}, user)
    same_person = repeats.same_person_test(data)
    return {
        "appeals": [{"id": other.id, "number": other.number, "office_id": other.office_id,
                     "received_at": other.received_at, "status": other.status,
                     "summary": personal_view(other, user).text(other.summary),
                     "same_person": same_person(other)} for other in check.appeals],
        "elsewhere": check.elsewhere, "limited": check.limited,
    }


@endpoint(bp, "POST", "/appeals", summary="Register an appeal", tag="Appeals", body=schemas.AppealIn,
          response=schemas.AppealCreated, status=201, permission="appeal.create", idempotent=True)
def create_appeal(body):
    """Takes the office's next gapless number. Send an Idempotency-Key so that a retry after a lost
    connection returns the same appeal instead of registering it twice. `possible_repeats` lists
    earlier appeals that may be the same one, as the registration form shows them."""
    office = db.session.get(Office, body.office_id)
    if office is not None and not can(current(), "appeal.create", office):
        raise ApiError(403, _("You cannot register appeals for this office."))
    data = _service_data(body)
    try:
        appeal = workflow.register_appeal(data, current(), link_repeat_of=body.repeat_of_id)
    except validation.AppealValidationError as exc:
        # The service names the office field "office"; the API's field is office_id.
        if "office" in exc.errors:
            exc.errors["office_id"] = exc.errors.pop("office")
        raise
    return {**appeal_out(appeal, current()), "possible_repeats": repeat_check_out(appeal, data, current())}


def _register_one(body):
    office = db.session.get(Office, body.office_id)
    if office is not None and not can(current(), "appeal.create", office):
        raise validation.AppealValidationError({"office_id": _("You cannot register appeals for this office.")})
    try:
        return workflow.register_appeal(_service_data(body), current(), link_repeat_of=body.repeat_of_id)
    except validation.AppealValidationError as exc:
        if "office" in exc.errors:
            exc.errors["office_id"] = exc.errors.pop("office")
        raise


@endpoint(bp, "POST", "/appeals/bulk", summary="Register up to 500 appeals at once", tag="Appeals",
          body=schemas.AppealBulkIn, response=schemas.AppealList, status=201, permission="appeal.create",
          idempotent=True, errors=(409,), bulk=True)
def create_appeals(body):
    """All or nothing, each row checked as POST /appeals checks one; every failing row is listed
    (`errors`, fields items.<index>.<field>) and then none is registered and no number is taken.
    Send an Idempotency-Key: a retry returns the first answer."""
    return {"items": [appeal_out(appeal, current()) for appeal in all_or_nothing(body.items, _register_one)]}


@endpoint(bp, "PATCH", "/appeals/<int:appeal_id>", summary="Correct an appeal", tag="Appeals",
          body=schemas.AppealUpdate, response=schemas.AppealOut, permission="appeal.edit", errors=(409,))
def update_appeal(appeal_id, body):
    """Only the fields sent change; a closed or withdrawn appeal cannot be edited (409)."""
    appeal = _visible_appeal(appeal_id)
    require("appeal.edit", appeal)
    try:
        appeal = workflow.update_appeal(appeal, _service_data(body), current(), link_repeat_of=body.repeat_of_id)
    except validation.AppealError as exc:
        raise domain_error_to_api(exc) from None
    return appeal_out(appeal, current())


@endpoint(bp, "POST", "/appeals/<int:appeal_id>/transitions", summary="Change an appeal's status", tag="Appeals",
          body=schemas.TransitionIn, response=schemas.AppealOut, permission="appeal.transition", errors=(409,))
def transition_appeal(appeal_id, body):
    """Moves allowed from each status are listed in `allowed_transitions`; any other move gives 409."""
    appeal = _visible_appeal(appeal_id)
    require("appeal.transition", appeal)
    details = body.model_dump(exclude_unset=True, exclude={"status"})
    try:
        appeal = workflow.transition(appeal, body.status, current(), **details)
    except validation.AppealError as exc:
        raise domain_error_to_api(exc) from None
    return appeal_out(appeal, current())


@endpoint(bp, "POST", "/appeals/<int:appeal_id>/extensions", summary="Extend an appeal's deadline", tag="Appeals",
          body=schemas.ExtensionIn, response=schemas.AppealOut, permission="appeal.extend", errors=(409,))
def extend_appeal(appeal_id, body):
    """A reasoned decision; two months in total at most."""
    appeal = _visible_appeal(appeal_id)
    require("appeal.extend", appeal)
    try:
        workflow.extend_deadline(appeal, body.new_due_date, body.reason, current())
    except validation.AppealError as exc:
        if isinstance(exc, validation.AppealValidationError) and "new_due" in exc.errors:
            exc.errors["new_due_date"] = exc.errors.pop("new_due")
        raise domain_error_to_api(exc) from None
    return appeal_out(db.session.get(Appeal, appeal_id), current())
