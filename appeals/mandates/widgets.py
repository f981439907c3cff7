"""Blocks this domain contributes to other pages (see appeals.core.hooks)."""
import sqlalchemy as sa

from appeals.auth.permissions import can, scope_directives, scope_mandates
from appeals.core import hooks
from appeals.core.extensions import db

OVERDUE_SHOWN = 8


def _coordinator_mandates_context(user):
    """Coordinators follow fulfilment: overdue mandates first, then how far each open directive got."""
    if not can(user, "mandate.edit"):
        return None
    from appeals.core.timeutil import local_today
    from appeals.mandates import queries
    from appeals.mandates.models import Directive, Mandate

    overdue_query = scope_mandates(sa.select(Mandate), user).where(queries.overdue_condition())
    overdue = db.session.scalars(overdue_query.order_by(Mandate.target_date, Mandate.id).limit(OVERDUE_SHOWN)).all()
    overdue_count = db.session.scalar(sa.select(sa.func.count()).select_from(overdue_query.subquery()))
    today = local_today()
    directives = db.session.scalars(
        scope_directives(sa.select(Directive), user).where(sa.or_(Directive.valid_to.is_(None), Directive.valid_to >= today))
        .order_by(Directive.issued_on.desc()).limit(5)
    ).all()
    return {
        "overdue": overdue,
        "overdue_count": overdue_count or 0,
        "directives": [(d, queries.directive_progress(d, user)) for d in directives],
    }


@hooks.home_blocks.connect
def coordinator_mandates(user):
    context = _coordinator_mandates_context(user)
    return None if context is None else hooks.Block("mandates/_home.html", context, order=40)


@hooks.appeal_page_blocks.connect
def appeal_mandates_box(appeal, user):
    """The appeal page's box of the mandates the appeal is registered under."""
    if not can(user, "mandate.view"):
        return None
    from appeals.mandates import queries

    return hooks.Block("mandates/_appeal_mandates.html", {"mandate_links": queries.mandates_for_appeal(appeal)})
