"""The register list: filters from the query string, the scoped and sorted select, the deadline watch."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from appeals.auth.permissions import may_search_personal, scope_appeals
from appeals.core.database import is_postgresql
from appeals.core.extensions import db
from appeals.core.parsing import FieldErrors, parse_choice, parse_date, parse_flag, parse_id
from appeals.core.privacy import redacted_sql
from appeals.core.search_fold import search_words
from appeals.core.timeutil import local_today
from appeals.core.web import SEARCH_EXPIRED_ARG, search_expired_error
from appeals.register.deadlines import OPEN_CONDITION, clock_running, due_soon_limit, overdue_condition
from appeals.register.districts import appeal_in_districts
from appeals.register.models import (
    APPEAL_STATUSES,
    APPEAL_TYPES,
    CHANNELS,
    Appeal,
)
from appeals.register.periods import received_between
from appeals.register.rules import RuleViolation, check_phone

if TYPE_CHECKING:
    from appeals.auth.models import User

SORTS = {
    "-received": (Appeal.received_at.desc(), Appeal.id.desc()),
    "received": (Appeal.received_at.asc(), Appeal.id.asc()),
    "-number": (Appeal.number.desc(),),
    "number": (Appeal.number.asc(),),
    "due": (Appeal.due_date.asc(), Appeal.id.asc()),
    "-due": (Appeal.due_date.desc(), Appeal.id.desc()),
}
FILTER_KEYS = ("office", "date_from", "date_to", "status", "appeal_type", "category", "channel", "district",
               "settlement", "host", "overdue", "repeats", "q", "sort")
# The same text the PostgreSQL GIN index (migration 0006) is built on, so the planner can use it:
# folded (core/search_fold.py), so «Нұрлан», «Нурлан» and «Nurlan» are one word.
FTS_DOCUMENT = (
    "to_tsvector('simple', qb_search_fold(coalesce(appeals.number, '') || ' ' || coalesce(appeals.applicant_name, '') || ' ' "
    "|| coalesce(appeals.summary, '') || ' ' || coalesce(appeals.text, '')))"
)
# Written out (not bound parameters) so PostgreSQL can match it to the partial index ix_appeals_open_due.
NUMBER_PATTERN = re.compile(r"^[A-Za-z]{2,10}-\d{4}-\d{1,6}$")


def parse_list_filters(args: Mapping[str, Any], errors: Optional[FieldErrors] = None) -> dict[str, Any]:
    """Query-string arguments to typed filters (core.parsing's rules).

    A malformed value (a date outside 2000–2100, an id that is not a number, an unknown status) is a
    field error: raised as ParseError, or, when `errors` is given, collected there and that filter
    left out, so the list page shows the message on its filter and the list without it.
    """
    collect = FieldErrors() if errors is None else errors
    filters = {
        "office": collect(parse_id, args.get("office"), "office"),
        "date_from": collect(parse_date, args.get("date_from"), "date_from"),
        "date_to": collect(parse_date, args.get("date_to"), "date_to"),
        "status": collect(parse_choice, args.get("status"), APPEAL_STATUSES + ("open",), "status"),
        "appeal_type": collect(parse_choice, args.get("appeal_type"), APPEAL_TYPES, "appeal_type"),
        "category": collect(parse_id, args.get("category"), "category"),
        "channel": collect(parse_choice, args.get("channel"), CHANNELS, "channel"),
        "district": collect(parse_id, args.get("district"), "district"),
        "settlement": collect(parse_id, args.get("settlement"), "settlement"),
        "host": collect(parse_id, args.get("host"), "host"),
        "overdue": parse_flag(args.get("overdue")),
        "repeats": parse_flag(args.get("repeats")),
        "q": " ".join(str(args.get("q") or "").split())[:200],
        "sort": collect(parse_choice, args.get("sort"), tuple(SORTS), "sort") or "-received",
    }
    if args.get(SEARCH_EXPIRED_ARG):
        # An old link's sealed search: say so, rather than list (or export) everything as its result.
        collect.add(search_expired_error())
    if errors is None:
        collect.raise_if_any()
    return filters


def _search_condition(q: str, user: User) -> sa.ColumnElement[bool]:
    """Number, IIN, phone, and words of the name, summary and text.

    Roles that may not see personal data search the number and the summary's words only: their
    search must not tell them whose appeal it is or what the letter says (issue 13, finding 3), so a
    query with an IIN-, phone- or e-mail-like part finds by number alone.
    """
    conditions: list[sa.ColumnElement[bool]] = []
    if NUMBER_PATTERN.match(q):
        conditions.append(Appeal.number == q.upper())
    digits = re.sub(r"\D", "", q)
    personal = may_search_personal(user)
    if personal:
        if len(digits) == 12 and digits == q.replace(" ", ""):
            conditions.append(Appeal.iin == digits)
        if 10 <= len(digits) <= 12 and re.fullmatch(r"[+\d\s()-]+", q):
            try:
                conditions.append(Appeal.phone == check_phone(q))
            except RuleViolation:
                pass
    words = search_words(q)
    if not personal:
        words = [] if len(digits) >= 6 or "@" in q else [word for word in words if not word.isdigit()]
    if words:
        if is_postgresql():
            tsquery = sa.func.to_tsquery(sa.literal_column("'simple'"), " & ".join(f"{word}:*" for word in words))
            # The indexed document finds the candidates; masked roles then need the words in the summary.
            match: sa.ColumnElement[bool] = sa.literal_column(FTS_DOCUMENT).op("@@")(tsquery)
            if not personal:
                # ... in the summary as they may read it (an e-mail address there must not match a name).
                summary = sa.func.to_tsvector(sa.literal_column("'simple'"),
                                              sa.func.qb_search_fold(redacted_sql(Appeal.summary, "postgresql")))
                match = sa.and_(match, summary.op("@@")(tsquery))
            conditions.append(match)
        else:
            document = sa.func.qb_search_fold(
                Appeal.number + " " + Appeal.applicant_name + " " + Appeal.summary + " " + Appeal.text
                if personal else Appeal.number + " " + redacted_sql(Appeal.summary, "sqlite")
            )
            conditions.append(sa.and_(*[document.contains(word, autoescape=True) for word in words]))
    return sa.or_(*conditions) if conditions else sa.false()


def build_list_query(filters: Mapping[str, Any], user: User) -> sa.Select:
    """A select() of the appeals `user` may see, narrowed by `filters` (see parse_list_filters) and sorted."""
    query = scope_appeals(sa.select(Appeal), user)
    f = {key: filters.get(key) for key in FILTER_KEYS}
    if f["office"]:
        query = query.where(Appeal.office_id == f["office"])
    if f["date_from"] or f["date_to"]:
        query = query.where(received_between(f["date_from"], f["date_to"]))
    if f["status"] == "open":
        query = query.where(OPEN_CONDITION)
    elif f["status"]:
        query = query.where(Appeal.status == f["status"])
    if f["appeal_type"]:
        query = query.where(Appeal.appeal_type == f["appeal_type"])
    if f["category"]:
        query = query.where(Appeal.category_id == f["category"])
    if f["channel"]:
        query = query.where(Appeal.channel == f["channel"])
    if f["district"]:
        query = query.where(appeal_in_districts([f["district"]]))
    if f["settlement"]:
        query = query.where(Appeal.settlement_id == f["settlement"])
    if f["host"]:
        query = query.where(Appeal.host_id == f["host"])
    if f["overdue"]:
        query = query.where(overdue_condition())
    if f["repeats"]:
        query = query.where(Appeal.repeat_of_id.is_not(None))
    if f["q"]:
        query = query.where(_search_condition(f["q"], user))
    return query.order_by(*SORTS.get(f["sort"] or "-received", SORTS["-received"]))


def with_list_relations(query: sa.Select) -> sa.Select:
    return query.options(
        joinedload(Appeal.office), joinedload(Appeal.settlement), joinedload(Appeal.category),
        joinedload(Appeal.host),
    )


def deadline_watch(user: User, limit: int = 10) -> tuple[Sequence[Appeal], Sequence[Appeal]]:
    """Open appeals in the user's scope that are overdue, and those due within the next few working days."""
    today = local_today()
    base = with_list_relations(scope_appeals(sa.select(Appeal), user)).where(OPEN_CONDITION, clock_running())
    overdue = db.session.scalars(base.where(Appeal.due_date < today).order_by(Appeal.due_date, Appeal.id).limit(limit)).unique().all()
    soon = db.session.scalars(
        base.where(Appeal.due_date >= today, Appeal.due_date <= due_soon_limit(today))
        .order_by(Appeal.due_date, Appeal.id).limit(limit)
    ).unique().all()
    return overdue, soon
