"""Personal API tokens (shown once, stored as SHA-256) and the per-token request budget."""
import functools
import secrets
from datetime import datetime, timedelta
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager

from appeals.auth.models import ApiToken, User
from appeals.core import audit, ratelimit
from appeals.core.database import separate_write, write_transaction
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.ratelimit import Budget
from appeals.core.timeutil import utcnow
from appeals.core.tokens import hash_token  # one digest for every server-issued secret

TOKEN_PREFIX = "qab_"
# "qab_" and the first characters of the secret: enough to tell tokens apart in a list, useless to an attacker.
DISPLAY_PREFIX_LENGTH = 12
NAME_MAX = 100
RATE_WINDOW_SECONDS = 60


class TokenError(DomainError):
    """An API token cannot be created or used as asked."""


class NotTheOwner(TokenError):
    """Only the account's owner creates its tokens: an administrator must never act as a clerk."""


def _active_count(user_id: int, now: datetime) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(ApiToken.id)).where(
            ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None),
            sa.or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
    )


def create_token(user: User, name: str = "", actor: Optional[User] = None, days: Optional[int] = None,
                 via: str = "web") -> tuple[ApiToken, str]:
    """A new token for `user`, made by its owner: returns (ApiToken, secret). The secret is never stored.

    `actor`, the signed-in user (None: the owner itself), must be `user`; the operator's CLI
    (`via="cli"`) is the one other door, and the audit trail says which was used. The token expires after
    `days` (API_TOKEN_DEFAULT_DAYS, at most API_TOKEN_MAX_DAYS); an account holds at most
    API_TOKENS_PER_USER active tokens.
    """
    config = current_app.config
    if actor is not None and actor.id != user.id:
        raise NotTheOwner(_("Only the account's owner can create its API tokens."), "user")
    name = (name or "").strip()
    if len(name) > NAME_MAX:
        raise TokenError(_("At most %(n)d characters.", n=NAME_MAX), "name")
    days = config["API_TOKEN_DEFAULT_DAYS"] if days is None else days
    if not 1 <= days <= config["API_TOKEN_MAX_DAYS"]:
        raise TokenError(_("Enter a number of days from 1 to %(n)d.", n=config["API_TOKEN_MAX_DAYS"]), "days")
    if not user.is_active:
        raise TokenError(_("A deactivated account cannot have API tokens."), "user")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with write_transaction():
        # The owner's row locked: two submits at once cannot both pass the cap.
        db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
        now = utcnow()
        cap = config["API_TOKENS_PER_USER"]
        if _active_count(user.id, now) >= cap:
            raise TokenError(_("An account may hold at most %(n)d active tokens: revoke one first.", n=cap), "name")
        token = ApiToken(
            user_id=user.id,
            name=name,
            prefix=secret[:DISPLAY_PREFIX_LENGTH],
            token_hash=hash_token(secret),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        db.session.add(token)
        db.session.flush()
        audit.record(
            "api_token_created",
            object_type="api_tokens",
            object_id=token.id,
            label=f"{user.username}: {token.prefix}…",
            changes={"name": [None, name], "user": [None, user.username], "via": [None, via],
                     "expires_at": [None, token.expires_at]},
            user=None if via == "cli" else (actor or user),
        )
    return token, secret


def revoke_token(token: ApiToken, actor: Optional[User] = None) -> ApiToken:
    with write_transaction():
        token = db.session.merge(token)
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            token.revoked_reason = "owner" if actor is not None and actor.id == token.user_id else "admin"
            audit.record(
                "api_token_revoked",
                object_type="api_tokens",
                object_id=token.id,
                label=f"{token.user.username}: {token.prefix}…",
                user=actor,
            )
    return token


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
    ))


@functools.cache
def _token_by_hash() -> sa.Select:
    """The token, its user and the user's offices (every permission check needs them) in one query, built
    once per process: each request only binds the hash (building the statement and its cache key cost more
    than running it)."""
    return (sa.select(ApiToken).join(ApiToken.user).where(ApiToken.token_hash == sa.bindparam("token_hash"))
            .options(contains_eager(ApiToken.user).joinedload(User.offices)))


def find_active_token(secret):
    """The active token with this secret whose owner's account is active, or None."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = db.session.execute(_token_by_hash(), {"token_hash": hash_token(secret)}).unique().scalar_one_or_none()
    if token is None or not token.is_active_at(utcnow()) or not token.user.is_active:
        return None
    return token


def take_slots(token: ApiToken) -> tuple[Budget, Budget]:
    """Count one request against the token's budget (API_RATE_LIMIT_PER_MINUTE) and its account's, whichever
    of the account's tokens sent it: more tokens do not buy more requests (API_USER_RATE_LIMIT_PER_MINUTE).
    Returns (token's, account's) where each stands (wait > 0: refuse).

    Fixed one-minute windows counted in the database, so every gunicorn worker shares them; both are
    counted by one statement committed on its own, so a request that later fails has still been counted.
    """
    config = current_app.config
    hits = (ratelimit.Hit("api-token", str(token.id), config["API_RATE_LIMIT_PER_MINUTE"], RATE_WINDOW_SECONDS),
            ratelimit.Hit("api-user", str(token.user_id), config["API_USER_RATE_LIMIT_PER_MINUTE"], RATE_WINDOW_SECONDS))
    token_budget, user_budget = ratelimit.hit_budgets(*hits)
    if token_budget.count == 1:
        # The token's first request of a new minute: forget the ended minutes and note the token as used.
        ratelimit.forget_earlier_windows(*hits)
        with separate_write() as connection:
            connection.execute(sa.update(ApiToken.__table__).where(ApiToken.id == token.id).values(last_used_at=utcnow()))
    return token_budget, user_budget
