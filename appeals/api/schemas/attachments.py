"""Schemas of an appeal's files (api/endpoints/attachments.py)."""
from typing import ClassVar, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from appeals.api.schemas.base import ResponseModel, UtcDateTime
from appeals.core.storage import UPLOAD_TYPES
from appeals.register.models import ATTACHMENT_KINDS, ATTACHMENT_SOURCES


class AttachmentOut(ResponseModel):
    """A file kept with the appeal (its letter and enclosures) or with its answer; the bytes are at `download`."""

    id: int
    name: str = Field(description="The sender's file name, cleaned; the extension follows the type read from the bytes.")
    content_type: Literal[tuple(UPLOAD_TYPES)]
    size: int = Field(description="Bytes, after pictures were re-encoded without their metadata.")
    kind: Literal[ATTACHMENT_KINDS] = Field(description="`appeal`: the appeal and its enclosures; `answer`: the answer's.")
    source: Literal[ATTACHMENT_SOURCES] = Field(description="`citizen`: sent with an online appeal.")
    pages: int = Field(description="Pages of a PDF (0 for a picture).")
    width: int = Field(description="Pixels of a picture (0 for a PDF).")
    height: int
    added_at: UtcDateTime
    added_by_id: Optional[int] = Field(description="The clerk or coordinator; empty for the citizen's own files.")
    download: str = Field(description="GET it for the bytes (the opening is audited).")


class AttachmentList(ResponseModel):
    items: list[AttachmentOut]


class AttachmentForm(BaseModel):
    """The text fields of POST /appeals/{id}/attachments (multipart/form-data)."""

    model_config = ConfigDict(extra="forbid")
    FILES_FIELD: ClassVar[str] = "files"
    FILES_DESCRIPTION: ClassVar[str] = (
        "One or more files: JPEG, PNG, WebP or PDF, the type read from the bytes. Pictures are re-encoded "
        "(EXIF, GPS and other metadata dropped); caps per file and per appeal as on the appeal page.")

    kind: Literal[ATTACHMENT_KINDS] = Field("appeal", description="Attach to the appeal (default) or to its answer.")
