"""Mandate reports up the chain (issue 17, item 4): office → region → central office.

An office's coordinator submits the office's mandate report for a period (a month, or any period);
a regional coordinator of the region approves it or sends it back with a comment. Submitting
freezes the figures (reports.statistics.mandate_report_figures) and every mandate's status in the
report, with what changed since the office's last approved report; an approved report is locked:
later changes to the mandates show in the next report. The region's report for the central office
sums the approved office reports of the period (PDF and XLSX in a fixed layout).

Who is who (README, "Reports up the chain"): the *office coordinator* is a coordinator whose account
names the office (users' offices); the *regional coordinator* is a coordinator of the region who is
linked to no office or to the regional office. A regional coordinator may also submit an office's
report (an office without a coordinator of its own, or the regional office's own); a report is
approved by a regional coordinator other than the one who submitted it.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appeals.auth.permissions import can
from appeals.core import audit
from appeals.core.database import write_transaction
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.models_base import TimestampMixin, enum_column
from appeals.core.timeutil import local_today, utcnow
from appeals.mandates.models import Mandate
from appeals.mandates.periods import registered_between
from appeals.reference.models import Office, Region
from appeals.reports.statistics import REPORT_FIGURES, mandate_report_figures

if TYPE_CHECKING:
    from appeals.auth.models import User

REPORT_STATES = ("submitted", "returned", "approved")
COMMENT_MAX = 2000
MAX_PERIOD_DAYS = 366


class MandateReport(TimestampMixin, db.Model):
    """One office's mandate report for one period; its figures and items are frozen at submission."""

    __tablename__ = "mandate_reports"
    __table_args__ = (
        sa.UniqueConstraint("office_id", "period_start", "period_end"),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    period_start: Mapped[dt.date] = mapped_column()
    period_end: Mapped[dt.date] = mapped_column()
    status: Mapped[str] = enum_column(REPORT_STATES, "mandate_report_status", default="submitted")
    # {figure: count} (reports.statistics.REPORT_FIGURES), as they were when the report was submitted.
    figures: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Every mandate of the office registered by the period's end: [{id, number, status, progress, target_date}].
    items: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Since the last approved report: [{number, change: new|status|progress, before, after}].
    changes: Mapped[list] = mapped_column(sa.JSON, default=list)
    previous_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("mandate_reports.id"))
    submitted_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column()
    reviewed_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[Optional[dt.datetime]] = mapped_column()
    # The regional coordinator's comment when sending it back (kept when it is resubmitted).
    comment: Mapped[str] = mapped_column(sa.Text, default="")

    office: Mapped[Office] = relationship()
    previous: Mapped[Optional[MandateReport]] = relationship(remote_side=[id])
    submitted_by: Mapped[Optional[User]] = relationship(foreign_keys=[submitted_by_id])
    reviewed_by: Mapped[Optional[User]] = relationship(foreign_keys=[reviewed_by_id])

    @property
    def is_locked(self) -> bool:
        return self.status == "approved"

    def __repr__(self) -> str:
        return f"<MandateReport {self.office_id} {self.period_start}–{self.period_end} {self.status}>"


class ReportChainError(DomainError):
    """A report cannot be submitted, approved or sent back as asked."""


def _check_period(start: Any, end: Any) -> tuple[dt.date, dt.date]:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise ReportChainError(_("Enter the period's first and last day."), "date_from")
    if end < start:
        raise ReportChainError(_("The end of the period is before its start."), "date_to")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise ReportChainError(_("A report covers at most a year."), "date_to")
    if end >= local_today():
        # The figures of a period still running would change after the report is approved.
        raise ReportChainError(_("A report is submitted once its period is over: the last day must be before today."),
                               "date_to")
    return start, end


def _items(office_id: int, end: dt.date) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(Mandate).where(Mandate.office_id == office_id, registered_between(None, end))
        .order_by(Mandate.directive_id, Mandate.seq)).all()
    return [{"id": m.id, "number": m.number, "status": m.status, "progress": m.progress_percent,
             "target_date": m.target_date.isoformat() if m.target_date else None} for m in rows]


def _changes(items: list[dict[str, Any]], previous: MandateReport | None) -> list[dict[str, Any]]:
    """What changed since the previous approved report: new mandates, status and progress changes."""
    before = {item["id"]: item for item in (previous.items if previous is not None else [])}
    changes = []
    for item in items:
        old = before.get(item["id"])
        if old is None:
            changes.append({"number": item["number"], "change": "new", "before": None, "after": item["status"]})
            continue
        if old["status"] != item["status"]:
            changes.append({"number": item["number"], "change": "status", "before": old["status"],
                            "after": item["status"]})
        if old.get("progress") != item.get("progress"):
            changes.append({"number": item["number"], "change": "progress", "before": old.get("progress"),
                            "after": item.get("progress")})
    return changes


def _previous_approved(office_id: int, start: dt.date) -> MandateReport | None:
    return db.session.scalar(
        sa.select(MandateReport).where(MandateReport.office_id == office_id, MandateReport.status == "approved",
                                       MandateReport.period_end < start)
        .order_by(MandateReport.period_end.desc()).limit(1))


def _freeze(report: MandateReport) -> None:
    report.figures = mandate_report_figures(report.period_start, report.period_end, [report.office_id])
    report.items = _items(report.office_id, report.period_end)
    previous = _previous_approved(report.office_id, report.period_start)
    report.previous_id = previous.id if previous is not None else None
    report.changes = _changes(report.items, previous)


