"""Case-insensitive keyword search of directives that also works for Kazakh and Russian letters on SQLite.

The folding itself (`fold`, SQLite's qb_fold) is defined once, in appeals.core.database.
"""
import sqlalchemy as sa

from appeals.core.database import fold


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
