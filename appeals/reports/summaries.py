"""Appeal and mandate counts kept per month, for the dashboard's year-long periods (issue 19).

``appeal_counts`` holds, for each month (first day, local date of `received_at`) and office, the
number of appeals by one dimension at a time:

- ``day``: key = the day of the month ("01" … "31"): totals, the weeks' bars and the offices' bars;
- ``category``: key = category id ("" = none);
- ``channel``: key = the channel;
- ``settlement``: key = settlement id ("" = none); the districts' bars map settlements to their districts,
  the one rule of appeals.register.districts.

Database triggers (migration 0014) keep the table in the same transaction as every insert, delete and
change of an appeal's date, office, category, channel or settlement, whatever wrote it (a form, the API,
an import, the demo, SQL). A row whose count fell to 0 stays; readers skip sums of 0.

``appeal_region_counts`` holds the same cells summed per region (migration 0032, the same triggers; an
office moved to another region moves its counts with it). A scope that holds a region whole (the
country, a regional coordinator's offices) reads that region's rows, a tenth of its offices'; offices
without a region, and the rest of a scope, read the office rows (`_split_scope`).

``mandate_counts`` holds the mandates per month of their registration (UTC, as stored), office and status
(migration 0034): `mandates_by_status()`.

`counts()` answers a period as `plan_period()` splits it: whole months from the summary, the rest of a
partial month (a rolling 30 days starts and ends inside months) from the appeals themselves, added or,
when fewer days, taken away from the summary's month. Both go through the same dimension rule, so the
result equals the base tables' (tests/test_statistics_summary.py compares them after random changes, on
SQLite and PostgreSQL). `rebuild()` recomputes the three tables from the appeals and mandates (after a
bulk load with the triggers off: bench/list_p95.py).
"""
import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from appeals.core.extensions import db
from appeals.mandates.models import Mandate, MandateAppeal
from appeals.mandates.periods import counted, registered_window, standing_links
from appeals.reference.models import Office, Settlement
from appeals.register.districts import APPEAL_DISTRICT, district_settlement_ids, with_appeal_district
from appeals.register.models import Appeal
from appeals.register.periods import received_between

DIMENSIONS = ("day", "category", "channel", "settlement")


class AppealCount(db.Model):
    """Appeals of one month and office by one dimension's value (see the module's docstring)."""

    __tablename__ = "appeal_counts"
    # Derived from the appeals by the triggers: backups leave it out, a restore rebuilds it
    # (appeals.maintenance.backup). The key's index carries the count (migration 0033): index-only reads.
    __table_args__ = (sa.PrimaryKeyConstraint("dim", "month", "office_id", "key", name="pk_appeal_counts",
                                              postgresql_include=["appeals"]),
                      {"info": {"derived": True}})
    dim: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    month: Mapped[dt.date] = mapped_column(primary_key=True)
    # No foreign key: the appeal's own office_id is checked already; the triggers stay one upsert.
    office_id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    appeals: Mapped[int] = mapped_column(default=0)


class AppealRegionCount(db.Model):
    """The AppealCount cells of one month summed over a region's offices (see the module's docstring)."""

    __tablename__ = "appeal_region_counts"
    __table_args__ = (sa.PrimaryKeyConstraint("dim", "month", "region_id", "key", name="pk_appeal_region_counts",
                                              postgresql_include=["appeals"]),
                      {"info": {"derived": True}})
    dim: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    month: Mapped[dt.date] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    appeals: Mapped[int] = mapped_column(default=0)


class MandateCount(db.Model):
    """Mandates by the month of their registration time as stored (UTC), office (0: none) and current status,
    kept by triggers on the mandates (migration 0034). A batch "move and copy" of the mandates table on
    SQLite would drop them: recreate them after one."""

    __tablename__ = "mandate_counts"
    __table_args__ = (sa.PrimaryKeyConstraint("month", "office_id", "status", name="pk_mandate_counts",
                                              postgresql_include=["mandates"]),
                      {"info": {"derived": True}})
    month: Mapped[dt.date] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(24), primary_key=True)
    mandates: Mapped[int] = mapped_column(default=0)


