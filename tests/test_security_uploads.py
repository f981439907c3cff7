"""Issue 13, finding 6: an upload is read within fixed bounds, whatever it holds; error messages
quote a cell by a short prefix. (Peak memory with the finding's full-size files: bench/import_memory.py.)"""
import io
import json

import pytest
import sqlalchemy as sa

from appeals.core import uploads
from appeals.core.retention import purge_expired
from appeals.register import imports, validation
from appeals.register.models import TEXT_MAX
from tests import hostile_files


class CountingStream(io.BytesIO):
    """Remembers how far the reader got."""

    furthest = 0

    def read(self, size=-1):
        data = super().read(size)
        self.furthest = max(self.furthest, self.tell())
        return data

    def read1(self, size=-1):
        data = super().read1(size)
        self.furthest = max(self.furthest, self.tell())
        return data

    def readinto(self, buffer):
        count = super().readinto(buffer)
        self.furthest = max(self.furthest, self.tell())
        return count


def test_xlsx_with_one_huge_shared_string_is_refused_before_it_is_opened(monkeypatch):
    content = hostile_files.huge_shared_string_xlsx(5_000_000)
    assert len(content) < 20_000

    def never(*args, **kwargs):
        raise AssertionError("the workbook must not be opened")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    with pytest.raises(validation.AppealError, match="expands to more data"):
        imports.read_import_file("door.xlsx", content)


def test_xlsx_with_300000_rows_in_a_few_kilobytes_is_refused(monkeypatch):
    content = hostile_files.many_rows_xlsx(300_000)
    assert len(content) < 50_000
    with pytest.raises(validation.AppealError, match="expands to more data"):
        imports.read_import_file("door.xlsx", content)


def test_xlsx_reading_stops_at_the_row_limit(monkeypatch):
    # Rows that pass the archive check (ordinary compression) still stop at the limit.
    monkeypatch.setattr(imports, "IMPORT_MAX_ROWS", 50)
    content = hostile_files.shared_string_in_columns_xlsx(10, 400, columns=("summary",))
    with pytest.raises(validation.AppealError, match="At most 50 rows"):
        imports.read_import_file("door.xlsx", content)


def test_csv_reading_stops_at_the_row_limit_without_reading_the_rest(monkeypatch):
    monkeypatch.setattr(imports, "IMPORT_MAX_ROWS", 50)
    stream = CountingStream(hostile_files.large_csv(3_000_000, cell_chars=100))
    with pytest.raises(validation.AppealError, match="At most 50 rows"):
        imports.read_import_file("door.csv", stream)
    assert stream.furthest < 200_000


def test_csv_with_more_text_than_an_import_takes_is_refused_early(monkeypatch):
    monkeypatch.setattr(imports, "_limits", lambda: uploads.SheetLimits(max_rows=20000, max_cell_chars=20000,
                                                                         max_total_chars=1_000_000))
    stream = CountingStream(hostile_files.large_csv(6_000_000, cell_chars=5000))
    with pytest.raises(validation.AppealError, match="more text than one import"):
        imports.read_import_file("door.csv", stream)
    assert stream.furthest < 3_000_000


def test_long_cells_are_cut_and_row_errors_quote_a_short_prefix(reference, users, db):
    long_value = "Ы" * 100_000
    header = "received_at;channel;applicant_name;settlement;appeal_type;category;summary;text"
    line = f"15.01.2024 10:30;{long_value};{long_value};{long_value};statement;{long_value};{long_value};{long_value}"
    rows = imports.read_import_file("door.csv", f"{header}\n{line}\n{line}".encode())
    assert all(len(value) <= TEXT_MAX + 1 for _n, values in rows for value in values.values())
    with pytest.raises(validation.ImportValidationError) as caught:
        imports.import_rows(rows, reference.kordai, users.clerk)
    errors = caught.value.row_errors
    assert {column for _row, column, _message in errors} >= {"channel", "settlement", "category", "summary", "text",
                                                              "applicant_name"}
    assert max(len(message) for _row, _column, message in errors) < 200


def test_shared_string_filling_six_columns_leaves_a_small_job(app, client, login, users, reference, db):
    from appeals.core.jobs import Job

    content = hostile_files.shared_string_in_columns_xlsx(25_000, 30)
    login(users.clerk)
    response = client.post("/appeals/import", data={
        "office_id": str(reference.kordai.id), "file": (io.BytesIO(content), "door.xlsx")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    job = db.session.scalar(sa.select(Job))
    assert job.status == "failed" and job.params["error_count"] >= 30 * 5
    stored = json.dumps(job.params, ensure_ascii=False)
    assert len(stored) < 50_000 and "A" * 41 not in stored
    # The rows it was given (citizens' data) are forgotten once it ended.
    assert purge_expired()["job_inputs"] == 1
    db.session.expire_all()
    assert db.session.get(Job, job.id).input is None


def test_settlements_import_has_the_same_bounds(users, monkeypatch):
    from appeals.reference import services as reference_services

    long_code = "Q" * 50_000
    with pytest.raises(reference_services.ImportErrors) as caught:
        reference_services.import_settlements(f"district_code;kato;name_kk;name_ru\n{long_code};;А;А\n".encode(),
                                              users.admin)
    assert max(len(message) for _line, message in caught.value.row_errors) < 200
    monkeypatch.setattr(reference_services, "MAX_IMPORT_ROWS", 10)
    stream = CountingStream(("district_code;kato;name_kk;name_ru\n" + "KRD;;Ауыл;Аул\n" * 200_000).encode())
    with pytest.raises(reference_services.ImportErrors) as caught:
        reference_services.import_settlements(stream, users.admin)
    assert any("At most 10 rows" in message for _line, message in caught.value.row_errors)
    assert stream.furthest < 100_000


def test_quote_keeps_a_short_prefix():
    assert uploads.quote("x" * 1000) == "x" * 40 + "…"
    assert uploads.quote("Қордай") == "Қордай"
