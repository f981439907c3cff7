"""Data behind the printed documents and the statistics dashboard.

Lists come from the domain services (the register's filters, the mandates' query, the schedule's
sessions), so "Print" gives exactly the rows the user was looking at, with the same permissions.
"""
from __future__ import annotations

import calendar as _calendar
import datetime as dt
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from appeals.auth.permissions import (
    can,
    contacts_view,
    personal_data_mode,
    personal_view,
    stats_office_ids,
    user_region_id,
)
from appeals.core import labels, parsing
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.i18n import fmt_date, fmt_datetime, fmt_number
from appeals.core.timeutil import local_now
from appeals.mandates.models import Mandate
from appeals.reference.models import Category, District, Office, Settlement
from appeals.register.deadlines import is_overdue
from appeals.register.models import APPEAL_STATUSES, OPEN_STATUSES, Appeal
from appeals.reports.documents import PrintedDocument
from appeals.schedules.models import Host

if TYPE_CHECKING:
    from appeals.auth.models import User

LANGS = ("kk", "ru", "en")


class ReportError(DomainError):
    """A report cannot be made as asked (too many rows, a bad parameter)."""


def pick_lang(value: str | None) -> str:
    return value if value in LANGS else current_app.config["BABEL_DEFAULT_LOCALE"]


def org_name(lang: str, user: User | None = None) -> str:
    """The heading of a printed document: the regional office of the user's region (the first regional
    office for the central office's level, which prints for the whole branch)."""
    query = sa.select(Office).where(Office.kind == "regional")
    region_id = user_region_id(user) if user is not None else None
    if region_id is not None:
        query = query.where(Office.region_id == region_id)
    office = db.session.scalar(query.order_by(Office.id).limit(1))
    return office.localized_name(lang) if office else "Qabyldau"


def _label(mapping: Mapping[Any, Any], value: str | None) -> str:
    label = mapping.get(value)
    return str(label) if label is not None else (value or "")


def _user_name(user: User) -> str:
    return getattr(user, "display_name", None) or user.username


def _base_doc(lang: str, title: str, user: User, **kwargs: Any) -> Any:
    # Any: the builders add their own attributes (groups, days, card, ...) to the PrintedDocument.
    return PrintedDocument(
        lang=lang, title=title, org=org_name(lang, user), generated_by=_user_name(user),
        generated_at=fmt_datetime(local_now()), **kwargs,
    )


def parse_period(args: Mapping[str, Any]) -> tuple[dt.date, dt.date]:
    """date_from/date_to (core.parsing's period rule); the last 30 full days when absent.

    A bad or out-of-range date, a reversed or a too long period raises ParseError on its field.
    """
    return parsing.parse_period(args.get("date_from"), args.get("date_to"))


# --- 1. Appeal journal ----------------------------------------------------------------------


def journal_filters(args: Mapping[str, Any]) -> dict[str, Any]:
    """The register's filters for the journal. A paper registration journal runs in number order,
    so that is the default here (the list page's newest-first is an option: sort=-received)."""
    from appeals.register.queries import parse_list_filters

    filters = parse_list_filters(args)
    if not args.get("sort"):
        filters["sort"] = "number"
    return filters


def journal_query(filters: Mapping[str, Any], user: User) -> sa.Select:
    from appeals.register.queries import build_list_query

    return build_list_query(filters, user).options(
        joinedload(Appeal.office), joinedload(Appeal.settlement), joinedload(Appeal.category),
        joinedload(Appeal.host),
    )


def count_journal(filters: Mapping[str, Any], user: User) -> int:
    from appeals.register.queries import build_list_query

    query = build_list_query(filters, user).order_by(None)
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


