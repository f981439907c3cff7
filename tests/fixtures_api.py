"""Fixtures for the api tests (loaded by tests/conftest.py)."""
import json

import pytest


class ApiClient:
    """The Flask test client with a user's Bearer token and JSON bodies."""

    def __init__(self, client, secret, user):
        self.client, self.secret, self.user = client, secret, user

    def request(self, method, path, body=None, headers=None, raw=None, content_type="application/json"):
        all_headers = {"Authorization": f"Bearer {self.secret}", "Accept-Language": "en"}
        all_headers.update(headers or {})
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        return self.client.open(f"/api/v1{path}", method=method, data=data, headers=all_headers,
                                content_type=content_type if data is not None else None)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.request("PATCH", path, body, **kwargs)


@pytest.fixture
def api_as(app, app_ctx):
    """api_as(user) -> an ApiClient whose requests carry a fresh token of `user`."""
    from appeals.api import tokens

    def factory(user):
        _token, secret = tokens.create_token(user, "test")
        return ApiClient(app.test_client(), secret, user)

    return factory


def assert_problem(response, status, field=None):
    """The response is RFC 9457 problem+json with `status`, naming `field` when given."""
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert field in [error["field"] for error in body.get("errors", [])], body
    return body
