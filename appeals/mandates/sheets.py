"""Mandates as a spreadsheet (CSV or XLSX) and bulk progress updates from the same file.

Export → edit → import: the import reads exactly the columns the export writes (the header in any
of the three languages) and changes only what was edited. A row whose cells equal the mandate's
current values changes nothing; an edited responsible body, responsible person (username) or target
date updates the mandate; an edited status or progress, or a text in the "New update" column,
adds a progress update (lifecycle.record_progress_note: audit, subscribers' notices). The number
identifies the mandate; the public title and the settlement are there to read, not to change
(the public text is reviewed on the mandate's page). All or nothing: every row is checked first,
every error is reported with its row and column, and nothing is written unless all rows are right.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Optional

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from appeals.auth.models import User
from appeals.auth.permissions import can, scope_mandates
from appeals.core import parsing
from appeals.core.database import write_transaction
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.labels import MANDATE_STATUS_LABELS
from appeals.core.spreadsheets import csv_row, xlsx_row
from appeals.core.uploads import SheetLimits, UploadError, quote, read_csv_rows, read_xlsx_rows
from appeals.mandates import lifecycle
from appeals.mandates.directives import MandateError
from appeals.mandates.models import Mandate

COLUMNS = ("number", "public_title", "settlement", "responsible", "responsible_user", "target_date", "status",
           "progress_percent", "note")
EXPORT_MAX_ROWS = 20000
LIMITS = dict(max_rows=EXPORT_MAX_ROWS, max_columns=len(COLUMNS) + 5, max_cell_chars=5000)


def _labels() -> dict[str, str]:
    return {
        "number": _("Mandate number"), "public_title": _("Public title"), "settlement": _("Settlement"),
        "responsible": _("Responsible body"), "responsible_user": _("Responsible person (username)"),
        "target_date": _("Target date"), "status": _("Status"),
        # No comma in a title: the header line tells the CSV reader its delimiter.
        "progress_percent": _("Progress in percent"),
        "note": _("New update (text)"),
    }


def header() -> list[str]:
    labels = _labels()
    return [labels[column] for column in COLUMNS]


def _header_keys() -> dict[str, str]:
    """Every language's column title → the column."""
    keys: dict[str, str] = {}
    for lang in ("kk", "ru", "en"):
        with force_locale(lang):
            for column, label in _labels().items():
                keys[_fold(label)] = column
    for column in COLUMNS:
        keys[column] = column
    return keys


