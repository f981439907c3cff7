"""What every page shares: security headers, template helpers, the language switcher and safe redirects."""
from collections.abc import Mapping
from typing import Any, Optional
from urllib.parse import urlsplit, urlunsplit

from flask import flash, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from appeals.core import labels
from appeals.core.errors import DomainError
from appeals.core.i18n import LANGUAGE_NAMES, current_language, fmt_date, fmt_datetime, fmt_number, fmt_percent
from appeals.core.submission import submission_field

# (endpoint, label, action that shows it, what it highlights: blueprints or endpoints). Entries
# whose endpoint the app does not have are left out, so the menu never links to a missing page.
DIRECTIVE_PAGES = ("mandates.list_directives", "mandates.new_directive", "mandates.edit_directive",
                   "mandates.directive_detail", "mandates.candidates")
MAIN_MENU = (
    ("register.list_appeals", _l("Register"), "appeal.view", ("register",)),
    ("register.new_appeal", _l("New appeal"), "appeal.create", ()),
    ("schedules.calendar", _l("Schedule"), "schedule.view", ("schedules",)),
    ("schedules.my_schedule", _l("My schedule"), "schedule.own", ()),
    ("bookings.day", _l("Bookings"), "booking.view", ("bookings",)),
    ("mandates.list_mandates", _l("Mandates"), "mandate.view", ("mandates",)),
    ("mandates.list_directives", _l("Directives"), "directive.view", DIRECTIVE_PAGES),
    ("reports.dashboard", _l("Statistics"), "stats.view", ("reports",)),
    ("reports.chain_reports", _l("Reports"), "report.chain", ("reports.chain_reports", "reports.chain_report")),
    ("admin.users", _l("Administration"), "admin.users", ("admin", "reference")),
)


def current_menu_entry(menu, endpoint: str | None, blueprint: str | None) -> str | None:
    """The one menu entry a page belongs to: its own entry first, then the entry that names the
    page, then the entry of its blueprint (the new-appeal page is not "Register")."""
    for wanted in (lambda e: e[0] == endpoint, lambda e: endpoint in e[3], lambda e: blueprint in e[3]):
        for entry in menu:
            if endpoint and wanted(entry):
                return entry[0]
    return None


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def private_page(response):
    """A citizen's page that carries their data (a receipt's code, a booking's signed link): never kept
    by a shared or the browser's cache, and its address never sent on as a referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def init_app(app):
    @app.before_request
    def keep_the_language_of_the_link():
        """A citizen who came by a link with ?lang=ru (a notice's, a poster's) keeps Russian on the next
        pages and forms, as with the switcher; their appeal and booking are then written to in it.
        Staff keep their account's language: their ?lang= is for one page or document."""
        wanted = request.args.get("lang")
        if (wanted in app.config["LANGUAGES"] and session.get("locale") != wanted
                and not request.path.startswith("/api/") and not current_user.is_authenticated):
            session["locale"] = wanted

    @app.before_request
    def refuse_nul_bytes():
        # U+0000 is never legitimate text, and PostgreSQL refuses to store it (a 500 otherwise).
        # The API validates its own input and answers 422 with the field.
        from flask import abort

        if request.path.startswith("/api/"):
            return
        for values in (request.args, request.form):
            for value in values.values():
                if "\x00" in value:
                    abort(400)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if current_user and getattr(current_user, "is_authenticated", False):
            # Pages with citizens' data must not linger in shared browser caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def template_helpers():
        menu = [entry for entry in MAIN_MENU if entry[0] in app.view_functions]
        return {
            "labels": labels,
            "languages": LANGUAGE_NAMES,
            "current_language": current_language(),
            "has_endpoint": lambda endpoint: endpoint in app.view_functions,
            "main_menu": menu,
            "current_menu": current_menu_entry(menu, request.endpoint, request.blueprint),
        }

    app.jinja_env.filters.update(
        date=fmt_date,
        datetime=fmt_datetime,
        number=fmt_number,
        percent=fmt_percent,
    )
    app.jinja_env.globals["url_with"] = _url_with
    app.jinja_env.globals["external_url"] = external_url
    app.jinja_env.globals["submission_field"] = submission_field
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def _url_with(**changes):
    """The current URL with some query arguments replaced (pagination, sorting, print links)."""
    from flask import url_for

    args = request.args.to_dict(flat=False)
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def external_url(endpoint: str, **values) -> str:
    """An absolute link to give out (calendar feeds, the API's address): PUBLIC_BASE_URL, the address
    users open the app at (as in notices), or when it is empty this request's host with
    PREFERRED_URL_SCHEME, so a link made behind a TLS proxy is https even when the proxy's headers
    are not trusted (TRUSTED_PROXY_HOPS unset)."""
    from flask import current_app, url_for

    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, _scheme=current_app.config.get("PREFERRED_URL_SCHEME") or "http",
                   **values)


