"""Server-side session records and idle timeouts (issue 13, finding 4)."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from appeals.auth import sessions
from appeals.auth.models import UserSession
from tests.conftest import PASSWORD


@pytest.fixture
def clock(monkeypatch):
    from appeals.core.timeutil import utcnow

    class Clock:
        now = utcnow()

        def advance(self, **kwargs):
            self.now += timedelta(**kwargs)

    fake = Clock()
    monkeypatch.setattr(sessions, "_now", lambda: fake.now)
    return fake


def _copy_of(app, client):
    """Another browser, anywhere, holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_copied_cookie_stops_working_at_logout(app, users, login, client):
    login(users.clerk)
    thief = _copy_of(app, client)
    assert thief.get("/").status_code == 200
    client.post("/logout")
    assert thief.get("/").status_code == 302
    assert client.get("/").status_code == 302


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, users, login, client, db):
    login(users.clerk)
    elsewhere = login(users.clerk, test_client=app.test_client())
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "password": "a-new-long-passphrase", "confirm": "a-new-long-passphrase"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    live = db.session.scalars(sa.select(UserSession).where(UserSession.revoked_at.is_(None))).all()
    assert len(live) == 1


def test_deactivation_revokes_the_session_records(app_ctx, users, login, client, db):
    from appeals.auth import services

    login(users.host)
    services.update_user(users.host, role="host", office_codes=[], full_name="", email="", locale=None, is_active=False)
    services.update_user(users.host, role="host", office_codes=[], full_name="", email="", locale=None, is_active=True)
    assert client.get("/").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(UserSession.id)).where(UserSession.revoked_at.is_(None))) == 0


def test_roles_that_see_personal_data_are_signed_out_after_the_idle_timeout(app, users, login, client, clock):
    idle = app.config["SESSION_IDLE_MINUTES"]
    assert idle == 30
    login(users.clerk)
    clock.advance(minutes=idle - 10)
    assert client.get("/").status_code == 200  # activity moves the deadline
    clock.advance(minutes=idle - 1)
    assert client.get("/").status_code == 200
    clock.advance(minutes=idle + 1)
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_other_roles_have_the_longer_idle_timeout(app, users, login, client, clock):
    login(users.viewer)
    clock.advance(minutes=app.config["SESSION_IDLE_MINUTES"] + 5)
    assert client.get("/").status_code == 200
    clock.advance(minutes=app.config["SESSION_IDLE_MINUTES_OTHER"] + 1)
    assert client.get("/").status_code == 302


def test_no_session_outlives_the_absolute_lifetime(app, users, login, client, clock):
    login(users.viewer)
    for _ in range(9):
        clock.advance(hours=1)
        client.get("/")
    assert client.get("/").status_code == 302


def test_a_cookie_without_a_record_is_refused(app, users, login, client, db):
    login(users.viewer)
    db.session.execute(sa.delete(UserSession))
    db.session.commit()
    assert client.get("/").status_code == 302


def test_purge_expired_sessions_deletes_only_dead_records(app, app_ctx, users, login, db, clock):
    login(users.viewer, test_client=app.test_client())
    old = login(users.clerk, test_client=app.test_client())
    old.post("/logout")
    login(users.coordinator, test_client=app.test_client())
    clock.advance(minutes=app.config["SESSION_IDLE_MINUTES_OTHER"] + 1)
    fresh = login(users.host, test_client=app.test_client())
    assert sessions.purge_expired_sessions(clock.now) == 3
    remaining = db.session.scalars(sa.select(UserSession)).all()
    assert [record.user_id for record in remaining] == [users.host.id]
    assert fresh.get("/").status_code == 200
