"""Login throttling that slows password guessing without letting anyone lock users out.

Three counters of failed attempts, kept in `login_throttle` so that every worker shares them:

* per client address (``addr:``): after LOGIN_MAX_FAILURES_PER_ADDRESS failures each further
  attempt from that address must wait a growing delay (1 s, 2 s, 4 s ... up to
  LOGIN_MAX_DELAY_SECONDS) after the previous failure. A successful login from the address
  resets it. An attacker is slowed to about one guess a minute; nobody is locked out.
* per account (``user:``), for browsers the account has not logged in from: after
  LOGIN_MAX_FAILURES failures the account refuses such browsers for LOGIN_LOCK_SECONDS.
* per device (``dev:``): a browser that logged in successfully gets a signed device cookie for
  that account (OWASP's "device cookies"). It is exempt from both locks above, so an anonymous
  attacker cannot keep a user out of the browser they work in; its own failures count on the
  device counter and, after LOGIN_MAX_FAILURES of them, the cookie is trusted no more.

The delays and the reset on success are what a bucket limiter (pyrate-limiter, Flask-Limiter)
does not model, and the rows must be shared across gunicorn workers in the database anyway.
"""
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from appeals.auth.models import LoginThrottle
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.timeutil import utcnow

DEVICE_COOKIE = "qab_device"


def _now() -> datetime:
    return utcnow()


def _normal(username: Optional[str]) -> str:
    return (username or "").strip().lower()


@dataclass
class Client:
    """Who is trying: the claimed account, the address, and the device the browser presented."""

    username: str
    address: str
    device: Optional[str] = None  # the device cookie's nonce, when it is valid for this account

    @property
    def user_key(self) -> str:
        return f"user:{_normal(self.username)}"

    @property
    def address_key(self) -> str:
        return f"addr:{self.address or 'unknown'}"

    @property
    def device_key(self) -> Optional[str]:
        return f"dev:{self.device}" if self.device else None


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="login-device")


def issue_device_cookie(username: str) -> str:
    """A signed value naming the account and a random nonce, set after a successful login."""
    return _serializer().dumps({"u": _normal(username), "n": secrets.token_urlsafe(16)})


def device_from_cookie(raw: Optional[str], username: str) -> Optional[str]:
    """The device nonce if the cookie is genuine, recent and was issued for this account."""
    if not raw:
        return None
    max_age = current_app.config["LOGIN_DEVICE_COOKIE_DAYS"] * 86400
    try:
        data = _serializer().loads(raw, max_age=max_age)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != _normal(username) or not isinstance(data.get("n"), str):
        return None
    return data["n"]


def _rows(keys: list[str]) -> dict[str, LoginThrottle]:
    keys = [key for key in keys if key]
    return {row.key: row for row in db.session.scalars(sa.select(LoginThrottle).where(LoginThrottle.key.in_(keys)))}


def _window() -> timedelta:
    return timedelta(seconds=current_app.config["LOGIN_LOCK_SECONDS"])


def _fresh(row: Optional[LoginThrottle], now: datetime) -> bool:
    """A row counts while its last failure is younger than the lock window."""
    return row is not None and (row.locked_until or row.first_failure_at) + _window() > now


def _seconds_until(moment: Optional[datetime], now: datetime) -> int:
    if moment is None or moment <= now:
        return 0
    return math.ceil((moment - now).total_seconds())


def _device_trusted(client: Client, rows: dict[str, LoginThrottle], now: datetime) -> bool:
    if not client.device_key:
        return False
    row = rows.get(client.device_key)
    return not (_fresh(row, now) and row.failures >= current_app.config["LOGIN_MAX_FAILURES"])


def wait_seconds(client: Client) -> int:
    """Seconds before this client may try a password again; 0 when it may try now."""
    now = _now()
    rows = _rows([client.user_key, client.address_key, client.device_key])
    if _device_trusted(client, rows, now):
        return 0
    waits = []
    for key in (client.user_key, client.address_key):
        row = rows.get(key)
        if _fresh(row, now):
            waits.append(_seconds_until(row.locked_until, now))
    return max(waits, default=0)


def _delay_for(failures: int) -> Optional[timedelta]:
    """The growing per-address delay: none below the limit, then 1, 2, 4 ... seconds, capped."""
    config = current_app.config
    over = failures - config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    if over < 0:
        return None
    return timedelta(seconds=min(2 ** min(over, 30), config["LOGIN_MAX_DELAY_SECONDS"]))


def register_failure(client: Client) -> None:
    """Count a failed attempt; the caller's transaction writes it."""
    now = _now()
    trusted = _device_trusted(client, _rows([client.device_key]), now)
    keys = [client.address_key, client.device_key if trusted else client.user_key]
    rows = _rows(keys)
    for key in keys:
        row = _counted(rows.get(key), key, now)
        row.first_failure_at = row.first_failure_at or now
        if key.startswith("addr:"):
            delay = _delay_for(row.failures)
            row.locked_until = now + delay if delay else None
        elif row.failures >= current_app.config["LOGIN_MAX_FAILURES"]:
            # Locks the account for unknown browsers, or ends the trust in this device cookie.
            row.locked_until = now + _window()


def _counted(row: LoginThrottle | None, key: str, now: datetime) -> LoginThrottle:
    """The throttle row of `key` with one more failure; a new window once the last one is over."""
    if row is None:
        row = LoginThrottle(key=key, failures=0, first_failure_at=now)
        db.session.add(row)
    elif not _fresh(row, now):
        row.failures, row.first_failure_at, row.locked_until = 0, now, None
    row.failures += 1
    return row


def register_success(client: Client) -> None:
    """A correct password: forget the failures this attempt was counted against.

    A trusted device clears its own counter and the address's, not the account's: otherwise each
    of the user's daily logins would hand a guesser elsewhere a fresh set of attempts.
    """
    now = _now()
    trusted = _device_trusted(client, _rows([client.device_key]), now)
    keys = [client.address_key, client.device_key if trusted else client.user_key]
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key.in_([key for key in keys if key])))


def key_wait_seconds(key: str) -> int:
    """For a check of a secret other than the login form (current password, TOTP code): the wait."""
    now = _now()
    row = db.session.get(LoginThrottle, key)
    return _seconds_until(row.locked_until, now) if _fresh(row, now) else 0


def register_key_failure(key: str) -> None:
    """A wrong answer: after LOGIN_MAX_FAILURES of them the check is locked for LOGIN_LOCK_SECONDS."""
    now = _now()
    row = _counted(db.session.get(LoginThrottle, key), key, now)
    if row.failures >= current_app.config["LOGIN_MAX_FAILURES"]:
        row.locked_until = now + _window()


def clear_key(key: str) -> None:
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key == key))


def clear_account(username: str) -> None:
    """An administrator set a new password: the account's lock no longer applies."""
    db.session.execute(sa.delete(LoginThrottle).where(LoginThrottle.key == f"user:{_normal(username)}"))


def purge_expired_throttles(now: Optional[datetime] = None) -> int:
    """Delete counters whose window has passed (for the scheduled clean-up); returns how many."""
    now = now or _now()
    cutoff = now - _window()
    with write_transaction():
        result = db.session.execute(
            sa.delete(LoginThrottle).where(
                LoginThrottle.first_failure_at < cutoff,
                sa.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < cutoff),
            )
        )
    return result.rowcount or 0  # type: ignore[attr-defined]  # an UPDATE/DELETE gives a CursorResult
