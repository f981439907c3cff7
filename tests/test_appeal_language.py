"""The appeal's language (issue 16): the citizen is written to in it — the receipt, the extension and
forwarding notices, the answer letter (the template of the type and language) and the tracking page's
letter. Online appeals take the form's language, a booking's appeal the booking's; clerks set it on
the form, the API and the import; it is audited and travels in backups (test_maintenance_backup)."""
import datetime as dt
import re
import subprocess

import pytest
import sqlalchemy as sa

from appeals.core import outbox
from appeals.core.audit import AuditRecord
from appeals.register import online, workflow
from appeals.register.models import AnswerLetter, Appeal, applicant_locale
from appeals.reports import letters
from appeals.schedules import bookings
from tests.fixtures_api import assert_problem
from tests.fixtures_register import an_hour_ago

KORDAI = "Қордай — Қордай ауданы"


def _pdf_text(data):
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def _sms_texts(sms_gateway):
    outbox.deliver_due()
    return [body["text"] for _status, _auth, body in sms_gateway.received]


def _answer(appeal, users, text="Шам ауыстырылды"):
    workflow.transition(appeal, "in_review", users.clerk, responsible_id=users.clerk.id)
    return workflow.transition(appeal, "answered", users.clerk, answer_text=text)


def test_the_rule_gives_the_appeals_language_and_kazakh_for_anything_else():
    class Stub:
        language = "ru"

    assert applicant_locale(Stub()) == "ru"
    Stub.language = "de"
    assert applicant_locale(Stub()) == "kk"
    assert applicant_locale(object()) == "kk"


def test_an_online_appeal_in_russian_is_answered_in_russian(app, reference, users, sms_gateway, db, monkeypatch):
    monkeypatch.setitem(app.config, "ONLINE_MIN_FILL_SECONDS", 0)
    citizen = app.test_client()
    page = citizen.get("/appeal?lang=ru").get_data(as_text=True)
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', page).group(1)
    response = citizen.post("/appeal?lang=ru", content_type="multipart/form-data", data={
        "applicant_kind": "individual", "applicant_name": "Сейітқали Гүлнұр", "phone": "+7 701 555 12 34",
        "code_channel": "sms", "settlement": KORDAI, "appeal_type": "complaint",
        "category_id": str(reference.categories[0].id), "summary": "Нет света на улице", "consent": "y",
        "website": "", "started": started, "files": []})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    code = re.search(r"\b(\d{6})\b", _sms_texts(sms_gateway)[-1]).group(1)
    assert citizen.post(response.headers["Location"], data={"code": code}).status_code in (302, 303)
    appeal = db.session.scalar(sa.select(Appeal))
    assert appeal.language == "ru"
    receipt = _sms_texts(sms_gateway)[-1]
    assert f"Ваше обращение {appeal.number} зарегистрировано" in receipt, receipt

    # The extension notice and the answer letter follow the appeal's language, not the clerk's.
    new_due = appeal.due_date + dt.timedelta(days=10)
    workflow.extend_deadline(appeal, new_due, "Қосымша сараптама", users.clerk)
    assert f"Обращение {appeal.number}: срок ответа продлён" in _sms_texts(sms_gateway)[-1]
    _answer(db.session.get(Appeal, appeal.id), users)
    letter = db.session.scalar(sa.select(AnswerLetter))
    assert letter.locale == "ru"
    token = online.tracking_link_token(appeal)
    download = citizen.get(f"/track/{token}/letter.pdf?lang=kk")
    assert download.status_code == 200
    text = _pdf_text(download.data)
    assert f"Ваша жалоба № {appeal.number}" in text and "рассмотрена" in text and "шағымыңыз" not in text


def test_the_clerk_sets_the_language_on_the_form_edits_it_and_the_trail_keeps_it(client, login, users, reference,
                                                                                  sms_gateway, db):
    login(users.clerk)
    form = client.get("/appeals/new?lang=en").get_data(as_text=True)
    assert 'name="language"' in form and '<option selected value="kk">Қазақша</option>' in form
    response = client.post("/appeals/new", data={
        "office_id": str(reference.kordai.id), "received_at": an_hour_ago().strftime("%Y-%m-%dT%H:%M"),
        "channel": "letter", "applicant_kind": "individual", "applicant_name": "Иванова Анна",
        "phone": "8 701 123 45 67", "settlement_id": str(reference.settlements[0].id), "appeal_type": "statement",
        "category_id": str(reference.categories[0].id), "summary": "Ремонт дороги", "language": "en", "save": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    appeal = db.session.scalar(sa.select(Appeal))
    assert appeal.language == "en"
    detail = client.get(f"/appeals/{appeal.id}?lang=en").get_data(as_text=True)
    assert "Language of the answer" in detail and '<dd lang="en">English</dd>' in detail
    workflow.forward(appeal, "Department of roads", None, users.clerk)
    assert "Department of roads" in _sms_texts(sms_gateway)[-1]
    assert "жіберілді" not in _sms_texts(sms_gateway)[-1]

    edit = client.get(f"/appeals/{appeal.id}/edit").get_data(as_text=True)
    assert '<option selected value="en">English</option>' in edit
    bad = client.post(f"/appeals/{appeal.id}/edit?lang=en", data={
        "received_at": appeal.received_at.strftime("%Y-%m-%dT%H:%M"), "channel": "letter",
        "applicant_kind": "individual", "applicant_name": "Иванова Анна", "phone": "8 701 123 45 67",
        "settlement_id": str(reference.settlements[0].id), "appeal_type": "statement",
        "category_id": str(reference.categories[0].id), "summary": "Ремонт дороги", "language": "de"})
    assert bad.status_code == 400 and 'id="language-error"' in bad.get_data(as_text=True)
    workflow.update_appeal(db.session.get(Appeal, appeal.id), {"language": "ru"}, users.clerk)
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "updated",
                                                            AuditRecord.object_id == str(appeal.id)))
    assert record.changes["language"] == ["en", "ru"]
    timeline = client.get(f"/appeals/{appeal.id}?lang=en").get_data(as_text=True)
    assert "Language of the answer" in timeline and "Русский" in timeline


