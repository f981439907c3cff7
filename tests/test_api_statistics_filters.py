"""Issue 18, item 7: statistics filtered by directive, office and district, with names in the rows."""
from datetime import date, datetime

from tests.fixtures_api import assert_problem


def _month(make_appeal, make_directive, reference, users):
    """March 2025: 3 appeals at Kordai (2 in the Kordai district, 1 in Merke's), 1 at Merke; two directives."""
    from appeals.mandates import flagging

    kordai_home = [make_appeal(received_at=datetime(2025, 3, 10, 10, n), settlement_id=reference.settlements[0].id)
                   for n in range(2)]
    kordai_away = make_appeal(received_at=datetime(2025, 3, 11, 10, 0), settlement_id=reference.settlements[2].id)
    merke = make_appeal(office=reference.merke, received_at=datetime(2025, 3, 12, 10, 0),
                        settlement_id=reference.settlements[3].id)
    first = make_directive(number="1-Д", number_prefix="А")
    second = make_directive(number="2-Д", number_prefix="Б")
    flagging.flag_appeals(first, [kordai_home[0].id, merke.id], users.coordinator, registered_on=date(2025, 3, 20))
    flagging.flag_appeals(second, [kordai_away.id], users.coordinator, registered_on=date(2025, 3, 21))
    return first, second


def test_statistics_by_directive_office_and_district(api_as, users, reference, make_appeal, make_directive):
    first, second = _month(make_appeal, make_directive, reference, users)
    api = api_as(users.viewer)
    period = "date_from=2025-03-01&date_to=2025-03-31"
    every = api.get(f"/statistics?{period}").get_json()["totals"]
    assert (every["appeals_received"], every["mandates_registered"], every["mandates_registered_in_period"]) == (4, 3, 3)

    by_directive = api.get(f"/statistics?{period}&directive_id={first.id}").get_json()
    assert by_directive["directive_id"] == first.id
    totals = by_directive["totals"]
    assert (totals["appeals_received"], totals["mandates_registered"], totals["mandates_registered_in_period"]) == (4, 2, 2)

    by_office = api.get(f"/statistics?{period}&office_id={reference.kordai.id}").get_json()
    assert (by_office["totals"]["appeals_received"], by_office["totals"]["mandates_registered"]) == (3, 2)
    assert [row["office_code"] for row in by_office["offices"]] == ["KRD"]

    merke_district = reference.districts[1]
    by_district = api.get(f"/statistics?{period}&district_id={merke_district.id}").get_json()
    assert (by_district["totals"]["appeals_received"], by_district["totals"]["mandates_registered"]) == (2, 2)
    assert {row["office_code"]: row["appeals_received"] for row in by_district["offices"]} == {"KRD": 1, "MRK": 1}
    assert [row["district_id"] for row in by_district["districts"]] == [merke_district.id]

    both = api.get(f"/statistics?{period}&district_id={merke_district.id}&directive_id={second.id}"
                   f"&office_id={reference.kordai.id}").get_json()["totals"]
    assert (both["appeals_received"], both["mandates_registered"], both["mandates_registered_in_period"]) == (1, 1, 1)


def test_rows_carry_names_in_the_clients_language(api_as, users, reference, make_appeal, make_directive):
    _month(make_appeal, make_directive, reference, users)
    api = api_as(users.coordinator)
    ru = api.get("/statistics?date_from=2025-03-01&date_to=2025-03-31", headers={"Accept-Language": "ru"}).get_json()
    kk = api.get("/statistics?date_from=2025-03-01&date_to=2025-03-31", headers={"Accept-Language": "kk"}).get_json()
    assert {row["office_name"] for row in ru["offices"]} == {reference.kordai.name_ru, reference.merke.name_ru}
    assert {row["district_name"] for row in kk["districts"]} == {d.name_kk for d in reference.districts}


def test_unknown_filters_are_named(api_as, users):
    body = assert_problem(api_as(users.viewer).get("/statistics?directive_id=404&district_id=405"), 422)
    assert {e["field"]: e["message"] for e in body["errors"]} == {
        "directive_id": "Directive 404 does not exist.", "district_id": "District 405 does not exist."}
