"""Scans and photos kept with an appeal and its answer (issue 16, item 5).

The bytes go through the one file store (appeals/core/storage.py): the type is read from them,
pictures are re-encoded without their metadata (a phone photo's GPS position), PDFs are checked.
This module adds what belongs to the register: who may add, list, open and remove an appeal's files
(appeals/auth/permissions.py, "appeal.attachments.*"), the caps per appeal, and the audit trail:
every file added, opened or removed is recorded, without its name (a file name is often the
applicant's name or IIN).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from appeals.auth.permissions import can
from appeals.core import audit, storage
from appeals.core.database import write_transaction
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.text import clean_name
from appeals.core.timeutil import utcnow
from appeals.register.models import ANSWERED_STATUSES, ATTACHMENT_KINDS, Appeal, AppealAttachment

FIELD = "files"
NAME_MAX = 200


@dataclass(frozen=True)
class Upload:
    """One file as it arrived: the sender's name for it and its bytes (read within the size cap)."""

    name: str
    data: bytes


def max_files(online: bool = False) -> int:
    key = "ONLINE_ATTACHMENTS_MAX_FILES" if online else "ATTACHMENTS_MAX_FILES"
    return int(current_app.config.get(key) or (5 if online else 20))


def max_total_bytes() -> int:
    return int(current_app.config.get("ATTACHMENTS_MAX_BYTES") or 50 * 1024 * 1024)


def read_uploads(files: Iterable[Any]) -> list[Upload]:
    """The non-empty werkzeug FileStorage objects of a form as Uploads, each read within the
    per-file cap (FileRefused on the `files` field when one is larger)."""
    uploads = []
    limit = storage.max_file_bytes()
    for item in files:
        if item is None or not getattr(item, "filename", ""):
            continue
        try:
            data = storage.read_limited(item.stream, limit)
        except storage.FileRefused as refused:
            raise DomainError(errors={FIELD: [f"{_display_name(item.filename)}: {refused.message}"]}) from None
        uploads.append(Upload(item.filename, data))
    return uploads


def _display_name(name: str) -> str:
    # Only the last part of a path a browser may send ("C:\\Users\\...\\scan.pdf").
    base = clean_name(str(name or "").replace("\\", "/").rsplit("/", 1)[-1])
    return base[:NAME_MAX] or _("file")


def stored_name(name: str, extension: str) -> str:
    base = _display_name(name)
    stem = base.rsplit(".", 1)[0] if "." in base else base
    # The extension follows the type read from the bytes, whatever the name said.
    return f"{stem[: NAME_MAX - len(extension) - 1]}.{extension}"


