"""Browser-facing defences: CSRF, sessions, security headers, redirects, no inline script or style."""
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSWORD

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@pytest.fixture
def csrf_on(app):
    """Flask-WTF checks the token on every POST while this fixture is active (TestConfig turns it off)."""
    before = app.config["WTF_CSRF_ENABLED"]
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        yield app
    finally:
        app.config["WTF_CSRF_ENABLED"] = before


def _token(page_html):
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page_html)
    assert match, "the form has no CSRF token"
    return match.group(1)


def test_login_without_csrf_token_is_400_and_logs_nobody_in(csrf_on, client, users):
    response = client.post("/login?lang=ru", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400
    assert "Форма устарела" in response.get_data(as_text=True) or "form" in response.get_data(as_text=True).lower()
    assert client.get("/").status_code == 302


def test_login_with_csrf_token_works(csrf_on, client, users):
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_wrong_csrf_token_is_400(csrf_on, client, users):
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400


def test_logged_in_post_without_csrf_writes_nothing(app, client, users, login, reference):
    from appeals.auth.models import User
    from appeals.core.extensions import db

    login(users.admin)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/admin/users/new", data={"username": "planted", "role": "admin", "password": "Str0ng-pass-word"})
        logout = client.post("/logout")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert logout.status_code == 400  # a forged logout link from another site does nothing either
    assert db.session.query(User).filter_by(username="planted").count() == 0


def test_logged_in_appeal_post_without_csrf_registers_nothing(app, client, users, login, reference):
    from appeals.core.extensions import db
    from appeals.register.models import Appeal

    login(users.clerk)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/appeals/new", data={
            "office_id": reference.kordai.id, "channel": "phone", "applicant_name": "Forged",
            "summary": "forged", "appeal_type": "proposal", "category_id": reference.categories[0].id,
            "settlement_id": reference.settlements[0].id, "received_at": "2025-03-03T10:00",
        })
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert db.session.query(Appeal).count() == 0


def test_api_with_bearer_token_needs_no_csrf(csrf_on, client, users):
    from appeals.api import tokens

    _token_row, secret = tokens.create_token(users.coordinator, "csrf")
    response = client.post("/api/v1/hosts", json={"full_name": "Сейітов Ерлан", "kind": "deputy"},
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code in (200, 201), response.get_data(as_text=True)


def test_login_starts_a_fresh_session(client, users):
    """Session fixation: whatever a visitor's session held before login does not survive it."""
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
        session["locale"] = "ru"
    before = client.get_cookie("session").value
    client.post("/login", data={"username": "clerk", "password": PASSWORD})
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["locale"] == "ru"  # the language choice is kept on purpose
        assert session.get("_user_id")
    assert client.get_cookie("session").value != before


def test_password_change_ends_other_sessions(app, client, users):
    client.post("/login", data={"username": "clerk", "password": PASSWORD})
    stolen = client.get_cookie("session").value
    response = client.post("/account/password", data={"current_password": PASSWORD, "password": "An0ther-long-pass", "confirm": "An0ther-long-pass"})
    assert response.status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/").status_code == 302  # back to login: the old session no longer counts


def test_deactivated_account_is_logged_out(app, client, users):
    from appeals.auth import services

    client.post("/login", data={"username": "clerk", "password": PASSWORD})
    assert client.get("/").status_code == 200
    clerk = users.clerk
    services.update_user(clerk, role=clerk.role, office_codes=[o.code for o in clerk.offices], full_name=clerk.full_name,
                         email=clerk.email, locale=clerk.locale, is_active=False, actor=users.admin)
    assert client.get("/").status_code == 302


def test_session_cookie_flags(client, users):
    response = client.post("/login", data={"username": "clerk", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client, users, target):
    response = client.post("/login?next=" + target, data={"username": "clerk", "password": PASSWORD})
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    # Either a path on this site or this site's own address; "\\" would be read as "/" by browsers.
    assert parts.netloc in ("", "localhost") and not location.startswith("//") and "\\" not in location
    assert parts.scheme in ("", "http", "https")


def test_language_switch_never_redirects_off_site(client):
    response = client.post("/language/ru", data={"next": "https://evil.example/"})
    assert "evil.example" not in response.headers["Location"]


def _check_headers(response):
    csp = response.headers.get("Content-Security-Policy", "")
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert "'unsafe-inline'" not in directives.get("script-src", "") and "'unsafe-eval'" not in directives.get("script-src", "")
    assert directives.get("script-src") == "'self'"
    assert "'unsafe-inline'" not in directives.get("style-src", "")
    assert directives.get("frame-ancestors") == "'none'"
    assert directives.get("object-src") == "'none'"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("Referrer-Policy")


def test_security_headers_on_pages_errors_api_and_files(app, client, users, login):
    for path in ("/login", "/no-such-page", "/static/css/app.css", "/api/v1/me", "/schedule"):
        _check_headers(client.get(path))
    login(users.clerk)
    for path in ("/", "/appeals", "/admin/users"):
        response = client.get(path)
        _check_headers(response)
        assert "no-store" in response.headers.get("Cache-Control", "")


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"""(href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.I)


def inline_code_problems(html):
    """What the CSP would block in a page: inline scripts, style attributes, on* handlers, javascript: URLs."""
    problems = []
    for name, pattern in (("inline <script>", INLINE_SCRIPT), ("style attribute", STYLE_ATTRIBUTE),
                          ("event handler attribute", EVENT_HANDLER), ("javascript: URL", JS_URL)):
        problems += [f"{name}: {m.group(0)[:120]}" for m in pattern.finditer(html)]
    return problems


def test_no_template_has_inline_script_style_or_handlers():
    found = []
    for template in TEMPLATES.rglob("*.html"):
        if "pdf" in template.relative_to(TEMPLATES).parts:
            continue  # PDF templates are rendered by WeasyPrint, never by a browser
        for problem in inline_code_problems(template.read_text()):
            found.append(f"{template.relative_to(TEMPLATES)}: {problem}")
    assert not found, "\n".join(found)


def test_api_ignores_the_browser_session_cookie(client, users, login, reference):
    """No cross-site request through the API: a logged-in browser without a token gets 401."""
    login(users.clerk)
    assert client.get("/").status_code == 200
    response = client.post("/api/v1/appeals", json={"office_id": reference.kordai.id})
    assert response.status_code == 401
    assert client.get("/api/v1/me").status_code == 401
