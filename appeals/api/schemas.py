"""Request and response schemas of the API (pydantic v2); the OpenAPI document is built from them."""
import datetime as dt
from datetime import datetime, timezone
from typing import Annotated, Literal, Optional

from flask import current_app
from flask_babel import gettext as _
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from appeals.auth.models import ROLES
from appeals.reference.models import OFFICE_KINDS
from appeals.schedules.models import HOST_KINDS, SESSION_STATUSES

MAX_ID = 2**31 - 1
MAX_PAGE = 100000


def _clean_text(value):
    # PostgreSQL cannot store NUL characters and lone surrogates cannot be encoded: both are
    # rejected here, as bad input, instead of failing in the database.
    if "\x00" in value:
        raise ValueError(_("The text contains a NUL character."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(_("The text contains characters that cannot be stored.")) from None
    return value


Text = Annotated[str, AfterValidator(_clean_text)]

FIRST_YEAR, LAST_YEAR = 2000, 2100


def _plausible_year(value):
    # The register starts in this century; far dates are typos and would overflow date arithmetic.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(_("The date must be between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR))
    return value


Day = Annotated[dt.date, AfterValidator(_plausible_year)]
Moment = Annotated[datetime, AfterValidator(_plausible_year)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _local_aware(value):
    """Business times are stored as naive local time; the API states the offset explicitly."""
    from zoneinfo import ZoneInfo

    if value is None:
        return None
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return value.replace(tzinfo=zone).isoformat()


def _utc_aware(value):
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")


DATE_TIME_SCHEMA = WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization")
# Stored as naive local time (Asia/Almaty); returned with its UTC offset.
LocalDateTime = Annotated[datetime, PlainSerializer(_local_aware, return_type=str, when_used="json"), DATE_TIME_SCHEMA]
# Stored as naive UTC; returned with "Z".
UtcDateTime = Annotated[datetime, PlainSerializer(_utc_aware, return_type=str, when_used="json"), DATE_TIME_SCHEMA]
TimeOfDay = Annotated[dt.time, PlainSerializer(lambda v: v.strftime("%H:%M"), return_type=str, when_used="json"),
                      WithJsonSchema({"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}, mode="serialization")]


class RequestModel(BaseModel):
    """Request bodies: unknown fields are errors, and JSON types are not coerced ("5" is not 5)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class QueryModel(BaseModel):
    """Query strings arrive as text, so numbers are parsed; unknown parameters are errors."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class FieldError(ResponseModel):
    field: str = Field(description="The field, dotted for nested ones; empty for the whole body.")
    location: Literal["body", "query", "path", "header"]
    message: str


class Problem(ResponseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: Optional[list[FieldError]] = None


class PageQuery(QueryModel):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    size: int = Field(50, ge=1, le=200, description="Items per page, at most 200.")


class PageInfo(ResponseModel):
    page: int
    size: int
    has_next: bool


# --- Reference data ---------------------------------------------------------------------------


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


# --- Hosts ------------------------------------------------------------------------------------


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


# --- Meta -------------------------------------------------------------------------------------


class MeOut(ResponseModel):
    id: int
    username: str
    full_name: str
    role: Literal[ROLES]
    office_codes: list[str]
    token_prefix: str




# --- Reception sessions -----------------------------------------------------------------------


class SessionOut(ResponseModel):
    id: int
    office_id: int
    date: dt.date
    start_time: TimeOfDay
    end_time: TimeOfDay
    room: str
    capacity: Optional[int]
    topic: str
    status: Literal[SESSION_STATUSES]
    cancel_reason: str
    visitors_count: Optional[int]
    host_ids: list[int]
    approved_at: Optional[UtcDateTime]
    created_at: UtcDateTime
    updated_at: UtcDateTime


class SessionPage(PageInfo):
    items: list[SessionOut]


class SessionQuery(PageQuery):
    office_id: Optional[Id] = None
    host_id: Optional[Id] = None
    date_from: Optional[Day] = None
    date_to: Optional[Day] = None
    status: list[Literal[SESSION_STATUSES]] = Field(default_factory=list, description="Repeat for several statuses.")


class SessionIn(RequestModel):
    office_id: Id
    host_ids: Annotated[list[Id], Field(min_length=1, max_length=20)]
    date: Day
    start_time: dt.time
    end_time: dt.time
    room: Annotated[Text, Field(max_length=100)] = ""
    capacity: Optional[Annotated[int, Field(ge=0, le=1000)]] = None
    topic: Annotated[Text, Field(max_length=500)] = ""


class SessionUpdate(RequestModel):
    office_id: Optional[Id] = None
    host_ids: Optional[Annotated[list[Id], Field(min_length=1, max_length=20)]] = None
    date: Optional[Day] = None
    start_time: Optional[dt.time] = None
    end_time: Optional[dt.time] = None
    room: Optional[Annotated[Text, Field(max_length=100)]] = None
    capacity: Optional[Annotated[int, Field(ge=0, le=1000)]] = None
    topic: Optional[Annotated[Text, Field(max_length=500)]] = None


class ApproveIn(RequestModel):
    ids: Annotated[list[Id], Field(min_length=1, max_length=500)]


class ApproveOut(ResponseModel):
    approved: int = Field(description="Sessions approved now; already approved ones are not counted.")


class HeldIn(RequestModel):
    visitors: Annotated[int, Field(ge=0, le=10000)]


class CancelIn(RequestModel):
    reason: Annotated[Text, Field(min_length=1, max_length=500)]


# --- Appeals ----------------------------------------------------------------------------------

from appeals.register.models import (  # noqa: E402
    APPEAL_STATUSES,
    APPEAL_TYPES,
    APPLICANT_KINDS,
    CHANNELS,
    SUMMARY_MAX,
    TEXT_MAX,
)

APPEAL_SORTS = ("-received", "received", "-number", "number", "due", "-due")


def to_local_naive(value):
    """An aware date-time converted to the branch's local time; a naive one is already local."""
    from zoneinfo import ZoneInfo

    if value is None or value.tzinfo is None:
        return value
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return value.astimezone(zone).replace(tzinfo=None)


class AppealOut(ResponseModel):
    id: int
    number: str
    office_id: int
    received_at: LocalDateTime
    channel: Literal[CHANNELS]
    session_id: Optional[int]
    host_id: Optional[int]
    applicant_kind: Literal[APPLICANT_KINDS]
    applicant_name: str
    iin: str = Field(description="Masked (9001******12) unless the user may see personal data.")
    phone: str
    address: str
    personal_data_masked: bool
    settlement_id: Optional[int]
    signatories: Optional[int]
    appeal_type: Literal[APPEAL_TYPES]
    category_id: Optional[int]
    summary: str = Field(description="IIN-, phone- and e-mail-like text hidden (***) while personal_data_masked.")
    text: str = Field(description="IIN-, phone- and e-mail-like text hidden (***) while personal_data_masked.")
    status: Literal[APPEAL_STATUSES]
    allowed_transitions: list[Literal[APPEAL_STATUSES]]
    responsible_id: Optional[int]
    due_date: dt.date
    original_due_date: dt.date
    forwarded_to: str
    forwarded_at: Optional[dt.date]
    answer_text: str = Field(description="IIN-, phone- and e-mail-like text hidden (***) while personal_data_masked.")
    answered_at: Optional[dt.date]
    closed_at: Optional[UtcDateTime]
    withdrawn_reason: str = Field(description="IIN-, phone- and e-mail-like text hidden (***) while personal_data_masked.")
    repeat_of_id: Optional[int]
    created_at: UtcDateTime
    updated_at: UtcDateTime


class AppealPage(PageInfo):
    items: list[AppealOut]


class AppealQuery(PageQuery):
    office: Optional[Id] = None
    date_from: Optional[Day] = None
    date_to: Optional[Day] = None
    status: Optional[Literal[APPEAL_STATUSES + ("open",)]] = Field(None, description="A status, or `open` for all open ones.")
    appeal_type: Optional[Literal[APPEAL_TYPES]] = None
    category: Optional[Id] = None
    channel: Optional[Literal[CHANNELS]] = None
    district: Optional[Id] = Field(None, description="Appeals whose settlement is in this district "
                                                     "(appeals without a settlement are in none).")
    settlement: Optional[Id] = None
    host: Optional[Id] = None
    overdue: bool = False
    repeats: bool = False
    q: Optional[Annotated[Text, Field(max_length=200)]] = Field(None, description="Number, name, words of the text, "
                                                                               "IIN or phone for those who may see personal data; "
                                                                               "the number and words of the summary for the others.")
    sort: Literal[APPEAL_SORTS] = "-received"


class AppealReadQuery(QueryModel):
    reveal: bool = Field(False, description="Coordinators: show the applicant's personal data (the view is audited).")


Name = Annotated[Text, Field(max_length=200)]
OptionalId = Optional[Id]


class AppealFields(RequestModel):
    received_at: Optional[Moment] = Field(None, description="Local time (Asia/Almaty) unless an offset is given.")
    channel: Optional[Literal[CHANNELS]] = None
    session_id: OptionalId = None
    host_id: OptionalId = None
    applicant_kind: Optional[Literal[APPLICANT_KINDS]] = None
    applicant_name: Optional[Name] = None
    iin: Optional[Annotated[Text, Field(max_length=20)]] = None
    phone: Optional[Annotated[Text, Field(max_length=30)]] = None
    address: Optional[Annotated[Text, Field(max_length=300)]] = None
    settlement_id: OptionalId = None
    signatories: Optional[Annotated[int, Field(ge=1, le=1000000)]] = None
    appeal_type: Optional[Literal[APPEAL_TYPES]] = None
    category_id: OptionalId = None
    summary: Optional[Annotated[Text, Field(max_length=SUMMARY_MAX)]] = None
    text: Optional[Annotated[Text, Field(max_length=TEXT_MAX)]] = None
    responsible_id: OptionalId = None
    repeat_of_id: OptionalId = Field(None, description="Link to an earlier appeal of the same applicant.")


class AppealIn(AppealFields):
    office_id: Id
    received_at: Moment = Field(description="Local time (Asia/Almaty) unless an offset is given.")
    channel: Literal[CHANNELS]
    appeal_type: Literal[APPEAL_TYPES]
    summary: Annotated[Text, Field(min_length=1, max_length=SUMMARY_MAX)]


class AppealUpdate(AppealFields):
    """Only the fields sent change; the office and the number never do."""


class TransitionIn(RequestModel):
    status: Literal[APPEAL_STATUSES]
    responsible_id: OptionalId = Field(None, description="in_review: who handles it (default: you).")
    answer_text: Optional[Annotated[Text, Field(max_length=TEXT_MAX)]] = Field(None, description="answered")
    answered_at: Optional[Day] = Field(None, description="answered (default: today)")
    recipient: Optional[Annotated[Text, Field(max_length=300)]] = Field(None, description="forwarded: the competent body")
    date: Optional[Day] = Field(None, description="forwarded (default: today)")
    reason: Optional[Annotated[Text, Field(max_length=500)]] = Field(None, description="withdrawn")


class ExtensionIn(RequestModel):
    new_due_date: Day
    reason: Annotated[Text, Field(min_length=1, max_length=1000)]


# --- Directives and mandates ------------------------------------------------------------------

from appeals.mandates.models import MANDATE_STATUSES, NUMBERING_SCOPES  # noqa: E402


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


# --- Statistics -------------------------------------------------------------------------------


class StatisticsQuery(QueryModel):
    start: Optional[Day] = Field(None, description="First day (default: the first day of this month).")
    end: Optional[Day] = Field(None, description="Last day, inclusive (default: today).")


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
    sessions_held: int


class DistrictFigures(Figures):
    district_id: Optional[int]
    district_code: Optional[str]


class StatisticsOut(ResponseModel):
    start: dt.date
    end: dt.date
    totals: Totals
    offices: list[OfficeFigures]
    districts: list[DistrictFigures]
