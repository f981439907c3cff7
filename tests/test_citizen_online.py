"""The citizen's online appeal (/appeal) and tracking (/track), issue 16 items 1 and 2, through the pages,
with the code read from the SMS gateway stand-in and the e-mail from the SMTP server."""
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from appeals.core import outbox, storage
from appeals.core.audit import AuditRecord
from appeals.register import online
from appeals.register.models import Appeal, AppealAttachment, OnlineSubmission
from tests import hostile_files as hostile

KORDAI = "Қордай — Қордай ауданы"


@pytest.fixture
def citizen(app, reference, users, sms_gateway, monkeypatch):
    """An anonymous browser, the form's minimum fill time off (tests are faster than people)."""
    monkeypatch.setitem(app.config, "ONLINE_MIN_FILL_SECONDS", 0)
    return app.test_client()


def _form(client, reference, **overrides):
    page = client.get("/appeal?lang=en")
    assert page.status_code == 200
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    data = {
        "applicant_kind": "individual", "applicant_name": "Сейітқали Гүлнұр", "iin": "", "phone": "+7 701 555 12 34",
        "email": "", "code_channel": "sms", "settlement": KORDAI, "address": "Абай көшесі 5",
        "appeal_type": "complaint", "category_id": str(reference.categories[0].id),
        "summary": "Көшеде жарық жоқ", "text": "Бір айдан бері шам жанбайды.", "consent": "y",
        "website": "", "started": started,
    }
    data.update(overrides)
    return data


