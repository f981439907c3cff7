"""Bearer-token authentication for API requests; cookies are never consulted."""
from flask import g, request
from flask_babel import gettext as _

from appeals.api import tokens
from appeals.api.problems import ApiError

CHALLENGE = 'Bearer realm="qabyldau"'


def authenticate_request():
    header = request.headers.get("Authorization", "")
    scheme, _sep, secret = header.partition(" ")
    if not header:
        raise ApiError(401, headers={"WWW-Authenticate": CHALLENGE})
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, _("Use the Bearer scheme: Authorization: Bearer <token>."),
                       headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_request"'})
    token = tokens.find_active_token(secret.strip())
    if token is None:
        raise ApiError(401, _("The token is unknown, revoked, or its account is deactivated."),
                       headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'})
    user = token.user
    token_budget, user_budget = tokens.take_slots(token)
    # The headers report the tighter of the two budgets (the one that will refuse first).
    g.api_budget = min((token_budget, user_budget), key=lambda b: (b.remaining, -b.reset))
    if token_budget.wait:
        raise ApiError(429, _("Too many requests with this token. Try again in %(n)d s.", n=token_budget.wait),
                       headers={"Retry-After": str(token_budget.wait)})
    if user_budget.wait:
        raise ApiError(429, _("Too many requests from this account (all its tokens together). Try again in %(n)d s.",
                              n=user_budget.wait), headers={"Retry-After": str(user_budget.wait)})
    g.api_token, g.api_user = token, user
    # Flask-Login's current_user (audit records, permission helpers) is the token's user, and the
    # session cookie is never looked at for the API.
    g._login_user = user
    return user
