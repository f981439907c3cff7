"""Two-factor authentication: TOTP (RFC 6238, pyotp) with one-time recovery codes.

Enrolment stores a new secret unconfirmed; the first valid code confirms it and returns the
recovery codes, shown once and stored as SHA-256 (they are 80 random bits each, so a plain hash
cannot be reversed by guessing). A code is accepted once: the last accepted time step is kept.
Wrong codes are throttled like passwords (appeals/auth/throttle.py).
"""
from __future__ import annotations

import hashlib
import secrets
import time
from typing import Optional

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app

from appeals.auth import throttle
from appeals.auth.models import TotpRecoveryCode, User
from appeals.auth.permissions import totp_required
from appeals.core import audit
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.timeutil import utcnow

ISSUER = "Qabyldau"
RECOVERY_CODES = 10
# One step either side: a phone clock 30 s off still works.
VALID_WINDOW = 1


class TotpThrottled(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def _normal_recovery(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def _new_recovery_code() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def must_enrol(user: User) -> bool:
    """The user's role requires TOTP (REQUIRE_TOTP_ROLES) and none is set up yet."""
    return totp_required(user, current_app.config["REQUIRE_TOTP_ROLES"]) and not user.has_totp


def begin_enrolment(user: User) -> str:
    """A new, unconfirmed secret for `user` (an existing confirmed one stays until confirmation)."""
    with write_transaction():
        user = db.session.merge(user)
        if user.has_totp:
            return user.totp_secret
        if not user.totp_secret:
            user.totp_secret = pyotp.random_base32()
        return user.totp_secret


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG: no script and no style attribute, so the CSP allows it."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", omitsize=False)


def _clock() -> float:
    return time.time()


def _step_accepted(user: User, code: str) -> Optional[int]:
    """The time step `code` belongs to, if valid and newer than the last accepted one."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6 or not user.totp_secret:
        return None
    totp = pyotp.TOTP(user.totp_secret)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        moment = _clock() + offset * totp.interval
        if secrets.compare_digest(totp.at(moment), code):
            step = int(moment // totp.interval)
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return None  # replayed: each code works once
            return step
    return None


def confirm_enrolment(user: User, code: str) -> Optional[list[str]]:
    """Confirm the pending secret with a first code; returns the new recovery codes, or None."""
    key = f"totp:{user.id}"
    codes = None
    with write_transaction():
        user = db.session.merge(user)
        seconds = throttle.key_wait_seconds(key)
        if seconds:
            raise TotpThrottled(seconds)
        step = _step_accepted(user, code) if not user.has_totp else None
        if step is None:
            throttle.register_key_failure(key)
        else:
            throttle.clear_key(key)
            user.totp_last_step = step
            user.totp_enabled_at = utcnow()
            codes = _replace_recovery_codes(user)
            audit.record("totp_enabled", user, user=user)
    return codes


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(TotpRecoveryCode).where(TotpRecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    now = utcnow()
    db.session.add_all(TotpRecoveryCode(user_id=user.id, code_hash=_hash(_normal_recovery(c)), created_at=now) for c in codes)
    return codes


def verify(user: User, code: str) -> bool:
    """The login's second step: a current TOTP code or an unused recovery code.

    Raises TotpThrottled after LOGIN_MAX_FAILURES wrong codes (for LOGIN_LOCK_SECONDS).
    """
    key = f"totp:{user.id}"
    accepted = False
    with write_transaction():
        user = db.session.merge(user)
        seconds = throttle.key_wait_seconds(key)
        if seconds:
            raise TotpThrottled(seconds)
        step = _step_accepted(user, code) if user.has_totp else None
        if step is not None:
            user.totp_last_step = step
            accepted = True
        elif user.has_totp and len(_normal_recovery(code)) == 16:
            recovery = db.session.scalar(sa.select(TotpRecoveryCode).where(
                TotpRecoveryCode.user_id == user.id, TotpRecoveryCode.code_hash == _hash(_normal_recovery(code)),
                TotpRecoveryCode.used_at.is_(None)))
            if recovery is not None:
                recovery.used_at = utcnow()
                accepted = True
                audit.record("totp_recovery_code_used", user, user=user)
        if accepted:
            throttle.clear_key(key)
        else:
            throttle.register_key_failure(key)
            audit.record("totp_failed", user, user=user)
    return accepted


def remaining_recovery_codes(user: User) -> int:
    return db.session.scalar(sa.select(sa.func.count(TotpRecoveryCode.id)).where(
        TotpRecoveryCode.user_id == user.id, TotpRecoveryCode.used_at.is_(None)))


def reset(user: User, actor: Optional[User] = None) -> None:
    """Remove the user's TOTP (lost phone and codes): the operator's `flask reset-totp USERNAME`."""
    with write_transaction():
        user = db.session.merge(user)
        user.totp_secret, user.totp_enabled_at, user.totp_last_step = None, None, None
        db.session.execute(sa.delete(TotpRecoveryCode).where(TotpRecoveryCode.user_id == user.id))
        audit.record("totp_reset", user, user=actor)
