"""Appeals API: list with the register's filters, read with masking, register (idempotent), correct, workflow."""
import json
from datetime import timedelta
from urllib.parse import urlencode

import sqlalchemy as sa

from appeals.register.models import Appeal
from tests.fixtures_api import assert_problem
from tests.fixtures_register import VALID_IIN


def _body(reg_data, **overrides):
    data = reg_data(**overrides)
    data["received_at"] = data["received_at"].isoformat(timespec="minutes")
    return data


def _count(db):
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(Appeal.id)))


def test_register_appeal_returns_201_with_number(api_as, users, reg_data, db):
    response = api_as(users.clerk).post("/appeals", _body(reg_data))
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["number"].startswith("KRD-") and body["status"] == "registered"
    assert body["phone"] == "+77011234567" and body["personal_data_masked"] is False
    assert body["received_at"].endswith("+05:00")
    assert "in_review" in body["allowed_transitions"]
    assert _count(db) == 1


def test_register_validation_errors_are_per_field_and_nothing_is_written(api_as, users, reg_data, db):
    api = api_as(users.clerk)
    body = assert_problem(api.post("/appeals", _body(reg_data, summary="   ", settlement_id=999999)), 422)
    fields = {error["field"] for error in body["errors"]}
    assert {"summary", "settlement_id"} <= fields
    missing = assert_problem(api.post("/appeals", {"office_id": 1}), 422)
    assert {"received_at", "channel", "appeal_type", "summary"} <= {e["field"] for e in missing["errors"]}
    assert_problem(api.post("/appeals", _body(reg_data, iin="123")), 422, "iin")
    assert_problem(api.post("/appeals", {**_body(reg_data), "password": "x"}), 422, "password")
    assert_problem(api.post("/appeals", {**_body(reg_data), "office_id": "1"}), 422, "office_id")
    assert _count(db) == 0


def test_register_for_another_office_is_403(api_as, users, reg_data, reference, db):
    assert_problem(api_as(users.clerk).post("/appeals", _body(reg_data, office_id=reference.merke.id)), 403)
    assert _count(db) == 0


def test_roles_that_may_not_register_get_403(api_as, users, reg_data):
    for user in (users.viewer, users.host, users.admin):
        assert_problem(api_as(user).post("/appeals", _body(reg_data)), 403)


def test_idempotency_key_makes_a_retry_return_the_same_appeal(api_as, users, reg_data, db):
    api = api_as(users.clerk)
    payload = _body(reg_data)
    first = api.post("/appeals", payload, headers={"Idempotency-Key": "team-7-0001"})
    assert first.status_code == 201
    # The same request again, keys in another order: the first answer, no second appeal.
    again = api.post("/appeals", raw=json.dumps(dict(reversed(list(payload.items())))),
                     headers={"Idempotency-Key": "team-7-0001"})
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["number"] == first.get_json()["number"]
    assert _count(db) == 1
    # The same key with a different body is a conflict.
    conflict = api.post("/appeals", {**payload, "summary": "Басқа мәтін"}, headers={"Idempotency-Key": "team-7-0001"})
    assert_problem(conflict, 409)
    assert _count(db) == 1
    # A new key is a new registration.
    assert api.post("/appeals", payload, headers={"Idempotency-Key": "team-7-0002"}).status_code == 201
    assert _count(db) == 2


def test_rejected_request_frees_its_idempotency_key(api_as, users, reg_data, db):
    api = api_as(users.clerk)
    assert_problem(api.post("/appeals", _body(reg_data, summary=""), headers={"Idempotency-Key": "k-1"}), 422)
    fixed = api.post("/appeals", _body(reg_data), headers={"Idempotency-Key": "k-1"})
    assert fixed.status_code == 201
    assert_problem(api.post("/appeals", _body(reg_data), headers={"Idempotency-Key": "bad key with spaces"}), 422)


def test_list_filters_and_scope(api_as, users, reg_appeal, reg_data, reference, hosts):
    reg_appeal(summary="Су құбыры", appeal_type="complaint")
    reg_appeal(summary="Жол жөндеу")
    reg_appeal(actor=users.other_clerk, office_id=reference.merke.id, settlement_id=reference.settlements[2].id)
    clerk = api_as(users.clerk)
    everything = clerk.get("/appeals").get_json()
    assert len(everything["items"]) == 2 and everything["has_next"] is False
    assert {item["office_id"] for item in everything["items"]} == {reference.kordai.id}
    complaints = clerk.get("/appeals?appeal_type=complaint").get_json()["items"]
    assert [item["summary"] for item in complaints] == ["Су құбыры"]
    paged = clerk.get("/appeals?size=1&sort=received").get_json()
    assert len(paged["items"]) == 1 and paged["has_next"] is True and paged["size"] == 1
    viewer = api_as(users.viewer).get("/appeals").get_json()["items"]
    assert len(viewer) == 3
    # Viewers never see the applicant's IIN or phone in full.
    assert all(item["personal_data_masked"] and "*" in item["phone"] for item in viewer)


