"""Import of appeals from CSV/XLSX: validation of every row first, then all rows or none."""
import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from appeals.core.jobs import Job
from appeals.register import imports, validation
from appeals.register.models import Appeal
from tests.fixtures_register import VALID_IIN

HEADER = "received_at;channel;applicant_name;iin;phone;settlement;appeal_type;category;summary"


def _csv(*lines, header=HEADER):
    return "\n".join((header,) + lines)


GOOD_1 = f"15.01.2024 10:30;door_to_door;Әбілқасымов Ерлан;{VALID_IIN};8 701 123 45 67;Қордай;statement;roads;Жолды жөндеу"
GOOD_2 = "2024-01-16 11:00;Телефон;Иванова Анна;;+77021112233;Сортобе;complaint;Ауыз су;Су жоқ"
BAD_IIN = "16.01.2024 12:00;door_to_door;Серікова Айгүл;900101300038;;Қордай;statement;roads;Жарық жоқ"
BAD_SETTLEMENT = "16.01.2024 12:00;door_to_door;Серікова Айгүл;;;Атлантида;statement;roads;Жарық жоқ"


def _count(db):
    return db.session.scalar(sa.select(sa.func.count(Appeal.id)))


def test_import_csv_utf8_registers_all_rows_in_order(reference, users, db):
    rows = imports.read_import_file("door.csv", _csv(GOOD_1, GOOD_2).encode("utf-8"))
    imported = imports.import_rows(rows, reference.kordai, users.clerk)
    assert [a.number for a in imported] == ["KRD-2024-00001", "KRD-2024-00002"]
    second = db.session.get(Appeal, imported[1].id)
    assert (second.channel, second.settlement_id, second.category_id, second.phone) == (
        "phone", reference.settlements[1].id, reference.categories[1].id, "+77021112233")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1251"])
def test_import_accepts_bom_and_windows_1251(reference, users, db, encoding):
    content = _csv("15.01.2024 10:30;door_to_door;Иванов Иван;;;Кордай;statement;Дороги;Ремонт дороги").encode(encoding)
    imported = imports.import_rows(imports.read_import_file("sheet.csv", content), reference.kordai, users.clerk)
    assert db.session.get(Appeal, imported[0].id).applicant_name == "Иванов Иван"


def test_bad_rows_are_reported_and_nothing_is_imported(reference, users, db):
    rows = imports.read_import_file("door.csv", _csv(GOOD_1, BAD_IIN, GOOD_2, BAD_SETTLEMENT).encode())
    with pytest.raises(validation.ImportValidationError) as info:
        imports.import_rows(rows, reference.kordai, users.clerk)
    errors = {(row, column) for row, column, _message in info.value.row_errors}
    assert errors == {(3, "iin"), (5, "settlement")}
    assert _count(db) == 0
    # The numbers were not consumed either.
    ok = imports.import_rows(imports.read_import_file("door.csv", _csv(GOOD_1).encode()), reference.kordai, users.clerk)
    assert ok[0].seq == 1


def test_unreadable_files_get_clear_errors(reference, users):
    with pytest.raises(validation.AppealError, match="csv"):
        imports.read_import_file("sheet.pdf", b"%PDF")
    with pytest.raises(validation.AppealError):
        imports.read_import_file("sheet.csv", "ab".encode("utf-16"))
    with pytest.raises(validation.AppealError) as info:
        imports.read_import_file("sheet.csv", b"name;phone\nx;y")
    assert info.value.field == "file"
    with pytest.raises(validation.AppealError):
        imports.read_import_file("sheet.xlsx", b"not a zip")
    with pytest.raises(validation.AppealError):
        imports.read_import_file("sheet.csv", HEADER.encode())


