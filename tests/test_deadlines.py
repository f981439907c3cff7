"""Deadlines by appeal type (issue 16, item 6): the table of terms, days off, stopping the clock."""
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from appeals.core.audit import AuditRecord
from appeals.core.errors import DomainError
from appeals.core.timeutil import local_today
from appeals.register import deadlines, queries, validation, workflow
from appeals.register.models import Appeal, AppealSuspension, DeadlineRule
from appeals.register.rules import add_working_days, is_working_day
from appeals.reports import statistics

ALMATY_11 = time(11, 0)


def _audits(db, appeal, action):
    return db.session.scalars(sa.select(AuditRecord).where(
        AuditRecord.object_type == "appeals", AuditRecord.object_id == str(appeal.id), AuditRecord.action == action)).all()


def test_complaints_get_twenty_working_days_the_others_fifteen(reg_appeal, app_ctx):
    statement = reg_appeal(appeal_type="statement")
    complaint = reg_appeal(appeal_type="complaint")
    request_ = reg_appeal(appeal_type="request")
    received = statement.received_at.date()
    assert statement.due_date == add_working_days(deadlines.first_counted_day(received), 15)
    assert request_.due_date == statement.due_date
    assert complaint.due_date == add_working_days(deadlines.first_counted_day(received), 20)
    assert complaint.due_date > statement.due_date


def test_the_migration_writes_the_appk_defaults(db):
    import importlib.util
    from pathlib import Path

    path = next(Path("migrations/versions").glob("*_deadlines_by_appeal_type.py"))
    spec = importlib.util.spec_from_file_location("deadlines_revision", path)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    assert revision.DEFAULTS == deadlines.DEFAULT_WORKING_DAYS
    # Without rows (an old export restored) the APPK defaults apply.
    assert deadlines.DEFAULT_WORKING_DAYS == {"statement": 15, "complaint": 20, "proposal": 15, "response": 15,
                                              "request": 15}
    assert deadlines.deadline_rules() == deadlines.DEFAULT_WORKING_DAYS


def test_an_appeal_received_on_a_day_off_counts_from_the_next_working_day(reg_appeal, app_ctx):
    saturday = date(2026, 11, 14)
    assert not is_working_day(saturday)
    appeal = reg_appeal(received_at=datetime.combine(saturday, ALMATY_11))
    monday = date(2026, 11, 16)
    assert appeal.due_date == add_working_days(monday, 15)
    # Counted from Saturday itself the term would end a working day earlier.
    assert appeal.due_date != add_working_days(saturday, 15)
    # A Kazakh public holiday counts as a day off too (16 December, Independence Day).
    assert deadlines.first_counted_day(date(2026, 12, 16)) > date(2026, 12, 16)


def test_admin_changes_a_term_for_new_appeals_audited(reg_appeal, users, db, app_ctx):
    before = reg_appeal(appeal_type="complaint")
    changes = deadlines.save_deadline_rules({**deadlines.deadline_rules(), "complaint": "25"}, users.admin)
    assert changes == {"complaint": [20, 25]}
    row = db.session.get(DeadlineRule, "complaint")
    assert row.working_days == 25 and row.updated_by_id == users.admin.id
    after = reg_appeal(appeal_type="complaint")
    assert after.due_date == add_working_days(deadlines.first_counted_day(after.received_at.date()), 25)
    db.session.refresh(before)
    assert before.due_date == add_working_days(deadlines.first_counted_day(before.received_at.date()), 20)
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "deadline_rules_updated"))
    assert record.object_type == "deadline_rules" and record.changes == {"complaint": [20, 25]}
    assert record.username == users.admin.username
    # Saving the same terms again changes and records nothing.
    assert deadlines.save_deadline_rules(deadlines.deadline_rules(), users.admin) == {}


@pytest.mark.parametrize("value", ["0", "61", "x", "", "2.5"])
def test_a_term_out_of_range_is_refused_and_nothing_is_saved(value, users, db, app_ctx):
    with pytest.raises(DomainError) as caught:
        deadlines.save_deadline_rules({**deadlines.deadline_rules(), "statement": "16", "complaint": value}, users.admin)
    assert list(caught.value.errors) == ["complaint"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DeadlineRule)) == 0
    assert deadlines.working_days_for("statement") == 15


def test_stopping_the_clock_needs_a_reason(reg_appeal, users, app_ctx):
    appeal = reg_appeal()
    with pytest.raises(validation.AppealValidationError) as caught:
        workflow.suspend_clock(appeal, "  wait ", users.clerk)
    assert "reason" in caught.value.errors
    assert appeal.suspended_since is None


