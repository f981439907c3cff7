"""Rate limits shared by every worker process: fixed windows counted in the database.

    wait = ratelimit.hit("appeal-address", request.remote_addr, limit=5, per_seconds=3600)
    if wait: ...refuse with "try again in {wait} s"...

The public pages (the online appeal form, tracking, booking) are open to the internet without a
login: what stops a script is counting by address and by phone. Every gunicorn worker and app
server must see the same counts, so they live in the database (one upsert per hit, committed on a
connection of its own, like the API's token budget), on SQLite and PostgreSQL alike, with no extra
server. Why not Flask-Limiter / `limits`: their shared storages are Redis, Memcached or MongoDB;
without Redis (the embedded default) each process would count alone, and three workers would
triple every limit.

Keys are stored as HMAC digests (SECRET_KEY), never the address or phone itself. Rows of past
windows are deleted by the cleanup (`purge_windows`).
"""
from __future__ import annotations

import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from appeals.core.database import counter_engine, separate_write
from appeals.core.extensions import db
from appeals.core.timeutil import utcnow


class RateWindow(db.Model):
    """Hits of one key in one fixed window."""

    __tablename__ = "rate_windows"
    scope: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    window_seconds: Mapped[int] = mapped_column()
    count: Mapped[int] = mapped_column(default=0)


def key_digest(scope: str, key: str) -> str:
    secret = str(current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(secret, f"ratelimit:{scope}:{key}".encode(), hashlib.sha256).hexdigest()


def _window(now: datetime, per_seconds: int) -> datetime:
    epoch = datetime(2000, 1, 1)
    elapsed = int((now - epoch).total_seconds())
    return epoch + timedelta(seconds=elapsed - elapsed % per_seconds)


@dataclass(frozen=True)
class Budget:
    """Where a key stands in its window: what the RateLimit-* headers of the API report."""

    limit: int
    count: int
    reset: int  # seconds until the window ends

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def wait(self) -> int:
        """Seconds to wait when over the limit, else 0."""
        return max(1, self.reset) if self.count > self.limit else 0


@dataclass(frozen=True)
class Hit:
    """`cost` hits of `key` in `scope`, against `limit` per window of `per_seconds`."""

    scope: str
    key: str
    limit: int
    per_seconds: int
    cost: int = 1


def hit_budgets(*hits: Hit) -> list[Budget]:
    """Count several keys' hits at once (one statement, one commit: the API counts a request against its
    token and its account together) and say where each stands, in the order given. Each (scope, key)
    once: one statement cannot count one row twice."""
    now = utcnow()
    keys = [(h.scope, key_digest(h.scope, h.key), _window(now, h.per_seconds)) for h in hits]
    counts = _bump([{"scope": scope, "key_hash": digest, "window_start": window, "window_seconds": h.per_seconds,
                     "count": h.cost} for h, (scope, digest, window) in zip(hits, keys)])
    return [Budget(limit=h.limit, count=counts[scope, digest],
                   reset=int((window + timedelta(seconds=h.per_seconds) - now).total_seconds() + 0.999))
            for h, (scope, digest, window) in zip(hits, keys)]


def forget_earlier_windows(*hits: Hit) -> None:
    """Delete the hits' keys' ended windows now rather than at the next cleanup (keys counted often, such as
    an API token's minutes, would otherwise leave a row a minute until then)."""
    table = RateWindow.__table__
    now = utcnow()
    with separate_write() as connection:
        for h in hits:
            connection.execute(sa.delete(table).where(
                table.c.scope == h.scope, table.c.key_hash == key_digest(h.scope, h.key),
                table.c.window_start < _window(now, h.per_seconds)))


def hit(scope: str, key: Optional[str], limit: int, per_seconds: int, *, cost: int = 1) -> int:
    """Count `cost` hits of `key` in `scope`; returns the seconds until the window ends when the
    count is now over `limit` (refuse), else 0. A key of None or "" is not limited."""
    return hit_all(Hit(scope, key or "", limit, per_seconds, cost))


def hit_all(*hits: Hit) -> int:
    """Count several keys' hits with one statement (hit() for each, together); returns the longest wait
    of those now over their limit, else 0. Hits whose key is None or "" are not limited."""
    counted = [h for h in hits if h.key and h.limit > 0]
    return max((budget.wait for budget in hit_budgets(*counted)), default=0) if counted else 0


def peek(scope: str, key: Optional[str], limit: int, per_seconds: int) -> int:
    """Like hit() without counting: the seconds to wait if the key is already over its limit."""
    if not key or limit <= 0:
        return 0
    now = utcnow()
    window = _window(now, per_seconds)
    table = RateWindow.__table__
    count = db.session.scalar(sa.select(table.c.count).where(
        table.c.scope == scope, table.c.key_hash == key_digest(scope, key), table.c.window_start == window)) or 0
    if count >= limit:
        return max(1, int((window + timedelta(seconds=per_seconds) - now).total_seconds() + 0.999))
    return 0


@functools.cache
def _bump_statement(dialect: str) -> sa.Insert:
    """The upsert of hits, built once per process (a statement with its values in it cannot be cached)."""
    from sqlalchemy.dialects import postgresql, sqlite

    table = RateWindow.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    # Each row adds its own cost (excluded: the row that was to be inserted).
    return insert.on_conflict_do_update(
        index_elements=[table.c.scope, table.c.key_hash, table.c.window_start],
        set_={"count": table.c.count + insert.excluded.count},
    ).returning(table.c.scope, table.c.key_hash, table.c.count)


def _bump(rows: list[dict[str, object]]) -> dict[tuple[str, str], int]:
    # One statement for all the rows (SQLAlchemy's "insertmanyvalues": one VALUES list, in the order given, so
    # two requests bumping the same keys lock them in the same order), committed on its own: a request
    # that fails later has still been counted.
    try:
        return _bump_once(rows)
    except sa.exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
        # The counters' pool learns of a database restart only by using a connection the restart broke:
        # it has dropped them all now, so once more on a new one (a hit counted twice at worst).
        return _bump_once(rows)


def _bump_once(rows: list[dict[str, object]]) -> dict[tuple[str, str], int]:
    with counter_engine().connect() as connection:
        bump = _bump_statement(connection.dialect.name)
        if connection.dialect.name == "postgresql":
            result = connection.execution_options(isolation_level="AUTOCOMMIT").execute(bump, rows).all()
        else:
            with connection.execution_options(sqlite_immediate=True).begin():
                result = connection.execute(bump, rows).all()
    return {(scope, key_hash): count for scope, key_hash, count in result}


def reset(scope: str, key: Optional[str]) -> None:
    """Forget a key's hits in `scope` (e.g. after a success that should not count against it)."""
    if not key:
        return
    table = RateWindow.__table__
    with separate_write() as connection:
        connection.execute(sa.delete(table).where(table.c.scope == scope, table.c.key_hash == key_digest(scope, key)))


def purge_windows(now: Optional[datetime] = None) -> int:
    """Delete windows that have ended; returns how many rows."""
    now = now or utcnow()
    table = RateWindow.__table__
    with separate_write() as connection:
        ended = connection.execute(sa.select(table.c.scope, table.c.key_hash, table.c.window_start,
                                             table.c.window_seconds).where(table.c.window_start < now)).all()
        gone = [row for row in ended if row.window_start + timedelta(seconds=row.window_seconds) <= now]
        for row in gone:
            connection.execute(sa.delete(table).where(table.c.scope == row.scope, table.c.key_hash == row.key_hash,
                                                      table.c.window_start == row.window_start))
    return len(gone)