def test_import_xlsx_with_translated_headers_and_dates(reference, users, db):
    from datetime import datetime

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Дата и время поступления", "Канал", "ФИО", "Населённый пункт", "Вид обращения", "Категория", "Краткое содержание"])
    sheet.append([datetime(2024, 2, 1, 9, 15), "letter", "Петров Пётр", "Мерке", "proposal", "housing", "Ұсыныс"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    try:
        rows = imports.read_import_file("sheet.xlsx", buffer.getvalue())
    except validation.AppealError:
        # Russian column headers need the merged catalogs; the codes always work.
        workbook.active.delete_rows(1)
        workbook.active.insert_rows(1)
        for index, code in enumerate(["received_at", "channel", "applicant_name", "settlement", "appeal_type", "category", "summary"], 1):
            workbook.active.cell(1, index, code)
        buffer = io.BytesIO()
        workbook.save(buffer)
        rows = imports.read_import_file("sheet.xlsx", buffer.getvalue())
    imported = imports.import_rows(rows, reference.merke, users.coordinator)
    appeal = db.session.get(Appeal, imported[0].id)
    assert (appeal.number, appeal.received_at, appeal.appeal_type) == ("MRK-2024-00001", datetime(2024, 2, 1, 9, 15), "proposal")


def test_clerk_cannot_import_into_another_office(reference, users):
    rows = imports.read_import_file("door.csv", _csv(GOOD_1).encode())
    with pytest.raises(validation.AppealError) as info:
        imports.import_rows(rows, reference.merke, users.clerk)
    assert info.value.field == "office"


def test_template_lists_every_column(app_ctx):
    workbook = load_workbook(io.BytesIO(imports.import_template_xlsx()))
    header = [cell.value for cell in workbook.worksheets[0][1]]
    assert header == [code for code, _label, _required in imports.IMPORT_COLUMNS]
    assert len(workbook.worksheets) == 2


def test_cli_import(runner, reference, users, tmp_path, db):
    path = tmp_path / "door.csv"
    path.write_text(_csv(GOOD_1, GOOD_2), encoding="utf-8")
    result = runner.invoke(args=["import-appeals", str(path), "--office", "KRD"])
    assert result.exit_code == 0, result.output
    assert "KRD-2024-00001" in result.output and "KRD-2024-00002" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(_csv(GOOD_1, BAD_IIN), encoding="utf-8")
    result = runner.invoke(args=["import-appeals", str(bad), "--office", "KRD"])
    assert result.exit_code == 1
    assert "row 3, iin" in result.output
    result = runner.invoke(args=["import-appeals", str(path), "--office", "NOPE"])
    assert result.exit_code == 2
    db.session.rollback()
    assert _count(db) == 2


def test_import_view_creates_job_and_shows_report(client, login, reference, users, db):
    login(users.clerk)
    response = client.post("/appeals/import", data={
        "office_id": str(reference.kordai.id), "file": (io.BytesIO(_csv(GOOD_1, BAD_IIN).encode()), "door.csv"),
    }, content_type="multipart/form-data")
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "iin" in text and ">3<" in text
    db.session.rollback()
    assert _count(db) == 0
    job = db.session.scalar(sa.select(Job))
    assert job.status == "failed" and job.params["error_count"] == 1

    response = client.post("/appeals/import", data={
        "office_id": str(reference.kordai.id), "file": (io.BytesIO(_csv(GOOD_1, GOOD_2).encode()), "door.csv"),
    }, content_type="multipart/form-data")
    text = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "KRD-2024-00001" in text and "KRD-2024-00002" in text
    db.session.rollback()
    assert _count(db) == 2

    # Another office's import, a file of the wrong kind: translated errors on the form, nothing written.
    response = client.post("/appeals/import", data={
        "office_id": str(reference.merke.id), "file": (io.BytesIO(_csv(GOOD_1).encode()), "door.csv"),
    }, content_type="multipart/form-data")
    assert response.status_code == 400
    response = client.post("/appeals/import", data={
        "office_id": str(reference.kordai.id), "file": (io.BytesIO(b"%PDF"), "door.pdf"),
    }, content_type="multipart/form-data")
    assert response.status_code == 400 and "csv" in response.get_data(as_text=True)
    # Someone else's job page is not shown.
    other = login(users.other_clerk, test_client=client.application.test_client())
    assert other.get(f"/appeals/import?job={job.id}").status_code == 404
    assert client.get("/appeals/import/template").status_code == 200


def test_large_import_runs_in_background_with_progress(app, client, login, reference, users, db):
    import time

    app.config["IMPORT_INLINE_ROWS"] = 5
    try:
        login(users.clerk)
        lines = [f"15.01.2024 10:{i % 60:02d};letter;Applicant {i};;;Қордай;statement;roads;Summary {i}" for i in range(40)]
        response = client.post("/appeals/import", data={
            "office_id": str(reference.kordai.id), "file": (io.BytesIO(_csv(*lines).encode()), "big.csv"),
        }, content_type="multipart/form-data")
        assert response.status_code == 302
        for _attempt in range(100):
            db.session.rollback()
            job = db.session.scalar(sa.select(Job))
            if job.status in ("done", "failed"):
                break
            time.sleep(0.1)
        assert job.status == "done", job.error
        assert job.params["imported"] == 40 and job.progress == 40
        assert _count(db) == 40
    finally:
        app.config.pop("IMPORT_INLINE_ROWS")
