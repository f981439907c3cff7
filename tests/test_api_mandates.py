"""Directives, mandates and statistics through the API."""
import sqlalchemy as sa

from appeals.mandates.models import Mandate
from tests.fixtures_api import assert_problem


def _directive(api, **changes):
    body = {"number": "07-А", "issued_on": "2026-01-15", "title": "Ұсыныстарды аманат ретінде тіркеу",
            "appeal_types": ["statement", "proposal"], **changes}
    response = api.post("/directives", body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def test_directives_create_read_update_and_permissions(api_as, users, reference):
    coordinator = api_as(users.coordinator)
    directive = _directive(coordinator, category_ids=[reference.categories[0].id])
    assert directive["appeal_types"] == ["proposal", "statement"] and directive["numbering"] == "directive"
    assert coordinator.get(f"/directives/{directive['id']}").get_json()["title"].startswith("Ұсыныстарды")
    assert [d["id"] for d in api_as(users.viewer).get("/directives").get_json()["items"]] == [directive["id"]]
    changed = coordinator.patch(f"/directives/{directive['id']}", {"target_count": 365})
    assert changed.status_code == 200 and changed.get_json()["target_count"] == 365
    bad = assert_problem(coordinator.post("/directives", {"number": "1", "issued_on": "2026-01-01", "title": "T",
                                                          "valid_from": "2026-05-01", "valid_to": "2026-04-01"}), 422)
    assert "valid_to" in [e["field"] for e in bad["errors"]]
    assert_problem(coordinator.post("/directives", {"number": "1", "title": "T"}), 422, "issued_on")
    assert_problem(coordinator.post("/directives", {**{"number": "1", "issued_on": "2026-01-01", "title": "T"},
                                                    "category_ids": [999999]}), 422, "category_ids")
    assert_problem(api_as(users.clerk).post("/directives", {"number": "1", "issued_on": "2026-01-01", "title": "T"}), 403)
    assert_problem(api_as(users.clerk).get("/directives"), 403)
    assert_problem(coordinator.get("/directives/999999"), 404)


def test_flag_read_update_progress(api_as, users, reg_appeal, db):
    coordinator = api_as(users.coordinator)
    directive = _directive(coordinator)
    first, second = reg_appeal(), reg_appeal(summary="Екінші ұсыныс")
    flagged = coordinator.post(f"/directives/{directive['id']}/mandates", {"appeal_ids": [first.id]},
                               headers={"Idempotency-Key": "flag-1"})
    assert flagged.status_code == 201, flagged.get_data(as_text=True)
    mandate = flagged.get_json()["items"][0]
    assert mandate["appeal_ids"] == [first.id] and mandate["status"] == "registered"
    # Retrying the same request does not flag twice; flagging the same appeal again is a conflict.
    replay = coordinator.post(f"/directives/{directive['id']}/mandates", {"appeal_ids": [first.id]},
                              headers={"Idempotency-Key": "flag-1"})
    assert replay.status_code == 201 and replay.get_json()["items"][0]["id"] == mandate["id"]
    assert_problem(coordinator.post(f"/directives/{directive['id']}/mandates", {"appeal_ids": [first.id]}), 409)
    merged = coordinator.post(f"/directives/{directive['id']}/mandates",
                              {"appeal_ids": [second.id], "merge_into": mandate["id"]})
    assert merged.get_json()["items"][0]["appeal_ids"] == [first.id, second.id]
    assert_problem(coordinator.post(f"/directives/{directive['id']}/mandates", {"appeal_ids": []}), 422, "appeal_ids")
    assert_problem(coordinator.post(f"/directives/{directive['id']}/mandates", {"appeal_ids": [999999]}), 422, "appeal_ids")
    assert_problem(api_as(users.clerk).post(f"/directives/{directive['id']}/mandates", {"appeal_ids": [first.id]}), 403)
    assert_problem(coordinator.post("/directives/999999/mandates", {"appeal_ids": [first.id]}), 404)

    # Reading: the clerk of the office sees it, the Merke clerk does not.
    assert api_as(users.clerk).get(f"/mandates/{mandate['id']}").status_code == 200
    assert_problem(api_as(users.other_clerk).get(f"/mandates/{mandate['id']}"), 403)
    assert api_as(users.other_clerk).get("/mandates").get_json()["items"] == []
    assert [m["id"] for m in api_as(users.viewer).get("/mandates?status=open").get_json()["items"]] == [mandate["id"]]

    updated = coordinator.patch(f"/mandates/{mandate['id']}", {"responsible": "Аудан әкімдігі", "target_date": "2026-12-01"})
    assert updated.status_code == 200 and updated.get_json()["responsible"] == "Аудан әкімдігі"
    assert_problem(coordinator.patch(f"/mandates/{mandate['id']}", {"progress_percent": 101}), 422, "progress_percent")
    assert_problem(coordinator.patch(f"/mandates/{mandate['id']}", {"status": "registered", "title": ""}), 422, "title")
    assert_problem(api_as(users.clerk).patch(f"/mandates/{mandate['id']}", {"responsible": "X"}), 403)

    progress = coordinator.post(f"/mandates/{mandate['id']}/progress", {"note": "Жобалық-сметалық құжат дайын",
                                                                        "progress_percent": 30})
    assert progress.status_code == 201
    assert progress.get_json()["progress_percent"] == 30 and progress.get_json()["status"] == "in_progress"
    assert progress.get_json()["notes"][0]["note"] == "Жобалық-сметалық құжат дайын"
    assert_problem(coordinator.post(f"/mandates/{mandate['id']}/progress", {"note": "", "progress_percent": 5}), 422, "note")
    assert_problem(coordinator.post(f"/mandates/{mandate['id']}/progress", {"note": "x", "noted_on": "2099-01-01"}),
                   422, "noted_on")
    # Withdrawal happens by unflagging, not by an update: not an allowed move.
    assert_problem(coordinator.patch(f"/mandates/{mandate['id']}", {"status": "withdrawn"}), 422, "status")
    fulfilled = coordinator.patch(f"/mandates/{mandate['id']}", {"status": "fulfilled"})
    assert fulfilled.get_json()["status"] == "fulfilled" and fulfilled.get_json()["progress_percent"] == 100
    assert_problem(coordinator.get("/mandates/999999"), 404)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 1


def test_statistics(api_as, users, reg_appeal, reference):
    from appeals.core.timeutil import local_today

    reg_appeal()
    api = api_as(users.viewer)
    today = local_today().isoformat()
    stats = api.get(f"/statistics?date_from={today}&date_to={today}").get_json()
    assert stats["totals"]["appeals_received"] == 1 and stats["totals"]["mandates_registered"] == 0
    assert [row["office_code"] for row in stats["offices"]] == ["KRD"]
    assert api.get("/statistics").status_code == 200
    assert_problem(api.get("/statistics?date_from=2026-05-01&date_to=2026-04-01"), 422, "date_to")  # core.parsing: the end is wrong
    assert_problem(api.get("/statistics?date_from=2000-01-01&date_to=2026-04-01"), 422, "date_to")  # over ten years
    assert_problem(api.get("/statistics?start=someday"), 422, "start")  # named as sent (deprecated name)
    assert_problem(api_as(users.clerk).get("/statistics"), 403)
