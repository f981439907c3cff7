"""Blocks this domain contributes to other pages (see appeals.core.hooks)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appeals.auth.permissions import can
from appeals.core import hooks
from appeals.register import queries

if TYPE_CHECKING:
    from appeals.auth.models import User

WATCH_LIMIT = 10


def _deadlines_block_context(user: User) -> dict[str, Any] | None:
    """Clerks and coordinators first see what is overdue or about to be, within what they may see."""
    if not can(user, "appeal.edit"):
        return None
    overdue, soon = queries.deadline_watch(user, limit=WATCH_LIMIT)
    return {"overdue": overdue, "soon": soon, "limit": WATCH_LIMIT}


@hooks.home_blocks.connect
def deadlines_block(user: User) -> hooks.Block | None:
    context = _deadlines_block_context(user)
    return None if context is None else hooks.Block("register/_widget.html", context, order=10)
