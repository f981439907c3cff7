"""Schemas of the directives, mandates and statistics endpoints (api/endpoints/mandates.py)."""
import datetime as dt
from typing import Annotated, Literal, Optional

from pydantic import Field

from appeals.api.schemas.base import Day, Id, PageInfo, PageQuery, QueryModel, RequestModel, ResponseModel, Text, UtcDateTime
from appeals.mandates.models import MANDATE_STATUSES, NUMBERING_SCOPES
from appeals.register.models import (
    APPEAL_TYPES,
)


class DirectiveOut(ResponseModel):
    id: int
    issuer: str
    number: str
    issued_on: dt.date
    title: str
    text: str
    valid_from: Optional[dt.date]
    valid_to: Optional[dt.date]
    numbering: Literal[NUMBERING_SCOPES]
    number_prefix: str
    appeal_types: list[Literal[APPEAL_TYPES]]
    category_ids: list[int]
    settlement_ids: list[int]
    district_ids: list[int]
    keywords: str
    min_signatories: Optional[int]
    received_from: Optional[dt.date]
    received_to: Optional[dt.date]
    target_count: Optional[int]
    created_at: UtcDateTime
    updated_at: UtcDateTime


class DirectiveList(ResponseModel):
    items: list[DirectiveOut]


IdList = Annotated[list[Id], Field(max_length=1000)]


class DirectiveFields(RequestModel):
    issuer: Optional[Annotated[Text, Field(max_length=300)]] = None
    number: Optional[Annotated[Text, Field(min_length=1, max_length=50)]] = None
    issued_on: Optional[Day] = None
    title: Optional[Annotated[Text, Field(min_length=1, max_length=500)]] = None
    text: Optional[Annotated[Text, Field(max_length=20000)]] = None
    valid_from: Optional[Day] = None
    valid_to: Optional[Day] = None
    numbering: Optional[Literal[NUMBERING_SCOPES]] = None
    number_prefix: Optional[Annotated[Text, Field(max_length=20)]] = None
    appeal_types: Optional[Annotated[list[Literal[APPEAL_TYPES]], Field(max_length=10)]] = None
    category_ids: Optional[IdList] = None
    settlement_ids: Optional[IdList] = None
    district_ids: Optional[IdList] = None
    keywords: Optional[Annotated[Text, Field(max_length=1000)]] = None
    min_signatories: Optional[Annotated[int, Field(ge=1, le=1000000)]] = None
    received_from: Optional[Day] = None
    received_to: Optional[Day] = None
    target_count: Optional[Annotated[int, Field(ge=0, le=1000000)]] = None


class DirectiveIn(DirectiveFields):
    number: Annotated[Text, Field(min_length=1, max_length=50)]
    issued_on: Day
    title: Annotated[Text, Field(min_length=1, max_length=500)]


class DirectiveUpdate(DirectiveFields):
    """Only the fields sent change."""


class FlagIn(RequestModel):
    appeal_ids: Annotated[list[Id], Field(min_length=1, max_length=1000)]
    override_reason: Optional[Annotated[Text, Field(max_length=1000)]] = Field(
        None, description="Required when an appeal misses one of the directive's criteria.")
    merge_into: Optional[Id] = Field(None, description="Add the appeals to this existing mandate of the directive.")
    as_one: bool = Field(False, description="Join all the appeals in one new mandate.")
    registered_on: Optional[Day] = Field(
        None, description="Coordinators: the registration date of a paper register typed in later. Within the "
                          "directive's validity (from valid_from or its issue date to valid_to), not before any of "
                          "the appeals was received, not in the future; a directive whose validity has ended accepts "
                          "such mandates. Default: today. Audited with the real moment of entry.")
    responsible_user_id: Optional[Id] = Field(
        None, description="The new mandates' responsible person (an active user of any role).")
    target_date: Optional[Day] = Field(
        None, description="The new mandates' target date (not before their registration); default: the "
                          "directive's end date.")


class ProgressNoteOut(ResponseModel):
    id: int
    noted_on: dt.date
    note: str
    progress_percent: Optional[int]
    created_at: UtcDateTime


