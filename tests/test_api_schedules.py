"""Offices, hosts and reception sessions through the API."""
import datetime as dt

import sqlalchemy as sa

from appeals.schedules.models import ReceptionSession
from tests.fixtures_api import assert_problem


def _session_body(session_data, **changes):
    data = session_data(**changes)
    return {**data, "date": data["date"].isoformat(), "start_time": data["start_time"].strftime("%H:%M"),
            "end_time": data["end_time"].strftime("%H:%M")}


def test_offices_list_and_read(api_as, users, reference):
    api = api_as(users.viewer)
    items = api.get("/offices").get_json()["items"]
    assert [office["code"] for office in items] == ["ZHM", "KRD", "MRK"]
    assert api.get(f"/offices/{reference.kordai.id}").get_json()["parent_id"] == reference.regional.id
    assert_problem(api.get("/offices/999999"), 404)
    assert_problem(api.get("/offices?active=maybe"), 422, "active")


def test_hosts_list_read_create_update(api_as, users, hosts, reference):
    coordinator = api_as(users.coordinator)
    listed = coordinator.get(f"/hosts?office_id={reference.kordai.id}").get_json()["items"]
    assert {host["full_name"] for host in listed} == {"Әлімова Әлия Серікқызы", "Бекұлы Берік"}
    created = coordinator.post("/hosts", {"full_name": "Жаңа Кандидат", "kind": "candidate", "office_id": reference.merke.id})
    assert created.status_code == 201
    host_id = created.get_json()["id"]
    assert coordinator.get(f"/hosts/{host_id}").get_json()["office_id"] == reference.merke.id
    updated = coordinator.patch(f"/hosts/{host_id}", {"position": "Депутаттыққа кандидат"})
    assert updated.status_code == 200 and updated.get_json()["full_name"] == "Жаңа Кандидат"
    assert_problem(coordinator.patch(f"/hosts/{host_id}", {"user_id": users.clerk.id}), 422, "user_id")
    assert_problem(coordinator.post("/hosts", {"full_name": "", "kind": "candidate"}), 422, "full_name")
    assert_problem(api_as(users.clerk).post("/hosts", {"full_name": "X", "kind": "candidate"}), 403)
    assert_problem(api_as(users.clerk).patch(f"/hosts/{host_id}", {"position": "X"}), 403)
    assert_problem(coordinator.get("/hosts/999999"), 404)


def test_create_session_as_clerk_and_conflicts(api_as, users, session_data, db):
    clerk = api_as(users.clerk)
    response = clerk.post("/sessions", _session_body(session_data))
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "draft" and body["start_time"] == "10:00" and len(body["host_ids"]) == 1
    # The same host at an overlapping time: a conflict that names the colliding session.
    clash = assert_problem(clerk.post("/sessions", _session_body(session_data, start_time=dt.time(11, 0),
                                                                 end_time=dt.time(13, 0))), 409)
    assert clash["errors"]
    assert_problem(clerk.post("/sessions", _session_body(session_data, end_time=dt.time(9, 0))), 422, "end_time")
    assert_problem(clerk.post("/sessions", {**_session_body(session_data), "start_time": "25:99"}), 422, "start_time")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(ReceptionSession.id))) == 1


def test_clerk_cannot_plan_for_another_office(api_as, users, session_data, reference, hosts):
    response = api_as(users.clerk).post("/sessions", _session_body(session_data, office_id=reference.merke.id,
                                                                   host_ids=[hosts.dana.id]))
    assert_problem(response, 422, "office_id")
    assert_problem(api_as(users.viewer).post("/sessions", _session_body(session_data)), 403)


def test_list_update_approve_hold_cancel(api_as, users, session_data, next_monday):
    clerk, coordinator = api_as(users.clerk), api_as(users.coordinator)
    first = clerk.post("/sessions", _session_body(session_data)).get_json()
    second = clerk.post("/sessions", _session_body(session_data, start_time=dt.time(14, 0), end_time=dt.time(15, 0),
                                                   room="102")).get_json()
    # Drafts of Kordai are not visible to the Merke clerk.
    assert api_as(users.other_clerk).get("/sessions").get_json()["items"] == []
    assert_problem(api_as(users.other_clerk).get(f"/sessions/{first['id']}"), 404)
    listed = clerk.get(f"/sessions?date_from={next_monday.isoformat()}&status=draft").get_json()
    assert [item["id"] for item in listed["items"]] == [first["id"], second["id"]]
    moved = clerk.patch(f"/sessions/{first['id']}", {"room": "201"})
    assert moved.status_code == 200 and moved.get_json()["room"] == "201"
    assert_problem(api_as(users.other_clerk).patch(f"/sessions/{first['id']}", {"room": "X"}), 404)
    assert_problem(clerk.post("/sessions/approve", {"ids": [first["id"]]}), 403)
    approved = coordinator.post("/sessions/approve", {"ids": [first["id"], second["id"]]})
    assert approved.get_json() == {"approved": 2}
    # An approved session changes only by a coordinator.
    assert_problem(clerk.patch(f"/sessions/{first['id']}", {"room": "301"}), 403)
    assert_problem(coordinator.post("/sessions/approve", {"ids": [999999]}), 422, "ids")
    # Marking as held before the date is a conflict with the session's state.
    assert_problem(clerk.post(f"/sessions/{first['id']}/held", {"visitors": 5}), 409)
    assert_problem(clerk.post(f"/sessions/{first['id']}/held", {"visitors": -1}), 422, "visitors")
    cancelled = coordinator.post(f"/sessions/{second['id']}/cancel", {"reason": "Кандидат ауырып қалды"})
    assert cancelled.get_json()["status"] == "cancelled"
    assert_problem(coordinator.post(f"/sessions/{second['id']}/cancel", {"reason": "Тағы"}), 409)
    assert_problem(coordinator.patch(f"/sessions/{second['id']}", {"room": "1"}), 409)
    assert_problem(clerk.get("/sessions/999999"), 404)


def test_session_query_validation(api_as, users):
    api = api_as(users.clerk)
    assert_problem(api.get("/sessions?status=open"), 422, "status")
    assert_problem(api.get("/sessions?date_from=1900-01-01"), 422, "date_from")
    assert_problem(api.get("/sessions?page=0"), 422, "page")
