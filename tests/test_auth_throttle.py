"""Login throttling (issue 13, finding 1): guessing is slowed, users who know their password get in.

Scheme in appeals/auth/throttle.py and the README's "Login throttling".
"""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from appeals.auth import throttle
from appeals.core.audit import AuditRecord
from tests.conftest import PASSWORD

WRONG = "wrong-password-x"


def _post(client, username, password, address="198.51.100.7"):
    return client.post("/login?lang=en", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, moved by the test (delays are seconds to minutes)."""
    from appeals.core.timeutil import utcnow

    class Clock:
        now = utcnow()

        def advance(self, seconds):
            self.now += timedelta(seconds=seconds)

    fake = Clock()
    monkeypatch.setattr(throttle, "_now", lambda: fake.now)
    return fake


def test_anonymous_failures_from_the_users_own_address_do_not_keep_a_known_browser_out(app, users, clock):
    """Behind one NAT or proxy address: an attacker's failures must not lock out a colleague."""
    colleague = app.test_client()
    assert _post(colleague, "clerk", PASSWORD).status_code == 302  # logged in here before
    colleague.post("/logout")
    attacker = app.test_client()
    for attempt in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] * 3):
        _post(attacker, f"someone{attempt}", WRONG)
        _post(attacker, "clerk", WRONG)
    assert _post(colleague, "clerk", PASSWORD).status_code == 302


def test_per_address_failures_grow_a_delay_instead_of_a_lock(app, users, clock):
    client = app.test_client()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    for attempt in range(limit):
        assert _post(client, f"someone{attempt}", WRONG).status_code == 200
    refused = _post(client, "viewer", PASSWORD)
    assert refused.status_code == 429
    assert "Try again in 1 s." in refused.get_data(as_text=True)
    clock.advance(1)
    assert _post(client, "nobody", WRONG).status_code == 200  # one more failure: 1 s -> 2 s
    clock.advance(1)
    assert "Try again in 1 s." in _post(client, "viewer", PASSWORD).get_data(as_text=True)
    clock.advance(1)
    # Waiting out the delay is enough: a correct password is never refused for good.
    assert _post(client, "viewer", PASSWORD).status_code == 302


def test_the_delay_never_exceeds_its_cap(app, users, clock):
    client = app.test_client()
    for attempt in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] + 12):
        _post(client, f"someone{attempt}", WRONG)
        clock.advance(app.config["LOGIN_MAX_DELAY_SECONDS"])
    assert _post(client, "viewer", PASSWORD).status_code == 302


def test_a_success_resets_the_address_counter(app, users, clock):
    client = app.test_client()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    for attempt in range(limit - 1):
        _post(client, f"someone{attempt}", WRONG)
    assert _post(client, "viewer", PASSWORD).status_code == 302
    client.post("/logout")
    fresh = app.test_client()  # no device cookie: only the address counts
    for attempt in range(limit - 1):
        _post(fresh, f"other{attempt}", WRONG)
    assert _post(fresh, "host", PASSWORD).status_code == 302


def test_other_addresses_are_not_slowed(app, users, clock):
    attacker = app.test_client()
    for attempt in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] + 3):
        _post(attacker, f"someone{attempt}", WRONG, address="203.0.113.9")
    assert _post(app.test_client(), "viewer", PASSWORD, address="198.51.100.20").status_code == 302


def test_account_lock_refuses_new_browsers_but_not_the_users_own(app, users, clock):
    own_browser = app.test_client()
    assert _post(own_browser, "clerk", PASSWORD, address="198.51.100.30").status_code == 302
    own_browser.post("/logout")
    for attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        # From many addresses, so only the account counter reaches its limit.
        _post(app.test_client(), "clerk", WRONG, address=f"203.0.113.{attempt + 1}")
    stranger = _post(app.test_client(), "clerk", PASSWORD, address="198.51.100.31")
    assert stranger.status_code == 429
    assert "Try again in 15 min." in stranger.get_data(as_text=True)
    assert _post(own_browser, "clerk", PASSWORD, address="198.51.100.30").status_code == 302
    clock.advance(app.config["LOGIN_LOCK_SECONDS"] + 1)
    assert _post(app.test_client(), "clerk", PASSWORD, address="198.51.100.32").status_code == 302


