"""Booking a reception in a browser: the office opens slots; a citizen on a 390×844 phone books a time,
types the code from the local SMS gateway, cancels, books again; the clerk's day marks the arrival
and registers the appeal pre-filled from the booking."""
import sqlalchemy as sa

from tests.e2e.conftest import server_today

PHONE_SIZE = {"width": 390, "height": 844}


def _session_at_kordai(live_server):
    engine = sa.create_engine(live_server.env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text(
                "SELECT s.id, s.date, o.id FROM reception_sessions s JOIN offices o ON o.id = s.office_id "
                "WHERE o.code = 'KRD' AND s.status = 'approved' AND s.date > :today ORDER BY s.date, s.id LIMIT 1"),
                {"today": server_today()}).one()
    finally:
        engine.dispose()
    return row


def _fits_the_phone(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_SIZE["width"], f"{page.url} is {width}px wide on a 390px phone"


def _book(page, live_server, session_id, office_id, phone, name):
    page.goto(f"/schedule?office={office_id}")
    link = page.locator(f'a[href="/schedule/{session_id}/book"]')
    if link.count():
        _fits_the_phone(page)
        with page.expect_navigation():
            link.first.click()
    else:  # the session lies beyond the schedule's first window
        page.goto(f"/schedule/{session_id}/book")
    _fits_the_phone(page)
    before = len(live_server.sms.texts_to(phone))
    page.fill("#name", name)
    page.fill("#phone", phone)
    page.fill("#topic", "Ауылдағы жолды жөндеу")
    with page.expect_navigation():
        page.locator("main form button.primary").click()
    assert "/booking/" in page.url, page.inner_text("main")
    assert page.locator("[data-booking-status=pending]").count() == 1
    code = live_server.sms.wait_for_code("+7" + phone.replace(" ", "")[-10:], after=before)
    page.fill("#code", code)
    with page.expect_navigation():
        page.locator("main form button.primary").click()
    assert page.locator("[data-booking-status=confirmed]").count() == 1, page.inner_text("main")
    _fits_the_phone(page)
    return page.url


def test_a_citizen_books_on_a_phone_and_the_clerk_receives_them(browser, page, live_server):
    session_id, day, office_id = _session_at_kordai(live_server)
    # The coordinator opens booking on the session: 30-minute slots, one citizen each.
    page.login("coordinator")
    page.goto(f"/schedule/sessions/{session_id}")
    page.fill("#slot_minutes", "30")
    page.fill("#slot_capacity", "1")
    with page.expect_navigation():
        page.locator("#booking form.inline-form button[type=submit]").click()
    assert "брондалды" in page.inner_text("#booking")

    citizen_context = browser.new_context(locale="kk-KZ", viewport=PHONE_SIZE, is_mobile=True, has_touch=True)
    citizen_context.set_default_timeout(15000)
    citizen = citizen_context.new_page()
    errors = []
    citizen.on("pageerror", lambda error: errors.append(str(error)))
    citizen.on("console", lambda message: message.type == "error" and errors.append(message.text))
    citizen.on("dialog", lambda dialog: dialog.accept())

    class Phone:
        def __getattr__(self, name):
            return getattr(citizen, name)

        def goto(self, path):
            return citizen.goto(live_server.url + path)

    phone_page = Phone()
    link = _book(phone_page, live_server, session_id, office_id, "8 701 555 12 34", "Тестова Айгерім")
    # Cancel through the link: the time is free again.
    with citizen.expect_navigation():
        citizen.locator("form[action$='/cancel'] button").click()
    assert citizen.locator("[data-booking-status=cancelled]").count() == 1
    citizen.screenshot(path="/tmp/booking-cancelled-phone.png", full_page=True)
    # Books again, for real this time.
    _book(phone_page, live_server, session_id, office_id, "8 701 555 98 76", "Серікова Меруерт")
    citizen.screenshot(path="/tmp/booking-confirmed-phone.png", full_page=True)
    assert link != citizen.url
    citizen_context.close()
    assert errors == []

    # The clerk of the office on the day: the booking, arrived, and the appeal registered from it.
    page.context.clear_cookies()
    page.login("clerk.kordai")
    page.goto(f"/bookings?date={day}")
    row = page.locator("tr[data-booking]", has_text="Серікова Меруерт")
    assert row.count() == 1 and "+77015559876" in row.inner_text()
    # The cancelled booking is listed as cancelled, without actions.
    cancelled = page.locator("tr[data-booking]", has_text="Тестова Айгерім")
    assert cancelled.count() == 1 and cancelled.locator("button").count() == 0
    with page.expect_navigation():
        row.locator("button", has_text="Келді").click()
    row = page.locator("tr[data-booking]", has_text="Серікова Меруерт")
    assert "Келді" in row.locator(".badge").inner_text()
    page.screenshot(path="/tmp/booking-clerk-day.png", full_page=True)
    with page.expect_navigation():
        row.locator("a", has_text="Өтінішті тіркеу").click()
    assert page.locator("#applicant_name").input_value() == "Серікова Меруерт"
    assert page.locator("#summary").input_value() == "Ауылдағы жолды жөндеу"
