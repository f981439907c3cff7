"""Possible repeats: earlier appeals of the same person, or about the same thing in the same settlement."""
from __future__ import annotations

import difflib
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
# At most this many earlier appeals of the same person are looked at (newest first).
IDENTITY_SCAN = 200

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
    found: dict[int, Appeal] = {}
    elsewhere = False

    identity = _Identity.of(data).conditions()
    if identity:
        # The same person's appeals are few (the IIN and phone indexes find them); which of them the
        # actor may see is asked of those ids only. (A NOT IN over the actor's whole scope cost a
        # quarter of a second per registration at 10,000,000 appeals.)
        match_ids = db.session.scalars(
            sa.select(Appeal.id).where(window, sa.or_(*identity), Appeal.id != (exclude or 0))
            .order_by(Appeal.received_at.desc()).limit(IDENTITY_SCAN)
        ).all()
        visible_ids = set(db.session.scalars(
            scope_appeals(sa.select(Appeal.id), actor).where(Appeal.id.in_(match_ids)))) if match_ids else set()
        elsewhere = any(i not in visible_ids for i in match_ids)
        visible = sa.select(Appeal).where(Appeal.id.in_(visible_ids))
        own = db.session.scalars(visible.order_by(Appeal.received_at.desc()).limit(limit)).all() if visible_ids else []
        if own or elsewhere:
            if _matching_lookups_last_hour(actor) >= current_app.config.get("REPEAT_CHECK_MATCHES_PER_HOUR", 30):
                return RepeatCheck([], limited=True)
            with write_transaction():
                audit.record("repeat_check_matched", object_type="appeals", user=actor,
                             label=", ".join(a.number for a in own)[:200],
                             changes={"matches": [a.id for a in own], "elsewhere": elsewhere})
            own = db.session.scalars(visible.order_by(Appeal.received_at.desc()).limit(limit)).all()
        for appeal in own:
            found[appeal.id] = appeal

    settlement_id = int_or_none(data.get("settlement_id"))
    summary = text_value(data, "summary")
    if settlement_id and summary:
        # The newest 300 of the settlement's appeals are compared by their summaries alone, and only the
        # similar ones are loaded: at most `limit` are shown, and newer ones come first, so the comparison
        # stops at `limit` (whole appeals of a busy settlement cost 35 ms a registration at 10,000,000).
        similarity, similar = _Similarity(summary), []
        query = (
            scope_appeals(sa.select(Appeal.id, Appeal.summary), actor).where(window, Appeal.settlement_id == settlement_id)
            .order_by(Appeal.received_at.desc()).limit(300)
        )
        for appeal_id, other in db.session.execute(query).all():
            if appeal_id not in found and appeal_id != exclude and similarity.reaches(other, SIMILARITY_THRESHOLD):
                similar.append(appeal_id)
                if len(similar) >= limit:
                    break
        if similar:
            for appeal in db.session.scalars(sa.select(Appeal).where(Appeal.id.in_(similar))):
                found[appeal.id] = appeal
    found.pop(exclude, None)
    return RepeatCheck(sorted(found.values(), key=lambda a: a.received_at, reverse=True)[:limit], elsewhere=elsewhere)


def same_person_test(data: Mapping[str, Any]) -> Callable[[Appeal], bool]:
    """Whether a possible repeat has the new appeal's IIN or phone (not only a similar summary): only then
    does the form suggest linking it as a repeat. The IIN and phone are normalised once for all of them."""
    return _Identity.of(data).matches
