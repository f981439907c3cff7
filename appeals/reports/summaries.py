"""Appeal counts kept per month and office, for the dashboard's year-long periods (issue 19).

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

`counts()` answers a period: its whole months from the summary, its partial months (a rolling 30 days
starts and ends inside months) from the appeals themselves. Both go through the same dimension rule,
so the result equals the base tables' (tests/test_statistics_summary.py compares them after random
changes, on SQLite and PostgreSQL). `rebuild()` recomputes the table from the appeals (after a bulk
load with the triggers off: bench/dashboard_p95.py).
"""
import calendar
import datetime as dt
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from appeals.core.extensions import db
from appeals.reference.models import Settlement
from appeals.register.districts import APPEAL_DISTRICT, district_settlement_ids, with_appeal_district
from appeals.register.models import Appeal
from appeals.register.periods import received_between

DIMENSIONS = ("day", "category", "channel", "settlement")


class AppealCount(db.Model):
    """Appeals of one month and office by one dimension's value (see the module's docstring)."""

    __tablename__ = "appeal_counts"
    # Derived from the appeals by the triggers: backups leave it out, a restore rebuilds it
    # (appeals.maintenance.backup).
    __table_args__ = {"info": {"derived": True}}
    dim: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    month: Mapped[dt.date] = mapped_column(primary_key=True)
    # No foreign key: the appeal's own office_id is checked already; the triggers stay one upsert.
    office_id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    appeals: Mapped[int] = mapped_column(default=0)


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


def split_period(start: dt.date, end: dt.date) -> tuple[list[dt.date], list[tuple[dt.date, dt.date]]]:
    """The whole months inside [start, end] (their first days) and the partial stretches around them."""
    months: list[dt.date] = []
    edges: list[tuple[dt.date, dt.date]] = []
    day = start
    while day <= end:
        last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        if day.day == 1 and last <= end:
            months.append(day)
        else:
            stretch = (day, min(last, end))
            if edges and edges[-1][1] + dt.timedelta(days=1) == stretch[0]:
                edges[-1] = (edges[-1][0], stretch[1])
            else:
                edges.append(stretch)
        day = last + dt.timedelta(days=1)
    return months, edges


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
    """counts() of several dimensions of one period: {dim: {value: count}}. The whole months come from the
    summary, one read per dimension; each partial stretch from the appeals in one pass for all of them
    (base_counts_many), which is what a dashboard of five bars needs."""
    dims = tuple(dims)
    if district_id is not None and any(dim not in ("office", "district") for dim in dims):
        raise ValueError("a district narrows the office and district counts only")
    offices = list(office_ids) if office_ids is not None else None
    months, edges = split_period(start, end)
    totals: dict[str, dict[Any, int]] = {dim: {} for dim in dims}

    def add(dim: str, name: Any, value: Any) -> None:
        totals[dim][name] = totals[dim].get(name, 0) + int(value or 0)

    if months:
        for dim in dims:
            for name, value in _summary_counts(dim, months, offices, district_id):
                add(dim, name, value)
    for edge_start, edge_end in edges:
        for dim, values in base_counts_many(dims, edge_start, edge_end, offices, district_id).items():
            for name, value in values.items():
                add(dim, name, value)
    return {dim: {name: value for name, value in values.items() if value} for dim, values in totals.items()}


def _summary_counts(dim: str, months: list[dt.date], offices: list[int] | None,
                    district_id: int | None) -> Iterable[tuple[Any, Any]]:
    """(value, count) pairs of `dim` over whole months, from the summary."""
    stored = {"office": "channel", "district": "settlement"}.get(dim, dim)
    where: tuple[Any, ...] = (AppealCount.dim == stored, AppealCount.month.in_(months),
                              _office_filter(AppealCount.office_id, offices))
    if district_id is not None:
        stored = "settlement"
        keys = [str(sid) for sid in district_settlement_ids([district_id])]
        where = (AppealCount.dim == stored, AppealCount.month.in_(months),
                 _office_filter(AppealCount.office_id, offices), AppealCount.key.in_(keys or ["-"]))
    if dim == "office":
        query: Any = sa.select(AppealCount.office_id, sa.func.sum(AppealCount.appeals)).group_by(AppealCount.office_id)
    elif dim == "district":
        query = (sa.select(Settlement.district_id, sa.func.sum(AppealCount.appeals)).select_from(AppealCount)
                 .outerjoin(Settlement, sa.cast(Settlement.id, sa.String) == AppealCount.key)
                 .group_by(Settlement.district_id))
    elif dim == "day":
        query = (sa.select(AppealCount.month, AppealCount.key, sa.func.sum(AppealCount.appeals))
                 .group_by(AppealCount.month, AppealCount.key))
    else:
        query = sa.select(AppealCount.key, sa.func.sum(AppealCount.appeals)).group_by(AppealCount.key)
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
    """Recompute appeal_counts from the appeals (in the caller's transaction); the number of rows written."""
    db.session.execute(sa.delete(AppealCount))
    written = 0
    for dim in DIMENSIONS:
        month, key = _month_of(Appeal.received_at), _key(dim)
        select = (sa.select(sa.literal(dim), month, Appeal.office_id, key, sa.func.count()).select_from(Appeal)
                  .group_by(month, Appeal.office_id, key))
        result = db.session.execute(sa.insert(AppealCount).from_select(
            ["dim", "month", "office_id", "key", "appeals"], select))
        written += result.rowcount or 0  # type: ignore[attr-defined]
    return written
