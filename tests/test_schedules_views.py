"""Schedule pages: permissions per role (direct URLs too), forms with errors, public page, iCalendar feed."""
import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa

from appeals.core.timeutil import local_today
from appeals.schedules import hosts as schedule_hosts
from appeals.schedules import queries as schedule_queries
from appeals.schedules import sessions as schedule_sessions
from appeals.schedules.models import ReceptionSession


def _form(data):
    """A session dict as the HTML form posts it."""
    return {
        "office_id": str(data["office_id"]), "host_ids": [str(i) for i in data["host_ids"]],
        "date": data["date"].isoformat(), "start_time": data["start_time"].strftime("%H:%M"),
        "end_time": data["end_time"].strftime("%H:%M"), "room": data["room"], "capacity": str(data["capacity"]),
        "topic": data["topic"],
    }


@pytest.fixture
def approved(users, hosts, session_data):
    session = schedule_sessions.create_session(session_data(), users.clerk)
    schedule_sessions.approve_sessions([session.id], users.coordinator)
    return session


# --- access ------------------------------------------------------------------------------------


def test_internal_pages_require_login(client, users, hosts, approved):
    for url in ["/schedule/calendar", "/schedule/my", "/schedule/sessions/new", f"/schedule/sessions/{approved.id}",
                f"/schedule/sessions/{approved.id}/edit", "/schedule/generate", "/schedule/hosts", "/schedule/hosts/new"]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    assert client.post("/schedule/approve", data={"ids": [approved.id]}).status_code == 302
    assert db_status(approved) == "approved"


def db_status(session):
    from appeals.core.extensions import db

    return db.session.scalar(sa.select(ReceptionSession.status).where(ReceptionSession.id == session.id))


@pytest.mark.parametrize("role, allowed", [
    ("coordinator", {"calendar", "detail", "new", "generate", "hosts", "edit"}),
    ("clerk", {"calendar", "detail", "new", "generate", "edit"}),   # edit opens, but shows the lock
    ("other_clerk", {"calendar", "detail", "new", "generate"}),
    ("host", {"calendar", "detail", "my"}),
    ("viewer", {"calendar", "detail"}),
    ("admin", {"calendar", "detail", "new", "generate", "hosts"}),
])
def test_pages_per_role(client, login, users, hosts, approved, role, allowed):
    login(getattr(users, role))
    urls = {
        "calendar": "/schedule/calendar", "detail": f"/schedule/sessions/{approved.id}", "my": "/schedule/my",
        "new": "/schedule/sessions/new", "generate": "/schedule/generate", "hosts": "/schedule/hosts",
        "edit": f"/schedule/sessions/{approved.id}/edit",
    }
    for name, url in urls.items():
        expected = 200 if name in allowed else 403
        assert client.get(url).status_code == expected, (role, url)