def _fold(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold()


def _status_keys() -> dict[str, str]:
    keys = {status: status for status in MANDATE_STATUS_LABELS}
    for lang in ("kk", "ru", "en"):
        with force_locale(lang):
            keys.update({_fold(str(label)): status for status, label in MANDATE_STATUS_LABELS.items()})
    return keys


def export_query(query: sa.Select) -> sa.Select:
    return query.options(selectinload(Mandate.settlement), selectinload(Mandate.responsible_user)).limit(
        EXPORT_MAX_ROWS)


def rows(query: sa.Select) -> Iterator[list[Any]]:
    for mandate in db.session.scalars(export_query(query)):
        yield [
            mandate.number, mandate.public_title, mandate.settlement.name if mandate.settlement else "",
            mandate.responsible, mandate.responsible_user.username if mandate.responsible_user else "",
            mandate.target_date, str(MANDATE_STATUS_LABELS.get(mandate.status, mandate.status)),
            mandate.progress_percent, "",
        ]


def export_csv(query: sa.Select) -> Iterator[str]:
    """CSV lines (UTF-8 with BOM for Excel, ";" as Excel in Kazakhstan writes), dates as dd.mm.yyyy."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(csv_row(header()))
    yield "\ufeff" + buffer.getvalue()
    for row in rows(query):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(csv_row([value.strftime("%d.%m.%Y") if isinstance(value, date) else value for value in row]))
        yield buffer.getvalue()


def export_xlsx(query: sa.Select) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Mandates"))
    cells = xlsx_row(sheet, header())
    for cell in cells:
        cell.font = Font(bold=True)
    sheet.append(cells)
    for row in rows(query):
        cells = xlsx_row(sheet, row)
        for cell, value in zip(cells, row):
            if isinstance(value, date):
                cell.number_format = "DD.MM.YYYY"
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- import ------------------------------------------------------------------------------------


class SheetImportError(DomainError):
    """The file is refused as a whole: `rows` lists (row, column title, message) for every bad cell."""

    kind = "invalid"

    def __init__(self, message: str, rows: Sequence[tuple[int, str, str]] = ()) -> None:
        super().__init__(message, field="file")
        self.rows = list(rows)


@dataclass
class Change:
    mandate: Mandate
    fields: dict[str, Any] = field(default_factory=dict)  # for lifecycle.apply_mandate_update
    status: Optional[str] = None
    percent: Optional[int] = None
    note: str = ""

    @property
    def adds_update(self) -> bool:
        return self.status is not None or self.percent is not None or bool(self.note)


@dataclass
class ImportResult:
    rows: int
    changed: list[str]

    @property
    def unchanged(self) -> int:
        return self.rows - len(self.changed)


def _cell(value: Any) -> Any:
    # The export writes formula-like text with a leading apostrophe (core.spreadsheets): read it back.
    if isinstance(value, str) and value.startswith("'") and value[1:2] in ("=", "+", "-", "@"):
        return value[1:]
    return value


def read_sheet(content: bytes, filename: str) -> list[tuple[int, list]]:
    limits = SheetLimits(**LIMITS)
    try:
        if filename.lower().endswith(".xlsx"):
            return read_xlsx_rows(content, limits)
        return read_csv_rows(content, limits)
    except UploadError as error:
        raise SheetImportError(error.message) from None


def plan_import(content: bytes, filename: str, actor: User) -> list[Change]:
    """Check every row against the mandates as they are; the changes to make, or SheetImportError."""
    sheet = read_sheet(content, filename)
    if not sheet:
        raise SheetImportError(_("The file is empty."))
    keys = _header_keys()
    (_header_row, titles) = sheet[0]
    columns = [keys.get(_fold(title)) for title in titles]
    missing = [column for column in ("number",) if column not in columns]
    if missing:
        raise SheetImportError(_("The first row must be the header the mandates export writes (“%(column)s” is "
                                 "missing).", column=_labels()["number"]))
    labels = _labels()
    errors: list[tuple[int, str, str]] = []
    statuses = _status_keys()
    numbers = [str(_cell(cells[columns.index("number")]) if columns.index("number") < len(cells) else "").strip()
               for _row, cells in sheet[1:]]
    mandates = {m.number: m for m in db.session.scalars(
        scope_mandates(sa.select(Mandate), actor).where(Mandate.number.in_([n for n in numbers if n]))
        .options(selectinload(Mandate.settlement), selectinload(Mandate.responsible_user)))}
    usernames = {u.username.casefold(): u for u in db.session.scalars(sa.select(User).where(User.is_active_account))}
    seen: set[str] = set()
    changes: list[Change] = []
    for (row_number, cells), number in zip(sheet[1:], numbers):
        values = {column: _cell(cells[index]) for index, column in enumerate(columns)
                  if column is not None and index < len(cells)}

        def error(column: str, message: str, row_number: int = row_number) -> None:
            errors.append((row_number, labels[column], message))

        mandate = mandates.get(number)
        if not number:
            error("number", _("The mandate number is empty."))
            continue
        if mandate is None:
            error("number", _("No mandate %(number)s that you may change.", number=quote(number)))
            continue
        if number in seen:
            error("number", _("Mandate %(number)s is in the file twice.", number=number))
            continue
        seen.add(number)
        if not can(actor, "mandate.edit", mandate):
            error("number", _("You may not change mandate %(number)s.", number=number))
            continue
        change = Change(mandate)
        current = _current(mandate)
        if "public_title" in values and _fold(values["public_title"]) != _fold(mandate.public_title):
            error("public_title", _("This column is there to read; change it on the mandate's page."))
        if "settlement" in values and _fold(values["settlement"]) not in _settlement_names(mandate):
            error("settlement", _("This column is there to read; change it on the mandate's page."))
        if "responsible" in values and _fold(values["responsible"]) != _fold(current["responsible"]):
            if len(str(values["responsible"])) > 300:
                error("responsible", _("At most %(n)d characters.", n=300))
            change.fields["responsible"] = str(values["responsible"]).strip()
        if "responsible_user" in values and _fold(values["responsible_user"]) != _fold(current["responsible_user"]):
            name = _fold(values["responsible_user"])
            if name and name not in usernames:
                error("responsible_user", _("No active user %(name)s.", name=quote(values["responsible_user"])))
            else:
                change.fields["responsible_user_id"] = usernames[name].id if name else None
        if "target_date" in values:
            try:
                target = parsing.parse_date(values["target_date"], "target_date")
            except parsing.ParseError as exc:
                error("target_date", exc.message)
            else:
                if target != mandate.target_date:
                    change.fields["target_date"] = target
        if "status" in values:
            status = statuses.get(_fold(values["status"]))
            if status is None:
                error("status", _("Unknown status “%(value)s”.", value=quote(values["status"])))
            elif status != mandate.status:
                if status not in lifecycle.TRANSITIONS[mandate.status]:
                    error("status", _("A mandate cannot go from “%(old)s” to “%(new)s”.",
                                      old=lifecycle.status_label(mandate.status), new=lifecycle.status_label(status)))
                change.status = status
        if "progress_percent" in values and str(values["progress_percent"]).strip() != str(mandate.progress_percent):
            try:
                percent = parsing.parse_int(values["progress_percent"], "progress_percent", required=True,
                                            minimum=0, maximum=100)
            except parsing.ParseError as exc:
                error("progress_percent", exc.message)
            else:
                if percent != mandate.progress_percent:
                    change.percent = percent
        note = str(values.get("note") or "").strip()
        if len(note) > 5000:
            error("note", _("At most %(n)d characters.", n=5000))
        change.note = note
        if change.adds_update and mandate.status == "withdrawn":
            error("status", _("A withdrawn mandate cannot be changed."))
        if change.fields or change.adds_update:
            changes.append(change)
    if errors:
        raise SheetImportError(_("Nothing was imported: correct these rows and upload the file again."), errors)
    return changes


def _settlement_names(mandate: Mandate) -> set[str]:
    """The settlement as any language's export wrote it."""
    if mandate.settlement is None:
        return {""}
    return {_fold(mandate.settlement.localized_name(lang)) for lang in ("kk", "ru", "en")}


def _current(mandate: Mandate) -> dict[str, str]:
    return {
        "public_title": mandate.public_title, "settlement": mandate.settlement.name if mandate.settlement else "",
        "responsible": mandate.responsible,
        "responsible_user": mandate.responsible_user.username if mandate.responsible_user else "",
        "status": str(MANDATE_STATUS_LABELS.get(mandate.status, mandate.status)),
    }


def import_updates(content: bytes, filename: str, actor: User) -> ImportResult:
    """Apply an edited export in one transaction; returns the numbers of the mandates it changed."""
    changes = plan_import(content, filename, actor)
    total = len(read_sheet(content, filename)) - 1
    try:
        with write_transaction():
            for change in changes:
                mandate = db.session.get(Mandate, change.mandate.id)
                if change.fields:
                    lifecycle.apply_mandate_update(mandate, change.fields, actor)
                if change.adds_update:
                    lifecycle.record_progress_note(
                        mandate, None, change.note or _("Progress updated from a spreadsheet."), change.percent, actor,
                        status=change.status)
    except MandateError as exc:
        raise SheetImportError(_("Nothing was imported: correct these rows and upload the file again."),
                               [(0, "", exc.message)]) from None
    return ImportResult(rows=total, changed=[change.mandate.number for change in changes])

