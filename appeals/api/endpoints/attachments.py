"""An appeal's files: list, download, attach, remove — the register's attachment service
(appeals/register/attachments.py) under the same permissions as the appeal page: roles that see the
applicant masked get 403, another office's appeal is 403, every download is audited."""
from flask import request, url_for

from appeals.api.endpoints import current, get_or_404, require
from appeals.api.problems import ApiError
from appeals.api.registry import endpoint
from appeals.api.schemas import attachments as schemas
from appeals.api.views import bp
from appeals.core.storage import UPLOAD_TYPES
from appeals.core.web import file_response
from appeals.register import attachments
from appeals.register.models import Appeal


def attachment_out(attachment):
    return {
        "id": attachment.id, "name": attachment.name, "content_type": attachment.content_type,
        "size": attachment.size, "kind": attachment.kind, "source": attachment.source, "pages": attachment.pages,
        "width": attachment.width, "height": attachment.height, "added_at": attachment.added_at,
        "added_by_id": attachment.added_by_id,
        "download": url_for("api.download_attachment", appeal_id=attachment.appeal_id, attachment_id=attachment.id),
    }


def _appeal(appeal_id, action):
    """The appeal, if the user sees it (403 otherwise, as on the pages) and may do `action` with its files."""
    appeal = get_or_404(Appeal, appeal_id)
    require("appeal.view", appeal)
    require(action, appeal)
    return appeal


def _attachment(appeal, attachment_id):
    attachment = attachments.get_attachment(appeal, attachment_id)
    if attachment is None:
        raise ApiError(404)
    return attachment


@endpoint(bp, "GET", "/appeals/<int:appeal_id>/attachments", summary="List an appeal's files", tag="Appeals",
          response=schemas.AttachmentList, permission="appeal.attachments.view")
def list_attachments(appeal_id):
    """The appeal's files and the answer's, without their bytes. Roles that see personal data masked
    see no files (403)."""
    appeal = _appeal(appeal_id, "appeal.attachments.view")
    return {"items": [attachment_out(item) for item in attachments.visible_attachments(appeal, current())]}


@endpoint(bp, "GET", "/appeals/<int:appeal_id>/attachments/<int:attachment_id>", summary="Download a file of an appeal",
          tag="Appeals", permission="appeal.attachments.view", media_type=tuple(UPLOAD_TYPES))
def download_attachment(appeal_id, attachment_id):
    """The bytes as they were kept, with their type; the opening is recorded in the audit trail."""
    appeal = _appeal(appeal_id, "appeal.attachments.view")
    attachment = _attachment(appeal, attachment_id)
    data = attachments.open_attachment_audited(attachment, current())
    return file_response(data, attachment.content_type, attachment.name)


@endpoint(bp, "POST", "/appeals/<int:appeal_id>/attachments", summary="Attach files to an appeal or its answer",
          tag="Appeals", upload=schemas.AttachmentForm, response=schemas.AttachmentList, status=201,
          permission="appeal.attachments.add", idempotent=True)
def add_attachments(appeal_id, form):
    """All the files are kept or, if one is refused (its type, a cap), none: 422 names each refused
    file under `files`. Not on a closed or withdrawn appeal (403, as on the page). Send an
    Idempotency-Key: a retry returns the first answer instead of attaching the files twice."""
    appeal = _appeal(appeal_id, "appeal.attachments.add")
    uploads = attachments.read_uploads(request.files.getlist(schemas.AttachmentForm.FILES_FIELD))
    added = attachments.attach_files(appeal, uploads, current(), kind=form.kind)
    return {"items": [attachment_out(item) for item in added]}


@endpoint(bp, "DELETE", "/appeals/<int:appeal_id>/attachments/<int:attachment_id>", summary="Remove a file of an appeal",
          tag="Appeals", status=204, permission="appeal.attachments.remove")
def remove_attachment(appeal_id, attachment_id):
    """A file attached by mistake: its row and its bytes go; the audit trail keeps that it was there."""
    appeal = _appeal(appeal_id, "appeal.attachments.remove")
    attachments.remove_attachment(_attachment(appeal, attachment_id), current())