def test_approve_by_post_only_for_coordinator(client, login, users, hosts, session_data):
    session = schedule_sessions.create_session(session_data(), users.clerk)
    for role in ("clerk", "host", "viewer", "admin"):
        login(getattr(users, role))
        assert client.post("/schedule/approve", data={"ids": [session.id]}).status_code == 403, role
        client.post("/logout")
    assert db_status(session) == "draft"
    login(users.coordinator)
    response = client.post("/schedule/approve", data={"ids": [session.id], "next": "/schedule/calendar?view=list"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/schedule/calendar?view=list")
    assert db_status(session) == "approved"


def test_approve_refuses_foreign_redirect(client, login, users, hosts, session_data):
    session = schedule_sessions.create_session(session_data(), users.clerk)
    login(users.coordinator)
    response = client.post("/schedule/approve", data={"ids": [session.id], "next": "//evil.example/x"})
    assert "evil.example" not in response.headers["Location"]


def test_drafts_of_other_offices_are_not_found_for_clerks(client, login, users, hosts, session_data, reference):
    other = schedule_sessions.create_session(session_data(office_id=reference.merke.id, host_ids=[hosts.dana.id]), users.other_clerk)
    login(users.clerk)
    assert client.get(f"/schedule/sessions/{other.id}").status_code == 404
    assert client.get(f"/schedule/sessions/{other.id}/edit").status_code == 404
    assert client.post(f"/schedule/sessions/{other.id}/cancel", data={"reason": "x"}).status_code == 404


# --- forms ---------------------------------------------------------------------------------------


def test_new_session_form_saves_a_draft(client, login, users, hosts, session_data, app_ctx):
    login(users.clerk)
    response = client.post("/schedule/sessions/new", data=_form(session_data()))
    assert response.status_code == 302
    session = app_ctx.extensions["sqlalchemy"].session.scalar(sa.select(ReceptionSession))
    assert session.status == "draft" and session.created_by_id == users.clerk.id


def test_form_shows_conflicts_and_saves_nothing(client, login, users, hosts, session_data):
    existing = schedule_sessions.create_session(session_data(), users.coordinator)
    login(users.clerk)
    data = _form(session_data(start_time=dt.time(11), end_time=dt.time(13)))
    response = client.post("/schedule/sessions/new?lang=en", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Conflicts with existing sessions" in body
    assert "already has a session" in body and "is already booked" in body
    assert f"/schedule/sessions/{existing.id}" in body
    assert schedule_queries.list_sessions({}, users.coordinator) == [existing]


@pytest.mark.parametrize("changes, message", [
    ({"start_time": "12:00", "end_time": "10:00"}, "The end time must be later than the start time."),
    ({"date": "1990-01-01"}, "The date must be between"),
    ({"office_id": "99999"}, "not a valid choice"),
    ({"host_ids": ["99999"]}, "not a valid choice"),
])
def test_form_bad_input(client, login, users, hosts, session_data, changes, message):
    login(users.coordinator)
    data = {**_form(session_data()), **changes}
    response = client.post("/schedule/sessions/new?lang=en", data=data)
    assert response.status_code == 200
    assert message.lower() in response.get_data(as_text=True).lower()
    assert schedule_queries.list_sessions({}, users.coordinator) == []


def test_clerk_editing_an_approved_session_gets_a_clear_error(client, login, users, hosts, approved, session_data):
    login(users.clerk)
    page = client.get(f"/schedule/sessions/{approved.id}/edit?lang=en").get_data(as_text=True)
    assert "Only a coordinator can change an approved session." in page
    response = client.post(f"/schedule/sessions/{approved.id}/edit?lang=en", data=_form(session_data(room="999")))
    assert response.status_code == 200
    assert "Only a coordinator can change an approved session." in response.get_data(as_text=True)
    assert schedule_queries.list_sessions({}, users.coordinator)[0].room == "101"


def test_other_office_clerk_cannot_open_edit_of_approved_session(client, login, users, hosts, approved):
    login(users.other_clerk)
    assert client.get(f"/schedule/sessions/{approved.id}/edit").status_code == 403


def test_coordinator_edits_approved_session(client, login, users, hosts, approved, session_data):
    login(users.coordinator)
    response = client.post(f"/schedule/sessions/{approved.id}/edit", data=_form(session_data(room="202")))
    assert response.status_code == 302
    assert schedule_queries.list_sessions({}, users.coordinator)[0].room == "202"


def test_generate_form_previews_then_creates_drafts(client, login, users, hosts, reference):
    login(users.clerk)
    data = {"office_id": str(reference.kordai.id), "host_ids": [str(hosts.aliya.id)], "weekdays": ["0", "3"],
            "date_from": "2020-12-28", "date_to": "2021-01-14", "start_time": "10:00", "end_time": "13:00",
            "room": "101", "capacity": "", "topic": "", "skip_holidays": "y"}
    preview = client.post("/schedule/generate?lang=en", data={**data, "preview": "1"})
    body = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Sessions to create: 4" in body
    assert schedule_queries.list_sessions({}, users.coordinator) == []
    created = client.post("/schedule/generate", data=data)
    assert created.status_code == 302
    assert [s.date for s in schedule_queries.list_sessions({}, users.coordinator)] == [
        dt.date(2020, 12, 28), dt.date(2020, 12, 31), dt.date(2021, 1, 11), dt.date(2021, 1, 14)]


def test_generate_shows_collisions(client, login, users, hosts, reference, session_data):
    schedule_sessions.create_session(session_data(date=dt.date(2021, 1, 11)), users.coordinator)
    login(users.coordinator)
    data = {"office_id": str(reference.kordai.id), "host_ids": [str(hosts.aliya.id)], "weekdays": ["0"],
            "date_from": "2021-01-01", "date_to": "2021-01-31", "start_time": "11:00", "end_time": "12:00",
            "room": "", "skip_holidays": "y"}
    response = client.post("/schedule/generate?lang=en", data=data)
    assert response.status_code == 200
    assert "11.01.2021" in response.get_data(as_text=True)
    assert len(schedule_queries.list_sessions({}, users.coordinator)) == 1


def test_mark_held_and_cancel_through_pages(client, login, users, hosts, session_data):
    past = schedule_sessions.create_session(session_data(date=local_today() - dt.timedelta(days=1)), users.clerk)
    schedule_sessions.approve_sessions([past.id], users.coordinator)
    login(users.host)
    assert client.post(f"/schedule/sessions/{past.id}/held", data={"visitors": "11", "next": "my"}).status_code == 302
    assert db_status(past) == "held"
    client.post("/logout")
    login(users.other_clerk)
    assert client.post(f"/schedule/sessions/{past.id}/held", data={"visitors": "1"}).status_code == 403
    client.post("/logout")
    draft = schedule_sessions.create_session(session_data(), users.clerk)
    login(users.clerk)
    response = client.post(f"/schedule/sessions/{draft.id}/cancel", data={"reason": "Зал бос емес"})
    assert response.status_code == 302 and db_status(draft) == "cancelled"


def test_calendar_views_show_sessions_and_filters(client, login, users, hosts, approved, next_monday, reference):
    login(users.viewer)
    for view in ("week", "month", "list"):
        response = client.get(f"/schedule/calendar?view={view}&date={next_monday.isoformat()}&from={next_monday.isoformat()}")
        assert response.status_code == 200
        assert f"/schedule/sessions/{approved.id}" in response.get_data(as_text=True), view
    other_office = client.get(f"/schedule/calendar?view=list&office={reference.merke.id}&from={next_monday.isoformat()}")
    assert f"/schedule/sessions/{approved.id}" not in other_office.get_data(as_text=True)
    # Bad arguments fall back to defaults instead of failing.
    assert client.get("/schedule/calendar?view=year&date=yesterday&office=x").status_code == 200


def test_my_schedule_lists_upcoming_first_and_highlights_today(client, login, users, hosts, session_data):
    today = local_today()
    for offset, room in [(3, "1"), (0, "2"), (-2, "3")]:
        session = schedule_sessions.create_session(session_data(date=today + dt.timedelta(days=offset), room=room), users.clerk)
        schedule_sessions.approve_sessions([session.id], users.coordinator)
    login(users.host)
    body = client.get("/schedule/my?lang=en").get_data(as_text=True)
    upcoming = body[body.index("Upcoming sessions"):body.index("Recent sessions")]
    assert upcoming.index(today.strftime("%d.%m.%Y")) < upcoming.index((today + dt.timedelta(days=3)).strftime("%d.%m.%Y"))
    assert "my-session is-today" in upcoming and 'name="visitors"' in upcoming
    assert (today - dt.timedelta(days=2)).strftime("%d.%m.%Y") in body[body.index("Recent sessions"):]


def test_home_page_blocks(client, login, users, hosts, session_data):
    session = schedule_sessions.create_session(session_data(date=local_today()), users.clerk)
    schedule_sessions.approve_sessions([session.id], users.coordinator)
    login(users.host)
    assert "my-session is-today" in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(users.clerk)
    assert "Әлімова Әлия" in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(users.other_clerk)
    assert "Әлімова Әлия" not in client.get("/").get_data(as_text=True)


# --- public page ---------------------------------------------------------------------------------


def test_public_page_shows_only_approved_future_sessions(client, users, hosts, session_data, reference):
    today = local_today()
    approved = schedule_sessions.create_session(session_data(topic="internal note"), users.clerk)
    schedule_sessions.create_session(session_data(host_ids=[hosts.berik.id], room="2", start_time=dt.time(14),  # a draft
                                     end_time=dt.time(15)), users.clerk)
    cancelled = schedule_sessions.create_session(session_data(office_id=reference.merke.id, host_ids=[hosts.dana.id]), users.coordinator)
    past = schedule_sessions.create_session(session_data(date=today - dt.timedelta(days=3), room="9"), users.clerk)
    schedule_sessions.approve_sessions([approved.id, cancelled.id, past.id], users.coordinator)
    schedule_sessions.cancel_session(cancelled, "Жөндеу", users.coordinator)
    for lang, word in [("kk", "Қордай филиалы"), ("ru", "Кордайский филиал"), ("en", "Кордайский филиал")]:
        response = client.get(f"/schedule?lang={lang}")
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        assert word in body
        assert "Әлімова Әлия" in body and "Облыстық мәслихат депутаттығына кандидат" in body
        assert "10:00–12:00" in body and "Қордай, Жібек жолы 1" in body
        assert "Бекұлы Берік" not in body     # draft
        assert "Досова Дана" not in body      # cancelled
        assert "internal note" not in body
    assert (today - dt.timedelta(days=3)).strftime("%d.%m.%Y") not in client.get("/schedule").get_data(as_text=True)


def test_public_page_office_filter(client, users, hosts, session_data, reference):
    session = schedule_sessions.create_session(session_data(), users.clerk)
    schedule_sessions.approve_sessions([session.id], users.coordinator)
    # The host filter lists her either way; the cards are what the office narrows.
    assert "<strong>Әлімова Әлия" not in client.get(f"/schedule?office={reference.merke.id}").get_data(as_text=True)
    assert "<strong>Әлімова Әлия" in client.get(f"/schedule?office={reference.kordai.id}").get_data(as_text=True)


# --- iCalendar feed ----------------------------------------------------------------------------


def test_feed_parses_with_right_times_and_timezone(client, users, hosts, session_data, approved):
    draft = schedule_sessions.create_session(session_data(room="5", start_time=dt.time(15), end_time=dt.time(16, 30)), users.clerk)
    _host, secret = schedule_hosts.regenerate_feed_token(hosts.aliya, users.coordinator)
    response = client.get(f"/schedule/feed/{secret}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.data)
    assert calendar["VERSION"] == "2.0" and calendar["X-WR-TIMEZONE"] == "Asia/Almaty"
    timezones = [c for c in calendar.walk("VTIMEZONE")]
    assert [str(tz["TZID"]) for tz in timezones] == ["Asia/Almaty"]
    events = calendar.walk("VEVENT")
    assert len(events) == 1  # the draft is not in the feed
    event = events[0]
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start.tzinfo is not None and end.tzinfo is not None
    almaty = ZoneInfo("Asia/Almaty")
    assert start == dt.datetime.combine(approved.date, dt.time(10), tzinfo=almaty)
    assert end == dt.datetime.combine(approved.date, dt.time(12), tzinfo=almaty)
    assert event["DTSTART"].params["TZID"] == "Asia/Almaty"
    assert str(event["UID"]).startswith(f"session-{approved.id}@")
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "Жібек жолы" in str(event["LOCATION"]) and "101" in str(event["LOCATION"])
    assert draft.id != approved.id


def test_feed_marks_cancelled_sessions(client, users, hosts, approved):
    schedule_sessions.cancel_session(approved, "Ауыстырылды", users.coordinator)
    _host, secret = schedule_hosts.regenerate_feed_token(hosts.aliya, users.coordinator)
    calendar = icalendar.Calendar.from_ical(client.get(f"/schedule/feed/{secret}.ics").data)
    assert [str(e["STATUS"]) for e in calendar.walk("VEVENT")] == ["CANCELLED"]


def test_wrong_or_revoked_feed_token_is_404(client, users, hosts, approved):
    _host, token = schedule_hosts.regenerate_feed_token(hosts.aliya, users.coordinator)
    assert client.get("/schedule/feed/not-a-token.ics").status_code == 404
    # The stored digest is not a feed address.
    assert client.get(f"/schedule/feed/{hosts.aliya.feed_token}.ics").status_code == 404
    assert client.get(f"/schedule/feed/{token[:-1]}.ics").status_code == 404
    assert client.get(f"/schedule/feed/{token}.ics").status_code == 200
    schedule_hosts.revoke_feed_token(hosts.aliya, users.coordinator)
    assert client.get(f"/schedule/feed/{token}.ics").status_code == 404


def test_feed_token_pages(client, login, users, hosts):
    login(users.host)
    response = client.post(f"/schedule/hosts/{hosts.aliya.id}/feed", data={"action": "regenerate"})
    assert response.status_code == 302
    page = client.get("/schedule/my").get_data(as_text=True)
    assert "/schedule/feed/" in page
    assert client.post(f"/schedule/hosts/{hosts.berik.id}/feed", data={"action": "regenerate"}).status_code == 403
    client.post(f"/schedule/hosts/{hosts.aliya.id}/feed", data={"action": "revoke"})
    assert "/schedule/feed/" not in client.get("/schedule/my").get_data(as_text=True)


# --- hosts ---------------------------------------------------------------------------------------


def test_coordinator_creates_and_links_host(client, login, users, hosts, reference, make_user, app_ctx):
    new_account = make_user("host.two", "host")
    login(users.coordinator)
    form = client.get("/schedule/hosts/new").get_data(as_text=True)
    assert "host.two" in form and f'value="{users.host.id}"' not in form  # already linked accounts are not offered
    response = client.post("/schedule/hosts/new", data={
        "full_name": "Серікова Сәуле", "position": "Кандидат", "kind": "candidate",
        "office_id": str(reference.merke.id), "user_id": str(new_account.id), "is_active": "y"})
    assert response.status_code == 302
    host = [h for h in schedule_hosts.list_hosts() if h.full_name == "Серікова Сәуле"][0]
    assert host.user_id == new_account.id and host.office_id == reference.merke.id
    listing = client.get("/schedule/hosts").get_data(as_text=True)
    assert "Серікова Сәуле" in listing and "host.two" in listing


def test_host_form_errors(client, login, users, hosts):
    login(users.coordinator)
    response = client.post("/schedule/hosts/new?lang=en", data={"full_name": "", "kind": "candidate"})
    assert response.status_code == 200
    assert "This field is required" in response.get_data(as_text=True)
