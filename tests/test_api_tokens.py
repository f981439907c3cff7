"""Issue 18, item 11: one's own tokens through the API; an API client never meets the HTML login form."""
import sqlalchemy as sa

from appeals.auth.models import ApiToken
from tests.fixtures_api import assert_problem


def test_list_create_and_revoke_own_tokens_through_the_api(app_ctx, api_as, users):
    api = api_as(users.clerk)
    listed = api.get("/tokens").get_json()
    assert [t["name"] for t in listed["items"]] == ["test"] and listed["items"][0]["active"] is True
    assert listed["active_limit"] == app_ctx.config["API_TOKENS_PER_USER"]
    assert "secret" not in listed["items"][0]

    created = api.post("/tokens", {"name": "field team", "days": 7})
    assert created.status_code == 201
    body = created.get_json()
    assert body["secret"].startswith(body["prefix"]) and body["name"] == "field team"
    # The expiry asked for: 7 days after creation.
    from datetime import datetime
    made = datetime.fromisoformat(body["created_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    assert (expires - made).days == 7

    new_api = type(api)(api.client, body["secret"], users.clerk)
    assert new_api.get("/me").get_json()["token_prefix"] == body["prefix"]
    # The new secret is never listed again.
    assert body["secret"] not in api.get("/tokens").get_data(as_text=True)

    assert api.request("DELETE", f"/tokens/{body['id']}").status_code == 204
    assert_problem(new_api.get("/me"), 401)
    revoked = app_ctx.extensions["sqlalchemy"].session.get(ApiToken, body["id"])
    assert revoked.revoked_at is not None and revoked.revoked_reason == "owner"


def test_token_expiry_and_cap_are_the_pages_rules(app_ctx, api_as, users):
    api = api_as(users.viewer)
    assert_problem(api.post("/tokens", {"name": "x", "days": 400}), 422, "days")
    assert_problem(api.post("/tokens", {"name": "x" * 101}), 422, "name")
    cap = app_ctx.config["API_TOKENS_PER_USER"]
    for n in range(cap - 1):
        assert api.post("/tokens", {"name": f"t{n}"}).status_code == 201
    body = assert_problem(api.post("/tokens", {"name": "one too many"}), 422)
    assert str(cap) in body["detail"]
    db = app_ctx.extensions["sqlalchemy"].session
    assert db.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(ApiToken.user_id == users.viewer.id)) == cap


def test_another_accounts_token_cannot_be_revoked_through_the_api(app_ctx, api_as, users):
    from appeals.api import tokens

    victim, _secret = tokens.create_token(users.clerk, "clerk's")
    for role in ("admin", "coordinator", "viewer"):
        assert_problem(api_as(getattr(users, role)).request("DELETE", f"/tokens/{victim.id}"), 404)
    db = app_ctx.extensions["sqlalchemy"].session
    db.expire_all()
    assert db.get(ApiToken, victim.id).revoked_at is None


def test_tokens_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/tokens"]) == {"get", "post"} and "delete" in paths["/tokens/{token_id}"]
    assert "secret" in client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["TokenCreated"]["properties"]


def test_unauthenticated_api_requests_get_problem_json_never_html(app_ctx, client, users):
    from appeals.api import tokens

    for path in ("/api/v1/tokens", "/api/v1/me", "/api/v1/appeals", "/api/v1/no-such-thing"):
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.mimetype == "application/problem+json", path
        assert response.status_code in (401, 404), path
    # A token on a cookie page (a printed register) gets 401 problem+json, not a redirect to /login.
    secret = tokens.create_token(users.clerk, "x")[1]
    response = client.get("/reports/journal.pdf", headers={"Authorization": f"Bearer {secret}"})
    assert_problem(response, 401)
    assert "Location" not in response.headers
    # A browser without a token still gets the login form there.
    assert "/login" in client.get("/reports/journal.pdf").headers["Location"]
