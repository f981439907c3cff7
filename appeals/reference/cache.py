"""Reference data kept per process, never stale: a version stamp that every change bumps.

    options = cache.cached("settlement-options", build)   # build() once per language and version

The citizens' form lists every active settlement and category; reading and rendering them cost more
than all the rest of the page, for data that changes a few times a year. Each process keeps what it
built under the current version of the reference data, read per request from one counter row
(`number_sequences`, scope "reference-data": a primary-key lookup). Every transaction that writes a
region, district, settlement, office or category bumps that row before it commits, in the same
transaction: through the ORM, bulk statements and restores alike (session hooks, so the admin pages,
the API, the imports and the CLI need nothing of their own). A page after an admin's edit is built
afresh on every worker of every app server, at the edit's commit; no time-to-live.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from itertools import chain
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from appeals.core.database import dialect_insert
from appeals.core.extensions import db
from appeals.core.i18n import current_language
from appeals.core.numbering import NumberSequence
from appeals.reference.models import Category, District, Office, Region, Settlement

SCOPE = "reference-data"
REFERENCE_MODELS = (Region, District, Settlement, Office, Category)
REFERENCE_TABLES = frozenset(model.__tablename__ for model in REFERENCE_MODELS)
_CHANGED = "reference_data_changed"
_RESTORED = "reference_version_restored"
# Old versions' entries are dropped wholesale when this many pile up.
MAX_ENTRIES = 64

T = TypeVar("T")
_entries: dict[tuple[str, str, str, int], Any] = {}


def enabled() -> bool:
    """On unless REFERENCE_CACHE is off; tests build and drop reference rows around the app, so they
    read afresh unless a test turns it on."""
    return bool(current_app.config.get("REFERENCE_CACHE", not current_app.testing))


def version() -> int:
    """The reference data's version now (read once per request)."""
    if has_request_context() and "reference_version" in g:
        return g.reference_version
    value = db.session.connection().execute(_version_statement()).scalar() or 0
    if has_request_context():
        g.reference_version = value
    return value


@functools.cache
def _version_statement() -> sa.Select:
    # Built once per process: every page that shows reference data asks it (a primary-key look-up).
    table = NumberSequence.__table__
    return sa.select(table.c.last_value).where(table.c.scope == SCOPE, table.c.year == 0)


def cached(name: str, build: Callable[[], T]) -> T:
    """What `build()` gives for this database, the page's language and the current version."""
    if not enabled():
        return build()
    key = (name, str(db.engine.url), current_language(), version())
    try:
        return _entries[key]
    except KeyError:
        pass
    value = build()
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()
    _entries[key] = value
    return value


def _bump_recording(session: Session) -> None:
    table = NumberSequence.__table__
    stmt = dialect_insert()(table).values(scope=SCOPE, year=0, last_value=1)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.scope, table.c.year],
                                      set_={"last_value": table.c.last_value + 1})
    session.connection().execute(stmt)


def _touches_reference(objects) -> bool:
    return any(isinstance(obj, REFERENCE_MODELS) for obj in objects)


@event.listens_for(Session, "before_flush")
def _note_flush(session: Session, _context, _instances) -> None:
    if _touches_reference(chain(session.new, session.dirty, session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)
    if name in REFERENCE_TABLES:
        state.session.info[_CHANGED] = True
    elif name == NumberSequence.__tablename__ and state.is_insert:
        # A restore writes the counter row of its backup: it keeps that value, so that a round trip
        # gives the same backup (the database was empty before: no page was cached of it but version 0).
        parameters: Any = state.parameters
        rows = parameters if isinstance(parameters, list) else [parameters or {}]
        if any(row.get("scope") == SCOPE for row in rows):
            state.session.info[_RESTORED] = True


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    # Last in the transaction, so a restore's own copy of the counter row is already there to bump.
    pending = _touches_reference(chain(session.new, session.dirty, session.deleted))
    restored = session.info.pop(_RESTORED, False)
    if (session.info.pop(_CHANGED, False) or pending) and not restored:
        _bump_recording(session)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(_RESTORED, None)
