"""Mandates in public, in a browser (issue 17, "done when"): a coordinator reviews and publishes a
mandate's public text and names its responsible person; a citizen on a 390×844 phone subscribes and
confirms from the mail that reached the local SMTP server; the responsible person posts 40 % with a
photo; the citizen's notice arrives and the public page shows the update and the photo."""
import re
import time

import sqlalchemy as sa

from tests.hostile_files import photo_with_gps

PHONE_SIZE = {"width": 390, "height": 844}


def _mandate(live_server):
    engine = sa.create_engine(live_server.env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT id, number FROM mandates WHERE status IN ('registered', 'in_progress') "
                "AND public_state = 'draft' ORDER BY id LIMIT 1")).one()
    finally:
        engine.dispose()


def _mail_to(live_server, address, count, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mails = [message for to, message in live_server.smtp.inbox.messages if address in to]
        if len(mails) >= count:
            return mails[count - 1]
        time.sleep(0.3)
    raise AssertionError(f"no mail {count} to {address}: {live_server.smtp.inbox.messages}")


def _link(live_server, message, pattern):
    text = message.get_body(("plain",)).get_content()
    found = re.search(r"https?://[^\s/]+(/public/mandates/" + pattern + r"[^\s]*)", text)
    assert found, text
    return live_server.url + found.group(1)


def _fits_the_phone(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_SIZE["width"], f"{page.url} is {width}px wide on a 390px phone"


def test_publish_subscribe_update_with_a_photo_and_the_citizen_is_told(browser, page, live_server, tmp_path):
    mandate_id, number = _mandate(live_server)
    address = "azamat.citizen@example.kz"

    # The coordinator names the responsible person and approves the public text.
    page.login("coordinator")
    page.goto(f"/mandates/{mandate_id}/edit")
    host = page.locator("#responsible_user_id option", has_text="(host)").first.get_attribute("value")
    page.select_option("#responsible_user_id", value=host)
    page.fill("#responsible", "Кордай ауданының әкімдігі")
    with page.expect_navigation():
        page.locator("main form button[type=submit], main form input[type=submit]").first.click()
    page.goto(f"/mandates/{mandate_id}/public")
    page.fill("#public_title", "Ауылдың көшелерін жарықтандыру")
    page.fill("#public_description", "Бағандар мен шамдар орнату, 2026 жыл")
    with page.expect_navigation():
        page.click("#publish")
    assert page.locator("#public-text .badge-ok").count() == 1, page.inner_text("main")
    page.screenshot(path=str(tmp_path / "coordinator-published.png"), full_page=True)

    # A citizen on a phone, no login: the public page, the subscription, the confirmation mail.
    context = browser.new_context(locale="kk-KZ", viewport=PHONE_SIZE, is_mobile=True, has_touch=True)
    context.set_default_timeout(15000)
    citizen = context.new_page()
    errors = []
    citizen.on("pageerror", lambda error: errors.append(str(error)))
    citizen.on("console", lambda message: message.type == "error" and errors.append(message.text))
    citizen.goto(live_server.url + "/public/mandates")
    _fits_the_phone(citizen)
    with citizen.expect_navigation():
        citizen.get_by_role("link", name="Ауылдың көшелерін жарықтандыру").click()
    assert number in citizen.inner_text("main") and "Кордай ауданының әкімдігі" in citizen.inner_text("main")
    _fits_the_phone(citizen)
    citizen.fill("#subscribe-email", address)
    with citizen.expect_navigation():
        citizen.locator("#subscribe button[type=submit]").click()
    assert citizen.locator(".flash-success").count() == 1
    confirmation = _mail_to(live_server, address, 1)
    citizen.goto(_link(live_server, confirmation, "subscription/"))
    with citizen.expect_navigation():
        citizen.locator("main form button[type=submit]").click()
    assert citizen.locator(".alert-success").count() == 1, citizen.inner_text("main")

    # The responsible person (the host, not a coordinator) posts 40 % with a photo.
    page.context.clear_cookies()
    page.login("host")
    page.goto(f"/mandates/{mandate_id}")
    photo = tmp_path / "IMG_0040.jpg"
    photo.write_bytes(photo_with_gps(size=(640, 480)))
    page.fill("#percent", "40")
    page.fill("#note", "Бағандар орнатылды, шамдар келесі аптада")
    page.set_input_files("#photos", str(photo))
    with page.expect_navigation():
        page.locator("form[action$='/progress'] button[type=submit], form[action$='/progress'] input[type=submit]").click()
    assert page.locator(".timeline .update-photos img").count() == 1, page.inner_text("main")

    # The citizen's notice arrives, with its one-click unsubscribe header; the public page shows it.
    notice = _mail_to(live_server, address, 2)
    assert number in notice["Subject"] and "40" in notice["Subject"]
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    citizen.goto(live_server.url + f"/public/mandates/{number}")
    main = citizen.inner_text("main")
    assert "Бағандар орнатылды" in main and "40" in main
    image = citizen.locator(".update-photos img").first
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    _fits_the_phone(citizen)
    citizen.screenshot(path=str(tmp_path / "citizen-public-mandate.png"), full_page=True)
    citizen.screenshot(path="/tmp/public-mandate-phone.png", full_page=True)
    # The Atom feed carries the update.
    feed = citizen.request.get(live_server.url + f"/public/mandates/feed?mandate={number}")
    assert feed.ok and "Бағандар орнатылды" in feed.text()
    context.close()
    assert errors == []