def safe_redirect_target(target: Optional[str], default: Optional[str] = None) -> Optional[str]:
    """`target` (a next=, back= or the Referer) if it points into this site, else `default`.

    Every redirect whose target comes from the request goes through here: a relative path
    ("/appeals?page=2"), or an absolute URL on this very host, which is returned as its path. Anything
    else, "//evil.example", "/\\evil.example", "https://evil.example", "javascript:" or a
    control character, gives `default`.
    """
    if not target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target) or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc != request.host:
            return default
    path = parts.path or "/"
    if not path.startswith("/") or path.startswith("//"):
        return default
    return urlunsplit(("", "", path, parts.query, parts.fragment))


# --- Searches out of URLs ------------------------------------------------------------------------
# A register search by IIN, phone or name must not travel in the query string, where access logs,
# browser history and Referer headers keep it. The search form is posted; the server answers with a
# redirect whose URL carries the search sealed for that user (SEARCH_ARG), valid for
# SEARCH_TOKEN_SECONDS: pagination, export and print links keep working, and the term never
# appears in clear.
SEARCH_ARG = "search"
_SEARCH_PURPOSE = "list-search"


def search_token(q: str, user_id: int) -> str:
    from appeals.core.tokens import seal

    return seal(f"user:{user_id}", q, _SEARCH_PURPOSE)


def search_term(token: Optional[str], user_id: Optional[int]) -> Optional[str]:
    from flask import current_app

    from appeals.core.tokens import unseal

    if not token or user_id is None or len(token) > 2000:
        return None
    return unseal(f"user:{user_id}", token, _SEARCH_PURPOSE,
                  max_age=int(current_app.config.get("SEARCH_TOKEN_SECONDS", 8 * 3600)))


# Set by with_search_term when a link's sealed search no longer opens (expired, or another user's).
SEARCH_EXPIRED_ARG = "_search_expired"


def with_search_term(args, user_id: Optional[int]):
    """A copy of `args` (query-string arguments) in which a sealed search is back as `q`.

    A sealed search that does not open is not silently dropped (that would show or export the whole
    unfiltered list as if it were the search's result): `SEARCH_EXPIRED_ARG` is set instead, and the
    filter parser reports `search_expired_error()` on the search field."""
    from werkzeug.datastructures import MultiDict

    values = MultiDict(args)
    token = values.pop(SEARCH_ARG, None)
    values.pop(SEARCH_EXPIRED_ARG, None)
    term = search_term(token, user_id)
    if term:
        values["q"] = term
    elif token:
        values[SEARCH_EXPIRED_ARG] = "1"
    return values


def search_expired_error() -> dict[str, list[str]]:
    """The field error for a search link that no longer opens."""
    from flask_babel import gettext as _

    return {"q": [_("The search in this link has expired or was made by another user. Type the search again.")]}


def redirect_with_sealed_search(endpoint: str, form, user_id: int, **values):
    """The redirect answering a posted filter form: its fields as query arguments, `q` sealed."""
    from flask import redirect, url_for

    args = {key: form.getlist(key) for key in form if key not in ("csrf_token", "q", "page", SEARCH_ARG)}
    args = {key: value for key, value in args.items() if any(value)}
    q = " ".join((form.get("q") or "").split())
    if q:
        args[SEARCH_ARG] = search_token(q, user_id)
    return redirect(url_for(endpoint, **values, **args), code=303)


def attach_errors(form: Any, error: DomainError, field_map: Optional[Mapping[str, str]] = None,
                  fallback: Optional[str] = None, unplaced: str = "flash") -> None:
    """Show a DomainError on a WTForms form: each message on its field (`field_map` renames a service's
    field to the form's), the rest flashed or, with unplaced="form", in form.form_errors."""
    field_map = field_map or {}
    errors = error.errors or {fallback or "": [error.message]}
    for field, messages in errors.items():
        target = getattr(form, field_map.get(field, field), None) if field else None
        if target is not None and hasattr(target, "errors"):
            # WTForms keeps errors as a tuple until validate() has run on the field.
            target.errors = list(target.errors or []) + list(messages)
        elif unplaced == "form":
            form.form_errors.extend(messages)
        else:
            flash(" ".join(messages), "error")


def file_response(data: bytes, content_type: str, name: str, *, inline: bool = False):
    """A kept file (an attachment, an answer letter) as a download: the type it was stored with (read
    from its bytes), never sniffed, sandboxed if a browser shows it, never cached by a shared cache;
    the name in RFC 6266 form (Kazakh letters through filename*)."""
    import io

    from flask import send_file

    response = send_file(io.BytesIO(data), mimetype=content_type, download_name=name or "file",
                         as_attachment=not inline, max_age=0)
    # A PDF or picture opened in the browser runs no script of its own and reaches nothing of the site.
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
