"""Hosts (deputies, candidates, office members) and their private calendar-feed tokens."""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from appeals.auth.models import User
from appeals.auth.permissions import can
from appeals.core import audit
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.text import clean_name
from appeals.core.tokens import hash_token
from appeals.reference.models import Office
from appeals.schedules.models import HOST_KINDS, Host
from appeals.schedules.sessions import ScheduleError

HOST_AUDIT_FIELDS = ("full_name", "position", "position_ru", "position_en", "kind", "office_id", "user_id", "is_active")


def _clean_host_data(data: dict[str, Any], host: Host | None = None) -> dict[str, Any]:
    full_name = clean_name(data.get("full_name"))
    if not full_name:
        raise ScheduleError(_("Enter the full name."), "full_name")
    if len(full_name) > 200:
        raise ScheduleError(_("At most %(n)d characters.", n=200), "full_name")
    positions = {}
    for name in ("position", "position_ru", "position_en"):
        value = " ".join(str(data.get(name) or "").split())
        if len(value) > 300:
            raise ScheduleError(_("At most %(n)d characters.", n=300), name)
        positions[name] = value
    position = positions["position"]
    kind = data.get("kind") or ""
    if kind not in HOST_KINDS:
        raise ScheduleError(_("Choose the kind of host."), "kind")
    office_id = data.get("office_id") or None
    if office_id is not None:
        office = db.session.get(Office, int(office_id)) if str(office_id).isdigit() else None
        if office is None:
            raise ScheduleError(_("Choose an existing office."), "office_id")
        office_id = office.id
    user_id = data.get("user_id") or None
    if user_id is not None:
        user = db.session.get(User, int(user_id)) if str(user_id).isdigit() else None
        if user is None or not can(user, "schedule.own"):
            raise ScheduleError(_("Link only an account with the role Host."), "user_id")
        taken = db.session.scalar(sa.select(Host.id).where(Host.user_id == user.id,
                                                           Host.id != (host.id if host else -1)))
        if taken:
            raise ScheduleError(_("This account is already linked to another host."), "user_id")
        user_id = user.id
    return {"full_name": full_name, "position": position, "position_ru": positions["position_ru"] or None,
            "position_en": positions["position_en"] or None, "kind": kind, "office_id": office_id,
            "user_id": user_id, "is_active": bool(data.get("is_active", True))}


def create_host(data: dict[str, Any], actor: User) -> Host:
    if not can(actor, "host.manage"):
        raise ScheduleError(_("You may not manage hosts."), None)
    with write_transaction():
        host = Host(**_clean_host_data(data))
        db.session.add(host)
        db.session.flush()
        changes = {name: [None, value] for name, value in audit.snapshot(host, HOST_AUDIT_FIELDS).items()}
        audit.record("host_created", host, label=host.full_name, changes=changes, user=actor)
    return host


def update_host(host: Host, data: dict[str, Any], actor: User) -> Host:
    if not can(actor, "host.manage"):
        raise ScheduleError(_("You may not manage hosts."), None)
    with write_transaction():
        host = db.session.merge(host)
        values = _clean_host_data(data, host)
        before = audit.snapshot(host, HOST_AUDIT_FIELDS)
        for name, value in values.items():
            setattr(host, name, value)
        changes = audit.diff(before, audit.snapshot(host, HOST_AUDIT_FIELDS))
        if changes:
            audit.record("host_updated", host, label=host.full_name, changes=changes, user=actor)
    return host


def may_manage_feed(user: User | None, host: Host) -> bool:
    """Coordinators manage every host's feed; a host may renew or revoke their own."""
    return can(user, "host.manage") or (can(user, "schedule.own") and host.user_id == user.id)


def regenerate_feed_token(host: Host, actor: User) -> tuple[Host, str]:
    """A new secret feed URL; the old one stops working at once. Returns (host, secret).

    Only the secret's digest is stored (like API tokens): the secret is shown to the user once."""
    if not may_manage_feed(actor, host):
        raise ScheduleError(_("You may not manage this calendar feed."), None)
    with write_transaction():
        host = db.session.merge(host)
        had_token = host.feed_token is not None
        secret = secrets.token_urlsafe(32)
        host.feed_token = hash_token(secret)
        audit.record("feed_token_regenerated", host, label=host.full_name, user=actor,
                     changes={"replaced_previous": [None, had_token]})
    return host, secret


def revoke_feed_token(host: Host, actor: User) -> Host:
    if not may_manage_feed(actor, host):
        raise ScheduleError(_("You may not manage this calendar feed."), None)
    with write_transaction():
        host = db.session.merge(host)
        host.feed_token = None
        audit.record("feed_token_revoked", host, label=host.full_name, user=actor)
    return host


def host_by_feed_token(token: str | None) -> Host | None:
    if not token or len(token) > 64:
        return None
    digest = hash_token(token)
    host = db.session.scalar(sa.select(Host).where(Host.feed_token == digest))
    if host is None or not host.is_active or not secrets.compare_digest(host.feed_token, digest):
        return None
    return host


def list_hosts(active: bool | None = None, office_id: int | None = None) -> Sequence[Host]:
    query = sa.select(Host).options(selectinload(Host.office), selectinload(Host.user)).order_by(Host.full_name)
    if active is not None:
        query = query.where(Host.is_active.is_(active))
    if office_id:
        query = query.where(Host.office_id == office_id)
    return db.session.scalars(query).all()
