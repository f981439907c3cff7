"""The register list: filters from the query string, the scoped and sorted select, the deadline watch."""
from __future__ import annotations

import json
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
# PostgreSQL: the folded words of the number, name, summary and text (core/search_fold.py, so «Нұрлан»,
# «Нурлан» and «Nurlan» are one word), stored on the row and indexed (migration 0030). The ORM model does
# not declare the column: PostgreSQL computes it, and SQLite has none.
SEARCH_DOCUMENT: sa.ColumnElement[Any] = sa.literal_column("appeals.search_document")
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


# How a search word is matched on PostgreSQL (issue 19). Through the GIN index, a word's every match in
# the whole table goes into a bitmap before the scope and the order apply; a common word (a frequent
# surname, «су») has hundreds of thousands at 10,000,000 appeals, seconds of work. Checked row by row,
# the newest appeals of the scope are read until the page is full: quick when the word is common, a
# walk through the whole scope when it is rare. The planner's row estimate is right (the stored column
# has its own statistics) but its cost of the bitmap is not, so the choice is made here, by this cost
# model in µs, measured at 10,000,000 appeals (bench/RESULTS.md, "sixth session"):
WALK_ROW_US = 2.0      # one appeal of the walk read and checked
BITMAP_MATCH_US = 0.4  # one match of the words put into the index's bitmap
FETCH_MATCH_US = 5.0   # one match within the scope fetched from the table
# Sorts that an index gives in order (the walk needs one).
WALKABLE_SORTS = ("-received", "received")


def walk_is_cheaper(word_matches: Sequence[float], matches: float, appeals: float, scope_share: float,
                    walk_share: float, rows: int) -> bool:
    """Whether reading the newest appeals and checking each beats the index, for `rows` rows of a search.

    `word_matches`: the rows each word matches (the index puts each word's matches into a bitmap of its
    own); `matches`: the rows all the words match together, of `appeals` rows in all; `scope_share`: the
    share of the appeals in the user's scope; `walk_share`: the share of a walk's rows in the scope (1
    when one office's own index is walked)."""
    if matches <= 0 or appeals <= 0 or scope_share <= 0 or walk_share <= 0:
        return False
    walked = rows * appeals / (matches * walk_share)
    indexed = sum(word_matches) * BITMAP_MATCH_US + matches * scope_share * FETCH_MATCH_US
    return walked * WALK_ROW_US < indexed


def _scope_shares(filters: Mapping[str, Any], user: User) -> Optional[tuple[float, float]]:
    """(share of the appeals in the user's scope, share of a walk's rows in it), by office counts."""
    from appeals.auth.permissions import appeals_scoped_by_office, visible_office_ids
    from appeals.reference.models import Office

    if not appeals_scoped_by_office(user):
        return None  # a host's few appeals: the index
    offices = db.session.scalar(sa.select(sa.func.count()).select_from(Office)) or 1
    visible = visible_office_ids(user)
    if filters.get("office"):
        return 1 / offices, 1.0  # one office's appeals, walked on its own index
    if visible is None:
        return 1.0, 1.0
    share = len(visible) / offices
    return share, 1.0 if len(visible) == 1 else share


def _planned_rows(tsquery: sa.ColumnElement) -> float:
    """The rows the words match as PostgreSQL's statistics put them (planned, not run)."""
    statement = sa.select(sa.literal(1)).select_from(Appeal.__table__).where(SEARCH_DOCUMENT.op("@@")(tsquery))
    compiled = statement.compile(db.session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = db.session.execute(sa.text(f"EXPLAIN (FORMAT JSON) {compiled}")).scalar_one()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


def _tsquery(words: Sequence[str]) -> sa.ColumnElement:
    return sa.func.to_tsquery(sa.literal_column("'simple'"), " & ".join(f"{word}:*" for word in words))


def _walk_words(words: Sequence[str], filters: Mapping[str, Any], user: User, rows: Optional[int]) -> bool:
    if not rows or (filters.get("sort") or "-received") not in WALKABLE_SORTS:
        return False
    shares = _scope_shares(filters, user)
    if shares is None:
        return False
    appeals = db.session.scalar(sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('appeals')")) or 0
    each = [_planned_rows(_tsquery([word])) for word in words]
    # Together at least as often as the statistics' product says, and at most as the rarest word: words
    # typed together tend to occur together («ауыз су»), so the rarest word's count is taken.
    return walk_is_cheaper(each, min(each), float(appeals), shares[0], shares[1], rows)


def _search_condition(q: str, user: User, filters: Optional[Mapping[str, Any]] = None,
                      rows: Optional[int] = None) -> sa.ColumnElement[bool]:
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
            tsquery = _tsquery(words)
            # The indexed document finds the candidates (or, for common words, is checked on the newest
            # appeals: ts_match_vq() is what @@ runs, as a function the planner does not match to the
            # index); masked roles then need the words in the summary.
            match: sa.ColumnElement[bool] = (
                sa.func.ts_match_vq(SEARCH_DOCUMENT, tsquery) if _walk_words(words, filters or {}, user, rows)
                else SEARCH_DOCUMENT.op("@@")(tsquery))
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


def build_list_query(filters: Mapping[str, Any], user: User, *, first_rows: Optional[int] = None) -> sa.Select:
    """A select() of the appeals `user` may see, narrowed by `filters` (see parse_list_filters) and sorted.

    `first_rows`: only that many rows of it will be read, in its order (a page), which lets a search
    for common words walk the newest appeals instead of the index (see walk_is_cheaper); a count or an
    export leaves it out."""
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
        query = query.where(_search_condition(f["q"], user, f, first_rows))
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
