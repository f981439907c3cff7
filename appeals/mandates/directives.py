"""Directives of the central office: their fields, validation and changes, and whether one is open.

The input helpers here (date, whole number, id list, text) are shared with the mandate's own forms.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from appeals.auth.permissions import can, directive_region_for
from appeals.core import audit, parsing
from appeals.core.database import write_transaction
from appeals.core.errors import DomainError, ErrorKind
from appeals.core.extensions import db
from appeals.core.timeutil import local_today
from appeals.mandates.models import (
    NUMBERING_SCOPES,
    Directive,
    Mandate,
)
from appeals.mandates.search import split_keywords
from appeals.reference.models import Category, District, Settlement
from appeals.register.models import APPEAL_TYPES

if TYPE_CHECKING:
    from appeals.auth.models import User

# Criteria names, in the order the interface lists them.
CRITERIA = ("appeal_types", "categories", "place", "keywords", "min_signatories", "received_window")
DIRECTIVE_FIELDS = (
    "issuer", "number", "issued_on", "title", "text", "valid_from", "valid_to", "numbering", "number_prefix",
    "appeal_types", "category_ids", "settlement_ids", "district_ids", "keywords", "min_signatories",
    "received_from", "received_to", "target_count",
)


class DirectiveError(DomainError):
    """Bad directive input; `field` is the first bad field, `errors` maps every bad field to its message."""

    def __init__(self, message: object = None, field: str | None = None, errors: dict[str, str] | None = None,
                 kind: ErrorKind | None = None) -> None:
        super().__init__(message, field, errors, kind)


class MandateError(DomainError):
    """A mandate rule was broken; `field` names the form field to show it on.

    `details`: {field: message} when several fields are wrong, or the numbers of the appeals that
    block a flagging (then, as for a directive out of force or a withdrawn mandate, a conflict).
    """

    STATE_FIELDS = ("directive", "status", "note", "merge_into")

    def __init__(self, message: object, field: str | None = None, details: Any = None) -> None:
        self.details = details or []
        errors = details if isinstance(details, dict) else None
        blocked = field == "appeal_ids" and bool(details) and errors is None
        state = field in self.STATE_FIELDS and errors is None
        super().__init__(message, field, errors, kind="conflict" if state or blocked else None)


def date_field(value: object, field: str, errors: dict[str, str]) -> Optional[date]:
    """core.parsing's date rule; a bad date goes into `errors` and gives None."""
    try:
        return parsing.parse_date(value, field)
    except parsing.ParseError as exc:
        errors[field] = exc.message
        return None


def int_field(value: object, field: str, errors: dict[str, str]) -> Optional[int]:
    try:
        return parsing.parse_int(value, field)
    except parsing.ParseError as exc:
        errors[field] = exc.message
        return None


def id_list_field(value: object, field: str, errors: dict[str, str], model: Any) -> list[int]:
    if not value:
        return []
    try:
        ids = parsing.parse_ids(value if isinstance(value, (list, tuple, set)) else [value], field)
    except parsing.ParseError:
        errors[field] = _("Unknown value selected.")
        return []
    found = set(db.session.scalars(sa.select(model.id).where(model.id.in_(ids))))
    if found != set(ids):
        missing = ", ".join(str(i) for i in sorted(set(ids) - found))
        errors[field] = _("No such id: %(ids)s.", ids=missing)
    return ids


