"""Possible repeats: earlier appeals of the same person, or about the same thing in the same settlement."""
from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app

from appeals.auth.permissions import scope_appeals
from appeals.core import audit
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.parsing import lenient, parse_datetime
from appeals.core.search_fold import search_fold
from appeals.core.timeutil import local_now, utcnow
from appeals.register.models import (
    Appeal,
)
from appeals.register.rules import (
    RuleViolation,
    check_phone,
)
from appeals.register.validation import (
    FUTURE_TOLERANCE,
    int_or_none,
    text_value,
)

REPEAT_WINDOW_DAYS = 90
SIMILARITY_THRESHOLD = 0.72
# At most this many earlier appeals of the same person, and of the same settlement, are looked at (newest first).
IDENTITY_SCAN = 200
SETTLEMENT_SCAN = 300
# What the form and the API show of a possible repeat, and need to mask it.
SHOWN_COLUMNS = (Appeal.id, Appeal.office_id, Appeal.number, Appeal.received_at, Appeal.status, Appeal.summary,
                 Appeal.applicant_name, Appeal.iin, Appeal.phone, Appeal.address)

if TYPE_CHECKING:
    from appeals.auth.models import User


def _normalise_text(value: str | None) -> str:
    # Folded as the register search folds: «Нұрлан» and «Нурлан» are the same word here too.
    return " ".join(re.findall(r"\w+", search_fold(value)))


class _Similarity:
    """Whether other summaries are like one: the better of difflib's ratio and the words' Jaccard index, of
    the texts folded as the search folds them, reaches a threshold. The summary is folded once; difflib's
    upper bounds (real_quick_ratio, quick_ratio) spare the full ratio where it cannot reach the threshold."""

    def __init__(self, summary: str | None) -> None:
        self.text = _normalise_text(summary)
        self.words = set(self.text.split())

    def reaches(self, other: str | None, threshold: float) -> bool:
        b = _normalise_text(other)
        if not self.text or not b:
            return 0.0 >= threshold
        words_b = set(b.split())
        if len(self.words & words_b) / len(self.words | words_b) >= threshold:
            return True
        matcher = difflib.SequenceMatcher(None, self.text, b)
        return (matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold
                and matcher.ratio() >= threshold)


@dataclass
class RepeatCheck:
    """What the repeat check may tell the actor.

    `appeals`: earlier appeals the actor may see; `elsewhere`: the same IIN or phone has an appeal in
    an office the actor cannot see (they learn no number, date or status: they ask the coordinator);
    `limited`: the actor's matching look-ups of the last hour ran out, so none were shown.
    """

    appeals: list
    elsewhere: bool = False
    limited: bool = False

    def __bool__(self) -> bool:
        return bool(self.appeals or self.elsewhere or self.limited)


@dataclass(frozen=True)
class _Identity:
    """The new appeal's IIN and phone (E.164), normalised once: what earlier appeals of the same person share."""

    iin: str
    phone: str  # "" when none was given or it is not a phone number

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> _Identity:
        phone = text_value(data, "phone")
        if phone:
            try:
                phone = check_phone(phone)
            except RuleViolation:
                phone = ""
        return cls("".join(text_value(data, "iin").split()), phone)

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        identity: list[sa.ColumnElement[bool]] = []
        if self.iin:
            identity.append(Appeal.iin == self.iin)
        if self.phone:
            identity.append(Appeal.phone == self.phone)
        return identity

    def matches(self, appeal: Appeal) -> bool:
        return bool((self.iin and appeal.iin == self.iin) or (self.phone and appeal.phone == self.phone))


def identity_conditions(data: Mapping[str, Any]) -> list[sa.ColumnElement[bool]]:
    """Conditions matching earlier appeals of the same person (IIN or phone), for checks without a clerk."""
    return _Identity.of(data).conditions()


def _matching_lookups_last_hour(actor: User) -> int:
    since = utcnow() - timedelta(hours=1)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(audit.AuditRecord)
        .where(audit.AuditRecord.user_id == actor.id, audit.AuditRecord.action == "repeat_check_matched",
               audit.AuditRecord.created_at >= since)
    ) or 0


