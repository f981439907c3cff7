"""Registering an appeal and moving it along the workflow: edit, review, forward, answer, extend, close.

Every write runs inside `write_transaction()`: the appeal, its number and its audit record are
stored together or not at all.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from appeals.auth.models import User
from appeals.auth.permissions import can
from appeals.core import audit, outbox
from appeals.core.database import is_postgresql, write_transaction
from appeals.core.extensions import db
from appeals.core.numbering import next_number
from appeals.core.parsing import ParseError, parse_date
from appeals.core.privacy import APPEAL_AUDIT_MASKS, mask_changes
from appeals.core.timeutil import local_today, utcnow
from appeals.reference.models import Office
from appeals.register.deadlines import (
    compute_due_date,
    extension_limit,
    forward_due_date,
    paused_working_days,
    resumed_due_date,
)
from appeals.register.models import (
    APPEAL_STATUSES,
    TEXT_MAX,
    AnswerLetter,
    Appeal,
    AppealExtension,
    AppealSuspension,
    applicant_locale,
)
from appeals.register.validation import (
    AppealError,
    AppealValidationError,
    clean_appeal_data,
    int_or_none,
    may_be_responsible,
)

REASON_MAX = 1000
RECIPIENT_MAX = 300
# Allowed workflow moves; anything else is refused with a translated message.
TRANSITIONS = {
    "registered": ("in_review", "forwarded", "withdrawn"),
    "in_review": ("forwarded", "answered", "withdrawn"),
    "forwarded": ("answered", "closed", "withdrawn"),
    "answered": ("closed",),
    "closed": (),
    "withdrawn": (),
}
EDITABLE_FIELDS = (
    "received_at", "channel", "session_id", "host_id", "applicant_kind", "applicant_name", "iin", "phone",
    "address", "settlement_id", "signatories", "appeal_type", "category_id", "summary", "text", "responsible_id",
    "language",
)
AUDIT_FIELDS = ("number", "office_id", *EDITABLE_FIELDS, "status", "due_date")


def format_number(office_code: str, year: int, seq: int) -> str:
    return f"{office_code}-{year}-{seq:05d}"


def register_appeal(data: Mapping[str, Any], actor: User | None, link_repeat_of: Appeal | int | str | None = None,
                    backdate_reason: str | None = None) -> Appeal:
    """Register one appeal: validate, take the next gapless number, store, audit — one transaction.

    backdate_reason: why a long-past received date is right (the form asks for it beyond 30
    days); kept in the audit record of the registration.
    """
    values = clean_appeal_data(data, actor)
    repeat_of_id = _repeat_id(link_repeat_of, actor)
    with write_transaction():
        appeal = insert_appeal(values, actor, repeat_of_id, backdate_reason=backdate_reason)
    return appeal


def _repeat_id(link_repeat_of: Appeal | int | str | None, actor: User | None) -> int | None:
    """The earlier appeal to link as repeated: only one the actor may see (the same answer as for none)."""
    if link_repeat_of in (None, "", 0):
        return None
    repeat_id = link_repeat_of.id if isinstance(link_repeat_of, Appeal) else int_or_none(link_repeat_of)
    earlier = db.session.get(Appeal, repeat_id) if repeat_id else None
    if earlier is None or not can(actor, "appeal.view", earlier):
        raise AppealError(_("The earlier appeal to link was not found."), "repeat_of")
    return repeat_id


def insert_appeal(values: dict[str, Any], actor: User | None, repeat_of_id: int | None = None, audit_action: str = "created",
                  backdate_reason: str | None = None) -> Appeal:
    office = db.session.get(Office, values["office_id"])
    year = values["received_at"].year
    due = compute_due_date(values["received_at"].date(), appeal_type=values["appeal_type"])
    appeal = Appeal(
        **values,
        year=year,
        status="registered",
        due_date=due,
        original_due_date=due,
        repeat_of_id=repeat_of_id,
        created_by_id=getattr(actor, "id", None),
    )
    # The office's counter row stays locked until commit and every other clerk of the office waits
    # for it: take the number last, when nothing but the writes themselves is left to do.
    appeal.seq = next_number(f"appeal:{office.code}", year)
    appeal.number = format_number(office.code, year, appeal.seq)
    db.session.add(appeal)
    db.session.flush()
    changes = _audit_values(appeal)
    if backdate_reason:
        changes["backdate_reason"] = backdate_reason[:500]
    audit.record(audit_action, appeal, changes=_audit_safe(changes), user=actor)
    _tell_responsible(appeal, actor, None)
    return appeal


def _tell_responsible(appeal: Appeal, actor: User | None, previous_id: int | None) -> None:
    """A clerk made responsible for an appeal (by someone else) is told, in the same transaction."""
    if appeal.responsible_id and appeal.responsible_id != previous_id and appeal.responsible_id != getattr(actor, "id", None):
        outbox.notify(appeal.responsible_id, "appeal_assigned",
                      {"appeal_id": appeal.id, "number": appeal.number, "due_date": appeal.due_date.isoformat()})


def _audit_values(appeal: Appeal) -> dict[str, Any]:
    return audit.snapshot(appeal, AUDIT_FIELDS)


def _audit_safe(changes: dict[str, Any]) -> dict[str, Any]:
    # Personal data stays out of the audit trail's values: the trail is read more widely than the register.
    return mask_changes(changes, APPEAL_AUDIT_MASKS)


def _lock(appeal: Appeal) -> Appeal:
    """Re-read the appeal under a row lock so two clerks' changes cannot interleave."""
    statement = sa.select(Appeal).where(Appeal.id == appeal.id).execution_options(populate_existing=True)
    if is_postgresql():
        statement = statement.with_for_update()
    return db.session.scalars(statement).one()