def text_field(value: Any, limit: int, field: str, errors: dict[str, str], required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        errors[field] = _("This field is required.")
    elif len(text) > limit:
        errors[field] = _("At most %(n)d characters.", n=limit)
    return text


def _clean_directive(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate every field at once so the form shows all mistakes together."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {
        "issuer": text_field(data.get("issuer") or _("Central office"), 300, "issuer", errors),
        "number": text_field(data.get("number"), 50, "number", errors, required=True),
        "title": text_field(data.get("title"), 500, "title", errors, required=True),
        "text": text_field(data.get("text"), 20000, "text", errors),
        "issued_on": date_field(data.get("issued_on"), "issued_on", errors),
        "valid_from": date_field(data.get("valid_from"), "valid_from", errors),
        "valid_to": date_field(data.get("valid_to"), "valid_to", errors),
        "received_from": date_field(data.get("received_from"), "received_from", errors),
        "received_to": date_field(data.get("received_to"), "received_to", errors),
        "min_signatories": int_field(data.get("min_signatories"), "min_signatories", errors),
        "target_count": int_field(data.get("target_count"), "target_count", errors),
        "numbering": data.get("numbering") or "directive",
        "number_prefix": text_field(data.get("number_prefix") or "A", 20, "number_prefix", errors),
        "appeal_types": sorted(set(data.get("appeal_types") or [])),
        "category_ids": id_list_field(data.get("category_ids"), "category_ids", errors, Category),
        "settlement_ids": id_list_field(data.get("settlement_ids"), "settlement_ids", errors, Settlement),
        "district_ids": id_list_field(data.get("district_ids"), "district_ids", errors, District),
        "keywords": ", ".join(split_keywords(data.get("keywords"))),
    }
    if "issued_on" not in errors and clean["issued_on"] is None:
        errors["issued_on"] = _("This field is required.")
    if clean["numbering"] not in NUMBERING_SCOPES:
        errors["numbering"] = _("Unknown value selected.")
    if any(t not in APPEAL_TYPES for t in clean["appeal_types"]):
        errors["appeal_types"] = _("Unknown value selected.")
    prefix = clean["number_prefix"]
    if prefix and not all(c.isalnum() or c in "-." for c in prefix):
        errors["number_prefix"] = _("Use letters, digits, dots and hyphens only.")
    if len(clean["keywords"]) > 1000:
        errors["keywords"] = _("At most %(n)d characters.", n=1000)
    if clean["valid_from"] and clean["valid_to"] and clean["valid_to"] < clean["valid_from"]:
        errors["valid_to"] = _("The end of the validity period is before its start.")
    if clean["received_from"] and clean["received_to"] and clean["received_to"] < clean["received_from"]:
        errors["received_to"] = _("The end of the date window is before its start.")
    if clean["min_signatories"] is not None and clean["min_signatories"] < 1:
        errors["min_signatories"] = _("The minimum number of signatories must be at least 1.")
    if clean["target_count"] is not None and clean["target_count"] < 0:
        errors["target_count"] = _("The target count cannot be negative.")
    if errors:
        field = next(iter(errors))
        raise DirectiveError(errors[field], field, errors)
    return clean


def create_directive(data: Mapping[str, Any], actor: User | None) -> Directive:
    clean = _clean_directive(data)
    with write_transaction():
        # The central office's directives go to every region; a region's coordinators issue their region's.
        directive = Directive(**clean, created_by_id=getattr(actor, "id", None), region_id=directive_region_for(actor))
        db.session.add(directive)
        db.session.flush()
        audit.record("directive.create", directive, changes=audit.snapshot(directive, DIRECTIVE_FIELDS), user=actor)
    return directive


def update_directive(directive: Directive, data: Mapping[str, Any], actor: User | None) -> Directive:
    clean = _clean_directive({**audit.snapshot(directive, DIRECTIVE_FIELDS), **data})
    with write_transaction():
        directive = db.session.get(Directive, directive.id)
        if actor is not None and not can(actor, "directive.manage", directive):
            raise DirectiveError(_("This directive is another level's: only its issuers change it."), "issuer",
                                 kind="forbidden")
        has_mandates = db.session.scalar(sa.select(sa.func.count(Mandate.id)).where(Mandate.directive_id == directive.id))
        if has_mandates and (clean["numbering"], clean["number_prefix"]) != (directive.numbering, directive.number_prefix):
            # Numbers already given must stay meaningful: the scheme is fixed once a mandate exists.
            raise DirectiveError(_("The numbering cannot change once mandates are registered."), "numbering",
                                 kind="conflict")
        before = audit.snapshot(directive, DIRECTIVE_FIELDS)
        for field, value in clean.items():
            setattr(directive, field, value)
        changes = audit.diff(before, audit.snapshot(directive, DIRECTIVE_FIELDS))
        if changes:
            audit.record("directive.update", directive, changes=changes, user=actor)
    return directive


def directive_is_open(directive: Directive, today: date | None = None) -> bool:
    today = today or local_today()
    return directive.valid_to is None or directive.valid_to >= today
