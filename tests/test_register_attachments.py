"""Attachments of appeals and answers (issue 16, item 5): pages, caps, permissions, audit."""
import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from appeals.core import storage
from appeals.core.audit import AuditRecord
from appeals.register import attachments
from appeals.register.models import AppealAttachment
from tests import hostile_files as hostile


def _upload(client, appeal, *files, kind="appeal", token=None):
    data = {"kind": kind, "files": [(io.BytesIO(content), name) for name, content in files]}
    if token:
        data["submission_token"] = token
    return client.post(f"/appeals/{appeal.id}/attachments?lang=en", data=data, content_type="multipart/form-data")


def _count(db, model=AppealAttachment):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _audit(db, action):
    return db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == action)).all()


def test_a_clerk_attaches_a_photo_and_a_scan_and_the_photo_loses_its_gps(client, login, users, reg_appeal, db):
    appeal = reg_appeal()
    login(users.clerk)
    photo = hostile.photo_with_gps("JPEG", size=(80, 60))
    response = _upload(client, appeal, ("IMG_0042 Ерлан.jpeg", photo), ("хат.pdf", hostile.simple_pdf(pages=2)))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/appeals/{appeal.id}#attachments")

    files = db.session.scalars(sa.select(AppealAttachment).order_by(AppealAttachment.id)).all()
    assert [(f.name, f.content_type, f.kind, f.source, f.added_by_id) for f in files] == [
        ("IMG_0042 Ерлан.jpg", "image/jpeg", "appeal", "clerk", users.clerk.id),
        ("хат.pdf", "application/pdf", "appeal", "clerk", users.clerk.id)]
    assert files[1].pages == 2 and (files[0].width, files[0].height) == (60, 80)
    kept = storage.get(files[0].file_key)
    with Image.open(io.BytesIO(kept)) as image:
        assert len(image.getexif()) == 0
    assert b"PhoneMaker" not in kept
    added = _audit(db, "attachment_added")
    assert len(added) == 2 and all(record.object_id == str(appeal.id) for record in added)
    assert "Ерлан" not in str([record.changes for record in added]), "file names stay out of the audit trail"

    page = client.get(f"/appeals/{appeal.id}").get_data(as_text=True)
    assert "IMG_0042 Ерлан.jpg" in page and f"/appeals/{appeal.id}/attachments/{files[0].id}" in page

    download = client.get(f"/appeals/{appeal.id}/attachments/{files[0].id}")
    assert download.status_code == 200 and download.data == kept
    assert download.mimetype == "image/jpeg" and download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert "no-store" in download.headers["Cache-Control"]
    opened = _audit(db, "attachment_opened")
    assert len(opened) == 1 and opened[0].user_id == users.clerk.id
    assert opened[0].changes == {"attachment": [None, files[0].id]}


def test_one_refused_file_keeps_none_and_says_which_and_why(client, login, users, reg_appeal, db):
    appeal = reg_appeal()
    login(users.clerk)
    response = _upload(client, appeal, ("good.pdf", hostile.simple_pdf()), ("invoice.pdf", hostile.WINDOWS_EXE),
                       ("photo.jpg", hostile.truncated_jpeg()))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "invoice.pdf: Only photos and scans" in html and "photo.jpg: The file is damaged" in html
    assert _count(db) == 0 and _count(db, storage.StoredFile) == 0


def test_caps_per_appeal(app, client, login, users, reg_appeal, db, monkeypatch):
    appeal = reg_appeal()
    login(users.clerk)
    monkeypatch.setitem(app.config, "ATTACHMENTS_MAX_FILES", 2)
    pdf = hostile.simple_pdf()
    assert _upload(client, appeal, ("1.pdf", pdf), ("2.pdf", pdf)).status_code == 302
    response = _upload(client, appeal, ("3.pdf", pdf))
    assert response.status_code == 400 and "At most 2 files" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "ATTACHMENTS_MAX_FILES", 20)
    monkeypatch.setitem(app.config, "ATTACHMENTS_MAX_BYTES", 2 * len(pdf) + 10)
    response = _upload(client, appeal, ("3.pdf", pdf))
    assert response.status_code == 400 and "at most 0 MB in all" in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "UPLOAD_MAX_FILE_BYTES", 100)
    response = _upload(client, appeal, ("big.pdf", pdf))
    assert response.status_code == 400 and "big.pdf: The file is larger than" in response.get_data(as_text=True)
    assert _count(db) == 2


