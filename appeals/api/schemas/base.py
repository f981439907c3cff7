"""What every API schema shares: text and date types, request/query/response bases, problems, pages."""
import datetime as dt
from datetime import datetime, timezone
from typing import Annotated, Any, ClassVar, Literal, Optional

from flask import current_app, g, has_request_context
from flask_babel import gettext as _
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, model_validator

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
    """Query strings arrive as text, so numbers are parsed; unknown parameters are errors.

    RENAMED maps the names of an earlier release to today's (`office` → `office_id`): the old name
    still works for one release, and the response then carries a Deprecation header (RFC 9745)."""

    model_config = ConfigDict(extra="forbid")
    RENAMED: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _accept_old_names(cls, data: Any) -> Any:
        if not cls.RENAMED or not isinstance(data, dict):
            return data
        used = [old for old in cls.RENAMED if old in data]
        if not used:
            return data
        data = dict(data)
        for old in used:
            new, value = cls.RENAMED[old], data.pop(old)
            if new in data and data[new] != value:
                raise ValueError(_("Send %(new)s only: %(old)s is its old name.", new=new, old=old))
            data.setdefault(new, value)
        if has_request_context():
            g.api_deprecated_names = sorted({*getattr(g, "api_deprecated_names", ()), *used})
        return data


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


# Counting stops here: a larger result says "at least this many" (total_exact false) instead of
# counting every row of the table on each page.
EXACT_COUNT_LIMIT = 100000


class PageInfo(ResponseModel):
    page: int
    size: int
    has_next: bool
    total: int = Field(description="Items matching the filters, on every page; see total_exact.")
    total_exact: bool = Field(description=f"False when more than {EXACT_COUNT_LIMIT:,} items match: counting then "
                                          f"stops and `total` is a lower bound ({EXACT_COUNT_LIMIT:,}).")
