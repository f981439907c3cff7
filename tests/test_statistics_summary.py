"""The monthly appeal counts (appeals.reports.summaries) equal the appeals themselves after any change.

Hypothesis applies random inserts (one by one through the ORM and in bulk through Core), edits of the
date, office, category, channel and settlement (one row, and many in one UPDATE), and deletes; after
each step the summary tables (per office, and per region: offices are also moved between regions and out
of any) must equal a count made here in Python from the appeals, and every
dashboard figure built on it (totals, weeks, categories, channels, offices, districts, one region) must
equal the same count for random periods (whole months, partial ones, both). Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL (statement-level triggers there, row-level ones in SQLite).
"""
import datetime as dt
import itertools

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appeals.core.extensions import db as _db
from appeals.reference.models import Office, Region, Settlement
from appeals.register.models import Appeal
from appeals.reports import statistics, summaries
from appeals.reports.summaries import AppealCount, AppealRegionCount

WINDOW_START = dt.date(2026, 9, 20)
WINDOW_DAYS = 120  # to mid-January: several month boundaries and a year's
CHANNELS = ("session", "letter", "phone", "online_event")
FIELDS = ("day", "office", "category", "channel", "settlement")
# Far above the seq numbers the register gives the fixtures' appeals (reg_appeal) in the same office and year.
_numbers = itertools.count(100_000)

days = st.integers(0, WINDOW_DAYS - 1)
appeal_values = st.fixed_dictionaries({
    "day": days, "minute": st.integers(0, 24 * 60 - 1), "office": st.integers(0, 2),
    "category": st.one_of(st.none(), st.integers(0, 2)), "channel": st.sampled_from(CHANNELS),
    "settlement": st.one_of(st.none(), st.integers(0, 3)),
})
steps = st.lists(st.one_of(
    st.tuples(st.just("insert_orm"), appeal_values),
    st.tuples(st.just("insert_bulk"), st.lists(appeal_values, min_size=1, max_size=6)),
    st.tuples(st.just("edit"), st.integers(0, 10_000), appeal_values,
              st.one_of(st.sampled_from(FIELDS).map(lambda f: {f}), st.sets(st.sampled_from(FIELDS), min_size=2))),
    st.tuples(st.just("edit_bulk"), st.integers(2, 4), st.one_of(st.none(), st.integers(0, 2))),
    st.tuples(st.just("delete"), st.integers(0, 10_000)),
    # An office moved to the other region (1), back (0), or out of any (None).
    st.tuples(st.just("office_region"), st.integers(0, 2), st.sampled_from((0, 1, None))),
), min_size=1, max_size=8)
periods = st.tuples(days, days).map(sorted)


def _row(reference, values):
    n = next(_numbers)
    received = dt.datetime.combine(WINDOW_START + dt.timedelta(days=values["day"]), dt.time()) + dt.timedelta(
        minutes=values["minute"])
    return {
        "office_id": reference.offices[values["office"]].id, "number": f"SUM-{n}", "year": received.year, "seq": n,
        "received_at": received, "channel": values["channel"], "applicant_kind": "individual",
        "applicant_name": "Сынақ", "settlement_id": (reference.settlements[values["settlement"]].id
                                                     if values["settlement"] is not None else None),
        "appeal_type": "statement", "summary": "Сынақ өтініші",
        "category_id": reference.categories[values["category"]].id if values["category"] is not None else None,
        "due_date": received.date() + dt.timedelta(days=21), "original_due_date": received.date() + dt.timedelta(days=21),
    }


