"""A mandate's public text: pre-filled without personal data, reviewed, published by a coordinator.

The public pages and public documents read `public_title` and `public_description` of published
mandates only; a mandate's own title and description (copies of its appeal's summary and letter)
and its appeals never reach them. The public text starts as a draft made from the appeal's summary
with IIN-, phone-, e-mail- and address-like fragments and the applicants' names and addresses
hidden (core.privacy.redact_for_public); publishing refuses a text that still holds any of them.
An edit of a published text takes it back to draft: the public sees only what a coordinator approved.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _

from appeals.core import audit
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.privacy import public_text_problems, redact_for_public
from appeals.core.timeutil import utcnow
from appeals.mandates.directives import MandateError, text_field
from appeals.mandates.models import Mandate

if TYPE_CHECKING:
    from appeals.auth.models import User
    from appeals.register.models import Appeal

PUBLIC_FIELDS = ("public_title", "public_description")
TITLE_MAX = 500
DESCRIPTION_MAX = 5000


def applicant_terms(appeals: Iterable[Appeal], strict: bool = False) -> list[str]:
    """What of the applicants may not appear in public: IINs, phones, names and addresses.

    For a draft (`strict` False) every part of a name and every piece of an address is hidden:
    hiding too much costs the reviewer a word. The check before publishing (`strict`) looks for
    what identifies a person (the whole name, the surname, an address piece with a house number),
    not for a given name or a village alone: "Азамат" is also the word for citizen, and a mandate
    is often about the applicant's village.
    """
    terms: list[str] = []
    for appeal in appeals:
        parts = (appeal.applicant_name or "").split()
        pieces = [piece.strip() for piece in (appeal.address or "").replace(";", ",").split(",")]
        terms += [" ".join(parts), appeal.address or "", appeal.iin or "", appeal.phone or ""]
        if strict:
            terms += parts[:1] + [" ".join(parts[:2])] + [p for p in pieces if any(c.isdigit() for c in p)]
        else:
            terms += parts + pieces
    return [term for term in dict.fromkeys(t.strip() for t in terms) if len(term) >= 3]


def _mandate_terms(mandate: Mandate) -> list[str]:
    return applicant_terms((link.appeal for link in mandate.links), strict=True)


def draft_public_title(appeal: Appeal) -> str:
    """The public title a new mandate starts with: its appeal's summary without personal data."""
    return redact_for_public(appeal.summary, applicant_terms([appeal]))[:TITLE_MAX]


def _problem_message(problems: list[str]) -> str:
    if "hidden" in problems and len(problems) == 1:
        return _("Rewrite the places marked *** (hidden personal data) before publishing.")
    return _("The public text must not contain an IIN, a phone number, an e-mail address, a home address "
             "or an applicant's name. Rewrite it before publishing.")


def _clean(data: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    clean = {
        "public_title": text_field(data.get("public_title"), TITLE_MAX, "public_title", errors, required=True),
        "public_description": text_field(data.get("public_description"), DESCRIPTION_MAX, "public_description", errors),
    }
    if errors:
        field = next(iter(errors))
        raise MandateError(errors[field], field, errors)
    return clean


def _check_publishable(mandate: Mandate) -> None:
    if mandate.status == "withdrawn":
        raise MandateError(_("A withdrawn mandate cannot be published."), "status")
    terms = _mandate_terms(mandate)
    errors = {}
    for field in PUBLIC_FIELDS:
        problems = public_text_problems(getattr(mandate, field), terms)
        if problems:
            errors[field] = _problem_message(problems)
    if not mandate.public_title.strip():
        errors["public_title"] = _("This field is required.")
    if errors:
        field = next(iter(errors))
        raise MandateError(errors[field], field, errors)


def save_public_text(mandate: Mandate, data: Mapping[str, Any], actor: User | None, publish: bool = False) -> Mandate:
    """Save the public title and description; `publish` also approves them (the caller checked
    "mandate.publish"). A change to a published text returns it to draft unless it is published again."""
    clean = _clean(data)
    with write_transaction():
        mandate = db.session.get(Mandate, mandate.id)
        if mandate.status == "withdrawn":
            raise MandateError(_("A withdrawn mandate cannot be changed."), "status")
        before = audit.snapshot(mandate, (*PUBLIC_FIELDS, "public_state"))
        for field, value in clean.items():
            setattr(mandate, field, value)
        if publish:
            _check_publishable(mandate)
            if mandate.public_state != "published" or audit.diff(before, audit.snapshot(mandate, PUBLIC_FIELDS)):
                mandate.public_state = "published"
                mandate.public_approved_by_id = getattr(actor, "id", None)
                mandate.public_approved_at = utcnow()
        elif audit.diff(before, audit.snapshot(mandate, PUBLIC_FIELDS)):
            mandate.public_state = "draft"
        changes = audit.diff(before, audit.snapshot(mandate, (*PUBLIC_FIELDS, "public_state")))
        if changes:
            action = "mandate.published" if mandate.public_state == "published" else "mandate.public_text"
            audit.record(action, mandate, changes=changes, user=actor)
        return mandate


def unpublish(mandate: Mandate, actor: User | None) -> Mandate:
    """Take a mandate off the public pages (its text stays, as a draft)."""
    with write_transaction():
        mandate = db.session.get(Mandate, mandate.id)
        if mandate.public_state == "published":
            mandate.public_state = "draft"
            audit.record("mandate.unpublished", mandate, changes={"public_state": ["published", "draft"]}, user=actor)
        return mandate
