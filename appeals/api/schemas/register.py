"""Schemas of the appeals register endpoints (api/endpoints/register.py)."""
import datetime as dt
from typing import Annotated, ClassVar, Literal, Optional

from flask import current_app
from pydantic import Field

from appeals.api.schemas.base import Day, Id, LocalDateTime, Moment, PageInfo, PageQuery, QueryModel, RequestModel, ResponseModel, Text, UtcDateTime
from appeals.register.models import (
    APPEAL_LANGUAGES,
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
    language: Literal[APPEAL_LANGUAGES] = Field(description="The language the applicant is written to: notices "
                                                            "and the answer letter.")
    created_at: UtcDateTime
    updated_at: UtcDateTime


class PossibleRepeat(ResponseModel):
    """An earlier appeal (last 90 days, in your scope) of the same person or about the same thing in the same settlement."""

    id: int
    number: str
    office_id: int
    received_at: LocalDateTime
    status: Literal[APPEAL_STATUSES]
    summary: str = Field(description="IIN-, phone- and e-mail-like text hidden (***) while personal data is masked.")
    same_person: bool = Field(description="Same IIN or phone: link it with PATCH {repeat_of_id} if it is a repeat.")


class RepeatCheckOut(ResponseModel):
    """What the register's form shows after "Save": the same check, run on the registered appeal."""

    appeals: list[PossibleRepeat]
    elsewhere: bool = Field(description="The same IIN or phone has an appeal in an office you cannot see "
                                        "(ask a coordinator: no number is given).")
    limited: bool = Field(description="Your matching look-ups of the last hour ran out "
                                      "(REPEAT_CHECK_MATCHES_PER_HOUR): none were looked for.")


class AppealCreated(AppealOut):
    possible_repeats: RepeatCheckOut


class AppealPage(PageInfo):
    items: list[AppealOut]


class AppealQuery(PageQuery):
    RENAMED = {"office": "office_id", "category": "category_id", "district": "district_id",
               "settlement": "settlement_id", "host": "host_id"}

    office_id: Optional[Id] = None
    date_from: Optional[Day] = Field(None, description="Received on or after this day.")
    date_to: Optional[Day] = Field(None, description="Received on or before this day.")
    status: Optional[Literal[APPEAL_STATUSES + ("open",)]] = Field(None, description="A status, or `open` for all open ones.")
    appeal_type: Optional[Literal[APPEAL_TYPES]] = None
    category_id: Optional[Id] = None
    channel: Optional[Literal[CHANNELS]] = None
    district_id: Optional[Id] = Field(None, description="Appeals whose settlement is in this district "
                                                        "(appeals without a settlement are in none).")
    settlement_id: Optional[Id] = None
    host_id: Optional[Id] = None
    overdue: bool = False
    repeats: bool = False
    q: Optional[Annotated[Text, Field(max_length=200)]] = Field(None, description="Number, name, words of the text, "
                                                                               "IIN or phone for those who may see personal data; "
                                                                               "the number and words of the summary for the others. "
                                                                               "In the query string an IIN-, phone- or e-mail-like "
                                                                               "term is refused (422): send it in the body of "
                                                                               "POST /appeals/search.")
    sort: Literal[APPEAL_SORTS] = "-received"

    # The register's own filter names (register.queries.parse_list_filters).
    LIST_FILTER_NAMES: ClassVar[dict[str, str]] = {new: old for old, new in RENAMED.items()}

    def list_filter_args(self) -> dict[str, str]:
        args = {}
        for name, value in self.model_dump(exclude_none=True, exclude={"page", "size"}).items():
            if value is False:
                continue
            args[self.LIST_FILTER_NAMES.get(name, name)] = "1" if value is True else str(value)
        return args


class AppealSearch(AppealQuery):
    """The register's filters as a JSON body (POST /appeals/search): what a client searches for, an IIN
    or a phone above all, then never stands in a URL, which proxies and servers write to their logs."""


class AppealReadQuery(QueryModel):
    reveal: bool = Field(False, description="Coordinators: show the applicant's personal data (the view is audited).")


Name = Annotated[Text, Field(max_length=200)]
OptionalId = Optional[Id]


class AppealFields(RequestModel):
    received_at: Optional[Moment] = Field(None, description="Local time (Asia/Almaty) unless an offset is given; "
                                                            "not in the future.")
    channel: Optional[Literal[CHANNELS]] = None
    session_id: OptionalId = Field(None, description="Required when `channel` is `session`: a session of the same "
                                                     "office on the day of `received_at`, not cancelled.")
    host_id: OptionalId = Field(None, description="Who received it. With `channel` `session`: one of the session's "
                                                  "hosts, required when the session has more than one.")
    applicant_kind: Optional[Literal[APPLICANT_KINDS]] = Field(
        None, description="Default `individual`. An `anonymous` appeal keeps no name, IIN, phone or address.")
    applicant_name: Optional[Name] = Field(None, description="Required unless `applicant_kind` is `anonymous` "
                                                             "(for `collective`: the group or its representative).")
    iin: Optional[Annotated[Text, Field(max_length=20)]] = Field(None, description="12 digits with a valid check digit.")
    phone: Optional[Annotated[Text, Field(max_length=30)]] = Field(None, description="A Kazakhstan number, any format.")
    address: Optional[Annotated[Text, Field(max_length=300)]] = None
    settlement_id: OptionalId = Field(None, description="An active settlement (GET /settlements); required unless "
                                                        "`applicant_kind` is `anonymous`.")
    signatories: Optional[Annotated[int, Field(ge=1, le=1000000)]] = Field(
        None, description="Required for `collective` appeals (at least 2, at most 100000); ignored otherwise.")
    appeal_type: Optional[Literal[APPEAL_TYPES]] = None
    category_id: OptionalId = Field(None, description="An active category (GET /categories).")
    summary: Optional[Annotated[Text, Field(max_length=SUMMARY_MAX)]] = None
    text: Optional[Annotated[Text, Field(max_length=TEXT_MAX)]] = None
    responsible_id: OptionalId = Field(None, description="A coordinator, or a clerk of the appeal's office.")
    repeat_of_id: OptionalId = Field(None, description="Link to an earlier appeal of the same applicant.")
    language: Optional[Literal[APPEAL_LANGUAGES]] = Field(
        None, description="The language notices and the answer letter go to the applicant in (default `kk`).")


class AppealIn(AppealFields):
    """Every rule is checked and every failing field reported at once (422, `errors`)."""

    office_id: Id = Field(description="An active office where you may register appeals.")
    received_at: Moment = Field(description="Local time (Asia/Almaty) unless an offset is given; not in the future.")
    channel: Literal[CHANNELS]
    appeal_type: Literal[APPEAL_TYPES]
    category_id: Id = Field(description="An active category (GET /categories).")
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


class AppealList(ResponseModel):
    items: list[AppealOut]


class AppealBulkIn(RequestModel):
    items: Annotated[list[AppealIn], Field(min_length=1, max_length=500, description="Up to 500 appeals.")]
