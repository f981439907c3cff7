"""Flagging appeals as mandates under a directive (one, many, merged) and unflagging them.

Flagging an appeal never touches the appeal's own workflow (status, deadlines): a mandate is a
separate promise with its own life. Every write is one transaction with its audit records.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from appeals.auth.permissions import can
from appeals.core import audit
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.numbering import next_number
from appeals.core.privacy import MANDATE_AUDIT_MASKS, mask_changes
from appeals.core.timeutil import local_now, local_to_utc, local_today, utcnow
from appeals.mandates.criteria import unmet_criteria
from appeals.mandates.directives import MandateError, directive_is_open
from appeals.mandates.models import (
    Directive,
    Mandate,
    MandateAppeal,
)
from appeals.mandates.publication import draft_public_title
from appeals.register.models import Appeal

if TYPE_CHECKING:
    from appeals.auth.models import User

MAX_BULK = 1000
REASON_MAX = 1000


def _mandate_number(directive: Directive, registered_on: date | None = None) -> tuple[int, str]:
    if directive.numbering == "year":
        # A back-dated mandate takes the next number of its own year's register.
        year = (registered_on or local_today()).year
        seq = next_number(f"mandate:{directive.number_prefix}", year)
        return seq, f"{directive.number_prefix}-{year}-{seq:04d}"
    seq = next_number(f"mandate:directive:{directive.id}", 0)
    return seq, f"{directive.number_prefix}-{directive.id}-{seq:04d}"


def _new_mandate(directive: Directive, appeal: Appeal, actor: User | None, registered_on: date | None = None,
                 registered_at: datetime | None = None) -> Mandate:
    seq, number = _mandate_number(directive, registered_on)
    mandate = Mandate(
        directive_id=directive.id,
        number=number,
        seq=seq,
        title=appeal.summary[:500],
        public_title=draft_public_title(appeal),
        description=appeal.text or "",
        office_id=appeal.office_id,
        settlement_id=appeal.settlement_id,
        category_id=appeal.category_id,
        target_date=directive.valid_to,
        status="registered",
        progress_percent=0,
        created_by_id=getattr(actor, "id", None),
    )
    if registered_at is not None:
        # created_at is the registration moment every statistic counts by (mandates.periods).
        mandate.created_at = registered_at
    db.session.add(mandate)
    return mandate


def check_may_backdate(actor: User | None) -> None:
    """Only a coordinator registers mandates with an earlier date: asked before anything about the
    appeals is looked up, so the answer is the same whatever the actor may see of them."""
    if actor is not None and not can(actor, "mandate.register_backdated"):
        refused = MandateError(_("Only a coordinator registers mandates with an earlier date."), "registered_on")
        refused.kind = "forbidden"
        raise refused


def check_registration_date(directive: Directive, registered_on: date, appeals: Sequence[Appeal],
                            actor: User | None) -> None:
    """A registration date typed in from a paper register: a coordinator's, within the directive's
    validity (and after its issue), not before any of the appeals came, not in the future."""
    check_may_backdate(actor)
    today = local_today()
    if registered_on > today:
        raise MandateError(_("The registration date cannot be in the future."), "registered_on")
    starts = [d for d in (directive.valid_from, directive.issued_on) if d is not None]
    first = max(starts) if starts else None
    if (first is not None and registered_on < first) or (directive.valid_to is not None and registered_on > directive.valid_to):
        raise MandateError(_("The registration date must fall within the directive's validity (%(start)s – %(end)s).",
                             start=first.strftime("%d.%m.%Y") if first else "…",
                             end=directive.valid_to.strftime("%d.%m.%Y") if directive.valid_to else "…"),
                           "registered_on")
    late = [a.number for a in appeals if a.received_at.date() > registered_on]
    if late:
        raise MandateError(_("The registration date is before these appeals were received: %(numbers)s.",
                             numbers=", ".join(late[:20])), "registered_on", late)


def _registration_moment(registered_on: date) -> datetime:
    """The back-dated registration as a stored UTC timestamp: the local day at the current time of day
    (today's date gives now itself), so it falls on that local day whatever the clock."""
    if registered_on == local_today():
        return utcnow()
    return local_to_utc(datetime.combine(registered_on, time(12, 0)))


def _assignment(responsible_user_id: Any, target_date: Any, registered: date) -> tuple[int | None, date | None]:
    """The responsible person and target date asked at the flag step, checked; field errors all at once."""
    from appeals.auth.models import User
    from appeals.mandates.directives import date_field, int_field

    errors: dict[str, str] = {}
    person = int_field(responsible_user_id, "responsible_user_id", errors)
    if person is not None:
        user = db.session.get(User, person)
        if user is None or not user.is_active:
            errors["responsible_user_id"] = _("Unknown value selected.")
    target = date_field(target_date, "target_date", errors)
    if target is not None and target < registered:
        errors["target_date"] = _("The target date cannot be before the mandate is registered.")
    if errors:
        field = next(iter(errors))
        raise MandateError(errors[field], field, errors)
    return person, target


def flag_appeals(directive: Directive, appeal_ids: Iterable[Any] | None, actor: User | None,
                 override_reason: str | None = None, merge_into: Mandate | int | None = None,
                 as_one: bool = False, registered_on: date | None = None, responsible_user_id: Any = None,
                 target_date: Any = None) -> list[Mandate]:
    """Register appeals as mandates under the directive; returns the mandates created or extended.

    `responsible_user_id` and `target_date`, asked at the flag step, go to the new mandates (an
    active user; a date not before the registration day); the directive's end date is the default
    target. Appeals added to an existing mandate leave its assignment as it is.

    One mandate per appeal by default; `as_one` joins them in one new mandate; `merge_into` adds
    them to an existing mandate of this directive. Appeals that miss a criterion need an
    `override_reason`. All or nothing: one bad appeal refuses the whole batch.

    `registered_on`: the date of a paper register typed in later (check_registration_date). The
    mandates count as registered on that day, and a directive whose validity has ended accepts them;
    the audit trail keeps the date and the real moment of entry.
    """
    ids = list(dict.fromkeys(int(i) for i in appeal_ids or []))
    if not ids:
        raise MandateError(_("Select at least one appeal."), "appeal_ids")
    if len(ids) > MAX_BULK:
        raise MandateError(_("At most %(n)d appeals can be flagged at once.", n=MAX_BULK), "appeal_ids")
    reason = (override_reason or "").strip()
    if len(reason) > REASON_MAX:
        raise MandateError(_("At most %(n)d characters.", n=REASON_MAX), "override_reason")
    responsible, target_day = _assignment(responsible_user_id, target_date, registered_on or local_today())
    try:
        with write_transaction():
            directive = db.session.get(Directive, directive.id)
            if actor is not None and not can(actor, "directive.view", directive):
                raise MandateError(_("The directive is not one of your region's."), "directive")
            backdated = registered_on is not None and registered_on != local_today()
            if registered_on is not None:
                check_may_backdate(actor)
            if not backdated and not directive_is_open(directive):
                raise MandateError(_("The directive is no longer in force; no new mandates can be registered."), "directive")
            target = None
            if merge_into is not None:
                target = db.session.get(Mandate, getattr(merge_into, "id", merge_into))
                if target is None or target.directive_id != directive.id or (
                        actor is not None and not can(actor, "mandate.flag", target)):
                    raise MandateError(_("The mandate belongs to another directive."), "merge_into")
                if target.status == "withdrawn":
                    raise MandateError(_("Appeals cannot be added to a withdrawn mandate."), "merge_into")
            appeals = db.session.scalars(
                sa.select(Appeal).where(Appeal.id.in_(ids)).options(
                    selectinload(Appeal.settlement), selectinload(Appeal.office)
                )
            ).all()
            # Another region's appeals are as good as absent to a coordinator (their numbers stay unsaid).
            by_id = {a.id: a for a in appeals
                     if actor is None or not can(actor, "mandate.flag") or can(actor, "mandate.flag", a)}
            missing = [i for i in ids if i not in by_id]
            if missing:
                raise MandateError(_("Some selected appeals no longer exist."), "appeal_ids")
            ordered = [by_id[i] for i in ids]
            withdrawn = [a.number for a in ordered if a.status == "withdrawn"]
            if withdrawn:
                raise MandateError(
                    _("Withdrawn appeals cannot become mandates: %(numbers)s.", numbers=", ".join(withdrawn)),
                    "appeal_ids", withdrawn,
                )
            existing = db.session.execute(
                sa.select(Appeal.number, Mandate.number)
                .join(MandateAppeal, MandateAppeal.appeal_id == Appeal.id)
                .join(Mandate, Mandate.id == MandateAppeal.mandate_id)
                .where(MandateAppeal.directive_id == directive.id, MandateAppeal.removed_at.is_(None),
                       Appeal.id.in_(ids))
            ).all()
            if existing:
                raise MandateError(
                    _("Already registered under this directive: %(items)s.",
                      items=", ".join(f"{a} → {m}" for a, m in existing)),
                    "appeal_ids", [a for a, _m in existing],
                )
            unmet = {a.id: unmet_criteria(directive, a) for a in ordered}
            off_criteria = [a for a in ordered if unmet[a.id]]
            if off_criteria and not reason:
                raise MandateError(
                    _("%(count)d appeal(s) do not meet the directive's criteria (%(numbers)s). "
                      "Give a reason to register them anyway.",
                      count=len(off_criteria), numbers=", ".join(a.number for a in off_criteria[:20])),
                    "override_reason", [a.number for a in off_criteria],
                )
            registered_at = None
            if registered_on is not None:
                check_registration_date(directive, registered_on, ordered, actor)
                registered_at = _registration_moment(registered_on)
            now = registered_at or utcnow()
            touched: list[Mandate] = []
            for appeal in ordered:
                if target is not None:
                    mandate = target
                elif as_one and touched:
                    mandate = touched[0]
                else:
                    mandate = _new_mandate(directive, appeal, actor, registered_on, registered_at)
                    if responsible is not None:
                        mandate.responsible_user_id = responsible
                    if target_day is not None:
                        mandate.target_date = target_day
                    db.session.flush()
                if mandate not in touched:
                    touched.append(mandate)
                link = MandateAppeal(
                    mandate=mandate,
                    directive_id=directive.id,
                    appeal_id=appeal.id,
                    added_by_id=getattr(actor, "id", None),
                    added_at=now,
                    override_reason=reason if unmet[appeal.id] else "",
                )
                db.session.add(link)
                changes: dict[str, Any] = {"appeal": appeal.number, "directive": directive.number}
                if unmet[appeal.id]:
                    changes.update(override_reason=reason, unmet=unmet[appeal.id])
                if backdated:
                    changes.update(registered_on=registered_on.isoformat(), entered_at=local_now().isoformat(timespec="minutes"))
                action = "mandate.flag_override" if unmet[appeal.id] else "mandate.flag"
                audit.record(action, mandate, changes=mask_changes(changes, MANDATE_AUDIT_MASKS), user=actor)
            db.session.flush()
    except IntegrityError as exc:
        # Two coordinators flagging the same appeal at the same moment: the partial unique index decides.
        raise MandateError(_("One of the appeals was just registered under this directive by someone else."),
                           "appeal_ids") from exc
    return touched


def find_active_link(appeal: Appeal, directive: Directive | None = None) -> Sequence[MandateAppeal]:
    query = sa.select(MandateAppeal).where(MandateAppeal.appeal_id == appeal.id, MandateAppeal.removed_at.is_(None))
    if directive is not None:
        query = query.where(MandateAppeal.directive_id == directive.id)
    return db.session.scalars(query).all()


def unflag(link_or_appeal: MandateAppeal | Appeal, reason: str | None, actor: User | None) -> MandateAppeal:
    """Take an appeal out of its mandate. The link stays, marked removed; numbers are never reused.

    A mandate left without appeals becomes "withdrawn" with the same reason.
    """
    reason = (reason or "").strip()
    if not reason:
        raise MandateError(_("Give a reason for removing the appeal from the mandate."), "reason")
    if len(reason) > REASON_MAX:
        raise MandateError(_("At most %(n)d characters.", n=REASON_MAX), "reason")
    if isinstance(link_or_appeal, Appeal):
        links = find_active_link(link_or_appeal)
        if not links:
            raise MandateError(_("The appeal is not registered as a mandate."), "link_id")
        if len(links) > 1:
            raise MandateError(_("The appeal is registered under several directives; choose the mandate."), "link_id")
        link_id = links[0].id
    else:
        link_id = link_or_appeal.id
    with write_transaction():
        link = db.session.get(MandateAppeal, link_id)
        if link is None or link.removed_at is not None:
            raise MandateError(_("The appeal was already removed from this mandate."), "link_id")
        link.removed_at = utcnow()
        link.removed_by_id = getattr(actor, "id", None)
        link.removed_reason = reason
        mandate = link.mandate
        audit.record("mandate.unflag", mandate, changes=mask_changes({"appeal": link.appeal.number, "reason": reason},
                                                                       MANDATE_AUDIT_MASKS), user=actor)
        db.session.flush()
        if not mandate.active_links:
            before = mandate.status
            mandate.status = "withdrawn"
            mandate.withdrawn_reason = reason
            audit.record("mandate.withdraw", mandate, changes=mask_changes({"status": [before, "withdrawn"], "reason": reason},
                                                                         MANDATE_AUDIT_MASKS),
                         user=actor)
    return link
