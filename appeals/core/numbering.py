"""Gapless, race-safe registration numbers.

A number is taken by incrementing a counter row inside the same transaction that stores the
numbered record. The row lock (PostgreSQL) or the database write lock (SQLite, BEGIN IMMEDIATE)
makes concurrent clerks wait their turn; a rolled-back transaction rolls the counter back too,
so no number is skipped, and a committed number is never handed out again.
"""
import functools

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from appeals.core.database import dialect_insert
from appeals.core.extensions import db


class NumberSequence(db.Model):
    __tablename__ = "number_sequences"
    scope: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


def _insert_missing(scope, year):
    stmt = dialect_insert()(NumberSequence).values(scope=scope, year=year, last_value=0).on_conflict_do_nothing()
    db.session.execute(stmt)


@functools.cache
def _bump() -> sa.Update:
    """Built once per process: every registration only binds the scope and year."""
    table = NumberSequence.__table__
    return (
        sa.update(table)
        .where(table.c.scope == sa.bindparam("counter_scope"), table.c.year == sa.bindparam("counter_year"))
        .values(last_value=table.c.last_value + 1)
        .returning(table.c.last_value)
    )


def next_number(scope, year):
    """Take the next value of (scope, year) within the caller's transaction."""
    params = {"counter_scope": scope, "counter_year": year}
    value = db.session.execute(_bump(), params).scalar()
    if value is None:
        _insert_missing(scope, year)
        value = db.session.execute(_bump(), params).scalar_one()
    return value