def _require(actor: User | None, action: str, appeal: Appeal) -> None:
    if not can(actor, action, appeal):
        raise AppealError(_("You are not allowed to change this appeal."), "status", kind="forbidden")


def default_office_id(actor: User | None, offices: Iterable[Office]) -> int | None:
    """The office a new appeal form starts with: the user's main office (set by the admin), else the
    one they registered for last, else their regional office, else the first of theirs (never simply
    the first by code)."""
    ids = [office.id for office in offices]
    if not ids:
        return None
    main = getattr(actor, "main_office_id", None)
    if main in ids:
        return main
    if getattr(actor, "id", None) is not None:
        last = db.session.scalar(
            sa.select(Appeal.office_id).where(Appeal.created_by_id == actor.id, Appeal.office_id.in_(ids))
            .order_by(Appeal.id.desc()).limit(1)
        )
        if last:
            return last
    regional = [office.id for office in offices if office.kind == "regional"]
    return (regional or ids)[0]


def _corrected_office(appeal: Appeal, data: Mapping[str, Any], actor: User | None) -> Office | None:
    """The office a coordinator corrects the appeal to, or None when the office stays."""
    office_id = int_or_none(data.get("office_id"))
    if not office_id or office_id == appeal.office_id:
        return None
    if not can(actor, "appeal.correct_office", appeal):
        raise AppealError(_("Only a coordinator may correct the office, and only before the first status change."),
                          "office")
    office = db.session.get(Office, office_id)
    if office is None or not office.is_active:
        raise AppealError(_("Choose the office that registers the appeal."), "office")
    return office


def update_appeal(appeal: Appeal, data: Mapping[str, Any], actor: User | None,
                  link_repeat_of: Appeal | int | str | None = None) -> Appeal:
    """Correct an appeal's details. The number never changes; the office only by a coordinator
    before the first status change (the audit trail keeps the old one)."""
    _require(actor, "appeal.edit", appeal)
    if appeal.status in ("closed", "withdrawn"):
        raise AppealError(_("A closed or withdrawn appeal can no longer be edited."), "status")
    corrected_office = _corrected_office(appeal, data, actor)
    merged = {field: getattr(appeal, field) for field in EDITABLE_FIELDS}
    merged.update({k: v for k, v in data.items() if k in EDITABLE_FIELDS})
    values = clean_appeal_data(merged, actor, existing=appeal)
    values.pop("office_id", None)
    repeat_of_id = _repeat_id(link_repeat_of, actor) if link_repeat_of is not None else None
    with write_transaction():
        appeal = _lock(appeal)
        before = _audit_values(appeal)
        old_received = appeal.received_at
        old_type = appeal.appeal_type
        old_responsible = appeal.responsible_id
        for field, value in values.items():
            setattr(appeal, field, value)
        if corrected_office is not None:
            appeal.office_id = corrected_office.id
        if repeat_of_id and repeat_of_id != appeal.id:
            appeal.repeat_of_id = repeat_of_id
        # A corrected receipt date or type moves a deadline nobody has acted on yet (no extension, no pause).
        if ((appeal.received_at.date() != old_received.date() or appeal.appeal_type != old_type)
                and not appeal.extensions and not appeal.suspensions):
            appeal.original_due_date = appeal.due_date = compute_due_date(appeal.received_at.date(),
                                                                          appeal_type=appeal.appeal_type)
        changes = audit.diff(before, _audit_values(appeal))
        if changes:
            audit.record("updated", appeal, changes=_audit_safe(changes), user=actor)
        if "language" in changes:
            # A letter not yet made is made in the corrected language; one made (and maybe sent) stays.
            db.session.execute(sa.update(AnswerLetter).where(AnswerLetter.appeal_id == appeal.id,
                                                             AnswerLetter.status == "pending")
                               .values(locale=applicant_locale(appeal)))
        _tell_responsible(appeal, actor, old_responsible)
    return appeal


