"""Bulk progress updates (issue 17, item 3): export → edit → import changes exactly the edited rows,
in CSV and XLSX, all or nothing with every bad cell named."""
import csv
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from appeals.core.audit import AuditRecord
from appeals.mandates import flagging, lifecycle, publication, sheets
from appeals.mandates.models import Mandate, MandateProgressNote


@pytest.fixture
def mandates(db, users, make_appeal, make_directive):
    directive = make_directive()
    rows = [flagging.flag_appeals(directive, [make_appeal(summary=f"Ұсыныс {i}").id], users.coordinator)[0]
            for i in range(4)]
    lifecycle.update_mandate(rows[0], {"responsible": "=Әкімдік", "target_date": "2026-12-31"}, users.coordinator)
    publication.save_public_text(rows[1], {"public_title": "-Жол жөндеу"}, users.coordinator, publish=True)
    db.session.expire_all()
    return [db.session.get(Mandate, m.id) for m in rows]


def _snapshot(db):
    db.session.expire_all()
    return {m.number: (m.responsible, m.responsible_user_id, m.target_date, m.status, m.progress_percent,
                       m.public_title, len(m.notes), m.updated_at) for m in db.session.scalars(sa.select(Mandate))}


def _csv_rows(client):
    response = client.get("/mandates/export?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def _upload(client, content, name):
    return client.post("/mandates/import?lang=en", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def _to_csv(rows):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def test_an_unedited_export_imports_as_no_change(client, db, users, login, mandates):
    login(users.coordinator)
    rows = _csv_rows(client)
    assert len(rows) == 5 and rows[0][0] == "Аманат нөмірі"  # the header in the user's language
    assert any(row[3] == "'=Әкімдік" for row in rows)  # formula-like text exported as text
    before = _snapshot(db)
    response = _upload(client, _to_csv(rows), "mandates.csv")
    assert response.status_code == 200 and "0 mandates changed" in response.get_data(as_text=True)
    assert _snapshot(db) == before


def test_a_csv_round_trip_changes_exactly_the_edited_rows(client, db, users, login, mandates):
    login(users.coordinator)
    rows = _csv_rows(client)
    col = {name: index for index, name in enumerate(sheets.COLUMNS)}
    by_number = {row[col["number"]]: row for row in rows[1:]}
    first, third = mandates[0].number, mandates[2].number
    by_number[first][col["progress_percent"]] = "40"
    by_number[first][col["note"]] = "Бағандар орнатылды"
    by_number[third][col["responsible_user"]] = users.host.username
    by_number[third][col["target_date"]] = "01.03.2027"
    before = _snapshot(db)
    response = _upload(client, _to_csv(rows), "mandates.csv")
    assert response.status_code == 200, response.get_data(as_text=True)
    after = _snapshot(db)
    changed = {number for number in before if before[number] != after[number]}
    assert changed == {first, third}
    assert after[first][4] == 40 and after[first][3] == "in_progress" and after[first][6] == 1
    note = db.session.scalar(sa.select(MandateProgressNote).where(MandateProgressNote.mandate_id == mandates[0].id))
    assert note.note == "Бағандар орнатылды" and note.progress_percent == 40
    assert after[third][1] == users.host.id and str(after[third][2]) == "2027-03-01" and after[third][6] == 0
    assert after[first][0] == "=Әкімдік"  # the apostrophe the export added is not imported
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord).where(
        AuditRecord.action == "mandate.progress")) == 1


def test_an_xlsx_round_trip_in_another_language(client, db, users, login, mandates):
    login(users.coordinator)
    response = client.get("/mandates/export?format=xlsx&lang=ru")
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    status_col = header.index(next(label for label in header if label and "Статус" in label)) + 1
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == mandates[3].number)
    sheet.cell(row, status_col).value = "Орындалды"  # Kazakh for "fulfilled", in a Russian file
    buffer = io.BytesIO()
    workbook.save(buffer)
    before = _snapshot(db)
    response = _upload(client, buffer.getvalue(), "Наказы.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)
    after = _snapshot(db)
    assert {n for n in before if before[n] != after[n]} == {mandates[3].number}
    assert after[mandates[3].number][3] == "fulfilled" and after[mandates[3].number][4] == 100


def test_one_bad_row_imports_nothing_and_every_error_is_named(client, db, users, login, mandates):
    login(users.coordinator)
    rows = _csv_rows(client)
    header = rows[0]
    col = {name: index for index, name in enumerate(sheets.COLUMNS)}
    rows[1][col["progress_percent"]] = "55"             # a good change ...
    rows[2][col["progress_percent"]] = "150"            # ... and bad ones
    rows[3][col["status"]] = "жоқ статус"
    rows[4][col["public_title"]] = "Басқа атау"
    assert len(header) == len(sheets.COLUMNS)
    rows.append(["A-404-0001"] + [""] * (len(header) - 1))
    before = _snapshot(db)
    response = _upload(client, _to_csv(rows), "mandates.csv")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page
    for row_number in ("3", "4", "5", "6"):
        assert f'<td class="num">{row_number}</td>' in page
    assert _snapshot(db) == before


def test_only_coordinators_import_and_a_file_without_the_header_is_refused(client, db, users, login, mandates):
    login(users.viewer)
    assert client.get("/mandates/export?format=csv").status_code == 200
    assert _upload(client, b"x", "a.csv").status_code == 403
    client.post("/logout")
    login(users.coordinator)
    response = _upload(client, _to_csv([["a", "b"], ["1", "2"]]), "a.csv")
    assert response.status_code == 422 and "header" in response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_no_column_title_holds_a_delimiter(app, lang):
    # The CSV reader takes its delimiter from the header line: a "," in a title would split it.
    from flask_babel import force_locale

    with app.test_request_context(), force_locale(lang):
        assert not [title for title in sheets.header() if "," in title or ";" in title]
