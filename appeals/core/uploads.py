"""Reading uploaded CSV and XLSX sheets within fixed bounds, whatever the file holds.

An upload is at most MAX_CONTENT_LENGTH bytes, but what it expands to is not: a 200 KB XLSX can
declare one shared string of hundreds of megabytes, 45 KB of XLSX can hold 300,000 rows, and a
cell copied into every error message multiplies. So a sheet is read as a stream, row by row, and
reading stops with an error as soon as a bound is passed:

- an XLSX archive is checked before it is opened: number of members, the sizes they declare
  (Python's zipfile never inflates a member past its declared size) and their compression ratio;
- at most `max_rows` non-empty rows, `max_columns` columns, `max_cell_chars` characters per cell
  (a longer cell is cut to one character over the limit, so the field's own check still refuses
  it) and `max_total_chars` characters in all;
- messages quote a cell by a short prefix only (`quote`).

Peak memory of an import stays under 200 MB (bench/import_memory.py). The reading functions are
plain functions of a file object, usable from a web request, the CLI or a queue worker alike.
"""
import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Iterable, Union

from flask_babel import gettext as _

QUOTE_CHARS = 40

# Apache POI's defaults: an entry inflating more than 100 times is refused (past a first megabyte).
XLSX_MAX_RATIO = 100
XLSX_RATIO_GRACE_BYTES = 1024 * 1024
XLSX_MAX_MEMBERS = 1000
XLSX_MAX_UNCOMPRESSED = 64 * 1024 * 1024
XLSX_MAX_SHARED_STRINGS = 24 * 1024 * 1024
CSV_SNIFF_CHARS = 4096


class UploadError(ValueError):
    """The file cannot be imported as a whole; `message` says why, for the user."""

    def __init__(self, message: str):
        super().__init__(str(message))
        self.message = str(message)


@dataclass
class SheetLimits:
    max_rows: int = 20000
    max_columns: int = 64
    max_cell_chars: int = 20000
    # About what a legitimate sheet of max_rows rows holds; bounds the memory and the job's stored input.
    max_total_chars: int = 4_000_000
    # Blank rows (a formatted but empty sheet) are skipped, but not without end.
    max_blank_rows: int = 10000
    total_chars: int = field(default=0, init=False)
    rows: int = field(default=0, init=False)
    blank_rows: int = field(default=0, init=False)

    def row(self, raw: Iterable[Any]) -> list:
        """One sheet row as cells (text stripped, numbers as text, datetimes kept), or [] for a blank row."""
        cells = []
        for index, value in enumerate(raw):
            if index >= self.max_columns:
                break
            cells.append(self._cell(value))
        if not any(cell not in ("", None) for cell in cells):
            self.blank_rows += 1
            if self.blank_rows > self.max_blank_rows:
                raise UploadError(_("The file has too many empty rows; delete them and upload it again."))
            return []
        self.rows += 1
        if self.rows > self.max_rows + 1:  # the header row does not count
            raise UploadError(_("At most %(n)d rows can be imported at once.", n=self.max_rows))
        return cells

    def _cell(self, value: Any):
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = value if isinstance(value, str) else str(value)
        if len(text) > self.max_cell_chars:
            # One character over: the field's own length check refuses it, and nothing longer is kept.
            text = text[: self.max_cell_chars + 1]
        text = text.strip()
        if "\x00" in text:
            raise UploadError(_("The file's encoding is not recognised. Save it as CSV in UTF-8 or Windows-1251, "
                                "or as XLSX."))
        self.total_chars += len(text)
        if self.total_chars > self.max_total_chars:
            raise UploadError(_("The file holds more text than one import can take; split it into smaller files."))
        return text


def quote(value: Any, limit: int = QUOTE_CHARS) -> str:
    """A cell's value as an error message may quote it: at most `limit` characters."""
    text = " ".join(str(value or "").split()[:50])
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def as_stream(content: Union[bytes, IO[bytes]]) -> IO[bytes]:
    return io.BytesIO(content) if isinstance(content, (bytes, bytearray)) else content


def read_csv_rows(content: Union[bytes, IO[bytes]], limits: SheetLimits) -> list[tuple[int, list]]:
    """Non-blank rows, as (row number counted from 1, cells), of a CSV in UTF-8 (with or without BOM) or Windows-1251, the two encodings
    Excel in Kazakhstan saves CSV in; the delimiter is sniffed (, ; or tab)."""
    stream = as_stream(content)
    for encoding in ("utf-8-sig", "cp1251"):
        stream.seek(0)
        limits.total_chars = limits.rows = limits.blank_rows = 0
        text = io.TextIOWrapper(stream, encoding=encoding, newline="")
        try:
            # The header line decides the delimiter: long cells below it must not confuse the sniffer.
            sample = text.readline(CSV_SNIFF_CHARS)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            text.seek(0)
            rows = []
            reader = csv.reader(text, dialect)
            try:
                for number, raw in enumerate(reader, start=1):
                    cells = limits.row(raw)
                    if cells:
                        rows.append((number, cells))
            except csv.Error as exc:
                if "NUL" in str(exc):
                    raise UploadError(_("The file's encoding is not recognised. Save it as CSV in UTF-8 or "
                                        "Windows-1251, or as XLSX.")) from exc
                raise UploadError(_("Line %(line)d of the file cannot be read as CSV (a cell over %(n)d characters, "
                                    "or an unclosed quote).", line=reader.line_num, n=csv.field_size_limit())) from exc
            return rows
        except UnicodeDecodeError:
            continue
        finally:
            # The wrapper must not close the upload when it is collected.
            text.detach()
    raise UploadError(_("The file's encoding is not recognised. Save it as CSV in UTF-8 or Windows-1251, or as XLSX."))


def check_xlsx_archive(stream: IO[bytes]) -> None:
    """Refuse an XLSX whose archive would expand beyond what an import may hold, before opening it."""
    damaged = _("The XLSX file cannot be read; is it damaged?")
    try:
        members = zipfile.ZipFile(stream).infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise UploadError(damaged) from exc
    too_big = UploadError(_("The XLSX file expands to more data than one import can take; split it into smaller "
                            "files or save it as CSV."))
    if len(members) > XLSX_MAX_MEMBERS:
        raise UploadError(damaged)
    if sum(member.file_size for member in members) > XLSX_MAX_UNCOMPRESSED:
        raise too_big
    for member in members:
        if member.filename.lower().endswith("sharedstrings.xml") and member.file_size > XLSX_MAX_SHARED_STRINGS:
            raise too_big
        if member.file_size > XLSX_RATIO_GRACE_BYTES and member.file_size > XLSX_MAX_RATIO * max(member.compress_size, 1):
            raise too_big
    stream.seek(0)


def read_xlsx_rows(content: Union[bytes, IO[bytes]], limits: SheetLimits) -> list[tuple[int, list]]:
    """Non-blank rows, as (row number, cells), of the first sheet of an XLSX, read as a stream after the archive check."""
    from openpyxl import load_workbook

    stream = as_stream(content)
    check_xlsx_archive(stream)
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise UploadError(_("The XLSX file cannot be read; is it damaged?")) from exc
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for number, raw in enumerate(sheet.iter_rows(values_only=True, max_col=limits.max_columns), start=1):
            cells = limits.row(raw)
            if cells:
                rows.append((number, cells))
        return rows
    except UploadError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged sheet fails while it is read, too
        raise UploadError(_("The XLSX file cannot be read; is it damaged?")) from exc
    finally:
        workbook.close()
