"""Issue 18, item 6: bulk calls, all or nothing with row errors, each row checked as a single call checks it."""
import datetime as dt

import sqlalchemy as sa

from appeals.register.models import Appeal
from appeals.schedules.models import ReceptionSession
from tests.fixtures_api import assert_problem
from tests.test_api_appeals import _body


def _count(db, model):
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _session(reference, host_id, day, start="10:00", end="11:00"):
    return {"office_id": reference.kordai.id, "host_ids": [host_id], "date": day.isoformat(),
            "start_time": start, "end_time": end}


def test_bulk_appeals_all_or_nothing_with_row_errors(api_as, users, reg_data, db):
    api = api_as(users.clerk)
    rows = [_body(reg_data, summary=f"Жол жөндеу {n} көшесінде", phone=f"+7 701 300 00 {n:02d}") for n in range(5)]
    rows[1]["settlement_id"] = 61000
    rows[3]["office_id"] = 55555
    body = assert_problem(api.post("/appeals/bulk", {"items": rows}), 422)
    assert {e["field"]: e["message"] for e in body["errors"]} == {
        "items.1.settlement_id": "Settlement 61000 does not exist.", "items.3.office_id": "Office 55555 does not exist."}
    assert "2 of 5" in body["detail"]
    assert _count(db, Appeal) == 0
    rows[1]["settlement_id"] = reg_data()["settlement_id"]
    rows[3]["office_id"] = reg_data()["office_id"]
    created = api.post("/appeals/bulk", {"items": rows}, headers={"Idempotency-Key": "batch-1"})
    assert created.status_code == 201, created.get_data(as_text=True)
    numbers = [item["number"] for item in created.get_json()["items"]]
    # Gapless: the refused batch took no numbers.
    assert numbers == [f"KRD-2026-{n:05d}" for n in range(1, 6)]
    again = api.post("/appeals/bulk", {"items": rows}, headers={"Idempotency-Key": "batch-1"})
    assert again.headers.get("Idempotent-Replayed") == "true" and _count(db, Appeal) == 5


def test_bulk_appeals_refuse_another_offices_rows(api_as, users, reg_data, reference, db):
    rows = [_body(reg_data), _body(reg_data, office_id=reference.merke.id)]
    body = assert_problem(api_as(users.clerk).post("/appeals/bulk", {"items": rows}), 422)
    assert [e["field"] for e in body["errors"]] == ["items.1.office_id"]
    assert _count(db, Appeal) == 0


def test_bulk_appeals_at_most_500(api_as, users, reg_data):
    assert_problem(api_as(users.clerk).post("/appeals/bulk", {"items": [_body(reg_data)] * 501}), 422, "items")


def test_bulk_sessions_create_and_mark_held(api_as, users, reference, hosts, db):
    from appeals.core.timeutil import local_today

    host = hosts.berik
    clerk, coordinator = api_as(users.clerk), api_as(users.coordinator)
    days = [local_today() - dt.timedelta(days=n) for n in range(1, 4)]
    # Two rows collide with each other (same host, same hour): the batch is refused, nothing is planned.
    colliding = [_session(reference, host.id, days[0]), _session(reference, host.id, days[0], "10:30", "11:30")]
    body = assert_problem(clerk.post("/sessions/bulk", {"items": colliding}), 409)
    assert any(e["field"].startswith("items.1") for e in body["errors"])
    assert _count(db, ReceptionSession) == 0
    created = clerk.post("/sessions/bulk", {"items": [_session(reference, host.id, day) for day in days]})
    assert created.status_code == 201, created.get_data(as_text=True)
    ids = [item["id"] for item in created.get_json()["items"]]
    # Drafts cannot be marked held: the whole batch is refused.
    assert_problem(clerk.post("/sessions/held", {"items": [{"id": i, "visitors": 2} for i in ids]}), 409)
    assert coordinator.post("/sessions/approve", {"ids": ids}).get_json()["approved"] == 3
    held = clerk.post("/sessions/held", {"items": [{"id": i, "visitors": 4} for i in ids]})
    assert held.status_code == 200, held.get_data(as_text=True)
    assert {(s["status"], s["visitors_count"]) for s in held.get_json()["items"]} == {("held", 4)}
    assert_problem(clerk.post("/sessions/held", {"items": [{"id": ids[0], "visitors": 1}] * 2}), 422, "items")
