"""Every figure of a period, defined once: the dashboard, the mandates statistics page, the summary PDF,
the API's /statistics and the demo all read them from here, under the same names.

The figures (keys of `figures()`, labels in FIGURE_LABELS):

- ``sessions_held``: reception sessions held on the period's days;
- ``appeals_received``: appeals received on the period's days (their received date);
- ``mandates_registered``: of those appeals, the ones registered as mandates (an appeal flagged under
  a mandate that is not withdrawn; counted once however many directives flagged it);
- ``mandates_count``: the mandates those appeals form (one mandate merged from several appeals counts
  once; withdrawn ones not at all);
- ``fulfilled``: of those mandates, the fulfilled ones (``fulfilled_share`` = fulfilled / mandates_count);
- ``mandates_registered_in_period``: mandates the coordinators registered on the period's days,
  whenever their appeals arrived. A directive that comes after a campaign flags last month's appeals
  this month: last month then shows its appeals registered as mandates, this month the mandates'
  registration.
- ``overdue``: appeals open past their deadline now (not a figure of the period).

The district of an appeal is its settlement's district (appeals.register.districts); appeals without a
settlement make a row of their own. Every figure's drill-down link carries the period.
"""
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from appeals.core import labels
from appeals.core.extensions import db
from appeals.mandates.models import MANDATE_STATUSES, Mandate, MandateAppeal
from appeals.mandates.periods import counted, registered_between, standing_links
from appeals.reference.models import Category, District, Office, Settlement
from appeals.register.deadlines import overdue_condition
from appeals.register.districts import APPEAL_DISTRICT, with_appeal_district
from appeals.register.models import Appeal
from appeals.register.periods import received_between
from appeals.reports import summaries
from appeals.schedules.services import sessions_held_count

Link = Callable[..., str]

# The order in which every surface shows them.
FIGURES = ("sessions_held", "appeals_received", "mandates_registered", "mandates_count", "fulfilled",
           "mandates_registered_in_period")
FIGURE_LABELS = {
    "sessions_held": _l("Receptions held"),
    "appeals_received": _l("Appeals received"),
    "mandates_registered": _l("Of them registered as mandates"),
    "mandates_count": _l("Mandates from these appeals"),
    "fulfilled": _l("Of these mandates fulfilled"),
    "mandates_registered_in_period": _l("Mandates registered in the period"),
    "overdue": _l("Overdue appeals (now)"),
}
FIGURE_HINTS = {
    "appeals_received": _l("By the date each appeal was received."),
    "mandates_registered": _l("Appeals of the period flagged as mandates, by the appeal's date."),
    "mandates_count": _l("A mandate merged from several appeals counts once; withdrawn ones do not count."),
    "mandates_registered_in_period": _l("By the date the mandate was registered, whenever its appeal came."),
}
APPEAL_MEASURES = ("appeals_received", "mandates_registered", "mandates_count", "fulfilled")


def _share(part: int, whole: int) -> float:
    return (part / whole) if whole else 0.0


def _no_link(*_args: Any, **_kwargs: Any) -> str:
    return ""


# --- The appeal-based figures, in total and per office or district -----------------------------


def _offices_in(column: Any, office_ids: list[int] | None) -> sa.ColumnElement[bool]:
    return sa.true() if office_ids is None else column.in_(office_ids or [-1])


def received_counts(start: dt.date, end: dt.date, key: str | None = None,
                    office_ids: list[int] | None = None, district_id: int | None = None) -> dict[Any, int]:
    """Appeals received in [start, end]: {None: total}, or per "office_id" or "district_id" (the appeal's
    district, None = no settlement); with district_id, only the appeals of that district. Read from the
    monthly summary (appeals.reports.summaries)."""
    if district_id is not None:
        by_office = summaries.counts("office", start, end, office_ids, district_id=district_id)
        if key == "office_id":
            return by_office
        total = sum(by_office.values())
        return {district_id: total} if key == "district_id" else {None: total}
    if key in ("office_id", "district_id"):
        return summaries.counts(key[:-3], start, end, office_ids)
    return {None: sum(summaries.counts("day", start, end, office_ids).values())}


