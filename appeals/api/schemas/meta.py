"""Schemas of the API's own endpoints (who am I, one's own tokens)."""
from typing import Annotated, Literal, Optional

from pydantic import Field

from appeals.api.schemas.base import RequestModel, ResponseModel, Text, UtcDateTime
from appeals.auth.models import ROLES


class MeOut(ResponseModel):
    id: int
    username: str
    full_name: str
    role: Literal[ROLES]
    office_codes: list[str]
    token_prefix: str


class TokenOut(ResponseModel):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the secret, to tell tokens apart.")
    created_at: UtcDateTime
    expires_at: Optional[UtcDateTime] = Field(description="None only for tokens issued before expiry existed.")
    last_used_at: Optional[UtcDateTime]
    revoked_at: Optional[UtcDateTime]
    active: bool = Field(description="Neither revoked nor expired.")


class TokenList(ResponseModel):
    items: list[TokenOut]
    active_limit: int = Field(description="How many active tokens an account may hold (API_TOKENS_PER_USER).")


class TokenIn(RequestModel):
    name: Annotated[Text, Field(max_length=100)] = Field("", description="What the token is for.")
    days: Optional[int] = Field(
        None, ge=1, le=3650,
        description="Days until it expires; default API_TOKEN_DEFAULT_DAYS (90), at most API_TOKEN_MAX_DAYS (365): "
                    "a larger number is refused with 422.")


class TokenCreated(TokenOut):
    secret: str = Field(description="The token itself (Authorization: Bearer <secret>). Shown only in this response.")
