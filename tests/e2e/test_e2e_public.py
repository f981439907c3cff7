"""A host opens "my schedule" and subscribes to it; a citizen opens the public schedule."""
import re


def test_host_opens_my_schedule_and_gets_a_calendar_link(page, live_server):
    page.login("host")
    with page.expect_navigation():
        page.locator("nav.mainnav a", has_text="Менің кестем").click()
    assert page.url.endswith("/schedule/my")
    assert page.locator("h1").inner_text() == "Менің кестем"
    main = page.inner_text("main")
    assert re.search(r"\d{2}\.\d{2}\.\d{4}", main), "the host sees dated receptions"
    assert "Құлыбеков Нұрлан Серікұлы" in main  # the demo host linked to this account
    # The host may not open other hosts' administration.
    page.goto("/schedule/hosts", expect_status=403)
    assert "Қолжетімділік жоқ" in page.inner_text("main")

    page.goto("/schedule/my")
    create = page.locator("form.actions button[value=regenerate]")
    with page.expect_navigation():
        create.click()
    feed_url = page.locator("input.feed-url").input_value()
    assert "/schedule/feed/" in feed_url and feed_url.endswith(".ics")
    feed = page.context.request.get(live_server.url + feed_url[feed_url.index("/schedule/feed/"):])
    assert feed.status == 200
    assert "text/calendar" in feed.headers["content-type"]
    body = feed.text()
    assert body.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in body


def test_citizen_opens_the_public_schedule_without_logging_in(page):
    page.goto("/login")
    with page.expect_navigation():
        page.locator("a", has_text="Қоғамдық қабылдау кестесі").click()
    assert page.url.endswith("/schedule")
    assert page.locator("html").get_attribute("lang") == "kk"
    rows = page.locator("table.public-table tbody tr")
    assert rows.count() > 0
    text = page.inner_text("main")
    # Only what a citizen needs: no statuses, no drafts, no staff menu.
    assert "Жоба" not in text and "Draft" not in text
    assert page.locator("nav.mainnav").count() == 0

    # Choosing an office narrows the list at once (the select submits itself).
    office = page.locator("#office option").nth(1)
    office_name = office.inner_text()
    with page.expect_navigation():
        page.select_option("#office", office.get_attribute("value"))
    assert "office=" in page.url
    rows = page.locator("table.public-table tbody tr")
    if rows.count():
        for i in range(rows.count()):
            assert office_name in rows.nth(i).inner_text()
    else:
        assert page.locator(".alert-info").count() == 1

    # The Russian version is one click away, and keeps the page.
    with page.expect_navigation():
        page.locator("button.lang[lang=ru]").click()
    assert page.url.split("?")[0].endswith("/schedule")
    assert page.locator("html").get_attribute("lang") == "ru"
