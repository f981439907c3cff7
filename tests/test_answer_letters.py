"""Answer letters (issue 16, item 4): made when an appeal is answered, from the template of its type
and language, kept in the store, e-mailed as a PDF or printed for the post; the applicant told of an
extension and of a forwarding; the admin's templates with a preview."""
import datetime as dt
import subprocess

import pytest
import sqlalchemy as sa

from appeals.core import outbox, storage
from appeals.core.audit import AuditRecord
from appeals.core.errors import DomainError
from appeals.register import workflow
from appeals.register.models import AnswerLetter, Appeal
from appeals.reports import letters

ANSWER = "Жолды жөндеу 2027 жылғы жоспарға енгізілді. Құрылыс басқармасы мамыр айында бастайды."


def _pdf_text(data):
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def _answered(reg_appeal, users, **overrides):
    appeal = reg_appeal(**overrides)
    workflow.transition(appeal, "in_review", users.clerk)
    workflow.transition(appeal, "answered", users.clerk, answer_text=ANSWER)
    return appeal


def test_answering_writes_a_pending_letter_and_the_worker_makes_and_keeps_it(reg_appeal, users, db, app_ctx):
    appeal = _answered(reg_appeal, users, appeal_type="complaint")
    letter = db.session.scalar(sa.select(AnswerLetter))
    assert (letter.appeal_id, letter.status, letter.delivery, letter.locale) == (appeal.id, "pending", "post", "kk")
    assert letters.make_pending_letters() == 1
    assert letters.make_pending_letters() == 0  # made once
    db.session.refresh(letter)
    assert letter.status == "made" and storage.info(letter.file_key).content_type == "application/pdf"
    text = _pdf_text(storage.get(letter.file_key))
    # Letterhead, number and date, the Kazakh wording of a complaint, the answer, the responsible person, pages.
    assert "Қордай филиалы" in text and appeal.number in text
    assert "шағымыңыз қаралды" in text and "Құрылыс басқармасы мамыр айында" in text
    assert "Әбілқасымов Ерлан Серікұлы" in text
    assert users.clerk.display_name in text
    assert "1 беттің 1-беті" in text  # the page number, in Kazakh
    with open("/tmp/answer-letter.pdf", "wb") as kept:  # for a look with pdftoppm
        kept.write(storage.get(letter.file_key))
    assert "ә" in text and "қ" in text and "ұ" in text and "ү" in text and "і" in text


def test_the_letter_follows_the_admins_template_per_type_and_language(reg_appeal, users, db, app_ctx):
    letters.save_template("statement", "kk", "Құрметті {name}! № {number} арызыңызға жауап.", "Құрметпен, {office}.",
                          users.admin)
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "letter_template_updated"))
    assert record.object_id == "statement:kk" and "opening" in record.changes
    appeal = _answered(reg_appeal, users, appeal_type="statement")
    data, name = letters.letter_pdf(appeal)
    text = _pdf_text(data)
    assert f"№ {appeal.number} арызыңызға жауап" in text and "Құрметпен, Қордай филиалы." in text
    assert name == f"answer-{appeal.number}.pdf"
    # Another type keeps the default wording.
    assert "ұсынысыңыз" in letters.template_texts("proposal", "kk")[0]


@pytest.mark.parametrize("opening, field", [("", "opening"), ("Құрметті {surname}!", "opening"), ("{number", "opening")])
def test_a_bad_template_is_refused_field_by_field(opening, field, users, db, app_ctx):
    with pytest.raises(DomainError) as caught:
        letters.save_template("statement", "kk", opening, "Құрметпен.", users.admin)
    assert list(caught.value.errors) == [field]


def test_the_preview_renders_a_sample_in_each_language(app_ctx):
    for locale, word in (("kk", "арызыңыз"), ("ru", "заявление"), ("en", "statement")):
        opening, closing = letters.default_texts("statement", locale)
        text = _pdf_text(letters.preview_pdf("statement", locale, opening, closing))
        assert word in text and "KRD-2026-00042" in text


