"""Reception sessions: list, read, create, update, approve, mark held, cancel."""
from flask_babel import gettext as _

from appeals.api.endpoints import all_or_nothing, current, get_or_404, page_of, require
from appeals.api.problems import ApiError
from appeals.api.registry import endpoint
from appeals.api.schemas import schedules as schemas
from appeals.api.views import bp
from appeals.schedules import queries as schedule_queries
from appeals.schedules import sessions as schedule_sessions
from appeals.schedules.models import ReceptionSession

SESSION_FIELDS = ("office_id", "date", "start_time", "end_time", "room", "capacity", "topic")


def _out(session):
    return {**{name: getattr(session, name) for name in schemas.SessionOut.model_fields if name != "host_ids"},
            "host_ids": sorted(host.id for host in session.hosts)}


def _visible_session(session_id):
    session = get_or_404(ReceptionSession, session_id)
    if not schedule_queries.session_visible(session, current()):
        raise ApiError(404)
    return session


@endpoint(bp, "GET", "/sessions", summary="List reception sessions", tag="Schedules", query=schemas.SessionQuery,
          response=schemas.SessionPage, permission="schedule.view")
def list_sessions(query):
    """Ordered by date and time. Drafts are visible only to coordinators, admins, their office's clerks
    and their own hosts; viewers and other offices' clerks never see them."""
    filters = schedule_queries.SessionFilters(office_id=query.office_id, host_id=query.host_id, date_from=query.date_from,
                                      date_to=query.date_to, statuses=list(query.status))
    result = page_of(schedule_queries.sessions_query(filters, current()), query)
    result["items"] = [_out(session) for session in result["items"]]
    return result


@endpoint(bp, "GET", "/sessions/<int:session_id>", summary="Read a reception session", tag="Schedules",
          response=schemas.SessionOut, permission="schedule.view")
def get_session(session_id):
    return _out(_visible_session(session_id))


@endpoint(bp, "POST", "/sessions", summary="Plan a reception session (draft)", tag="Schedules",
          body=schemas.SessionIn, response=schemas.SessionOut, status=201, permission="schedule.edit",
          idempotent=True, errors=(409,))
def create_session(body):
    """A clerk plans sessions for their own offices; a coordinator approves them. Collisions of a host or a
    room give 409 with the colliding sessions listed."""
    return _out(schedule_sessions.create_session(body.model_dump(), current()))


@endpoint(bp, "PATCH", "/sessions/<int:session_id>", summary="Change a reception session", tag="Schedules",
          body=schemas.SessionUpdate, response=schemas.SessionOut, permission="schedule.edit", errors=(409,))
def update_session(session_id, body):
    """Only the fields sent change. Approved sessions only by a coordinator; held or cancelled ones never (409)."""
    session = _visible_session(session_id)
    if session.status in ("draft", "approved"):
        require("schedule.edit", session)
    data = {name: getattr(session, name) for name in SESSION_FIELDS}
    data["host_ids"] = [host.id for host in session.hosts]
    data.update(body.model_dump(exclude_unset=True))
    return _out(schedule_sessions.update_session(session, data, current()))


@endpoint(bp, "POST", "/sessions/approve", summary="Approve draft sessions", tag="Schedules",
          body=schemas.ApproveIn, response=schemas.ApproveOut, permission="schedule.approve", errors=(409,))
def approve_sessions(body):
    """All or nothing: an unknown id (422) or a held or cancelled session approves none."""
    return {"approved": schedule_sessions.approve_sessions(body.ids, current())}


@endpoint(bp, "POST", "/sessions/<int:session_id>/held", summary="Mark a session as held", tag="Schedules",
          body=schemas.HeldIn, response=schemas.SessionOut, permission="schedule.mark_held", errors=(409,))
def mark_held(session_id, body):
    session = _visible_session(session_id)
    require("schedule.mark_held", session)
    return _out(schedule_sessions.mark_held(session, body.visitors, current()))


@endpoint(bp, "POST", "/sessions/<int:session_id>/cancel", summary="Cancel a session", tag="Schedules",
          body=schemas.CancelIn, response=schemas.SessionOut, permission="schedule.edit", errors=(409,))
def cancel_session(session_id, body):
    session = _visible_session(session_id)
    if session.status in ("draft", "approved"):
        require("schedule.edit", session)
    return _out(schedule_sessions.cancel_session(session, body.reason, current()))


@endpoint(bp, "POST", "/sessions/bulk", summary="Plan up to 500 sessions at once (drafts)", tag="Schedules",
          body=schemas.SessionBulkIn, response=schemas.SessionList, status=201, permission="schedule.edit",
          idempotent=True, errors=(409,), bulk=True)
def create_sessions(body):
    """All or nothing, with the same rules as POST /sessions for each row (collisions with each other too).
    Every failing row is listed (`errors`, fields items.<index>.<field>); then none is created."""
    created = all_or_nothing(body.items, lambda item: schedule_sessions.create_session(item.model_dump(), current()))
    return {"items": [_out(session) for session in created]}


def _mark_one(item):
    session = _visible_session(item.id)
    require("schedule.mark_held", session)
    return schedule_sessions.mark_held(session, item.visitors, current())


@endpoint(bp, "POST", "/sessions/held", summary="Mark up to 500 sessions as held", tag="Schedules",
          body=schemas.HeldBulkIn, response=schemas.SessionList, permission="schedule.mark_held", errors=(409,),
          bulk=True)
def mark_sessions_held(body):
    """All or nothing, each row as POST /sessions/{id}/held (approved, on or before today, yours to mark)."""
    if len({item.id for item in body.items}) != len(body.items):
        raise ApiError(422, _("A session is listed twice."), errors=[
            {"field": "items", "location": "body", "message": _("A session is listed twice.")}])
    return {"items": [_out(session) for session in all_or_nothing(body.items, _mark_one)]}
