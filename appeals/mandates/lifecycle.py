"""A mandate's life after flagging: edits, status moves and progress notes."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from flask_babel import gettext as _

from appeals.auth.models import User
from appeals.core import audit, storage
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.privacy import MANDATE_AUDIT_MASKS, mask_changes
from appeals.core.storage import CleanFile
from appeals.core.timeutil import local_today, utcnow
from appeals.mandates import subscriptions
from appeals.mandates.directives import MandateError, date_field, int_field, text_field
from appeals.mandates.models import (
    MANDATE_STATUSES,
    Mandate,
    MandateProgressNote,
    MandateUpdatePhoto,
)
from appeals.reference.models import Settlement

MANDATE_FIELDS = ("title", "description", "settlement_id", "responsible", "responsible_user_id", "target_date", "status",
                  "progress_percent")
FINAL_STATUSES = ("fulfilled", "partially_fulfilled", "not_fulfilled")
# Where a mandate may go from each status by an edit; "withdrawn" only comes from unflagging.
TRANSITIONS = {
    "registered": {"in_progress", *FINAL_STATUSES},
    "in_progress": set(FINAL_STATUSES),
    "fulfilled": {"in_progress"},
    "partially_fulfilled": {"in_progress", "fulfilled"},
    "not_fulfilled": {"in_progress"},
    "withdrawn": set(),
}


def _clean_mandate(mandate: Mandate, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    if "title" in data:
        clean["title"] = text_field(data["title"], 500, "title", errors, required=True)
    if "description" in data:
        clean["description"] = text_field(data["description"], 20000, "description", errors)
    if "responsible" in data:
        clean["responsible"] = text_field(data["responsible"], 300, "responsible", errors)
    if "responsible_user_id" in data:
        value = int_field(data["responsible_user_id"], "responsible_user_id", errors)
        if value is not None and value != mandate.responsible_user_id:
            person = db.session.get(User, value)
            if person is None or not person.is_active:
                errors["responsible_user_id"] = _("Unknown value selected.")
        clean["responsible_user_id"] = value
    if "target_date" in data:
        clean["target_date"] = date_field(data["target_date"], "target_date", errors)
    if "settlement_id" in data:
        value = int_field(data["settlement_id"], "settlement_id", errors)
        if value is not None and db.session.get(Settlement, value) is None:
            errors["settlement_id"] = _("Settlement %(value)s does not exist.", value=value)
        clean["settlement_id"] = value
    if "progress_percent" in data:
        value = int_field(data["progress_percent"], "progress_percent", errors)
        if value is not None and not 0 <= value <= 100:
            errors["progress_percent"] = _("Progress is a percentage from 0 to 100.")
        clean["progress_percent"] = value if value is not None else mandate.progress_percent
    if "status" in data and data["status"] and data["status"] != mandate.status:
        status = data["status"]
        if status not in MANDATE_STATUSES:
            errors["status"] = _("Unknown value selected.")
        elif status not in TRANSITIONS[mandate.status]:
            errors["status"] = _("A mandate cannot go from “%(old)s” to “%(new)s”.",
                                 old=status_label(mandate.status), new=status_label(status))
        else:
            clean["status"] = status
    return clean, errors


def status_label(status: str) -> str:
    from appeals.core.labels import MANDATE_STATUS_LABELS

    return str(MANDATE_STATUS_LABELS.get(status, status))


def _apply_status_rules(mandate: Mandate) -> None:
    if mandate.status == "fulfilled":
        mandate.progress_percent = 100
    elif mandate.status == "registered" and mandate.progress_percent > 0:
        mandate.status = "in_progress"


def update_mandate(mandate: Mandate, data: Mapping[str, Any], actor: User | None) -> Mandate:
    with write_transaction():
        return apply_mandate_update(db.session.get(Mandate, mandate.id), data, actor)


def apply_mandate_update(mandate: Mandate, data: Mapping[str, Any], actor: User | None) -> Mandate:
    """update_mandate's rules inside the caller's open write transaction (batch jobs, the demo)."""
    if mandate.status == "withdrawn":
        raise MandateError(_("A withdrawn mandate cannot be changed."), "status")
    clean, errors = _clean_mandate(mandate, data)
    if errors:
        field = next(iter(errors))
        raise MandateError(errors[field], field, errors)
    before = audit.snapshot(mandate, MANDATE_FIELDS)
    for field, value in clean.items():
        setattr(mandate, field, value)
    _apply_status_rules(mandate)
    changes = audit.diff(before, audit.snapshot(mandate, MANDATE_FIELDS))
    if changes:
        audit.record("mandate.update", mandate, changes=mask_changes(changes, MANDATE_AUDIT_MASKS), user=actor)
    return mandate


MAX_PHOTOS = 6


def _clean_note(mandate: Mandate, noted_on: Any, note: Any, percent: Any,
                status: Any = None) -> tuple[date | None, str, int | None, str | None]:
    errors: dict[str, str] = {}
    noted_on = date_field(noted_on, "noted_on", errors) or (None if errors else local_today())
    note = text_field(note, 5000, "note", errors, required=True)
    percent = int_field(percent, "percent", errors)
    if percent is not None and not 0 <= percent <= 100:
        errors["percent"] = _("Progress is a percentage from 0 to 100.")
    if noted_on and noted_on > local_today():
        errors["noted_on"] = _("The date cannot be in the future.")
    status = (status or "").strip() or None
    if status == mandate.status:
        status = None
    if status is not None:
        if status not in MANDATE_STATUSES:
            errors["status"] = _("Unknown value selected.")
        elif status not in TRANSITIONS[mandate.status]:
            errors["status"] = _("A mandate cannot go from “%(old)s” to “%(new)s”.",
                                 old=status_label(mandate.status), new=status_label(status))
    if errors:
        field = next(iter(errors))
        raise MandateError(errors[field], field, errors)
    return noted_on, note, percent, status


def clean_photos(uploads: Sequence[bytes]) -> list[CleanFile]:
    """Check and re-encode an update's photos (before the write transaction: decoding is slow)."""
    uploads = [data for data in uploads if data]
    if len(uploads) > MAX_PHOTOS:
        raise MandateError(_("At most %(n)d photos per update.", n=MAX_PHOTOS), "photos")
    cleaned = []
    for data in uploads:
        try:
            cleaned.append(storage.clean_upload(data, allowed=storage.IMAGE_TYPES, field="photos"))
        except storage.FileRefused as refused:
            raise MandateError(refused.message, "photos") from None
    return cleaned


