"""Register pages: keyboard-first registration, list, appeal page, workflow forms, export, and who may open what."""
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from appeals.core.audit import AuditRecord
from appeals.core.timeutil import local_now
from appeals.register.models import Appeal
from tests.fixtures_register import VALID_IIN, an_hour_ago


def _form(reference, **overrides):
    data = {
        "office_id": str(reference.kordai.id),
        "received_at": an_hour_ago().strftime("%Y-%m-%dT%H:%M"),
        "channel": "letter",
        "applicant_kind": "individual",
        "applicant_name": "Әбілқасымов Ерлан",
        "iin": VALID_IIN,
        "phone": "8 701 123 45 67",
        "address": "Абай 1",
        "settlement_id": str(reference.settlements[0].id),
        "appeal_type": "statement",
        "category_id": str(reference.categories[0].id),
        "summary": "Жолды жөндеу",
        "text": "",
        "save": "1",
    }
    data.update(overrides)
    return data


def _count(db):
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(Appeal.id)))


def test_registration_form_is_keyboard_first(client, login, users):
    login(users.clerk)
    html = client.get("/appeals/new").get_data(as_text=True)
    assert "autofocus" in html
    assert 'name="save_next"' in html and "Ctrl+Enter" in html
    assert "register.js" in html and "style=" not in html and "<script>" not in html


def test_register_via_form_and_save_next_keeps_the_receipt(client, login, users, reference, reg_session, db):
    login(users.clerk)
    data = _form(reference, channel="session", session_id=str(reg_session.id), host_id=str(reg_session.hosts[0].id),
                 received_at=local_now().replace(hour=0, minute=5).strftime("%Y-%m-%dT%H:%M"), save_next="1")
    data.pop("save")
    response = client.post("/appeals/new", data=data)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/appeals/new" in location and f"session_id={reg_session.id}" in location
    follow = client.get(location).get_data(as_text=True)
    assert "registered" in follow or "KRD-" in follow
    appeal = db.session.scalar(sa.select(Appeal))
    assert appeal.session_id == reg_session.id and appeal.phone == "+77011234567"


