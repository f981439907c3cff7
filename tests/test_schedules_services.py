"""Schedule rules exercised through the services: conflicts, approval, recurrence, held/cancel, counts."""
import datetime as dt

import pytest
import sqlalchemy as sa

from appeals.core.audit import AuditRecord
from appeals.core.tokens import hash_token
from appeals.schedules import hosts as schedule_hosts
from appeals.schedules import queries as schedule_queries
from appeals.schedules import recurrence as schedule_recurrence
from appeals.schedules import services as schedule_services
from appeals.schedules import sessions as schedule_sessions
from appeals.schedules.models import ReceptionSession
from appeals.schedules.recurrence import RecurrencePattern
from appeals.schedules.sessions import ScheduleError


def T(hours, minutes=0):
    return dt.time(hours, minutes)


def _count(db):
    return db.session.scalar(sa.select(sa.func.count(ReceptionSession.id)))


def test_create_session_is_a_draft_and_audited(db, users, hosts, session_data):
    session = schedule_sessions.create_session(session_data(), users.clerk)
    assert session.status == "draft"
    assert [h.id for h in session.hosts] == [hosts.aliya.id]
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "session_created"))
    assert record.username == "clerk" and record.object_id == str(session.id)
    assert record.changes["hosts"] == [None, [hosts.aliya.id]]


def test_plain_string_input_is_accepted_for_the_api(db, users, hosts, session_data, next_monday):
    session = schedule_sessions.create_session(session_data(date=next_monday.isoformat(), start_time="09:30", end_time="11:00",
                                                   host_ids=[str(hosts.aliya.id)], capacity="12"), users.coordinator)
    assert session.start_time == T(9, 30) and session.capacity == 12


@pytest.mark.parametrize("changes, field", [
    ({"start_time": T(12), "end_time": T(10)}, "end_time"),
    ({"start_time": T(10), "end_time": T(10)}, "end_time"),
    ({"date": dt.date(1999, 5, 1)}, "date"),
    ({"date": dt.date(2199, 5, 1)}, "date"),
    ({"date": "31.02.2025"}, "date"),
    ({"office_id": 99999}, "office_id"),
    ({"host_ids": [99999]}, "host_ids"),
    ({"host_ids": []}, "host_ids"),
    ({"capacity": -3}, "capacity"),
    ({"start_time": "25:00"}, "start_time"),
])
def test_bad_input_is_refused_with_field_and_nothing_saved(db, users, hosts, session_data, changes, field):
    with pytest.raises(ScheduleError) as error:
        schedule_sessions.create_session(session_data(**changes), users.coordinator)
    assert error.value.field == field
    assert error.value.message
    assert _count(db) == 0


def test_clerk_cannot_plan_for_another_office(db, users, hosts, session_data, reference):
    with pytest.raises(ScheduleError) as error:
        schedule_sessions.create_session(session_data(office_id=reference.merke.id), users.clerk)
    assert error.value.field == "office_id"
    assert _count(db) == 0


@pytest.mark.parametrize("start, end, collides", [
    (T(8), T(10), False),        # ends exactly when the other starts: touching is fine
    (T(12), T(13), False),       # starts exactly when the other ends
    (T(9), T(10, 1), True),      # one minute of overlap
    (T(11, 59), T(13), True),
    (T(10, 30), T(11), True),    # inside
    (T(9), T(13), True),         # around
])
def test_host_conflicts_touching_versus_overlapping(db, users, hosts, session_data, reference, start, end, collides):
    schedule_sessions.create_session(session_data(), users.coordinator)  # 10:00-12:00, host Aliya, room 101 at KRD
    # Another office and room: only the host can collide.
    data = session_data(office_id=reference.merke.id, room="5", start_time=start, end_time=end)
    if collides:
        with pytest.raises(ScheduleError) as error:
            schedule_sessions.create_session(data, users.coordinator)
        assert [c.kind for c in error.value.conflicts] == ["host"]
        assert error.value.conflicts[0].host.id == hosts.aliya.id
        assert "Әлімова" in error.value.conflicts[0].describe()
        assert _count(db) == 1
    else:
        schedule_sessions.create_session(data, users.coordinator)
        assert _count(db) == 2