def test_list_filtered_by_district(api_as, users, reg_appeal, reference):
    kordai_district, merke_district = reference.districts
    home = reg_appeal(settlement_id=reference.settlements[1].id)
    away = reg_appeal(settlement_id=reference.settlements[3].id)
    reg_appeal(applicant_kind="anonymous", settlement_id="")
    other_office = reg_appeal(actor=users.other_clerk, office_id=reference.merke.id,
                              settlement_id=reference.settlements[2].id)
    viewer = api_as(users.viewer)
    merke = viewer.get(f"/appeals?district_id={merke_district.id}").get_json()["items"]
    assert sorted(item["number"] for item in merke) == sorted([away.number, other_office.number])
    kordai = viewer.get(f"/appeals?district_id={kordai_district.id}&sort=received").get_json()["items"]
    assert [item["number"] for item in kordai] == [home.number]
    both = viewer.get(f"/appeals?district_id={merke_district.id}&office_id={reference.kordai.id}").get_json()["items"]
    assert [item["number"] for item in both] == [away.number]
    # The clerk's scope still applies.
    clerk = api_as(users.clerk).get(f"/appeals?district_id={merke_district.id}").get_json()["items"]
    assert [item["number"] for item in clerk] == [away.number]
    # Unlike the page, the API says what is wrong with a malformed district.
    assert_problem(viewer.get("/appeals?district_id=abc"), 422, "district_id")
    assert_problem(viewer.get("/appeals?district_id=0"), 422, "district_id")
    # The old name (issue 18, item 3) still works for one release, flagged as deprecated, and its
    # errors name it as sent.
    old = viewer.get(f"/appeals?district={merke_district.id}&office={reference.kordai.id}")
    assert [item["number"] for item in old.get_json()["items"]] == [away.number]
    assert old.headers["Deprecation"].startswith("@") and 'rel="deprecation"' in old.headers["Link"]
    assert old.headers["X-Deprecated-Parameters"] == "district, office"
    assert "Deprecation" not in viewer.get(f"/appeals?district_id={merke_district.id}").headers
    assert_problem(viewer.get("/appeals?district=abc"), 422, "district")
    assert_problem(viewer.get(f"/appeals?district=1&district_id={merke_district.id}"), 422)


def test_openapi_documents_the_district_filter(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    parameters = spec["paths"]["/appeals"]["get"]["parameters"]
    district = next(p for p in parameters if p["name"] == "district_id")
    old = next(p for p in parameters if p["name"] == "district")
    assert old["deprecated"] is True and old["schema"] == district["schema"]
    assert district["in"] == "query" and "settlement" in district["description"]


def test_list_rejects_bad_filters_and_oversized_pages(api_as, users):
    api = api_as(users.clerk)
    assert_problem(api.get("/appeals?size=201"), 422, "size")
    assert_problem(api.get("/appeals?status=lost"), 422, "status")
    assert_problem(api.get("/appeals?date_from=yesterday"), 422, "date_from")
    assert_problem(api.get("/appeals?colour=red"), 422, "colour")
    assert_problem(api.get("/appeals?q=a%00b"), 422, "q")


def test_read_appeal_masks_personal_data_by_role(api_as, users, reg_appeal, db):
    appeal = reg_appeal()
    clerk = api_as(users.clerk).get(f"/appeals/{appeal.id}").get_json()
    assert clerk["phone"] == "+77011234567" and clerk["personal_data_masked"] is False
    coordinator_api = api_as(users.coordinator)
    coordinator = coordinator_api.get(f"/appeals/{appeal.id}").get_json()
    assert coordinator["personal_data_masked"] is True and coordinator["phone"] != "+77011234567"
    revealed = coordinator_api.get(f"/appeals/{appeal.id}?reveal=true").get_json()
    assert revealed["phone"] == "+77011234567"
    from appeals.core.audit import AuditRecord

    assert db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "personal_data_viewed")) is not None
    assert api_as(users.viewer).get(f"/appeals/{appeal.id}").get_json()["personal_data_masked"] is True


def test_read_another_offices_appeal_is_403_and_missing_is_404(api_as, users, reg_appeal):
    appeal = reg_appeal()
    assert_problem(api_as(users.other_clerk).get(f"/appeals/{appeal.id}"), 403)
    assert_problem(api_as(users.clerk).get("/appeals/999999"), 404)
    assert_problem(api_as(users.clerk).get("/appeals/99999999999999"), 404)


