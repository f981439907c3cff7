"""Accounts, roles, login throttling and API tokens."""
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from appeals.core.extensions import db
from appeals.core.models_base import TimestampMixin, enum_column
from appeals.reference.models import Office, Region

# "central": the central office's coordinators, who see every region and issue directives to all;
# coordinators and viewers work for one region (users.region_id), clerks and hosts for their offices.
ROLES = ("admin", "central", "coordinator", "clerk", "host", "viewer")
# scrypt is memory-hard; werkzeug's default parameters follow OWASP's recommendation. The test
# configuration sets PASSWORD_HASH_METHOD to a cheap one (hashing in fixtures was most of the suite).
PASSWORD_METHOD = "scrypt"


def password_method():
    return current_app.config.get("PASSWORD_HASH_METHOD") or PASSWORD_METHOD

user_offices = sa.Table(
    "user_offices",
    db.Model.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("office_id", sa.ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200), default="")
    email: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(256), default="")
    role: Mapped[str] = enum_column(ROLES, "user_role")
    is_active_account: Mapped[bool] = mapped_column("is_active", default=True)
    locale: Mapped[Optional[str]] = mapped_column(sa.String(5))
    last_login_at: Mapped[Optional[datetime]] = mapped_column()
    # Bumped on password change or deactivation so that existing sessions stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    # Two-factor authentication (RFC 6238 TOTP): the shared secret, set at enrolment and confirmed
    # by a first valid code; the last accepted time step, so that one code works only once.
    totp_secret: Mapped[Optional[str]] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[Optional[datetime]] = mapped_column()
    totp_last_step: Mapped[Optional[int]] = mapped_column(sa.BigInteger)

    # The region a coordinator or viewer works for (appeals.auth.permissions: region scope).
    region_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    # The office a clerk usually registers for: the new-appeal form starts with it (issue 14, item 3);
    # one of `offices` when the user has any. Set by the admin.
    main_office_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("offices.id"))

    offices: Mapped[list[Office]] = relationship(secondary=user_offices, order_by=Office.code)
    region: Mapped[Optional[Region]] = relationship()
    main_office: Mapped[Optional[Office]] = relationship(foreign_keys=[main_office_id])

    @property
    def is_active(self):
        return self.is_active_account

    def get_id(self):
        return f"{self.id}:{self.session_version}"

    def set_password(self, password):
        self.password_hash = generate_password_hash(password, method=password_method())

    def check_password(self, password):
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def has_totp(self):
        return bool(self.totp_secret and self.totp_enabled_at)

    @property
    def office_ids(self):
        return {office.id for office in self.offices}

    @property
    def display_name(self):
        return self.full_name or self.username

    def __repr__(self):
        return f"<User {self.username} {self.role}>"


class LoginThrottle(db.Model):
    """Failed-login counters per account and per client address, shared by all worker processes."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime] = mapped_column()
    locked_until: Mapped[Optional[datetime]] = mapped_column()


class ApiToken(db.Model):
    """A personal API token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    prefix: Mapped[str] = mapped_column(sa.String(12))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    last_used_at: Mapped[Optional[datetime]] = mapped_column()
    expires_at: Mapped[Optional[datetime]] = mapped_column()
    revoked_at: Mapped[Optional[datetime]] = mapped_column()
    # Why it was revoked: "owner", "admin", "password_changed", "deactivated".
    revoked_reason: Mapped[Optional[str]] = mapped_column(sa.String(40))

    user: Mapped[User] = relationship()

    def is_active_at(self, now):
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    @property
    def is_active(self):
        from appeals.core.timeutil import utcnow

        return self.is_active_at(utcnow())


class UserSession(db.Model):
    """A signed-in browser: the cookie carries a random secret, the server keeps its SHA-256.

    The user loader accepts a cookie only while its record is neither revoked nor idle, so logout,
    a password change or deactivation end a session even if its cookie was copied.
    """

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[Optional[datetime]] = mapped_column()
    ip_address: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")


class TotpRecoveryCode(db.Model):
    """One-time codes for when the authenticator is lost; only their SHA-256 is stored."""

    __tablename__ = "totp_recovery_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[Optional[datetime]] = mapped_column()
