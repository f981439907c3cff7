"""The answer deadlines of an appeal (APPK): due date, forwarding limit, extension limit, due soon."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app

from appeals.core.timeutil import local_today
from appeals.register.models import (
    OPEN_STATUSES,
)
from appeals.register.rules import add_working_days

if TYPE_CHECKING:
    from appeals.register.models import Appeal


def compute_due_date(received_date: date | datetime, working_days: int | None = None) -> date:
    """The answer deadline: `working_days` (default APPEAL_DEADLINE_WORKING_DAYS) Kazakh working days after receipt."""
    if isinstance(received_date, datetime):
        received_date = received_date.date()
    if working_days is None:
        working_days = current_app.config["APPEAL_DEADLINE_WORKING_DAYS"]
    return add_working_days(received_date, working_days)


def forward_due_date(received_date: date | datetime) -> date:
    """APPK: an appeal outside the office's competence goes to the competent body within 3 working days."""
    if isinstance(received_date, datetime):
        received_date = received_date.date()
    return add_working_days(received_date, current_app.config["APPEAL_FORWARD_WORKING_DAYS"])


def due_soon_limit(today: date | None = None) -> date:
    return add_working_days(today or local_today(), current_app.config["APPEAL_DUE_SOON_WORKING_DAYS"])


def deadline_state(appeal: Appeal, today: date | None = None) -> str | None:
    """'overdue', 'due_soon' or None, for open appeals only."""
    if appeal.status not in OPEN_STATUSES:
        return None
    today = today or local_today()
    if appeal.due_date < today:
        return "overdue"
    if appeal.due_date <= due_soon_limit(today):
        return "due_soon"
    return None


def extension_limit(appeal: Appeal) -> date:
    return appeal.original_due_date + timedelta(days=current_app.config["APPEAL_MAX_EXTENSION_DAYS"])