@pytest.mark.parametrize("start, end, room, collides", [
    (T(12), T(14), "101", False),   # touching in the same room
    (T(11), T(13), "101", True),
    (T(11), T(13), " 101 ", True),  # the same room, typed with spaces
    (T(11), T(13), "102", False),   # another room
    (T(11), T(13), "", False),      # no room given: only hosts count
])
def test_room_double_booking(db, users, hosts, session_data, start, end, room, collides):
    schedule_sessions.create_session(session_data(), users.coordinator)
    data = session_data(host_ids=[hosts.berik.id], start_time=start, end_time=end, room=room)
    if collides:
        with pytest.raises(ScheduleError) as error:
            schedule_sessions.create_session(data, users.coordinator)
        assert [c.kind for c in error.value.conflicts] == ["room"]
    else:
        schedule_sessions.create_session(data, users.coordinator)


def test_same_room_name_in_another_office_is_not_a_conflict(db, users, hosts, session_data, reference):
    schedule_sessions.create_session(session_data(), users.coordinator)
    schedule_sessions.create_session(session_data(office_id=reference.merke.id, host_ids=[hosts.dana.id]), users.coordinator)
    assert _count(db) == 2


def test_host_and_room_conflict_both_reported(db, users, hosts, session_data):
    schedule_sessions.create_session(session_data(), users.coordinator)
    with pytest.raises(ScheduleError) as error:
        schedule_sessions.create_session(session_data(start_time=T(11), end_time=T(13)), users.coordinator)
    assert sorted(c.kind for c in error.value.conflicts) == ["host", "room"]


def test_cancelled_session_frees_host_and_room(db, users, hosts, session_data):
    first = schedule_sessions.create_session(session_data(), users.coordinator)
    schedule_sessions.cancel_session(first, "Кандидат ауырып қалды", users.coordinator)
    schedule_sessions.create_session(session_data(), users.coordinator)
    assert _count(db) == 2


def test_update_excludes_the_session_itself_and_detects_conflicts(db, users, hosts, session_data):
    first = schedule_sessions.create_session(session_data(), users.coordinator)
    schedule_sessions.update_session(first, session_data(end_time=T(12, 30)), users.coordinator)
    assert first.end_time == T(12, 30)
    second = schedule_sessions.create_session(session_data(host_ids=[hosts.berik.id], room="", start_time=T(14), end_time=T(15)),
                                     users.coordinator)
    with pytest.raises(ScheduleError):
        schedule_sessions.update_session(second, session_data(host_ids=[hosts.berik.id, hosts.aliya.id], room="",
                                                     start_time=T(12), end_time=T(15)), users.coordinator)
    db.session.refresh(second)
    assert second.start_time == T(14) and [h.id for h in second.hosts] == [hosts.berik.id]


def test_approval_is_for_coordinators_only(db, users, hosts, session_data):
    session = schedule_sessions.create_session(session_data(), users.clerk)
    for actor in (users.clerk, users.admin, users.host, users.viewer):
        with pytest.raises(ScheduleError):
            schedule_sessions.approve_sessions([session.id], actor)
    assert schedule_sessions.approve_sessions([session.id], users.coordinator) == 1
    db.session.refresh(session)
    assert session.status == "approved" and session.approved_by_id == users.coordinator.id
    assert session.approved_at is not None


def test_bulk_approve_a_week_skips_already_approved(db, users, hosts, session_data, next_monday):
    ids = [schedule_sessions.create_session(session_data(date=next_monday + dt.timedelta(days=i)), users.clerk).id
           for i in range(5)]
    assert schedule_sessions.approve_sessions(ids[:2], users.coordinator) == 2
    assert schedule_sessions.approve_sessions(ids, users.coordinator) == 3
    statuses = db.session.scalars(sa.select(ReceptionSession.status)).all()
    assert statuses == ["approved"] * 5


def test_bulk_approve_is_all_or_nothing(db, users, hosts, session_data, next_monday):
    good = schedule_sessions.create_session(session_data(), users.clerk)
    cancelled = schedule_sessions.create_session(session_data(date=next_monday + dt.timedelta(days=1)), users.clerk)
    schedule_sessions.cancel_session(cancelled, "Қайталау", users.clerk)
    with pytest.raises(ScheduleError):
        schedule_sessions.approve_sessions([good.id, cancelled.id], users.coordinator)
    with pytest.raises(ScheduleError):
        schedule_sessions.approve_sessions([good.id, 987654], users.coordinator)
    db.session.refresh(good)
    assert good.status == "draft"


