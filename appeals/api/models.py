"""The API's own tables (its idempotency keys live in appeals/core/idempotency.py, shared with the web forms)."""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from appeals.core.extensions import db


class ApiRateWindow(db.Model):
    """Requests per token in one fixed one-minute window, shared by every worker process.

    A row per (token, window start); rows of past windows are deleted when a new window opens.
    """

    __tablename__ = "api_rate_windows"

    token_id: Mapped[int] = mapped_column(sa.ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