def _post(client, data, files=()):
    payload = dict(data)
    payload["files"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post("/appeal?lang=en", data=payload, content_type="multipart/form-data")


def _code(sms_gateway):
    outbox.deliver_due()
    texts = [body["text"] for _status, _auth, body in sms_gateway.received]
    codes = [re.search(r"\b(\d{6})\b", text).group(1) for text in texts if re.search(r"\b\d{6}\b", text)]
    return codes[-1]


def _count(db, model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_citizen_sends_an_appeal_with_a_photo_types_the_code_and_tracks_it(citizen, reference, sms_gateway, db):
    photo = hostile.photo_with_gps("JPEG", size=(64, 48))
    response = _post(citizen, _form(citizen, reference), [("IMG_2041.JPG", photo)])
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    confirm_url = response.headers["Location"]
    assert _count(db, Appeal) == 0, "nothing is registered before the code"

    code = _code(sms_gateway)
    assert sms_gateway.received[-1][2]["to"] == "+77015551234"
    page = citizen.get(confirm_url + "?lang=en").get_data(as_text=True)
    assert "+7 701 *** ** 34" in page or "***" in page
    done = citizen.post(confirm_url + "?lang=en", data={"code": code})
    assert done.status_code == 303 and done.headers["Location"].endswith("/appeal/receipt")

    appeal = db.session.scalar(sa.select(Appeal))
    assert (appeal.channel, appeal.office_id, appeal.settlement_id) == ("online", reference.kordai.id,
                                                                         reference.settlements[0].id)
    assert appeal.number.startswith("KRD-") and appeal.seq == 1
    assert appeal.consent_version == online.CONSENT_VERSION and appeal.consent_at is not None
    assert appeal.created_by_id is None and appeal.phone == "+77015551234"
    [file] = db.session.scalars(sa.select(AppealAttachment)).all()
    assert (file.source, file.kind, file.name) == ("citizen", "appeal", "IMG_2041.jpg")
    with Image.open(io.BytesIO(storage.get(file.file_key))) as image:
        assert len(image.getexif()) == 0, "the photo's GPS position is gone"
    submission = db.session.scalar(sa.select(OnlineSubmission))
    assert submission.state == "registered" and submission.data is None and submission.files is None

    receipt = citizen.get("/appeal/receipt?lang=en").get_data(as_text=True)
    number = appeal.number
    tracking = re.search(r'class="receipt-code">([A-Z0-9-]+)<', receipt).group(1)
    assert number in receipt and len(tracking) == 11
    assert tracking.replace("-", "") not in str(db.session.execute(sa.select(Appeal.tracking_code_hash)).all())
    assert citizen.get("/appeal/receipt").status_code == 302, "the receipt with the code is shown once"

    # The receipt notice carries the number and the tracking link, never the code itself.
    outbox.deliver_due()
    notice_text = sms_gateway.received[-1][2]["text"]
    assert number in notice_text and "/track/" in notice_text and tracking not in notice_text
    link = re.search(r"(/track/\S+)", notice_text).group(1)

    by_link = citizen.get(link + "?lang=en")
    assert by_link.status_code == 200
    html = by_link.get_data(as_text=True)
    assert number in html and "Registered" in html and "Сейітқали" not in html and "жарық" not in html
    assert by_link.headers["Cache-Control"] == "no-store"

    typed = citizen.post("/track?lang=en", data={"number": number.lower(), "code": tracking.lower()})
    assert typed.status_code == 303 and "/track/" in typed.headers["Location"]


def test_the_appeal_lands_in_its_office_register_like_any_other(citizen, reference, sms_gateway, db, users, login,
                                                                app):
    response = _post(citizen, _form(citizen, reference))
    citizen.post(response.headers["Location"], data={"code": _code(sms_gateway)})
    appeal = db.session.scalar(sa.select(Appeal))
    clerk = app.test_client()
    login(users.clerk, test_client=clerk)
    register = clerk.get("/appeals?lang=en").get_data(as_text=True)
    assert appeal.number in register
    detail = clerk.get(f"/appeals/{appeal.id}?lang=en").get_data(as_text=True)
    assert "Online form" in detail and "Sent online, confirmed by the applicant" in detail
    other = app.test_client()
    login(users.other_clerk, test_client=other)
    assert appeal.number not in other.get("/appeals").get_data(as_text=True)


def test_a_wrong_code_registers_nothing_and_attempts_are_limited(citizen, reference, sms_gateway, db):
    response = _post(citizen, _form(citizen, reference))
    url = response.headers["Location"]
    right = _code(sms_gateway)
    wrong = "000000" if right != "000000" else "111111"
    first = citizen.post(url + "?lang=en", data={"code": wrong})
    assert first.status_code == 400 and "not right" in first.get_data(as_text=True)
    for _ in range(5):
        citizen.post(url, data={"code": wrong})
    late = citizen.post(url + "?lang=en", data={"code": right})
    assert late.status_code in (400, 429) and _count(db, Appeal) == 0, "the right code after too many wrong ones"
    # A new code works.
    citizen.post(url, data={"resend": "1"})
    again = citizen.post(url, data={"code": _code(sms_gateway)})
    assert again.status_code == 303 and _count(db, Appeal) == 1


def test_a_new_code_retires_the_first_one(citizen, reference, sms_gateway, db):
    response = _post(citizen, _form(citizen, reference))
    url = response.headers["Location"]
    first = _code(sms_gateway)
    citizen.post(url, data={"resend": "1"})
    second = _code(sms_gateway)
    if first != second:  # one in a million: the same six digits twice
        refused = citizen.post(url + "?lang=en", data={"code": first})
        assert refused.status_code == 400 and _count(db, Appeal) == 0, "the first code stopped working"
    assert citizen.post(url, data={"code": second}).status_code == 303 and _count(db, Appeal) == 1


def test_a_double_submit_of_the_code_registers_once(citizen, reference, sms_gateway, db):
    response = _post(citizen, _form(citizen, reference))
    url, code = response.headers["Location"], _code(sms_gateway)
    assert citizen.post(url, data={"code": code}).status_code == 303
    second = citizen.post(url, data={"code": code})
    assert second.status_code == 303 and _count(db, Appeal) == 1


def test_eight_concurrent_confirmations_of_one_code_register_one_appeal(app, citizen, reference, sms_gateway, db):
    """Both databases: the submission's row lock (SQLite: BEGIN IMMEDIATE) lets one confirmation register
    and spend the code; the others find it registered. One appeal, one receipt notice, the code used once."""
    from appeals.core.verification import VerificationCode
    from tests.concurrency import at_once

    response = _post(citizen, _form(citizen, reference))
    public_id, code = response.headers["Location"].rstrip("/").rsplit("/", 1)[1], _code(sms_gateway)
    threads = 8
    outcomes = at_once(app, threads, lambda _index: online.confirm_submission(public_id, code)[0].number,
                       online.OnlineAppealError)
    assert sorted(kind for kind, _detail in outcomes) == ["done"] + ["refused"] * (threads - 1), outcomes
    assert {detail for kind, detail in outcomes if kind == "refused"} == {"conflict"}
    assert _count(db, Appeal) == 1
    used = db.session.scalars(sa.select(VerificationCode.used_at)).all()
    assert len(used) == 1 and used[0] is not None
    receipts = db.session.scalar(sa.select(sa.func.count()).select_from(outbox.Notice).where(
        outbox.Notice.template == "online_appeal_received"))
    assert receipts == 1


def test_bad_input_gets_every_error_on_its_field(citizen, reference, db):
    data = _form(citizen, reference, applicant_name="", phone="12", email="not-an-email", settlement="Атлантида",
                 appeal_type="", summary="", consent="")
    response = _post(citizen, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for message in ("Enter the applicant", "This is not a valid phone number", "Enter an e-mail address",
                    "Choose your settlement", "Choose the type of appeal", "Write a short summary",
                    "Your consent is needed"):
        assert message in html or message.replace("This is not a valid", "Enter a") in html, message
    assert _count(db, OnlineSubmission) == 0


def test_a_hostile_file_is_refused_and_nothing_kept(citizen, reference, db):
    response = _post(citizen, _form(citizen, reference), [("letter.pdf", hostile.simple_pdf(javascript="app.alert(1)"))])
    assert response.status_code == 400 and "scripts or embedded files" in response.get_data(as_text=True)
    assert _count(db, OnlineSubmission) == 0 and _count(db, storage.StoredFile) == 0


def test_honeypot_and_minimum_fill_time(citizen, reference, app, monkeypatch, db):
    trapped = _post(citizen, _form(citizen, reference, website="http://spam.example"))
    assert trapped.status_code == 400 and "too quickly or incompletely" in trapped.get_data(as_text=True)
    monkeypatch.setitem(app.config, "ONLINE_MIN_FILL_SECONDS", 60)
    hurried = _post(citizen, _form(citizen, reference))
    assert hurried.status_code == 400
    forged = _post(citizen, _form(citizen, reference, started="forged"))
    assert forged.status_code == 400 and _count(db, OnlineSubmission) == 0


def test_rate_limits_per_address_and_per_phone(citizen, reference, app, monkeypatch, db):
    monkeypatch.setitem(app.config, "ONLINE_APPEALS_PER_PHONE_PER_DAY", 2)
    for _ in range(2):
        assert _post(citizen, _form(citizen, reference)).status_code == 303
    limited = _post(citizen, _form(citizen, reference))
    assert limited.status_code == 429 and "Too many appeals" in limited.get_data(as_text=True)
    assert _post(citizen, _form(citizen, reference, phone="+7 701 555 00 01")).status_code == 303
    # Every try counts against the address, the refused one too: 4 so far.
    monkeypatch.setitem(app.config, "ONLINE_APPEALS_PER_ADDRESS_PER_HOUR", 5)
    assert _post(citizen, _form(citizen, reference, phone="+7 701 555 00 02")).status_code == 303
    assert _post(citizen, _form(citizen, reference, phone="+7 701 555 00 03")).status_code == 429


def test_the_contact_limit_counts_where_the_code_goes_in_any_case_of_the_address(citizen, reference, app,
                                                                                monkeypatch, db):
    """Codes by e-mail are counted on the e-mail address (not on a throw-away phone typed beside it), and
    Name@ and name@ are one mailbox."""
    monkeypatch.setitem(app.config, "ONLINE_APPEALS_PER_PHONE_PER_DAY", 2)
    for n, email in enumerate(("victim@example.kz", "Victim@example.kz")):
        sent = _post(citizen, _form(citizen, reference, phone=f"+7 701 555 10 0{n}", email=email,
                                    code_channel="email"))
        assert sent.status_code == 303
    limited = _post(citizen, _form(citizen, reference, phone="+7 701 555 10 09", email="VICTIM@example.kz",
                                   code_channel="email"))
    assert limited.status_code == 429 and "Too many appeals" in limited.get_data(as_text=True)
    # The phones typed beside them were not counted: a code by SMS to one of them still goes.
    assert _post(citizen, _form(citizen, reference, phone="+7 701 555 10 00")).status_code == 303
    assert _count(db, OnlineSubmission) == 3


def test_email_only_and_the_settlement_typed_in_another_script(citizen, reference, smtp, db):
    response = _post(citizen, _form(citizen, reference, phone="", email="Gulnur@Example.kz", code_channel="email",
                                    settlement="sortobe"))
    assert response.status_code == 303
    outbox.deliver_due()
    [(recipients, message)] = smtp.inbox.wait_for(1)
    assert recipients == ["Gulnur@example.kz"]
    code = re.search(r"\b(\d{6})\b", message.get_body(("plain",)).get_content()).group(1)
    assert citizen.post(response.headers["Location"], data={"code": code}).status_code == 303
    appeal = db.session.scalar(sa.select(Appeal))
    assert appeal.email == "Gulnur@example.kz" and appeal.settlement_id == reference.settlements[1].id


def test_the_repeat_check_links_an_earlier_appeal_of_the_same_phone(citizen, reference, sms_gateway, db, reg_appeal):
    earlier = reg_appeal(phone="+7 701 555 12 34", category_id=reference.categories[0].id)
    response = _post(citizen, _form(citizen, reference))
    citizen.post(response.headers["Location"], data={"code": _code(sms_gateway)})
    appeal = db.session.scalar(sa.select(Appeal).where(Appeal.channel == "online"))
    assert appeal.repeat_of_id == earlier.id


def test_wrong_tracking_codes_are_throttled(citizen, reference, sms_gateway, db, app, monkeypatch):
    response = _post(citizen, _form(citizen, reference))
    citizen.post(response.headers["Location"], data={"code": _code(sms_gateway)})
    number = db.session.scalar(sa.select(Appeal.number))
    monkeypatch.setitem(app.config, "TRACK_FAILURES_PER_NUMBER_PER_HOUR", 3)
    for _ in range(3):
        wrong = citizen.post("/track?lang=en", data={"number": number, "code": "AAAAA-AAAAA"})
        assert wrong.status_code == 400 and "No appeal has this number" in wrong.get_data(as_text=True)
    blocked = citizen.post("/track?lang=en", data={"number": number, "code": "AAAAA-AAAAA"})
    assert blocked.status_code == 429 and "Too many wrong tries" in blocked.get_data(as_text=True)


def test_a_forged_or_old_tracking_link_shows_nothing(citizen, reference, sms_gateway, db):
    response = _post(citizen, _form(citizen, reference))
    citizen.post(response.headers["Location"], data={"code": _code(sms_gateway)})
    appeal = db.session.scalar(sa.select(Appeal))
    token = online.tracking_link_token(appeal)
    assert citizen.get(f"/track/{token}").status_code == 200
    assert citizen.get(f"/track/{token[:-2]}xx").status_code == 404
    from appeals.core.database import write_transaction

    with write_transaction():
        db.session.get(Appeal, appeal.id).tracking_code_hash = "0" * 64
    assert citizen.get(f"/track/{token}").status_code == 404, "a new tracking code ends the old links"


def test_the_answer_file_is_downloadable_by_link_and_audited(citizen, reference, sms_gateway, db, users):
    from appeals.register import attachments, workflow

    response = _post(citizen, _form(citizen, reference), [("photo.png", hostile.photo_with_gps("PNG"))])
    citizen.post(response.headers["Location"], data={"code": _code(sms_gateway)})
    appeal = db.session.scalar(sa.select(Appeal))
    token = online.tracking_link_token(appeal)
    [own] = db.session.scalars(sa.select(AppealAttachment)).all()
    assert citizen.get(f"/track/{token}/files/{own.id}").status_code == 404, "the appeal's own files are not offered"
    [answer] = attachments.attach_files(appeal, [attachments.Upload("жауап.pdf", hostile.simple_pdf())], users.clerk,
                                        kind="answer")
    assert citizen.get(f"/track/{token}/files/{answer.id}").status_code == 404, "not before it is answered"
    workflow.transition(appeal, "in_review", users.clerk, responsible_id=users.clerk.id)
    workflow.transition(appeal, "answered", users.clerk, answer_text="Шам ауыстырылды", answered_at=None)
    page = citizen.get(f"/track/{token}?lang=en").get_data(as_text=True)
    assert "Answered" in page and "жауап.pdf" in page
    download = citizen.get(f"/track/{token}/files/{answer.id}")
    assert download.status_code == 200 and download.data == storage.get(answer.file_key)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord).where(
        AuditRecord.action == "attachment_opened_by_applicant")) == 1


def test_unconfirmed_submissions_expire_with_their_files(citizen, reference, db, time_machine):
    response = _post(citizen, _form(citizen, reference), [("a.pdf", hostile.simple_pdf())])
    assert _count(db, storage.StoredFile) == 1
    from datetime import datetime, timezone

    time_machine.move_to(datetime.now(timezone.utc) + timedelta(hours=3), tick=False)
    assert citizen.get(response.headers["Location"]).status_code == 404
    assert online.purge_submissions() == 1
    assert _count(db, OnlineSubmission) == 0 and _count(db, storage.StoredFile) == 0


def test_the_confirmation_page_after_the_form_is_shown_without_the_database(app, citizen, reference, sms_gateway,
                                                                           db, time_machine):
    """The browser that sent the form keeps what the page shows (where the code went, masked, and until
    when); another browser, or the same one after the time ran out, is answered from the database."""
    from datetime import datetime, timezone

    from appeals.core.extensions import db as _db

    url = _post(citizen, _form(citizen, reference)).headers["Location"]
    statements = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(_db.engine, "before_cursor_execute", count)
    try:
        page = citizen.get(url + "?lang=en")
        assert statements == [], "no statement for the page right after the form"
        elsewhere = app.test_client().get(url + "?lang=en")
        assert statements, "another browser's page is read from the database"
    finally:
        sa.event.remove(_db.engine, "before_cursor_execute", count)
    for shown in (page, elsewhere):
        assert shown.status_code == 200 and "+770******34" in shown.get_data(as_text=True)
    time_machine.move_to(datetime.now(timezone.utc) + timedelta(hours=3), tick=False)
    assert citizen.get(url).status_code == 404, "past its time the page says the form expired"


def test_staff_cannot_register_as_online_but_can_edit_an_online_appeal(citizen, reference, sms_gateway, db, users,
                                                                     reg_appeal, login, app):
    from appeals.register import validation, workflow

    with pytest.raises(validation.AppealError) as refused:
        reg_appeal(channel="online")
    assert "registered by the citizen's form" in str(refused.value.errors["channel"])
    response = _post(citizen, _form(citizen, reference))
    citizen.post(response.headers["Location"], data={"code": _code(sms_gateway)})
    appeal = db.session.scalar(sa.select(Appeal).where(Appeal.channel == "online"))
    workflow.update_appeal(appeal, {"summary": "Көшеде жарық жоқ (түзетілді)"}, users.clerk)
    clerk = app.test_client()
    login(users.clerk, test_client=clerk)
    form = clerk.get(f"/appeals/{appeal.id}/edit").get_data(as_text=True)
    assert 'value="online" selected' in form or '<option selected value="online">' in form or 'value="online"' in form
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).channel == "online"


