"""Endpoint modules of the API, one per domain; importing a module registers its routes."""
import sqlalchemy as sa
from flask import g

from appeals.api.problems import ApiError
from appeals.auth.permissions import can
from appeals.core.extensions import db
from appeals.core.pagination import paginate


def current():
    """The user the request's token belongs to."""
    return g.api_user


def get_or_404(model, object_id, options=()):
    obj = db.session.get(model, object_id, options=options)
    if obj is None:
        raise ApiError(404)
    return obj


def require(action, obj=None):
    if not can(current(), action, obj):
        raise ApiError(403)


def count_of(select) -> tuple[int, bool]:
    """(rows of `select`, exact?): counted up to EXACT_COUNT_LIMIT, beyond which only "at least" is known."""
    from appeals.api.schemas.base import EXACT_COUNT_LIMIT

    limited = select.order_by(None).limit(EXACT_COUNT_LIMIT + 1).subquery()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(limited))
    return (count, True) if count <= EXACT_COUNT_LIMIT else (EXACT_COUNT_LIMIT, False)


def page_of(select, query, count_select=None, **extra):
    """One page of `select` as the paged response body, with the total (of `count_select`: the same
    rows without eager loads, when `select` has them)."""
    page = paginate(select, {"page": query.page, "size": query.size}, max_size=200)
    if page.number == 1 and not page.has_next:
        total, exact = len(page.items), True
    else:
        total, exact = count_of(count_select if count_select is not None else select)
    return {"items": page.items, "page": page.number, "size": page.size, "has_next": page.has_next,
            "total": total, "total_exact": exact, **extra}
