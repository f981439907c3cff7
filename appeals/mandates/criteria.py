"""Which appeals a directive's criteria select: per appeal (matches, unmet criteria) and as SQL (candidates)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from appeals.core.database import fold
from appeals.core.extensions import db
from appeals.mandates.models import (
    MandateAppeal,
)
from appeals.mandates.search import escape_like, folded, split_keywords
from appeals.register.districts import appeal_district_id, appeal_in_districts
from appeals.register.models import Appeal
from appeals.register.periods import received_between

if TYPE_CHECKING:
    from appeals.mandates.models import Directive


def _criteria_results(directive: Directive, appeal: Appeal) -> dict[str, bool]:
    """{criterion: True/False} for every criterion the directive sets."""
    results: dict[str, bool] = {}
    if directive.appeal_types:
        results["appeal_types"] = appeal.appeal_type in directive.appeal_types
    if directive.category_ids:
        results["categories"] = appeal.category_id in directive.category_ids
    if directive.settlement_ids or directive.district_ids:
        results["place"] = appeal.settlement_id in (directive.settlement_ids or []) or (
            appeal_district_id(appeal) in (directive.district_ids or [])
        )
    words = split_keywords(directive.keywords)
    if words:
        haystack = fold(f"{appeal.summary} {appeal.text}")
        results["keywords"] = any(word in haystack for word in words)
    if directive.min_signatories:
        results["min_signatories"] = (appeal.signatories or 1) >= directive.min_signatories
    if directive.received_from or directive.received_to:
        day = appeal.received_at.date()
        results["received_window"] = (directive.received_from is None or day >= directive.received_from) and (
            directive.received_to is None or day <= directive.received_to
        )
    return results


def matches(directive: Directive, appeal: Appeal) -> list[str]:
    """Names of the directive's criteria the appeal meets."""
    return [name for name, ok in _criteria_results(directive, appeal).items() if ok]


def unmet_criteria(directive: Directive, appeal: Appeal) -> list[str]:
    """Names of the directive's criteria the appeal does not meet (empty: it qualifies)."""
    return [name for name, ok in _criteria_results(directive, appeal).items() if not ok]


def matched_keywords(directive: Directive, appeal: Appeal) -> list[str]:
    haystack = fold(f"{appeal.summary} {appeal.text}")
    return [word for word in split_keywords(directive.keywords) if word in haystack]


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min)


def criteria_conditions(directive: Directive) -> list[Any]:
    """SQL conditions on Appeal equivalent to matches() being complete."""
    conditions: list[Any] = []
    if directive.appeal_types:
        conditions.append(Appeal.appeal_type.in_(directive.appeal_types))
    if directive.category_ids:
        conditions.append(Appeal.category_id.in_(directive.category_ids))
    if directive.settlement_ids or directive.district_ids:
        place: list[Any] = []
        if directive.settlement_ids:
            place.append(Appeal.settlement_id.in_(directive.settlement_ids))
        if directive.district_ids:
            place.append(appeal_in_districts(directive.district_ids))
        conditions.append(sa.or_(*place))
    words = split_keywords(directive.keywords)
    if words:
        dialect = db.session.get_bind().dialect.name
        haystack = folded(Appeal.summary + " " + sa.func.coalesce(Appeal.text, ""), dialect)
        conditions.append(sa.or_(*[haystack.like(f"%{escape_like(w)}%", escape="\\") for w in words]))
    if directive.min_signatories:
        conditions.append(sa.func.coalesce(Appeal.signatories, 1) >= directive.min_signatories)
    if directive.received_from or directive.received_to:
        conditions.append(received_between(directive.received_from, directive.received_to))
    return conditions


def _flagged_under(directive_id: int) -> sa.Select:
    return sa.select(MandateAppeal.appeal_id).where(
        MandateAppeal.directive_id == directive_id, MandateAppeal.removed_at.is_(None)
    )


def candidate_query(directive: Directive, filters: Mapping[str, Any] | None = None) -> sa.Select:
    """Appeals not yet flagged under the directive, meeting its criteria (unless filters['all']).

    filters: q (number or words of the summary), office_id, settlement_id, district_id,
    appeal_type, category_id, all (also show appeals that miss criteria, for an override).
    """
    filters = filters or {}
    query = sa.select(Appeal).where(
        Appeal.status != "withdrawn", Appeal.id.not_in(_flagged_under(directive.id))
    )
    if not filters.get("all"):
        query = query.where(*criteria_conditions(directive))
    q = (filters.get("q") or "").strip()
    if q:
        dialect = db.session.get_bind().dialect.name
        pattern = f"%{escape_like(fold(q))}%"
        query = query.where(sa.or_(
            Appeal.number == q,
            folded(Appeal.summary, dialect).like(pattern, escape="\\"),
        ))
    for key, column in (("office_id", Appeal.office_id), ("settlement_id", Appeal.settlement_id),
                        ("category_id", Appeal.category_id), ("appeal_type", Appeal.appeal_type)):
        if filters.get(key):
            query = query.where(column == filters[key])
    if filters.get("district_id"):
        query = query.where(appeal_in_districts([filters["district_id"]]))
    return query.order_by(Appeal.received_at.desc(), Appeal.id.desc())
