"""The JSON API (/api/v1), its OpenAPI document and docs page, and the API-token pages.

JSON endpoints are declared with `endpoint()` (appeals/api/registry.py) in the modules imported
at the bottom; they call the same services as the pages, so every rule lives in one place.
"""
import functools
import json

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from appeals.api import registry, tokens
from appeals.api.registry import endpoint
from appeals.api.schemas.meta import MeOut
from appeals.auth.models import ApiToken, User
from appeals.auth.permissions import can
from appeals.core.extensions import db

bp = Blueprint("api", __name__)

API_VERSION = "1.0.0"


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


# --- Token pages (cookie login, CSRF-protected forms) -----------------------------------------


def _error_page(status):
    from appeals.core.errors import MESSAGES, TITLES

    return render_template("errors/error.html", status=status, title=TITLES[status](), message=MESSAGES[status]()), status


def _token_owner():
    """The account whose tokens are managed: one's own, or any account for an administrator."""
    username = request.values.get("user")
    if not username or username == current_user.username:
        return current_user._get_current_object()
    if not can(current_user, "admin.users"):
        return None
    return db.session.scalar(sa.select(User).where(User.username == username))


# base.html links `api.tokens`.
@bp.route("/tokens", methods=["GET", "POST"], endpoint="tokens")
@login_required
def tokens_page():
    owner = _token_owner()
    if owner is None:
        return _error_page(403 if not can(current_user, "admin.users") else 404)
    if not can(owner, "api.use"):
        return _error_page(403)
    new_secret, errors, name = None, {}, ""
    days = str(current_app.config["API_TOKEN_DEFAULT_DAYS"])
    if request.method == "POST":
        # An administrator lists and revokes others' tokens but never mints one: it would let
        # them act, unmasked, as that clerk.
        if owner.id != current_user.id:
            return _error_page(403)
        name = (request.form.get("name") or "").strip()
        days = (request.form.get("days") or "").strip() or days
        try:
            if not days.isdigit():
                raise tokens.TokenError(_("Enter a whole number."), "days")
            token, new_secret = tokens.create_token(owner, name, actor=current_user, days=int(days))
        except tokens.TokenError as exc:
            errors[exc.field if exc.field == "days" else "name"] = exc.message
        else:
            name, days = "", str(current_app.config["API_TOKEN_DEFAULT_DAYS"])
            flash(_("Token created. Copy it now: it will not be shown again."), "success")
    users = None
    if can(current_user, "admin.users"):
        users = db.session.scalars(sa.select(User).order_by(User.username)).all()
    return render_template(
        "api/tokens.html", owner=owner, tokens=tokens.tokens_of(owner), new_secret=new_secret,
        errors=errors, name=name, days=days, users=users, max_days=current_app.config["API_TOKEN_MAX_DAYS"],
    ), (422 if errors else 200)



@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None:
        return _error_page(404)
    if token.user_id != current_user.id and not can(current_user, "admin.users"):
        return _error_page(403)
    tokens.revoke_token(token, actor=current_user)
    flash(_("Token %(prefix)s… revoked.", prefix=token.prefix), "success")
    owner = db.session.get(User, token.user_id)
    args = {} if owner.id == current_user.id else {"user": owner.username}
    return redirect(url_for("api.tokens", **args))


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


from appeals.api.endpoints import mandates, reference, register, schedules  # noqa: E402,F401  (register their routes)