class MandateLinkCount(db.Model):
    """Of one month's appeals at one office (by the links' copies), those under a standing mandate, the
    mandates they form and the fulfilled ones: distinct counts within the cell (migration 0035)."""

    __tablename__ = "mandate_link_counts"
    __table_args__ = (sa.PrimaryKeyConstraint("month", "office_id", name="pk_mandate_link_counts",
                                              postgresql_include=["appeals", "mandates", "fulfilled"]),
                      {"info": {"derived": True}})
    month: Mapped[dt.date] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(primary_key=True)
    appeals: Mapped[int] = mapped_column(default=0)
    mandates: Mapped[int] = mapped_column(default=0)
    fulfilled: Mapped[int] = mapped_column(default=0)


class SpanningMandate(db.Model):
    """A mandate whose standing links lie in more than one MandateLinkCount cell (migration 0035)."""

    __tablename__ = "spanning_mandates"
    __table_args__ = {"info": {"derived": True}}
    mandate_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


# The region rows from the office rows: what the triggers keep, and what rebuild() writes.
REGION_ROLL_UP = """
    INSERT INTO appeal_region_counts (dim, month, region_id, key, appeals)
    SELECT c.dim, c.month, o.region_id, c.key, sum(c.appeals) FROM appeal_counts c
    JOIN offices o ON o.id = c.office_id WHERE o.region_id IS NOT NULL
    GROUP BY c.dim, c.month, o.region_id, c.key
"""


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _month_of(column: Any) -> Any:
    if _dialect() == "postgresql":
        return sa.cast(sa.func.date_trunc("month", column), sa.Date)
    return sa.func.date(column, "start of month")


def _day_of(column: Any) -> Any:
    if _dialect() == "postgresql":
        return sa.cast(column, sa.Date)
    return sa.func.date(column)


def _key(dim: str) -> Any:
    """The dimension's value of an appeal, as text (the summary's key)."""
    if dim == "day":
        return (sa.func.to_char(Appeal.received_at, "DD") if _dialect() == "postgresql"
                else sa.func.strftime("%d", Appeal.received_at))
    column = {"category": Appeal.category_id, "channel": Appeal.channel, "settlement": Appeal.settlement_id}[dim]
    return sa.func.coalesce(sa.cast(column, sa.String), "")


def plan_span(since: dt.datetime, until: dt.datetime,
              subtract: bool = True) -> tuple[list[dt.date], list[tuple[dt.datetime, dt.datetime, int]]]:
    """How the times [since, until) are counted: the months read from a summary (their first days) and the
    spans read from the base table, each added (1) or taken away (-1). A whole month is the summary's. A
    partial month is either its own span read from the table or, when the time it lacks is shorter, the
    summary's month less the table's rows of that time: a rolling year reads 5 days instead of 32, a
    rolling 30 days 6. Adjacent spans of one sign are merged (one read each). subtract=False: partial months
    are always read as they are (for counts that do not subtract: distinct ones)."""
    months: list[dt.date] = []
    spans: list[tuple[dt.datetime, dt.datetime, int]] = []

    def push(first: dt.datetime, last: dt.datetime, sign: int) -> None:
        if spans and spans[-1][2] == sign and spans[-1][1] == first:
            spans[-1] = (spans[-1][0], last, sign)
        else:
            spans.append((first, last, sign))

    first = dt.datetime(since.year, since.month, 1)
    while first < until:
        after = (first + dt.timedelta(days=32)).replace(day=1)
        low, high = max(first, since), min(after, until)
        inside, whole = high - low, after - first
        if inside == whole:
            months.append(first.date())
        elif subtract and whole - inside < inside:
            months.append(first.date())
            if low > first:
                push(first, low, -1)
            if high < after:
                push(high, after, -1)
        else:
            push(low, high, 1)
        first = after
    return months, spans


def plan_period(start: dt.date, end: dt.date,
                subtract: bool = True) -> tuple[list[dt.date], list[tuple[dt.date, dt.date, int]]]:
    """plan_span() of the local days [start, end]: the months and the stretches of days (inclusive) read
    from the appeals."""
    one_day = dt.timedelta(days=1)
    months, spans = plan_span(dt.datetime.combine(start, dt.time()), dt.datetime.combine(end + one_day, dt.time()),
                              subtract)
    return months, [(first.date(), (last - one_day).date(), sign) for first, last, sign in spans]