def test_a_letter_by_email_goes_as_a_pdf_attachment(reg_appeal, users, db, smtp, app_ctx):
    appeal = reg_appeal()
    db.session.execute(sa.update(Appeal).where(Appeal.id == appeal.id).values(email="aigerim@example.kz"))
    db.session.commit()
    workflow.transition(appeal, "in_review", users.clerk)
    workflow.transition(appeal, "answered", users.clerk, answer_text=ANSWER)
    letter = db.session.scalar(sa.select(AnswerLetter))
    assert letter.delivery == "email"
    letters.make_pending_letters()
    notice = db.session.scalar(sa.select(outbox.Notice).where(outbox.Notice.template == "answer_letter"))
    assert notice.address == "aigerim@example.kz" and notice.attachment_key == db.session.get(AnswerLetter, letter.id).file_key
    outbox.deliver_due()
    [(recipients, message)] = smtp.inbox.wait_for(1)
    assert recipients == ["aigerim@example.kz"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"answer-{appeal.number}.pdf"
    assert attachment.get_content().startswith(b"%PDF")


def test_the_applicant_is_told_of_an_extension_and_of_a_forwarding(reg_appeal, users, db, sms_gateway, app_ctx):
    appeal = reg_appeal()
    new_due = appeal.due_date + dt.timedelta(days=20)
    workflow.extend_deadline(appeal, new_due, "Қосымша сараптама қажет", users.clerk)
    other = reg_appeal(summary="Басқа мәселе бойынша өтініш")
    workflow.forward(other, "Жамбыл облысының жолаушылар көлігі басқармасы", None, users.clerk)
    outbox.deliver_due()
    texts = [body["text"] for _status, _auth, body in sms_gateway.received]
    assert any(appeal.number in t and new_due.strftime("%d.%m.%Y") in t for t in texts), texts
    assert any(other.number in t and "жолаушылар көлігі басқармасы" in t for t in texts), texts
    assert all(body["to"] == appeal.phone for _s, _a, body in sms_gateway.received)


def test_only_those_who_see_personal_data_open_the_letter(reg_appeal, users, login, db, app_ctx):
    appeal = _answered(reg_appeal, users)
    clerk = login(users.clerk)
    response = clerk.get(f"/appeals/{appeal.id}/letter.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert "Answer letter" in clerk.get(f"/appeals/{appeal.id}?lang=en").get_data(as_text=True)
    from flask import current_app

    for user in (users.viewer, users.other_clerk, users.host):
        other = current_app.test_client()
        login(user, test_client=other)
        assert other.get(f"/appeals/{appeal.id}/letter.pdf").status_code in (403, 404)


def test_the_admin_edits_and_previews_a_template(users, login, db, app_ctx):
    admin = login(users.admin)
    page = admin.get("/admin/letters?appeal_type=complaint&locale=ru&lang=en").get_data(as_text=True)
    assert "жалоба" in page and "The default wording" in page
    preview = admin.post("/admin/letters", data={"appeal_type": "complaint", "locale": "ru", "action": "preview",
                                                 "opening": "Уважаемый(ая) {name}! Жалоба № {number}.",
                                                 "closing": "С уважением."})
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    assert "Жалоба № KRD-2026-00042" in _pdf_text(preview.data)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(letters.LetterTemplate)) == 0
    bad = admin.post("/admin/letters?lang=en", data={"appeal_type": "complaint", "locale": "ru", "action": "save",
                                                     "opening": "{surname}", "closing": "x"})
    assert bad.status_code == 400 and "Unknown placeholder" in bad.get_data(as_text=True)
    saved = admin.post("/admin/letters", data={"appeal_type": "complaint", "locale": "ru", "action": "save",
                                               "opening": "Уважаемый(ая) {name}!", "closing": "С уважением."})
    assert saved.status_code == 302
    assert letters.template_texts("complaint", "ru") == ("Уважаемый(ая) {name}!", "С уважением.", True)
