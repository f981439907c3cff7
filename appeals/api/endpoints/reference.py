"""Offices and hosts."""
import sqlalchemy as sa

from appeals.api.endpoints import current, get_or_404, require
from appeals.api.registry import endpoint
from appeals.api.schemas import reference as schemas
from appeals.api.views import bp
from appeals.core.extensions import db
from appeals.reference.models import Office
from appeals.schedules import hosts as schedule_hosts
from appeals.schedules.models import Host


@endpoint(bp, "GET", "/offices", summary="List offices", tag="Reference", query=schemas.OfficeQuery,
          response=schemas.OfficeList)
def list_offices(query):
    """Every office of the branch, regional first; any authenticated user may read them."""
    select = sa.select(Office).order_by(Office.kind, Office.code)
    if query.active is not None:
        select = select.where(Office.is_active.is_(query.active))
    return {"items": db.session.scalars(select).all()}


@endpoint(bp, "GET", "/offices/<int:office_id>", summary="Read an office", tag="Reference",
          response=schemas.OfficeOut)
def get_office(office_id):
    return get_or_404(Office, office_id)


@endpoint(bp, "GET", "/hosts", summary="List hosts", tag="Reference", query=schemas.HostQuery,
          response=schemas.HostList, permission="schedule.view")
def list_hosts(query):
    """Candidates, deputies and office members who receive citizens."""
    return {"items": schedule_hosts.list_hosts(active=query.active, office_id=query.office_id)}


@endpoint(bp, "GET", "/hosts/<int:host_id>", summary="Read a host", tag="Reference",
          response=schemas.HostOut, permission="schedule.view")
def get_host(host_id):
    return get_or_404(Host, host_id)


@endpoint(bp, "POST", "/hosts", summary="Create a host", tag="Reference", body=schemas.HostIn,
          response=schemas.HostOut, status=201, permission="host.manage", idempotent=True)
def create_host(body):
    return schedule_hosts.create_host(body.model_dump(), current())


@endpoint(bp, "PATCH", "/hosts/<int:host_id>", summary="Update a host", tag="Reference",
          body=schemas.HostUpdate, response=schemas.HostOut, permission="host.manage")
def update_host(host_id, body):
    """Only the fields sent change."""
    host = get_or_404(Host, host_id)
    require("host.manage")
    data = {name: getattr(host, name) for name in ("full_name", "position", "kind", "office_id", "user_id", "is_active")}
    data.update(body.model_dump(exclude_unset=True))
    return schedule_hosts.update_host(host, data, current())
