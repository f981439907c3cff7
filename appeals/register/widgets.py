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


@hooks.appeal_page_blocks.connect
def attachments_block(appeal: Any, user: User) -> hooks.Block | None:
    """The appeal's scans and photos, for the roles that may see the applicant's data; nothing at all
    (not even how many there are) for the others."""
    from appeals.register import attachments

    if not can(user, "appeal.attachments.view", appeal):
        return None
    return hooks.Block("register/_attachments.html", {
        "files": attachments.visible_attachments(appeal, user),
        "can_add": can(user, "appeal.attachments.add", appeal),
        "can_remove": can(user, "appeal.attachments.remove", appeal),
        "max_files": attachments.max_files(),
        "max_file_mb": attachments.storage.max_file_bytes() // (1024 * 1024),
    }, order=5)
