"""Server-side session records: a signed-in browser is valid only while its row says so.

Flask's signed cookie alone cannot be taken back: a copy of it worked for eight hours after
logout, from anywhere. The cookie now also carries a random secret whose SHA-256 is a row in
`user_sessions`; the user loader accepts the cookie only while that row is neither revoked
(logout, password change, deactivation) nor idle for longer than the role's idle timeout.

Why not Flask-Session: it moves the whole session dictionary to the server, but it keys rows by
session id only, so "end every session of this user" (a password change, a deactivation) would
still need a table from user to sessions. This table is that index and all we need; the cookie
keeps carrying the locale and CSRF secret as before.
"""
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Optional

import sqlalchemy as sa
from flask import current_app, has_request_context, request, session

from appeals.auth.models import User, UserSession
from appeals.auth.permissions import can
from appeals.core.database import separate_write, write_transaction
from appeals.core.extensions import db
from appeals.core.timeutil import utcnow

SESSION_KEY = "sid"
# last_seen_at is written at most this often: one small write a minute per active browser.
TOUCH_EVERY = timedelta(seconds=60)


def _now() -> datetime:
    return utcnow()


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def idle_timeout(user: User) -> timedelta:
    """Roles that see citizens' personal data are signed out sooner when they leave the desk."""
    config = current_app.config
    minutes = config["SESSION_IDLE_MINUTES"] if can(user, "appeal.view_personal") else config["SESSION_IDLE_MINUTES_OTHER"]
    return timedelta(minutes=minutes)


def _lifetime() -> timedelta:
    value = current_app.config["PERMANENT_SESSION_LIFETIME"]
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def start_session(user: User) -> str:
    """Record a new signed-in browser for `user` and put its secret into the cookie session."""
    secret = secrets.token_urlsafe(32)
    now = _now()
    address, agent = "", ""
    if has_request_context():
        address = (request.remote_addr or "")[:64]
        agent = (request.user_agent.string or "")[:200]
    with write_transaction():
        db.session.add(UserSession(user_id=user.id, secret_hash=_hash(secret), created_at=now, last_seen_at=now,
                                   ip_address=address, user_agent=agent))
    session[SESSION_KEY] = secret
    return secret


def is_valid(user: User, secret: Optional[str]) -> bool:
    """Whether the cookie's session is a live record of `user`; refreshes its last activity."""
    if not secret or len(secret) > 100:
        return False
    record = db.session.scalar(sa.select(UserSession).where(UserSession.secret_hash == _hash(secret)))
    now = _now()
    if record is None or record.user_id != user.id or record.revoked_at is not None:
        return False
    if record.last_seen_at + idle_timeout(user) <= now or record.created_at + _lifetime() <= now:
        return False
    if now - record.last_seen_at >= TOUCH_EVERY:
        # On a connection of its own: the request's transaction stays a read until it writes.
        with separate_write() as connection:
            connection.execute(sa.update(UserSession.__table__).where(UserSession.id == record.id).values(last_seen_at=now))
    return True


def end_current_session() -> None:
    """Logout: the record is revoked, so a copy of the cookie is worth nothing from now on."""
    secret = session.get(SESSION_KEY)
    if not secret:
        return
    with write_transaction():
        db.session.execute(
            sa.update(UserSession).where(UserSession.secret_hash == _hash(secret), UserSession.revoked_at.is_(None))
            .values(revoked_at=_now())
        )


def revoke_user_sessions(user: User) -> int:
    """End every session of `user` inside the caller's transaction (password change, deactivation)."""
    result = db.session.execute(
        sa.update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    return result.rowcount or 0  # type: ignore[attr-defined]  # an UPDATE/DELETE gives a CursorResult


def purge_expired_sessions(now: Optional[datetime] = None) -> int:
    """Delete records no cookie can use any more (for the scheduled clean-up); returns how many."""
    now = now or _now()
    config = current_app.config
    longest_idle = timedelta(minutes=max(config["SESSION_IDLE_MINUTES"], config["SESSION_IDLE_MINUTES_OTHER"]))
    with write_transaction():
        result = db.session.execute(
            sa.delete(UserSession).where(sa.or_(
                UserSession.revoked_at.is_not(None),
                UserSession.last_seen_at < now - longest_idle,
                UserSession.created_at < now - _lifetime(),
            ))
        )
    return result.rowcount or 0  # type: ignore[attr-defined]  # an UPDATE/DELETE gives a CursorResult
