"""Schemas of the reference data and hosts endpoints (api/endpoints/reference.py)."""
from typing import Annotated, Literal, Optional

from pydantic import Field

from appeals.api.schemas.base import Id, PageInfo, PageQuery, QueryModel, RequestModel, ResponseModel, Text
from appeals.reference.models import OFFICE_KINDS
from appeals.schedules.models import HOST_KINDS

NAME_DESCRIPTION = "The name in the request's language (Accept-Language or ?lang), falling back kk→ru→en."
NameText = Annotated[Text, Field(min_length=1, max_length=200)]
EnglishName = Annotated[Text, Field(max_length=200)]


class Named(ResponseModel):
    name: str = Field(description=NAME_DESCRIPTION)
    name_kk: str
    name_ru: str
    name_en: Optional[str] = Field(description="None (or empty) when not given: `name` then falls back to Russian.")


class NamesIn(RequestModel):
    name_kk: NameText
    name_ru: NameText
    name_en: Optional[EnglishName] = None


class NamesUpdate(RequestModel):
    name_kk: Optional[NameText] = None
    name_ru: Optional[NameText] = None
    name_en: Optional[EnglishName] = None


ReferenceCode = Annotated[Text, Field(min_length=2, max_length=10, description="2 to 10 Latin capital letters or digits.")]


class RegionOut(Named):
    id: int
    code: str


class RegionList(ResponseModel):
    items: list[RegionOut]


class RegionIn(NamesIn):
    code: ReferenceCode


class RegionUpdate(NamesUpdate):
    code: Optional[ReferenceCode] = None


class DistrictOut(Named):
    id: int
    region_id: int
    code: str


class DistrictList(ResponseModel):
    items: list[DistrictOut]


class DistrictQuery(QueryModel):
    region_id: Optional[Id] = None


class DistrictIn(NamesIn):
    region_id: Id
    code: ReferenceCode


class DistrictUpdate(NamesUpdate):
    region_id: Optional[Id] = None
    code: Optional[ReferenceCode] = None


Kato = Annotated[Text, Field(pattern=r"^[0-9]{6,12}$", description="KATO, the national classifier code: 6 to 12 digits.")]


class SettlementOut(Named):
    id: int
    district_id: int
    kato: Optional[str] = Field(description="KATO, the national classifier code of the settlement.")
    is_active: bool


class SettlementPage(PageInfo):
    items: list[SettlementOut]


class SettlementQuery(PageQuery):
    district_id: Optional[Id] = None
    kato: Optional[Kato] = Field(None, description="Exactly this KATO code.")
    q: Optional[Annotated[Text, Field(max_length=100)]] = Field(None, description="Part of a name in any language.")
    active: Optional[bool] = Field(None, description="Only settlements in use (true) or retired ones (false).")


class SettlementIn(NamesIn):
    district_id: Id
    kato: Optional[Kato] = None
    is_active: bool = True


class SettlementUpdate(NamesUpdate):
    district_id: Optional[Id] = None
    kato: Optional[Kato] = None
    is_active: Optional[bool] = None


class CategoryOut(Named):
    id: int
    code: str
    sort_order: int
    is_active: bool


class CategoryList(ResponseModel):
    items: list[CategoryOut]


class CategoryQuery(QueryModel):
    active: Optional[bool] = Field(None, description="Only categories in use (true) or retired ones (false).")


CategoryCode = Annotated[Text, Field(min_length=2, max_length=40, pattern=r"^[a-z0-9_-]+$",
                                     description="2 to 40 lower-case Latin letters, digits, dashes or underscores.")]


class CategoryIn(NamesIn):
    code: CategoryCode
    sort_order: Annotated[int, Field(ge=-100000, le=100000)] = 0
    is_active: bool = True


class CategoryUpdate(NamesUpdate):
    code: Optional[CategoryCode] = None
    sort_order: Optional[Annotated[int, Field(ge=-100000, le=100000)]] = None
    is_active: Optional[bool] = None


class OfficeOut(Named):
    id: int
    code: str
    kind: Literal[OFFICE_KINDS]
    region_id: Optional[int]
    parent_id: Optional[int]
    district_id: Optional[int]
    address: str
    phone: str
    is_active: bool


class OfficeList(ResponseModel):
    items: list[OfficeOut]


class OfficeQuery(QueryModel):
    active: Optional[bool] = Field(None, description="Only active (true) or only closed (false) offices.")


class OfficeIn(NamesIn):
    code: ReferenceCode
    kind: Literal[OFFICE_KINDS]
    region_id: Optional[Id] = Field(None, description="Default: the parent office's region, or the district's.")
    parent_id: Optional[Id] = Field(None, description="Required for a territorial office: its regional office. "
                                                      "A regional office has none.")
    district_id: Optional[Id] = None
    address: Annotated[Text, Field(max_length=300)] = ""
    phone: Annotated[Text, Field(max_length=30)] = ""
    is_active: bool = True


class OfficeUpdate(NamesUpdate):
    code: Optional[ReferenceCode] = None
    kind: Optional[Literal[OFFICE_KINDS]] = None
    region_id: Optional[Id] = None
    parent_id: Optional[Id] = None
    district_id: Optional[Id] = None
    address: Optional[Annotated[Text, Field(max_length=300)]] = None
    phone: Optional[Annotated[Text, Field(max_length=30)]] = None
    is_active: Optional[bool] = None


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