def _apply(step, reference):
    _db.session.expire_all()  # the app's session keeps objects after a commit; SQLite reuses deleted ids
    kind = step[0]
    ids = list(_db.session.scalars(sa.select(Appeal.id).order_by(Appeal.id)))
    if kind == "insert_orm":
        _db.session.add(Appeal(**_row(reference, step[1])))
    elif kind == "insert_bulk":
        _db.session.execute(sa.insert(Appeal), [_row(reference, values) for values in step[1]])
    elif kind == "edit" and ids:
        appeal = _db.session.get(Appeal, ids[step[1] % len(ids)])
        new = _row(reference, step[2])
        fields = {"day": ("received_at",), "office": ("office_id",), "category": ("category_id",),
                  "channel": ("channel",), "settlement": ("settlement_id",)}
        for name in step[3]:
            for field in fields[name]:
                setattr(appeal, field, new[field])
    elif kind == "edit_bulk":
        category = reference.categories[step[2]].id if step[2] is not None else None
        _db.session.execute(sa.update(Appeal).where(Appeal.id % step[1] == 0)
                            .values(category_id=category, channel="phone"))
    elif kind == "delete" and ids:
        _db.session.execute(sa.delete(Appeal).where(Appeal.id == ids[step[1] % len(ids)]))
    elif kind == "office_region":
        region = None if step[2] is None else (reference.region if step[2] == 0 else _other_region())
        _db.session.get(Office, reference.offices[step[1]].id).region_id = region.id if region else None
    _db.session.commit()


def _other_region():
    region = _db.session.scalar(sa.select(Region).where(Region.code == "ALM"))
    if region is None:
        region = Region(code="ALM", name_kk="Алматы облысы", name_ru="Алматинская область")
        _db.session.add(region)
        _db.session.flush()
    return region


def _expected(dim, start, end, office_ids=None):
    """The figure counted here, in Python, from the appeals themselves."""
    _db.session.expire_all()
    result: dict = {}
    settlement_district = {s.id: s.district_id for s in _db.session.scalars(sa.select(Settlement))}
    for appeal in _db.session.scalars(sa.select(Appeal)):
        day = appeal.received_at.date()
        if not start <= day <= end or (office_ids is not None and appeal.office_id not in office_ids):
            continue
        key = {"day": day, "category": appeal.category_id, "channel": appeal.channel,
               "settlement": appeal.settlement_id, "office": appeal.office_id,
               "district": settlement_district.get(appeal.settlement_id)}[dim]
        result[key] = result.get(key, 0) + 1
    return result


def _expected_in_district(district_id, start, end):
    """{office: appeals of the district} counted here, in Python."""
    settlements = {s.id for s in _db.session.scalars(sa.select(Settlement).where(Settlement.district_id == district_id))}
    result: dict = {}
    for appeal in _db.session.scalars(sa.select(Appeal)):
        if start <= appeal.received_at.date() <= end and appeal.settlement_id in settlements:
            result[appeal.office_id] = result.get(appeal.office_id, 0) + 1
    return result


def _table_now():
    return {(r.dim, r.month, r.office_id, r.key): r.appeals
            for r in _db.session.scalars(sa.select(AppealCount).where(AppealCount.appeals != 0))}


def _table_expected(by_region=False):
    _db.session.expire_all()
    result: dict = {}
    office_region = dict(_db.session.execute(sa.select(Office.id, Office.region_id)).all())
    for appeal in _db.session.scalars(sa.select(Appeal)):
        month = appeal.received_at.date().replace(day=1)
        keys = {"day": f"{appeal.received_at.day:02d}", "category": str(appeal.category_id or ""),
                "channel": appeal.channel, "settlement": str(appeal.settlement_id or "")}
        scope = office_region[appeal.office_id] if by_region else appeal.office_id
        if scope is None:
            continue  # an office without a region counts in the office table only
        for dim, key in keys.items():
            cell = (dim, month, scope, key)
            result[cell] = result.get(cell, 0) + 1
    return result


def _region_table_now():
    return {(r.dim, r.month, r.region_id, r.key): r.appeals
            for r in _db.session.scalars(sa.select(AppealRegionCount).where(AppealRegionCount.appeals != 0))}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps, checks=st.lists(periods, min_size=1, max_size=3))