def test_approved_session_changes_only_by_coordinator_and_is_audited(db, users, hosts, session_data):
    session = schedule_sessions.create_session(session_data(), users.clerk)
    schedule_sessions.approve_sessions([session.id], users.coordinator)
    with pytest.raises(ScheduleError) as error:
        schedule_sessions.update_session(session, session_data(room="202"), users.clerk)
    assert "coordinator" in error.value.message
    db.session.refresh(session)
    assert session.room == "101"
    schedule_sessions.update_session(session, session_data(room="202", start_time=T(10, 30)), users.coordinator)
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "session_updated"))
    assert record.username == "coordinator"
    assert record.changes["room"] == ["101", "202"]
    assert record.changes["start_time"] == ["10:00:00", "10:30:00"]


def test_clerk_edits_own_office_drafts_only(db, users, hosts, session_data, reference):
    session = schedule_sessions.create_session(session_data(), users.clerk)
    with pytest.raises(ScheduleError):
        schedule_sessions.update_session(session, session_data(room="7"), users.other_clerk)
    schedule_sessions.update_session(session, session_data(room="7"), users.clerk)
    assert session.room == "7"


def test_recurrence_across_the_2021_new_year_holidays(db, users, hosts, reference, app_ctx):
    # Mondays and Thursdays from 28 Dec 2020 to 14 Jan 2021: 4 Jan (New Year, observed) and
    # 7 Jan (Orthodox Christmas) are public holidays in Kazakhstan and must be skipped.
    pattern = RecurrencePattern(office_id=reference.kordai.id, host_ids=[hosts.aliya.id], weekdays=[0, 3],
                                start_time=T(10), end_time=T(13), date_from=dt.date(2020, 12, 28),
                                date_to=dt.date(2021, 1, 14), room="101")
    sessions, skipped = schedule_recurrence.generate_sessions(pattern, users.coordinator)
    assert [s.date for s in sessions] == [dt.date(2020, 12, 28), dt.date(2020, 12, 31),
                                          dt.date(2021, 1, 11), dt.date(2021, 1, 14)]
    assert [day for day, _name in skipped] == [dt.date(2021, 1, 4), dt.date(2021, 1, 7)]
    assert all(s.status == "draft" and s.start_time == T(10) and s.end_time == T(13) for s in sessions)


def test_recurrence_on_fridays_skips_new_years_day(db, users, hosts, reference):
    pattern = {"office_id": reference.kordai.id, "host_ids": [hosts.aliya.id], "weekdays": [4, 5],
               "start_time": "10:00", "end_time": "12:00", "date_from": "2020-12-25", "date_to": "2021-01-09"}
    sessions, skipped = schedule_recurrence.generate_sessions(pattern, users.coordinator)
    # 1 and 2 January are both New Year's Day.
    assert [s.date.isoformat() for s in sessions] == ["2020-12-25", "2020-12-26", "2021-01-08", "2021-01-09"]
    assert {day.isoformat() for day, _ in skipped} == {"2021-01-01", "2021-01-02"}


def test_recurrence_without_holiday_skipping(db, users, hosts, reference):
    pattern = RecurrencePattern(reference.kordai.id, [hosts.aliya.id], [0], T(10), T(12),
                                dt.date(2021, 1, 4), dt.date(2021, 1, 4), skip_holidays=False)
    sessions, skipped = schedule_recurrence.generate_sessions(pattern, users.coordinator)
    assert [s.date for s in sessions] == [dt.date(2021, 1, 4)] and skipped == []


def test_recurrence_reports_every_collision_and_saves_nothing(db, users, hosts, session_data, reference, next_monday):
    schedule_sessions.create_session(session_data(date=next_monday), users.coordinator)
    schedule_sessions.create_session(session_data(date=next_monday + dt.timedelta(days=7), room="9"), users.coordinator)
    before = _count(db)
    pattern = RecurrencePattern(reference.kordai.id, [hosts.aliya.id], [0], T(11), T(13),
                                next_monday, next_monday + dt.timedelta(days=21), room="101")
    with pytest.raises(ScheduleError) as error:
        schedule_recurrence.generate_sessions(pattern, users.coordinator)
    kinds = sorted((c.session.date, c.kind) for c in error.value.conflicts)
    assert kinds == [(next_monday, "host"), (next_monday, "room"), (next_monday + dt.timedelta(days=7), "host")]
    assert _count(db) == before


