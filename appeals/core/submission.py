"""One-time submission tokens for the web forms that create something.

Each such form carries a random token (`SubmitOnceForm.submission_token`). `create_once()` stores
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
from dataclasses import dataclass
from typing import Callable, Optional

from flask import flash, redirect, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField

from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.idempotency import add_key_in_transaction, find_key

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
KEY_PREFIX = "form:"


def new_token() -> str:
    return secrets.token_urlsafe(24)


class SubmitOnceForm(FlaskForm):
    """A form whose submit creates something: a second submit of the same page creates nothing."""

    submission_token = HiddenField(default=new_token)


@dataclass
class Created:
    """What a form's submit led to: where to send the user, and the thing created (for the replay's message)."""

    location: str
    object_url: str = ""
    object_label: str = ""
    message: str = ""  # the success message of the first submit (not stored)
    replayed: bool = False


def create_once(form: FlaskForm, user, create: Callable[[], Created]) -> Created:
    """Run `create` (which calls the service) once per submission token.

    Returns what `create` returned, or, for a repeated submit, what the first submit returned
    with `replayed` set. Errors raised by `create` (a service's field errors) pass through and
    leave the token unused.
    """
    token = getattr(getattr(form, "submission_token", None), "data", None) or ""
    if not TOKEN_PATTERN.match(token) or user is None or getattr(user, "id", None) is None:
        return create()
    key = KEY_PREFIX + token
    user_id = user.id
    try:
        with write_transaction():
            earlier = _replay(user_id, key)
            if earlier is not None:
                return earlier
            entry = add_key_in_transaction(user_id, key, "POST", request.path, _form_name(form))
            created = create()
            entry.response_status = 303
            entry.response_body = json.dumps({"location": created.location, "object_url": created.object_url,
                                              "object_label": created.object_label})
            db.session.flush()
        return created
    except IntegrityError:
        # The other submit of this form committed first (PostgreSQL); everything here was undone.
        earlier = _replay(user_id, key)
        if earlier is None:
            raise
        return earlier


def _form_name(form: FlaskForm) -> str:
    return type(form).__name__[:64]


def _replay(user_id: int, key: str) -> Optional[Created]:
    entry = find_key(user_id, key)
    if entry is None or not entry.response_body:
        return None
    stored = json.loads(entry.response_body)
    return Created(location=stored["location"], object_url=stored.get("object_url", ""),
                   object_label=stored.get("object_label", ""), replayed=True)


def finish(created: Created):
    """Flash the outcome and redirect: the success message, or for a repeated submit a note
    that nothing was created twice, with a link to what the first submit created."""
    if created.replayed:
        if created.object_url:
            link = Markup('<a href="%s">%s</a>') % (created.object_url, created.object_label or created.object_url)
            flash(Markup(_("This form had already been sent and was saved once: %(link)s. Nothing was created twice.",
                           link=link)), "info")
        else:
            flash(_("This form had already been sent and was saved once. Nothing was created twice."), "info")
    elif created.message:
        flash(created.message, "success")
    return redirect(created.location)
