"""Two-factor authentication with TOTP and recovery codes (issue 13, beyond the findings)."""
import re
import time

import pyotp
import pytest
import sqlalchemy as sa

from appeals.auth.models import TotpRecoveryCode, User
from tests.conftest import PASSWORD


def _enrol(client, db, username):
    page = client.get("/account/totp?lang=en")
    assert page.status_code == 200
    user = db.session.scalar(sa.select(User).where(User.username == username))
    secret = user.totp_secret
    confirmed = client.post("/account/totp?lang=en", data={"code": pyotp.TOTP(secret).now()})
    assert confirmed.status_code == 200
    codes = re.findall(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>", confirmed.get_data(as_text=True))
    return secret, codes


def test_enrolment_shows_a_qr_code_and_confirms_with_a_first_code(client, users, login, db):
    login(users.coordinator)
    page = client.get("/account/totp?lang=en").get_data(as_text=True)
    assert "<svg" in page and 'class="segno"' in page
    user = db.session.get(User, users.coordinator.id)
    assert user.totp_secret and not user.has_totp and user.totp_secret in page
    wrong = client.post("/account/totp?lang=en", data={"code": "000000"})
    assert wrong.status_code == 422 and "The code is wrong" in wrong.get_data(as_text=True)
    secret, codes = _enrol(client, db, "coordinator")
    assert len(codes) == 10 and len(set(codes)) == 10
    db.session.expire_all()
    assert db.session.get(User, users.coordinator.id).has_totp
    stored = db.session.scalars(sa.select(TotpRecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(codes) & set(stored)  # only hashes are kept


def test_login_with_totp_needs_the_second_step(app, client, users, login, db):
    login(users.coordinator)
    secret, _codes = _enrol(client, db, "coordinator")
    client.post("/logout")
    first = client.post("/login?lang=en", data={"username": "coordinator", "password": PASSWORD})
    assert first.status_code == 302 and first.headers["Location"].endswith("/login/totp")
    assert client.get("/").status_code == 302  # the password alone signs nobody in
    wrong = client.post("/login/totp?lang=en", data={"code": "123456"})
    assert wrong.status_code == 422
    code = pyotp.TOTP(secret).at(time.time() + 30)  # the next step: the enrolment used this one
    assert client.post("/login/totp", data={"code": code}).status_code == 302
    assert client.get("/").status_code == 200
    # The same code a second time (e.g. seen over a shoulder) is refused.
    client.post("/logout")
    client.post("/login", data={"username": "coordinator", "password": PASSWORD})
    assert client.post("/login/totp", data={"code": code}).status_code == 422


def test_a_recovery_code_signs_in_once(client, users, login, db):
    login(users.admin)
    _secret, codes = _enrol(client, db, "admin")
    client.post("/logout")
    for expected in (302, 422):
        client.post("/logout")
        client.post("/login", data={"username": "admin", "password": PASSWORD})
        assert client.post("/login/totp", data={"code": codes[0].lower()}).status_code == expected


def test_wrong_codes_are_throttled(app, client, users, login, db):
    login(users.admin)
    secret, _codes = _enrol(client, db, "admin")
    client.post("/logout")
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login/totp", data={"code": "999999"})
    locked = client.post("/login/totp?lang=en", data={"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert locked.status_code == 429 and "Too many wrong codes" in locked.get_data(as_text=True)


def test_the_second_step_expires(client, users, login, db):
    login(users.admin)
    _enrol(client, db, "admin")
    client.post("/logout")
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    with client.session_transaction() as session:
        session["totp_pending"] = {**session["totp_pending"], "at": session["totp_pending"]["at"] - 301}
    response = client.get("/login/totp")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


@pytest.fixture
def totp_required_for(app):
    app.config["REQUIRE_TOTP_ROLES"] = ("admin", "coordinator")
    yield
    app.config["REQUIRE_TOTP_ROLES"] = ()


def test_required_roles_work_only_after_enrolment(totp_required_for, app, client, users, login, db):
    login(users.coordinator)
    blocked = client.get("/appeals/new")
    assert blocked.status_code == 302 and blocked.headers["Location"].endswith("/account/totp")
    _enrol(client, db, "coordinator")
    assert client.get("/").status_code == 200
    viewer = login(users.viewer, test_client=app.test_client())
    assert viewer.get("/").status_code == 200  # optional for the other roles


def test_reset_totp_from_the_command_line(runner, client, users, login, db):
    login(users.admin)
    _enrol(client, db, "admin")
    result = runner.invoke(args=["reset-totp", "admin"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert not db.session.get(User, users.admin.id).has_totp
    assert db.session.scalar(sa.select(sa.func.count(TotpRecoveryCode.id))) == 0