def find_possible_repeats(data: Mapping[str, Any], actor: User, limit: int = 10) -> RepeatCheck:
    """Earlier appeals (last 90 days) of the same person (IIN, phone) or about the same thing in the same settlement.

    The check looks at the actor's own scope only (issue 13, finding 9): a match by IIN or phone in an
    office the actor cannot see says only that one exists. A look-up whose IIN or phone matches is
    recorded in the audit trail (without the IIN or phone) and counts against
    REPEAT_CHECK_MATCHES_PER_HOUR; past it the check shows nothing and says so.
    """
    received_at = lenient(parse_datetime, data.get("received_at")) or local_now()
    since = received_at - timedelta(days=REPEAT_WINDOW_DAYS)
    window = sa.and_(Appeal.received_at >= since, Appeal.received_at <= received_at + FUTURE_TOLERANCE)
    exclude = int_or_none(data.get("exclude_id"))
    identity = _Identity.of(data).conditions()
    settlement_id = int_or_none(data.get("settlement_id"))
    summary = text_value(data, "summary")
    matches, candidates = _candidates(
        sa.select(Appeal.id, Appeal.received_at).where(window, sa.or_(*identity), Appeal.id != (exclude or 0))
        .order_by(Appeal.received_at.desc()).limit(IDENTITY_SCAN) if identity else None,
        # The newest 300 of the settlement's appeals are compared by their summaries alone, and only the
        # similar ones are loaded (whole appeals of a busy settlement cost 35 ms a registration at 10,000,000).
        scope_appeals(sa.select(Appeal.id, Appeal.received_at, Appeal.summary), actor)
        .where(window, Appeal.settlement_id == settlement_id).order_by(Appeal.received_at.desc()).limit(SETTLEMENT_SCAN)
        if settlement_id and summary else None,
    )
    own: list[int] = []
    elsewhere = False
    if matches:
        # The same person's appeals are few (the IIN and phone indexes find them); which of them the
        # actor may see is asked of those ids only. (A NOT IN over the actor's whole scope cost a
        # quarter of a second per registration at 10,000,000 appeals.)
        visible = db.session.execute(
            scope_appeals(sa.select(Appeal.id, Appeal.number), actor).where(Appeal.id.in_(matches))
            .order_by(Appeal.received_at.desc())).all()
        elsewhere = len(visible) < len(matches)
        own = [appeal_id for appeal_id, _number in visible[:limit]]
        if own or elsewhere:
            if _matching_lookups_last_hour(actor) >= current_app.config.get("REPEAT_CHECK_MATCHES_PER_HOUR", 30):
                return RepeatCheck([], limited=True)
            with write_transaction():
                audit.record("repeat_check_matched", object_type="appeals", user=actor,
                             label=", ".join(number for _id, number in visible[:limit])[:200],
                             changes={"matches": own, "elsewhere": elsewhere})

    similar: list[int] = []
    if candidates:
        # At most `limit` are shown, and newer ones come first, so the comparison stops at `limit`.
        similarity, seen = _Similarity(summary), set(own)
        for appeal_id, other in candidates:
            if appeal_id not in seen and appeal_id != exclude and similarity.reaches(other, SIMILARITY_THRESHOLD):
                similar.append(appeal_id)
                if len(similar) >= limit:
                    break
    ids = [appeal_id for appeal_id in own + similar if appeal_id != exclude]
    if not ids:
        return RepeatCheck([], elsewhere=elsewhere)
    # What the form and the API show of a possible repeat (the rest of an appeal loads if something asks).
    shown = db.session.scalars(sa.select(Appeal).where(Appeal.id.in_(ids)).options(_shown_columns()))
    return RepeatCheck(sorted(shown, key=lambda a: a.received_at, reverse=True)[:limit], elsewhere=elsewhere)


@functools.cache
def _shown_columns() -> Any:
    return sa.orm.load_only(*SHOWN_COLUMNS)  # built once: a loader option costs more to build than to use


def _candidates(identity: sa.Select | None, settlement: sa.Select | None) -> tuple[list[int], list[tuple[int, str]]]:
    """Ids of the same person's appeals and (id, summary) of the settlement's, each newest first: both asked in
    one statement (each part keeps its own order and limit; the rows are put in order here)."""
    parts = []
    if identity is not None:
        parts.append(sa.select(*identity.subquery().c, sa.cast(sa.null(), sa.String).label("summary"),
                               sa.literal_column("1").label("part")))
    if settlement is not None:
        parts.append(sa.select(*settlement.subquery().c, sa.literal_column("2").label("part")))
    if not parts:
        return [], []
    statement = parts[0] if len(parts) == 1 else sa.union_all(*parts)
    rows = sorted(db.session.execute(statement).all(), key=lambda row: row.received_at, reverse=True)
    return ([row.id for row in rows if row.part == 1],
            [(row.id, row.summary) for row in rows if row.part == 2])


def same_person_test(data: Mapping[str, Any]) -> Callable[[Appeal], bool]:
    """Whether a possible repeat has the new appeal's IIN or phone (not only a similar summary): only then
    does the form suggest linking it as a repeat. The IIN and phone are normalised once for all of them."""
    return _Identity.of(data).matches
