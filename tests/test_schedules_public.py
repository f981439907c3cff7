"""The public schedule (/schedule, no login): filters by district, settlement, office, host and
date; grouped by day, a few days to a page (issue 14, item 17)."""
import datetime as dt
import re

import pytest

from appeals.schedules import queries
from appeals.schedules import sessions as schedule_sessions


@pytest.fixture
def public(app_ctx, users, hosts, session_data, reference):
    """Approved receptions: Kordai (Aliya) tomorrow and next Monday, Merke (Dana) next Tuesday, and
    Kordai 40 days ahead; a draft at Merke that must never show."""
    from appeals.core.timeutil import local_today

    today = local_today()
    monday = today + dt.timedelta(days=7 - today.weekday())
    made = {
        "tomorrow": session_data(date=today + dt.timedelta(days=1)),
        "monday": session_data(date=monday),
        "tuesday": session_data(date=monday + dt.timedelta(days=1), office_id=reference.merke.id, host_ids=[hosts.dana.id]),
        "later": session_data(date=today + dt.timedelta(days=40)),
    }
    made = {name: schedule_sessions.create_session(data, users.coordinator) for name, data in made.items()}
    schedule_sessions.approve_sessions([s.id for s in made.values()], users.coordinator)
    schedule_sessions.create_session(session_data(date=monday + dt.timedelta(days=2), office_id=reference.merke.id,
                                                  host_ids=[hosts.dana.id]), users.coordinator)
    return made


def _cards(client, query=""):
    body = client.get("/schedule" + query).get_data(as_text=True)
    days = re.findall(r'<h2 id="day-(\d{4}-\d{2}-\d{2})">', body)
    hosts = re.findall(r"<li><strong>([^<]+)</strong>", body)
    return body, days, hosts


def test_public_window_rules():
    wednesday = dt.date(2026, 11, 18)
    assert queries.public_window("this_week", None, None, wednesday) == (wednesday, dt.date(2026, 11, 22))
    assert queries.public_window("next_week", None, None, wednesday) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert queries.public_window("", None, None, wednesday) == (wednesday, wednesday + dt.timedelta(days=60))
    # A reversed range is turned round; the past and beyond the horizon are cut off.
    assert queries.public_window("range", dt.date(2026, 12, 5), dt.date(2026, 12, 1), wednesday) == (
        dt.date(2026, 12, 1), dt.date(2026, 12, 5))
    assert queries.public_window("range", dt.date(2026, 1, 1), dt.date(2027, 6, 1), wednesday) == (
        wednesday, wednesday + dt.timedelta(days=60))


def test_everything_upcoming_by_default_grouped_by_day(client, public):
    body, days, hosts = _cards(client)
    assert days == [public[name].date.isoformat() for name in ("tomorrow", "monday", "tuesday", "later")]
    assert hosts.count("Досова Дана") == 1  # the draft is not there
    assert 'class="session-card"' in body and "<table" not in body.split("<main", 1)[1]


def test_filter_by_district_and_by_settlement(client, public, reference):
    _, days, hosts = _cards(client, f"?district={reference.districts[1].id}")
    assert days == [public["tuesday"].date.isoformat()] and hosts == ["Досова Дана"]
    # A Kordai settlement: the receptions of its district's offices.
    _, days, hosts = _cards(client, f"?settlement={reference.settlements[1].id}")
    assert public["tuesday"].date.isoformat() not in days and set(hosts) == {"Әлімова Әлия Серікқызы"}
    assert len(days) == 3


def test_filter_by_host_and_office(client, public, hosts, reference):
    _, days, found = _cards(client, f"?host={hosts.dana.id}")
    assert found == ["Досова Дана"]
    _, days, found = _cards(client, f"?office={reference.kordai.id}")
    assert set(found) == {"Әлімова Әлия Серікқызы"} and len(days) == 3


def test_filter_by_this_week_next_week_and_dates(client, public):
    _, days, _ = _cards(client, "?period=this_week")
    assert days == [public["tomorrow"].date.isoformat()]
    _, days, _ = _cards(client, "?period=next_week")
    assert days == [public["monday"].date.isoformat(), public["tuesday"].date.isoformat()]
    later = public["later"].date
    _, days, _ = _cards(client, f"?period=range&from={later.isoformat()}&to={later.isoformat()}")
    assert days == [later.isoformat()]
    # Dates without a period mean the range; a malformed date is ignored, not an error.
    _, days, _ = _cards(client, f"?from={later.isoformat()}")
    assert days == [later.isoformat()]
    assert client.get("/schedule?from=31.02.2026&period=nonsense").status_code == 200


def test_nothing_matches_says_so(client, public, reference, hosts):
    body, days, _ = _cards(client, f"?district={reference.districts[1].id}&host={hosts.aliya.id}")
    assert days == [] and "No receptions match the filters" in client.get(
        f"/schedule?lang=en&district={reference.districts[1].id}&host={hosts.aliya.id}").get_data(as_text=True)


def test_pages_of_days(client, users, hosts, session_data, app_ctx):
    from appeals.core.timeutil import local_today

    today = local_today()
    made = [schedule_sessions.create_session(session_data(date=today + dt.timedelta(days=d), start_time=dt.time(9),
                                                          end_time=dt.time(10)), users.clerk) for d in range(1, 8)]
    schedule_sessions.approve_sessions([s.id for s in made], users.coordinator)
    body, days, _ = _cards(client)
    assert len(days) == queries.PUBLIC_DAYS_PER_PAGE
    assert 'rel="next"' in body and 'rel="prev"' not in body
    body, second, _ = _cards(client, "?page=2")
    assert len(second) == 7 - queries.PUBLIC_DAYS_PER_PAGE and not set(second) & set(days)
    assert 'rel="prev"' in body and 'rel="next"' not in body


def test_filters_fold_on_a_phone_but_open_when_used(client, public, reference):
    body = client.get("/schedule").get_data(as_text=True)
    assert re.search(r"<details class=\"filters-fold\" data-filters>", body)
    body = client.get(f"/schedule?district={reference.districts[0].id}").get_data(as_text=True)
    assert re.search(r"<details class=\"filters-fold\" data-filters open>", body)
    assert "schedules/_public_session_actions" not in body  # the booking slot is a template, not text
