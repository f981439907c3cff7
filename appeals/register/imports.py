"""Import of appeals from CSV/XLSX sheets (typed in after door-to-door visits).

An import is checked row by row first; only a file without errors is registered, in one
transaction, so a bad file leaves the register exactly as it was.
"""
from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from appeals.auth.models import User
from appeals.auth.permissions import can
from appeals.core.database import is_postgresql, write_transaction
from appeals.core.extensions import db
from appeals.core.i18n import LANGUAGE_NAMES
from appeals.core.jobs import JobFailed, JobResult, job_kind, start_job
from appeals.core.labels import APPEAL_TYPE_LABELS, APPLICANT_KIND_LABELS, CHANNEL_LABELS
from appeals.core.parsing import lenient, parse_datetime
from appeals.core.uploads import SheetLimits, UploadError, quote, read_csv_rows, read_xlsx_rows
from appeals.reference.models import Category, Office, Settlement
from appeals.register.models import TEXT_MAX
from appeals.register.validation import AppealError, AppealValidationError, ImportValidationError, clean_appeal_data
from appeals.register.workflow import insert_appeal
from appeals.schedules.models import Host, ReceptionSession

if TYPE_CHECKING:
    from appeals.core.jobs import Job, JobHandle
    from appeals.register.models import Appeal

# Import columns: code (header in the template), label, required.
IMPORT_COLUMNS = (
    ("received_at", _l("Date and time received"), True),
    ("channel", _l("Channel"), True),
    ("applicant_kind", _l("Applicant"), False),
    ("applicant_name", _l("Full name"), False),
    ("iin", _l("IIN"), False),
    ("phone", _l("Phone"), False),
    ("address", _l("Address"), False),
    ("settlement", _l("Settlement"), True),
    ("signatories", _l("Signatories"), False),
    ("appeal_type", _l("Type"), True),
    ("category", _l("Category"), True),
    ("summary", _l("Summary"), True),
    ("text", _l("Full text"), False),
    ("host", _l("Host"), False),
    ("language", _l("Language of the answer"), False),
)
IMPORT_MAX_ROWS = 20000
# A file this small is imported while the clerk waits for the page; a larger one in the background.
IMPORT_INLINE_ROWS = 300
PROGRESS_EVERY = 100
# Field names of the register rules → import column codes, for row-level error reports.
FIELD_TO_COLUMN = {"settlement_id": "settlement", "category_id": "category", "host_id": "host", "session_id": "channel"}


def _fold(value: object) -> str:
    return " ".join(str(value or "").split()).casefold()


def _label_lookup(labels: Mapping[str, Any]) -> dict[str, str]:
    """{folded code or label in any UI language: code}, so a sheet may say "phone", "Телефон" or "Телефон"."""
    lookup: dict[str, str] = {}
    for code, label in labels.items():
        lookup[_fold(code)] = code
        for language in current_app.config["LANGUAGES"]:
            with force_locale(language):
                lookup[_fold(str(label))] = code
    return lookup


def _header_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for code, label, _required in IMPORT_COLUMNS:
        lookup[_fold(code)] = code
        for language in current_app.config["LANGUAGES"]:
            with force_locale(language):
                lookup[_fold(str(label))] = code
    return lookup


def _limits() -> SheetLimits:
    return SheetLimits(max_rows=IMPORT_MAX_ROWS, max_cell_chars=TEXT_MAX)


