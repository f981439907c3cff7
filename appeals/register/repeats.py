"""Possible repeats: earlier appeals of the same person, or about the same thing in the same settlement."""
from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app

from appeals.auth.permissions import appeal_scope, bound_appeal_scope
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

    @staticmethod
    def bound_conditions(iin: bool, phone: bool) -> list[sa.ColumnElement[bool]]:
        """The same-person rule (the IIN or the phone equal) with bound parameters :iin and :phone, for
        statements built once per shape (which of the two is given)."""
        return [condition for given, condition in ((iin, Appeal.iin == sa.bindparam("iin")),
                                                   (phone, Appeal.phone == sa.bindparam("phone"))) if given]

    def shape(self) -> tuple[bool, bool]:
        return bool(self.iin), bool(self.phone)

    def params(self) -> dict[str, str]:
        return {"iin": self.iin, "phone": self.phone}

    def matches(self, appeal: Appeal) -> bool:
        return bool((self.iin and appeal.iin == self.iin) or (self.phone and appeal.phone == self.phone))


def latest_of_same_person(data: Mapping[str, Any], since: Any) -> int | None:
    """The newest appeal since `since` of the same person (IIN or phone) about the same category in the
    same office, for the online appeal's link without a clerk; None when there is none or no IIN or phone."""
    identity = _Identity.of(data)
    if not any(identity.shape()):
        return None
    return db.session.scalar(_latest_statement(*identity.shape()), {
        **identity.params(), "since": since, "category_id": data.get("category_id"), "office_id": data.get("office_id")})


@functools.cache
def _latest_statement(iin: bool, phone: bool) -> Any:
    # Built once per process for each shape: every online appeal binds its values.
    return (sa.select(Appeal.id).where(sa.or_(*_Identity.bound_conditions(iin, phone)),
                                       Appeal.received_at >= sa.bindparam("since"),
                                       Appeal.category_id == sa.bindparam("category_id"),
                                       Appeal.office_id == sa.bindparam("office_id"))
            .order_by(Appeal.received_at.desc()).limit(1))


def find_possible_repeats(data: Mapping[str, Any], actor: User, limit: int = 10) -> RepeatCheck:
    """Earlier appeals (last 90 days) of the same person (IIN, phone) or about the same thing in the same settlement.

    The check looks at the actor's own scope only (issue 13, finding 9): a match by IIN or phone in an
    office the actor cannot see says only that one exists. A look-up whose IIN or phone matches is
    recorded in the audit trail (without the IIN or phone) and counts against
    REPEAT_CHECK_MATCHES_PER_HOUR; past it the check shows nothing and says so.

    One statement asks for all of it (_Candidates); the appeals to show are loaded after.
    """
    received_at = lenient(parse_datetime, data.get("received_at")) or local_now()
    exclude = int_or_none(data.get("exclude_id")) or 0
    settlement_id = int_or_none(data.get("settlement_id"))
    summary = text_value(data, "summary")
    cap = current_app.config.get("REPEAT_CHECK_MATCHES_PER_HOUR", 30)
    found = _Candidates.ask(actor, cap, _Identity.of(data), settlement_id if summary else None, exclude,
                            since=received_at - timedelta(days=REPEAT_WINDOW_DAYS), until=received_at + FUTURE_TOLERANCE)
    visible = [row for row in found.matches if row.visible]
    elsewhere = len(visible) < len(found.matches)
    own = [row.id for row in visible[:limit]]
    if own or elsewhere:
        if found.lookups >= cap:
            return RepeatCheck([], limited=True)
        with write_transaction():
            audit.record("repeat_check_matched", object_type="appeals", user=actor,
                         label=", ".join(row.number for row in visible[:limit])[:200],
                         changes={"matches": own, "elsewhere": elsewhere})

    similar: list[int] = []
    if found.candidates:
        # At most `limit` are shown, and newer ones come first, so the comparison stops at `limit`.
        similarity, seen = _Similarity(summary), set(own)
        for row in found.candidates:
            if row.id not in seen and row.id != exclude and similarity.reaches(row.summary, SIMILARITY_THRESHOLD):
                similar.append(row.id)
                if len(similar) >= limit:
                    break
    if not own and not similar:
        return RepeatCheck([], elsewhere=elsewhere)
    # What the form and the API show of a possible repeat (the rest of an appeal loads if something asks).
    shown = db.session.scalars(_shown_statement(), {"shown_ids": own + similar})
    return RepeatCheck(sorted(shown, key=lambda a: a.received_at, reverse=True)[:limit], elsewhere=elsewhere)


