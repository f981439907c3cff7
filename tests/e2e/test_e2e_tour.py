"""Every role walks through every page of its menu and the first item of each list: no JavaScript
error, no failed request, no broken page, and every page keeps to the security policy."""
import pytest

from tests.e2e import checkers

ROLES = ("admin", "central", "coordinator", "clerk", "host", "viewer")


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_page_works_for(role, page):
    csp_violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and csp_violations.append(m.text))
    failed_requests = []
    # ERR_ABORTED: the next navigation cancelled a load still in flight (the favicon), not a failure.
    page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "") and failed_requests.append(f"{r.url}: {r.failure}"))
    page.on("response", lambda r: r.status >= 500 and failed_requests.append(f"{r.url}: {r.status}"))
    page.login(role)
    menu = [a.get_attribute("href") for a in page.locator("nav.mainnav a").all()]
    assert menu, f"{role} has a menu"
    visited = set()
    for href in menu:
        response = page.goto(href)
        assert response.status == 200, f"{role}: {href} → {response.status}"
        assert page.locator("h1").count() >= 1, f"{role}: {href} has no heading"
        visited.add(href)
        # The first record of the page's list, if it has one: the detail pages are where data shows.
        detail = page.locator("main table tbody tr a[href^='/']").first
        if detail.count():
            target = detail.get_attribute("href")
            if target not in visited and not target.endswith(".pdf"):
                response = page.goto(target)
                assert response.status == 200, f"{role}: {target} → {response.status}"
                visited.add(target)
    assert not csp_violations, csp_violations
    assert not failed_requests, failed_requests


@pytest.mark.parametrize("role", ROLES)
def test_every_menu_page_fits_a_phone_for(role, page):
    """At 390×844 no page of the role's menu, the start page included, is wider than the screen."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.login(role)
    menu = ["/"] + [a.get_attribute("href") for a in page.locator("nav.mainnav a").all()]
    too_wide = {}
    for href in menu:
        assert page.goto(href).status == 200, href
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            too_wide[href] = width
    assert not too_wide, f"{role}: pages wider than a 390 px phone: {too_wide}"


def test_the_bell_is_readable_on_the_top_bar(page):
    """The notifications link stands out from the blue bar it sits on (it was blue on blue)."""
    page.login("clerk")
    text, bar = page.evaluate("""() => [getComputedStyle(document.querySelector('a.bell')).color,
                                         getComputedStyle(document.querySelector('.topbar')).backgroundColor]""")
    assert text == "rgb(255, 255, 255)" and bar != text, (text, bar)


@pytest.mark.parametrize("role", ROLES)
def test_the_header_is_short_on_a_phone_for(role, page):
    """At 390×844 the top bar takes at most 120 px (it took 316), and every menu item stays reachable."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.login(role)
    header = page.evaluate("document.querySelector('.topbar').getBoundingClientRect().height")
    assert header <= 120, f"{role}: header {header} px"
    links = page.locator("nav.mainnav a")
    links.first.focus()
    for _ in range(links.count() - 1):
        page.keyboard.press("Tab")  # the menu row scrolls sideways to the focused item
    assert page.evaluate("document.activeElement.closest('nav.mainnav') !== null")
    box = links.nth(links.count() - 1).bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box


def test_register_filters_fold_on_a_phone_and_open_on_a_desk(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.login("clerk")
    page.goto("/appeals")
    fold = page.locator("details.filters-fold")
    assert fold.get_attribute("open") is None and not page.locator("#q").is_visible()
    first_row = page.locator("table.register-table tbody tr").first.bounding_box()
    assert first_row["y"] < 844, "results start on the first screen"
    page.locator("summary.filters-summary").focus()
    page.keyboard.press("Enter")
    page.fill("#q", "су")
    with page.expect_navigation():
        page.press("#q", "Enter")
    assert page.locator("details.filters-fold").get_attribute("open") is not None, "a filter in use keeps them open"
    assert page.locator("#q").input_value() == "су"
    # On a desk the filters are simply there, without the fold's summary.
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/appeals")
    assert page.locator("#q").is_visible() and not page.locator("summary.filters-summary").is_visible()


PHONE, DESK = {"width": 390, "height": 844}, {"width": 1366, "height": 900}
PUBLIC_PAGES = ("/login", "/schedule", "/appeal", "/track", "/public/mandates")


def _tour_pages(page):
    """The start page, every menu page and the first record of each list, as the tour walks them."""
    pages = ["/"] + [a.get_attribute("href") for a in page.locator("nav.mainnav a").all()]
    for href in list(pages):
        page.goto(href)
        detail = page.locator("main table tbody tr a[href^='/'], main li a[href^='/appeals/'], main li a[href^='/mandates/']").first
        if detail.count():
            target = detail.get_attribute("href")
            if target not in pages and not target.endswith((".pdf", ".ics", ".csv", ".xlsx")):
                pages.append(target)
    return pages


def _check_pages(page, pages):
    violations, sources = [], {}
    for href in pages:
        for size in (DESK, PHONE):
            page.set_viewport_size(size)
            response = page.goto(href)
            if response is None or response.status != 200:
                continue
            violations += checkers.axe_violations(page, f"{href} at {size['width']}px:")
            overflow = page.evaluate("document.documentElement.scrollWidth")
            if size is PHONE and overflow > PHONE["width"]:
                violations.append(f"{href} at 390px: {overflow} px wide")
        sources[href] = page.context.request.get(page.base_url + href).text()
    return violations, sources


@pytest.mark.parametrize("role", ROLES + ("anonymous",))
def test_every_tour_page_passes_axe_and_the_html_validator_for(role, page):
    """Issue 14, item 20: at 1366×900 and 390×844, no axe-core violation of impact serious or critical
    and no horizontal overflow; the server's HTML of each page has no validator error."""
    checkers.require_checkers()
    checkers.install_axe(page.context)
    if role == "anonymous":
        pages = [href for href in PUBLIC_PAGES if page.context.request.get(page.base_url + href).status == 200]
    else:
        page.login(role)
        pages = _tour_pages(page)
    assert len(pages) >= 3, pages
    violations, sources = _check_pages(page, pages)
    assert not violations, "\n".join(violations)
    errors = checkers.vnu_errors(sources)
    assert not errors, "\n".join(f"{href}: {message}" for href, messages in errors.items() for message in messages)
