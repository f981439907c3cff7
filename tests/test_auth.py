import sqlalchemy as sa

from appeals.core.audit import AuditRecord
from tests.conftest import PASSWORD


def test_login_page_in_three_languages(client):
    assert "Кіру" in client.get("/login").get_data(as_text=True)  # Kazakh is the default
    assert "Войти" in client.get("/login?lang=ru").get_data(as_text=True)
    assert "Log in" in client.get("/login?lang=en").get_data(as_text=True)


def test_login_and_logout(client, users, login):
    login(users.clerk)
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_generic_error(client, users):
    wrong = client.post("/login?lang=en", data={"username": "clerk", "password": "nope-nope-nope"})
    unknown = client.post("/login?lang=en", data={"username": "nobody", "password": "nope-nope-nope"})
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert "Wrong username or password." in response.get_data(as_text=True)


def test_deactivated_user_cannot_log_in(app_ctx, client, users):
    from appeals.auth import services

    services.update_user(users.host, role="host", office_codes=[], full_name="", email="", locale=None, is_active=False)
    response = client.post("/login?lang=en", data={"username": "host", "password": PASSWORD})
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_deactivation_ends_existing_sessions(app_ctx, client, users, login):
    from appeals.auth import services

    login(users.host)
    assert client.get("/").status_code == 200
    services.update_user(users.host, role="host", office_codes=[], full_name="", email="", locale=None, is_active=False)
    assert client.get("/").status_code == 302


def test_login_is_throttled_per_account(app, client, users):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        client.post("/login", data={"username": "clerk", "password": "wrong-password-x"})
    response = client.post("/login?lang=en", data={"username": "clerk", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)


def test_passwords_are_hashed_with_scrypt(app, app_ctx, reference, monkeypatch):
    from appeals.auth import services
    from config import Config

    # The test configuration hashes cheaply; everything else keeps the default.
    assert Config.PASSWORD_HASH_METHOD == "scrypt"
    monkeypatch.setitem(app.config, "PASSWORD_HASH_METHOD", Config.PASSWORD_HASH_METHOD)
    user = services.create_user("scrypted", PASSWORD, "viewer")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "x")


def test_short_password_is_refused(app_ctx, reference):
    import pytest

    from appeals.auth import services

    with pytest.raises(services.AccountError):
        services.create_user("shorty", "short", "viewer")


def test_session_cookie_is_httponly_and_samesite(client, users):
    response = client.post("/login", data={"username": "clerk", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_is_renewed_at_login(client, users):
    with client.session_transaction() as session:
        session["planted"] = "attacker"
    client.post("/login", data={"username": "clerk", "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_open_redirect_after_login_is_refused(client, users):
    response = client.post("/login?next=https://evil.example/", data={"username": "clerk", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_login_and_failures_are_audited(app_ctx, client, users):
    client.post("/login", data={"username": "clerk", "password": "bad-password-1"})
    client.post("/login", data={"username": "clerk", "password": PASSWORD})
    from appeals.core.extensions import db

    actions = db.session.scalars(sa.select(AuditRecord.action).where(AuditRecord.action.like("login%"))).all()
    assert "login_failed" in actions and "login" in actions


def test_language_choice_is_kept_for_the_user(app_ctx, client, users, login):
    login(users.clerk)
    client.post("/language/ru", data={"next": "/"})
    assert "Выйти" in client.get("/").get_data(as_text=True)
    from appeals.auth.models import User
    from appeals.core.extensions import db

    db.session.expire_all()
    assert db.session.get(User, users.clerk.id).locale == "ru"


def test_change_password_keeps_the_user_logged_in(client, users, login):
    login(users.viewer)
    response = client.post("/account/password", data={"current_password": PASSWORD, "password": "a-brand-new-secret", "confirm": "a-brand-new-secret"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