def test_the_answer_letter_is_on_the_tracking_page_once_answered(citizen, reference, sms_gateway, db, users):
    from appeals.register import workflow
    from appeals.reports import letters

    response = _post(citizen, _form(citizen, reference))
    citizen.post(response.headers["Location"], data={"code": _code(sms_gateway)})
    appeal = db.session.scalar(sa.select(Appeal))
    token = online.tracking_link_token(appeal)
    assert "letter.pdf" not in citizen.get(f"/track/{token}").get_data(as_text=True)
    assert citizen.get(f"/track/{token}/letter.pdf").status_code == 404, "no letter before the answer"
    workflow.transition(appeal, "in_review", users.clerk, responsible_id=users.clerk.id)
    workflow.transition(appeal, "answered", users.clerk, answer_text="Шам ауыстырылды", answered_at=None)
    page = citizen.get(f"/track/{token}?lang=en").get_data(as_text=True)
    assert f"/track/{token}/letter.pdf" in page and "Download the answer letter" in page
    download = citizen.get(f"/track/{token}/letter.pdf")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert download.headers["Cache-Control"] == "no-store" and "attachment" in download.headers["Content-Disposition"]
    assert download.data == letters.letter_pdf(db.session.get(Appeal, appeal.id))[0]
    assert citizen.get(f"/track/{token[:-2]}xx/letter.pdf").status_code == 404


