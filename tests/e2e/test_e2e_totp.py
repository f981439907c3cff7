"""Two-factor authentication as a person sets it up and uses it: QR page, first code, recovery
codes, then a login that asks for the code."""
import subprocess
import time

import pyotp

from tests.e2e.conftest import BIN, PROJECT_DIR

USERNAME, PASSWORD = "totp.e2e", "steppe-wind-over-taraz"


def _create_user(live_server):
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", "create-user", USERNAME, "--role", "coordinator",
         "--region", "ZHA"],
        cwd=PROJECT_DIR, env=live_server.env, input=PASSWORD + "\n", capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0 or "already taken" in result.stderr, result.stderr


def test_enrol_and_log_in_with_a_totp_code(page, live_server):
    _create_user(live_server)
    page.login(USERNAME, PASSWORD)
    page.goto("/account/totp?lang=en", expect_status=200)
    assert page.locator(".totp-qr svg").is_visible()
    secret = page.locator(".totp-secret").inner_text().strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    with page.expect_navigation():
        page.press("#code", "Enter")
    codes = page.locator(".recovery-codes li")
    assert codes.count() == 10
    assert "Two-factor authentication is on." in page.locator("[role=status]").first.inner_text()

    page.locator(".usermenu summary").click()
    with page.expect_navigation():
        page.locator(".usermenu button[type=submit]").click()
    page.goto("/login?lang=en")
    page.fill("#username", USERNAME)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.press("#password", "Enter")
    assert page.url.endswith("/login/totp")
    page.wait_for_focus("#code")
    # The next time step: the enrolment used the current one, and a code works only once.
    page.keyboard.type(pyotp.TOTP(secret).at(time.time() + 30))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.rstrip("/") == page.base_url
    assert page.locator(".usermenu summary").inner_text().startswith(USERNAME)