def _appeal_measures(start: dt.date, end: dt.date, key: str | None = None,
                     office_ids: list[int] | None = None, district_id: int | None = None,
                     directive_id: int | None = None, received: int | None = None) -> dict[Any, dict[str, Any]]:
    """{group: figures} for appeals received in [start, end]; key None (totals), "office_id" or "district_id".

    Appeals received come from the monthly summary. The mandate figures, in total and per office, from the
    links' monthly summary (summaries.link_measures: the standing links by the copies of their appeal's
    received time and office and their mandate's status, migrations 0022 and 0035); narrowed to a district
    or a directive, from two plain joins (appeals -> links -> mandates), the same rule on the base columns.
    `received`: the total of appeals received, when the caller has counted it already (the dashboard, from
    its days).
    """
    group = {"office_id": Appeal.office_id, "district_id": APPEAL_DISTRICT}.get(key) if key else None

    def grouped(query: sa.Select) -> sa.Select:
        if key == "district_id" or district_id is not None:
            query = with_appeal_district(query)
        query = query.where(received_between(start, end), _offices_in(Appeal.office_id, office_ids))
        if district_id is not None:
            query = query.where(APPEAL_DISTRICT == district_id)
        if directive_id is not None:
            query = query.where(Mandate.directive_id == directive_id)
        return query.group_by(group) if group is not None else query

    links_summary = key in (None, "office_id") and district_id is None and directive_id is None
    result: dict[Any, dict[str, Any]] = {}
    if received is not None and key is None and district_id is None:
        counted_received: dict[Any, int] = {None: received}
    else:
        counted_received = received_counts(start, end, key, office_ids, district_id)
    for name, count in counted_received.items():
        result[name] = {**_empty(), "appeals_received": count}
    measured: dict[Any, Any]
    if links_summary:
        # From the monthly summary of the links (migration 0035), equal to the same counts of the links.
        measured = summaries.link_measures(start, end, office_ids, by_office=key == "office_id")
    else:
        flagged = grouped(
            sa.select(*([group] if group is not None else []),
                      sa.func.count(sa.distinct(MandateAppeal.appeal_id)),
                      sa.func.count(sa.distinct(Mandate.id)),
                      sa.func.count(sa.distinct(sa.case((Mandate.status == "fulfilled", Mandate.id)))))
            .select_from(Appeal)
            .join(MandateAppeal, sa.and_(MandateAppeal.appeal_id == Appeal.id, standing_links()))
            .join(Mandate, sa.and_(Mandate.id == MandateAppeal.mandate_id, counted()))
        )
        if group is not None:
            measured = {row[0]: row[1:] for row in db.session.execute(flagged)}
        else:
            measured = {None: db.session.execute(flagged).one()}  # an aggregate without GROUP BY: one row
    for name, values in measured.items():
        figures = result.setdefault(name, _empty())
        figures.update(zip(APPEAL_MEASURES[1:], values))
        figures["fulfilled_share"] = _share(figures["fulfilled"], figures["mandates_count"])
    if group is None and None not in result:
        result[None] = _empty()
    return result


def _empty() -> dict[str, Any]:
    return {**{name: 0 for name in APPEAL_MEASURES}, "fulfilled_share": 0.0}


def mandates_registered_in_period(start: dt.date, end: dt.date, office_ids: list[int] | None = None,
                                  district_id: int | None = None,
                                  directive_id: int | None = None) -> dict[str | None, int]:
    """{status: count} of mandates registered on the period's days (withdrawn ones not counted); with
    office_ids, those of these offices; with district_id, those whose settlement is in it; with
    directive_id, that directive's. Without a district or directive, from the monthly summary."""
    if district_id is None and directive_id is None:
        return dict(summaries.mandates_by_status(start, end, office_ids))
    query = sa.select(Mandate.status, sa.func.count()).where(
        registered_between(start, end), counted(), _offices_in(Mandate.office_id, office_ids))
    if district_id is not None:
        query = query.join(Settlement, Settlement.id == Mandate.settlement_id).where(Settlement.district_id == district_id)
    if directive_id is not None:
        query = query.where(Mandate.directive_id == directive_id)
    return dict(db.session.execute(query.group_by(Mandate.status)).all())