def test_an_appeal_from_a_booking_takes_the_bookings_language(db, users, login, client, sms_gateway, bookable):
    booking = bookings.create_booking(bookable.id, {"slot": "10:00", "name": "Петров Иван",
                                                     "phone": "8 701 123 45 67", "topic": "Дорога"}, "ru")
    login(users.clerk)
    form = client.get(f"/appeals/new?booking={booking.id}").get_data(as_text=True)
    assert '<option selected value="ru">Русский</option>' in form


def test_the_api_sets_reads_and_corrects_the_language(api_as, users, reg_data, db):
    api = api_as(users.clerk)
    body = reg_data()
    body["received_at"] = body["received_at"].isoformat(timespec="minutes")
    created = api.post("/appeals", {**body, "language": "ru"})
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["language"] == "ru"
    default = api.post("/appeals", {**body, "summary": "Басқа мәселе"}).get_json()
    assert default["language"] == "kk"
    assert_problem(api.post("/appeals", {**body, "language": "de"}), 422, "language")
    changed = api.patch(f"/appeals/{default['id']}", {"language": "en"})
    assert changed.status_code == 200 and changed.get_json()["language"] == "en"
    db.session.expire_all()
    assert db.session.get(Appeal, default["id"]).language == "en"
    schema = api.get("/openapi.json").get_json()["components"]["schemas"]
    assert schema["AppealOut"]["properties"]["language"]["enum"] == ["kk", "ru", "en"]


@pytest.mark.parametrize("value, expected", [("ru", "ru"), ("English", "en"), ("", "kk")])
def test_the_import_reads_the_language_by_code_or_name(value, expected, reference, users, db, app_ctx):
    from appeals.register import imports

    row = {"received_at": an_hour_ago().strftime("%Y-%m-%d %H:%M"), "channel": "letter", "applicant_name": "Иванова Анна",
           "settlement": reference.settlements[0].name_kk, "appeal_type": "statement",
           "category": reference.categories[0].code, "summary": "Жол", "language": value}
    [appeal] = imports.import_rows([row], reference.kordai, users.clerk)
    assert appeal.language == expected


def test_the_import_reports_an_unknown_language_on_its_column(reference, users, db, app_ctx):
    from appeals.register import imports
    from appeals.register.validation import ImportValidationError

    row = {"received_at": an_hour_ago().strftime("%Y-%m-%d %H:%M"), "channel": "letter", "applicant_name": "Иванова Анна",
           "settlement": reference.settlements[0].name_kk, "appeal_type": "statement",
           "category": reference.categories[0].code, "summary": "Жол", "language": "deutsch"}
    with pytest.raises(ImportValidationError) as caught:
        imports.import_rows([row], reference.kordai, users.clerk)
    assert [column for _row, column, _message in caught.value.row_errors] == ["language"]


def test_the_letter_of_each_language_uses_that_languages_template(reg_appeal, users, db, app_ctx):
    letters.save_template("proposal", "en", "Dear {name}, about № {number}:", "Yours, {office}.", users.admin)
    for language, expected in (("en", "Yours, Кордайский филиал"), ("kk", "ұсынысыңыз қаралды"), ("ru", "предложение")):
        appeal = reg_appeal(appeal_type="proposal", language=language, summary=f"Ұсыныс {language}")
        _answer(appeal, users, text="Ескерілді")
        data, _name = letters.letter_pdf(db.session.get(Appeal, appeal.id))
        assert expected in _pdf_text(data), language


def test_a_corrected_language_reaches_a_letter_not_yet_made(reg_appeal, users, db, app_ctx):
    appeal = reg_appeal(appeal_type="complaint")
    _answer(appeal, users)
    workflow.update_appeal(db.session.get(Appeal, appeal.id), {"language": "ru"}, users.clerk)
    letter = db.session.scalar(sa.select(AnswerLetter))
    assert (letter.status, letter.locale) == ("pending", "ru")
    letters.make_pending_letters()
    workflow.update_appeal(db.session.get(Appeal, appeal.id), {"language": "en"}, users.clerk)
    db.session.expire_all()
    made = db.session.get(AnswerLetter, letter.id)
    assert (made.status, made.locale) == ("made", "ru"), "a made letter is what was sent"
    assert "Ваша жалоба" in _pdf_text(letters.letter_pdf(db.session.get(Appeal, appeal.id))[0])