def prepare_uploads(appeal: Optional[Appeal], uploads: Sequence[Upload], *, online: bool = False) -> list[tuple[Upload, storage.CleanFile]]:
    """Check every upload and the appeal's caps at once; DomainError listing every refused file."""
    errors: list[str] = []
    existing_count, existing_bytes = (0, 0) if appeal is None or appeal.id is None else db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(AppealAttachment.size), 0))
        .where(AppealAttachment.appeal_id == appeal.id)).one()
    limit_files = max_files(online)
    if existing_count + len(uploads) > limit_files:
        errors.append(_("At most %(count)s files can be attached to one appeal.", count=limit_files))
    cleaned = []
    for upload in uploads:
        try:
            cleaned.append((upload, storage.clean_upload(upload.data)))
        except storage.FileRefused as refused:
            errors.append(f"{_display_name(upload.name)}: {refused.message}")
    total = existing_bytes + sum(clean.size for _upload, clean in cleaned)
    if total > max_total_bytes():
        errors.append(_("The files of one appeal may take at most %(size)s MB in all.",
                        size=max_total_bytes() // (1024 * 1024)))
    if errors:
        raise DomainError(errors={FIELD: errors})
    return cleaned


def add_attachments_in_transaction(appeal: Appeal, prepared: Sequence[tuple[Upload, storage.CleanFile]], actor: Any,
                                   *, kind: str = "appeal", source: str = "clerk") -> list[AppealAttachment]:
    """Store prepared files and their rows inside the caller's write transaction (the online form
    attaches in the same transaction that registers the appeal); writes an audit record each."""
    if kind not in ATTACHMENT_KINDS:
        raise ValueError(kind)
    rows = []
    for upload, clean in prepared:
        key = storage.put(clean.data, clean.content_type)
        row = AppealAttachment(
            appeal_id=appeal.id, file_key=key, kind=kind, source=source,
            name=stored_name(upload.name, clean.extension), content_type=clean.content_type, size=clean.size,
            pages=clean.pages, width=clean.width, height=clean.height,
            added_by_id=getattr(actor, "id", None), added_at=utcnow())
        db.session.add(row)
        db.session.flush()
        audit.record("attachment_added", appeal, user=actor, changes={
            "attachment": [None, row.id], "kind": [None, kind], "content_type": [None, clean.content_type],
            "size": [None, clean.size]})
        rows.append(row)
    return rows


def attach_files(appeal: Appeal, uploads: Sequence[Upload], actor: Any, *, kind: str = "appeal") -> list[AppealAttachment]:
    """A clerk's or coordinator's files for the appeal (or its answer); all or none are kept."""
    if not can(actor, "appeal.attachments.add", appeal):
        raise DomainError(_("You may not attach files to this appeal."), kind="forbidden")
    if not uploads:
        raise DomainError(errors={FIELD: [_("Choose at least one file.")]})
    with write_transaction():
        locked = db.session.get(Appeal, appeal.id, with_for_update=True, populate_existing=True)
        prepared = prepare_uploads(locked, uploads)
        return add_attachments_in_transaction(locked, prepared, actor, kind=kind, source="clerk")


def visible_attachments(appeal: Appeal, user: Any) -> list[AppealAttachment]:
    """The appeal's files for `user`: none at all for roles that see the applicant masked."""
    if not can(user, "appeal.attachments.view", appeal):
        return []
    return list(db.session.scalars(sa.select(AppealAttachment).where(AppealAttachment.appeal_id == appeal.id)
                                   .order_by(AppealAttachment.kind, AppealAttachment.id)))


def get_attachment(appeal: Appeal, attachment_id: int) -> Optional[AppealAttachment]:
    attachment = db.session.get(AppealAttachment, attachment_id)
    return attachment if attachment is not None and attachment.appeal_id == appeal.id else None


def open_attachment_audited(attachment: AppealAttachment, user: Any) -> bytes:
    """The file's bytes for `user`, after the permission check; writes the audit record of the opening."""
    appeal = attachment.appeal
    if not can(user, "appeal.attachments.view", appeal):
        raise DomainError(_("You may not open this file."), kind="forbidden")
    data = storage.get(attachment.file_key)
    if data is None:
        raise DomainError(_("The file is missing from the store."), kind="not_found")
    with write_transaction():
        audit.record("attachment_opened", appeal, user=user, changes={"attachment": [None, attachment.id]})
    return data


def remove_attachment(attachment: AppealAttachment, actor: Any) -> None:
    """Remove a file attached by mistake: its row and its bytes; the audit trail keeps that it was there."""
    appeal = attachment.appeal
    if not can(actor, "appeal.attachments.remove", appeal):
        raise DomainError(_("You may not remove files of this appeal."), kind="forbidden")
    with write_transaction():
        key, attachment_id = attachment.file_key, attachment.id
        db.session.delete(attachment)
        db.session.flush()
        storage.delete(key)
        audit.record("attachment_removed", appeal, user=actor, changes={"attachment": [attachment_id, None]})


def citizen_attachments(appeal: Appeal, kind: str = "answer") -> list[AppealAttachment]:
    """What the applicant may download on the tracking page: the answer's files, once answered."""
    if appeal.status not in ANSWERED_STATUSES:
        return []
    return list(db.session.scalars(sa.select(AppealAttachment).where(
        AppealAttachment.appeal_id == appeal.id, AppealAttachment.kind == kind).order_by(AppealAttachment.id)))


def open_citizen_file_audited(attachment: AppealAttachment) -> Optional[bytes]:
    """An answer's file for the holder of the tracking link; writes the audit record of the download."""
    data = storage.get(attachment.file_key)
    if data is not None:
        with write_transaction():
            audit.record("attachment_opened_by_applicant", attachment.appeal, user=None,
                         changes={"attachment": [None, attachment.id]})
    return data
