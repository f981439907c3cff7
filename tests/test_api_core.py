"""API foundations: tokens, Bearer auth, rate limit, problem+json, request limits, OpenAPI, docs, CLI."""
import json

import sqlalchemy as sa

from appeals.auth.models import ApiToken
from tests.fixtures_api import assert_problem


def test_token_is_shown_once_and_stored_hashed(app_ctx, users):
    from appeals.api import tokens

    token, secret = tokens.create_token(users.clerk, "website form")
    assert secret.startswith("qab_") and len(secret) > 40
    stored = app_ctx.extensions["sqlalchemy"].session.get(ApiToken, token.id)
    assert stored.token_hash == tokens.hash_token(secret) and secret not in (stored.token_hash, stored.prefix)
    assert secret.startswith(stored.prefix)


def test_me_with_valid_token(api_as, users):
    response = api_as(users.clerk).get("/me")
    assert response.status_code == 200
    body = response.get_json()
    assert body["username"] == "clerk" and body["role"] == "clerk" and body["office_codes"] == ["KRD"]


def test_missing_wrong_and_revoked_tokens_get_401(app_ctx, client, api_as, users):
    from appeals.api import tokens

    body = assert_problem(client.get("/api/v1/me"), 401)
    assert client.get("/api/v1/me").headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(client.get("/api/v1/me", headers={"Authorization": "Bearer qab_nope"}), 401)
    assert_problem(client.get("/api/v1/me", headers={"Authorization": "Basic Zm9vOmJhcg=="}), 401)
    api = api_as(users.clerk)
    token = app_ctx.extensions["sqlalchemy"].session.scalar(sa.select(ApiToken))
    tokens.revoke_token(token, actor=users.clerk)
    assert_problem(api.get("/me"), 401)
    assert body["type"] == "about:blank"


def test_deactivated_account_token_gets_401(app_ctx, api_as, users):
    from appeals.auth import services

    api = api_as(users.host)
    assert api.get("/me").status_code == 200
    services.update_user(users.host, role="host", office_codes=[], full_name="", email="", locale=None, is_active=False)
    assert_problem(api.get("/me"), 401)


def test_session_cookie_is_not_accepted_by_the_api(client, users, login):
    login(users.coordinator)
    assert client.get("/").status_code == 200
    assert_problem(client.get("/api/v1/me"), 401)


def test_rate_limit_per_token_gives_429_with_retry_after(app, api_as, users):
    app.config["API_RATE_LIMIT_PER_MINUTE"] = 3
    try:
        api, other = api_as(users.clerk), api_as(users.coordinator)
        assert [api.get("/me").status_code for _ in range(3)] == [200, 200, 200]
        response = api.get("/me")
        assert_problem(response, 429)
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        # The budget is per token: another token is not affected.
        assert other.get("/me").status_code == 200
    finally:
        app.config["API_RATE_LIMIT_PER_MINUTE"] = 600


def test_unknown_path_is_problem_json(api_as, users):
    assert_problem(api_as(users.clerk).get("/nothing-here"), 404)


def test_openapi_document_is_public_and_complete(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    from appeals.api.registry import REGISTRY

    for spec in REGISTRY:
        operation = document["paths"][spec.openapi_path][spec.method.lower()]
        assert str(spec.status) in operation["responses"]
        if spec.body is not None:
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[1] in document["components"]["schemas"]
    assert document["components"]["schemas"]["HostIn"]["additionalProperties"] is False


def test_openapi_is_valid_openapi_3_1(client):
    import jsonschema_rs
    import schemathesis

    document = client.get("/api/v1/openapi.json").get_json()
    for schema in document["components"]["schemas"].values():
        jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})  # raises if invalid
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(methods) for methods in document["paths"].values())


def test_docs_page_lists_every_endpoint(client):
    from appeals.api.registry import REGISTRY

    page = client.get("/api/v1/docs?lang=en").get_data(as_text=True)
    assert "API documentation" in page
    for spec in REGISTRY:
        assert f"/api/v1{spec.openapi_path}" in page
    assert "<script>" not in page and "style=" not in page


