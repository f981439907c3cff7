"""Schemas of the appeals register endpoints (api/endpoints/register.py)."""
import datetime as dt
from typing import Annotated, Literal, Optional

from flask import current_app
from pydantic import Field

from appeals.api.schemas.base import Day, Id, LocalDateTime, Moment, PageInfo, PageQuery, QueryModel, RequestModel, ResponseModel, Text, UtcDateTime
from appeals.register.models import (
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
                                                                               "the number and words of the summary for the others. "
                                                                               "In the query string an IIN-, phone- or e-mail-like "
                                                                               "term is refused (422): send it in the body of "
                                                                               "POST /appeals/search.")
    sort: Literal[APPEAL_SORTS] = "-received"


class AppealSearch(AppealQuery):
    """The register's filters as a JSON body (POST /appeals/search): what a client searches for, an IIN
    or a phone above all, then never stands in a URL, which proxies and servers write to their logs."""


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