def _tokens(html):
    return (re.search(r'name="csrf_token" type="hidden" value="([^"]*)"', html).group(1),
            re.search(r'name="started" type="hidden" value="([^"]+)"', html).group(1))


def test_the_empty_form_is_built_once_and_follows_every_reference_change(citizen, app, reference, db, users, login,
                                                                         monkeypatch):
    from appeals.reference import cache
    from appeals.reference.models import Category, Settlement

    monkeypatch.setitem(app.config, "REFERENCE_CACHE", True)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # each visitor's own token is put into the copy
    monkeypatch.setattr(cache, "_entries", {})
    first = citizen.get("/appeal").get_data(as_text=True)
    assert "Қордай — Қордай ауданы" in first and "Ауыз су" in first

    statements = []
    listener = lambda *args, **kwargs: statements.append(args[2])  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        other = app.test_client()
        second = other.get("/appeal").get_data(as_text=True)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    queries = [sql for sql in statements if not sql.startswith("BEGIN")]
    assert len(queries) == 1 and "number_sequences" in queries[0], "only the reference version is read"
    # The same page, with the visitor's own tokens (the started token is the time, frozen in tests).
    assert _tokens(first)[0] != _tokens(second)[0]
    assert "\x00" not in second
    strip = lambda html: html.replace(_tokens(html)[0], "").replace(_tokens(html)[1], "")  # noqa: E731
    assert strip(first) == strip(second)

    # An edit through the ORM and a bulk statement: the next page is built afresh.
    settlement = db.session.get(Settlement, reference.settlements[0].id)
    settlement.name_kk = "Қордай ауылы"
    db.session.commit()
    renamed = citizen.get("/appeal").get_data(as_text=True)
    assert "Қордай ауылы — Қордай ауданы" in renamed and "Қордай — Қордай ауданы" not in renamed
    db.session.execute(sa.update(Category).where(Category.code == "water").values(is_active=False))
    db.session.commit()
    assert "Ауыз су" not in citizen.get("/appeal").get_data(as_text=True)
    db.session.rollback()
    settlement = db.session.get(Settlement, reference.settlements[0].id)
    settlement.name_kk = "Қордай"
    db.session.rollback()  # a rolled-back edit changes nothing
    assert "Қордай ауылы — Қордай ауданы" in citizen.get("/appeal").get_data(as_text=True)

    # The cached page's tokens are accepted (the CSRF check, and the minimum fill time counts from its start).
    csrf, started = _tokens(citizen.get("/appeal").get_data(as_text=True))
    data = {**_form(citizen, reference), "csrf_token": csrf,
            "started": started}
    assert _post(citizen, {**data, "csrf_token": _tokens(second)[0]}).status_code == 400, "another visitor's token"
    response = _post(citizen, data)
    assert response.status_code == 303, re.findall(r'class="error"[^>]*>([^<]*)<', response.get_data(as_text=True))
    # A staff member sees their own menu, never the anonymous copy.
    app.config["WTF_CSRF_ENABLED"] = False
    staff = login(users.clerk, test_client=app.test_client())
    assert users.clerk.display_name in staff.get("/appeal").get_data(as_text=True)


