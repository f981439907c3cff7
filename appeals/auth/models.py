"""Accounts, roles, login throttling and API tokens."""
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from appeals.core.extensions import db
from appeals.core.models_base import TimestampMixin, enum_column
from appeals.reference.models import Office

ROLES = ("admin", "coordinator", "clerk", "host", "viewer")
# scrypt is memory-hard; werkzeug's default parameters follow OWASP's recommendation.
PASSWORD_METHOD = "scrypt"

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

    offices: Mapped[list[Office]] = relationship(secondary=user_offices, order_by=Office.code)

    @property
    def is_active(self):
        return self.is_active_account

    def get_id(self):
        return f"{self.id}:{self.session_version}"

    def set_password(self, password):
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)

    def check_password(self, password):
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

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
    revoked_at: Mapped[Optional[datetime]] = mapped_column()

    user: Mapped[User] = relationship()

    @property
    def is_active(self):
        return self.revoked_at is None