def test_a_device_cookie_of_another_account_or_forged_gives_no_exemption(app, users, clock):
    browser = app.test_client()
    assert _post(browser, "viewer", PASSWORD).status_code == 302
    browser.post("/logout")
    for attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        _post(app.test_client(), "clerk", WRONG, address=f"203.0.113.{attempt + 1}")
    assert _post(browser, "clerk", PASSWORD, address="198.51.100.40").status_code == 429
    forged = app.test_client()
    forged.set_cookie(throttle.DEVICE_COOKIE, "eyJ1IjoiY2xlcmsiLCJuIjoieCJ9.forged.sig", path="/login")
    assert _post(forged, "clerk", PASSWORD, address="198.51.100.41").status_code == 429


def test_a_device_cookie_loses_its_trust_after_its_own_failures(app, users, clock):
    browser = app.test_client()
    assert _post(browser, "clerk", PASSWORD).status_code == 302
    browser.post("/logout")
    # A stolen cookie buys its own few guesses, then the browser is an unknown one like any other.
    for attempt in range(app.config["LOGIN_MAX_FAILURES"] * 2):
        _post(browser, "clerk", WRONG, address=f"203.0.113.{attempt + 1}")
    assert _post(browser, "clerk", PASSWORD, address="198.51.100.50").status_code == 429


def test_purge_expired_throttles_keeps_live_counters(app, users, clock, app_ctx):
    from appeals.auth.models import LoginThrottle
    from appeals.core.extensions import db

    _post(app.test_client(), "nobody", WRONG)
    clock.advance(app.config["LOGIN_LOCK_SECONDS"] + 1)
    _post(app.test_client(), "someone", WRONG, address="203.0.113.77")
    assert throttle.purge_expired_throttles(clock.now) == 2  # nobody's user and address rows
    keys = set(db.session.scalars(sa.select(LoginThrottle.key)))
    assert keys == {"user:someone", "addr:203.0.113.77"}


@pytest.fixture
def proxied_app(database_url, tmp_path):
    from appeals import create_app
    from config import TestConfig
    from tests.conftest import IsolatedClient

    application = create_app({
        **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
        "SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path), "TRUSTED_PROXY_HOPS": 1,
    })
    application.test_client_class = IsolatedClient
    yield application
    with application.app_context():
        from appeals.core.extensions import db

        db.engine.dispose()


def _forwarded(client, username, password, client_address):
    return client.post("/login?lang=en", data={"username": username, "password": password},
                       headers={"X-Forwarded-For": client_address, "X-Forwarded-Proto": "https"},
                       environ_base={"REMOTE_ADDR": "127.0.0.1"})


def test_behind_a_trusted_proxy_the_audit_trail_and_throttle_see_the_client(proxied_app, users, app_ctx):
    from appeals.core.extensions import db

    client = proxied_app.test_client()
    assert _forwarded(client, "viewer", PASSWORD, "203.0.113.5").status_code == 302
    login = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "login")).one()
    assert login.ip_address == "203.0.113.5"
    for attempt in range(proxied_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] + 1):
        _forwarded(proxied_app.test_client(), f"someone{attempt}", WRONG, "203.0.113.66")
    # The proxy's own address (every user's, before ProxyFix) is not the one slowed down.
    assert _forwarded(proxied_app.test_client(), "host", PASSWORD, "203.0.113.6").status_code == 302
    assert _forwarded(proxied_app.test_client(), "host", PASSWORD, "203.0.113.66").status_code == 429


def test_without_trusted_hops_forwarded_headers_are_ignored(app, users, app_ctx):
    from appeals.core.extensions import db

    assert _forwarded(app.test_client(), "viewer", PASSWORD, "203.0.113.5").status_code == 302
    login = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "login")).one()
    assert login.ip_address == "127.0.0.1"
