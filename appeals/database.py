"""Engine behaviour per backend and the write-transaction helper every service uses."""
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy import event

from appeals.extensions import db

SQLITE_BUSY_TIMEOUT_MS = 30000


def configure_engine(engine):
    """SQLite: foreign keys on, WAL, and explicit BEGIN so writers can take the lock up front."""
    if engine.dialect.name != "sqlite":
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


@contextmanager
def write_transaction():
    """One unit of work: everything inside commits together or not at all.

    On SQLite it ends any read transaction the request had open and starts one that takes the
    write lock at once, so concurrent clerks queue instead of failing.
    """
    session = db.session
    if session.get_bind().dialect.name == "sqlite":
        # SQLite cannot turn a read transaction into a write one while others write, so start over.
        session.rollback()
        session.connection(execution_options={"sqlite_immediate": True})
    elif session.new or session.dirty or session.deleted:
        # Never commit changes made before the unit of work began along with it.
        session.rollback()
    # On PostgreSQL an open read transaction simply continues (READ COMMITTED sees every commit),
    # keeping what it loaded: no second round of reads for the user, token or office.
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def is_postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def is_sqlite():
    return db.session.get_bind().dialect.name == "sqlite"


def dialect_insert():
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if is_postgresql() else sqlite.insert


__all__ = ["configure_engine", "write_transaction", "is_postgresql", "is_sqlite", "dialect_insert", "sa"]
