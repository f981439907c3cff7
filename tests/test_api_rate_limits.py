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


def test_a_request_counts_token_and_account_in_one_statement_and_a_new_minute_forgets_the_last(
        app, api_as, users, db, time_machine):
    import sqlalchemy as sa
    from sqlalchemy import event

    from appeals.auth.models import ApiToken
    from appeals.core.database import counter_engine
    from appeals.core.ratelimit import RateWindow

    time_machine.move_to("2026-11-18 11:00:10+05:00", tick=False)
    api = api_as(users.clerk)
    api.get("/me")
    api.get("/me")
    upserts = []

    def count_upserts(_conn, _cursor, statement, *_rest):
        if statement.lstrip().upper().startswith("INSERT INTO RATE_WINDOWS"):
            upserts.append(statement)

    engine = counter_engine()
    event.listen(engine, "before_cursor_execute", count_upserts)
    try:
        assert api.get("/me").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count_upserts)
    assert len(upserts) == 1
    rows = db.session.execute(sa.select(RateWindow.scope, RateWindow.window_start, RateWindow.count)).all()
    assert sorted(rows) == [("api-token", rows[0].window_start, 3), ("api-user", rows[0].window_start, 3)]
    token = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == users.clerk.id)).one()
    first_use = token.last_used_at

    time_machine.move_to("2026-11-18 11:01:05+05:00", tick=False)
    assert api.get("/me").status_code == 200
    db.session.expire_all()
    rows = db.session.execute(sa.select(RateWindow.scope, RateWindow.count)).all()
    assert sorted(rows) == [("api-token", 1), ("api-user", 1)], "the ended minute is forgotten"
    assert db.session.get(ApiToken, token.id).last_used_at > first_use
