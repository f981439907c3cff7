"""Endpoint modules of the API, one per domain; importing a module registers its routes."""
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


def page_of(select, query, **extra):
    """One page of `select` as the paged response body (size+1 rows fetched, no COUNT)."""
    page = paginate(select, {"page": query.page, "size": query.size}, max_size=200)
    return {"items": page.items, "page": page.number, "size": page.size, "has_next": page.has_next, **extra}
