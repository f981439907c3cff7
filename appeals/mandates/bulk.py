"""Work on many mandates at once (issue 14, item 10): a bulk edit of the responsible person, the
target date and the status of selected mandates, and merging two mandates that are the same.

Both are one transaction: every selected mandate changes, or none does (each refusal is named).
Every change is audited per mandate, through the mandate lifecycle's own rules.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import gettext as _

from appeals.auth.permissions import can
from appeals.core import audit
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.mandates.directives import MandateError
from appeals.mandates.lifecycle import apply_mandate_update
from appeals.mandates.models import Mandate, MandateAppeal

if TYPE_CHECKING:
    from appeals.auth.models import User

BULK_FIELDS = ("responsible_user_id", "target_date", "status")
MAX_BULK = 500


def bulk_update_mandates(ids: Iterable[Any], data: Mapping[str, Any], actor: User) -> list[Mandate]:
    """Set the fields given in `data` (responsible_user_id, target_date, status; an empty value leaves a
    field as it is) on every selected mandate. All or nothing: the mandates that refuse are named."""
    try:
        wanted = sorted({int(i) for i in ids or ()})
    except (TypeError, ValueError):
        raise MandateError(_("Select at least one mandate."), "mandate_ids") from None
    if not wanted:
        raise MandateError(_("Select at least one mandate."), "mandate_ids")
    if len(wanted) > MAX_BULK:
        raise MandateError(_("At most %(n)d mandates can be changed at once.", n=MAX_BULK), "mandate_ids")
    changes = {field: data[field] for field in BULK_FIELDS if data.get(field) not in (None, "")}
    if not changes:
        raise MandateError(_("Choose what to change: the responsible person, the target date or the status."),
                           "status")
    with write_transaction():
        mandates = db.session.scalars(
            sa.select(Mandate).where(Mandate.id.in_(wanted)).order_by(Mandate.id).with_for_update()).all()
        mandates = [m for m in mandates if can(actor, "mandate.edit", m) and can(actor, "mandate.view", m)]
        if len(mandates) != len(wanted):
            raise MandateError(_("Some selected mandates no longer exist."), "mandate_ids")
        refused = []
        for mandate in mandates:
            try:
                apply_mandate_update(mandate, changes, actor)
            except MandateError as exc:
                refused.append(f"{mandate.number}: {exc.message}")
        if refused:
            raise MandateError(_("Nothing was changed. %(count)d mandate(s) refuse the change: %(list)s",
                                 count=len(refused), list="; ".join(refused[:20])), next(iter(changes)))
    return list(mandates)


def merge_mandates(first: Mandate, second: Mandate, actor: User) -> Mandate:
    """Merge two mandates of one directive that turn out to be the same: the one with the lower number
    stays and takes the other's appeals; the other is withdrawn as "merged into …", its number kept
    (never given again: numbers come from the directive's counter) and its page pointing to the first."""
    if first.id == second.id:
        raise MandateError(_("Choose another mandate to merge with."), "merge_into")
    with write_transaction():
        pair = db.session.scalars(sa.select(Mandate).where(Mandate.id.in_([first.id, second.id]))
                                  .order_by(Mandate.id).with_for_update()).all()
        if len(pair) != 2 or not all(can(actor, "mandate.edit", m) and can(actor, "mandate.view", m) for m in pair):
            raise MandateError(_("The mandate to merge with does not exist."), "merge_into")
        keeper, merged = sorted(pair, key=lambda m: (len(m.number), m.number))
        if keeper.directive_id != merged.directive_id:
            raise MandateError(_("Only mandates of the same directive can be merged."), "merge_into")
        if "withdrawn" in (keeper.status, merged.status):
            raise MandateError(_("A withdrawn or merged mandate cannot be merged."), "merge_into")
        links = db.session.scalars(sa.select(MandateAppeal).where(
            MandateAppeal.mandate_id == merged.id, MandateAppeal.removed_at.is_(None))).all()
        for link in links:
            link.mandate_id = keeper.id
        moved = [link.appeal.number for link in links]
        before = merged.status
        merged.status = "withdrawn"
        merged.merged_into_id = keeper.id
        merged.withdrawn_reason = _("Merged into %(number)s", number=keeper.number)
        if merged.progress_percent > keeper.progress_percent:
            keeper.progress_percent = merged.progress_percent
        db.session.flush()
        audit.record("mandate.merged", keeper, user=actor,
                     changes={"merged_from": [None, merged.number], "appeals": [None, moved]})
        audit.record("mandate.merged_into", merged, user=actor,
                     changes={"status": [before, "withdrawn"], "merged_into": [None, keeper.number]})
    return keeper
