"""Case-insensitive keyword search that also works for Kazakh and Russian letters on SQLite.

SQLite's lower() folds ASCII only, so «ЖОЛ» would not match «жол». Every SQLite connection gets
a `qb_fold` function backed by Python's str.casefold; PostgreSQL's lower() already folds Cyrillic
(under a UTF-8 ctype, as our databases are created).
"""
import sqlite3

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

FOLD_FUNCTION = "qb_fold"


def fold(value):
    return (value or "").casefold()


def _register(dbapi_connection):
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, _record):
    _register(dbapi_connection)


def folded(column, dialect_name):
    if dialect_name == "sqlite":
        return sa.func.qb_fold(column)
    return sa.func.lower(column)


def escape_like(value):
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def split_keywords(raw):
    """'жол, су; газ', one keyword per line, or a list → ['жол', 'су', 'газ'] (folded, unique, in order)."""
    if isinstance(raw, (list, tuple)):
        raw = ",".join(str(part) for part in raw)
    seen = []
    for part in (raw or "").replace(";", ",").replace("\n", ",").split(","):
        word = fold(part.strip())
        if word and word not in seen:
            seen.append(word)
    return seen