def _date_or_error(value: object, field: str, errors: dict[str, Any], default: date | None = None,
                   required: bool = False) -> date | None:
    """The date in `value` (core.parsing's rule), `default` when empty; a bad one goes into `errors`."""
    try:
        day = parse_date(value, field, required=required)
    except ParseError as exc:
        errors.update(exc.errors)
        return None
    return default if day is None else day


def allowed_transitions(appeal: Appeal) -> tuple[str, ...]:
    return TRANSITIONS.get(appeal.status, ())


def transition(appeal: Appeal, new_status: str, actor: User | None, **details: Any) -> Appeal:
    """Move an appeal along the workflow. details: responsible_id, answer_text, answered_at, reason, recipient, date."""
    _require(actor, "appeal.transition", appeal)
    if new_status not in APPEAL_STATUSES or new_status not in allowed_transitions(appeal):
        from appeals.core.labels import APPEAL_STATUS_LABELS

        raise AppealError(
            _("An appeal with status \u201c%(old)s\u201d cannot be moved to \u201c%(new)s\u201d.",
              old=APPEAL_STATUS_LABELS.get(appeal.status, appeal.status),
              new=APPEAL_STATUS_LABELS.get(new_status, new_status)),
            "status",
        )
    if new_status == "forwarded":
        return forward(appeal, details.get("recipient"), details.get("date"), actor)

    changes: dict[str, Any] = {}
    errors: dict[str, Any] = {}
    today = local_today()
    if new_status == "in_review":
        responsible_id = int_or_none(details.get("responsible_id")) or getattr(actor, "id", None)
        responsible = db.session.get(User, responsible_id) if responsible_id else None
        if responsible is None or not may_be_responsible(responsible, appeal.office):
            errors["responsible_id"] = [_("Choose a responsible person from the list.")]
        changes["responsible_id"] = responsible_id
    elif new_status == "answered":
        answer = (details.get("answer_text") or "").strip()
        answered_at = _date_or_error(details.get("answered_at"), "answered_at", errors, default=today)
        if not answer:
            errors["answer_text"] = [_("Write the answer given to the applicant.")]
        elif len(answer) > TEXT_MAX:
            errors["answer_text"] = [_("At most %(n)d characters.", n=TEXT_MAX)]
        if answered_at is None:
            pass  # reported by _date_or_error
        elif answered_at > today:
            errors["answered_at"] = [_("The date cannot be in the future.")]
        elif answered_at < appeal.received_at.date():
            errors["answered_at"] = [_("The answer cannot be dated before the appeal was received.")]
        changes.update(answer_text=answer, answered_at=answered_at)
    elif new_status == "withdrawn":
        reason = " ".join((details.get("reason") or "").split())
        if not reason:
            errors["reason"] = [_("Write why the appeal is withdrawn.")]
        elif len(reason) > 500:
            errors["reason"] = [_("At most %(n)d characters.", n=500)]
        changes["withdrawn_reason"] = reason
    elif new_status == "closed":
        changes["closed_at"] = utcnow()
    if errors:
        raise AppealValidationError(errors)

    with write_transaction():
        appeal = _lock(appeal)
        if new_status not in allowed_transitions(appeal):
            # Someone else moved it while the form was open.
            raise AppealError(_("The appeal was changed by someone else meanwhile; please reload the page."), "status")
        old_status = appeal.status
        old_responsible = appeal.responsible_id
        if new_status in ("answered", "withdrawn"):
            _end_suspension(appeal, actor, today)
        for field, value in changes.items():
            setattr(appeal, field, value)
        appeal.status = new_status
        recorded: dict[str, Any] = {"status": [old_status, new_status]}
        recorded.update({k: [None, v] for k, v in changes.items() if k != "closed_at"})
        audit.record("status_changed", appeal, changes=_audit_safe(recorded), user=actor)
        _tell_responsible(appeal, actor, old_responsible)
        if new_status == "answered":
            write_answer_letter(appeal, actor)
    return appeal