def overdue_appeals(today: dt.date | None = None, office_ids: list[int] | None = None,
                    district_id: int | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(Appeal)
    if district_id is not None:
        query = with_appeal_district(query).where(APPEAL_DISTRICT == district_id)
    return db.session.scalar(query.where(overdue_condition(today), _offices_in(Appeal.office_id, office_ids))) or 0


def district_office_ids(district_id: int, office_ids: list[int] | None = None) -> list[int]:
    """The offices located in a district (where its sessions are held), within office_ids when given."""
    ids = list(db.session.scalars(sa.select(Office.id).where(Office.district_id == district_id)))
    return ids if office_ids is None else [i for i in ids if i in office_ids]


def figures(start: dt.date, end: dt.date, registered_by_status: dict | None = None,
            office_ids: list[int] | None = None, district_id: int | None = None,
            directive_id: int | None = None, appeals_received: int | None = None) -> dict[str, Any]:
    """Every figure of [start, end] (dates, inclusive) under its name (see the module's docstring);
    with office_ids, of these offices only (a region's); with district_id, of the appeals (and mandates)
    of that district and the sessions at its offices; with directive_id, the mandate figures of that
    directive only (the appeals received stay all of them: the share is that directive's).
    appeals_received: that figure, when the caller has counted it already (from the same summary)."""
    measures = _appeal_measures(start, end, office_ids=office_ids, district_id=district_id, directive_id=directive_id,
                                received=appeals_received)
    result = dict(next(iter(measures.values()), _empty()))
    if registered_by_status is None:
        registered_by_status = mandates_registered_in_period(start, end, office_ids, district_id, directive_id)
    session_offices = office_ids if district_id is None else district_office_ids(district_id, office_ids)
    result["sessions_held"] = sessions_held_count(start, end, office_ids=session_offices)
    result["mandates_registered_in_period"] = sum(registered_by_status.values())
    result["mandate_share"] = _share(result["mandates_registered"], result["appeals_received"])
    result["overdue"] = overdue_appeals(office_ids=office_ids, district_id=district_id)
    return result


def figure_links(start: dt.date, end: dt.date, link: Link) -> dict[str, str]:
    """The list behind each figure, for the same period."""
    period = {"date_from": start.isoformat(), "date_to": end.isoformat()}
    received = {"received_from": start.isoformat(), "received_to": end.isoformat()}
    return {
        "sessions_held": link("sessions", view="list", status="held", **{"from": start.isoformat(), "to": end.isoformat()}),
        "appeals_received": link("appeals", **period),
        # The mandates formed from the period's appeals; the list shows their appeals' numbers.
        "mandates_registered": link("mandates", status="counted", **received),
        "mandates_count": link("mandates", status="counted", **received),
        "fulfilled": link("mandates", status="fulfilled", **received),
        "mandates_registered_in_period": link("mandates", status="counted", **period),
        "overdue": link("appeals", overdue=1),
    }


def briefing(start: dt.date, end: dt.date, office_ids: list[int] | None = None, district_id: int | None = None,
             directive_id: int | None = None) -> dict[str, Any]:
    """The figures with rows per office (the appeal's office) and per district (the appeal's district),
    narrowed as figures() narrows them."""
    totals = figures(start, end, office_ids=office_ids, district_id=district_id, directive_id=directive_id)
    select_offices = sa.select(Office).order_by(Office.kind, Office.code)
    if office_ids is not None:
        select_offices = select_offices.where(Office.id.in_(office_ids or [-1]))
    offices = db.session.scalars(select_offices).all()
    by_office = _appeal_measures(start, end, "office_id", office_ids, district_id, directive_id)
    session_offices = None if district_id is None else set(district_office_ids(district_id))
    office_rows = []
    for office in offices:
        row = dict(by_office.get(office.id, _empty()))
        held_here = session_offices is None or office.id in session_offices
        row["sessions_held"] = sessions_held_count(start, end, office_ids=[office.id]) if held_here else 0
        if row["appeals_received"] or row["sessions_held"]:
            office_rows.append({"office": office, **row})
    districts = db.session.scalars(sa.select(District).order_by(District.code)).all()
    by_district = _appeal_measures(start, end, "district_id", office_ids, district_id, directive_id)
    district_rows = [{"district": d, **by_district[d.id]} for d in districts if d.id in by_district]
    if None in by_district:
        district_rows.append({"district": None, **by_district[None]})
    return {"start": start, "end": end, "totals": totals, "offices": office_rows, "districts": district_rows}


# --- The dashboard's bars -----------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    value: int
    url: str = ""


def _label(mapping: dict, value: Any) -> str:
    label = mapping.get(value)
    return str(label) if label is not None else (value or "")


def _office_label(office: Office, lang: str | None) -> str:
    # Territorial offices are named after their district; code + district reads at a glance.
    if office.kind == "territorial" and office.district is not None:
        return f"{office.code} · {office.district.localized_name(lang)}"
    return f"{office.code} · {office.localized_name(lang)}"


def district_bars(start: dt.date, end: dt.date, lang: str | None = None, link: Link = _no_link,
                  office_ids: list[int] | None = None, counts: dict[Any, int] | None = None) -> list[Bar]:
    """Appeals per district (the appeal's district). Appeals without a settlement make a last bar of their
    own, without a link (the register has no filter for them), so the bars add up to the appeals received.
    counts: {district: appeals} when the caller has counted them already (the dashboard)."""
    counts = dict(counts) if counts is not None else received_counts(start, end, "district_id", office_ids)
    unstated = counts.pop(None, 0)
    period = {"date_from": start.isoformat(), "date_to": end.isoformat()}
    names = _labels(lang)["districts"]
    bars = sorted(
        (Bar(names[did], count, link("appeals", district=did, **period))
         for did, count in counts.items()), key=lambda b: (-b.value, b.label))
    if unstated:
        bars.append(Bar(_("No settlement stated"), unstated))
    return bars


def _labels(lang: str | None) -> dict[str, dict[Any, str]]:
    """The bars' names of categories, offices and districts in `lang` (the page's by default), kept with the
    reference data's version (appeals.reference.cache): a country's dashboard names some 450 bars."""
    from appeals.core.models_base import current_language
    from appeals.reference import cache as reference_cache

    code = current_language(lang)

    def build() -> dict[str, dict[Any, str]]:
        offices = db.session.scalars(sa.select(Office).options(selectinload(Office.district))).all()
        return {
            "categories": {c.id: c.localized_name(code) for c in db.session.scalars(sa.select(Category))},
            "offices": {o.id: _office_label(o, code) for o in offices},
            "districts": {d.id: d.localized_name(code) for d in db.session.scalars(sa.select(District))},
        }

    return reference_cache.cached(f"dashboard-labels:{code}", build)


def region_office_ids(region_id: int) -> list[int]:
    """The offices of a region (offices.region_id: appeals.auth.permissions keeps the one rule)."""
    from appeals.auth.permissions import region_office_ids as offices_of_region

    return sorted(offices_of_region(region_id))


def dashboard(start: dt.date, end: dt.date, lang: str | None = None, link: Link | None = None,
              office_ids: list[int] | None = None) -> dict[str, Any]:
    """The figures of [start, end] with the dashboard's bars. `link(kind, **args)` builds the URL behind one.
    office_ids: of these offices only (one region's: region_office_ids); None: all."""
    link = link or _no_link
    period = {"date_from": start.isoformat(), "date_to": end.isoformat()}

    # Every bar's counts of the period in one read of the summary per dimension and one pass over the
    # partial months' appeals (summaries.counts_many).
    counted = summaries.counts_many(("day", "category", "channel", "office", "district"), start, end, office_ids)
    days = counted["day"]
    by_week: dict[dt.date, int] = {}
    for day, count in days.items():
        monday = day - dt.timedelta(days=day.weekday())
        by_week[monday] = by_week.get(monday, 0) + count
    weeks = []
    for monday, count in sorted(by_week.items()):
        w_start, w_end = max(monday, start), min(monday + dt.timedelta(days=6), end)
        # Day and month as every language here writes them (fmt_date's "short" pattern, dd.MM.yyyy, cut).
        weeks.append(Bar(f"{w_start:%d.%m}–{w_end:%d.%m}", count,
                         link("appeals", date_from=w_start.isoformat(), date_to=w_end.isoformat())))

    names = _labels(lang)
    by_category = sorted(
        (Bar(names["categories"].get(cid) or _("No category"), count,
             link("appeals", category=cid, **period) if cid else "")
         for cid, count in counted["category"].items()), key=lambda b: -b.value)
    by_channel = sorted(
        (Bar(_label(labels.CHANNEL_LABELS, ch), count, link("appeals", channel=ch, **period))
         for ch, count in counted["channel"].items()), key=lambda b: -b.value)
    by_office = sorted(
        (Bar(names["offices"][oid], count, link("appeals", office=oid, **period))
         for oid, count in counted["office"].items()), key=lambda b: -b.value)

    registered = mandates_registered_in_period(start, end, office_ids)
    by_mandate_status = [Bar(_label(labels.MANDATE_STATUS_LABELS, s), registered[s],
                             link("mandates", status=s, **period)) for s in MANDATE_STATUSES if s in registered]
    return {
        "start": start, "end": end, "figures": figures(start, end, registered, office_ids, appeals_received=sum(days.values())),
        "weeks": weeks, "categories": by_category, "channels": by_channel,
        "districts": district_bars(start, end, lang, link, office_ids, counted["district"]), "offices": by_office,
        "mandate_statuses": by_mandate_status, "links": figure_links(start, end, link),
    }


# --- Mandate reports up the chain ----------------------------------------------------------------

# The statuses a report counts, in its columns' order (withdrawn mandates are not counted).
REPORT_STATUSES = ("registered", "in_progress", "fulfilled", "partially_fulfilled", "not_fulfilled")
REPORT_FIGURES = ("registered_in_period", "total", *REPORT_STATUSES, "overdue")


def mandate_report_figures(start: dt.date, end: dt.date, office_ids: list[int] | None = None) -> dict[str, int]:
    """The figures of a mandate report up the chain (appeals/reports/chain.py) for [start, end], of the
    mandates' offices (office_ids; None: all):

    - ``registered_in_period``: mandates registered on the period's days (mandates_registered_in_period);
    - ``total``: mandates registered by the period's end, withdrawn ones not counted;
    - one figure per status of REPORT_STATUSES: those mandates in that status now;
    - ``overdue``: those still open whose target date passed by the period's end.
    """
    from appeals.mandates.queries import overdue_condition as mandate_overdue

    standing = sa.and_(registered_between(None, end), counted(), _offices_in(Mandate.office_id, office_ids))
    by_status = dict(db.session.execute(
        sa.select(Mandate.status, sa.func.count()).where(standing).group_by(Mandate.status)).all())
    overdue = db.session.scalar(sa.select(sa.func.count()).select_from(Mandate).where(
        standing, mandate_overdue(end + dt.timedelta(days=1)))) or 0
    result = {"registered_in_period": sum(mandates_registered_in_period(start, end, office_ids).values()),
              "total": sum(by_status.values()), "overdue": overdue}
    result.update({status: by_status.get(status, 0) for status in REPORT_STATUSES})
    return result