def test_the_summary_equals_the_appeals_after_random_changes(db, reference, steps, checks):
    for step in steps:
        _apply(step, reference)
        assert _table_now() == _table_expected()
        assert _region_table_now() == _table_expected(by_region=True)
    region = statistics.region_office_ids(reference.region.id)
    for first, last in checks:
        start, end = WINDOW_START + dt.timedelta(days=first), WINDOW_START + dt.timedelta(days=last)
        all_dims = summaries.DIMENSIONS + ("office", "district")
        for dim in all_dims:
            assert summaries.counts(dim, start, end) == _expected(dim, start, end)
            assert summaries.counts(dim, start, end, [reference.kordai.id]) == _expected(
                dim, start, end, [reference.kordai.id])
            # A region held whole (its rows), with one office more (its rows too).
            assert summaries.counts(dim, start, end, region) == _expected(dim, start, end, region)
            assert summaries.counts(dim, start, end, region + [reference.kordai.id]) == _expected(
                dim, start, end, set(region) | {reference.kordai.id})
        # All dimensions in one pass (GROUPING SETS on PostgreSQL), as the dashboard reads them.
        assert summaries.counts_many(all_dims, start, end) == {dim: _expected(dim, start, end) for dim in all_dims}
        assert summaries.counts_many(all_dims, start, end, [reference.kordai.id]) == {
            dim: _expected(dim, start, end, [reference.kordai.id]) for dim in all_dims}
        assert statistics.received_counts(start, end, "office_id") == _expected("office", start, end)
        assert statistics.received_counts(start, end, "district_id") == _expected("district", start, end)
        merke = reference.districts[1].id
        in_merke = {office: count for office, count in _expected_in_district(merke, start, end).items()}
        assert statistics.received_counts(start, end, "office_id", district_id=merke) == in_merke
        assert statistics.received_counts(start, end, district_id=merke) == {None: sum(in_merke.values())}
        total = sum(_expected("day", start, end).values())
        assert statistics.received_counts(start, end) == {None: total}
        # The region's dashboard (offices may have been moved out of it by the steps).
        stats = statistics.dashboard(start, end, office_ids=region)
        in_region = sum(_expected("day", start, end, region).values())
        assert stats["figures"]["appeals_received"] == in_region
        assert sum(bar.value for bar in stats["weeks"]) == in_region
        for bars, dim in (("channels", "channel"), ("offices", "office"), ("districts", "district")):
            assert sorted(bar.value for bar in stats[bars]) == sorted(_expected(dim, start, end, region).values())


def test_a_rebuild_gives_the_table_the_triggers_kept(db, reference, reg_appeal):
    reg_appeal()
    reg_appeal(settlement_id=reference.settlements[2].id, category_id=reference.categories[1].id, channel="phone")
    _db.session.execute(sa.insert(Appeal), [_row(reference, {"day": d, "minute": 600, "office": d % 3, "category": None,
                                                             "channel": "letter", "settlement": d % 4})
                                            for d in range(0, WINDOW_DAYS, 7)])
    _db.session.commit()
    kept, kept_regions = _table_now(), _region_table_now()
    assert kept == _table_expected() and kept
    assert kept_regions == _table_expected(by_region=True) and kept_regions
    summaries.rebuild()
    _db.session.commit()
    assert _table_now() == kept and _region_table_now() == kept_regions


D = dt.date


@pytest.mark.parametrize(("start", "end", "months", "stretches"), [
    (D(2026, 1, 1), D(2026, 12, 31), 12, []),
    # A rolling year: December 2025 is the summary's less its first two days; December 2026's two days read.
    (D(2025, 12, 3), D(2026, 12, 2), 12, [(D(2025, 12, 1), D(2025, 12, 2), -1), (D(2026, 12, 1), D(2026, 12, 2), 1)]),
    (D(2026, 11, 5), D(2026, 11, 20), 1, [(D(2026, 11, 1), D(2026, 11, 4), -1), (D(2026, 11, 21), D(2026, 11, 30), -1)]),
    (D(2026, 11, 10), D(2026, 11, 12), 0, [(D(2026, 11, 10), D(2026, 11, 12), 1)]),
    (D(2026, 10, 5), D(2026, 11, 20), 2, [(D(2026, 10, 1), D(2026, 10, 4), -1), (D(2026, 11, 21), D(2026, 11, 30), -1)]),
    # Two small pieces either side of a month boundary: one stretch read.
    (D(2026, 10, 29), D(2026, 11, 3), 0, [(D(2026, 10, 29), D(2026, 11, 3), 1)]),
    (D(2026, 2, 1), D(2026, 2, 28), 1, []),
])
def test_a_period_is_counted_from_whole_months_and_the_fewest_days_of_appeals(start, end, months, stretches):
    whole, read = summaries.plan_period(start, end)
    assert len(whole) == months and read == stretches
    # Whatever the plan, it covers each day of the period once.
    days = {}
    for first in whole:
        for n in range(31):
            day = first + dt.timedelta(days=n)
            if day.month == first.month:
                days[day] = days.get(day, 0) + 1
    for first, last, sign in read:
        for n in range((last - first).days + 1):
            day = first + dt.timedelta(days=n)
            days[day] = days.get(day, 0) + sign
    assert {day for day, times in days.items() if times} == {
        start + dt.timedelta(days=n) for n in range((end - start).days + 1)}
    assert set(days.values()) <= {0, 1}