def _filter_lines(filters: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    lines: list[tuple[str, str]] = []
    lookups = (("office", Office, _("Office")), ("category", Category, _("Category")),
               ("district", District, _("District")), ("settlement", Settlement, _("Settlement")))
    if filters.get("date_from") or filters.get("date_to"):
        lines.append((_("Period"), f"{fmt_date(filters.get('date_from'), 'short') or '…'} — "
                                    f"{fmt_date(filters.get('date_to'), 'short') or '…'}"))
    for key, model, label in lookups:
        if filters.get(key):
            obj = db.session.get(model, filters[key])
            if obj:
                lines.append((label, obj.localized_name(lang)))
    if filters.get("host"):
        host = db.session.get(Host, filters["host"])
        if host:
            lines.append((_("Host"), host.full_name))
    if filters.get("status") == "open":
        lines.append((_("Status"), _("Open")))
    elif filters.get("status"):
        lines.append((_("Status"), _label(labels.APPEAL_STATUS_LABELS, filters["status"])))
    if filters.get("appeal_type"):
        lines.append((_("Type"), _label(labels.APPEAL_TYPE_LABELS, filters["appeal_type"])))
    if filters.get("channel"):
        lines.append((_("Channel"), _label(labels.CHANNEL_LABELS, filters["channel"])))
    if filters.get("overdue"):
        lines.append((_("Deadline"), _("Overdue only")))
    if filters.get("repeats"):
        lines.append((_("Repeated"), _("Repeated appeals only")))
    if filters.get("q"):
        lines.append((_("Search"), filters["q"]))
    return lines


def build_journal(filters: Mapping[str, Any], user: User, lang: str | None) -> PrintedDocument:
    """The journal document for the register's `filters` as `user` sees them (masking included)."""
    lang = pick_lang(lang)
    mode = personal_data_mode(user)
    with force_locale(lang):
        appeals = db.session.scalars(journal_query(filters, user)).unique().all()
        statuses: dict[str, int] = {}
        rows: list[dict[str, str]] = []
        for index, appeal in enumerate(appeals, start=1):
            view = personal_view(appeal, user, mode=mode, offer_reveal=False)
            name = view.name
            if appeal.applicant_kind == "anonymous":
                name = _label(labels.APPLICANT_KIND_LABELS, "anonymous")
            elif appeal.applicant_kind == "collective" and appeal.signatories:
                name = f"{name} ({appeal.signatories})"
            statuses[appeal.status] = statuses.get(appeal.status, 0) + 1
            rows.append({
                "n": str(index), "number": appeal.number, "date": fmt_date(appeal.received_at, "short"),
                "applicant": name,
                "settlement": appeal.settlement.localized_name(lang) if appeal.settlement else "",
                "type": _label(labels.APPEAL_TYPE_LABELS, appeal.appeal_type),
                "category": appeal.category.localized_name(lang) if appeal.category else "",
                "summary": view.text(appeal.summary), "host": appeal.host.full_name if appeal.host else "",
                "status": _label(labels.APPEAL_STATUS_LABELS, appeal.status),
                "deadline": fmt_date(appeal.due_date, "short"),
            })
        open_count = sum(count for status, count in statuses.items() if status in OPEN_STATUSES)
        overdue = sum(1 for a in appeals if is_overdue(a))
        # Counts in the language's digit grouping (1 225 in kk and ru), as the pages show them.
        totals = [(_("Appeals in the journal"), fmt_number(len(rows))), (_("Open"), fmt_number(open_count)),
                  (_("Overdue"), fmt_number(overdue))]
        totals += [(_label(labels.APPEAL_STATUS_LABELS, s), fmt_number(statuses[s])) for s in APPEAL_STATUSES if s in statuses]
        office = db.session.get(Office, filters["office"]) if filters.get("office") else None
        return _base_doc(
            lang, _("Register of citizens' appeals"), user,
            subtitle=office.localized_name(lang) if office else org_name(lang),
            filters=_filter_lines(filters, lang), rows=rows, totals=totals,
            signatures=[_("Head of the reception office"), _("Clerk")],
        )


# --- 2. Mandate list ------------------------------------------------------------------------


def mandates_query(filters: Mapping[str, Any], user: User) -> sa.Select:
    """The mandates list's query: same filters (the period included) and scope."""
    from appeals.mandates.queries import build_mandate_query

    return build_mandate_query(filters, user)


def count_mandates(filters: Mapping[str, Any], user: User) -> int:
    query = mandates_query(filters, user).order_by(None)
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


def build_mandates(filters: Mapping[str, Any], user: User, lang: str | None, version: str = "public",
                  group: str = "settlement") -> PrintedDocument:
    """The mandate list. The public version prints each mandate's reviewed public text only
    (appeals/mandates/publication.py): a mandate whose public text is not approved yet is listed by
    its number with "public text under review", so nothing of the appeals' summaries, letters or
    applicants reaches a public document. The internal version lists each mandate's own title and
    appeals with the applicants' names and phones (in full for coordinators, who call them) and
    records its printing in the audit trail."""
    lang = pick_lang(lang)
    internal = version == "internal"
    with force_locale(lang):
        query = mandates_query(filters, user).options(
            selectinload(Mandate.settlement).selectinload(Settlement.district), selectinload(Mandate.category),
            selectinload(Mandate.office), selectinload(Mandate.directive), selectinload(Mandate.links),
        )
        # .all() gives a list (typed Sequence); the rows are sorted in place below.
        mandates = cast("list[Mandate]", db.session.scalars(query).all())
        mandates.sort(key=lambda m: (m.directive_id, m.seq))
        groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()

        def group_key(m: Mandate) -> str:
            if group == "category":
                return m.category.localized_name(lang) if m.category else _("No category")
            if m.settlement:
                return f"{m.settlement.localized_name(lang)} ({m.settlement.district.localized_name(lang)})"
            return _("No settlement")

        for mandate in sorted(mandates, key=lambda m: group_key(m)):
            row: dict[str, Any] = {
                "number": mandate.number,
                "title": mandate.title if internal else (
                    mandate.public_title if mandate.is_published else _("Public text under review")),
                "description": mandate.description if internal else (
                    mandate.public_description if mandate.is_published else ""),
                "status": _label(labels.MANDATE_STATUS_LABELS, mandate.status),
                "target": fmt_date(mandate.target_date, "short"), "responsible": mandate.responsible,
                "progress": mandate.progress_percent, "appeals": [],
                "office": mandate.office.localized_name(lang) if mandate.office else "",
            }
            if internal:
                for link in mandate.active_links:
                    appeal = link.appeal
                    view = contacts_view(appeal, user)
                    row["appeals"].append({"number": appeal.number, "name": view.name, "phone": view.phone})
            groups.setdefault(group_key(mandate), []).append(row)
        filter_lines: list[tuple[str, str]] = []
        directive = None
        if filters.get("directive_id"):
            from appeals.mandates.models import Directive

            directive = db.session.get(Directive, filters["directive_id"])
            if directive:
                filter_lines.append((_("Directive"), f"№ {directive.number}, {fmt_date(directive.issued_on, 'short')} — {directive.title}"))
        if filters.get("office_id"):
            office = db.session.get(Office, filters["office_id"])
            if office:
                filter_lines.append((_("Office"), office.localized_name(lang)))
        if filters.get("date_from") or filters.get("date_to"):
            filter_lines.append((_("Mandates registered in the period"), f"{fmt_date(filters.get('date_from'), 'short') or '…'} — "
                                                                         f"{fmt_date(filters.get('date_to'), 'short') or '…'}"))
        if filters.get("received_from") or filters.get("received_to"):
            filter_lines.append((_("Appeals received"), f"{fmt_date(filters.get('received_from'), 'short') or '…'} — "
                                                        f"{fmt_date(filters.get('received_to'), 'short') or '…'}"))
        if filters.get("status"):
            status = filters["status"]
            filter_lines.append((_("Status"), _("Open") if status == "open" else _("All but withdrawn")
                                 if status == "counted" else _label(labels.MANDATE_STATUS_LABELS, status)))
        title = _("List of mandates (internal, with contacts)") if internal else _("List of mandates")
        doc = _base_doc(
            lang, title, user, subtitle=_("Grouped by category") if group == "category" else _("Grouped by settlement"),
            filters=filter_lines, totals=[(_("Mandates"), fmt_number(len(mandates)))],
            signatures=[_("Coordinator")],
        )
        doc.groups = groups
        doc.internal = internal
    if internal:
        _record_contacts_printed(user, [m.number for m in mandates], filters)
    return doc


def _record_contacts_printed(user: User, numbers: list[str], filters: Mapping[str, Any]) -> None:
    """Who printed which applicants' contacts: every internal list leaves an audit record."""
    from appeals.core import audit
    from appeals.core.database import write_transaction

    with write_transaction():
        audit.record("mandate_contacts_printed", object_type="mandates", user=user,
                     label=(f"{numbers[0]} … {numbers[-1]}" if len(numbers) > 1 else "".join(numbers))[:200],
                     changes={"mandates": len(numbers), "directive_id": filters.get("directive_id"),
                              "office_id": filters.get("office_id")})


# --- 3. Reception schedule --------------------------------------------------------------------


def period_for(kind: str, anchor: dt.date) -> tuple[dt.date, dt.date]:
    if kind == "month":
        start = anchor.replace(day=1)
        return start, anchor.replace(day=_calendar.monthrange(anchor.year, anchor.month)[1])
    start = anchor - dt.timedelta(days=anchor.weekday())
    return start, start + dt.timedelta(days=6)


def build_schedule(user: User, lang: str | None, start: dt.date, end: dt.date, office: Office | None = None,
                   host: Host | None = None) -> PrintedDocument:
    from appeals.schedules.queries import SessionFilters, list_sessions

    lang = pick_lang(lang)
    with force_locale(lang):
        statuses = ["approved", "held"]
        sessions = list_sessions(SessionFilters(office_id=office.id if office else None,
                                                host_id=host.id if host else None,
                                                date_from=start, date_to=end, statuses=statuses), user)
        days: OrderedDict[dt.date, list[dict[str, Any]]] = OrderedDict()
        for session in sessions:
            days.setdefault(session.date, []).append({
                "time": f"{session.start_time:%H:%M}–{session.end_time:%H:%M}",
                "hosts": [f"{h.full_name}" + (f", {h.localized_position(lang)}" if h.localized_position(lang) else "") for h in session.hosts],
                "office": session.office.localized_name(lang), "address": session.office.address,
                "room": session.room, "topic": session.topic,
            })
        if host:
            title, subtitle = _("Reception schedule of %(name)s", name=host.full_name), host.localized_position(lang)
        else:
            title = _("Schedule of citizens' receptions")
            subtitle = office.localized_name(lang) if office else org_name(lang)
        doc = _base_doc(lang, title, user, subtitle=subtitle,
                        filters=[(_("Period"), f"{fmt_date(start, 'short')} — {fmt_date(end, 'short')}")],
                        totals=[(_("Receptions"), fmt_number(len(sessions)))])
        doc.days = [(fmt_date(day, "full"), items) for day, items in days.items()]
        doc.office = office
        doc.contact = (office.address, office.phone) if office else None
        return doc


# --- 4. Registration card -------------------------------------------------------------------


def build_card(appeal: Appeal, user: User, lang: str | None) -> PrintedDocument:
    lang = pick_lang(lang)
    with force_locale(lang):
        personal = can(user, "appeal.view_personal", appeal)
        view = personal_view(appeal, user)
        name, iin, phone = view.name, view.iin, view.phone
        office = appeal.office
        doc = _base_doc(lang, _("Registration card of an appeal"), user, subtitle=office.localized_name(lang))
        doc.appeal = appeal
        doc.card = [
            (_("Registration number"), appeal.number),
            (_("Date of registration"), fmt_datetime(appeal.received_at)),
            (_("Applicant"), name if appeal.applicant_kind != "anonymous"
             else _label(labels.APPLICANT_KIND_LABELS, "anonymous")),
            (_("IIN"), iin), (_("Phone"), phone),
            (_("Type"), _label(labels.APPEAL_TYPE_LABELS, appeal.appeal_type)),
            (_("Category"), appeal.category.localized_name(lang) if appeal.category else ""),
            (_("Channel"), _label(labels.CHANNEL_LABELS, appeal.channel)),
            (_("Summary"), view.text(appeal.summary)),
            (_("Answer due by"), fmt_date(appeal.due_date, "short")),
        ]
        doc.card = [(k, v) for k, v in doc.card if v]
        doc.personal = personal
        doc.office = office
        doc.ask = [(_("Office"), office.localized_name(lang)), (_("Address"), office.address),
                   (_("Phone"), office.phone)]
        doc.ask = [(k, v) for k, v in doc.ask if v]
        doc.signatures = [_("Registered by")]
        return doc


# --- 5. Summary and dashboard -----------------------------------------------------------------


def build_summary(user: User, lang: str | None, start: dt.date, end: dt.date) -> PrintedDocument:
    """The printed summary: every figure of the period under its name, rows per office and district."""
    from appeals.reports import statistics

    lang = pick_lang(lang)
    with force_locale(lang):
        office_ids = stats_office_ids(user)
        briefing = statistics.briefing(start, end, office_ids)
        bars = statistics.dashboard(start, end, lang, office_ids=office_ids)
        totals = briefing["totals"]
        doc = _base_doc(lang, _("Summary of the reception work"), user,
                        subtitle=f"{fmt_date(start, 'short')} — {fmt_date(end, 'short')}",
                        signatures=[_("Coordinator")])
        doc.kpis = [(name, str(statistics.FIGURE_LABELS[name]), totals[name])
                    for name in statistics.FIGURES + ("overdue",)]
        doc.totals = totals
        doc.office_rows = [
            (row["office"].localized_name(lang), row["sessions_held"], row["appeals_received"],
             row["mandates_registered"], row["mandates_count"]) for row in briefing["offices"]
        ]
        doc.district_rows = [
            (row["district"].localized_name(lang) if row["district"] else _("No settlement stated"),
             row["appeals_received"], row["mandates_registered"], row["mandates_count"])
            for row in briefing["districts"]
        ]
        doc.stats = bars
        return doc