@functools.cache
def _shown_statement() -> sa.Select:
    return (sa.select(Appeal).where(Appeal.id.in_(sa.bindparam("shown_ids", expanding=True)))
            .options(sa.orm.load_only(*SHOWN_COLUMNS)))


@dataclass
class _Candidates:
    """What one statement finds: the same person's appeals (newest first, with their number and whether the
    actor may see them), the settlement's appeals in the actor's scope (newest first, with their summary),
    and the actor's matching look-ups of the last hour (counted only where there are matches)."""

    matches: list[Any]
    candidates: list[Any]
    lookups: int

    @classmethod
    def ask(cls, actor: User, cap: int, identity: _Identity, settlement_id: int | None, exclude: int, *,
            since: datetime, until: datetime) -> _Candidates:
        kind, params = appeal_scope(actor)
        statement = _candidates_statement(*identity.shape(), bool(settlement_id), kind)
        if statement is None:
            return cls([], [], 0)
        params.update(identity.params(), since=since, until=until, exclude=exclude,
                      settlement_id=settlement_id, actor_id=actor.id, cap=cap, lookups_since=utcnow() - timedelta(hours=1))
        # Each part keeps its own order and limit; the rows are put in order here.
        rows = sorted(db.session.execute(statement, params).all(), key=lambda row: row.received_at, reverse=True)
        matches = [row for row in rows if row.part == 1]
        return cls(matches, [row for row in rows if row.part == 2], matches[0].lookups if matches else 0)


@functools.cache
def _candidates_statement(iin: bool, phone: bool, settlement: bool, scope_kind: str) -> Any:
    """The statement of _Candidates.ask, built once per process for each shape of the question (which of the
    IIN, phone and settlement are given; the kind of the actor's scope): each look-up binds its values."""
    window = sa.and_(Appeal.received_at >= sa.bindparam("since"), Appeal.received_at <= sa.bindparam("until"))
    scope = bound_appeal_scope(scope_kind)
    lookups = sa.select(sa.func.count()).select_from(audit.AuditRecord).where(
        # The actor's look-ups that matched an IIN or phone in the last hour (index ix_audit_repeat_matches).
        audit.AuditRecord.user_id == sa.bindparam("actor_id"), audit.AuditRecord.action == "repeat_check_matched",
        audit.AuditRecord.created_at >= sa.bindparam("lookups_since")).scalar_subquery()
    identity = _Identity.bound_conditions(iin, phone)
    person = sa.and_(window, sa.or_(*identity), Appeal.id != sa.bindparam("exclude")) if identity else None
    parts = []
    if person is not None:
        # The same person's appeals are few (the IIN and phone indexes find them); whether the actor may see
        # each is a column of those rows only. (A NOT IN over the actor's whole scope cost a quarter of a
        # second per registration at 10,000,000 appeals.)
        matches = (sa.select(Appeal.id, Appeal.received_at, Appeal.number,
                             (sa.true() if scope is None else scope).label("visible"))
                   .where(person).order_by(Appeal.received_at.desc()).limit(IDENTITY_SCAN).subquery())
        parts.append(sa.select(matches, lookups.label("lookups"), sa.cast(sa.null(), sa.String).label("summary"),
                               sa.literal_column("1").label("part")))
    if settlement:
        # The newest 300 of the settlement's appeals are compared by their summaries alone, and only the
        # similar ones are loaded (whole appeals of a busy settlement cost 35 ms a registration at 10,000,000).
        place = sa.and_(window, Appeal.settlement_id == sa.bindparam("settlement_id"))
        if scope is not None:
            place = sa.and_(place, scope)
        if person is not None:
            # Past the cap, a look-up with matches shows nothing: the settlement's appeals are not read then.
            place = sa.and_(place, sa.or_(lookups < sa.bindparam("cap"), ~sa.exists(sa.select(Appeal.id).where(person))))
        candidates = (sa.select(Appeal.id, Appeal.received_at, Appeal.summary).where(place)
                      .order_by(Appeal.received_at.desc()).limit(SETTLEMENT_SCAN).subquery())
        parts.append(sa.select(candidates.c.id, candidates.c.received_at, sa.cast(sa.null(), sa.String).label("number"),
                               sa.cast(sa.null(), sa.Boolean).label("visible"),
                               sa.cast(sa.null(), sa.Integer).label("lookups"), candidates.c.summary,
                               sa.literal_column("2").label("part")))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)


def same_person_test(data: Mapping[str, Any]) -> Callable[[Appeal], bool]:
    """Whether a possible repeat has the new appeal's IIN or phone (not only a similar summary): only then
    does the form suggest linking it as a repeat. The IIN and phone are normalised once for all of them."""
    return _Identity.of(data).matches