def test_a_paused_appeal_is_not_overdue_and_resumes_with_the_paused_working_days(reg_appeal, users, db, _clock, app_ctx):
    appeal = reg_appeal()
    # Long past its deadline: overdue everywhere until the clock stops.
    db.session.execute(sa.update(Appeal).where(Appeal.id == appeal.id)
                       .values(due_date=local_today() - timedelta(days=3), original_due_date=local_today() - timedelta(days=3)))
    db.session.commit()
    db.session.refresh(appeal)
    filters = queries.parse_list_filters({"overdue": "1"})
    overdue_ids = lambda: [a.id for a in db.session.scalars(queries.build_list_query(filters, users.coordinator)).unique()]  # noqa: E731
    assert overdue_ids() == [appeal.id]
    assert statistics.overdue_appeals() == 1
    old_due = appeal.due_date

    workflow.suspend_clock(appeal, "Өтініш иесінен құжаттар күтілуде", users.clerk)
    db.session.refresh(appeal)
    assert appeal.suspended_since == local_today() == date(2026, 11, 18)
    assert deadlines.deadline_state(appeal) == "suspended"
    assert overdue_ids() == []
    assert statistics.overdue_appeals() == 0
    assert queries.deadline_watch(users.coordinator)[0] == []
    with pytest.raises(validation.AppealError):
        workflow.suspend_clock(appeal, "Тағы да құжаттар күтілуде", users.clerk)
    with pytest.raises(validation.AppealError):
        workflow.extend_deadline(appeal, old_due + timedelta(days=20), "Қосымша тексеру қажет", users.clerk)

    # Wednesday to Monday: Wednesday, Thursday and Friday stood still.
    _clock.move_to(datetime(2026, 11, 23, 11, 0).astimezone())
    suspension = workflow.resume_clock(appeal, users.clerk)
    db.session.refresh(appeal)
    assert suspension.paused_days == 3
    assert appeal.due_date == suspension.due_after == add_working_days(old_due, 3)
    assert appeal.suspended_since is None
    assert suspension.resumed_on == date(2026, 11, 23) and suspension.resumed_by_id == users.clerk.id
    [stopped] = _audits(db, appeal, "clock_suspended")
    assert stopped.changes["reason"][1] == "Өтініш иесінен құжаттар күтілуде"
    [resumed] = _audits(db, appeal, "clock_resumed")
    assert resumed.changes["paused_days"] == [None, 3]
    assert resumed.changes["due_date"] == [old_due.isoformat(), appeal.due_date.isoformat()]
    with pytest.raises(validation.AppealError):
        workflow.resume_clock(appeal, users.clerk)


def test_paused_working_days_skip_days_off():
    assert deadlines.paused_working_days(date(2026, 11, 18), date(2026, 11, 18)) == 0
    assert deadlines.paused_working_days(date(2026, 11, 20), date(2026, 11, 23)) == 1  # Friday only
    assert deadlines.paused_working_days(date(2026, 11, 21), date(2026, 11, 23)) == 0  # a weekend
    assert deadlines.paused_working_days(date(2026, 11, 16), date(2026, 11, 30)) == 10


def test_answering_a_paused_appeal_closes_the_pause(reg_appeal, users, db, _clock, app_ctx):
    appeal = reg_appeal()
    workflow.transition(appeal, "in_review", users.clerk)
    workflow.suspend_clock(appeal, "Қосымша құжаттар сұралды", users.clerk)
    _clock.move_to(datetime(2026, 11, 20, 11, 0).astimezone())
    workflow.transition(appeal, "answered", users.clerk, answer_text="Жауап берілді")
    db.session.refresh(appeal)
    assert appeal.status == "answered" and appeal.suspended_since is None
    pause = db.session.scalar(sa.select(AppealSuspension).where(AppealSuspension.appeal_id == appeal.id))
    assert pause.resumed_on == date(2026, 11, 20) and pause.paused_days == 2


def test_only_the_office_may_stop_the_clock(reg_appeal, users, app_ctx):
    appeal = reg_appeal()
    for outsider in (users.other_clerk, users.viewer, users.host):
        with pytest.raises(validation.AppealError):
            workflow.suspend_clock(appeal, "Құжаттар күтілуде", outsider)
    workflow.transition(appeal, "withdrawn", users.clerk, reason="Бас тартты")
    with pytest.raises(validation.AppealError):
        workflow.suspend_clock(appeal, "Құжаттар күтілуде", users.clerk)


def test_the_clerk_stops_and_resumes_the_clock_on_the_appeal_page(reg_appeal, users, login, db, app_ctx):
    appeal = reg_appeal()
    client = login(users.clerk)
    refused = client.post(f"/appeals/{appeal.id}/suspend?lang=en", data={"reason": "short"})
    assert refused.status_code == 400
    assert "at least 10 characters" in refused.get_data(as_text=True)
    response = client.post(f"/appeals/{appeal.id}/suspend?lang=en", data={"reason": "Өтініш иесінен анықтама күтілуде"})
    assert response.status_code == 302
    page = client.get(f"/appeals/{appeal.id}?lang=en").get_data(as_text=True)
    assert "Stopped since" in page and "Өтініш иесінен анықтама күтілуде" in page
    assert "Answer clock stopped" in page  # the timeline
    assert client.post(f"/appeals/{appeal.id}/resume").status_code == 302
    db.session.refresh(appeal)
    assert appeal.suspended_since is None
    page = client.get(f"/appeals/{appeal.id}?lang=en").get_data(as_text=True)
    assert "Answer clock resumed" in page and "Pauses of the clock" in page
    assert client.post(f"/appeals/{appeal.id}/resume").status_code == 409


def test_the_admin_edits_the_terms_page(users, login, db, app_ctx):
    client = login(users.admin)
    page = client.get("/admin/deadlines?lang=en").get_data(as_text=True)
    assert 'name="complaint" value="20"' in page
    bad = client.post("/admin/deadlines?lang=en", data={**deadlines.DEFAULT_WORKING_DAYS, "request": "0"})
    assert bad.status_code == 400 and "Between 1 and 60 working days." in bad.get_data(as_text=True)
    ok = client.post("/admin/deadlines", data={**deadlines.DEFAULT_WORKING_DAYS, "request": "10"})
    assert ok.status_code == 302
    assert deadlines.working_days_for("request") == 10