def _office_filter(column: Any, office_ids: Iterable[int] | None) -> sa.ColumnElement[bool]:
    if office_ids is None:
        return sa.true()
    return column.in_(sa.bindparam("summary_offices", list(office_ids), expanding=True, unique=True))


def counts(dim: str, start: dt.date, end: dt.date, office_ids: Iterable[int] | None = None,
           district_id: int | None = None) -> dict[Any, int]:
    """{value: appeals received in [start, end]} by `dim`: "day" (keys: dates), "category" and "settlement"
    (ids, None = none), "channel" (codes), and two derived ones: "office" (ids; the channel rows summed
    per office, as every appeal has one channel) and "district" (the settlement rows summed per district,
    appeals.register.districts's rule; None = no settlement). Counts of 0 are left out.
    district_id (for "office" and "district" only): the appeals of that district alone."""
    return counts_many((dim,), start, end, office_ids, district_id)[dim]


def counts_many(dims: Iterable[str], start: dt.date, end: dt.date, office_ids: Iterable[int] | None = None,
                district_id: int | None = None) -> dict[str, dict[Any, int]]:
    """counts() of several dimensions of one period: {dim: {value: count}}, as plan_period() splits it: the
    summary's months, one read per dimension, and each stretch of appeals in one pass for all dimensions
    (base_counts_many), which is what a dashboard of five bars needs. The days come from the summary
    alone: its day rows hold each day of every month the period touches."""
    dims = tuple(dims)
    if district_id is not None and any(dim not in ("office", "district") for dim in dims):
        raise ValueError("a district narrows the office and district counts only")
    offices = list(office_ids) if office_ids is not None else None
    months, stretches = plan_period(start, end)
    totals: dict[str, dict[Any, int]] = {dim: {} for dim in dims}

    def add(dim: str, name: Any, value: Any, sign: int = 1) -> None:
        totals[dim][name] = totals[dim].get(name, 0) + sign * int(value or 0)

    split = _split_scope(offices) if any(dim != "office" for dim in dims) else ([], [])
    for dim in dims:
        if dim == "day":
            touched = _months_between(start.replace(day=1), end.replace(day=1))
            for name, value in _summary_counts(dim, touched, offices, district_id, split):
                if start <= name <= end:
                    add(dim, name, value)
        elif months:
            for name, value in _summary_counts(dim, months, offices, district_id, split):
                add(dim, name, value)
    base_dims = tuple(dim for dim in dims if dim != "day")
    for first, last, sign in stretches if base_dims else ():
        for dim, values in base_counts_many(base_dims, first, last, offices, district_id).items():
            for name, value in values.items():
                add(dim, name, value, sign)
    return {dim: {name: value for name, value in values.items() if value} for dim, values in totals.items()}


def _months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months = []
    while first <= last:
        months.append(first)
        first = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return months


def _split_scope(offices: list[int] | None) -> tuple[list[int], list[int]]:
    """(the regions a scope holds whole, its other offices); offices None: every office."""
    from appeals.reference import cache as reference_cache

    rows = reference_cache.cached("office-regions", lambda: [tuple(row) for row in db.session.execute(
        sa.select(Office.id, Office.region_id))])
    by_region: dict[int, set[int]] = {}
    for office_id, region_id in rows:
        if region_id is not None:
            by_region.setdefault(region_id, set()).add(office_id)
    scope = {office_id for office_id, _region in rows} if offices is None else set(offices)
    regions = sorted(region for region, ids in by_region.items() if ids <= scope)
    whole = {office_id for region in regions for office_id in by_region[region]}
    return regions, sorted(scope - whole)