# --- The mandate figures through the links' copies (0022) and their monthly summary (0035) ---------------

link_steps = st.lists(st.one_of(
    st.tuples(st.just("flag"), st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 1)),
    st.tuples(st.just("unflag"), st.integers(0, 10_000)),
    st.tuples(st.just("status"), st.integers(0, 10_000),
              st.sampled_from(("registered", "fulfilled", "withdrawn", "in_progress"))),
    st.tuples(st.just("move"), st.integers(0, 10_000), days, st.integers(0, 2)),
), min_size=3, max_size=12)


def _mandate_setup(reference):
    from appeals.mandates.models import Directive, Mandate

    directives = [Directive(issuer="Орталық", number=str(n), issued_on=dt.date(2026, 9, 1), title="Сынақ")
                  for n in (1, 2)]
    _db.session.add_all(directives)
    _db.session.flush()
    mandates = [Mandate(directive_id=directives[n % 2].id, number=f"SUM-A-{next(_numbers)}", seq=n, title="Аманат")
                for n in range(4)]
    _db.session.add_all(mandates)
    _db.session.execute(sa.insert(Appeal), [_row(reference, {"day": d * 9, "minute": 0, "office": d % 3, "category": 0,
                                                             "channel": "letter", "settlement": d % 4})
                                            for d in range(12)])
    _db.session.commit()
    return directives


def _apply_link(step, reference, directives):
    from appeals.mandates.models import Mandate, MandateAppeal

    _db.session.expire_all()  # the app's session keeps objects after a commit; SQLite reuses deleted ids
    appeals = list(_db.session.scalars(sa.select(Appeal).order_by(Appeal.id)))
    mandates = list(_db.session.scalars(sa.select(Mandate).order_by(Mandate.id)))
    links = list(_db.session.scalars(sa.select(MandateAppeal).where(MandateAppeal.removed_at.is_(None))
                                     .order_by(MandateAppeal.id)))
    if step[0] == "flag":
        appeal, mandate = appeals[step[1] % len(appeals)], mandates[step[2] % len(mandates)]
        if not any(link.appeal_id == appeal.id and link.directive_id == mandate.directive_id for link in links):
            _db.session.add(MandateAppeal(mandate_id=mandate.id, directive_id=mandate.directive_id,
                                          appeal_id=appeal.id, added_at=dt.datetime(2026, 11, 1)))
    elif step[0] == "unflag" and links:
        links[step[1] % len(links)].removed_at = dt.datetime(2026, 11, 2)
    elif step[0] == "status":
        mandates[step[1] % len(mandates)].status = step[2]
    elif step[0] == "move":
        appeal = appeals[step[1] % len(appeals)]
        appeal.received_at = dt.datetime.combine(WINDOW_START + dt.timedelta(days=step[2]), dt.time(15))
        appeal.office_id = reference.offices[step[3]].id
    _db.session.commit()


