"""Schemas of the API's own endpoints (who am I)."""
from typing import Literal

from appeals.api.schemas.base import ResponseModel
from appeals.auth.models import ROLES


class MeOut(ResponseModel):
    id: int
    username: str
    full_name: str
    role: Literal[ROLES]
    office_codes: list[str]
    token_prefix: str
