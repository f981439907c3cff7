"""Reference data (regions, districts, settlements with KATO, offices, categories) and hosts.

Every client reads the reference data: registering an appeal needs its settlement and category ids.
Administrators write it through the same services as the admin pages (reference/services.py): a
PATCH sends only what changes, and the service checks the whole row as the form would.
"""
import sqlalchemy as sa

from appeals.api.endpoints import current, get_or_404, page_of, require
from appeals.api.registry import endpoint
from appeals.api.schemas import reference as schemas
from appeals.api.views import bp
from appeals.core.extensions import db
from appeals.core.search_fold import search_fold
from appeals.reference import services as reference
from appeals.reference.models import Category, District, Office, Region, Settlement
from appeals.schedules import hosts as schedule_hosts
from appeals.schedules.models import Host


def _patched(obj, fields, body):
    """The row's current values with the fields sent in a PATCH body applied (the services take whole rows)."""
    data = {name: getattr(obj, name) for name in fields}
    data.update(body.model_dump(exclude_unset=True))
    return data


# --- Regions, districts, settlements --------------------------------------------------------------


@endpoint(bp, "GET", "/regions", summary="List regions", tag="Reference", response=schemas.RegionList)
def list_regions():
    return {"items": db.session.scalars(sa.select(Region).order_by(Region.code)).all()}


@endpoint(bp, "GET", "/regions/<int:region_id>", summary="Read a region", tag="Reference", response=schemas.RegionOut)
def get_region(region_id):
    return get_or_404(Region, region_id)


@endpoint(bp, "POST", "/regions", summary="Create a region", tag="Reference", body=schemas.RegionIn,
          response=schemas.RegionOut, status=201, permission="admin.reference", idempotent=True)
def create_region(body):
    return reference.save_region(body.model_dump(), current())


@endpoint(bp, "PATCH", "/regions/<int:region_id>", summary="Change a region", tag="Reference",
          body=schemas.RegionUpdate, response=schemas.RegionOut, permission="admin.reference")
def update_region(region_id, body):
    region = get_or_404(Region, region_id)
    return reference.save_region(_patched(region, reference.REGION_FIELDS, body), current(), region)


@endpoint(bp, "GET", "/districts", summary="List districts", tag="Reference", query=schemas.DistrictQuery,
          response=schemas.DistrictList)
def list_districts(query):
    select = sa.select(District).order_by(District.code)
    if query.region_id is not None:
        select = select.where(District.region_id == query.region_id)
    return {"items": db.session.scalars(select).all()}


@endpoint(bp, "GET", "/districts/<int:district_id>", summary="Read a district", tag="Reference",
          response=schemas.DistrictOut)
def get_district(district_id):
    return get_or_404(District, district_id)


@endpoint(bp, "POST", "/districts", summary="Create a district", tag="Reference", body=schemas.DistrictIn,
          response=schemas.DistrictOut, status=201, permission="admin.reference", idempotent=True)
def create_district(body):
    return reference.save_district(body.model_dump(), current())


@endpoint(bp, "PATCH", "/districts/<int:district_id>", summary="Change a district", tag="Reference",
          body=schemas.DistrictUpdate, response=schemas.DistrictOut, permission="admin.reference")
def update_district(district_id, body):
    district = get_or_404(District, district_id)
    return reference.save_district(_patched(district, reference.DISTRICT_FIELDS, body), current(), district)


@endpoint(bp, "GET", "/settlements", summary="List settlements", tag="Reference", query=schemas.SettlementQuery,
          response=schemas.SettlementPage)
def list_settlements(query):
    """Hundreds of settlements: paged, by district, by KATO code, or by part of a name (typed in Kazakh,
    Russian or Latin letters alike)."""
    select = sa.select(Settlement).order_by(Settlement.district_id, Settlement.name_kk, Settlement.id)
    if query.district_id is not None:
        select = select.where(Settlement.district_id == query.district_id)
    if query.kato:
        select = select.where(Settlement.kato == query.kato)
    if query.active is not None:
        select = select.where(Settlement.is_active.is_(query.active))
    folded = search_fold(query.q or "").strip()
    if folded:
        select = select.where(sa.or_(*(sa.func.qb_search_fold(sa.func.coalesce(column, "")).contains(folded, autoescape=True)
                                       for column in (Settlement.name_kk, Settlement.name_ru, Settlement.name_en))))
    return page_of(select, query)


@endpoint(bp, "GET", "/settlements/<int:settlement_id>", summary="Read a settlement", tag="Reference",
          response=schemas.SettlementOut)
def get_settlement(settlement_id):
    return get_or_404(Settlement, settlement_id)


@endpoint(bp, "POST", "/settlements", summary="Create a settlement", tag="Reference", body=schemas.SettlementIn,
          response=schemas.SettlementOut, status=201, permission="admin.reference", idempotent=True)
def create_settlement(body):
    """A KATO code is unique (422 when another settlement has it)."""
    return reference.save_settlement(body.model_dump(), current())


@endpoint(bp, "PATCH", "/settlements/<int:settlement_id>", summary="Change a settlement", tag="Reference",
          body=schemas.SettlementUpdate, response=schemas.SettlementOut, permission="admin.reference")
def update_settlement(settlement_id, body):
    """Retire a settlement with `is_active: false`: appeals that name it keep it, new ones cannot."""
    settlement = get_or_404(Settlement, settlement_id)
    return reference.save_settlement(_patched(settlement, reference.SETTLEMENT_FIELDS, body), current(), settlement)


# --- Categories -----------------------------------------------------------------------------------


@endpoint(bp, "GET", "/categories", summary="List categories", tag="Reference", query=schemas.CategoryQuery,
          response=schemas.CategoryList)
def list_categories(query):
    select = sa.select(Category).order_by(Category.sort_order, Category.code)
    if query.active is not None:
        select = select.where(Category.is_active.is_(query.active))
    return {"items": db.session.scalars(select).all()}


@endpoint(bp, "GET", "/categories/<int:category_id>", summary="Read a category", tag="Reference",
          response=schemas.CategoryOut)
def get_category(category_id):
    return get_or_404(Category, category_id)


@endpoint(bp, "POST", "/categories", summary="Create a category", tag="Reference", body=schemas.CategoryIn,
          response=schemas.CategoryOut, status=201, permission="admin.reference", idempotent=True)
def create_category(body):
    return reference.save_category(body.model_dump(), current())


@endpoint(bp, "PATCH", "/categories/<int:category_id>", summary="Change a category", tag="Reference",
          body=schemas.CategoryUpdate, response=schemas.CategoryOut, permission="admin.reference")
def update_category(category_id, body):
    category = get_or_404(Category, category_id)
    return reference.save_category(_patched(category, reference.CATEGORY_FIELDS, body), current(), category)


# --- Offices ----------------------------------------------------------------------------------------


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


@endpoint(bp, "POST", "/offices", summary="Create an office", tag="Reference", body=schemas.OfficeIn,
          response=schemas.OfficeOut, status=201, permission="admin.reference", idempotent=True)
def create_office(body):
    return reference.save_office(body.model_dump(), current())


@endpoint(bp, "PATCH", "/offices/<int:office_id>", summary="Change an office", tag="Reference",
          body=schemas.OfficeUpdate, response=schemas.OfficeOut, permission="admin.reference")
def update_office(office_id, body):
    """Close an office with `is_active: false`: its register stays, new appeals go elsewhere."""
    office = get_or_404(Office, office_id)
    return reference.save_office(_patched(office, reference.OFFICE_FIELDS, body), current(), office)


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
