"""API token rules (issue 13, findings 7 and 16): owner-only minting, expiry, a cap, revocation
at password change and deactivation, and problem+json for API clients on cookie pages."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from appeals.auth.models import ApiToken
from appeals.core.audit import AuditRecord
from tests.fixtures_api import assert_problem


def _bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def test_an_admin_cannot_mint_a_token_for_a_clerk_through_the_pages(app_ctx, client, users, login, db):
    login(users.admin)
    refused = client.post("/account/tokens?lang=en", data={"user": "clerk", "name": "act as clerk"})
    assert refused.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0
    page = client.get("/account/tokens?user=clerk&lang=en").get_data(as_text=True)
    assert "Only the account's owner can create its tokens" in page and 'name="name"' not in page


def test_the_service_refuses_an_actor_other_than_the_owner(app_ctx, users):
    from appeals.api import tokens

    with pytest.raises(tokens.NotTheOwner):
        tokens.create_token(users.clerk, "x", actor=users.admin)


def test_an_admin_lists_and_revokes_a_clerks_token(app_ctx, client, users, login, db):
    from appeals.api import tokens

    token, secret = tokens.create_token(users.clerk, "field team", actor=users.clerk)
    login(users.admin)
    assert token.prefix in client.get("/account/tokens?user=clerk").get_data(as_text=True)
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert db.session.get(ApiToken, token.id).revoked_reason == "admin"
    assert_problem(client.get("/api/v1/me", headers=_bearer(secret)), 401)


def test_the_cli_mints_for_the_operator_and_the_trail_says_so(app, runner, users, db):
    result = runner.invoke(args=["create-token", "clerk", "--name", "import job", "--days", "7"])
    assert result.exit_code == 0, result.output
    created = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "api_token_created")).one()
    assert created.username == "system" and created.changes["via"] == [None, "cli"]
    token = db.session.scalars(sa.select(ApiToken)).one()
    assert timedelta(days=6, hours=23) < token.expires_at - token.created_at <= timedelta(days=7)


def test_tokens_expire_by_default_and_at_most_after_the_maximum(app, app_ctx, client, users, login, db):
    from appeals.api import tokens

    token, secret = tokens.create_token(users.clerk, "default", actor=users.clerk)
    assert token.expires_at - token.created_at == timedelta(days=app.config["API_TOKEN_DEFAULT_DAYS"])
    with pytest.raises(tokens.TokenError):
        tokens.create_token(users.clerk, "forever", days=app.config["API_TOKEN_MAX_DAYS"] + 1)
    login(users.clerk)
    too_long = client.post("/account/tokens?lang=en", data={"name": "x", "days": "9999"})
    assert too_long.status_code == 422 and "Enter a number of days from 1 to 365." in too_long.get_data(as_text=True)
    not_a_number = client.post("/account/tokens?lang=en", data={"name": "x", "days": "soon"})
    assert not_a_number.status_code == 422 and "Enter a whole number." in not_a_number.get_data(as_text=True)


def test_an_expired_token_gets_401(app_ctx, client, users, db):
    from appeals.api import tokens

    token, secret = tokens.create_token(users.clerk, "short", days=1)
    assert client.get("/api/v1/me", headers=_bearer(secret)).status_code == 200
    db.session.execute(sa.update(ApiToken).where(ApiToken.id == token.id)
                       .values(expires_at=token.created_at - timedelta(seconds=1)))
    db.session.commit()
    assert_problem(client.get("/api/v1/me", headers=_bearer(secret)), 401)


def test_an_account_holds_at_most_the_cap_of_active_tokens(app, app_ctx, client, users, login, db):
    from appeals.api import tokens

    cap = app.config["API_TOKENS_PER_USER"]
    made = [tokens.create_token(users.clerk, f"t{n}")[0] for n in range(cap)]
    login(users.clerk)
    refused = client.post("/account/tokens?lang=en", data={"name": "one more"})
    assert refused.status_code == 422 and f"at most {cap} active tokens" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == cap
    # Expired and revoked tokens do not count.
    tokens.revoke_token(made[0], actor=users.clerk)
    db.session.execute(sa.update(ApiToken).where(ApiToken.id == made[1].id).values(expires_at=made[1].created_at))
    db.session.commit()
    assert client.post("/account/tokens?lang=en", data={"name": "replacement"}).status_code == 200
    assert client.post("/account/tokens?lang=en", data={"name": "and another"}).status_code == 200
    assert client.post("/account/tokens?lang=en", data={"name": "too many"}).status_code == 422


def test_a_password_change_revokes_the_accounts_tokens(app_ctx, client, users):
    from appeals.api import tokens
    from appeals.auth import services

    _token, secret = tokens.create_token(users.clerk, "x")
    other_secret = tokens.create_token(users.viewer, "y")[1]
    services.set_password(users.clerk, "a-brand-new-passphrase")
    assert_problem(client.get("/api/v1/me", headers=_bearer(secret)), 401)
    assert client.get("/api/v1/me", headers=_bearer(other_secret)).status_code == 200


def test_a_reactivated_account_does_not_revive_its_tokens(app_ctx, client, users, db):
    from appeals.api import tokens
    from appeals.auth import services

    token, secret = tokens.create_token(users.host, "x")
    fields = dict(role="host", office_codes=[], full_name="", email="", locale=None)
    services.update_user(users.host, **fields, is_active=False)
    services.update_user(users.host, **fields, is_active=True)
    assert_problem(client.get("/api/v1/me", headers=_bearer(secret)), 401)
    assert db.session.get(ApiToken, token.id).revoked_reason == "deactivated"


def test_a_bearer_token_on_a_cookie_page_gets_problem_json_not_the_login_form(app_ctx, client, users):
    from appeals.api import tokens

    secret = tokens.create_token(users.clerk, "x")[1]
    body = assert_problem(client.get("/account/tokens?lang=en", headers=_bearer(secret)), 401)
    assert "browser login" in body["detail"]
    # A browser without a token still gets the login form.
    assert "/login" in client.get("/account/tokens", headers={"Accept": "text/html"}).headers["Location"]