def forward(appeal: Appeal, recipient: str | None, date_value: object, actor: User | None) -> Appeal:
    """Send the appeal to the competent body (APPK: within 3 working days of receipt)."""
    _require(actor, "appeal.transition", appeal)
    if "forwarded" not in allowed_transitions(appeal):
        raise AppealError(_("This appeal can no longer be forwarded."), "status")
    errors: dict[str, Any] = {}
    recipient = " ".join((recipient or "").split())
    when = _date_or_error(date_value, "date", errors, default=local_today())
    if not recipient:
        errors["recipient"] = [_("Name the body the appeal is forwarded to.")]
    elif len(recipient) > RECIPIENT_MAX:
        errors["recipient"] = [_("At most %(n)d characters.", n=RECIPIENT_MAX)]
    if when is None:
        pass  # reported by _date_or_error
    elif when > local_today():
        errors["date"] = [_("The date cannot be in the future.")]
    elif when < appeal.received_at.date():
        errors["date"] = [_("The appeal cannot be forwarded before it was received.")]
    if errors:
        raise AppealValidationError(errors)
    with write_transaction():
        appeal = _lock(appeal)
        _end_suspension(appeal, actor, local_today())
        old_status = appeal.status
        appeal.forwarded_to = recipient
        appeal.forwarded_at = when
        appeal.status = "forwarded"
        late = when > forward_due_date(appeal.received_at)
        audit.record("forwarded", appeal, user=actor, changes={
            "status": [old_status, "forwarded"], "forwarded_to": [None, recipient],
            "forwarded_at": [None, when], "late": [None, late],
        })
        tell_applicant(appeal, "appeal_forwarded_citizen", {"number": appeal.number, "body": recipient})
    return appeal


def extend_deadline(appeal: Appeal, new_due: object, reason: str | None, actor: User | None) -> AppealExtension:
    """Extend the deadline by a reasoned decision; the total extension is limited (APPK: two months)."""
    _require(actor, "appeal.extend", appeal)
    if not appeal.is_open:
        raise AppealError(_("Only an open appeal can have its deadline extended."), "status")
    if appeal.suspended_since is not None:
        raise AppealError(_("The clock of this appeal is stopped: resume it before extending the deadline."), "status")
    errors: dict[str, Any] = {}
    new_due = _date_or_error(new_due, "new_due", errors, required=True)
    reason = (reason or "").strip()
    if new_due is None:
        pass  # reported by _date_or_error
    elif new_due <= appeal.due_date:
        errors["new_due"] = [_("The new deadline must be later than the current one (%(date)s).",
                               date=appeal.due_date.strftime("%d.%m.%Y"))]
    elif new_due > extension_limit(appeal):
        errors["new_due"] = [_("The deadline can be extended to %(date)s at the latest (two months in total).",
                               date=extension_limit(appeal).strftime("%d.%m.%Y"))]
    if len(reason) < 10:
        errors["reason"] = [_("Give the reasons for the extension (at least 10 characters).")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("At most %(n)d characters.", n=REASON_MAX)]
    if errors:
        raise AppealValidationError(errors)
    with write_transaction():
        appeal = _lock(appeal)
        extension = AppealExtension(
            appeal_id=appeal.id, old_due_date=appeal.due_date, new_due_date=new_due, reason=reason,
            user_id=getattr(actor, "id", None), created_at=utcnow(),
        )
        db.session.add(extension)
        audit.record("deadline_extended", appeal, user=actor,
                     changes=_audit_safe({"due_date": [appeal.due_date, new_due], "reason": [None, reason]}))
        appeal.due_date = new_due
        # APPK: the applicant learns of the extension within 3 working days; the notice is written with it.
        tell_applicant(appeal, "appeal_extended_citizen", {"number": appeal.number, "due_date": new_due.isoformat()})
    return extension


# --- Stopping the clock while the office waits for the applicant ----------------------------

SUSPENDABLE_STATUSES = ("registered", "in_review")


