"""An appeal's files through the API (issue 16, item 5): list, download, attach (multipart, the same
cleaning as the page: type from the bytes, caps, pictures re-encoded without metadata), remove;
the page's permissions (another office's clerk, masked roles, the token's user) and audit trail,
Idempotency-Key, problem+json errors and the OpenAPI document."""
import io

import pytest
import sqlalchemy as sa
from PIL import Image

from appeals.core import storage
from appeals.core.audit import AuditRecord
from appeals.register import attachments
from appeals.register.models import AppealAttachment
from tests import hostile_files as hostile
from tests.fixtures_api import assert_problem


def _post_files(api, appeal_id, *files, kind=None, headers=None, extra=None):
    data = {"files": [(io.BytesIO(content), name) for name, content in files], **(extra or {})}
    if kind is not None:
        data["kind"] = kind
    all_headers = {"Authorization": f"Bearer {api.secret}", "Accept-Language": "en", **(headers or {})}
    return api.client.post(f"/api/v1/appeals/{appeal_id}/attachments", data=data, headers=all_headers,
                           content_type="multipart/form-data")


def _delete(api, path):
    return api.request("DELETE", path)


def _count(db):
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(AppealAttachment))


def _audit(db, action):
    db.session.rollback()
    return db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == action)).all()


def test_a_clerk_attaches_lists_downloads_and_removes_files(api_as, users, reg_appeal, db):
    appeal = reg_appeal()
    api = api_as(users.clerk)
    photo = hostile.photo_with_gps("JPEG", size=(80, 60))
    response = _post_files(api, appeal.id, ("IMG_0042 Ерлан.jpeg", photo), ("хат.pdf", hostile.simple_pdf(pages=2)))
    assert response.status_code == 201, response.get_data(as_text=True)
    items = response.get_json()["items"]
    assert [(i["name"], i["content_type"], i["kind"], i["source"], i["added_by_id"]) for i in items] == [
        ("IMG_0042 Ерлан.jpg", "image/jpeg", "appeal", "clerk", users.clerk.id),
        ("хат.pdf", "application/pdf", "appeal", "clerk", users.clerk.id)]
    assert items[1]["pages"] == 2 and (items[0]["width"], items[0]["height"]) == (60, 80)
    assert items[0]["added_at"].endswith("Z") and "data" not in items[0]
    assert len(_audit(db, "attachment_added")) == 2

    answer = _post_files(api, appeal.id, ("жауап.png", hostile.png_with_text_chunks()), kind="answer")
    assert answer.status_code == 201 and answer.get_json()["items"][0]["kind"] == "answer"
    listed = api.get(f"/appeals/{appeal.id}/attachments").get_json()["items"]
    assert [item["kind"] for item in listed] == ["answer", "appeal", "appeal"]  # the page's order

    download = api.get(items[0]["download"].removeprefix("/api/v1"))
    assert download.status_code == 200 and download.mimetype == "image/jpeg"
    kept = db.session.get(AppealAttachment, items[0]["id"])
    assert download.data == storage.get(kept.file_key)
    with Image.open(io.BytesIO(download.data)) as image:
        assert len(image.getexif()) == 0, "the GPS position and the camera are gone"
    assert download.headers["X-Content-Type-Options"] == "nosniff" and "no-store" in download.headers["Cache-Control"]
    [opened] = _audit(db, "attachment_opened")
    assert opened.changes["attachment"] == [None, items[0]["id"]] and opened.username == users.clerk.username

    assert _delete(api, f"/appeals/{appeal.id}/attachments/{items[1]['id']}").status_code == 204
    assert _count(db) == 2 and storage.get(db.session.get(AppealAttachment, items[0]["id"]).file_key)
    assert len(_audit(db, "attachment_removed")) == 1
    assert_problem(_delete(api, f"/appeals/{appeal.id}/attachments/{items[1]['id']}"), 404)


def test_a_refused_file_keeps_none_and_names_each_refusal(api_as, users, reg_appeal, db):
    appeal = reg_appeal()
    api = api_as(users.clerk)
    body = assert_problem(_post_files(api, appeal.id, ("ok.pdf", hostile.simple_pdf()), ("anim.gif", hostile.gif_image()),
                                      ("page.pdf", hostile.simple_pdf(javascript="app.alert(1)"))), 422, "files")
    messages = " ".join(error["message"] for error in body["errors"])
    assert "anim.gif" in messages and "page.pdf" in messages and "ok.pdf" not in messages
    assert _count(db) == 0
    assert_problem(_post_files(api, appeal.id), 422, "files")  # no file at all
    assert_problem(_post_files(api, appeal.id, ("a.pdf", hostile.simple_pdf()), kind="letter"), 422, "kind")
    assert_problem(_post_files(api, appeal.id, ("a.pdf", hostile.simple_pdf()), extra={"owner": "x"}), 422, "owner")
    json_body = api.post(f"/appeals/{appeal.id}/attachments", {"files": ["JVBERi0="]})
    assert_problem(json_body, 415)
    russian = api.post(f"/appeals/{appeal.id}/attachments", {"files": []}, headers={"Accept-Language": "ru"})
    assert assert_problem(russian, 415)["detail"] == "Отправьте файлы в формате multipart/form-data."
    kazakh = _post_files(api, appeal.id, ("anim.gif", hostile.gif_image()), headers={"Accept-Language": "kk"})
    assert assert_problem(kazakh, 422, "files")["detail"] != body["detail"], "translated, not English"
    assert _count(db) == 0