def test_update_appeal(api_as, users, reg_appeal, db):
    appeal = reg_appeal()
    api = api_as(users.clerk)
    response = api.patch(f"/appeals/{appeal.id}", {"summary": "Түзетілген қысқаша мазмұны"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["summary"] == "Түзетілген қысқаша мазмұны"
    assert response.get_json()["number"] == appeal.number
    assert_problem(api.patch(f"/appeals/{appeal.id}", {"summary": ""}), 422, "summary")
    assert_problem(api.patch(f"/appeals/{appeal.id}", {"number": "X-1"}), 422, "number")
    assert_problem(api_as(users.other_clerk).patch(f"/appeals/{appeal.id}", {"summary": "Бөтен"}), 403)
    assert_problem(api_as(users.viewer).patch(f"/appeals/{appeal.id}", {"summary": "Бөтен"}), 403)
    assert_problem(api.patch("/appeals/999999", {"summary": "x"}), 404)
    db.session.expire_all()
    assert db.session.get(Appeal, appeal.id).summary == "Түзетілген қысқаша мазмұны"


def test_workflow_transitions(api_as, users, reg_appeal):
    appeal = reg_appeal()
    api = api_as(users.clerk)
    review = api.post(f"/appeals/{appeal.id}/transitions", {"status": "in_review"})
    assert review.status_code == 200 and review.get_json()["status"] == "in_review"
    assert review.get_json()["responsible_id"] == users.clerk.id
    assert_problem(api.post(f"/appeals/{appeal.id}/transitions", {"status": "answered"}), 422, "answer_text")
    answered = api.post(f"/appeals/{appeal.id}/transitions", {"status": "answered", "answer_text": "Жауап берілді"})
    assert answered.get_json()["status"] == "answered"
    # Not an allowed move from "answered": a conflict with the appeal's state.
    assert_problem(api.post(f"/appeals/{appeal.id}/transitions", {"status": "in_review"}), 409)
    closed = api.post(f"/appeals/{appeal.id}/transitions", {"status": "closed"})
    assert closed.get_json()["status"] == "closed" and closed.get_json()["allowed_transitions"] == []
    assert_problem(api.patch(f"/appeals/{appeal.id}", {"summary": "Кеш"}), 409)
    assert_problem(api.post(f"/appeals/{appeal.id}/transitions", {"status": "lost"}), 422, "status")


def test_transition_permissions(api_as, users, reg_appeal):
    appeal = reg_appeal()
    assert_problem(api_as(users.other_clerk).post(f"/appeals/{appeal.id}/transitions", {"status": "in_review"}), 403)
    assert_problem(api_as(users.host).post(f"/appeals/{appeal.id}/transitions", {"status": "in_review"}), 403)
    assert_problem(api_as(users.clerk).post("/appeals/999999/transitions", {"status": "in_review"}), 404)


def test_forward_and_extend(api_as, users, reg_appeal):
    appeal = reg_appeal()
    api = api_as(users.clerk)
    new_due = (appeal.due_date + timedelta(days=10)).isoformat()
    extended = api.post(f"/appeals/{appeal.id}/extensions", {"new_due_date": new_due, "reason": "Сараптама қажет, мерзім ұзартылды"})
    assert extended.status_code == 200 and extended.get_json()["due_date"] == new_due
    assert_problem(api.post(f"/appeals/{appeal.id}/extensions", {"new_due_date": new_due, "reason": "Тағы да ұзарту керек"}),
                   422, "new_due_date")
    forwarded = api.post(f"/appeals/{appeal.id}/transitions", {"status": "forwarded", "recipient": "Әкімдік"})
    assert forwarded.get_json()["forwarded_to"] == "Әкімдік"


def test_personal_search_terms_travel_in_the_body_never_in_the_url(api_as, users, reg_appeal, reg_data):
    """Issue 13, finding 13: URLs reach access logs, so an IIN, a phone or an e-mail is searched by POST."""
    wanted = reg_appeal(summary="Су құбыры", iin=VALID_IIN, phone="+7 701 234 56 78")
    reg_appeal(summary="Жол жөндеу", phone="+7 701 000 11 22")
    assert wanted.iin == VALID_IIN and wanted.phone
    clerk = api_as(users.clerk)
    for term in (wanted.iin, wanted.phone, "8 (701) 234-56-78", "aliya@example.kz"):
        body = assert_problem(clerk.get("/appeals?" + urlencode({"q": term})), 422, "q")
        assert "/appeals/search" in body["detail"]
    found = clerk.post("/appeals/search", {"q": wanted.iin})
    assert found.status_code == 200, found.get_data(as_text=True)
    assert [item["number"] for item in found.get_json()["items"]] == [wanted.number]
    # The same filters, flags, sorts and pages as the query string.
    paged = clerk.post("/appeals/search", {"sort": "received", "size": 1, "overdue": False}).get_json()
    assert len(paged["items"]) == 1 and paged["has_next"] is True
    assert_problem(clerk.post("/appeals/search", {"status": "lost"}), 422, "status")
    assert_problem(clerk.post("/appeals/search", {"colour": "red"}), 422, "colour")
    # Masked roles find nothing by the IIN in the body either (finding 3's rule is the list's own).
    assert api_as(users.viewer).post("/appeals/search", {"q": wanted.iin}).get_json()["items"] == []
    # Words and numbers still work in the query string.
    assert [item["number"] for item in clerk.get("/appeals?" + urlencode({"q": wanted.number})).get_json()["items"]] \
        == [wanted.number]
