"""The rules of the appeals register, shared by the web forms, the import, the CLI and the API.

Every write runs inside `write_transaction()`: the appeal, its number and its audit record are
stored together or not at all.
"""
import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import joinedload

from appeals.auth.models import User
from appeals.auth.permissions import can, may_reveal_personal, may_search_personal, personal_view, scope_appeals
from appeals.core import audit, outbox
from appeals.core.database import is_postgresql, write_transaction
from appeals.core.extensions import db
from appeals.core.numbering import next_number
from appeals.core.privacy import APPEAL_AUDIT_MASKS, mask_changes, redact_personal, redacted_sql
from appeals.core.search_fold import search_fold, search_words
from appeals.core.text import clean_name
from appeals.core.timeutil import local_now, local_today, utcnow
from appeals.reference.models import Category, Office, Settlement
from appeals.register.districts import appeal_in_districts
from appeals.register.models import (
    APPEAL_STATUSES,
    APPEAL_TYPES,
    APPLICANT_KINDS,
    CHANNELS,
    OPEN_STATUSES,
    SUMMARY_MAX,
    TEXT_MAX,
    Appeal,
    AppealExtension,
)
from appeals.register.periods import received_between
from appeals.register.rules import RuleViolation, add_working_days, check_iin, check_phone, make_iin  # noqa: F401
from appeals.schedules.models import Host, ReceptionSession

NAME_MAX = 200
ADDRESS_MAX = 300
REASON_MAX = 1000
RECIPIENT_MAX = 300
REPEAT_WINDOW_DAYS = 90
SIMILARITY_THRESHOLD = 0.72
# A clock on a clerk's computer may run a little ahead of the server's.
FUTURE_TOLERANCE = timedelta(minutes=10)
EARLIEST_RECEIPT = datetime(2000, 1, 1)

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
)
AUDIT_FIELDS = ("number", "office_id", *EDITABLE_FIELDS, "status", "due_date")


