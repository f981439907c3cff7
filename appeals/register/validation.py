"""Checking an appeal's fields: every problem reported at once, with translated messages on the field.

The web form, the import, the CLI and the API all call `clean_appeal_data()`.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from flask_babel import gettext as _

from appeals.auth.models import User
from appeals.auth.permissions import can, users_who_may
from appeals.core.errors import DomainError, ErrorKind
from appeals.core.extensions import db
from appeals.core.parsing import ParseError, parse_datetime, parse_id
from appeals.core.text import clean_name
from appeals.core.timeutil import local_now, local_today
from appeals.reference.models import Category, Office, Settlement
from appeals.register.models import (
    APPEAL_LANGUAGES,
    APPEAL_TYPES,
    APPLICANT_KINDS,
    CHANNELS,
    SUMMARY_MAX,
    TEXT_MAX,
)
from appeals.register.rules import RuleViolation, check_iin, check_phone
from appeals.schedules.models import Host, ReceptionSession

if TYPE_CHECKING:
    from appeals.register.models import Appeal

NAME_MAX = 200
ADDRESS_MAX = 300
# A clock on a clerk's computer may run a little ahead of the server's.
FUTURE_TOLERANCE = timedelta(minutes=10)
EARLIEST_RECEIPT = datetime(2000, 1, 1)


class AppealError(DomainError):
    """A register rule was broken; `field` names the form field (or import column) to show it on.

    A refusal on the `status` field is about the appeal's state (closed, a move the workflow does
    not allow, changed meanwhile): a conflict.
    """

    def __init__(self, message: object = None, field: str | None = None, errors: Mapping[str, object] | None = None,
                 kind: ErrorKind | None = None) -> None:
        if kind is None and field == "status" and not errors:
            kind = "conflict"
        super().__init__(message, field, errors, kind)


class AppealValidationError(AppealError):
    """Several fields are wrong at once: {field: [translated message, ...]}."""

    def __init__(self, errors: Mapping[str, object]) -> None:
        super().__init__(errors=errors)


class ImportValidationError(AppealError):
    """Rows of an import file that cannot be registered: [(row number, column, message)]."""

    def __init__(self, row_errors: list[tuple[int, str, object]], message: object = None) -> None:
        self.row_errors = row_errors
        super().__init__(message or _("The file has %(n)d errors; nothing was imported.", n=len(row_errors)), "file")


def validate_iin(value: str | None) -> str:
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


def normalize_phone(value: str | None) -> str:
    """The phone in E.164 (+77011234567), or AppealError on the `phone` field."""
    try:
        return check_phone(value)
    except RuleViolation as exc:
        if exc.code == "phone_format":
            message = _("Enter a phone number, for example +7 701 123 45 67.")
        else:
            message = _("This is not a valid phone number.")
        raise AppealError(message, "phone") from exc


def text_value(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value).strip()


def int_or_none(value: object) -> int | Literal[False] | None:
    """The id chosen in `value`: None when none was, False when it cannot be an id (core.parsing.parse_id)."""
    try:
        return parse_id(value)
    except ParseError:
        return False


def _active_states(**references: tuple[Any, int | None]) -> dict[str, bool | None]:
    """{name: True (active), False (retired) or None (no such row)} for each name=(model, id)."""
    asked = tuple((name, model) for name, (model, ident) in references.items() if ident)
    states: dict[str, bool | None] = dict.fromkeys(references)
    if asked:
        params = {f"{name}_id": references[name][1] for name, _model in asked}
        states.update(db.session.execute(_states_statement(asked), params).one()._asdict())
    return states


@functools.cache
def _states_statement(asked: tuple[tuple[str, Any], ...]) -> sa.Select:
    # Built once per process and set of names: each registration only binds the ids.
    return sa.select(*(sa.select(model.is_active).where(model.id == sa.bindparam(f"{name}_id")).scalar_subquery().label(name)
                       for name, model in asked))


def _resolve_office(data: Mapping[str, Any]) -> Office | None:
    office = data.get("office")
    if isinstance(office, Office):
        return office
    if data.get("office_id"):
        return db.session.get(Office, int_or_none(data["office_id"]) or 0)
    code = data.get("office_code") or (office if isinstance(office, str) else None)
    if code:
        return db.session.scalar(sa.select(Office).where(Office.code == str(code).strip().upper()))
    return None


def clean_appeal_data(data: Mapping[str, Any], actor: User | None, existing: Appeal | None = None) -> dict[str, Any]:
    """Check every field and return model values; AppealValidationError lists all problems at once."""
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: object) -> None:
        errors.setdefault(field, []).append(str(message))

    values: dict[str, Any] = {}
    if existing is None:
        office = _resolve_office(data)
        sent = data.get("office_id") or data.get("office_code") or data.get("office")
        if office is None and sent and not isinstance(sent, Office):
            fail("office", _("Office %(value)s does not exist.", value=sent))
        elif office is None:
            fail("office", _("Choose the office that registers the appeal."))
        elif not office.is_active:
            fail("office", _("Office %(value)s is closed.", value=office.code))
        elif actor is not None and not can(actor, "appeal.create", office):
            fail("office", _("You cannot register appeals for this office."))
    else:
        office = existing.office
    values["office_id"] = office.id if office is not None else None

    try:
        received_at = parse_datetime(data.get("received_at"), "received_at")
    except ParseError as exc:
        received_at = None
        fail("received_at", exc.message)
    else:
        if received_at is None:
            fail("received_at", _("Enter the date and time the appeal was received."))
        elif received_at > local_now() + FUTURE_TOLERANCE:
            fail("received_at", _("The date received cannot be in the future."))
        elif received_at < EARLIEST_RECEIPT:
            fail("received_at", _("The date received is too far in the past."))
    values["received_at"] = received_at

    channel = text_value(data, "channel")
    if channel not in CHANNELS:
        fail("channel", _("Choose how the appeal was received."))
    elif channel == "online" and actor is not None and existing is None:
        # "Online" is what the citizen's own form (/appeal) records, with the consent and the code behind it.
        fail("channel", _("Appeals sent online are registered by the citizen's form; choose how this one came."))
    values["channel"] = channel

    session_id = int_or_none(data.get("session_id"))
    host_id = int_or_none(data.get("host_id"))
    values["session_id"] = None
    values["host_id"] = None
    if channel == "session":
        session = db.session.get(ReceptionSession, session_id) if session_id else None
        if session is None and session_id:
            fail("session_id", _("Reception session %(value)s does not exist.", value=session_id))
        elif session is None:
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
            fail("host_id", _("Host %(value)s does not exist.", value=data.get("host_id")) if host_id
                 else _("Choose a host from the list."))
        else:
            values["host_id"] = host_id

    kind = text_value(data, "applicant_kind") or "individual"
    if kind not in APPLICANT_KINDS:
        fail("applicant_kind", _("Choose who the applicant is."))
    values["applicant_kind"] = kind
    name = clean_name(text_value(data, "applicant_name"))
    iin = text_value(data, "iin")
    phone = text_value(data, "phone")
    address = text_value(data, "address")
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

    signatories = int_or_none(data.get("signatories"))
    if kind == "collective":
        if not signatories or signatories < 2:
            fail("signatories", _("A collective appeal has at least two signatories."))
        elif signatories > 100000:
            fail("signatories", _("The number of signatories is too large."))
    else:
        signatories = None
    values["signatories"] = signatories if signatories else None

    settlement_id = int_or_none(data.get("settlement_id"))
    category_id = int_or_none(data.get("category_id"))
    # Whether each chosen row exists and is active, in one round trip for both.
    active = _active_states(settlement=(Settlement, settlement_id), category=(Category, category_id))
    if not active["settlement"]:
        if settlement_id and active["settlement"] is None:
            fail("settlement_id", _("Settlement %(value)s does not exist.", value=settlement_id))
        elif settlement_id:
            fail("settlement_id", _("Settlement %(value)s is no longer in use.", value=settlement_id))
        elif kind != "anonymous":
            fail("settlement_id", _("Choose the settlement from the list."))
        settlement_id = None
    values["settlement_id"] = settlement_id

    appeal_type = text_value(data, "appeal_type")
    if appeal_type not in APPEAL_TYPES:
        fail("appeal_type", _("Choose the type of appeal."))
    values["appeal_type"] = appeal_type

    # The language the applicant is written to (notices, the answer letter); Kazakh unless told.
    language = text_value(data, "language") or APPEAL_LANGUAGES[0]
    if language not in APPEAL_LANGUAGES:
        fail("language", _("Choose the language the applicant is written to."))
    values["language"] = language

    # A category retired since the appeal was registered may stay on it.
    keeps_retired_category = existing is not None and existing.category_id == category_id
    if category_id and active["category"] is None:
        fail("category_id", _("Category %(value)s does not exist.", value=category_id))
    elif category_id and active["category"] is False and not keeps_retired_category:
        fail("category_id", _("Category %(value)s is no longer in use.", value=category_id))
    elif not category_id:
        fail("category_id", _("Choose the category from the list."))
    values["category_id"] = category_id if active["category"] is not None else None

    summary = " ".join(text_value(data, "summary").split())
    if not summary:
        fail("summary", _("Write a short summary of the appeal."))
    elif len(summary) > SUMMARY_MAX:
        fail("summary", _("At most %(n)d characters.", n=SUMMARY_MAX))
    values["summary"] = summary
    text = text_value(data, "text")
    if len(text) > TEXT_MAX:
        fail("text", _("At most %(n)d characters.", n=TEXT_MAX))
    values["text"] = text

    responsible_id = int_or_none(data.get("responsible_id"))
    if responsible_id:
        responsible = db.session.get(User, responsible_id) if responsible_id is not False else None
        if responsible is None:
            fail("responsible_id", _("User %(value)s does not exist.", value=responsible_id))
        elif not may_be_responsible(responsible, office):
            fail("responsible_id", _("User %(value)s cannot be responsible for this office's appeals.",
                                     value=responsible_id))
    values["responsible_id"] = responsible_id or None

    if errors:
        raise AppealValidationError(errors)
    return values


def may_be_responsible(user: User, office: Office | None) -> bool:
    if not user.is_active:
        return False
    return can(user, "appeal.responsible", office)


def responsible_choices(office: Office | None) -> list[User]:
    users = db.session.scalars(
        users_who_may("appeal.responsible").order_by(User.full_name, User.username)
    ).all()
    return [user for user in users if may_be_responsible(user, office)]