def test_form_errors_are_shown_on_fields_and_nothing_saved(client, login, users, reference, db):
    login(users.clerk)
    response = client.post("/appeals/new", data=_form(reference, iin="900101300038", phone="abc", summary="",
                                                      received_at="2999-01-01T10:00"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert html.count('aria-invalid="true"') >= 4
    assert 'id="iin-error"' in html and 'id="phone-error"' in html and 'id="summary-error"' in html
    assert _count(db) == 0


def test_oversized_text_is_refused(client, login, users, reference, db):
    login(users.clerk)
    response = client.post("/appeals/new", data=_form(reference, text="x" * 20001))
    assert response.status_code == 400 and 'id="text-error"' in response.get_data(as_text=True)
    assert _count(db) == 0


def test_possible_repeat_warning_then_link(client, login, users, reference, reg_appeal, db):
    earlier = reg_appeal(iin=VALID_IIN)
    login(users.clerk)
    response = client.post("/appeals/new", data=_form(reference))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and earlier.number in html and 'name="repeat_of"' in html
    assert _count(db) == 1
    response = client.post("/appeals/new", data=_form(reference, repeats_checked="1", repeat_of=str(earlier.id)))
    assert response.status_code == 302
    newest = db.session.scalars(sa.select(Appeal).order_by(Appeal.id.desc())).first()
    assert newest.repeat_of_id == earlier.id


def test_detail_transition_and_timeline(client, login, users, reg_appeal, db):
    appeal = reg_appeal()
    login(users.clerk)
    assert client.post(f"/appeals/{appeal.id}/transition", data={"status": "in_review", "responsible_id": users.clerk.id}).status_code == 302
    refused = client.post(f"/appeals/{appeal.id}/transition", data={"status": "closed"})
    assert refused.status_code == 400
    empty_answer = client.post(f"/appeals/{appeal.id}/transition?lang=en", data={"status": "answered", "answer_text": ""})
    # The message under the answer field itself (the field's name alone is on the page anyway).
    assert empty_answer.status_code == 400
    assert re.search(r'<textarea id="answer_text"[^>]*aria-invalid="true"[^>]*></textarea>\s*'
                     r'<p class="error">Write the answer given to the applicant\.</p>', empty_answer.get_data(as_text=True))
    db.session.refresh(appeal)
    assert appeal.status == "in_review"
    assert client.post(f"/appeals/{appeal.id}/transition", data={"status": "answered", "answer_text": "Жөнделді"}).status_code == 302
    html = client.get(f"/appeals/{appeal.id}").get_data(as_text=True)
    assert html.count('class="timeline"') == 1 and html.count("<li>") >= 3
    assert "Жөнделді" in html
    assert db.session.get(Appeal, appeal.id).status == "answered"


def test_extend_and_forward_pages(client, login, users, reg_appeal, db):
    appeal = reg_appeal()
    login(users.clerk)
    assert client.get(f"/appeals/{appeal.id}/extend").status_code == 200
    bad = client.post(f"/appeals/{appeal.id}/extend", data={"new_due": (appeal.due_date + timedelta(days=90)).isoformat(), "reason": "Қосымша тексеру"})
    assert bad.status_code == 400 and 'id="new_due-error"' in bad.get_data(as_text=True)
    good = client.post(f"/appeals/{appeal.id}/extend", data={"new_due": (appeal.due_date + timedelta(days=20)).isoformat(), "reason": "Қосымша тексеру"})
    assert good.status_code == 302
    assert client.get(f"/appeals/{appeal.id}/forward").status_code == 200
    bad = client.post(f"/appeals/{appeal.id}/forward", data={"recipient": "", "date": ""})
    assert bad.status_code == 400
    good = client.post(f"/appeals/{appeal.id}/forward", data={"recipient": "Әкімдік", "date": local_now().date().isoformat()})
    assert good.status_code == 302
    db.session.rollback()
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.status == "forwarded" and appeal.due_date != appeal.original_due_date


ROLE_ACCESS = {
    # role: (list, detail of a KRD appeal received by the host, new form, edit, transition, export, import)
    "clerk": (200, 200, 200, 200, 302, 200, 200),
    "other_clerk": (200, 403, 200, 403, 403, 200, 200),
    "coordinator": (200, 200, 200, 200, 302, 200, 200),
    "host": (200, 200, 403, 403, 403, 403, 403),
    "viewer": (200, 200, 403, 403, 403, 403, 403),
    "admin": (403, 403, 403, 403, 403, 403, 403),
}


@pytest.mark.parametrize("role", list(ROLE_ACCESS))
def test_access_per_role_including_direct_urls(client, login, users, reg_appeal, reg_session, role):
    appeal = reg_appeal(channel="session", session_id=reg_session.id, host_id=reg_session.hosts[1].id,
                        received_at=local_now().replace(hour=0, minute=1, second=0, microsecond=0))
    login(getattr(users, role))
    expected = ROLE_ACCESS[role]
    got = (
        client.get("/appeals").status_code,
        client.get(f"/appeals/{appeal.id}").status_code,
        client.get("/appeals/new").status_code,
        client.get(f"/appeals/{appeal.id}/edit").status_code,
        client.post(f"/appeals/{appeal.id}/transition", data={"status": "in_review"}).status_code,
        client.get("/appeals/export?format=csv").status_code,
        client.get("/appeals/import").status_code,
    )
    assert got == expected


def test_another_offices_appeal_is_not_listed_and_cannot_be_changed(client, login, users, reg_appeal, db):
    appeal = reg_appeal()
    login(users.other_clerk)
    assert appeal.number not in client.get("/appeals").get_data(as_text=True)
    assert client.get(f"/appeals/{appeal.id}/extend").status_code == 403
    assert client.post(f"/appeals/{appeal.id}/forward", data={"recipient": "x"}).status_code == 403
    assert db.session.get(Appeal, appeal.id).status == "registered"


def test_masked_list_for_viewer_and_audited_reveal_for_coordinator(app, client, login, users, reg_appeal, db):
    appeal = reg_appeal(iin=VALID_IIN)
    login(users.viewer)
    html = client.get("/appeals").get_data(as_text=True)
    assert VALID_IIN not in html and "+77011234567" not in html
    assert VALID_IIN not in client.get(f"/appeals/{appeal.id}").get_data(as_text=True)
    assert client.post(f"/appeals/{appeal.id}", data={"reveal": "1"}).status_code == 403

    coordinator = login(users.coordinator, test_client=app.test_client())
    html = coordinator.get(f"/appeals/{appeal.id}").get_data(as_text=True)
    assert VALID_IIN not in html and 'name="reveal"' in html
    html = coordinator.post(f"/appeals/{appeal.id}", data={"reveal": "1"}).get_data(as_text=True)
    assert VALID_IIN in html
    db.session.rollback()
    records = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "personal_data_viewed")).all()
    assert [(r.username, r.object_id) for r in records] == [("coordinator", str(appeal.id))]

    clerk = login(users.clerk, test_client=app.test_client())
    assert VALID_IIN in clerk.get(f"/appeals/{appeal.id}").get_data(as_text=True)


