"""Accounts: authentication with throttling, user administration, session validity."""
from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import sqlalchemy as sa
from flask import current_app, flash, redirect, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_url
from werkzeug.security import generate_password_hash

from appeals.auth import sessions, throttle
from appeals.auth.models import ROLES, ApiToken, User, password_method
from appeals.auth.permissions import needs_region
from appeals.core import audit
from appeals.core.database import write_transaction
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.text import clean_name
from appeals.core.timeutil import utcnow
from appeals.reference.models import Office, Region

if TYPE_CHECKING:
    from flask.typing import ResponseReturnValue
    from flask_login import LoginManager

USER_AUDIT_FIELDS = ("username", "full_name", "email", "role", "region_id", "is_active_account", "locale")


class AccountError(DomainError):
    """A rule about accounts was broken; `field` names the form field to show it on."""


class LoginThrottled(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def init_login_manager(login_manager: LoginManager) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.unauthorized_handler
    def unauthorized() -> ResponseReturnValue:
        # A client of the API (it sends a token) that reaches a cookie page (a PDF under /reports,
        # say) gets problem+json, not the HTML login form: a program cannot follow a login page.
        if request.blueprint == "api" or request.headers.get("Authorization", "")[:7].lower() == "bearer ":
            from appeals.core.errors import problem

            return problem(401, _("This page needs a browser login; API tokens work on the API's endpoints only."),
                           title=_("Authentication required"), headers={"WWW-Authenticate": 'Bearer realm="qabyldau"'})
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(login_url(login_manager.login_view, next_url=request.url))

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        # "id:version": changing a password or deactivating an account ends its other sessions.
        try:
            raw_id, raw_version = user_id.split(":", 1)
            user = db.session.get(User, int(raw_id))
        except (ValueError, TypeError):
            return None
        if user is None or not user.is_active or str(user.session_version) != raw_version:
            return None
        # The cookie must also name a live server-side record (revoked at logout, ended when idle).
        if not sessions.is_valid(user, session.get(sessions.SESSION_KEY)):
            return None
        return user


COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@functools.cache
def common_passwords() -> frozenset:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _stripped(password: str) -> str:
    """The password without leading and trailing digits and symbols: "Password2026!" -> "password"."""
    return password.lower().strip("".join(chr(c) for c in range(32, 127) if not chr(c).isalpha()))


def validate_password(password: str, username: str | None = None) -> None:
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password or "") < minimum:
        raise AccountError(_("The password must be at least %(n)d characters long.", n=minimum), "password")
    if password.isdigit() or len(set(password)) < 4:
        raise AccountError(_("The password is too simple."), "password")
    name = (username or "").strip().lower()
    if len(name) >= 3 and (name in password.lower() or any(
            len(part) >= 4 and part in password.lower() for part in re.split(r"[._-]", name))):
        raise AccountError(_("The password must not contain the username."), "password")
    if password.lower() in common_passwords() or _stripped(password) in common_passwords():
        raise AccountError(_("This password is one of the most common ones: choose another."), "password")


class WrongCurrentPassword(AccountError):
    pass


def change_own_password(user: User, current_password: str | None, new_password: str) -> User:
    """The user's own change: the current password first, its guesses throttled like logins.

    Whoever holds a stolen session cookie could otherwise guess the current password here without
    limit and take the account over. LOGIN_MAX_FAILURES wrong answers lock this form for
    LOGIN_LOCK_SECONDS; the session itself goes on.
    """
    key = f"pwd:{user.id}"
    with write_transaction():
        seconds = throttle.key_wait_seconds(key)
        if seconds:
            raise LoginThrottled(seconds)
        correct = user.check_password(current_password or "")
        if correct:
            throttle.clear_key(key)
        else:
            # Committed before the error is raised: the failure must count.
            throttle.register_key_failure(key)
            audit.record("password_check_failed", user, user=user)
    if not correct:
        raise WrongCurrentPassword(_("The current password is wrong."), "current_password")
    return set_password(user, new_password, actor=user)