def test_the_language_of_a_link_stays_for_the_visit_and_the_appeal(citizen, reference, sms_gateway, db):
    """A citizen who came by /appeal?lang=ru keeps Russian on the pages after it and is written to in it."""
    data = _form(citizen, reference)  # (its page in English)
    citizen.get("/appeal?lang=ru")
    page = citizen.get("/appeal").get_data(as_text=True)
    data["started"] = re.search(r'name="started" type="hidden" value="([^"]+)"', page).group(1)
    assert '<html lang="ru">' in page
    response = citizen.post("/appeal", data=data)
    assert response.status_code == 303
    assert '<html lang="ru">' in citizen.get(response.headers["Location"]).get_data(as_text=True)
    assert citizen.post(response.headers["Location"], data={"code": _code(sms_gateway)}).status_code == 303
    assert db.session.scalar(sa.select(Appeal.language)) == "ru"
    assert '<html lang="ru">' in citizen.get("/track").get_data(as_text=True)


def test_a_staff_members_lang_link_is_for_that_page_only(users, login):
    clerk = login(users.clerk)
    assert '<html lang="ru">' in clerk.get("/schedule?lang=ru").get_data(as_text=True)
    assert '<html lang="ru">' not in clerk.get("/schedule").get_data(as_text=True)


def test_a_hurried_form_says_so_and_what_else_is_wrong_at_once(citizen, reference, app, monkeypatch, db):
    monkeypatch.setitem(app.config, "ONLINE_MIN_FILL_SECONDS", 60)
    photo = hostile.photo_with_gps("JPEG", size=(32, 24))
    hurried = _post(citizen, _form(citizen, reference, settlement="", category_id=""), [("a.jpg", photo)])
    text = hurried.get_data(as_text=True)
    assert hurried.status_code == 400 and "sent too quickly" in text
    assert "Choose your settlement from the list" in text and "Choose the topic of your appeal from the list." in text
    assert "Please correct the highlighted fields." in text
    # The browser cannot be given the chosen files back: the form says to choose them again.
    assert "Choose your files again" in text
    # Only the form's own problem: no "highlighted fields" where none is highlighted.
    alone = _post(citizen, _form(citizen, reference)).get_data(as_text=True)
    assert "sent too quickly" in alone and "Please correct the highlighted fields." not in alone
    assert "Choose your files again" not in alone and _count(db, OnlineSubmission) == 0
