"""Schemas of the reception-session endpoints (api/endpoints/schedules.py)."""
import datetime as dt
from typing import Annotated, Literal, Optional

from pydantic import Field

from appeals.api.schemas.base import Day, Id, PageInfo, PageQuery, RequestModel, ResponseModel, Text, TimeOfDay, UtcDateTime
from appeals.schedules.models import SESSION_STATUSES


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


class SessionList(ResponseModel):
    items: list[SessionOut]


class SessionBulkIn(RequestModel):
    items: Annotated[list[SessionIn], Field(min_length=1, max_length=500, description="Up to 500 sessions.")]


class HeldItem(RequestModel):
    id: Id
    visitors: Annotated[int, Field(ge=0, le=10000)]


class HeldBulkIn(RequestModel):
    items: Annotated[list[HeldItem], Field(min_length=1, max_length=500, description="Up to 500 sessions.")]