def authenticate(username: str | None, password: str | None, address: str | None,
                 device_cookie: str | None = None) -> User | None:
    """The active user with these credentials, or None. Raises LoginThrottled while the client must wait.

    The caller learns nothing about which part was wrong: unknown user, wrong password and a
    deactivated account all return None. `device_cookie` is the browser's device cookie, which
    exempts it from locks that others' failures caused (appeals/auth/throttle.py).
    """
    client = throttle.Client(username=username or "", address=address or "",
                             device=throttle.device_from_cookie(device_cookie, username or ""))
    with write_transaction():
        seconds = throttle.wait_seconds(client)
        if seconds:
            raise LoginThrottled(seconds)
        user = find_user(username)
        if user is None or not user.check_password(password or "") or not user.is_active:
            if user is None:
                # Spend the same time as a real check so timing does not reveal which usernames exist.
                User(password_hash=_dummy_hash(password_method())).check_password(password or "")
            throttle.register_failure(client)
            audit.record("login_failed", object_type="users", label=(username or "")[:64], user=user)
            return None
        throttle.register_success(client)
        user.last_login_at = utcnow()
        audit.record("login", user, user=user)
    return user


@functools.cache
def _dummy_hash(method: str) -> str:
    # Hashed with the configured method, so an unknown username costs what a real check costs.
    return generate_password_hash(secrets.token_hex(16), method=method)


def _offices_by_code(codes: Iterable[str]) -> list[Office]:
    codes = [c.strip().upper() for c in codes if c and c.strip()]
    offices = db.session.scalars(sa.select(Office).where(Office.code.in_(codes))).all() if codes else []
    missing = set(codes) - {o.code for o in offices}
    if missing:
        raise AccountError(_("Unknown office: %(codes)s", codes=", ".join(sorted(missing))), "offices")
    return cast("list[Office]", offices)  # scalars().all() gives a list


def _check_role_offices(role: str, offices: Sequence[Office]) -> None:
    if role not in ROLES:
        raise AccountError(_("Unknown role: %(role)s", role=role), "role")
    if role == "clerk" and not offices:
        raise AccountError(_("A reception clerk must belong to at least one office."), "offices")


def _region_for(role: str, region_code: str | None) -> Region | None:
    """The region a coordinator or viewer works for: the one named, or the only region of a one-region
    installation; other roles have none (the central office's see every region, clerks and hosts their offices)."""
    if not needs_region(role):
        return None
    code = (region_code or "").strip().upper()
    if code:
        region = db.session.scalar(sa.select(Region).where(Region.code == code))
        if region is None:
            raise AccountError(_("Unknown region: %(code)s", code=code), "region")
        return region
    regions = db.session.scalars(sa.select(Region).limit(2)).all()
    if len(regions) == 1:
        return regions[0]
    raise AccountError(_("Choose the region this coordinator or viewer works for."), "region")


def _main_office(code: str | None, offices: Sequence[Office]) -> Office | None:
    """The user's main office (the new-appeal form's default): one of their offices when they have
    any, else any office (a coordinator registering for the whole region)."""
    code = (code or "").strip().upper()
    if not code:
        return None
    office = db.session.scalar(sa.select(Office).where(Office.code == code))
    if office is None:
        raise AccountError(_("Unknown office: %(codes)s", codes=code), "main_office")
    if offices and office not in offices:
        raise AccountError(_("The main office must be one of the user's offices."), "main_office")
    return office


def create_user(username: str, password: str, role: str, office_codes: Iterable[str] = (), full_name: str = "",
                email: str = "", locale: str | None = None, actor: User | None = None,
                region_code: str | None = None, main_office_code: str | None = None) -> User:
    username = (username or "").strip()
    if not username or len(username) > 64 or not all(ch.isalnum() or ch in "._-" for ch in username):
        raise AccountError(_("A username may contain letters, digits, dots, dashes and underscores."), "username")
    validate_password(password, username)
    with write_transaction():
        if db.session.scalar(sa.select(User.id).where(sa.func.lower(User.username) == username.lower())):
            raise AccountError(_("This username is already taken."), "username")
        offices = _offices_by_code(office_codes)
        _check_role_offices(role, offices)
        region = _region_for(role, region_code)
        user = User(username=username, role=role, full_name=clean_name(full_name), email=email or "", locale=locale,
                    region=region)
        user.set_password(password)
        user.offices = offices
        main = _main_office(main_office_code, offices)
        user.main_office_id = main.id if main else None
        db.session.add(user)
        db.session.flush()
        changes = {field: [None, value] for field, value in audit.snapshot(user, USER_AUDIT_FIELDS).items()}
        changes["offices"] = [None, [o.code for o in offices]]
        if main:
            changes["main_office"] = [None, main.code]
        audit.record("user_created", user, changes=changes, user=actor)
    return user


