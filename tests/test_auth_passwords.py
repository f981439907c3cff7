"""Password rules and the throttled current-password check (issue 13, finding 12)."""
import pytest
import sqlalchemy as sa

from appeals.auth import services
from tests.conftest import PASSWORD


@pytest.mark.parametrize("password", ["qwertyuiop", "Password123", "password2026!", "1q2w3e4r5t", "ЙЦУКЕНГШЩЗ",
                                      "qazwsxedcrfv", "!!Welcome123"])
def test_common_passwords_are_refused(app_ctx, password):
    with pytest.raises(services.AccountError, match="most common"):
        services.validate_password(password, "aliya")


@pytest.mark.parametrize("username,password", [
    ("aliya", "aliya-2026-secure"), ("Aliya", "my ALIYA password"), ("clerk.kordai", "kordai-reception-desk"),
])
def test_passwords_containing_the_username_are_refused(app_ctx, username, password):
    with pytest.raises(services.AccountError, match="must not contain the username"):
        services.validate_password(password, username)


def test_a_good_password_passes(app_ctx):
    services.validate_password("steppe-wind-over-taraz", "aliya")


def test_create_user_and_set_password_apply_the_rules(app_ctx, reference, users):
    with pytest.raises(services.AccountError, match="username"):
        services.create_user("marat", "marat-is-my-name", "viewer")
    with pytest.raises(services.AccountError, match="most common"):
        services.set_password(users.clerk, "qwerty123456")


def test_the_rules_are_translated_on_the_form(client, users, login):
    login(users.clerk)
    response = client.post("/account/password?lang=ru", data={
        "current_password": PASSWORD, "password": "password12345", "confirm": "password12345"})
    assert "Этот пароль из самых распространённых" in response.get_data(as_text=True)
    response = client.post("/account/password?lang=kk", data={
        "current_password": PASSWORD, "password": "clerk-at-the-desk", "confirm": "clerk-at-the-desk"})
    assert "Құпиясөзде пайдаланушы аты болмауы керек." in response.get_data(as_text=True)


def test_the_current_password_check_is_throttled(app, client, users, login, db):
    login(users.clerk)
    new = {"password": "steppe-wind-over-taraz", "confirm": "steppe-wind-over-taraz"}
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        wrong = client.post("/account/password?lang=en", data={"current_password": "guess-guess-guess", **new})
        assert "The current password is wrong." in wrong.get_data(as_text=True)
    locked = client.post("/account/password?lang=en", data={"current_password": PASSWORD, **new})
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.get_data(as_text=True)
    db.session.refresh(users.clerk)
    assert users.clerk.check_password(PASSWORD)  # not changed while locked
    from appeals.core.audit import AuditRecord

    failures = db.session.scalar(sa.select(sa.func.count(AuditRecord.id)).where(AuditRecord.action == "password_check_failed"))
    assert failures == app.config["LOGIN_MAX_FAILURES"]