def read_import_file(filename: str | None, content: bytes | IO[bytes]) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a CSV or XLSX file as [(row number, {column code: value})]; AppealError for unreadable files.

    content: the file's bytes or a binary file object (an upload's stream), read within the bounds
    of appeals.core.uploads: a hostile file is refused early instead of filling the memory.
    """
    name = (filename or "").lower()
    try:
        if name.endswith(".xlsx"):
            raw_rows = read_xlsx_rows(content, _limits())
        elif name.endswith(".csv") or name.endswith(".txt"):
            raw_rows = read_csv_rows(content, _limits())
        else:
            raise AppealError(_("Upload a .csv or .xlsx file."), "file")
    except UploadError as exc:
        raise AppealError(exc.message, "file") from exc
    if not raw_rows:
        raise AppealError(_("The file is empty."), "file")
    lookup = _header_lookup()
    header = [lookup.get(_fold(cell)) for cell in raw_rows[0][1]]
    missing = [str(label) for code, label, required in IMPORT_COLUMNS if required and code not in header]
    if missing:
        raise AppealError(
            _("The first row must name the columns; missing: %(columns)s. Download the template to see them.",
              columns=", ".join(missing)), "file")
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, raw in raw_rows[1:]:
        values = {code: raw[i] if i < len(raw) else "" for i, code in enumerate(header) if code}
        if any(v not in ("", None) for v in values.values()):
            rows.append((number, values))
    if not rows:
        raise AppealError(_("The file has no rows below the header."), "file")
    return rows


class _Resolver:
    """Names in a sheet → ids, loaded once per import."""

    def __init__(self, office: Office) -> None:
        self.office = office
        self.channels = _label_lookup(CHANNEL_LABELS)
        self.kinds = _label_lookup(APPLICANT_KIND_LABELS)
        self.types = _label_lookup(APPEAL_TYPE_LABELS)
        self.languages = _label_lookup(LANGUAGE_NAMES)
        self.settlements: dict[str, int | None] = {}
        for settlement in db.session.scalars(sa.select(Settlement).where(Settlement.is_active.is_(True))):
            for key in (settlement.name_kk, settlement.name_ru, settlement.name_en, settlement.kato):
                if key:
                    # A name shared by two settlements is ambiguous: only its KATO code identifies it.
                    # (One settlement's own names may coincide: «Тараз» in Kazakh and Russian.)
                    folded = _fold(key)
                    taken = self.settlements.get(folded, settlement.id)
                    self.settlements[folded] = None if taken != settlement.id and key != settlement.kato else settlement.id
        self.categories: dict[str, int] = {}
        for category in db.session.scalars(sa.select(Category).where(Category.is_active.is_(True))):
            for key in (category.code, category.name_kk, category.name_ru, category.name_en):
                if key:
                    self.categories[_fold(key)] = category.id
        self.hosts = {_fold(host.full_name): host.id for host in db.session.scalars(sa.select(Host))}

    def row_data(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        data: dict[str, Any] = {"office": self.office}
        errors: list[tuple[str, str]] = []
        data["received_at"] = values.get("received_at")
        for key, lookup in (("channel", self.channels), ("applicant_kind", self.kinds), ("appeal_type", self.types),
                            ("language", self.languages)):
            raw = values.get(key, "")
            code = lookup.get(_fold(raw))
            if raw and code is None:
                errors.append((key, _("Unknown value \u201c%(value)s\u201d.", value=quote(raw))))
            data[key] = code or ""
        if not data["applicant_kind"]:
            data["applicant_kind"] = "individual"
        for key in ("applicant_name", "iin", "phone", "address", "signatories", "summary", "text"):
            data[key] = values.get(key, "")
        settlement = values.get("settlement", "")
        data["settlement_id"] = self.settlements.get(_fold(settlement))
        if settlement and data["settlement_id"] is None:
            errors.append(("settlement", _("Unknown settlement \u201c%(value)s\u201d.", value=quote(settlement))))
        category = values.get("category", "")
        data["category_id"] = self.categories.get(_fold(category))
        if category and data["category_id"] is None:
            errors.append(("category", _("Unknown category \u201c%(value)s\u201d.", value=quote(category))))
        host = values.get("host", "")
        data["host_id"] = self.hosts.get(_fold(host)) if host else None
        if host and data["host_id"] is None:
            errors.append(("host", _("Unknown host \u201c%(value)s\u201d.", value=quote(host))))
        if data["channel"] == "session":
            received = lenient(parse_datetime, data["received_at"])
            if received is not None:
                sessions = db.session.scalars(
                    sa.select(ReceptionSession).where(
                        ReceptionSession.office_id == self.office.id,
                        ReceptionSession.date == received.date(),
                        ReceptionSession.status != "cancelled",
                    )
                ).all()
                if len(sessions) == 1:
                    data["session_id"] = sessions[0].id
                elif len(sessions) > 1 and data["host_id"]:
                    matching = [s for s in sessions if data["host_id"] in {h.id for h in s.hosts}]
                    data["session_id"] = matching[0].id if len(matching) == 1 else None
        return data, errors


def import_rows(rows: Iterable[Any], office: Office | str | None, actor: User | None,
                job: JobHandle | None = None) -> list[Appeal]:
    """Validate every row, then register all of them in one transaction; ImportValidationError lists bad rows.

    rows: [(row number, {column code: value})] as read_import_file returns, or plain dicts.
    job: the JobHandle to report progress on, when the import runs as a job.
    """
    if isinstance(office, str):
        office = db.session.scalar(sa.select(Office).where(Office.code == office.strip().upper()))
    if office is None:
        raise AppealError(_("Choose the office that registers the appeal."), "office")
    if actor is not None and not can(actor, "appeal.import", office):
        raise AppealError(_("You cannot register appeals for this office."), "office")
    rows = [row if isinstance(row, tuple) else (index, row) for index, row in enumerate(rows, start=2)]
    if job is not None:
        job.progress(0, len(rows), phase="validating")

    resolver = _Resolver(cast(Office, office))
    cleaned: list[dict[str, Any]] = []
    row_errors: list[tuple[int, str, object]] = []
    for index, (row_number, values) in enumerate(rows, start=1):
        data, errors = resolver.row_data(values)
        for column, message in errors:
            row_errors.append((row_number, column, message))
        try:
            cleaned.append(clean_appeal_data(data, actor))
        except AppealValidationError as exc:
            reported = {column for column, _message in errors}
            for field, messages in exc.errors.items():
                column = FIELD_TO_COLUMN.get(field, field)
                if column in reported:
                    continue
                for message in messages:
                    row_errors.append((row_number, column, message))
        if job is not None and index % PROGRESS_EVERY == 0:
            job.progress(index)
    if row_errors:
        raise ImportValidationError(row_errors)

    if job is not None:
        job.progress(0, phase="saving")
    # SQLite has one writer: while this transaction holds the lock, progress cannot be written elsewhere.
    live_progress = job is not None and is_postgresql()
    with write_transaction():
        imported: list[Appeal] = []
        for index, values in enumerate(cleaned, start=1):
            imported.append(insert_appeal(values, actor, audit_action="imported"))
            if live_progress and index % PROGRESS_EVERY == 0:
                job.progress(index)
        if hasattr(job, "finish_in_transaction"):
            # The job's outcome commits with the rows: a crash after this leaves both, before it neither.
            db.session.flush()
            job.finish_in_transaction(JobResult(params=_import_outcome(imported)))
    return imported


# A rejected import's page must stop saying "Checking rows…", and lists no rows unless some were wrong.
REJECTED = {"phase": "rejected", "errors": [], "error_count": 0}
ROW_ERRORS_SHOWN = 500


def start_import(office: Office, filename: str, rows: list[tuple[int, dict[str, Any]]], user: User) -> Job:
    """Run the import of `rows` (read_import_file) into `office` as a job of `user`; returns the Job.

    All rows or none are registered; the job records which rows to correct, or the numbers given.
    """
    params = {"office": office.code, "filename": Path(filename).name[:200], "phase": "queued"}
    inline = len(rows) <= current_app.config.get("IMPORT_INLINE_ROWS", IMPORT_INLINE_ROWS)
    # The rows travel in the job's input (JSON): a worker on another machine reads them from there.
    data = [[number, values] for number, values in rows]
    return start_job("import_appeals", user, params, input={"office": office.code, "rows": data},
                     total=len(rows), inline=inline)


# Safe to redo: the rows and the job's "done" commit in one transaction, so an interrupted import
# wrote nothing.
@job_kind("import_appeals", redo_safe=True, error_message=_l("The import failed unexpectedly; nothing was imported."),
          error_params=REJECTED, interrupted_message=_l("The import was interrupted; nothing was imported. "
                                                        "Please upload the file again."))
def _import_work(job: JobHandle) -> JobResult:
    rows = [(number, values) for number, values in job.input["rows"]]
    try:
        imported = import_rows(rows, job.input["office"], db.session.get(User, job.user_id), job=job)
    except ImportValidationError as exc:
        raise JobFailed(exc.message, phase="rejected", error_count=len(exc.row_errors),
                        errors=[list(error) for error in exc.row_errors[:ROW_ERRORS_SHOWN]]) from exc
    except AppealError as exc:
        raise JobFailed(exc.message, **REJECTED) from exc
    return JobResult(params=_import_outcome(imported))


def _import_outcome(imported: list[Appeal]) -> dict[str, Any]:
    return {"phase": "done", "imported": len(imported), "first": imported[0].number if imported else "",
            "last": imported[-1].number if imported else ""}


def import_template_xlsx() -> bytes:
    """An empty sheet with the column codes, an example row and a second sheet explaining each column."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "appeals"
    sheet.append([code for code, _label, _required in IMPORT_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append([
        "2021-03-15 10:30", "door_to_door", "individual", "Әбілқасымов Ерлан Серікұлы", "", "+77011234567",
        "Абай көшесі, 12", "Қордай", "", "statement", "roads", _("Repair of the street road"), "", "", "kk",
    ])
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 22
    help_sheet = workbook.create_sheet(_("Help"))
    help_sheet.append([_("Column"), _("Meaning"), _("Required"), _("Allowed values")])
    allowed = {
        "channel": ", ".join(CHANNEL_LABELS),
        "applicant_kind": ", ".join(APPLICANT_KIND_LABELS),
        "appeal_type": ", ".join(APPEAL_TYPE_LABELS),
        "received_at": "YYYY-MM-DD HH:MM / DD.MM.YYYY HH:MM",
        "settlement": _("Settlement name (Kazakh or Russian) or KATO code"),
        "category": _("Category code or name"),
        "iin": _("12 digits"),
        "language": ", ".join(LANGUAGE_NAMES) + " " + _("(default kk)"),
    }
    for code, label, required in IMPORT_COLUMNS:
        help_sheet.append([code, str(label), _("yes") if required else "", allowed.get(code, "")])
    for cell in help_sheet[1]:
        cell.font = Font(bold=True)
    help_sheet.column_dimensions["B"].width = 30
    help_sheet.column_dimensions["D"].width = 60
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
