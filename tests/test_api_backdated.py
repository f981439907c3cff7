"""Issue 18, item 9: a coordinator types in a paper register later: mandates registered on its date,
inside the directive's validity, audited; a directive whose validity ended still accepts them."""
from datetime import date, datetime

import sqlalchemy as sa

from appeals.core.audit import AuditRecord
from tests.fixtures_api import assert_problem


def _historical(make_directive, make_appeal):
    directive = make_directive(number="5-Д", issued_on=date(2025, 3, 1), valid_from=date(2025, 3, 1),
                               valid_to=date(2025, 6, 30), numbering="year", number_prefix="АМ")
    appeals = [make_appeal(received_at=datetime(2025, 3, 10, 10, n)) for n in range(3)]
    return directive, appeals


def test_backdated_mandates_count_on_their_paper_date(app_ctx, api_as, users, make_directive, make_appeal):
    directive, appeals = _historical(make_directive, make_appeal)
    api = api_as(users.coordinator)
    # Without a date the ended directive refuses, as before.
    assert_problem(api.post(f"/directives/{directive.id}/mandates", {"appeal_ids": [appeals[0].id]}), 409)
    response = api.post(f"/directives/{directive.id}/mandates",
                        {"appeal_ids": [a.id for a in appeals[:2]], "registered_on": "2025-04-02"})
    assert response.status_code == 201, response.get_data(as_text=True)
    mandates = response.get_json()["items"]
    assert [m["registered_on"] for m in mandates] == ["2025-04-02", "2025-04-02"]
    # Numbered in the register of its own year.
    assert [m["number"] for m in mandates] == ["АМ-2025-0001", "АМ-2025-0002"]
    stats = api.get("/statistics?date_from=2025-04-01&date_to=2025-04-30").get_json()
    assert stats["totals"]["mandates_registered_in_period"] == 2
    today = api.get("/statistics").get_json()
    assert today["totals"]["mandates_registered_in_period"] == 0
    db = app_ctx.extensions["sqlalchemy"].session
    records = db.scalars(sa.select(AuditRecord).where(AuditRecord.action == "mandate.flag")).all()
    assert len(records) == 2 and all(r.changes["registered_on"] == "2025-04-02" for r in records)
    # The real moment of entry (the test clock's now) stays on record beside the paper date.
    assert all(r.changes["entered_at"].startswith("2026-11-18") for r in records)


def test_the_date_must_fall_inside_the_validity_and_after_the_appeals(api_as, users, make_directive, make_appeal):
    directive, appeals = _historical(make_directive, make_appeal)
    api = api_as(users.coordinator)
    path = f"/directives/{directive.id}/mandates"
    for day in ("2025-02-27", "2025-07-01"):
        body = assert_problem(api.post(path, {"appeal_ids": [appeals[0].id], "registered_on": day}), 422, "registered_on")
        assert "01.03.2025" in body["errors"][0]["message"] and "30.06.2025" in body["errors"][0]["message"]
    # Before the appeal came.
    body = assert_problem(api.post(path, {"appeal_ids": [appeals[0].id], "registered_on": "2025-03-05"}), 422,
                          "registered_on")
    assert appeals[0].number in body["errors"][0]["message"]
    # In the future.
    assert_problem(api.post(path, {"appeal_ids": [appeals[0].id], "registered_on": "2099-01-01"}), 422, "registered_on")


def test_only_a_coordinator_backdates(app_ctx, users, make_directive, make_appeal):
    from appeals.mandates import flagging
    from appeals.mandates.directives import MandateError

    directive, appeals = _historical(make_directive, make_appeal)
    flagging.check_registration_date(directive, date(2025, 4, 2), appeals, users.coordinator)
    for role in ("clerk", "admin", "viewer"):
        try:
            flagging.check_registration_date(directive, date(2025, 4, 2), appeals, getattr(users, role))
        except MandateError as exc:
            assert exc.kind == "forbidden" and exc.field == "registered_on"
        else:
            raise AssertionError(f"a {role} back-dated a mandate")
