"""Logging in and out as a person would: Kazakh by default, keyboard only."""
import re


def test_login_page_is_kazakh_and_rejects_a_wrong_password(page):
    response = page.goto("/login")
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "kk"
    assert page.locator("h1").inner_text() == "Qabyldau жүйесіне кіру"
    # The username field has focus: a clerk starts typing at once.
    page.wait_for_focus("#username")
    page.keyboard.type("clerk")
    page.keyboard.press("Tab")
    page.keyboard.type("not-the-password")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "Пайдаланушы аты немесе құпиясөз қате." in page.locator("[role=alert]").inner_text()


def test_clerk_logs_in_with_the_keyboard_and_out_again(page):
    page.goto("/login")
    page.wait_for_focus("#username")
    page.keyboard.type("clerk")
    page.keyboard.press("Tab")
    page.keyboard.type("qabyldau-demo")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.rstrip("/") == page.base_url
    assert page.locator("h1").inner_text().startswith("Қош келдіңіз")
    page.locator(".usermenu summary").click()
    with page.expect_navigation():
        page.locator(".usermenu button[type=submit]").click()
    assert page.url.endswith("/login")
    # After logout a protected page sends back to the login form.
    page.goto("/")
    assert "/login" in page.url


def test_language_switch_keeps_the_page(page):
    page.login("viewer")
    with page.expect_navigation():
        page.locator("button.lang[lang=ru]").click()
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("h1").inner_text().startswith("Добро пожаловать")
    with page.expect_navigation():
        page.locator("button.lang[lang=en]").click()
    assert page.locator("h1").inner_text().startswith("Welcome")


def test_admin_opens_users_and_audit(page):
    page.login("admin")
    page.goto("/admin/users")
    rows = page.locator("table tbody tr")
    assert rows.count() >= 6
    assert page.locator("table", has_text="clerk.kordai").count() == 1
    page.goto("/admin/audit")
    assert page.locator("h1").count() == 1
    assert re.search(r"\d", page.locator("main").inner_text())