def _summary_counts(dim: str, months: list[dt.date], offices: list[int] | None, district_id: int | None,
                    split: tuple[list[int], list[int]]) -> Iterable[tuple[Any, Any]]:
    """(value, count) pairs of `dim` over whole months, from the summary: the region rows for the regions
    the scope holds whole, the office rows for the rest (split: _split_scope's), and the office rows alone
    for "office", which needs them."""
    if dim == "office":
        sources: list[tuple[Any, Any, list[int] | None]] = [(AppealCount, AppealCount.office_id, offices)]
    else:
        regions, rest = split
        sources = [(table, column, ids) for table, column, ids in (
            (AppealRegionCount, AppealRegionCount.region_id, regions), (AppealCount, AppealCount.office_id, rest))
            if ids]
    stored = "settlement" if district_id is not None else {"office": "channel", "district": "settlement"}.get(dim, dim)
    for table, scope_column, ids in sources:
        where: list[Any] = [table.dim == stored, table.month.in_(months), _office_filter(scope_column, ids)]
        if district_id is not None:
            keys = [str(sid) for sid in district_settlement_ids([district_id])]
            where.append(table.key.in_(keys or ["-"]))
        if dim == "office":
            query: Any = sa.select(table.office_id, sa.func.sum(table.appeals)).group_by(table.office_id)
        elif dim == "district":
            # Summed per settlement first: ~1,000 rows meet the settlements, not a country's ~12,000.
            per_settlement = (sa.select(table.key, sa.func.sum(table.appeals).label("appeals")).where(*where)
                              .group_by(table.key).subquery())
            where = []
            query = (sa.select(Settlement.district_id, sa.func.sum(per_settlement.c.appeals)).select_from(per_settlement)
                     .outerjoin(Settlement, sa.cast(Settlement.id, sa.String) == per_settlement.c.key)
                     .group_by(Settlement.district_id))
        elif dim == "day":
            query = sa.select(table.month, table.key, sa.func.sum(table.appeals)).group_by(table.month, table.key)
        else:
            query = sa.select(table.key, sa.func.sum(table.appeals)).group_by(table.key)
        for row in db.session.execute(query.where(*where)):
            values: tuple[Any, ...] = tuple(row)
            if dim == "day":
                yield _day_value(values[0]).replace(day=int(values[1])), values[2]
            elif dim in ("office", "district"):
                yield values[0], values[1]
            else:
                yield _from_key(dim, values[0]), values[1]


def _base_value(dim: str) -> Any:
    """The column of the appeals that `dim` counts by (plain columns: GROUPING SETS match them exactly)."""
    return {"day": _day_of(Appeal.received_at), "category": Appeal.category_id, "channel": Appeal.channel,
            "settlement": Appeal.settlement_id, "office": Appeal.office_id, "district": APPEAL_DISTRICT}[dim]


def base_counts(dim: str, start: dt.date, end: dt.date, office_ids: Iterable[int] | None = None,
                district_id: int | None = None) -> dict[Any, int]:
    """The same figures from the appeals alone (a period's partial months)."""
    return base_counts_many((dim,), start, end, office_ids, district_id)[dim]


def base_counts_many(dims: Iterable[str], start: dt.date, end: dt.date, office_ids: Iterable[int] | None = None,
                     district_id: int | None = None) -> dict[str, dict[Any, int]]:
    """base_counts() of several dimensions: on PostgreSQL one pass over the stretch's appeals (GROUPING SETS,
    read from the covering index ix_appeals_received of migration 0027), elsewhere one query each."""
    dims = tuple(dims)
    offices = list(office_ids) if office_ids is not None else None
    columns = [_base_value(dim) for dim in dims]
    one_pass = _dialect() == "postgresql" and len(dims) > 1
    groups = [(dims, columns)] if one_pass else [((dim,), [column]) for dim, column in zip(dims, columns)]
    result: dict[str, dict[Any, int]] = {dim: {} for dim in dims}
    for names, group in groups:
        flags = [sa.func.grouping(column) for column in group] if one_pass else []
        query = sa.select(*group, *flags, sa.func.count()).select_from(Appeal)
        if "district" in names or district_id is not None:
            query = with_appeal_district(query)
        if district_id is not None:
            query = query.where(APPEAL_DISTRICT == district_id)
        query = query.where(received_between(start, end), _office_filter(Appeal.office_id, offices))
        query = query.group_by(sa.func.grouping_sets(*(sa.tuple_(c) for c in group))) if one_pass \
            else query.group_by(*group)
        for row in db.session.execute(query):
            values = tuple(row)
            for index, dim in enumerate(names):
                if one_pass and values[len(group) + index]:  # GROUPING() = 1: not this dimension's row
                    continue
                name = _day_value(values[index]) if dim == "day" else values[index]
                result[dim][name] = int(values[-1])
    return result