def add_progress_note(mandate: Mandate, noted_on: Any, note: Any, percent: Any, actor: User | None,
                      status: Any = None, photos: Sequence[bytes] = ()) -> MandateProgressNote:
    """A dated update on the mandate: text, optionally a percentage (moves the mandate's progress),
    a new status and photos. The caller checked "mandate.progress" for the actor."""
    _clean_note(mandate, noted_on, note, percent, status)
    cleaned = clean_photos(photos)
    with write_transaction():
        return record_progress_note(db.session.get(Mandate, mandate.id), noted_on, note, percent, actor,
                                    status=status, photos=cleaned)


def record_progress_note(mandate: Mandate, noted_on: Any, note: Any, percent: Any, actor: User | None,
                         status: Any = None, photos: Sequence[CleanFile] = ()) -> MandateProgressNote:
    """add_progress_note's rules inside the caller's open write transaction (batch jobs, the demo).

    Writes the note, its photos (core.storage), the audit record, and the subscribers' notices
    when the percentage or the status moved (appeals/mandates/subscriptions.py)."""
    if mandate.status == "withdrawn":
        raise MandateError(_("A withdrawn mandate cannot be changed."), "note")
    noted_on, note, percent, status = _clean_note(mandate, noted_on, note, percent, status)
    entry = MandateProgressNote(
        mandate=mandate, noted_on=noted_on, note=note, progress_percent=percent,
        user_id=getattr(actor, "id", None), created_at=utcnow(),
    )
    db.session.add(entry)
    for photo in photos:
        entry.photos.append(MandateUpdatePhoto(file_key=storage.put(photo.data, photo.content_type),
                                               content_type=photo.content_type, width=photo.width,
                                               height=photo.height))
    changes: dict[str, Any] = {"noted_on": noted_on, "note": note}
    before_status, before_percent = mandate.status, mandate.progress_percent
    if status is not None:
        mandate.status = status
    if percent is not None and percent != mandate.progress_percent:
        mandate.progress_percent = percent
    _apply_status_rules(mandate)
    if mandate.progress_percent != before_percent:
        changes["progress_percent"] = [before_percent, mandate.progress_percent]
    if mandate.status != before_status:
        changes["status"] = [before_status, mandate.status]
        entry.status = mandate.status
    if photos:
        changes["photos"] = len(photos)
    audit.record("mandate.progress", mandate, changes=changes, user=actor)
    db.session.flush()
    if "progress_percent" in changes or "status" in changes:
        subscriptions.queue_progress_notices(mandate, entry)
    return entry