def submit_report(office: Office, start: Any, end: Any, actor: User) -> MandateReport:
    """Submit (or, after it was sent back, resubmit) the office's report for [start, end].

    The figures are frozen now. An approved report is locked (409): later changes go to the next
    period's report; a report awaiting review cannot be submitted again (409).
    """
    start, end = _check_period(start, end)
    if not can(actor, "report.submit", office):
        raise ReportChainError(_("Only the office's coordinator or a regional coordinator submits its report."),
                               "office_id", kind="forbidden")
    with write_transaction():
        report = db.session.scalar(
            sa.select(MandateReport).where(MandateReport.office_id == office.id, MandateReport.period_start == start,
                                           MandateReport.period_end == end).with_for_update())
        if report is not None and report.status == "approved":
            raise ReportChainError(_("This report is approved and locked; later changes go to the next report."),
                                   "status", kind="conflict")
        if report is not None and report.status == "submitted":
            raise ReportChainError(_("This report was already submitted and awaits the regional coordinator."),
                                   "status", kind="conflict")
        resubmitted = report is not None
        if report is None:
            report = MandateReport(office_id=office.id, period_start=start, period_end=end, comment="")
        report.status = "submitted"
        report.submitted_by_id = actor.id
        report.submitted_at = utcnow()
        report.reviewed_by_id, report.reviewed_at = None, None
        _freeze(report)
        db.session.add(report)
        db.session.flush()
        audit.record("mandate_report.resubmit" if resubmitted else "mandate_report.submit", report,
                     label=f"{office.code} {start.isoformat()}–{end.isoformat()}",
                     changes={"status": [None, "submitted"], "figures": [None, report.figures]}, user=actor)
    return report


def _reviewed(report: MandateReport, actor: User) -> MandateReport:
    report = db.session.scalar(sa.select(MandateReport).where(MandateReport.id == report.id).with_for_update())
    if report is None:
        raise ReportChainError(_("The report no longer exists."), "status", kind="not_found")
    if report.status == "approved":
        raise ReportChainError(_("This report is approved and locked; later changes go to the next report."),
                               "status", kind="conflict")
    if report.status != "submitted":
        raise ReportChainError(_("This report was sent back and awaits its office's coordinator."), "status",
                               kind="conflict")
    if not can(actor, "report.review", report):
        raise ReportChainError(_("A regional coordinator other than the one who submitted it reviews a report."),
                               "status", kind="forbidden")
    return report


def approve_report(report: MandateReport, actor: User) -> MandateReport:
    """Approve a submitted report: it is locked from now on."""
    with write_transaction():
        report = _reviewed(report, actor)
        report.status, report.reviewed_by_id, report.reviewed_at = "approved", actor.id, utcnow()
        audit.record("mandate_report.approve", report, changes={"status": ["submitted", "approved"]}, user=actor)
    return report


def return_report(report: MandateReport, actor: User, comment: str | None) -> MandateReport:
    """Send a submitted report back to its office with a comment (required)."""
    text = (comment or "").strip()
    if not text:
        raise ReportChainError(_("Say what is to be corrected."), "comment")
    if len(text) > COMMENT_MAX:
        raise ReportChainError(_("At most %(n)d characters.", n=COMMENT_MAX), "comment")
    with write_transaction():
        report = _reviewed(report, actor)
        report.status, report.reviewed_by_id, report.reviewed_at = "returned", actor.id, utcnow()
        report.comment = text
        audit.record("mandate_report.return", report, changes={"status": ["submitted", "returned"],
                                                               "comment": [None, text]}, user=actor)
    return report


def scope_reports(query: sa.Select, user: User) -> sa.Select:
    """The reports `user` may read: those of the offices in the user's level."""
    from appeals.auth.permissions import visible_office_ids

    offices = visible_office_ids(user)
    return query if offices is None else query.where(MandateReport.office_id.in_(sorted(offices) or [-1]))


def reports_of_period(start: dt.date, end: dt.date, user: User) -> dict[int, MandateReport]:
    """{office_id: report} of the period, for the offices the user sees."""
    rows = db.session.scalars(scope_reports(sa.select(MandateReport), user).where(
        MandateReport.period_start == start, MandateReport.period_end == end)).all()
    return {report.office_id: report for report in rows}


def region_report(region: Region, start: dt.date, end: dt.date) -> dict[str, Any]:
    """The region's report for the central office: every office of the region in a fixed order (regional
    first, then by code) with its approved report's frozen figures; totals over the approved ones."""
    offices = db.session.scalars(sa.select(Office).where(Office.region_id == region.id)
                                 .order_by(Office.kind, Office.code)).all()
    reports = {r.office_id: r for r in db.session.scalars(sa.select(MandateReport).where(
        MandateReport.office_id.in_([o.id for o in offices] or [-1]), MandateReport.period_start == start,
        MandateReport.period_end == end))}
    rows, totals = [], dict.fromkeys(REPORT_FIGURES, 0)
    for office in offices:
        report = reports.get(office.id)
        approved = report is not None and report.status == "approved"
        figures = report.figures if approved and report is not None else None
        rows.append({"office": office, "report": report, "approved": approved, "figures": figures})
        if figures:
            for name in REPORT_FIGURES:
                totals[name] += int(figures.get(name, 0))
    return {"region": region, "start": start, "end": end, "rows": rows, "totals": totals,
            "approved": sum(1 for row in rows if row["approved"]), "offices": len(rows)}
