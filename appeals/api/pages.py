"""The API-token pages (cookie login, CSRF-protected forms) at /account/tokens.

They live outside /api/v1 so that every address under /api/v1 is the JSON API: a token there is
answered in problem+json, never with the HTML login form. The API's own token endpoints are in
api/endpoints/tokens.py; both call api/tokens.py.
"""
import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from appeals.api import tokens
from appeals.auth.models import ApiToken, User
from appeals.auth.permissions import can
from appeals.core.extensions import db

bp = Blueprint("tokens", __name__)


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


# base.html links `tokens.page`.
@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def page():
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
def revoke(token_id):
    token = db.session.get(ApiToken, token_id)
    if token is None:
        return _error_page(404)
    if token.user_id != current_user.id and not can(current_user, "admin.users"):
        return _error_page(403)
    tokens.revoke_token(token, actor=current_user)
    flash(_("Token %(prefix)s… revoked.", prefix=token.prefix), "success")
    owner = db.session.get(User, token.user_id)
    args = {} if owner.id == current_user.id else {"user": owner.username}
    return redirect(url_for("tokens.page", **args))