def _expected_mandate_figures(start, end, by_office=False):
    """The figures counted here, in Python, from appeals, links and mandates as they stand."""
    from appeals.mandates.models import Mandate, MandateAppeal

    _db.session.expire_all()
    appeals = {a.id: a for a in _db.session.scalars(sa.select(Appeal))}
    mandates = {m.id: m for m in _db.session.scalars(sa.select(Mandate))}
    groups: dict = {}
    for link in _db.session.scalars(sa.select(MandateAppeal).where(MandateAppeal.removed_at.is_(None))):
        appeal, mandate = appeals[link.appeal_id], mandates[link.mandate_id]
        if mandate.status == "withdrawn" or not start <= appeal.received_at.date() <= end:
            continue
        group = groups.setdefault(appeal.office_id if by_office else None, (set(), set(), set()))
        group[0].add(appeal.id)
        group[1].add(mandate.id)
        if mandate.status == "fulfilled":
            group[2].add(mandate.id)
    return {name: tuple(len(part) for part in parts) for name, parts in groups.items()}


def _link_tables_now():
    from appeals.reports.summaries import MandateLinkCount, SpanningMandate

    _db.session.expire_all()
    cells = {(r.month, r.office_id): (r.appeals, r.mandates, r.fulfilled)
             for r in _db.session.scalars(sa.select(MandateLinkCount)) if (r.appeals, r.mandates, r.fulfilled) != (0, 0, 0)}
    return cells, set(_db.session.scalars(sa.select(SpanningMandate.mandate_id)))


def _link_tables_expected():
    """mandate_link_counts and spanning_mandates counted here, in Python, from the links as they stand."""
    from appeals.mandates.models import Mandate, MandateAppeal

    appeals = {a.id: a for a in _db.session.scalars(sa.select(Appeal))}
    mandates = {m.id: m for m in _db.session.scalars(sa.select(Mandate))}
    cells: dict = {}
    mandate_cells: dict = {}
    for link in _db.session.scalars(sa.select(MandateAppeal).where(MandateAppeal.removed_at.is_(None))):
        appeal, mandate = appeals[link.appeal_id], mandates[link.mandate_id]
        if mandate.status == "withdrawn":
            continue
        cell = (appeal.received_at.date().replace(day=1), appeal.office_id)
        parts = cells.setdefault(cell, (set(), set(), set()))
        parts[0].add(appeal.id)
        parts[1].add(mandate.id)
        if mandate.status == "fulfilled":
            parts[2].add(mandate.id)
        mandate_cells.setdefault(mandate.id, set()).add(cell)
    return ({cell: tuple(len(part) for part in parts) for cell, parts in cells.items()},
            {mandate for mandate, seen in mandate_cells.items() if len(seen) > 1})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=link_steps, check=periods)
def test_the_mandate_figures_from_the_links_equal_the_base_tables(db, reference, steps, check):
    _db.session.execute(sa.text("DELETE FROM mandate_appeals"))
    _db.session.execute(sa.text("DELETE FROM mandates"))
    _db.session.execute(sa.text("DELETE FROM directives"))
    _db.session.execute(sa.delete(Appeal))
    _db.session.commit()
    directives = _mandate_setup(reference)
    for step in steps:
        _apply_link(step, reference, directives)
        assert _link_tables_now() == _link_tables_expected()
    names = ("mandates_registered", "mandates_count", "fulfilled")
    for first, last in (check, (0, WINDOW_DAYS - 1)):
        start, end = WINDOW_START + dt.timedelta(days=first), WINDOW_START + dt.timedelta(days=last)
        for by_office in (False, True):
            measures = statistics._appeal_measures(start, end, "office_id" if by_office else None)
            got = {name: tuple(figures[n] for n in names) for name, figures in measures.items()
                   if any(figures[n] for n in names)}
            assert got == _expected_mandate_figures(start, end, by_office)
    # The rebuild gives what the triggers kept.
    kept = _link_tables_now()
    summaries.rebuild()
    _db.session.commit()
    assert _link_tables_now() == kept


# --- Mandates registered per month (mandate_counts, migration 0034) --------------------------------------

mandate_values = st.fixed_dictionaries({
    # Registration times as stored (UTC), hours apart so that local and UTC month ends both fall between.
    "hour": st.integers(0, WINDOW_DAYS * 24 - 1), "office": st.one_of(st.none(), st.integers(0, 2)),
    "status": st.sampled_from(("registered", "in_progress", "fulfilled", "withdrawn")),
})
mandate_steps = st.lists(st.one_of(
    st.tuples(st.just("insert_orm"), mandate_values),
    st.tuples(st.just("insert_bulk"), st.lists(mandate_values, min_size=1, max_size=5)),
    st.tuples(st.just("edit"), st.integers(0, 10_000), mandate_values),
    st.tuples(st.just("status_bulk"), st.sampled_from(("fulfilled", "withdrawn", "in_progress"))),
    st.tuples(st.just("delete"), st.integers(0, 10_000)),
), min_size=1, max_size=8)