def mandates_by_status(start: dt.date, end: dt.date, office_ids: Iterable[int] | None = None) -> dict[str, int]:
    """{status: mandates registered on the local days [start, end]}, withdrawn ones not counted; with office_ids,
    of these offices. The UTC months the days hold whole from mandate_counts, the rest from the mandates
    (plan_span); equal to a count of the mandates (tests/test_statistics_summary.py)."""
    offices = list(office_ids) if office_ids is not None else None
    months, spans = plan_span(*registered_window(start, end))
    totals: dict[str, int] = {}
    if months:
        query = (sa.select(MandateCount.status, sa.func.sum(MandateCount.mandates))
                 .where(MandateCount.month.in_(months), counted(MandateCount.status),
                        _office_filter(MandateCount.office_id, offices))
                 .group_by(MandateCount.status))
        for status, value in db.session.execute(query):
            totals[status] = totals.get(status, 0) + int(value or 0)
    for since, until, sign in spans:
        query = (sa.select(Mandate.status, sa.func.count())
                 .where(Mandate.created_at >= since, Mandate.created_at < until, counted(),
                        _office_filter(Mandate.office_id, offices))
                 .group_by(Mandate.status))
        for status, value in db.session.execute(query):
            totals[status] = totals.get(status, 0) + sign * int(value)
    return {status: value for status, value in totals.items() if value}


def link_measures(start: dt.date, end: dt.date, office_ids: Iterable[int] | None = None,
                  by_office: bool = False) -> dict[int | None, list[int]]:
    """{group: [appeals under a standing mandate, the mandates they form, the fulfilled ones]} for the appeals
    received on [start, end]; group None, or each appeal's office (by_office). Withdrawn mandates do not
    count. Equal to the three distinct counts over the period's standing links
    (tests/test_statistics_summary.py), read as:

    - the whole months' cells of mandate_link_counts, added up, and each partial stretch's links counted
      as they are (plan_period without subtraction);
    - less, for each spanning mandate (spanning_mandates) met in more than one of those parts, the times
      it was counted more than once. No other mandate can be: its links lie in one cell.
    """
    offices = list(office_ids) if office_ids is not None else None
    months, stretches = plan_period(start, end, subtract=False)
    totals: dict[int | None, list[int]] = {}

    def add(group: int | None, values: Iterable[Any], sign: int = 1) -> None:
        row = totals.setdefault(group, [0, 0, 0])
        for index, value in enumerate(values):
            row[index] += sign * int(value or 0)

    def grouped(query: sa.Select, column: Any) -> sa.Select:
        return query.add_columns(column).group_by(column) if by_office else query

    if months:
        cells = grouped(sa.select(sa.func.sum(MandateLinkCount.appeals), sa.func.sum(MandateLinkCount.mandates),
                                  sa.func.sum(MandateLinkCount.fulfilled))
                        .where(MandateLinkCount.month.in_(months), _office_filter(MandateLinkCount.office_id, offices)),
                        MandateLinkCount.office_id)
        for row in db.session.execute(cells):
            add(row[3] if by_office else None, row[:3])
    standing = (standing_links(), counted(MandateAppeal.mandate_status),
                _office_filter(MandateAppeal.appeal_office_id, offices))
    for first, last, _sign in stretches:
        links = grouped(sa.select(sa.func.count(sa.distinct(MandateAppeal.appeal_id)),
                                  sa.func.count(sa.distinct(MandateAppeal.mandate_id)),
                                  sa.func.count(sa.distinct(sa.case((MandateAppeal.mandate_status == "fulfilled",
                                                                     MandateAppeal.mandate_id)))))
                        .where(*standing, received_between(first, last, MandateAppeal.appeal_received_at)),
                        MandateAppeal.appeal_office_id)
        for row in db.session.execute(links):
            add(row[3] if by_office else None, row[:3])

    whole = set(months)
    parts: dict[tuple[int | None, int], tuple[set, bool]] = {}
    spanning = (sa.select(MandateAppeal.appeal_office_id, MandateAppeal.mandate_id, MandateAppeal.appeal_received_at,
                          MandateAppeal.mandate_status)
                .join(SpanningMandate, SpanningMandate.mandate_id == MandateAppeal.mandate_id)
                .where(*standing, received_between(start, end, MandateAppeal.appeal_received_at)))
    for office_id, mandate_id, received_at, status in db.session.execute(spanning):
        day = _day_value(received_at)
        month = day.replace(day=1)
        part = (("month", month, office_id) if month in whole
                else ("stretch", next(n for n, (first, last, _s) in enumerate(stretches) if first <= day <= last)))
        group = office_id if by_office else None
        parts.setdefault((group, mandate_id), (set(), status == "fulfilled"))[0].add(part)
    for (group, _mandate), (seen, fulfilled) in parts.items():
        if len(seen) > 1:
            add(group, (0, len(seen) - 1, len(seen) - 1 if fulfilled else 0), -1)
    return totals


