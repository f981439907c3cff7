"""Staff members' notification settings and inbox (the rules; views stay thin)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Mapping

import sqlalchemy as sa
from flask_babel import gettext as _

from appeals.core import outbox
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.outbox import Notice, NotificationPreference
from appeals.core.timeutil import utcnow

if TYPE_CHECKING:
    from appeals.auth.models import User

PHONE_RE = re.compile(r"^\+?[0-9]{10,15}$")


class PreferenceError(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def preferences(user: User) -> dict:
    return outbox.preferences(user.id)


def save_preferences(user: User, form: Mapping) -> dict:
    """Channels (email, sms, inapp: checkboxes), delivery ("immediate" or "digest") and the SMS phone."""
    values: dict[str, object] = {channel: form.get(channel) in ("1", "on", "true", "y") for channel in ("email", "sms", "inapp")}
    delivery = form.get("delivery", "immediate")
    if delivery not in ("immediate", "digest"):
        raise PreferenceError(_("Choose immediate notices or a daily digest."), "delivery")
    values["digest"] = delivery == "digest"
    phone = re.sub(r"[\s()-]", "", form.get("phone") or "")
    if phone and not PHONE_RE.match(phone):
        raise PreferenceError(_("Enter the mobile number with its country code, e.g. +77011234567."), "phone")
    if values["sms"] and not phone:
        raise PreferenceError(_("Enter a mobile number to get notices by SMS."), "phone")
    if values["email"] and not user.email:
        raise PreferenceError(_("Your account has no e-mail address; ask an administrator to add it."), "email")
    values["phone"] = phone
    with write_transaction():
        row = db.session.get(NotificationPreference, user.id)
        if row is None:
            row = NotificationPreference(user_id=user.id)
            db.session.add(row)
        for key, value in values.items():
            setattr(row, key, value)
    return values


def mark_read(user: User) -> int:
    with write_transaction():
        return db.session.execute(sa.update(Notice).where(  # type: ignore[attr-defined]  # an UPDATE/DELETE gives a CursorResult
            Notice.user_id == user.id, Notice.channel == "inapp", Notice.read_at.is_(None)).values(read_at=utcnow())
        ).rowcount
