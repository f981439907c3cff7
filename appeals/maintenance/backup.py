"""Full export and lossless restore of the database as one versioned JSON Lines file.

Layout (UTF-8, one JSON value per line):
  1. a header: {"format": "qabyldau-export", "version": 1, "schema": <alembic revision>,
     "credentials": bool, "tables": [{"name", "rows"}...]}
  2. for every table of the metadata, in foreign-key order: {"table", "columns", "rows"}
     followed by that many rows, each a JSON array in column order.

The file is deterministic: rows ordered by primary key, keys sorted, no timestamps of the export
itself, dates as ISO 8601. So export → import → export gives a byte-identical file, which is
how a backup is verified. Restore goes into an empty, migrated database in one transaction.

Credentials (password hashes, API-token hashes, calendar-feed secrets) are left out unless asked.
"""
from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, TextIO

import sqlalchemy as sa
from flask_babel import gettext as _

from appeals.core import storage
from appeals.core.database import is_postgresql, write_transaction
from appeals.core.extensions import db

FORMAT = "qabyldau-export"
VERSION = 1
BATCH = 1000

# (table, column) -> value written instead when credentials are not exported.
CREDENTIAL_COLUMNS = {
    ("users", "password_hash"): "", ("hosts", "feed_token"): None,
    ("users", "totp_secret"): None, ("users", "totp_enabled_at"): None, ("users", "totp_last_step"): None,
}
# Tables made only of credentials (and what hangs on them): exported empty without credentials.
CREDENTIAL_TABLES = ("api_tokens", "user_sessions", "totp_recovery_codes")
# Tables a migration fills with defaults (the answer terms per appeal type): a new, migrated database
# has these rows, and the file's rows replace them on restore.
MIGRATION_DEFAULT_TABLES = ("deadline_rules",)