def test_a_double_submit_attaches_once(client, login, users, reg_appeal, db):
    appeal = reg_appeal()
    login(users.clerk)
    token = "t" * 32
    assert _upload(client, appeal, ("a.pdf", hostile.simple_pdf()), token=token).status_code == 302
    again = _upload(client, appeal, ("a.pdf", hostile.simple_pdf()), token=token)
    assert again.status_code == 302 and _count(db) == 1


def test_masked_roles_see_no_files_and_cannot_open_them(client, login, users, reg_appeal, db, app):
    appeal = reg_appeal()
    [attachment] = attachments.attach_files(appeal, [attachments.Upload("Ерлан ЖСН.pdf", hostile.simple_pdf())],
                                            users.clerk)
    for user in (users.viewer, users.other_clerk):
        other = app.test_client()
        login(user, test_client=other)
        page = other.get(f"/appeals/{appeal.id}")
        assert "Ерлан ЖСН" not in page.get_data(as_text=True) and 'id="attachments"' not in page.get_data(as_text=True)
        assert other.get(f"/appeals/{appeal.id}/attachments/{attachment.id}").status_code in (403, 404)
        assert _upload(other, appeal, ("x.pdf", hostile.simple_pdf())).status_code in (403, 404)
    assert _audit(db, "attachment_opened") == [] and _count(db) == 1
    # A coordinator opens it, and the opening is audited as a reveal would be.
    coordinator = app.test_client()
    login(users.coordinator, test_client=coordinator)
    assert coordinator.get(f"/appeals/{appeal.id}/attachments/{attachment.id}").status_code == 200
    assert [r.user_id for r in _audit(db, "attachment_opened")] == [users.coordinator.id]


def test_an_attachment_id_of_another_appeal_is_not_found(client, login, users, reg_appeal):
    first, second = reg_appeal(), reg_appeal(summary="Басқа өтініш жарық туралы")
    [attachment] = attachments.attach_files(first, [attachments.Upload("a.pdf", hostile.simple_pdf())], users.clerk)
    login(users.clerk)
    assert client.get(f"/appeals/{second.id}/attachments/{attachment.id}").status_code == 404


def test_removing_a_file_deletes_its_bytes_and_is_audited(client, login, users, reg_appeal, db):
    appeal = reg_appeal()
    [attachment] = attachments.attach_files(appeal, [attachments.Upload("a.pdf", hostile.simple_pdf())], users.clerk)
    key, attachment_id = attachment.file_key, attachment.id
    login(users.clerk)
    response = client.post(f"/appeals/{appeal.id}/attachments/{attachment_id}/remove")
    assert response.status_code == 302
    assert _count(db) == 0 and storage.get(key) is None
    assert [r.changes for r in _audit(db, "attachment_removed")] == [{"attachment": [attachment_id, None]}]


def test_answer_files_and_closed_appeals(users, reg_appeal, db):
    from appeals.core.errors import DomainError
    from appeals.register import workflow

    appeal = reg_appeal()
    [answer] = attachments.attach_files(appeal, [attachments.Upload("жауап.pdf", hostile.simple_pdf())], users.clerk,
                                        kind="answer")
    assert answer.kind == "answer" and attachments.citizen_attachments(appeal) == []
    workflow.transition(appeal, "in_review", users.clerk, responsible_id=users.clerk.id)
    workflow.transition(appeal, "answered", users.clerk, answer_text="Жол жөнделеді", answered_at=None)
    assert [a.id for a in attachments.citizen_attachments(appeal)] == [answer.id]
    workflow.transition(appeal, "closed", users.clerk)
    with pytest.raises(DomainError) as refused:
        attachments.attach_files(appeal, [attachments.Upload("a.pdf", hostile.simple_pdf())], users.clerk)
    assert refused.value.kind == "forbidden"


def test_file_names_are_cleaned_and_follow_the_real_type(users, reg_appeal):
    appeal = reg_appeal()
    [first] = attachments.attach_files(appeal, [attachments.Upload(
        "C:\\Users\\Ерлан\\Desktop\\scan\u202egpj.exe", hostile.photo_with_gps("PNG"))], users.clerk)
    assert first.name == "scangpj.png" and first.content_type == "image/png"
    assert not re.search(r"[\u202e\x00-\x1f]", first.name)
