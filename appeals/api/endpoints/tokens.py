"""One's own API tokens: list, create (with an expiry), revoke. The same rules as the token page."""
from flask import current_app

from appeals.api import tokens
from appeals.api.endpoints import current, get_or_404
from appeals.api.problems import ApiError
from appeals.api.registry import endpoint
from appeals.api.schemas import meta as schemas
from appeals.api.views import bp
from appeals.auth.models import ApiToken
from appeals.core.timeutil import utcnow


def token_out(token: ApiToken, secret: str | None = None) -> dict:
    data = {name: getattr(token, name) for name in ("id", "name", "prefix", "created_at", "expires_at",
                                                    "last_used_at", "revoked_at")}
    data["active"] = token.is_active_at(utcnow())
    if secret is not None:
        data["secret"] = secret
    return data


@endpoint(bp, "GET", "/tokens", summary="List your API tokens", tag="Meta", response=schemas.TokenList,
          permission="api.use")
def list_tokens():
    """Your own tokens, active first; the secrets themselves are never shown again."""
    return {"items": [token_out(t) for t in tokens.tokens_of(current())],
            "active_limit": current_app.config["API_TOKENS_PER_USER"]}


@endpoint(bp, "POST", "/tokens", summary="Create an API token", tag="Meta", body=schemas.TokenIn,
          response=schemas.TokenCreated, status=201, permission="api.use")
def create_token(body):
    """A new token for your own account (an account holds at most API_TOKENS_PER_USER active ones: 422
    beyond). The secret is in this response only. Not idempotent on purpose: a replayed response
    would have to keep the secret."""
    token, secret = tokens.create_token(current(), body.name, actor=current(), days=body.days, via="api")
    return token_out(token, secret)


@endpoint(bp, "DELETE", "/tokens/<int:token_id>", summary="Revoke one of your API tokens", tag="Meta",
          status=204, permission="api.use")
def revoke_token(token_id):
    """Revoking the token of this request is allowed: the next request with it gets 401. Another
    account's token is 404, as if it did not exist."""
    token = get_or_404(ApiToken, token_id)
    if token.user_id != current().id:
        raise ApiError(404)
    tokens.revoke_token(token, actor=current())