@pytest.mark.parametrize("changes, field", [
    ({"weekdays": []}, "weekdays"),
    ({"weekdays": [9]}, "weekdays"),
    ({"date_to": dt.date(2020, 12, 1)}, "date_to"),
    ({"date_from": dt.date(1990, 1, 1)}, "date_from"),
    ({"start_time": T(13), "end_time": T(12)}, "end_time"),
])
def test_recurrence_bad_input(db, users, hosts, reference, changes, field):
    data = {"office_id": reference.kordai.id, "host_ids": [hosts.aliya.id], "weekdays": [1],
            "start_time": T(10), "end_time": T(12), "date_from": dt.date(2021, 1, 1), "date_to": dt.date(2021, 2, 1)}
    data.update(changes)
    with pytest.raises(ScheduleError) as error:
        schedule_recurrence.generate_sessions(data, users.coordinator)
    assert error.value.field == field
    assert _count(db) == 0


def test_recurrence_dry_run_saves_nothing(db, users, hosts, reference):
    pattern = RecurrencePattern(reference.kordai.id, [hosts.aliya.id], [1], T(10), T(12),
                                dt.date(2021, 1, 1), dt.date(2021, 1, 31))
    sessions, _skipped = schedule_recurrence.generate_sessions(pattern, users.coordinator, dry_run=True)
    assert sessions == [] and _count(db) == 0


def _approved_past(db, users, session_data, days_ago=1, **changes):
    from appeals.core.timeutil import local_today

    session = schedule_sessions.create_session(session_data(date=local_today() - dt.timedelta(days=days_ago), **changes),
                                      users.coordinator)
    schedule_sessions.approve_sessions([session.id], users.coordinator)
    return session


def test_mark_held_by_host_clerk_and_coordinator(db, users, hosts, session_data):
    session = _approved_past(db, users, session_data)
    schedule_sessions.mark_held(session, 7, users.host)  # the linked host of this session
    assert session.status == "held" and session.visitors_count == 7
    schedule_sessions.mark_held(session, 9, users.clerk)  # the clerk of the office corrects the count
    assert session.visitors_count == 9
    for actor in (users.other_clerk, users.viewer, users.admin):
        with pytest.raises(ScheduleError):
            schedule_sessions.mark_held(session, 1, actor)
    assert db.session.scalar(sa.select(sa.func.count(AuditRecord.id)).where(AuditRecord.action == "session_held")) == 2


def test_mark_held_rules(db, users, hosts, session_data, next_monday):
    draft = schedule_sessions.create_session(session_data(date=next_monday - dt.timedelta(days=14)), users.coordinator)
    with pytest.raises(ScheduleError):
        schedule_sessions.mark_held(draft, 3, users.coordinator)
    future = schedule_sessions.create_session(session_data(), users.coordinator)
    schedule_sessions.approve_sessions([future.id], users.coordinator)
    with pytest.raises(ScheduleError):
        schedule_sessions.mark_held(future, 3, users.coordinator)
    past = _approved_past(db, users, session_data, days_ago=2, room="3")
    for bad in (-1, "many", None, 10 ** 6):
        with pytest.raises(ScheduleError):
            schedule_sessions.mark_held(past, bad, users.coordinator)
    db.session.refresh(past)
    assert past.status == "approved" and past.visitors_count is None


def test_cancel_requires_reason_and_respects_roles(db, users, hosts, session_data):
    session = schedule_sessions.create_session(session_data(), users.clerk)
    schedule_sessions.approve_sessions([session.id], users.coordinator)
    with pytest.raises(ScheduleError) as error:
        schedule_sessions.cancel_session(session, "Ауыстырылды", users.clerk)
    assert "coordinator" in error.value.message
    with pytest.raises(ScheduleError) as error:
        schedule_sessions.cancel_session(session, "  ", users.coordinator)
    assert error.value.field == "reason"
    schedule_sessions.cancel_session(session, "Ғимаратта жөндеу жұмыстары", users.coordinator)
    assert session.status == "cancelled" and session.cancel_reason == "Ғимаратта жөндеу жұмыстары"
    with pytest.raises(ScheduleError):
        schedule_sessions.cancel_session(session, "Тағы да", users.coordinator)