class AppealError(ValueError):
    """A register rule was broken; `field` names the form field (or import column) to show it on."""

    def __init__(self, message, field=None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field


class AppealValidationError(AppealError):
    """Several fields are wrong at once: {field: [translated message, ...]}."""

    def __init__(self, errors):
        self.errors = errors
        field, messages = next(iter(errors.items()))
        super().__init__(messages[0], field)


class ImportValidationError(AppealError):
    """Rows of an import file that cannot be registered: [(row number, column, message)]."""

    def __init__(self, row_errors, message=None):
        self.row_errors = row_errors
        super().__init__(message or _("The file has %(n)d errors; nothing was imported.", n=len(row_errors)), "file")


# --- Field checks with translated messages ---------------------------------------------------------

def validate_iin(value):
    """The normalised IIN, or AppealError on the `iin` field."""
    try:
        return check_iin(value, today=local_today())
    except RuleViolation as exc:
        messages = {
            "iin_format": _("An IIN has exactly 12 digits."),
            "iin_date": _("The first six digits of an IIN are the date of birth; this date is not valid."),
            "iin_checksum": _("The IIN check digit does not match: please check the number for a typo."),
        }
        raise AppealError(messages[exc.code], "iin") from exc


def normalize_phone(value):
    """The phone in E.164 (+77011234567), or AppealError on the `phone` field."""
    try:
        return check_phone(value)
    except RuleViolation as exc:
        if exc.code == "phone_format":
            message = _("Enter a phone number, for example +7 701 123 45 67.")
        else:
            message = _("This is not a valid phone number.")
        raise AppealError(message, "phone") from exc


def compute_due_date(received_date, working_days=None):
    """The answer deadline: `working_days` (default APPEAL_DEADLINE_WORKING_DAYS) Kazakh working days after receipt."""
    if isinstance(received_date, datetime):
        received_date = received_date.date()
    if working_days is None:
        working_days = current_app.config["APPEAL_DEADLINE_WORKING_DAYS"]
    return add_working_days(received_date, working_days)


def forward_due_date(received_date):
    """APPK: an appeal outside the office's competence goes to the competent body within 3 working days."""
    if isinstance(received_date, datetime):
        received_date = received_date.date()
    return add_working_days(received_date, current_app.config["APPEAL_FORWARD_WORKING_DAYS"])


def due_soon_limit(today=None):
    return add_working_days(today or local_today(), current_app.config["APPEAL_DUE_SOON_WORKING_DAYS"])


def deadline_state(appeal, today=None):
    """'overdue', 'due_soon' or None, for open appeals only."""
    if appeal.status not in OPEN_STATUSES:
        return None
    today = today or local_today()
    if appeal.due_date < today:
        return "overdue"
    if appeal.due_date <= due_soon_limit(today):
        return "due_soon"
    return None


def format_number(office_code, year, seq):
    return f"{office_code}-{year}-{seq:05d}"


# --- Cleaning of appeal data ------------------------------------------------------------------------

def _text(data, key):
    value = data.get(key)
    return "" if value is None else str(value).strip()


def _int_or_none(value):
    if value in (None, "", 0, "0"):
        return None
    if not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            return False
    # PostgreSQL's integer: a larger id cannot exist and would fail inside the database driver.
    return value if 0 < value <= 2**31 - 1 else False


def _active_states(**references):
    """{name: True (active), False (retired) or None (no such row)} for each name=(model, id)."""
    columns = {
        name: sa.select(model.is_active).where(model.id == ident).scalar_subquery().label(name)
        for name, (model, ident) in references.items() if ident
    }
    states = dict.fromkeys(references)
    if columns:
        states.update(db.session.execute(sa.select(*columns.values())).one()._asdict())
    return states


def _resolve_office(data):
    office = data.get("office")
    if isinstance(office, Office):
        return office
    if data.get("office_id"):
        return db.session.get(Office, _int_or_none(data["office_id"]) or 0)
    code = data.get("office_code") or (office if isinstance(office, str) else None)
    if code:
        return db.session.scalar(sa.select(Office).where(Office.code == str(code).strip().upper()))
    return None


def _parse_datetime(value):
    if isinstance(value, datetime):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(value, time(9, 0))
    text = str(value or "").strip()
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
                    "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.combine(datetime.strptime(text, pattern).date(), time(9, 0))
        except ValueError:
            continue
    return None


def parse_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def clean_appeal_data(data, actor, existing=None):
    """Check every field and return model values; AppealValidationError lists all problems at once."""
    errors = {}

    def fail(field, message):
        errors.setdefault(field, []).append(str(message))

    values = {}
    if existing is None:
        office = _resolve_office(data)
        if office is None or not office.is_active:
            fail("office", _("Choose the office that registers the appeal."))
        elif actor is not None and not can(actor, "appeal.create", office):
            fail("office", _("You cannot register appeals for this office."))
    else:
        office = existing.office
    values["office_id"] = office.id if office is not None else None

    received_at = _parse_datetime(data.get("received_at"))
    if received_at is None:
        fail("received_at", _("Enter the date and time the appeal was received."))
    elif received_at > local_now() + FUTURE_TOLERANCE:
        fail("received_at", _("The date received cannot be in the future."))
    elif received_at < EARLIEST_RECEIPT:
        fail("received_at", _("The date received is too far in the past."))
    values["received_at"] = received_at

    channel = _text(data, "channel")
    if channel not in CHANNELS:
        fail("channel", _("Choose how the appeal was received."))
    values["channel"] = channel

    session_id = _int_or_none(data.get("session_id"))
    host_id = _int_or_none(data.get("host_id"))
    values["session_id"] = None
    values["host_id"] = None
    if channel == "session":
        session = db.session.get(ReceptionSession, session_id) if session_id else None
        if session is None:
            fail("session_id", _("Choose the reception session where the appeal was received."))
        else:
            if office is not None and session.office_id != office.id:
                fail("session_id", _("This reception session belongs to another office."))
            if session.status == "cancelled":
                fail("session_id", _("This reception session was cancelled."))
            if received_at is not None and session.date != received_at.date():
                fail("received_at", _("The date received must be the date of the reception session (%(date)s).",
                                      date=session.date.strftime("%d.%m.%Y")))
            session_host_ids = [host.id for host in session.hosts]
            if not host_id and len(session_host_ids) == 1:
                host_id = session_host_ids[0]
            if not host_id:
                fail("host_id", _("Choose the host who received the appeal."))
            elif host_id not in session_host_ids:
                fail("host_id", _("This host did not take part in the chosen reception session."))
            values["session_id"] = session.id
            values["host_id"] = host_id
    elif host_id:
        if host_id is False or db.session.get(Host, host_id) is None:
            fail("host_id", _("Choose a host from the list."))
        else:
            values["host_id"] = host_id

    kind = _text(data, "applicant_kind") or "individual"
    if kind not in APPLICANT_KINDS:
        fail("applicant_kind", _("Choose who the applicant is."))
    values["applicant_kind"] = kind
    name = clean_name(_text(data, "applicant_name"))
    iin = _text(data, "iin")
    phone = _text(data, "phone")
    address = _text(data, "address")
    if kind == "anonymous":
        # An anonymous appeal keeps no personal data even if the clerk typed some.
        name, iin, phone, address = "", "", "", ""
    elif not name:
        fail("applicant_name", _("Enter the applicant's full name.") if kind == "individual"
             else _("Enter the name of the group or of its representative."))
    if len(name) > NAME_MAX:
        fail("applicant_name", _("At most %(n)d characters.", n=NAME_MAX))
    if iin:
        try:
            iin = validate_iin(iin)
        except AppealError as exc:
            fail("iin", exc.message)
    if phone:
        try:
            phone = normalize_phone(phone)
        except AppealError as exc:
            fail("phone", exc.message)
    if len(address) > ADDRESS_MAX:
        fail("address", _("At most %(n)d characters.", n=ADDRESS_MAX))
    values.update(applicant_name=name, iin=iin or None, phone=phone or None, address=address)

    signatories = _int_or_none(data.get("signatories"))
    if kind == "collective":
        if not signatories or signatories < 2:
            fail("signatories", _("A collective appeal has at least two signatories."))
        elif signatories > 100000:
            fail("signatories", _("The number of signatories is too large."))
    else:
        signatories = None
    values["signatories"] = signatories if signatories else None

    settlement_id = _int_or_none(data.get("settlement_id"))
    category_id = _int_or_none(data.get("category_id"))
    # Whether each chosen row exists and is active, in one round trip for both.
    active = _active_states(settlement=(Settlement, settlement_id), category=(Category, category_id))
    if not active["settlement"]:
        if settlement_id or kind != "anonymous":
            fail("settlement_id", _("Choose the settlement from the list."))
        settlement_id = None
    values["settlement_id"] = settlement_id

    appeal_type = _text(data, "appeal_type")
    if appeal_type not in APPEAL_TYPES:
        fail("appeal_type", _("Choose the type of appeal."))
    values["appeal_type"] = appeal_type

    # A category retired since the appeal was registered may stay on it.
    keeps_retired_category = existing is not None and existing.category_id == category_id
    if active["category"] is None or (active["category"] is False and not keeps_retired_category):
        fail("category_id", _("Choose the category from the list."))
    values["category_id"] = category_id if active["category"] is not None else None

    summary = " ".join(_text(data, "summary").split())
    if not summary:
        fail("summary", _("Write a short summary of the appeal."))
    elif len(summary) > SUMMARY_MAX:
        fail("summary", _("At most %(n)d characters.", n=SUMMARY_MAX))
    values["summary"] = summary
    text = _text(data, "text")
    if len(text) > TEXT_MAX:
        fail("text", _("At most %(n)d characters.", n=TEXT_MAX))
    values["text"] = text

    responsible_id = _int_or_none(data.get("responsible_id"))
    if responsible_id:
        responsible = db.session.get(User, responsible_id) if responsible_id is not False else None
        if responsible is None or not _may_be_responsible(responsible, office):
            fail("responsible_id", _("Choose a responsible person from the list."))
    values["responsible_id"] = responsible_id or None

    if errors:
        raise AppealValidationError(errors)
    return values


def _may_be_responsible(user, office):
    if not user.is_active:
        return False
    if user.role == "coordinator":
        return True
    return user.role == "clerk" and office is not None and office.id in user.office_ids


def responsible_choices(office):
    users = db.session.scalars(
        sa.select(User).where(User.role.in_(("clerk", "coordinator")), User.is_active_account.is_(True))
        .order_by(User.full_name, User.username)
    ).all()
    return [user for user in users if _may_be_responsible(user, office)]


# --- Registration and changes -------------------------------------------------------------------

def register_appeal(data, actor, link_repeat_of=None, backdate_reason=None):
    """Register one appeal: validate, take the next gapless number, store, audit — one transaction.

    backdate_reason: why a long-past received date is right (the form asks for it beyond 30
    days); kept in the audit record of the registration.
    """
    values = clean_appeal_data(data, actor)
    repeat_of_id = _repeat_id(link_repeat_of, actor)
    with write_transaction():
        appeal = _insert_appeal(values, actor, repeat_of_id, backdate_reason=backdate_reason)
    return appeal


def _repeat_id(link_repeat_of, actor):
    """The earlier appeal to link as repeated: only one the actor may see (the same answer as for none)."""
    if link_repeat_of in (None, "", 0):
        return None
    repeat_id = link_repeat_of.id if isinstance(link_repeat_of, Appeal) else _int_or_none(link_repeat_of)
    earlier = db.session.get(Appeal, repeat_id) if repeat_id else None
    if earlier is None or not can(actor, "appeal.view", earlier):
        raise AppealError(_("The earlier appeal to link was not found."), "repeat_of")
    return repeat_id


def _insert_appeal(values, actor, repeat_of_id=None, audit_action="created", backdate_reason=None):
    office = db.session.get(Office, values["office_id"])
    year = values["received_at"].year
    due = compute_due_date(values["received_at"].date())
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


def _tell_responsible(appeal, actor, previous_id):
    """A clerk made responsible for an appeal (by someone else) is told, in the same transaction."""
    if appeal.responsible_id and appeal.responsible_id != previous_id and appeal.responsible_id != getattr(actor, "id", None):
        outbox.notify(appeal.responsible_id, "appeal_assigned",
                      {"appeal_id": appeal.id, "number": appeal.number, "due_date": appeal.due_date.isoformat()})


def _audit_values(appeal):
    return audit.snapshot(appeal, AUDIT_FIELDS)


def _audit_safe(changes):
    # Personal data stays out of the audit trail's values: the trail is read more widely than the register.
    return mask_changes(changes, APPEAL_AUDIT_MASKS)


def _lock(appeal):
    """Re-read the appeal under a row lock so two clerks' changes cannot interleave."""
    statement = sa.select(Appeal).where(Appeal.id == appeal.id).execution_options(populate_existing=True)
    if is_postgresql():
        statement = statement.with_for_update()
    return db.session.scalars(statement).one()


def _require(actor, action, appeal):
    if not can(actor, action, appeal):
        raise AppealError(_("You are not allowed to change this appeal."), "status")


def default_office_id(actor, offices) -> int | None:
    """The office a new appeal form starts with: the one the user registered for last, else their
    regional office, else the first of theirs (never simply the first by code)."""
    ids = [office.id for office in offices]
    if not ids:
        return None
    if getattr(actor, "id", None) is not None:
        last = db.session.scalar(
            sa.select(Appeal.office_id).where(Appeal.created_by_id == actor.id, Appeal.office_id.in_(ids))
            .order_by(Appeal.id.desc()).limit(1)
        )
        if last:
            return last
    regional = [office.id for office in offices if office.kind == "regional"]
    return (regional or ids)[0]


def _corrected_office(appeal, data, actor):
    """The office a coordinator corrects the appeal to, or None when the office stays."""
    office_id = _int_or_none(data.get("office_id"))
    if not office_id or office_id == appeal.office_id:
        return None
    if not can(actor, "appeal.correct_office", appeal):
        raise AppealError(_("Only a coordinator may correct the office, and only before the first status change."),
                          "office")
    office = db.session.get(Office, office_id)
    if office is None or not office.is_active:
        raise AppealError(_("Choose the office that registers the appeal."), "office")
    return office


def update_appeal(appeal, data, actor, link_repeat_of=None):
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
        old_responsible = appeal.responsible_id
        for field, value in values.items():
            setattr(appeal, field, value)
        if corrected_office is not None:
            appeal.office_id = corrected_office.id
        if repeat_of_id and repeat_of_id != appeal.id:
            appeal.repeat_of_id = repeat_of_id
        if appeal.received_at.date() != old_received.date() and not appeal.extensions:
            appeal.original_due_date = appeal.due_date = compute_due_date(appeal.received_at.date())
        changes = audit.diff(before, _audit_values(appeal))
        if changes:
            audit.record("updated", appeal, changes=_audit_safe(changes), user=actor)
        _tell_responsible(appeal, actor, old_responsible)
    return appeal


def allowed_transitions(appeal):
    return TRANSITIONS.get(appeal.status, ())


def transition(appeal, new_status, actor, **details):
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

    changes = {}
    errors = {}
    today = local_today()
    if new_status == "in_review":
        responsible_id = _int_or_none(details.get("responsible_id")) or getattr(actor, "id", None)
        responsible = db.session.get(User, responsible_id) if responsible_id else None
        if responsible is None or not _may_be_responsible(responsible, appeal.office):
            errors["responsible_id"] = [_("Choose a responsible person from the list.")]
        changes["responsible_id"] = responsible_id
    elif new_status == "answered":
        answer = (details.get("answer_text") or "").strip()
        answered_at = parse_date(details.get("answered_at")) if details.get("answered_at") else today
        if not answer:
            errors["answer_text"] = [_("Write the answer given to the applicant.")]
        elif len(answer) > TEXT_MAX:
            errors["answer_text"] = [_("At most %(n)d characters.", n=TEXT_MAX)]
        if answered_at is None:
            errors["answered_at"] = [_("Enter a valid date.")]
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
        for field, value in changes.items():
            setattr(appeal, field, value)
        appeal.status = new_status
        recorded = {"status": [old_status, new_status]}
        recorded.update({k: [None, v] for k, v in changes.items() if k != "closed_at"})
        audit.record("status_changed", appeal, changes=_audit_safe(recorded), user=actor)
        _tell_responsible(appeal, actor, old_responsible)
    return appeal


def forward(appeal, recipient, date_value, actor):
    """Send the appeal to the competent body (APPK: within 3 working days of receipt)."""
    _require(actor, "appeal.transition", appeal)
    if "forwarded" not in allowed_transitions(appeal):
        raise AppealError(_("This appeal can no longer be forwarded."), "status")
    errors = {}
    recipient = " ".join((recipient or "").split())
    when = parse_date(date_value) if date_value else local_today()
    if not recipient:
        errors["recipient"] = [_("Name the body the appeal is forwarded to.")]
    elif len(recipient) > RECIPIENT_MAX:
        errors["recipient"] = [_("At most %(n)d characters.", n=RECIPIENT_MAX)]
    if when is None:
        errors["date"] = [_("Enter a valid date.")]
    elif when > local_today():
        errors["date"] = [_("The date cannot be in the future.")]
    elif when < appeal.received_at.date():
        errors["date"] = [_("The appeal cannot be forwarded before it was received.")]
    if errors:
        raise AppealValidationError(errors)
    with write_transaction():
        appeal = _lock(appeal)
        old_status = appeal.status
        appeal.forwarded_to = recipient
        appeal.forwarded_at = when
        appeal.status = "forwarded"
        late = when > forward_due_date(appeal.received_at)
        audit.record("forwarded", appeal, user=actor, changes={
            "status": [old_status, "forwarded"], "forwarded_to": [None, recipient],
            "forwarded_at": [None, when], "late": [None, late],
        })
    return appeal


def extension_limit(appeal):
    return appeal.original_due_date + timedelta(days=current_app.config["APPEAL_MAX_EXTENSION_DAYS"])


def extend_deadline(appeal, new_due, reason, actor):
    """Extend the deadline by a reasoned decision; the total extension is limited (APPK: two months)."""
    _require(actor, "appeal.extend", appeal)
    if not appeal.is_open:
        raise AppealError(_("Only an open appeal can have its deadline extended."), "status")
    errors = {}
    new_due = parse_date(new_due)
    reason = (reason or "").strip()
    if new_due is None:
        errors["new_due"] = [_("Enter a valid date.")]
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
    return extension


# --- Repeats and duplicates -------------------------------------------------------------------

def _normalise_text(value):
    # Folded as the register search folds: «Нұрлан» and «Нурлан» are the same word here too.
    return " ".join(re.findall(r"\w+", search_fold(value)))


def text_similarity(a, b):
    a, b = _normalise_text(a), _normalise_text(b)
    if not a or not b:
        return 0.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    words_a, words_b = set(a.split()), set(b.split())
    jaccard = len(words_a & words_b) / len(words_a | words_b)
    return max(ratio, jaccard)


@dataclass
class RepeatCheck:
    """What the repeat check may tell the actor.

    `appeals`: earlier appeals the actor may see; `elsewhere`: the same IIN or phone has an appeal in
    an office the actor cannot see (they learn no number, date or status: they ask the coordinator);
    `limited`: the actor's matching look-ups of the last hour ran out, so none were shown.
    """

    appeals: list
    elsewhere: bool = False
    limited: bool = False

    def __bool__(self):
        return bool(self.appeals or self.elsewhere or self.limited)


def _identity_conditions(data):
    identity = []
    iin = "".join(_text(data, "iin").split())
    if iin:
        identity.append(Appeal.iin == iin)
    phone = _text(data, "phone")
    if phone:
        try:
            identity.append(Appeal.phone == check_phone(phone))
        except RuleViolation:
            pass
    return identity


def _matching_lookups_last_hour(actor):
    since = utcnow() - timedelta(hours=1)
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(audit.AuditRecord)
        .where(audit.AuditRecord.user_id == actor.id, audit.AuditRecord.action == "repeat_check_matched",
               audit.AuditRecord.created_at >= since)
    ) or 0


