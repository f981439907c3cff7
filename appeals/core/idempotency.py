"""One-time keys for requests that create something, shared by the API and the web forms.

The API's `Idempotency-Key` header (appeals/api/idempotency.py) and the web forms' submission
tokens (appeals/core/submission.py) are rows of one table with one unique constraint on
(user, key): whichever request inserts the row first wins, and a repeat finds the row and gets
the first answer back instead of a second appeal.

The rows keep no personal data in clear: the key is stored as its SHA-256 digest, the request
as a digest too, and the stored answer (an API response carries the citizen's name and IIN) is
sealed with a key derived from the client's key and SECRET_KEY. Rows are dropped after
IDEMPOTENCY_KEEP_DAYS (`purge_idempotency_keys`).
"""
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.timeutil import utcnow
from appeals.core.tokens import hash_token, seal, unseal

KEEP_DAYS = 30
_PURPOSE = "idempotency-response"


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("user_id", "key", name="uq_idempotency_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(200))
    method: Mapped[str] = mapped_column(sa.String(10))
    path: Mapped[str] = mapped_column(sa.String(300))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    response_status: Mapped[int | None] = mapped_column()
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _keep_days() -> int:
    return int(current_app.config.get("IDEMPOTENCY_KEEP_DAYS", KEEP_DAYS))


def _mine(user_id: int, key: str):
    return (IdempotencyKey.user_id == user_id) & (IdempotencyKey.key == hash_token(key))


def find_key(user_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(sa.select(IdempotencyKey).where(_mine(user_id, key)))


def seal_response(key: str, body: str) -> str:
    """The answer to store for `key`: readable again only with the client's own key."""
    return seal(key, body, _PURPOSE)


def stored_response(key: str, entry: IdempotencyKey) -> str | None:
    return unseal(key, entry.response_body, _PURPOSE) if entry.response_body else None


def purge_idempotency_keys(now: datetime | None = None) -> int:
    """Delete keys older than IDEMPOTENCY_KEEP_DAYS, in a transaction of its own; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=_keep_days())
    with write_transaction():
        return db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)).rowcount  # type: ignore[attr-defined]  # an UPDATE/DELETE gives a CursorResult


def add_key_in_transaction(user_id: int, key: str, method: str, path: str, request_hash: str) -> IdempotencyKey:
    """Insert the key inside the caller's write transaction, dropping keys past their keeping time.

    The flush sends the INSERT at once: on PostgreSQL a concurrent request with the same key
    waits on the unique index until this transaction ends, then fails with IntegrityError.
    """
    db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - timedelta(days=_keep_days())))
    entry = IdempotencyKey(user_id=user_id, key=hash_token(key), method=method, path=path[:300], request_hash=request_hash,
                           created_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    return entry


# Work that cannot run inside one transaction with its key (a job that writes its progress through
# connections of its own) reserves the key first, in a transaction of its own, and completes it
# with the answer afterwards; a request that fails releases it.

def reserve_key(user_id: int, key: str, method: str, path: str, request_hash: str) -> IdempotencyKey | None:
    """Returns None when reserved for this request, else the (detached) entry of an earlier request.

    Raises IntegrityError when a concurrent request reserved the same key a moment ago.
    """
    with write_transaction():
        existing = find_key(user_id, key)
        if existing is not None:
            db.session.expunge(existing)
            return existing
        add_key_in_transaction(user_id, key, method, path, request_hash)
    return None


def complete_key(user_id: int, key: str, status: int, body: str) -> None:
    with write_transaction():
        db.session.execute(
            sa.update(IdempotencyKey).where(_mine(user_id, key))
            .values(response_status=status, response_body=seal_response(key, body))
        )


def release_key(user_id: int, key: str) -> None:
    """Free a reserved key whose request failed, so a corrected retry may use it."""
    with write_transaction():
        db.session.execute(
            sa.delete(IdempotencyKey).where(_mine(user_id, key), IdempotencyKey.response_status.is_(None))
        )