def test_the_caps_per_appeal_hold_in_the_api(api_as, users, reg_appeal, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENTS_MAX_FILES", 2)
    appeal = reg_appeal()
    api = api_as(users.clerk)
    assert _post_files(api, appeal.id, ("a.pdf", hostile.simple_pdf())).status_code == 201
    body = assert_problem(_post_files(api, appeal.id, ("b.pdf", hostile.simple_pdf()), ("c.pdf", hostile.simple_pdf())),
                          422, "files")
    assert "At most 2 files" in body["errors"][0]["message"]
    assert _count(db) == 1
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    assert_problem(_post_files(api, appeal.id, ("big.pdf", hostile.simple_pdf() + b"%" * 5000)), 413)
    assert _count(db) == 1


def test_an_idempotency_key_attaches_once(api_as, users, reg_appeal, db):
    appeal = reg_appeal()
    api = api_as(users.clerk)
    headers = {"Idempotency-Key": "scan-42"}
    first = _post_files(api, appeal.id, ("скан.pdf", hostile.simple_pdf()), headers=headers)
    again = _post_files(api, appeal.id, ("скан.pdf", hostile.simple_pdf()), headers=headers)  # a new boundary
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true" and again.get_json() == first.get_json()
    assert _count(db) == 1
    other = _post_files(api, appeal.id, ("басқа.pdf", hostile.simple_pdf(pages=2)), headers=headers)
    assert_problem(other, 409)
    assert _count(db) == 1


@pytest.fixture
def filed(reg_appeal, users, db):
    """A Kordai appeal with one scan attached by its clerk."""
    appeal = reg_appeal()
    [attachment] = attachments.attach_files(appeal, [attachments.Upload("хат.pdf", hostile.simple_pdf())], users.clerk)
    return appeal, attachment


@pytest.mark.parametrize("role", ["other_clerk", "viewer", "central", "host", "admin"])
def test_who_may_not_see_the_files_gets_403_on_every_operation(role, filed, api_as, users, db):
    appeal, attachment = filed
    api = api_as(getattr(users, role))
    base = f"/appeals/{appeal.id}/attachments"
    assert_problem(api.get(base), 403)
    assert_problem(api.get(f"{base}/{attachment.id}"), 403)
    assert_problem(_post_files(api, appeal.id, ("a.pdf", hostile.simple_pdf())), 403)
    assert_problem(_delete(api, f"{base}/{attachment.id}"), 403)
    assert _count(db) == 1 and _audit(db, "attachment_opened") == []


def test_the_regions_coordinator_sees_and_adds_and_nothing_is_reached_through_another_appeal(filed, api_as, users,
                                                                                              reg_appeal, db):
    appeal, attachment = filed
    api = api_as(users.coordinator)
    assert [item["id"] for item in api.get(f"/appeals/{appeal.id}/attachments").get_json()["items"]] == [attachment.id]
    assert api.get(f"/appeals/{appeal.id}/attachments/{attachment.id}").status_code == 200
    other = reg_appeal(summary="Басқа өтініш")
    assert_problem(api.get(f"/appeals/{other.id}/attachments/{attachment.id}"), 404)
    assert_problem(_delete(api_as(users.clerk), f"/appeals/{other.id}/attachments/{attachment.id}"), 404)
    assert_problem(api.get(f"/appeals/{appeal.id}/attachments/999999"), 404)
    assert_problem(api.get("/appeals/999999/attachments"), 404)
    assert _count(db) == 1


def test_a_closed_appeal_takes_no_more_files(filed, api_as, users, db):
    from appeals.register import workflow

    appeal, attachment = filed
    workflow.transition(appeal, "withdrawn", users.clerk, reason="Өтініш беруші қайтарып алды")
    api = api_as(users.clerk)
    assert_problem(_post_files(api, appeal.id, ("a.pdf", hostile.simple_pdf())), 403)
    assert_problem(_delete(api, f"/appeals/{appeal.id}/attachments/{attachment.id}"), 403)
    assert api.get(f"/appeals/{appeal.id}/attachments/{attachment.id}").status_code == 200
    assert _count(db) == 1


def test_without_a_valid_token_nothing_is_reached(filed, app, users, db):
    from appeals.api import tokens

    appeal, attachment = filed
    client = app.test_client()
    assert_problem(client.get(f"/api/v1/appeals/{appeal.id}/attachments/{attachment.id}"), 401)
    token, secret = tokens.create_token(users.clerk, "scans")
    tokens.revoke_token(token, actor=users.clerk)
    revoked = client.get(f"/api/v1/appeals/{appeal.id}/attachments", headers={"Authorization": f"Bearer {secret}"})
    assert_problem(revoked, 401)
    # A browser session is no credential for the API.
    from tests.conftest import PASSWORD

    assert client.post("/login", data={"username": users.clerk.username, "password": PASSWORD}).status_code == 302
    assert client.get(f"/appeals/{appeal.id}/attachments/{attachment.id}").status_code == 200  # the page does
    assert_problem(client.get(f"/api/v1/appeals/{appeal.id}/attachments"), 401)


def test_the_operations_are_in_the_openapi_document(api_as, users):
    document = api_as(users.clerk).get("/openapi.json").get_json()
    files = document["paths"]["/appeals/{appeal_id}/attachments"]
    upload = files["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["required"] == ["files"] and upload["properties"]["files"]["items"]["format"] == "binary"
    assert upload["properties"]["kind"]["enum"] == ["appeal", "answer"]
    assert {"201", "403", "409", "413", "415", "422"} <= set(files["post"]["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in files["post"]["parameters"])
    one = document["paths"]["/appeals/{appeal_id}/attachments/{attachment_id}"]
    assert set(one["get"]["responses"]["200"]["content"]) == {"image/jpeg", "image/png", "image/webp", "application/pdf"}
    assert "204" in one["delete"]["responses"]
    assert "AttachmentOut" in document["components"]["schemas"]
