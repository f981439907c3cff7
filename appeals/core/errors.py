"""The domain error every service raises, friendly error pages in the user's language, and JSON
problem details for the API."""
import logging
from collections.abc import Iterable, Mapping
from typing import Literal, Optional

from flask import jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

ErrorKind = Literal["invalid", "conflict", "forbidden", "not_found"]
# How each kind reaches an API client (api/problems.py maps by this, never by class name).
KIND_STATUS: dict[str, int] = {"invalid": 422, "conflict": 409, "forbidden": 403, "not_found": 404}


class DomainError(ValueError):
    """A rule of the domain was broken: what every service raises for bad input or a refused action.

    `message`: translated, for the user; `errors`: {field: [translated messages]} (every problem at
    once; empty when the rule is about the object as a whole); `kind`: invalid (a field is wrong),
    conflict (the object's state does not allow it: already closed, changed meanwhile, booked),
    forbidden (the actor may not), not_found. `field` is the first field, for one-field callers.
    Pages map it to form errors (appeals.core.web.attach_errors), the API to problem+json.
    """

    kind: ErrorKind = "invalid"

    def __init__(self, message: object = None, field: Optional[str] = None,
                 errors: Optional[Mapping[str, object]] = None, kind: Optional[ErrorKind] = None):
        normalised: dict[str, list[str]] = {}
        for name, messages in (errors or {}).items():
            texts = [messages] if isinstance(messages, str) or not isinstance(messages, Iterable) else messages
            normalised.setdefault(name, []).extend(str(text) for text in texts)
        if field and message is not None and field not in normalised:
            normalised = {field: [str(message)], **normalised}
        if message is None:
            message = next(iter(normalised.values()))[0] if normalised else ""
        super().__init__(str(message))
        self.message = str(message)
        self.errors = normalised
        self.field = field or next(iter(normalised), None)
        if kind is not None:
            self.kind = kind
        elif not normalised and type(self).kind == "invalid":
            # Not about any field: about the object's state (already held, already closed...).
            self.kind = "conflict"

    def problem_errors(self) -> list[dict[str, str]]:
        """The field errors as the API's problem+json lists them."""
        return [{"field": name or "", "location": "body", "message": text}
                for name, texts in self.errors.items() for text in texts]

TITLES = {
    400: lambda: _("Bad request"),
    403: lambda: _("Access denied"),
    404: lambda: _("Page not found"),
    405: lambda: _("Method not allowed"),
    413: lambda: _("The upload is too large"),
    429: lambda: _("Too many requests"),
    500: lambda: _("Something went wrong"),
    503: lambda: _("Service temporarily unavailable"),
}
MESSAGES = {
    400: lambda: _("The request could not be understood. Please go back and try again."),
    403: lambda: _("You do not have permission to open this page."),
    404: lambda: _("The page you asked for does not exist or has been moved."),
    405: lambda: _("This action is not available here."),
    413: lambda: _("The file or form you sent is larger than allowed."),
    429: lambda: _("Too many requests. Please wait a moment and try again."),
    500: lambda: _("An unexpected error occurred. It has been logged; please try again."),
    503: lambda: _("The database is not reachable right now. Nothing was saved; please try again in a minute."),
}


def wants_problem_json():
    return request.path.startswith("/api/")


def problem(status, detail=None, title=None, errors=None, headers=None):
    body = {
        "type": "about:blank",
        "title": title or TITLES.get(status, lambda: str(status))(),
        "status": status,
        "detail": detail or MESSAGES.get(status, lambda: "")(),
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def render_error(status, detail=None):
    from appeals.core.extensions import db

    if status >= 500:
        # The session may hold a broken connection; a fresh one is needed for the next request.
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the database may be the thing that is down
            db.session.close()
        # After the rollback the user's row would be re-read to draw the menu, from a database that
        # may be down: draw the error page as for a visitor, in the language already chosen.
        from flask import g

        from appeals.core.extensions import login_manager

        try:
            get_locale()  # the user's own language, if their row can still be read
        except Exception:  # noqa: BLE001
            db.session.close()
        g._login_user = login_manager.anonymous_user()
    if wants_problem_json():
        return problem(status, detail)
    title = TITLES.get(status, lambda: _("Error"))()
    message = detail or MESSAGES.get(status, lambda: "")()
    return render_template("errors/error.html", status=status, title=title, message=message), status


def init_app(app):
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_error(400, _("The form has expired or was not sent from this site. Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code is None or error.code < 400:
            return error
        detail = None
        if wants_problem_json() and error.description and error.code not in (404, 500):
            detail = error.description
        return render_error(error.code, detail)

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def database_unavailable(error):
        if isinstance(error, DBAPIError) and not isinstance(error, OperationalError) and not error.connection_invalidated:
            log.exception("database error")
            return render_error(500)
        log.warning("database unavailable: %s", error.__class__.__name__)
        return render_error(503)

    @app.errorhandler(Exception)
    def unexpected(error):
        log.exception("unhandled error")
        return render_error(500)