def suspend_clock(appeal: Appeal, reason: str | None, actor: User | None) -> AppealSuspension:
    """Stop the answer clock (the office waits for the applicant's documents or clarification); reason required."""
    _require(actor, "appeal.suspend", appeal)
    reason = " ".join((reason or "").split())
    if appeal.status not in SUSPENDABLE_STATUSES:
        raise AppealError(_("Only an appeal under registration or review can have its clock stopped."), "status")
    if appeal.suspended_since is not None:
        raise AppealError(_("The clock of this appeal is already stopped."), "status")
    if len(reason) < 10:
        raise AppealValidationError({"reason": [_("Say what the office is waiting for (at least 10 characters).")]})
    if len(reason) > REASON_MAX:
        raise AppealValidationError({"reason": [_("At most %(n)d characters.", n=REASON_MAX)]})
    today = local_today()
    with write_transaction():
        appeal = _lock(appeal)
        if appeal.suspended_since is not None or appeal.status not in SUSPENDABLE_STATUSES:
            raise AppealError(_("The appeal was changed by someone else meanwhile; please reload the page."), "status")
        suspension = AppealSuspension(
            appeal_id=appeal.id, started_on=today, reason=reason, started_by_id=getattr(actor, "id", None),
            due_before=appeal.due_date, created_at=utcnow(),
        )
        db.session.add(suspension)
        appeal.suspended_since = today
        audit.record("clock_suspended", appeal, user=actor,
                     changes=_audit_safe({"suspended_since": [None, today], "reason": [None, reason]}))
    return suspension


def resume_clock(appeal: Appeal, actor: User | None) -> AppealSuspension:
    """Start the clock again: the working days it stood still are added to the deadline."""
    _require(actor, "appeal.suspend", appeal)
    if appeal.suspended_since is None:
        raise AppealError(_("The clock of this appeal is running."), "status")
    with write_transaction():
        appeal = _lock(appeal)
        suspension = _end_suspension(appeal, actor, local_today())
        if suspension is None:
            raise AppealError(_("The appeal was changed by someone else meanwhile; please reload the page."), "status")
    return suspension


def _end_suspension(appeal: Appeal, actor: User | None, today: date) -> AppealSuspension | None:
    """Inside the caller's transaction, on the locked appeal: close the open pause, move the deadline, audit."""
    if appeal.suspended_since is None:
        return None
    suspension = db.session.scalars(
        sa.select(AppealSuspension).where(AppealSuspension.appeal_id == appeal.id, AppealSuspension.resumed_on.is_(None))
        .order_by(AppealSuspension.id.desc()).limit(1)
    ).first()
    started = suspension.started_on if suspension else appeal.suspended_since
    paused = paused_working_days(started, today)
    new_due = resumed_due_date(appeal.due_date, paused)
    if suspension is not None:
        suspension.resumed_on = today
        suspension.resumed_by_id = getattr(actor, "id", None)
        suspension.paused_days = paused
        suspension.due_after = new_due
    audit.record("clock_resumed", appeal, user=actor, changes={
        "suspended_since": [appeal.suspended_since, None], "paused_days": [None, paused],
        "due_date": [appeal.due_date, new_due],
    })
    # The extension limit (two months over the legal term) moves with the pause: a pause is not an extension.
    appeal.original_due_date = resumed_due_date(appeal.original_due_date, paused)
    appeal.due_date = new_due
    appeal.suspended_since = None
    return suspension


# --- The applicant's side: notices and the answer letter --------------------------------------

def tell_applicant(appeal: Appeal, template: str, params: dict[str, Any]) -> int:
    """Write a notice to the applicant's e-mail and phone, if the appeal has them (in the caller's
    transaction); returns how many. Params hold the number and dates, never personal data."""
    written = 0
    email = getattr(appeal, "email", None)
    if email:
        outbox.notify_address("email", email, template, params, locale=applicant_locale(appeal))
        written += 1
    if appeal.phone:
        outbox.notify_address("sms", appeal.phone, template, params, locale=applicant_locale(appeal))
        written += 1
    return written


def write_answer_letter(appeal: Appeal, actor: User | None) -> AnswerLetter:
    """Inside the answer's transaction: the letter to make (a worker renders, keeps and e-mails it;
    appeals/reports/letters.py). By e-mail when the appeal has an address, else for the post."""
    letter = AnswerLetter(appeal_id=appeal.id, locale=applicant_locale(appeal), status="pending",
                          delivery="email" if getattr(appeal, "email", None) else "post",
                          created_at=utcnow(), created_by_id=getattr(actor, "id", None))
    db.session.add(letter)
    db.session.info["letters_kick"] = True
    return letter
