"""Cells of every CSV and XLSX the application writes: citizen-typed text never runs as a formula.

A spreadsheet treats a cell starting with = + - @ (and, after a tab or carriage return, whatever
follows) as a formula: `=HYPERLINK(...)` leaks data when clicked and `+7+cmd|' /C calc'!A0` runs
a program through DDE. Every export goes through these helpers (OWASP "CSV injection").
"""
from datetime import date, datetime
from typing import Any, Iterable

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    return text[:1] in FORMULA_TRIGGERS


def csv_cell(value: Any) -> str:
    """Text for a CSV cell: a leading apostrophe makes a formula-like value plain text.

    Phone numbers (+7...) get it too: a spreadsheet shows them as text, which is what they are.
    """
    if value is None:
        return ""
    text = str(value)
    return "'" + text if is_formula_like(text) else text


def csv_row(values: Iterable[Any]) -> list[str]:
    return [csv_cell(value) for value in values]


def xlsx_row(sheet: Any, values: Iterable[Any]) -> list:
    """Cells for a write-only openpyxl sheet: text is always a string cell (data_type 's'), never a
    formula; formula-like text also carries the quote prefix, so editing the cell keeps it text.
    Numbers and dates stay typed."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in values:
        if value is None or isinstance(value, (bool, int, float, date, datetime)):
            cells.append(WriteOnlyCell(sheet, value=value))
            continue
        text = str(value)
        cell = WriteOnlyCell(sheet, value="")
        # openpyxl guesses a formula from a leading "="; set the value and the type explicitly.
        cell._value = text
        cell.data_type = "s"
        if is_formula_like(text):
            cell.quotePrefix = True
        cells.append(cell)
    return cells