def _day_value(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def _from_key(dim: str, key: str) -> Any:
    if dim == "channel":
        return key
    return int(key) if key else None


def rebuild() -> int:
    """Recompute appeal_counts and appeal_region_counts from the appeals (in the caller's transaction); the
    number of rows written."""
    db.session.execute(sa.delete(AppealRegionCount))
    db.session.execute(sa.delete(AppealCount))
    db.session.execute(sa.delete(MandateCount))
    db.session.execute(sa.delete(MandateLinkCount))
    db.session.execute(sa.delete(SpanningMandate))
    written = 0
    for dim in DIMENSIONS:
        month, key = _month_of(Appeal.received_at), _key(dim)
        select = (sa.select(sa.literal(dim), month, Appeal.office_id, key, sa.func.count()).select_from(Appeal)
                  .group_by(month, Appeal.office_id, key))
        result = db.session.execute(sa.insert(AppealCount).from_select(
            ["dim", "month", "office_id", "key", "appeals"], select))
        written += result.rowcount or 0  # type: ignore[attr-defined]
    result = db.session.execute(sa.text(REGION_ROLL_UP))
    written += result.rowcount or 0  # type: ignore[attr-defined]
    for statement in (mandate_rebuild(), *link_rebuild()):
        result = db.session.execute(statement)
        written += result.rowcount or 0  # type: ignore[attr-defined]
    return written


def link_rebuild() -> tuple[sa.Insert, sa.Insert]:
    """mandate_link_counts and spanning_mandates recomputed from the links (INSERTs into the empty tables)."""
    link = MandateAppeal
    month = _month_of(link.appeal_received_at)
    standing = (standing_links(), counted(link.mandate_status))
    cells = (sa.select(month, link.appeal_office_id, sa.func.count(sa.distinct(link.appeal_id)),
                       sa.func.count(sa.distinct(link.mandate_id)),
                       sa.func.count(sa.distinct(sa.case((link.mandate_status == "fulfilled", link.mandate_id)))))
             .where(*standing, link.appeal_received_at.is_not(None), link.appeal_office_id.is_not(None))
             .group_by(month, link.appeal_office_id))
    cell_key = (sa.func.concat(month, "|", link.appeal_office_id) if _dialect() != "sqlite"
                else month.concat("|").concat(link.appeal_office_id))
    spanning = (sa.select(link.mandate_id).where(*standing).group_by(link.mandate_id)
                .having(sa.func.count(sa.distinct(cell_key)) > 1))
    return (sa.insert(MandateLinkCount).from_select(["month", "office_id", "appeals", "mandates", "fulfilled"], cells),
            sa.insert(SpanningMandate).from_select(["mandate_id"], spanning))


def mandate_rebuild() -> sa.Insert:
    """mandate_counts recomputed from the mandates (an INSERT of its rows into the empty table)."""
    month, office = _month_of(Mandate.created_at), sa.func.coalesce(Mandate.office_id, 0)
    select = (sa.select(month, office, Mandate.status, sa.func.count()).select_from(Mandate)
              .group_by(month, office, Mandate.status))
    return sa.insert(MandateCount).from_select(["month", "office_id", "status", "mandates"], select)