def test_held_counts_per_office_and_period(db, users, hosts, session_data, reference):
    from appeals.core.timeutil import local_today

    today = local_today()
    for days_ago, office, host in [(1, reference.kordai, hosts.aliya), (2, reference.kordai, hosts.aliya),
                                   (3, reference.merke, hosts.dana), (40, reference.merke, hosts.dana)]:
        session = _approved_past(db, users, session_data, days_ago=days_ago, office_id=office.id, host_ids=[host.id])
        schedule_sessions.mark_held(session, days_ago, users.coordinator)
    _approved_past(db, users, session_data, days_ago=5)  # approved but not held: not counted
    start, end = today - dt.timedelta(days=30), today
    assert schedule_services.sessions_held_count(start, end) == 3
    assert schedule_services.sessions_held_count(start, end, office_ids=[reference.kordai.id]) == 2
    assert schedule_services.sessions_held_count(start, end, office_ids=[]) == 0
    rows = {row.office.code: (row.sessions, row.visitors) for row in schedule_services.sessions_held_by_office(start, end)}
    assert rows == {"ZHM": (0, 0), "KRD": (2, 3), "MRK": (1, 3)}


def test_list_sessions_hides_other_offices_drafts_from_clerks(db, users, hosts, session_data, reference, next_monday):
    own = schedule_sessions.create_session(session_data(), users.clerk)
    other = schedule_sessions.create_session(session_data(office_id=reference.merke.id, host_ids=[hosts.dana.id]), users.other_clerk)
    filters = {"date_from": next_monday, "date_to": next_monday}
    assert [s.id for s in schedule_queries.list_sessions(filters, users.clerk)] == [own.id]
    assert {s.id for s in schedule_queries.list_sessions(filters, users.coordinator)} == {own.id, other.id}
    assert [s.id for s in schedule_queries.list_sessions(filters, users.host)] == [own.id]  # the host's own draft
    assert schedule_queries.list_sessions(filters, None) == []
    schedule_sessions.approve_sessions([other.id], users.coordinator)
    assert {s.id for s in schedule_queries.list_sessions(filters, users.clerk)} == {own.id, other.id}


def test_hosts_link_only_host_accounts_once(db, users, hosts, reference):
    with pytest.raises(ScheduleError) as error:
        schedule_hosts.create_host({"full_name": "Біреу", "kind": "candidate", "user_id": users.clerk.id}, users.coordinator)
    assert error.value.field == "user_id"
    with pytest.raises(ScheduleError) as error:
        schedule_hosts.create_host({"full_name": "Екеуі", "kind": "candidate", "user_id": users.host.id}, users.coordinator)
    assert error.value.field == "user_id"
    with pytest.raises(ScheduleError):
        schedule_hosts.create_host({"full_name": "", "kind": "candidate"}, users.coordinator)
    with pytest.raises(ScheduleError):
        schedule_hosts.create_host({"full_name": "Clerk's host", "kind": "candidate"}, users.clerk)
    schedule_hosts.update_host(hosts.berik, {"full_name": "Бекұлы Берік Ержанұлы", "position": "Төраға", "kind": "office_member",
                                       "office_id": reference.kordai.id, "is_active": True}, users.coordinator)
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "host_updated"))
    assert record.changes["full_name"] == ["Бекұлы Берік", "Бекұлы Берік Ержанұлы"]


def test_feed_token_regenerate_and_revoke(db, users, hosts):
    _host, first = schedule_hosts.regenerate_feed_token(hosts.aliya, users.coordinator)
    assert len(first) >= 40
    # Stored as its digest, like API tokens: the database alone gives no feed address.
    assert hosts.aliya.feed_token == hash_token(first) and first not in hosts.aliya.feed_token
    assert schedule_hosts.host_by_feed_token(first).id == hosts.aliya.id
    assert schedule_hosts.host_by_feed_token(hosts.aliya.feed_token) is None
    schedule_hosts.regenerate_feed_token(hosts.aliya, users.host)  # the host renews their own link
    assert schedule_hosts.host_by_feed_token(first) is None
    schedule_hosts.revoke_feed_token(hosts.aliya, users.host)
    assert hosts.aliya.feed_token is None
    with pytest.raises(ScheduleError):
        schedule_hosts.regenerate_feed_token(hosts.berik, users.host)  # not their host
    with pytest.raises(ScheduleError):
        schedule_hosts.regenerate_feed_token(hosts.berik, users.clerk)
