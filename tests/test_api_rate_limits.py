"""Issue 18, item 8: RateLimit-Limit/-Remaining/-Reset on every response; a budget per account as well as per token."""
from tests.fixtures_api import ApiClient, assert_problem


def _budget(response):
    return tuple(int(response.headers[f"RateLimit-{name}"]) for name in ("Limit", "Remaining", "Reset"))


def test_every_response_reports_the_budget(app, api_as, users):
    app.config.update(API_RATE_LIMIT_PER_MINUTE=5, API_USER_RATE_LIMIT_PER_MINUTE=100)
    try:
        api = api_as(users.clerk)
        first, second = api.get("/me"), api.get("/appeals?status=nonsense")
        assert second.status_code == 422
        assert _budget(first)[:2] == (5, 4) and _budget(second)[:2] == (5, 3)
        assert 1 <= _budget(first)[2] <= 60
        for _n in range(3):
            api.get("/me")
        refused = api.get("/me")
        assert_problem(refused, 429)
        assert _budget(refused)[:2] == (5, 0) and int(refused.headers["Retry-After"]) >= 1
    finally:
        app.config.update(API_RATE_LIMIT_PER_MINUTE=600, API_USER_RATE_LIMIT_PER_MINUTE=1200)


def test_more_tokens_do_not_buy_more_requests(app, api_as, users):
    from appeals.api import tokens

    app.config.update(API_RATE_LIMIT_PER_MINUTE=100, API_USER_RATE_LIMIT_PER_MINUTE=4)
    try:
        first = api_as(users.viewer)
        second = ApiClient(first.client, tokens.create_token(users.viewer, "second")[1], users.viewer)
        statuses = [client.get("/me").status_code for client in (first, second, first, second)]
        assert statuses == [200, 200, 200, 200]
        response = second.get("/me")
        body = assert_problem(response, 429)
        assert "account" in body["detail"]
        # The account's budget is the tighter one, so the headers report it.
        assert _budget(response)[:2] == (4, 0)
        # Another account is not affected.
        assert api_as(users.clerk).get("/me").status_code == 200
    finally:
        app.config.update(API_RATE_LIMIT_PER_MINUTE=600, API_USER_RATE_LIMIT_PER_MINUTE=1200)


def test_the_headers_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert set(document["components"]["headers"]) == {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
    ok = document["paths"]["/me"]["get"]["responses"]["200"]
    assert ok["headers"]["RateLimit-Remaining"]["$ref"] == "#/components/headers/RateLimit-Remaining"