class BackupError(ValueError):
    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = str(message)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _encode(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        # Binary columns (a finished job's PDF) travel as base64 text.
        return base64.b64encode(value).decode("ascii")
    return value


def ordered_tables() -> list[sa.Table]:
    """The tables a backup holds: all but those derived from others (`info={"derived": True}`, such as
    the appeal counts the triggers keep), which the restored rows rebuild as they are inserted."""
    return [table for table in db.metadata.sorted_tables if not table.info.get("derived")]


def _order_columns(table: sa.Table) -> list[Any]:
    return [table.c[column.name] for column in table.primary_key.columns]


def _integer_key(table: sa.Table) -> bool:
    columns = list(table.primary_key.columns)
    return len(columns) == 1 and isinstance(columns[0].type, sa.Integer)


def schema_revision() -> str:
    from alembic.migration import MigrationContext

    heads = MigrationContext.configure(db.session.connection()).get_current_heads()
    return ",".join(sorted(heads))


def _rows(table: sa.Table, include_credentials: bool) -> Iterator[Any]:
    if table.name in CREDENTIAL_TABLES and not include_credentials:
        return
    columns = [column.name for column in table.columns]
    if table.name == storage.StoredFile.__tablename__:
        yield from _stored_file_rows(table, columns)
        return
    select = sa.select(table).order_by(*_order_columns(table))
    result = db.session.execute(select.execution_options(yield_per=BATCH))
    rows: Iterator[tuple[Any, ...]] = (tuple(row) for row in result)
    if not _integer_key(table):
        # Text keys sort differently under PostgreSQL collations; Python's order is the same everywhere.
        key_positions = [columns.index(column.name) for column in table.primary_key.columns]
        rows = iter(sorted(rows, key=lambda row: tuple(row[i] for i in key_positions)))
    masked = {} if include_credentials else {
        columns.index(column): value for (name, column), value in CREDENTIAL_COLUMNS.items() if name == table.name
    }
    for row in rows:
        values = [_encode(value) for value in row]
        for position, value in masked.items():
            values[position] = value
        yield values


def _stored_file_rows(table: sa.Table, columns: list[str]) -> Iterator[Any]:
    """Kept files with their bytes, wherever RESULT_STORE put them (a folder's too), one at a time:
    a backup holds every attachment and answer letter, and memory holds one file."""
    keys = sorted(db.session.scalars(sa.select(table.c.key)))
    others = [table.c[name] for name in columns if name != "data"]
    for key in keys:
        row = db.session.execute(sa.select(*others).where(table.c.key == key)).one()
        data = storage.get(key)
        if data is None:
            raise BackupError(_("The kept file %(key)s is missing from the store; nothing was exported.", key=key))
        values = dict(zip([column.name for column in others], row))
        values["data"] = data
        yield [_encode(values[name]) for name in columns]


def count_rows(table: sa.Table, include_credentials: bool) -> int:
    if table.name in CREDENTIAL_TABLES and not include_credentials:
        return 0
    return db.session.scalar(sa.select(sa.func.count()).select_from(table))


def export_data(stream: TextIO, include_credentials: bool = False,
                progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write everything to the text `stream`; returns {table: rows}. `progress(n)` after each batch."""
    tables = ordered_tables()
    counts = {table.name: count_rows(table, include_credentials) for table in tables}
    header = {
        "format": FORMAT,
        "version": VERSION,
        "schema": schema_revision(),
        "credentials": bool(include_credentials),
        "tables": [{"name": table.name, "rows": counts[table.name]} for table in tables],
    }
    stream.write(_dump(header) + "\n")
    for table in tables:
        stream.write(_dump({"table": table.name, "columns": [c.name for c in table.columns],
                            "rows": counts[table.name]}) + "\n")
        written = 0
        for values in _rows(table, include_credentials):
            stream.write(_dump(values) + "\n")
            written += 1
            if progress and written % BATCH == 0:
                progress(BATCH)
        if written != counts[table.name]:
            raise BackupError(_("The table %(table)s changed during the export; run it again.", table=table.name))
        if progress and written % BATCH:
            progress(written % BATCH)
    return counts


# --- Restore ------------------------------------------------------------------------------------


def _decoder(column: sa.Column) -> Callable[[Any], Any] | None:
    kind = column.type
    if isinstance(kind, sa.DateTime):
        return dt.datetime.fromisoformat
    if isinstance(kind, sa.Date):
        return dt.date.fromisoformat
    if isinstance(kind, sa.Time):
        return dt.time.fromisoformat
    if isinstance(kind, sa.JSON):
        return None
    if isinstance(kind, sa.LargeBinary):
        return lambda value: base64.b64decode(_expect(str)(value), validate=True)
    if isinstance(kind, sa.Boolean):
        return _expect(bool)
    if isinstance(kind, sa.Integer):
        return _expect(int)
    if isinstance(kind, (sa.String, sa.Text, sa.Enum)):
        return _expect(str)
    return None


def _expect(python_type: type) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if type(value) is not python_type:  # noqa: E721 - bool must not pass for int
            raise ValueError(f"expected {python_type.__name__}")
        return value

    return check


def _read_json(line: str, number: int) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        raise BackupError(_("Line %(n)d is not valid JSON.", n=number)) from None


def read_header(stream: TextIO) -> dict[str, Any]:
    first = stream.readline()
    if not first:
        raise BackupError(_("The file is empty."))
    header = _read_json(first, 1)
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(_("This is not a Qabyldau export file."))
    if header.get("version") != VERSION:
        raise BackupError(_("Export format version %(found)s is not supported (expected %(expected)d).",
                              found=header.get("version"), expected=VERSION))
    return header


def _ensure_empty() -> None:
    filled = [table.name for table in ordered_tables() if table.name not in MIGRATION_DEFAULT_TABLES
              and db.session.scalar(sa.select(sa.func.count()).select_from(table)) > 0]
    if filled:
        raise BackupError(_("The database is not empty (%(tables)s); restore only into a new, migrated database.",
                              tables=", ".join(filled[:5])))
    for name in MIGRATION_DEFAULT_TABLES:
        db.session.execute(sa.delete(db.metadata.tables[name]))


def _reset_sequences() -> None:
    """PostgreSQL: explicit ids were inserted, so the id sequences must continue after them."""
    for table in ordered_tables():
        if not _integer_key(table):
            continue
        column = next(iter(table.primary_key.columns))
        if not column.autoincrement:
            continue
        db.session.execute(sa.text(
            f'SELECT setval(pg_get_serial_sequence(:table, :column), '
            f'(SELECT COALESCE(MAX("{column.name}"), 0) + 1 FROM "{table.name}"), false)'
        ), {"table": table.name, "column": column.name})


def import_data(stream: TextIO, progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Restore a file written by export_data into the empty database; all or nothing.

    Returns {table: rows}. Raises BackupError with a translated message; nothing is written then.
    """
    header = read_header(stream)
    revision = schema_revision()
    if header.get("schema") != revision:
        raise BackupError(_("The file was written with database schema %(found)s, this database has %(current)s.",
                              found=header.get("schema"), current=revision or "—"))
    tables = {table.name: table for table in ordered_tables()}
    expected_order = [entry.get("name") for entry in header.get("tables", [])]
    if set(expected_order) != set(tables):
        raise BackupError(_("The file's tables do not match this database's tables."))
    counts = {}
    line_number = 1
    with write_transaction():
        _ensure_empty()
        for _name in expected_order:
            line_number += 1
            section = _read_json(stream.readline(), line_number)
            table = tables.get(section.get("table")) if isinstance(section, dict) else None
            if table is None or section["table"] in counts:
                raise BackupError(_("Line %(n)d: a table section was expected.", n=line_number))
            columns = section.get("columns")
            if columns != [c.name for c in table.columns]:
                raise BackupError(_("The columns of table %(table)s do not match this database.", table=table.name))
            decoders = [_decoder(table.c[name]) for name in columns]
            self_refs = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
            # Linking is an UPDATE: columns with an `onupdate` default (updated_at) keep the file's value.
            keep_on_update = [c.name for c in table.columns if c.onupdate is not None]
            deferred = []
            batch = []
            for _row in range(int(section.get("rows", 0))):
                line_number += 1
                values = _read_json(stream.readline(), line_number)
                if not isinstance(values, list) or len(values) != len(columns):
                    raise BackupError(_("Line %(n)d: a row of %(count)d values was expected.",
                                          n=line_number, count=len(columns)))
                try:
                    row = {name: (decode(value) if decode and value is not None else value)
                           for name, decode, value in zip(columns, decoders, values)}
                except (TypeError, ValueError):
                    raise BackupError(_("Line %(n)d: a value of table %(table)s has the wrong type.",
                                          n=line_number, table=table.name)) from None
                for name in self_refs:
                    # Rows may point at rows later in the file: link them once all are in.
                    if row[name] is not None:
                        kept = {f"_keep_{c}": row[c] for c in keep_on_update}
                        deferred.append({"_pk": row["id"], "_value": row[name], "_column": name, **kept})
                        row[name] = None
                if table.name == storage.StoredFile.__tablename__:
                    _restore_stored_file(row, line_number)
                    continue
                batch.append(row)
                if len(batch) >= BATCH:
                    _insert(table, batch, progress)
                    batch = []
            if batch:
                _insert(table, batch, progress)
            for name in self_refs:
                updates = [{k: v for k, v in d.items() if k != "_column"} for d in deferred if d["_column"] == name]
                if updates:
                    values = {name: sa.bindparam("_value"), **{c: sa.bindparam(f"_keep_{c}") for c in keep_on_update}}
                    db.session.execute(sa.update(table).where(table.c.id == sa.bindparam("_pk")).values(values), updates)
            counts[table.name] = int(section.get("rows", 0))
        if stream.readline().strip():
            raise BackupError(_("Line %(n)d: unexpected data after the last table.", n=line_number + 1))
        if is_postgresql():
            _reset_sequences()
    return counts


def _restore_stored_file(row: dict[str, Any], line_number: int) -> None:
    """A kept file goes into this installation's store (RESULT_STORE), checked against its digest."""
    data = row.get("data")
    if not isinstance(data, bytes) or hashlib.sha256(data).hexdigest() != row["sha256"] \
            or len(data) != row["size"]:
        raise BackupError(_("Line %(n)d: the kept file does not match its recorded digest.", n=line_number))
    if not storage.is_key(row["key"]):
        raise BackupError(_("Line %(n)d: a value of table %(table)s has the wrong type.", n=line_number,
                            table=storage.StoredFile.__tablename__))
    try:
        storage.put(data, row["content_type"], key=row["key"], created_at=row["created_at"])
    except sa.exc.IntegrityError:
        raise BackupError(_("Line %(n)d: the kept file is in the file twice.", n=line_number)) from None


def _insert(table: sa.Table, rows: list[dict[str, Any]], progress: Callable[[int], None] | None) -> None:
    try:
        db.session.execute(table.insert(), rows)
    except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
        raise BackupError(_("Table %(table)s: the rows break a database rule (%(reason)s).",
                              table=table.name, reason=str(exc.orig).splitlines()[0][:200])) from None
    if progress:
        progress(len(rows))


# --- Files ----------------------------------------------------------------------------------------


def open_for_writing(path: str | os.PathLike[str]) -> tuple[TextIO, BinaryIO | None]:
    """A text stream to `path`; `.gz` files are compressed without a timestamp, so they stay reproducible."""
    if str(path).endswith(".gz"):
        raw = open(path, "wb")  # noqa: SIM115 - closed by the caller through the wrapper
        return io.TextIOWrapper(gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0), encoding="utf-8",
                                newline="\n"), raw
    return open(path, "w", encoding="utf-8", newline="\n"), None  # noqa: SIM115


def open_for_reading(path: str | os.PathLike[str]) -> TextIO:
    if str(path).endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="\n")
    return open(path, encoding="utf-8", newline="\n")  # noqa: SIM115
