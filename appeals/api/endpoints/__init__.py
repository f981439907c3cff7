"""Endpoint modules of the API, one per domain; importing a module registers its routes."""
import sqlalchemy as sa
from flask import g
from flask_babel import gettext as _

from appeals.api.problems import ApiError
from appeals.auth.permissions import can
from appeals.core.database import write_transaction
from appeals.core.errors import DomainError
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


MAX_BULK = 500


class _RowsRefused(Exception):
    pass


def all_or_nothing(items, one):
    """`one(item)` for every item in one transaction, with each row's errors collected (fields named
    items.<index>.<field>); if any row fails, nothing is kept: 422 (409 when a row conflicts with the
    state of the data, a colliding session say) listing every row's errors."""
    results, errors, conflict = [], [], False
    try:
        with write_transaction():
            for index, item in enumerate(items):
                try:
                    results.append(one(item))
                except DomainError as exc:
                    conflict = conflict or exc.kind == "conflict"
                    rows = exc.problem_errors() or [{"field": "", "location": "body", "message": exc.message}]
                    errors.extend({**error, "field": ".".join(p for p in ("items", str(index), error["field"]) if p)}
                                  for error in rows)
                except ApiError as exc:
                    errors.append({"field": f"items.{index}", "location": "body",
                                   "message": exc.detail or _("You may not do this.")})
            if errors:
                raise _RowsRefused
    except _RowsRefused:
        failed = len({error["field"].split(".")[1] for error in errors})
        raise ApiError(409 if conflict else 422, _("%(failed)d of %(total)d rows cannot be saved; nothing was saved.",
                                                   failed=failed, total=len(items)), errors=errors) from None
    return results
