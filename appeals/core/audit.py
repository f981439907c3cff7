"""The audit trail every domain writes to: who did what to which object, with before/after values.

Records are append-only: the application has no path that updates or deletes them.
"""
from datetime import date, datetime, time
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column

from appeals.core.extensions import db
from appeals.core.timeutil import utcnow


class AuditRecord(db.Model):
    __tablename__ = "audit_records"
    __table_args__ = (
        sa.Index("ix_audit_object", "object_type", "object_id"),
        # The repeat check counts a clerk's look-ups that matched an IIN or phone in the last hour.
        sa.Index("ix_audit_repeat_matches", "user_id", "created_at",
                 postgresql_where=sa.text("action = 'repeat_check_matched'"),
                 sqlite_where=sa.text("action = 'repeat_check_matched'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(sa.String(64), default="")
    action: Mapped[str] = mapped_column(sa.String(40), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[Optional[str]] = mapped_column(sa.String(40))
    object_label: Mapped[str] = mapped_column(sa.String(200), default="")
    changes: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    ip_address: Mapped[str] = mapped_column(sa.String(64), default="")

    def __repr__(self):
        return f"<AuditRecord {self.action} {self.object_type}:{self.object_id}>"


def _jsonable(value):
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if hasattr(value, "id") and hasattr(value, "__tablename__"):
        return value.id
    return value


def snapshot(obj, fields):
    """The current values of `fields`, ready to diff after a change."""
    return {field: _jsonable(getattr(obj, field)) for field in fields}


def diff(before, after):
    """Fields whose value changed, as {field: [old, new]}."""
    return {
        field: [before.get(field), after.get(field)]
        for field in after
        if before.get(field) != after.get(field)
    }


def record(action, obj=None, *, object_type=None, object_id=None, label=None, changes=None, user=None):
    """Add an audit record to the current transaction; it commits or rolls back with the change itself."""
    actor = user
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user
    if obj is not None:
        if getattr(obj, "id", 0) is None:
            db.session.flush()
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
        if label is None:
            label = str(getattr(obj, "number", None) or getattr(obj, "username", None) or getattr(obj, "code", "") or "")
    entry = AuditRecord(
        user_id=getattr(actor, "id", None),
        username=getattr(actor, "username", "") or "system",
        action=action,
        object_type=object_type or "",
        object_id=None if object_id is None else str(object_id),
        object_label=(label or "")[:200],
        changes=_jsonable(changes) if changes else None,
        ip_address=(request.remote_addr or "") if has_request_context() else "",
    )
    db.session.add(entry)
    return entry