def update_user(user: User, *, role: str, office_codes: Iterable[str], full_name: str, email: str | None,
                locale: str | None, is_active: bool, actor: User | None = None,
                region_code: str | None = None, main_office_code: str | None = None) -> User:
    with write_transaction():
        user = db.session.merge(user)
        before = audit.snapshot(user, USER_AUDIT_FIELDS)
        before_offices = [o.code for o in user.offices]
        before_main = user.main_office.code if user.main_office else None
        offices = _offices_by_code(office_codes)
        _check_role_offices(role, offices)
        region = _region_for(role, region_code)
        main = _main_office(main_office_code, offices)
        if actor is not None and actor.id == user.id and (not is_active or role != user.role):
            raise AccountError(_("You cannot deactivate your own account or change your own role."), "role")
        user.role, user.full_name, user.email, user.locale = role, clean_name(full_name), email or "", locale or None
        if user.is_active_account and not is_active:
            user.session_version += 1
            # Revoked, not merely ignored: reactivating the account must not revive them.
            revoke_user_credentials(user, "deactivated")
            sessions.revoke_user_sessions(user)
        user.is_active_account = is_active
        user.offices = offices
        user.region_id = region.id if region is not None else None
        user.main_office_id = main.id if main else None
        changes = audit.diff(before, audit.snapshot(user, USER_AUDIT_FIELDS))
        after_offices = [o.code for o in offices]
        if before_offices != after_offices:
            changes["offices"] = [before_offices, after_offices]
        if before_main != (main.code if main else None):
            changes["main_office"] = [before_main, main.code if main else None]
        if changes:
            audit.record("user_updated", user, changes=changes, user=actor)
    return user


def revoke_user_credentials(user: User, reason: str) -> int:
    """Revoke every active API token of `user` inside the caller's transaction; returns how many."""
    now = utcnow()
    result = db.session.execute(
        sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    revoked = result.rowcount or 0  # type: ignore[attr-defined]  # an UPDATE/DELETE gives a CursorResult
    if revoked:
        audit.record("api_tokens_revoked", user, changes={"tokens": [revoked, 0], "reason": [None, reason]},
                     label=user.username)
    return revoked


def set_password(user: User, password: str, actor: User | None = None) -> User:
    validate_password(password, user.username)
    with write_transaction():
        user = db.session.merge(user)
        user.set_password(password)
        user.session_version += 1
        throttle.clear_account(user.username)
        revoke_user_credentials(user, "password_changed")
        sessions.revoke_user_sessions(user)
        audit.record("password_changed", user, user=actor)
    return user


def set_locale(user: User, locale: str | None) -> User:
    with write_transaction():
        user = db.session.merge(user)
        user.locale = locale
    return user


def find_user(username: str | None) -> User | None:
    return db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == (username or "").strip().lower()))


def list_users(role: str | None = None, active: bool | None = None) -> Sequence[User]:
    query = sa.select(User).order_by(User.username)
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.is_active_account.is_(active))
    return db.session.scalars(query).all()


def display_names(usernames: Iterable[str | None]) -> dict[str, str]:
    """People's names for logins recorded in the audit trail and the appeal history: {login: name}."""
    wanted = [name for name in set(usernames) if name]
    if not wanted:
        return {}
    return {user.username: user.display_name
            for user in db.session.scalars(sa.select(User).where(User.username.in_(wanted)))}
