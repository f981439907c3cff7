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
    cards = page.locator("li.session-card")
    assert cards.count() > 0
    text = page.inner_text("main")
    # Only what a citizen needs: no statuses, no drafts, no staff menu.
    assert "Жоба" not in text and "Draft" not in text
    assert page.locator("nav.mainnav").count() == 0

    # Choosing an office and pressing Show narrows the list (no select submits by itself).
    office = page.locator("#office option").nth(1)
    office_name = office.inner_text()
    page.select_option("#office", office.get_attribute("value"))
    with page.expect_navigation():
        page.locator("form.public-filters button[type=submit]").click()
    assert "office=" in page.url
    cards = page.locator("li.session-card")
    if cards.count():
        for i in range(cards.count()):
            assert office_name in cards.nth(i).inner_text()
    else:
        assert page.locator(".alert-info").count() == 1

    # The Russian version is one click away, and keeps the page.
    with page.expect_navigation():
        page.locator("button.lang[lang=ru]").click()
    assert page.url.split("?")[0].endswith("/schedule")
    assert page.locator("html").get_attribute("lang") == "ru"


def test_citizen_on_a_phone_filters_the_schedule_by_district_and_next_week(page):
    """390×844: cards, no sideways scrolling, the filters folded until asked for, keyboard only."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/schedule")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    fold = page.locator("details.filters-fold")
    assert fold.get_attribute("open") is None, "no filter in use: folded on a phone"
    assert not page.locator("#district").is_visible()
    header = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height")
    assert header <= 120, header
    # A citizen opens the filters from the keyboard and picks a district and next week.
    page.locator("summary.filters-summary").focus()
    page.keyboard.press("Enter")
    assert page.locator("#district").is_visible()
    district = page.locator("#district option").nth(3)
    page.select_option("#district", district.get_attribute("value"))
    page.select_option("#period", "next_week")
    assert not page.locator("#from").is_visible(), "the dates are asked only for a range"
    with page.expect_navigation():
        page.locator("form.public-filters button[type=submit]").click()
    assert "period=next_week" in page.url and "district=" in page.url
    assert page.locator("details.filters-fold").get_attribute("open") is not None, "filters in use stay open"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    cards = page.locator("li.session-card")
    for i in range(cards.count()):
        box = cards.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    # Choosing dates shows the two date fields.
    page.select_option("#period", "range")
    assert page.locator("#from").is_visible() and page.locator("#to").is_visible()


def test_keyboard_focus_shows_in_two_tones_and_in_high_contrast_mode(page):
    """The focus ring is dark against white and amber against the blue bar (WCAG 1.4.11's 3:1 either way),
    and an outline is kept for forced-colours modes, which drop box shadows."""
    page.goto("/track")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the first control of the top bar
    ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                         " return [s.boxShadow, s.outlineStyle, s.outlineWidth]; }")
    assert "rgb(29, 39, 51)" in ring[0] and "rgb(255, 191, 71)" in ring[0], ring
    assert ring[1] == "solid" and ring[2] == "2px", ring