def find_possible_repeats(data, actor, limit=10):
    """Earlier appeals (last 90 days) of the same person (IIN, phone) or about the same thing in the same settlement.

    The check looks at the actor's own scope only (issue 13, finding 9): a match by IIN or phone in an
    office the actor cannot see says only that one exists. A look-up whose IIN or phone matches is
    recorded in the audit trail (without the IIN or phone) and counts against
    REPEAT_CHECK_MATCHES_PER_HOUR; past it the check shows nothing and says so.
    """
    received_at = _parse_datetime(data.get("received_at")) or local_now()
    since = received_at - timedelta(days=REPEAT_WINDOW_DAYS)
    window = sa.and_(Appeal.received_at >= since, Appeal.received_at <= received_at + FUTURE_TOLERANCE)
    exclude = _int_or_none(data.get("exclude_id"))
    found = {}
    elsewhere = False

    identity = _identity_conditions(data)
    if identity:
        matches = sa.select(Appeal.id).where(window, sa.or_(*identity), Appeal.id != (exclude or 0))
        visible = scope_appeals(sa.select(Appeal), actor).where(Appeal.id.in_(matches))
        own = db.session.scalars(visible.order_by(Appeal.received_at.desc()).limit(limit)).all()
        elsewhere = db.session.scalar(
            sa.select(sa.func.count()).select_from(matches.where(
                Appeal.id.not_in(scope_appeals(sa.select(Appeal.id), actor))).limit(1).subquery())) > 0
        if own or elsewhere:
            if _matching_lookups_last_hour(actor) >= current_app.config.get("REPEAT_CHECK_MATCHES_PER_HOUR", 30):
                return RepeatCheck([], limited=True)
            with write_transaction():
                audit.record("repeat_check_matched", object_type="appeals", user=actor,
                             label=", ".join(a.number for a in own)[:200],
                             changes={"matches": [a.id for a in own], "elsewhere": elsewhere})
            own = db.session.scalars(visible.order_by(Appeal.received_at.desc()).limit(limit)).all()
        for appeal in own:
            found[appeal.id] = appeal

    settlement_id = _int_or_none(data.get("settlement_id"))
    summary = _text(data, "summary")
    if settlement_id and summary:
        query = (
            scope_appeals(sa.select(Appeal), actor).where(window, Appeal.settlement_id == settlement_id)
            .order_by(Appeal.received_at.desc()).limit(300)
        )
        for appeal in db.session.scalars(query):
            if appeal.id not in found and text_similarity(summary, appeal.summary) >= SIMILARITY_THRESHOLD:
                found[appeal.id] = appeal
    found.pop(exclude, None)
    return RepeatCheck(sorted(found.values(), key=lambda a: a.received_at, reverse=True)[:limit], elsewhere=elsewhere)


