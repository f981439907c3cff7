"""One-time 6-digit codes a citizen types back to prove a phone number or an e-mail address is theirs
(booking a reception, an online appeal).

    code = verification.issue_code("booking", f"booking:{booking.id}", "sms", "+77011234567", locale="kk")
    verification.check_code("booking", f"booking:{booking.id}", typed)     # DomainError when wrong

`issue_code` joins the caller's write_transaction and sends the code through the outbox (so a rolled
back booking sends nothing). Only an HMAC of the code is stored (keyed with SECRET_KEY and the
subject): a database dump does not reveal a live code. A code lives VERIFICATION_CODE_MINUTES
(10), allows VERIFICATION_MAX_ATTEMPTS (5) wrong tries, and a new code for the same subject
replaces the old one; at most VERIFICATION_CODES_PER_HOUR (5) codes per subject and hour.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, mapped_column

from appeals.core import outbox
from appeals.core.database import is_postgresql, write_transaction
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.timeutil import utcnow

CODE_DIGITS = 6


class VerificationCode(db.Model):
    __tablename__ = "verification_codes"
    __table_args__ = (sa.Index("ix_verification_codes_subject", "purpose", "subject", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(80))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    # Set when the code was typed right, or when a newer code replaced it.
    used_at: Mapped[Optional[datetime]] = mapped_column()


class CodeError(DomainError):
    """A wrong, expired or spent code (field "code"); kind "conflict" when no more tries are left."""


def _setting(name: str, default: int) -> int:
    return int(current_app.config.get(name, default))


def _digest(purpose: str, subject: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, f"{purpose}\0{subject}\0{code}".encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def issue_code(purpose: str, subject: str, channel: str, address: str, *, locale: str,
               template: str = "verification_code", params: Optional[dict] = None,
               first: bool = False) -> VerificationCode:
    """Write a new code for `subject` and its notice to `address` (in the caller's transaction).

    first: `subject` was made in this transaction (a new submission's id), so no code of it can have
    been sent before: the hourly count and the retiring of earlier codes are not asked for."""
    now = utcnow()
    if not first:
        recent = db.session.scalar(
            sa.select(sa.func.count()).select_from(VerificationCode)
            .where(VerificationCode.purpose == purpose, VerificationCode.subject == subject,
                   VerificationCode.created_at > now - timedelta(hours=1)))
        if (recent or 0) >= _setting("VERIFICATION_CODES_PER_HOUR", 5):
            raise CodeError(_("Too many codes were sent; try again in an hour."), "code", kind="conflict")
        db.session.execute(sa.update(VerificationCode)
                           .where(VerificationCode.purpose == purpose, VerificationCode.subject == subject,
                                  VerificationCode.used_at.is_(None)).values(used_at=now))
    code = new_code()
    row = VerificationCode(purpose=purpose, subject=subject, code_hash=_digest(purpose, subject, code), attempts=0,
                           created_at=now,
                           expires_at=now + timedelta(minutes=_setting("VERIFICATION_CODE_MINUTES", 10)))
    db.session.add(row)
    # The code travels in the notice's params until it is sent: it is worthless after its few minutes.
    outbox.notify_address(channel, address, template, {**(params or {}), "code": code}, locale=locale)
    return row


def check_code(purpose: str, subject: str, typed: object) -> None:
    """Accept the live code of `subject` once (marks it used), or raise CodeError.

    Runs its own transaction, so call it before (not inside) the write it guards: a wrong try is
    counted and committed even though the caller's change is then refused. A caller that writes in
    one transaction anyway uses `take_code` inside it.
    """
    if db.session.info.get("write_transaction"):
        raise RuntimeError("check_code() commits its own transaction; call it before the caller's")
    with write_transaction():
        error = take_code(purpose, subject, typed)
    if error is not None:
        raise error


def take_code(purpose: str, subject: str, typed: object) -> Optional[CodeError]:
    """Inside the caller's write_transaction: accept the live code of `subject` once (marks it used) and
    return None, or count the wrong try and return the CodeError. The caller lets its transaction
    commit (so the try stays counted) and raises the error after it, writing nothing else."""
    if not db.session.info.get("write_transaction"):
        raise RuntimeError("take_code() belongs inside the caller's write_transaction()")
    text = "".join(str(typed or "").split())
    query = (sa.select(VerificationCode)
             .where(VerificationCode.purpose == purpose, VerificationCode.subject == subject,
                    VerificationCode.used_at.is_(None))
             .order_by(VerificationCode.id.desc()).limit(1))
    if is_postgresql():
        query = query.with_for_update()
    row = db.session.scalars(query).first()
    now = utcnow()
    limit = _setting("VERIFICATION_MAX_ATTEMPTS", 5)
    if row is None or row.expires_at <= now:
        return CodeError(_("The code has expired; ask for a new one."), "code", kind="conflict")
    if row.attempts >= limit:
        return CodeError(_("Too many wrong codes; ask for a new one."), "code", kind="conflict")
    if len(text) != CODE_DIGITS or not text.isdigit() or not hmac.compare_digest(
            row.code_hash, _digest(purpose, subject, text)):
        row.attempts += 1
        return CodeError(_("The code is not right (%(n)d tries left).", n=max(limit - row.attempts, 0)), "code")
    row.used_at = now
    return None