def test_token_pages_create_once_and_revoke(app_ctx, client, users, login):
    login(users.clerk)
    page = client.get("/account/tokens?lang=en")
    assert page.status_code == 200 and "No tokens yet." in page.get_data(as_text=True)
    created = client.post("/account/tokens?lang=en", data={"name": "field team"})
    text = created.get_data(as_text=True)
    assert created.status_code == 200 and "will not be shown again" in text
    token = app_ctx.extensions["sqlalchemy"].session.scalar(sa.select(ApiToken))
    secret = text.split('id="new-token"')[1].split('value="')[1].split('"')[0]
    assert secret.startswith(token.prefix)
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    # Listed later without the secret.
    assert secret not in client.get("/account/tokens").get_data(as_text=True)
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_token_name_too_long_is_a_form_error(client, users, login):
    login(users.clerk)
    response = client.post("/account/tokens?lang=en", data={"name": "x" * 101})
    assert response.status_code == 422 and "At most 100 characters." in response.get_data(as_text=True)


def test_only_admin_manages_other_users_tokens(app_ctx, client, users, login, make_user):
    from appeals.api import tokens

    token, _secret = tokens.create_token(users.clerk, "x")
    login(users.other_clerk)
    assert client.get("/account/tokens?user=clerk").status_code == 403
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 403
    assert client.post("/account/tokens/999999/revoke").status_code == 404
    admin_client = app_ctx.test_client()
    login(users.admin, test_client=admin_client)
    assert "clerk" in admin_client.get("/account/tokens?user=clerk").get_data(as_text=True)
    assert admin_client.post("/account/tokens", data={"user": "clerk", "name": "by admin"}).status_code == 403
    assert admin_client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    db = app_ctx.extensions["sqlalchemy"]
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(ApiToken.user_id == users.clerk.id)) == 1


def test_token_pages_need_login(client):
    assert client.get("/account/tokens").status_code == 302


def test_create_token_cli_prints_a_working_token(app, runner, users, client):
    result = runner.invoke(args=["create-token", "viewer", "--name", "stats"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).get_json()["username"] == "viewer"
    bad = runner.invoke(args=["create-token", "nobody"])
    assert bad.exit_code == 2 and "no user" in bad.output


def test_malformed_json_is_400(api_as, users):
    api = api_as(users.coordinator)
    body = assert_problem(api.post("/hosts", raw="{not json"), 400)
    assert "JSON" in body["detail"]


def test_wrong_content_type_is_415(api_as, users):
    api = api_as(users.coordinator)
    assert_problem(api.post("/hosts", raw="full_name=x", content_type="application/x-www-form-urlencoded"), 415)


def test_huge_payload_is_413_problem_json(api_as, users):
    api = api_as(users.coordinator)
    huge = json.dumps({"full_name": "x" * (300 * 1024), "kind": "candidate"})
    assert_problem(api.post("/hosts", raw=huge), 413)


def test_unknown_fields_and_wrong_types_are_422_per_field(api_as, users):
    api = api_as(users.coordinator)
    body = assert_problem(api.post("/hosts", {"full_name": 5, "kind": "wizard", "colour": "red"}), 422)
    by_field = {error["field"]: error["message"] for error in body["errors"]}
    assert by_field["colour"] == "Unknown field."
    assert by_field["full_name"] == "Enter text."
    assert by_field["kind"].startswith("Choose one of")


def test_nul_character_is_rejected_not_stored(api_as, users):
    api = api_as(users.coordinator)
    assert_problem(api.post("/hosts", {"full_name": "A\u0000B", "kind": "candidate"}), 422, "full_name")


def test_errors_are_translated(api_as, users):
    api = api_as(users.coordinator)
    response = api.post("/hosts", {"kind": "candidate"}, headers={"Accept-Language": "ru"})
    body = assert_problem(response, 422, "full_name")
    assert body["errors"][0]["message"]