def _mandate_row(reference, directive_id, values):
    n = next(_numbers)
    return {"directive_id": directive_id, "number": f"SUM-M-{n}", "seq": n, "title": "Аманат",
            "office_id": reference.offices[values["office"]].id if values["office"] is not None else None,
            "status": values["status"],
            "created_at": dt.datetime.combine(WINDOW_START, dt.time()) + dt.timedelta(hours=values["hour"], minutes=7),
            "updated_at": dt.datetime(2026, 11, 1)}


def _mandate_counts_expected():
    from appeals.mandates.models import Mandate

    _db.session.expire_all()
    result: dict = {}
    for mandate in _db.session.scalars(sa.select(Mandate)):
        cell = (mandate.created_at.date().replace(day=1), mandate.office_id or 0, mandate.status)
        result[cell] = result.get(cell, 0) + 1
    return result


def _registered_expected(start, end, office_ids=None):
    from appeals.core.timeutil import utc_to_local
    from appeals.mandates.models import Mandate

    result: dict = {}
    for mandate in _db.session.scalars(sa.select(Mandate)):
        day = utc_to_local(mandate.created_at).date()
        if (mandate.status != "withdrawn" and start <= day <= end
                and (office_ids is None or mandate.office_id in office_ids)):
            result[mandate.status] = result.get(mandate.status, 0) + 1
    return result


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=mandate_steps, checks=st.lists(periods, min_size=1, max_size=3))
def test_the_mandates_summary_equals_the_mandates_after_random_changes(db, reference, steps, checks):
    from appeals.mandates.models import Directive, Mandate
    from appeals.reports.summaries import MandateCount

    directive = _db.session.scalar(sa.select(Directive).where(Directive.number == "M-SUM"))
    if directive is None:
        directive = Directive(issuer="Орталық", number="M-SUM", issued_on=dt.date(2026, 9, 1), title="Сынақ")
        _db.session.add(directive)
        _db.session.commit()
    for step in steps:
        _db.session.expire_all()
        ids = list(_db.session.scalars(sa.select(Mandate.id).order_by(Mandate.id)))
        if step[0] == "insert_orm":
            _db.session.add(Mandate(**_mandate_row(reference, directive.id, step[1])))
        elif step[0] == "insert_bulk":
            _db.session.execute(sa.insert(Mandate), [_mandate_row(reference, directive.id, v) for v in step[1]])
        elif step[0] == "edit" and ids:
            mandate = _db.session.get(Mandate, ids[step[1] % len(ids)])
            new = _mandate_row(reference, directive.id, step[2])
            mandate.created_at, mandate.office_id, mandate.status = new["created_at"], new["office_id"], new["status"]
        elif step[0] == "status_bulk":
            _db.session.execute(sa.update(Mandate).where(Mandate.id % 2 == 0).values(status=step[1]))
        elif step[0] == "delete" and ids:
            _db.session.execute(sa.delete(Mandate).where(Mandate.id == ids[step[1] % len(ids)]))
        _db.session.commit()
        table = {(r.month, r.office_id, r.status): r.mandates
                 for r in _db.session.scalars(sa.select(MandateCount).where(MandateCount.mandates != 0))}
        assert table == _mandate_counts_expected()
    region = statistics.region_office_ids(reference.region.id)
    for first, last in checks:
        start, end = WINDOW_START + dt.timedelta(days=first), WINDOW_START + dt.timedelta(days=last)
        assert summaries.mandates_by_status(start, end) == _registered_expected(start, end)
        assert summaries.mandates_by_status(start, end, region) == _registered_expected(start, end, region)
        assert statistics.mandates_registered_in_period(start, end, [reference.kordai.id]) == _registered_expected(
            start, end, [reference.kordai.id])
