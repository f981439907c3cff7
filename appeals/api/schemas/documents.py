"""Schemas of the printed documents and their background jobs (api/endpoints/documents.py)."""
from typing import Literal, Optional

from pydantic import Field

from appeals.api.schemas.base import Day, Id, QueryModel, ResponseModel, UtcDateTime
from appeals.core.jobs import JOB_STATUSES
from appeals.mandates.queries import MANDATE_FILTER_STATUSES
from appeals.register.models import APPEAL_STATUSES, APPEAL_TYPES, CHANNELS

Lang = Optional[Literal["kk", "ru", "en"]]
LANG_DESCRIPTION = "The document's language (default: the request's language)."
BACKGROUND_DESCRIPTION = ("Make it by a background job (202) even when it is small; large documents always are "
                          "(REPORT_BACKGROUND_ROWS journal rows, REPORT_BACKGROUND_MANDATES mandates).")


class DocumentQuery(QueryModel):
    lang: Lang = Field(None, description=LANG_DESCRIPTION)


class JournalQuery(DocumentQuery):
    """The register's filters (as GET /appeals, without the search term); in number order."""

    office_id: Optional[Id] = None
    district_id: Optional[Id] = None
    settlement_id: Optional[Id] = None
    category_id: Optional[Id] = None
    host_id: Optional[Id] = None
    date_from: Optional[Day] = Field(None, description="Received on or after this day.")
    date_to: Optional[Day] = Field(None, description="Received on or before this day.")
    status: Optional[Literal[APPEAL_STATUSES + ("open",)]] = None
    appeal_type: Optional[Literal[APPEAL_TYPES]] = None
    channel: Optional[Literal[CHANNELS]] = None
    overdue: bool = False
    background: bool = Field(False, description=BACKGROUND_DESCRIPTION)

    def list_filter_args(self) -> dict[str, str]:
        """The register's own argument names (register.queries.parse_list_filters), as the page's job keeps them."""
        names = {"office_id": "office", "district_id": "district", "settlement_id": "settlement",
                 "category_id": "category", "host_id": "host"}
        args = {}
        for name, value in self.model_dump(exclude_none=True, exclude={"lang", "background"}).items():
            if value is not False:
                args[names.get(name, name)] = "1" if value is True else str(value)
        return args


class MandatesDocumentQuery(DocumentQuery):
    version: Literal["public", "internal"] = Field(
        "public", description="public: each mandate's reviewed public text only; internal (coordinators): titles, "
                              "appeals and applicants, its printing audited.")
    group: Literal["settlement", "category"] = "settlement"
    directive_id: Optional[Id] = None
    office_id: Optional[Id] = None
    district_id: Optional[Id] = None
    settlement_id: Optional[Id] = None
    category_id: Optional[Id] = None
    status: Optional[Literal[MANDATE_FILTER_STATUSES]] = None
    date_from: Optional[Day] = Field(None, description="Registered on or after this day.")
    date_to: Optional[Day] = Field(None, description="Registered on or before this day.")
    background: bool = Field(False, description=BACKGROUND_DESCRIPTION)


class ScheduleDocumentQuery(DocumentQuery):
    period: Literal["week", "month"] = "week"
    date: Optional[Day] = Field(None, description="A day of the week or month to print (default: today).")
    office_id: Optional[Id] = None
    host_id: Optional[Id] = Field(None, description="One host's sessions (a host's own token: their own by default).")


class SummaryDocumentQuery(DocumentQuery):
    date_from: Optional[Day] = Field(None, description="Default: the last 30 full days.")
    date_to: Optional[Day] = None


class JobOut(ResponseModel):
    id: int
    kind: str
    status: Literal[JOB_STATUSES]
    progress: int
    total: int
    position: int = Field(description="Place among your waiting jobs (1: next to start); 0 unless queued.")
    download: Optional[str] = Field(description="Where to fetch the document once status is done.")
    error: Optional[str] = Field(description="Why it failed (status failed), in the job's language.")
    created_at: UtcDateTime
    finished_at: Optional[UtcDateTime]
