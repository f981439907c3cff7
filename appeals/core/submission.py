"""One-time submission tokens for the web forms that create something.

Each such form carries a random token (`{{ submission_field() }}` in its template). `create_once()` stores
it in the idempotency table (appeals/core/idempotency.py, shared with the API) inside the same
write transaction as what the form creates, so the unique constraint decides between two
submits of one form even when they reach different workers at the same moment:

- SQLite serialises writers, so the second submit finds the first one's row and replays it;
- on PostgreSQL the second INSERT waits on the unique index until the first commits and then
  fails; the second request rolls back everything it did (its appeal number included, so the
  numbers stay gapless) and replays the first result.

A submit rejected by validation rolls the token back with everything else: the form comes back
with the same token and the corrected submit goes through. A form posted without a token (a
script, an old page) is processed as before, like an API request without Idempotency-Key.
"""
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from flask import flash, redirect, request
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.idempotency import (
    add_key_in_transaction,
    complete_key,
    find_key,
    release_key,
    reserve_key,
    seal_response,
    stored_response,
)

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
KEY_PREFIX = "form:"


def new_token() -> str:
    return secrets.token_urlsafe(24)


FIELD = "submission_token"


def posted_token() -> str:
    token = request.form.get(FIELD, "") if request.method == "POST" else ""
    return token if TOKEN_PATTERN.match(token) else ""


def submission_field() -> Markup:
    """The hidden field for a template. A form shown again after an error keeps its token: its
    first submit created nothing, so the corrected one may."""
    return Markup('<input type="hidden" name="%s" value="%s">') % (FIELD, posted_token() or new_token())


@dataclass
class Created:
    """What a form's submit led to: where to send the user, and the thing created (for the replay's message)."""

    location: str
    object_url: str = ""
    object_label: str = ""
    message: str = ""  # the success message of the first submit (not stored)
    replayed: bool = False


def create_once(user, create: Callable[[], Created], own_transaction: bool = False) -> Created:
    """Run `create` (which calls the service) once per submission token.

    Returns what `create` returned, or, for a repeated submit, what the first submit returned
    with `replayed` set. Errors raised by `create` (a service's field errors) pass through and
    leave the token unused.

    own_transaction: for work that commits on its own (an import job writing its progress): the
    token is reserved first and completed afterwards, like the API's keys; a submit arriving
    while the first is still running is told so and sent back to the form's page.
    """
    token = posted_token()
    if not token or user is None or getattr(user, "id", None) is None:
        return create()
    key = KEY_PREFIX + token
    user_id = user.id
    if own_transaction:
        return _create_reserved(user_id, key, create)
    try:
        with write_transaction():
            earlier = _replay(user_id, key)
            if earlier is not None:
                return earlier
            entry = add_key_in_transaction(user_id, key, "POST", request.path, (request.endpoint or "")[:64])
            created = create()
            entry.response_status = 303
            entry.response_body = seal_response(key, _stored(created))
            db.session.flush()
        return created
    except IntegrityError:
        # The other submit of this form committed first (PostgreSQL); everything here was undone.
        earlier = _replay(user_id, key)
        if earlier is None:
            raise
        return earlier


def _stored(created: Created) -> str:
    return json.dumps({"location": created.location, "object_url": created.object_url,
                       "object_label": created.object_label})


def _from_entry(entry, key: str) -> Created | None:
    body = stored_response(key, entry) if entry is not None else None
    if body is None:
        return None
    stored = json.loads(body)
    return Created(location=stored["location"], object_url=stored.get("object_url", ""),
                   object_label=stored.get("object_label", ""), replayed=True)


def _replay(user_id: int, key: str) -> Created | None:
    return _from_entry(find_key(user_id, key), key)


def _still_running() -> Created:
    return Created(location=request.path, replayed=True, message="running")


def _create_reserved(user_id: int, key: str, create: Callable[[], Created]) -> Created:
    try:
        earlier = reserve_key(user_id, key, "POST", request.path, (request.endpoint or "")[:64])
    except IntegrityError:
        return _replay(user_id, key) or _still_running()
    if earlier is not None:
        return _from_entry(earlier, key) or _still_running()
    try:
        created = create()
    except BaseException:
        release_key(user_id, key)
        raise
    complete_key(user_id, key, 303, _stored(created))
    return created


def finish(created: Created):
    """Flash the outcome and redirect: the success message, or for a repeated submit a note
    that nothing was created twice, with a link to what the first submit created."""
    if created.replayed:
        if created.message == "running":
            flash(_("This form was sent twice; the first submit is still being processed."), "info")
        elif created.object_url:
            link = Markup('<a href="%s">%s</a>') % (created.object_url, created.object_label or created.object_url)
            flash(Markup(_("This form had already been sent and was saved once: %(link)s. Nothing was created twice.",
                           link=link)), "info")
        else:
            flash(_("This form had already been sent and was saved once. Nothing was created twice."), "info")
    elif created.message:
        flash(created.message, "success")
    return redirect(created.location)
