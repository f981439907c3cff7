"""Issue 18, items 3–5: one naming scheme (old names deprecated), a truthful schema whose errors name the
value, and totals on every page."""
from tests.fixtures_api import assert_problem
from tests.test_api_appeals import _body


def _messages(body, field):
    return [error["message"] for error in body["errors"] if error["field"] == field]


def test_errors_name_the_offending_value(api_as, users, reg_data):
    api = api_as(users.clerk)
    body = assert_problem(api.post("/appeals", _body(reg_data, settlement_id=61000, category_id=99999,
                                                        host_id=77777, responsible_id=88888)), 422)
    assert _messages(body, "settlement_id") == ["Settlement 61000 does not exist."]
    assert _messages(body, "category_id") == ["Category 99999 does not exist."]
    assert _messages(body, "host_id") == ["Host 77777 does not exist."]
    assert _messages(body, "responsible_id") == ["User 88888 does not exist."]
    body = assert_problem(api.post("/appeals", _body(reg_data, office_id=55555)), 422)
    assert _messages(body, "office_id") == ["Office 55555 does not exist."]


def test_a_retired_settlement_is_named_as_retired(api_as, users, reg_data, reference, db):
    settlement = reference.settlements[0]
    settlement.is_active = False
    db.session.commit()
    body = assert_problem(api_as(users.clerk).post("/appeals", _body(reg_data)), 422)
    assert _messages(body, "settlement_id") == [f"Settlement {settlement.id} is no longer in use."]


def test_directive_criteria_name_the_unknown_ids(api_as, users, reference):
    body = assert_problem(api_as(users.coordinator).post("/directives", {
        "number": "7", "issued_on": "2026-01-10", "title": "Аманат",
        "category_ids": [reference.categories[0].id, 4242, 4243]}), 422)
    assert _messages(body, "category_ids") == ["No such id: 4242, 4243."]


def test_the_schema_requires_what_the_server_requires(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    appeal_in = schemas["AppealIn"]
    assert {"office_id", "received_at", "channel", "appeal_type", "category_id", "summary"} <= set(appeal_in["required"])
    # The conditional rules are written on the fields.
    properties = appeal_in["properties"]
    assert "anonymous" in properties["settlement_id"]["description"]
    assert "anonymous" in properties["applicant_name"]["description"]
    assert "session" in properties["session_id"]["description"]
    assert "collective" in properties["signatories"]["description"]


def test_a_missing_category_is_refused_by_the_schema(api_as, users, reg_data):
    data = _body(reg_data)
    del data["category_id"]
    assert_problem(api_as(users.clerk).post("/appeals", data), 422, "category_id")


def test_pages_carry_exact_totals(api_as, users, reg_appeal):
    for _n in range(7):
        reg_appeal()
    api = api_as(users.clerk)
    first = api.get("/appeals?size=3").get_json()
    last = api.get("/appeals?size=3&page=3").get_json()
    beyond = api.get("/appeals?size=3&page=9").get_json()
    assert (first["total"], first["total_exact"], first["has_next"]) == (7, True, True)
    assert (last["total"], len(last["items"]), last["has_next"]) == (7, 1, False)
    assert beyond["total"] == 7 and beyond["items"] == []
    # The total follows the filters, and the same holds for sessions and mandates.
    assert api.get("/appeals?status=closed").get_json()["total"] == 0
    assert api.get("/sessions").get_json()["total"] == 0
    assert api_as(users.coordinator).get("/mandates").get_json()["total"] == 0


def test_a_very_large_count_is_flagged_as_a_lower_bound(api_as, users, reg_appeal, monkeypatch):
    from appeals.api.schemas import base

    for _n in range(4):
        reg_appeal()
    monkeypatch.setattr(base, "EXACT_COUNT_LIMIT", 2)
    page = api_as(users.clerk).get("/appeals?size=1").get_json()
    assert (page["total"], page["total_exact"]) == (2, False)


def test_old_statistics_names_still_work_with_a_deprecation_header(api_as, users, reg_appeal):
    from appeals.core.timeutil import local_today

    reg_appeal()
    api = api_as(users.viewer)
    today = local_today().isoformat()
    new = api.get(f"/statistics?date_from={today}&date_to={today}")
    old = api.get(f"/statistics?start={today}&end={today}")
    assert old.get_json() == new.get_json() and new.get_json()["totals"]["appeals_received"] == 1
    assert "Deprecation" in old.headers and "Deprecation" not in new.headers
    assert old.headers["X-Deprecated-Parameters"] == "end, start"


def test_one_naming_scheme_for_every_filter(client):
    """Every list filter of the API uses the *_id / date_from / date_to names; old ones are marked deprecated."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    legacy = {"office", "district", "settlement", "category", "host", "start", "end", "from", "to"}
    for path, operations in paths.items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", ()):
                if parameter["name"] in legacy:
                    assert parameter.get("deprecated") is True, (method, path, parameter["name"])


def test_registration_answers_with_possible_repeats(api_as, users, reg_data, reg_appeal):
    """Issue 18, item 10: what the form shows after Save, in the API's answer."""
    earlier = reg_appeal(phone="+7 701 555 44 33")
    api = api_as(users.clerk)
    body = api.post("/appeals", _body(reg_data, phone="+7 701 555 44 33", summary="Басқа мәселе туралы")).get_json()
    check = body["possible_repeats"]
    assert [a["number"] for a in check["appeals"]] == [earlier.number]
    assert check["appeals"][0]["same_person"] is True and check["elsewhere"] is False
    # The new appeal is never its own repeat; an unrelated one has none.
    fresh = api.post("/appeals", _body(reg_data, phone="+7 702 000 11 22", settlement_id=reg_data()["settlement_id"],
                                       summary="Мектепке автобус керек")).get_json()
    assert fresh["possible_repeats"]["appeals"] == [] and fresh["number"] != body["number"]


def test_repeats_in_another_office_are_only_hinted(api_as, users, reg_data, reg_appeal, reference):
    other = reg_appeal(actor=users.other_clerk, office_id=reference.merke.id, phone="+7 701 999 88 77")
    body = api_as(users.clerk).post("/appeals", _body(reg_data, phone="+7 701 999 88 77")).get_json()
    check = body["possible_repeats"]
    assert check["elsewhere"] is True and other.number not in str(check)
