"""The JSON API (/api/v1), its OpenAPI document and docs page (the cookie pages for tokens: api/pages.py).

JSON endpoints are declared with `endpoint()` (appeals/api/registry.py) in the modules imported
at the bottom; they call the same services as the pages, so every rule lives in one place.
"""
import functools
import json

from flask import Blueprint, current_app, g, render_template, url_for

from appeals.api import registry
from appeals.api.registry import endpoint
from appeals.api.schemas.meta import MeOut

bp = Blueprint("api", __name__)

API_VERSION = "1.0.0"


@bp.after_request
def _api_headers(response):
    """Headers every API response carries, errors included (the old parameter names' Deprecation)."""
    registry.deprecated_headers(response)
    budget = g.get("api_budget")
    if budget is not None:
        # draft-ietf-httpapi-ratelimit-headers: the budget of this minute, what is left, seconds to its end.
        response.headers["RateLimit-Limit"] = str(budget.limit)
        response.headers["RateLimit-Remaining"] = str(budget.remaining)
        response.headers["RateLimit-Reset"] = str(budget.reset)
    return response


@functools.cache
def _openapi_body(server_url):
    # The registry is complete once the app is imported; building the document takes ~20 ms.
    return json.dumps(registry.openapi_document("Qabyldau API", API_VERSION, server_url), ensure_ascii=False)


@bp.route("/openapi.json")
def openapi():
    server_url = url_for("api.openapi", _external=False).rsplit("/", 1)[0]
    response = current_app.response_class(_openapi_body(server_url), mimetype="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/docs")
def docs():
    """The readable reference, rendered on the server from the same registry as openapi.json."""
    return render_template(
        "api/docs.html",
        groups=registry.endpoints_by_tag(),
        descriptions=registry.ERROR_DESCRIPTIONS,
        rate_limit=current_app.config["API_RATE_LIMIT_PER_MINUTE"],
        max_page=current_app.config["API_MAX_PAGE_SIZE"],
        max_body=registry.API_MAX_BODY_BYTES,
    )


# --- Meta ---------------------------------------------------------------------------------------


@endpoint(bp, "GET", "/me", summary="The token's user", tag="Meta", response=MeOut)
def me():
    """Who the token belongs to: role and offices decide what the other endpoints return."""
    from flask import g

    user = g.api_user
    return {
        "id": user.id, "username": user.username, "full_name": user.full_name, "role": user.role,
        "office_codes": [office.code for office in user.offices], "token_prefix": g.api_token.prefix,
    }


from appeals.api.endpoints import documents, mandates, reference, register, schedules, tokens  # noqa: E402,F401,I001  (register their routes)
from appeals.api.endpoints import attachments  # noqa: E402,F401  (after the appeals' own, in the docs too)
