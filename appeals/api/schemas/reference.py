"""Schemas of the reference data and hosts endpoints (api/endpoints/reference.py)."""
from typing import Annotated, Literal, Optional

from pydantic import Field

from appeals.api.schemas.base import Id, QueryModel, RequestModel, ResponseModel, Text
from appeals.reference.models import OFFICE_KINDS
from appeals.schedules.models import HOST_KINDS


class OfficeOut(ResponseModel):
    id: int
    code: str
    name_kk: str
    name_ru: str
    kind: Literal[OFFICE_KINDS]
    parent_id: Optional[int]
    district_id: Optional[int]
    address: str
    phone: str
    is_active: bool


class OfficeList(ResponseModel):
    items: list[OfficeOut]


class OfficeQuery(QueryModel):
    active: Optional[bool] = Field(None, description="Only active (true) or only closed (false) offices.")


class HostOut(ResponseModel):
    id: int
    full_name: str
    position: str
    kind: Literal[HOST_KINDS]
    office_id: Optional[int]
    user_id: Optional[int]
    is_active: bool


class HostList(ResponseModel):
    items: list[HostOut]


class HostQuery(QueryModel):
    active: Optional[bool] = None
    office_id: Optional[Id] = None


class HostIn(RequestModel):
    full_name: Annotated[Text, Field(min_length=1, max_length=200)]
    position: Annotated[Text, Field(max_length=300)] = ""
    kind: Literal[HOST_KINDS]
    office_id: Optional[Id] = None
    user_id: Optional[Id] = None
    is_active: bool = True


class HostUpdate(RequestModel):
    full_name: Optional[Annotated[Text, Field(min_length=1, max_length=200)]] = None
    position: Optional[Annotated[Text, Field(max_length=300)]] = None
    kind: Optional[Literal[HOST_KINDS]] = None
    office_id: Optional[Id] = None
    user_id: Optional[Id] = None
    is_active: Optional[bool] = None
