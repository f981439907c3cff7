"""The answer deadlines of an appeal (APPK): the term per appeal type, due date, suspension of the
clock, forwarding limit, extension limit, due soon. The one home of these rules: the register, the
lists, the statistics and the morning notices all ask here.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from appeals.core import audit
from appeals.core.database import write_transaction
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.timeutil import local_today, utcnow
from appeals.register.models import (
    APPEAL_TYPES,
    OPEN_STATUSES,
    Appeal,
    DeadlineRule,
)
from appeals.register.rules import add_working_days, is_working_day

if TYPE_CHECKING:
    from appeals.auth.models import User

# APPK art. 76 as e-Otinish applies it: 15 working days for statements, proposals, requests and
# responses, 20 for complaints (art. 91). The migration writes these rows; the admin may change them.
DEFAULT_WORKING_DAYS = {"statement": 15, "complaint": 20, "proposal": 15, "response": 15, "request": 15}
TERM_MIN, TERM_MAX = 1, 60


@functools.cache
def _term_of_type() -> sa.Select:
    # Built once per process: every registration only binds the type.
    return sa.select(DeadlineRule.working_days).where(DeadlineRule.appeal_type == sa.bindparam("appeal_type"))


def working_days_for(appeal_type: str | None) -> int:
    """The answer term of `appeal_type` from the table; the APPK default for a type without a row
    (a database restored from an old export); 15 for an unknown type."""
    if appeal_type:
        days = db.session.scalar(_term_of_type(), {"appeal_type": appeal_type})
        if days:
            return int(days)
    return DEFAULT_WORKING_DAYS.get(appeal_type or "", DEFAULT_WORKING_DAYS["statement"])


def first_counted_day(received: date) -> date:
    """The day the term starts from: the receipt day, or the next working day when it was received on a day off."""
    day = received
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def compute_due_date(received_date: date | datetime, working_days: int | None = None, *,
                     appeal_type: str | None = None) -> date:
    """The answer deadline: the term of `appeal_type` (or `working_days`) in Kazakh working days,
    counted from the day after receipt — from the next working day for one received on a day off."""
    if isinstance(received_date, datetime):
        received_date = received_date.date()
    if working_days is None:
        working_days = working_days_for(appeal_type)
    return add_working_days(first_counted_day(received_date), working_days)


def paused_working_days(started_on: date, resumed_on: date) -> int:
    """Working days the clock stood still: from the day it was stopped up to (not including) the day it resumed."""
    count = 0
    day = started_on
    while day < resumed_on:
        if is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return count


def resumed_due_date(due: date, paused_days: int) -> date:
    """The deadline after a pause: the paused working days added to it."""
    return add_working_days(due, paused_days) if paused_days > 0 else due


def forward_due_date(received_date: date | datetime) -> date:
    """APPK: an appeal outside the office's competence goes to the competent body within 3 working days."""
    if isinstance(received_date, datetime):
        received_date = received_date.date()
    return add_working_days(received_date, current_app.config["APPEAL_FORWARD_WORKING_DAYS"])


def extension_notice_due(decided_on: date) -> date:
    """APPK: the applicant learns of an extension within 3 working days of the decision."""
    return add_working_days(decided_on, 3)


def due_soon_limit(today: date | None = None) -> date:
    return add_working_days(today or local_today(), current_app.config["APPEAL_DUE_SOON_WORKING_DAYS"])


# Spelled as the partial index ix_appeals_open_due's own WHERE, so SQLite's planner can use the index.
OPEN_CONDITION = sa.text("appeals.status IN ('registered', 'in_review', 'forwarded')")


def clock_running() -> sa.ColumnElement[bool]:
    """SQL: the appeal's clock is not suspended (a suspended appeal is neither overdue nor due soon)."""
    return Appeal.suspended_since.is_(None)


def overdue_condition(today: date | None = None) -> sa.ColumnElement[bool]:
    """SQL: open, the clock running, past its deadline. Lists, statistics and notices use this one rule."""
    return sa.and_(OPEN_CONDITION, clock_running(), Appeal.due_date < (today or local_today()))


def is_overdue(appeal: Appeal, today: date | None = None) -> bool:
    """The Python twin of overdue_condition for appeals already loaded."""
    return (appeal.status in OPEN_STATUSES and appeal.suspended_since is None
            and appeal.due_date < (today or local_today()))


def deadline_state(appeal: Appeal, today: date | None = None) -> str | None:
    """'suspended', 'overdue', 'due_soon' or None, for open appeals only."""
    if appeal.status not in OPEN_STATUSES:
        return None
    if appeal.suspended_since is not None:
        return "suspended"
    today = today or local_today()
    if appeal.due_date < today:
        return "overdue"
    if appeal.due_date <= due_soon_limit(today):
        return "due_soon"
    return None


def extension_limit(appeal: Appeal) -> date:
    return appeal.original_due_date + timedelta(days=current_app.config["APPEAL_MAX_EXTENSION_DAYS"])


# --- The table of terms, edited by the admin -----------------------------------------------

def deadline_rules() -> dict[str, int]:
    """Every appeal type's term in working days, in the order of APPEAL_TYPES."""
    stored = {kind: days for kind, days in db.session.execute(sa.select(DeadlineRule.appeal_type, DeadlineRule.working_days))}
    return {kind: int(stored.get(kind) or DEFAULT_WORKING_DAYS[kind]) for kind in APPEAL_TYPES}


def save_deadline_rules(values: Mapping[str, Any], actor: User | None) -> dict[str, list[int]]:
    """Set the terms (working days per appeal type); every changed term is audited. Returns the changes.

    New terms apply to appeals registered from now on; the deadlines already set stay (the
    applicant was told them).
    """
    errors: dict[str, list[str]] = {}
    wanted: dict[str, int] = {}
    for kind in APPEAL_TYPES:
        raw = values.get(kind)
        try:
            days = int(str(raw).strip())
        except (TypeError, ValueError):
            errors[kind] = [_("Enter a whole number of working days.")]
            continue
        if not TERM_MIN <= days <= TERM_MAX:
            errors[kind] = [_("Between %(low)d and %(high)d working days.", low=TERM_MIN, high=TERM_MAX)]
            continue
        wanted[kind] = days
    if errors:
        raise DomainError(_("Check the terms."), errors=errors)
    changes: dict[str, list[int]] = {}
    with write_transaction():
        rows = {row.appeal_type: row for row in db.session.scalars(sa.select(DeadlineRule).with_for_update())}
        for kind, days in wanted.items():
            row = rows.get(kind)
            if row is None:
                row = DeadlineRule(appeal_type=kind, working_days=DEFAULT_WORKING_DAYS[kind], updated_at=utcnow())
                db.session.add(row)
            if row.working_days != days:
                changes[kind] = [row.working_days, days]
                row.working_days = days
                row.updated_at = utcnow()
                row.updated_by_id = getattr(actor, "id", None)
        if changes:
            audit.record("deadline_rules_updated", object_type="deadline_rules", label="", changes=changes, user=actor)
    return changes