def is_same_person(appeal: Appeal, data: dict) -> bool:
    """Whether a possible repeat has the new appeal's IIN or phone (not only a similar summary):
    only then does the form suggest linking it as a repeat."""
    iin = "".join(_text(data, "iin").split())
    if iin and appeal.iin == iin:
        return True
    phone = _text(data, "phone")
    if phone and appeal.phone:
        try:
            return appeal.phone == check_phone(phone)
        except RuleViolation:
            return False
    return False


# --- The register list --------------------------------------------------------------------------

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
OPEN_CONDITION = sa.text("appeals.status IN ('registered', 'in_review', 'forwarded')")
NUMBER_PATTERN = re.compile(r"^[A-Za-z]{2,10}-\d{4}-\d{1,6}$")


def parse_list_filters(args):
    """Query-string arguments to typed filters; unknown or malformed values are dropped, not errors."""
    def ident(name):
        value = _int_or_none(args.get(name))
        return value or None

    def choice(name, allowed):
        value = (args.get(name) or "").strip()
        return value if value in allowed else None

    filters = {
        "office": ident("office"),
        "date_from": parse_date(args.get("date_from")) if args.get("date_from") else None,
        "date_to": parse_date(args.get("date_to")) if args.get("date_to") else None,
        "status": choice("status", APPEAL_STATUSES + ("open",)),
        "appeal_type": choice("appeal_type", APPEAL_TYPES),
        "category": ident("category"),
        "channel": choice("channel", CHANNELS),
        "district": ident("district"),
        "settlement": ident("settlement"),
        "host": ident("host"),
        "overdue": (args.get("overdue") or "") in ("1", "true", "on", "yes"),
        "repeats": (args.get("repeats") or "") in ("1", "true", "on", "yes"),
        "q": " ".join((args.get("q") or "").split())[:200],
        "sort": choice("sort", tuple(SORTS)) or "-received",
    }
    return filters