def test_list_filters_and_pagination(client, login, users, reg_appeal, reference):
    first = reg_appeal(appeal_type="complaint")
    others = [reg_appeal(summary=f"Басқа мәселе {i}") for i in range(3)]
    login(users.clerk)
    html = client.get("/appeals?appeal_type=complaint").get_data(as_text=True)
    assert first.number in html and all(o.number not in html for o in others)
    page1 = client.get("/appeals?size=2").get_data(as_text=True)
    assert 'rel="next"' in page1
    page2 = client.get("/appeals?size=2&page=2").get_data(as_text=True)
    assert 'rel="prev"' in page2 and 'rel="next"' not in page2
    assert client.get("/appeals?office=abc&date_from=bad&sort=evil").status_code == 200


def test_list_and_export_filtered_by_district(client, login, users, reg_appeal, reference):
    kordai_district, merke_district = reference.districts
    home = reg_appeal(settlement_id=reference.settlements[0].id)
    away = reg_appeal(settlement_id=reference.settlements[3].id)
    anonymous = reg_appeal(applicant_kind="anonymous", settlement_id="")
    login(users.clerk)
    html = client.get(f"/appeals?district={merke_district.id}").get_data(as_text=True)
    assert away.number in html and home.number not in html and anonymous.number not in html
    assert f'<option value="{merke_district.id}" selected>{merke_district.name_kk}</option>' in html
    # The settlement select keeps working, and says which district each option belongs to.
    assert f'<option value="{reference.settlements[3].id}" data-district="{merke_district.id}">' in html
    assert 'data-narrowed-by="district"' in html
    # The export link carries the filter, and the export honours it.
    export_link = re.search(r'href="(/appeals/export\?format=csv[^"]*)"', html).group(1)
    assert f"district={merke_district.id}" in export_link
    csv = client.get(export_link.replace("&amp;", "&")).get_data(as_text=True)
    assert away.number in csv and home.number not in csv
    html = client.get(f"/appeals?district={kordai_district.id}&settlement={reference.settlements[0].id}").get_data(
        as_text=True)
    assert home.number in html and away.number not in html
    # A malformed district is ignored, like the other filters.
    html = client.get("/appeals?district=abc").get_data(as_text=True)
    assert all(a.number in html for a in (home, away, anonymous))


def test_export_csv_and_xlsx_honour_filters_and_masking(app, client, login, users, reg_appeal):
    complaint = reg_appeal(appeal_type="complaint", iin=VALID_IIN, applicant_name="=HYPERLINK(\"x\")")
    statement = reg_appeal()
    login(users.clerk)
    response = client.get("/appeals/export?format=csv&appeal_type=complaint")
    text = response.get_data(as_text=True)
    assert response.mimetype == "text/csv" and text.startswith("\ufeff")
    assert complaint.number in text and statement.number not in text and VALID_IIN in text
    assert "'=HYPERLINK" in text
    response = client.get("/appeals/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    numbers = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert numbers == {complaint.number, statement.number}
    assert client.get("/appeals/export?format=pdf").status_code == 400
    coordinator = login(users.coordinator, test_client=app.test_client())
    assert VALID_IIN not in coordinator.get("/appeals/export?format=csv").get_data(as_text=True)


def test_export_names_the_language_each_applicant_is_written_to(client, login, users, reg_appeal):
    russian = reg_appeal(language="ru")
    kazakh = reg_appeal()
    login(users.clerk)
    sheet = load_workbook(io.BytesIO(client.get("/appeals/export?format=xlsx&lang=en").data)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    column = rows[0].index("Language of the answer")
    assert {row[0]: row[column] for row in rows[1:]} == {russian.number: "Русский", kazakh.number: "Қазақша"}


def test_home_page_shows_overdue_block_for_clerk(client, login, users, reg_appeal):
    overdue = reg_appeal(received_at=local_now() - timedelta(days=40))
    login(users.clerk)
    html = client.get("/").get_data(as_text=True)
    assert overdue.number in html and "overdue=1" in html


def test_edit_keeps_office_and_number(client, login, users, reg_appeal, reference, db):
    appeal = reg_appeal()
    login(users.clerk)
    assert client.get(f"/appeals/{appeal.id}/edit").status_code == 200
    response = client.post(f"/appeals/{appeal.id}/edit", data=_form(reference, summary="Түзетілген", office_id=str(reference.merke.id)))
    assert response.status_code == 302
    db.session.rollback()
    saved = db.session.get(Appeal, appeal.id)
    assert (saved.summary, saved.office_id, saved.number) == ("Түзетілген", reference.kordai.id, appeal.number)
