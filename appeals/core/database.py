"""Engine behaviour per backend and the write-transaction helper every service uses."""
import os
import re
import sqlite3
import threading
import time
import unicodedata
import weakref
from contextlib import contextmanager

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

from appeals.core.extensions import db
from appeals.core.privacy import redact_personal
from appeals.core.search_fold import search_fold

SQLITE_BUSY_TIMEOUT_MS = 30000
# The SQL name of fold() on SQLite; PostgreSQL's lower() already folds Cyrillic under a UTF-8 ctype.
FOLD_FUNCTION = "qb_fold"


def fold(value: str | None) -> str:
    """Text as search compares it: NFKC-normalised (one form for composed letters and ligatures) and
    case-folded over all of Unicode, so «ЖОЛ» matches «жол» and «Әлия» matches «әлия».

    The one definition of search folding: Python-side keyword handling and SQLite's qb_fold() both call it.
    """
    return unicodedata.normalize("NFKC", value or "").casefold()


@event.listens_for(Engine, "connect")
def _register_sqlite_functions(dbapi_connection, _record):
    # SQLite's own lower() folds ASCII only. Registered for every engine (the app's, the migrations',
    # a test's), once, here: two listeners with different folds made the result depend on import order.
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)
        # How names are typed (core/search_fold.py); PostgreSQL has it from migration 0006.
        dbapi_connection.create_function("qb_search_fold", 1, search_fold, deterministic=True)
        # The free-text redaction masked roles search through (core/privacy.py).
        dbapi_connection.create_function("qb_redact", 1, redact_personal, deterministic=True)


def configure_engine(engine, ping_after_idle_seconds=1.0):
    """Pool health checks on a server database; SQLite: foreign keys on, WAL, and explicit BEGIN
    so writers can take the lock up front."""
    _forget_pool_in_forked_children(engine)
    if engine.dialect.name != "sqlite":
        _ping_idle_connections(engine, ping_after_idle_seconds)
        _strip_row_details(engine)
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit transactions cannot BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        # A write transaction on SQLite must hold the write lock from its first statement: a
        # read transaction that later tries to write fails at once instead of waiting its turn.
        mode = "IMMEDIATE" if connection.get_execution_options().get("sqlite_immediate") else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")


def _forget_pool_in_forked_children(engine):
    """A forked process (gunicorn --preload workers) must never use its parent's connections:
    two processes on one socket corrupt each other's conversations. The child starts a pool of
    its own and leaves the parent's connections open for the parent."""
    engine_ref = weakref.ref(engine)

    def after_fork_in_child():
        forked_engine = engine_ref()
        if forked_engine is not None:
            forked_engine.dispose(close=False)

    os.register_at_fork(after_in_child=after_fork_in_child)


# PostgreSQL's DETAIL line quotes the data: "Failing row contains (..., 900101300304, ...)",
# "Key (iin)=(900101300304) already exists". hide_parameters does not cover it.
_DETAIL_LINE = re.compile(r"\n(?:DETAIL|CONTEXT):[^\n]*")


def _strip_row_details(engine):
    """A database error's text (logged with its traceback) keeps the server's message but not the
    DETAIL/CONTEXT lines quoting a row's values: IINs and phones stay out of the logs."""

    @event.listens_for(engine, "handle_error")
    def on_error(context):
        for error in (context.original_exception, context.sqlalchemy_exception):
            if error is not None and len(error.args) == 1 and isinstance(error.args[0], str):
                error.args = (_DETAIL_LINE.sub("", error.args[0]),)


def _ping_idle_connections(engine, idle_seconds):
    """Pre-ping only the connections that sat idle in the pool, where a restart could have hit them.

    SQLAlchemy's pool_pre_ping costs a round trip on every checkout; under load the connections
    are back in use within milliseconds and that ping was a sixth of the registration's cost. A
    connection that breaks while in use raises a disconnect error instead: that request gets a 503
    and the pool drops every connection opened before the failure, so the app still recovers by
    itself.
    """

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # noqa: BLE001 - any failure means the connection is unusable
            # The pool discards this connection and checks out (or opens) another one.
            raise exc.DisconnectionError(str(error)) from error


@contextmanager
def write_transaction():
    """One unit of work: everything inside commits together or not at all.

    On SQLite it ends any read transaction the request had open and starts one that takes the
    write lock at once, so concurrent clerks queue instead of failing.
    """
    session = db.session
    if session.info.get("write_transaction"):
        # Inside an enclosing unit of work (a web form's one-time token and the appeal it
        # creates): that one commits or rolls back everything, this one only joins it.
        yield session
        return
    if session.get_bind().dialect.name == "sqlite":
        # SQLite cannot turn a read transaction into a write one while others write, so start over.
        session.rollback()
        session.connection(execution_options={"sqlite_immediate": True})
    elif session.new or session.dirty or session.deleted:
        # Never commit changes made before the unit of work began along with it.
        session.rollback()
    # On PostgreSQL an open read transaction simply continues (READ COMMITTED sees every commit),
    # keeping what it loaded: no second round of reads for the user, token or office.
    session.info["write_transaction"] = True
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.info.pop("write_transaction", None)


_counter_engines: "weakref.WeakKeyDictionary[Engine, Engine]" = weakref.WeakKeyDictionary()
_counter_engines_lock = threading.Lock()


def counter_engine() -> Engine:
    """The engine for counters that may lose their last moments in a crash (the rate limits' windows).

    On PostgreSQL, a small pool of its own to the same database whose sessions commit without waiting
    for the WAL to reach the disk (synchronous_commit off, for these connections only): every API request
    counts one hit, and that commit's flush was a wait of its own before the request could go on. A crash
    may forget the hits of the last fraction of a second; the appeals' commits still wait for the disk.
    On SQLite, the app's engine.
    """
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return engine
    with _counter_engines_lock:
        counters = _counter_engines.get(engine)
        if counters is None:
            counters = sa.create_engine(engine.url, hide_parameters=engine.hide_parameters, pool_size=2,
                                        max_overflow=8)
            event.listen(counters, "connect", _commit_without_waiting)
            configure_engine(counters, current_app.config.get("DATABASE_PING_AFTER_IDLE_SECONDS", 1.0))
            _counter_engines[engine] = counters
    return counters


def _commit_without_waiting(dbapi_connection, _record):
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    dbapi_connection.commit()


@contextmanager
def separate_write():
    """A short write transaction on a connection of its own, committed at once whatever the
    request's session does (job progress, the API's request counter); on SQLite it takes the
    write lock up front, like write_transaction()."""
    with db.engine.connect().execution_options(sqlite_immediate=True) as connection, connection.begin():
        yield connection


def is_postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def is_sqlite():
    return db.session.get_bind().dialect.name == "sqlite"


def dialect_insert():
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if is_postgresql() else sqlite.insert


__all__ = ["configure_engine", "counter_engine", "write_transaction", "separate_write", "is_postgresql", "is_sqlite", "dialect_insert", "fold",
           "FOLD_FUNCTION", "sa"]
