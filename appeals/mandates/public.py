"""What the public pages read: published mandates only, their reviewed public text, dated updates.

One home for "public": `published()` is the condition every public query starts from (the list,
one mandate, the summaries, the feed, photos); nothing here reads a mandate's own title, its
appeals or their applicants. Update texts are written by staff, for the public; they are shown
with IIN-, phone-, e-mail- and address-like fragments hidden all the same (core.privacy).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from appeals.core.extensions import db
from appeals.core.parsing import FieldErrors, parse_choice, parse_id
from appeals.core.privacy import redact_for_public
from appeals.mandates.models import (
    MANDATE_STATUSES,
    Mandate,
    MandateProgressNote,
    MandateUpdatePhoto,
)
from appeals.mandates.publication import applicant_terms
from appeals.reference.models import Category, District, Settlement

PUBLIC_STATUSES = tuple(status for status in MANDATE_STATUSES if status != "withdrawn")
PUBLIC_FILTER_IDS = ("district_id", "settlement_id", "category_id")


def published() -> sa.ColumnElement[bool]:
    """The one condition of being on the public pages (Mandate.is_published in SQL)."""
    return sa.and_(Mandate.public_state == "published", Mandate.status != "withdrawn")


def parse_public_filters(args: Mapping[str, Any], errors: FieldErrors) -> dict[str, Any]:
    filters: dict[str, Any] = {key: errors(parse_id, args.get(key), key) for key in PUBLIC_FILTER_IDS}
    filters["status"] = errors(parse_choice, args.get("status"), PUBLIC_STATUSES, "status") or ""
    return filters


def public_query(filters: Mapping[str, Any]) -> sa.Select:
    query = sa.select(Mandate).where(published()).options(
        selectinload(Mandate.settlement).selectinload(Settlement.district), selectinload(Mandate.category))
    if filters.get("settlement_id"):
        query = query.where(Mandate.settlement_id == filters["settlement_id"])
    if filters.get("district_id"):
        query = query.where(Mandate.settlement_id.in_(
            sa.select(Settlement.id).where(Settlement.district_id == filters["district_id"])))
    if filters.get("category_id"):
        query = query.where(Mandate.category_id == filters["category_id"])
    if filters.get("status"):
        query = query.where(Mandate.status == filters["status"])
    return query.order_by(Mandate.public_approved_at.desc(), Mandate.id.desc())


def public_mandate(number: str) -> Optional[Mandate]:
    return db.session.scalar(sa.select(Mandate).where(Mandate.number == number, published()).options(
        selectinload(Mandate.notes).selectinload(MandateProgressNote.photos),
        selectinload(Mandate.settlement).selectinload(Settlement.district)))


def public_photo(photo_id: int) -> Optional[MandateUpdatePhoto]:
    return db.session.scalar(
        sa.select(MandateUpdatePhoto).join(MandateProgressNote).join(Mandate, Mandate.id == MandateProgressNote.mandate_id)
        .where(MandateUpdatePhoto.id == photo_id, published()))


def public_note_text(mandate: Mandate, text: str) -> str:
    return redact_for_public(text, applicant_terms((link.appeal for link in mandate.links), strict=True))


def filter_choices() -> dict[str, Sequence[Any]]:
    """Districts, settlements and categories that have published mandates (the filters offer no empty choice)."""
    settlement_ids = sa.select(Mandate.settlement_id).where(published(), Mandate.settlement_id.is_not(None))
    settlements = db.session.scalars(sa.select(Settlement).where(Settlement.id.in_(settlement_ids))
                                     .options(selectinload(Settlement.district))
                                     .order_by(Settlement.district_id, Settlement.name_kk)).all()
    districts = db.session.scalars(sa.select(District).where(
        District.id.in_({s.district_id for s in settlements} or {-1})).order_by(District.code)).all()
    categories = db.session.scalars(sa.select(Category).where(Category.id.in_(
        sa.select(Mandate.category_id).where(published()))).order_by(Category.sort_order)).all()
    return {"districts": districts, "settlements": settlements, "categories": categories}


@dataclass
class SummaryRow:
    place: Any  # a District or a Settlement
    district: Any
    counts: dict[str, int]
    total: int
    average_progress: int


def summary(by: str) -> list[SummaryRow]:
    """Published mandates per district or per settlement: counts by status and the average progress."""
    if by == "district":
        key: Any = Settlement.district_id
    else:
        key = Mandate.settlement_id
    rows = db.session.execute(
        sa.select(key, Mandate.status, sa.func.count(Mandate.id), sa.func.sum(Mandate.progress_percent))
        .join(Settlement, Settlement.id == Mandate.settlement_id).where(published())
        .group_by(key, Mandate.status)).all()
    grouped: dict[int, dict[str, Any]] = {}
    for place_id, status, count, progress in rows:
        entry = grouped.setdefault(place_id, {"counts": {}, "total": 0, "progress": 0})
        entry["counts"][status] = count
        entry["total"] += count
        entry["progress"] += progress or 0
    model: Any = District if by == "district" else Settlement
    places: dict[int, Any] = {p.id: p for p in db.session.scalars(sa.select(model).where(model.id.in_(grouped or {-1})))}
    result = [SummaryRow(place=places[pid], district=places[pid] if by == "district" else places[pid].district,
                         counts=entry["counts"], total=entry["total"],
                         average_progress=round(entry["progress"] / entry["total"]) if entry["total"] else 0)
              for pid, entry in grouped.items() if pid in places]
    return sorted(result, key=lambda row: (row.district.code, row.place.name_kk))


def feed_entries(filters: Mapping[str, Any], limit: int = 50) -> Sequence[MandateProgressNote]:
    """The latest progress updates of published mandates (optionally one mandate or settlement)."""
    query = (sa.select(MandateProgressNote).join(Mandate, Mandate.id == MandateProgressNote.mandate_id)
             .where(published()).options(selectinload(MandateProgressNote.mandate), selectinload(MandateProgressNote.photos))
             .order_by(MandateProgressNote.created_at.desc(), MandateProgressNote.id.desc()).limit(limit))
    if filters.get("mandate_id"):
        query = query.where(Mandate.id == filters["mandate_id"])
    if filters.get("settlement_id"):
        query = query.where(Mandate.settlement_id == filters["settlement_id"])
    if filters.get("district_id"):
        query = query.where(Mandate.settlement_id.in_(
            sa.select(Settlement.id).where(Settlement.district_id == filters["district_id"])))
    return db.session.scalars(query).all()