def _search_condition(q, user):
    """Number, IIN, phone, and words of the name, summary and text.

    Roles that may not see personal data search the number and the summary's words only: their
    search must not tell them whose appeal it is or what the letter says (issue 13, finding 3), so a
    query with an IIN-, phone- or e-mail-like part finds by number alone.
    """
    conditions = []
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
            match = sa.literal_column(FTS_DOCUMENT).op("@@")(tsquery)
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


def build_list_query(filters, user):
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
        query = query.where(OPEN_CONDITION, Appeal.due_date < local_today())
    if f["repeats"]:
        query = query.where(Appeal.repeat_of_id.is_not(None))
    if f["q"]:
        query = query.where(_search_condition(f["q"], user))
    return query.order_by(*SORTS.get(f["sort"] or "-received", SORTS["-received"]))


def with_list_relations(query):
    return query.options(
        joinedload(Appeal.office), joinedload(Appeal.settlement), joinedload(Appeal.category),
        joinedload(Appeal.host),
    )


@event.listens_for(Engine, "connect")
def _sqlite_functions(dbapi_connection, _record):
    # SQLite's own lower() folds ASCII only; Kazakh and Russian names need full Unicode case folding.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_function(
            "qb_fold", 1, lambda value: unicodedata.normalize("NFKC", value or "").casefold(), deterministic=True
        )
        dbapi_connection.create_function("qb_search_fold", 1, search_fold, deterministic=True)
        dbapi_connection.create_function("qb_redact", 1, redact_personal, deterministic=True)