class MandateOut(ResponseModel):
    id: int
    directive_id: int
    number: str
    title: str
    description: str
    office_id: Optional[int]
    settlement_id: Optional[int]
    category_id: Optional[int]
    responsible: str
    target_date: Optional[dt.date]
    status: Literal[MANDATE_STATUSES]
    progress_percent: int
    withdrawn_reason: str
    appeal_ids: list[int]
    registered_on: dt.date = Field(description="The local day of created_at, the registration the statistics count "
                                               "by: a paper register's date when typed in later (registered_on).")
    notes: list[ProgressNoteOut]
    created_at: UtcDateTime
    updated_at: UtcDateTime


class MandateList(ResponseModel):
    items: list[MandateOut]


class MandatePage(PageInfo):
    items: list[MandateOut]


class MandateQuery(PageQuery):
    directive_id: Optional[Id] = None
    office_id: Optional[Id] = None
    settlement_id: Optional[Id] = None
    district_id: Optional[Id] = None
    category_id: Optional[Id] = None
    status: Optional[Literal[MANDATE_STATUSES + ("open",)]] = None
    overdue: bool = False
    q: Optional[Annotated[Text, Field(max_length=200)]] = Field(None, description="Number or words of the title.")


class MandateUpdate(RequestModel):
    title: Optional[Annotated[Text, Field(min_length=1, max_length=500)]] = None
    description: Optional[Annotated[Text, Field(max_length=20000)]] = None
    settlement_id: Optional[Id] = None
    responsible: Optional[Annotated[Text, Field(max_length=300)]] = None
    target_date: Optional[Day] = None
    status: Optional[Literal[MANDATE_STATUSES]] = None
    progress_percent: Optional[Annotated[int, Field(ge=0, le=100)]] = None


class ProgressIn(RequestModel):
    note: Annotated[Text, Field(min_length=1, max_length=5000)]
    noted_on: Optional[Day] = Field(None, description="Default: today.")
    progress_percent: Optional[Annotated[int, Field(ge=0, le=100)]] = None


class StatisticsQuery(QueryModel):
    RENAMED = {"start": "date_from", "end": "date_to"}

    date_from: Optional[Day] = Field(None, description="First day (default: the first day of the month of "
                                                       "`date_to`, or of this month).")
    date_to: Optional[Day] = Field(None, description="Last day, inclusive (default: today).")
    directive_id: Optional[Id] = Field(None, description="The mandate figures of this directive only; the appeals "
                                                         "received stay all of the period's (the share is this "
                                                         "directive's).")
    office_id: Optional[Id] = Field(None, description="The appeals, sessions and mandates of this office.")
    district_id: Optional[Id] = Field(None, description="The appeals and mandates whose settlement is in this district, "
                                                        "and the sessions at offices located in it.")


class Figures(ResponseModel):
    """The figures of appeals.reports.statistics, under the names the pages and the summary use."""

    appeals_received: int = Field(description="Appeals received in the period (by their received date).")
    mandates_registered: int = Field(description="Of them, appeals registered as mandates (by the appeal's date).")
    mandates_count: int = Field(description="Mandates formed from these appeals (merged ones once, withdrawn excluded).")
    fulfilled: int = Field(description="Of these mandates, the fulfilled ones.")
    fulfilled_share: float


class Totals(Figures):
    sessions_held: int
    mandate_share: float
    mandates_registered_in_period: int = Field(
        description="Mandates registered in the period (by their registration date, whenever the appeal came; "
                    "withdrawn excluded).")
    overdue: int = Field(description="Appeals open past their deadline now (not a figure of the period).")


class OfficeFigures(Figures):
    office_id: int
    office_code: str
    office_name: str = Field(description="In the request's language.")
    sessions_held: int


class DistrictFigures(Figures):
    district_id: Optional[int]
    district_code: Optional[str]
    district_name: str = Field(description="In the request's language; for appeals without a settlement, a label "
                                           "saying so (district_id null).")


class StatisticsOut(ResponseModel):
    start: dt.date
    end: dt.date
    directive_id: Optional[int]
    office_id: Optional[int]
    district_id: Optional[int]
    totals: Totals
    offices: list[OfficeFigures]
    districts: list[DistrictFigures]
