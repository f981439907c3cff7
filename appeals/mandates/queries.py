"""Lists of mandates: the user's scope, filters, overdue ones, an appeal's mandates, a directive's progress."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from appeals.auth.permissions import may_search_personal, scope_mandates
from appeals.core.database import fold
from appeals.core.extensions import db
from appeals.core.parsing import FieldErrors, parse_choice, parse_date, parse_flag, parse_id
from appeals.core.timeutil import local_today
from appeals.mandates.models import (
    MANDATE_STATUSES,
    OPEN_MANDATE_STATUSES,
    Mandate,
    MandateAppeal,
)
from appeals.mandates.periods import counted, formed_from_appeals_received, registered_between
from appeals.mandates.search import escape_like, folded
from appeals.register.districts import settlement_in_districts

if TYPE_CHECKING:
    from appeals.auth.models import User
    from appeals.mandates.models import Directive
    from appeals.register.models import Appeal

MANDATE_FILTER_IDS = ("directive_id", "office_id", "district_id", "settlement_id", "category_id")
MANDATE_FILTER_DAYS = ("date_from", "date_to", "received_from", "received_to")
MANDATE_FILTER_STATUSES = (*MANDATE_STATUSES, "open", "counted")


def parse_mandate_filters(args: Mapping[str, Any], errors: Optional[FieldErrors] = None) -> dict[str, Any]:
    """Query-string arguments of the mandates list (and its printed list) to typed filters, by
    core.parsing's rules. A bad value (a date outside 2000–2100, an id that is no number, an unknown
    status) raises ParseError, or, with `errors` given, is collected there and that filter left out."""
    collect = FieldErrors() if errors is None else errors
    filters: dict[str, Any] = {key: collect(parse_id, args.get(key), key) for key in MANDATE_FILTER_IDS}
    filters.update({key: collect(parse_date, args.get(key), key) for key in MANDATE_FILTER_DAYS})
    filters.update({
        "q": str(args.get("q") or "").strip()[:100],
        "status": collect(parse_choice, args.get("status"), MANDATE_FILTER_STATUSES, "status") or "",
        "overdue": parse_flag(args.get("overdue")),
    })
    if errors is None:
        collect.raise_if_any()
    return filters


def build_mandate_query(filters: Mapping[str, Any] | None, user: User) -> sa.Select:
    """Mandates visible to `user`, filtered by directive_id, office_id, settlement_id, district_id,
    status ('open': registered or in progress; 'counted': all but withdrawn), overdue, q (number or
    title), date_from/date_to (registered on those days), received_from/received_to (formed from
    appeals received on those days; see mandates.periods)."""
    filters = filters or {}
    query = scope_mandates(sa.select(Mandate), user)
    for key, column in (("directive_id", Mandate.directive_id), ("office_id", Mandate.office_id),
                        ("settlement_id", Mandate.settlement_id), ("category_id", Mandate.category_id)):
        if filters.get(key):
            query = query.where(column == filters[key])
    if filters.get("district_id"):
        query = query.where(settlement_in_districts(Mandate.settlement_id, [filters["district_id"]]))
    if filters.get("date_from") or filters.get("date_to"):
        query = query.where(registered_between(filters.get("date_from"), filters.get("date_to")))
    if filters.get("received_from") or filters.get("received_to"):
        query = query.where(formed_from_appeals_received(filters.get("received_from"), filters.get("received_to")))
    status = filters.get("status")
    if status == "counted":
        query = query.where(counted())
    elif status == "open":
        query = query.where(Mandate.status.in_(OPEN_MANDATE_STATUSES))
    elif status in MANDATE_STATUSES:
        query = query.where(Mandate.status == status)
    if filters.get("overdue"):
        query = query.where(overdue_condition())
    q = (filters.get("q") or "").strip()
    if q and not may_search_personal(user) and (sum(c.isdigit() for c in q) >= 6 or "@" in q):
        # Titles start as appeals' summaries: an IIN, phone or e-mail finds nothing by title for masked roles.
        query = query.where(Mandate.number == q)
    elif q:
        dialect = db.session.get_bind().dialect.name
        query = query.where(sa.or_(
            Mandate.number == q, folded(Mandate.title, dialect).like(f"%{escape_like(fold(q))}%", escape="\\"),
        ))
    return query.order_by(Mandate.directive_id.desc(), Mandate.seq.desc())


def overdue_condition(today: date | None = None) -> sa.ColumnElement[bool]:
    return sa.and_(Mandate.status.in_(OPEN_MANDATE_STATUSES), Mandate.target_date < (today or local_today()))


def is_overdue(mandate: Mandate, today: date | None = None) -> bool:
    return (mandate.status in OPEN_MANDATE_STATUSES and mandate.target_date is not None
            and mandate.target_date < (today or local_today()))


def mandates_for_appeal(appeal: Appeal) -> Sequence[MandateAppeal]:
    """Active links of the appeal to mandates (with mandate and directive), for the appeal page."""
    return db.session.scalars(
        sa.select(MandateAppeal)
        .where(MandateAppeal.appeal_id == appeal.id, MandateAppeal.removed_at.is_(None))
        .options(selectinload(MandateAppeal.mandate).selectinload(Mandate.directive))
        .order_by(MandateAppeal.id)
    ).all()


def directive_progress(directive: Directive, user: User | None = None) -> dict[str, Any]:
    """Counts of the directive's mandates by status and the number of flagged appeals; with `user`, of
    the mandates that user sees (a central directive's progress in one region, for its coordinator)."""
    def scoped(query: sa.Select) -> sa.Select:
        return query if user is None else scope_mandates(query, user)

    rows = db.session.execute(
        scoped(sa.select(Mandate.status, sa.func.count(Mandate.id)).where(Mandate.directive_id == directive.id))
        .group_by(Mandate.status)
    ).all()
    by_status = {status: count for status, count in rows}
    appeals = db.session.scalar(
        scoped(sa.select(sa.func.count(MandateAppeal.id)).join(Mandate, Mandate.id == MandateAppeal.mandate_id).where(
            MandateAppeal.directive_id == directive.id, MandateAppeal.removed_at.is_(None)
        ))
    )
    active = sum(count for status, count in by_status.items() if status != "withdrawn")
    overdue = db.session.scalar(
        scoped(sa.select(sa.func.count(Mandate.id)).where(Mandate.directive_id == directive.id, overdue_condition()))
    )
    fulfilled = by_status.get("fulfilled", 0)
    return {
        "by_status": by_status,
        "mandates": active,
        "appeals": appeals or 0,
        "fulfilled": fulfilled,
        "overdue": overdue or 0,
        "fulfilled_share": (fulfilled / active) if active else 0.0,
        "target_share": (min(active / directive.target_count, 1.0) if directive.target_count else None),
    }
