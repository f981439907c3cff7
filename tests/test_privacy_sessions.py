"""Finding 20 (issue 13): viewers do not see draft sessions, through any door.

The rule lives in permissions.scope_sessions; the API documentation says the same.
"""
import datetime as dt

import pytest


@pytest.fixture
def drafts(session_data, users, reference, hosts, next_monday):
    from appeals.schedules import sessions as schedule_sessions

    kordai_draft = schedule_sessions.create_session(session_data(topic="Kordai draft topic"), users.clerk)
    merke_draft = schedule_sessions.create_session(
        session_data(office_id=reference.merke.id, host_ids=[hosts.dana.id], topic="Merke draft topic",
                     start_time=dt.time(14, 0), end_time=dt.time(15, 0)), users.other_clerk)
    approved = schedule_sessions.create_session(session_data(topic="Approved topic", date=next_monday + dt.timedelta(days=1)),
                                       users.coordinator)
    schedule_sessions.approve_sessions([approved.id], users.coordinator)
    assert (kordai_draft.status, merke_draft.status) == ("draft", "draft")
    return kordai_draft, merke_draft, approved


def _calendar(client, next_monday):
    return client.get(f"/schedule/calendar?view=list&from={next_monday:%Y-%m-%d}"
                      f"&to={next_monday + dt.timedelta(days=7):%Y-%m-%d}").get_data(as_text=True)


def test_viewer_sees_no_draft_on_pages_or_api(drafts, users, login, client, api_as, next_monday):
    kordai_draft, merke_draft, approved = drafts
    login(users.viewer)
    page = _calendar(client, next_monday)
    assert "Approved topic" in page
    assert "Kordai draft topic" not in page and "Merke draft topic" not in page
    assert client.get(f"/schedule/sessions/{merke_draft.id}").status_code == 404
    assert client.get(f"/schedule/sessions/{approved.id}").status_code == 200

    api = api_as(users.viewer)
    listed = api.get(f"/sessions?date_from={next_monday:%Y-%m-%d}&size=100").get_json()["items"]
    assert [item["id"] for item in listed] == [approved.id]
    assert api.get(f"/sessions/{kordai_draft.id}").status_code == 404
    assert api.get("/sessions?status=draft").get_json()["items"] == []


def test_who_still_sees_drafts(drafts, users, app_ctx, next_monday):
    from appeals.schedules import queries as schedule_queries

    kordai_draft, merke_draft, approved = drafts
    filters = schedule_queries.SessionFilters(date_from=next_monday)
    seen = {role: {s.id for s in schedule_queries.list_sessions(filters, user)}
            for role, user in (("coordinator", users.coordinator), ("admin", users.admin), ("clerk", users.clerk),
                               ("viewer", users.viewer), ("host", users.host))}
    assert seen["coordinator"] == seen["admin"] == {kordai_draft.id, merke_draft.id, approved.id}
    # A clerk sees their own office's draft, a host the draft they receive at (aliya is the host user's).
    assert seen["clerk"] == seen["host"] == {kordai_draft.id, approved.id}
    assert seen["viewer"] == {approved.id}
    assert schedule_queries.list_sessions(filters, None) == [approved]