# --- Personal data (the policy is permissions.personal_view) ---------------------------------

def reveal_personal_data(appeal, user):
    """A coordinator's audited look at one applicant's details: writes the audit record, returns the view.

    Anyone else gets what permissions.personal_view gives them (the office's clerks see everything
    anyway, masked roles stay masked) and nothing is recorded.
    """
    if not may_reveal_personal(user, appeal):
        return personal_view(appeal, user)
    with write_transaction():
        audit.record("personal_data_viewed", object_type="appeals", object_id=appeal.id,
                     label=appeal.number, user=user, changes={"fields": [None, ["iin", "phone", "address"]]})
    appeal = db.session.get(Appeal, appeal.id)
    return personal_view(appeal, user, revealed=True)


# --- Home page -------------------------------------------------------------------------------

def deadline_watch(user, limit=10):
    """Open appeals in the user's scope that are overdue, and those due within the next few working days."""
    today = local_today()
    base = with_list_relations(scope_appeals(sa.select(Appeal), user)).where(OPEN_CONDITION)
    overdue = db.session.scalars(base.where(Appeal.due_date < today).order_by(Appeal.due_date, Appeal.id).limit(limit)).unique().all()
    soon = db.session.scalars(
        base.where(Appeal.due_date >= today, Appeal.due_date <= due_soon_limit(today))
        .order_by(Appeal.due_date, Appeal.id).limit(limit)
    ).unique().all()
    return overdue, soon


# --- Import and export (implemented in appeals.register.transfer) -------------------------------

def import_rows(rows, office, actor, job=None):
    from appeals.register import transfer

    return transfer.import_rows(rows, office, actor, job=job)


def read_import_file(filename, content):
    from appeals.register import transfer

    return transfer.read_import_file(filename, content)


def export_csv(query, user):
    from appeals.register import transfer

    return transfer.export_csv(query, user)


def export_xlsx(query, user):
    from appeals.register import transfer

    return transfer.export_xlsx(query, user)
