"""A coordinator approves a week of receptions, registers proposals as mandates and prints the list."""
import re
from datetime import date, timedelta

from tests.e2e.conftest import pdf_text, server_today


def test_coordinator_approves_a_week_of_draft_sessions(page):
    page.login("coordinator")
    today = server_today()
    # The drafts prepared by the offices, in list form, to find the week they are in.
    page.goto(f"/schedule/calendar?view=list&status=draft&from={today}&to={today + timedelta(days=90)}")
    checkboxes = page.locator("input[type=checkbox][name=ids]")
    assert checkboxes.count() > 0, "the demo has draft sessions to approve"
    first_row = checkboxes.first.locator("xpath=ancestor::tr").inner_text()
    day, month, year = re.search(r"(\d{2})\.(\d{2})\.(\d{4})", first_row).groups()
    week_of = date(int(year), int(month), int(day))

    page.goto(f"/schedule/calendar?view=week&date={week_of}")
    bar = page.locator("form.approve-bar")
    drafts = int(re.search(r"\d+", bar.locator("span").inner_text()).group(0))
    assert drafts >= 1
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    with page.expect_navigation():
        bar.locator("button[type=submit]").click()
    assert dialogs and str(drafts) in dialogs[0], "the bulk approval asks for confirmation"
    assert page.locator(".flash-success").count() == 1
    # The same week has no drafts left; the public schedule now shows these receptions.
    page.goto(f"/schedule/calendar?view=week&date={week_of}")
    assert page.locator("form.approve-bar").count() == 0


MANDATE_NUMBER = re.compile(r"\b[A-ZА-ЯӘҒҚҢӨҰҮҺІ]+-\d+-\d{4}\b")


def _printed_mandates(page, live_server, directive_url):
    """Open the directive, open its print menu, take the Kazakh PDF: the mandate numbers on it."""
    page.goto(directive_url)
    menu = page.locator("details.print-menu").first
    menu.locator("summary").click()
    link = menu.locator("a[lang=kk]").first
    assert link.is_visible()
    href = link.get_attribute("href")
    response = page.context.request.get(live_server.url + href, max_redirects=0)
    if response.status == 302:
        # A long list is prepared in the background: the job page shows the link when it is ready.
        page.goto(href)
        assert "/reports/jobs/" in page.url
        download = page.locator("a[data-job-download]:not(.is-hidden)")
        download.wait_for(state="visible", timeout=60000)
        response = page.context.request.get(live_server.url + download.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body())
    assert "АМАНАТ" in text.upper()
    return set(MANDATE_NUMBER.findall(text))


def test_coordinator_flags_appeals_under_the_directive_and_prints_the_mandate_list(page, live_server):
    page.login("coordinator")
    page.goto("/directives")
    page.locator("main table a").first.click()
    page.wait_for_load_state()
    directive_url = page.url
    directive_id = re.search(r"/directives/(\d+)", directive_url).group(1)
    printed_before = _printed_mandates(page, live_server, directive_url)
    assert printed_before, "the demo directive already has mandates"

    page.goto(f"/directives/{directive_id}/candidates")
    boxes = page.locator("input[type=checkbox][name=appeal_id]")
    assert boxes.count() >= 2, page.inner_text("main")[:800]
    numbers = []
    for i in range(2):
        box = boxes.nth(i)
        box.check()
        numbers.append(re.search(r"[A-Z]{3}-\d{4}-\d{5}", box.get_attribute("aria-label")).group(0))
    with page.expect_navigation():
        page.locator("form button.primary[type=submit]").click()
    # Step two: review (one mandate per appeal by default), then confirm.
    review = page.inner_text("main")
    assert all(number in review for number in numbers)
    with page.expect_navigation():
        page.locator("form.card button.primary[type=submit]").click()
    flash = page.locator(".flash-success")
    assert flash.count() == 1, page.inner_text("main")[:800]
    assert flash.inner_text().startswith("2")

    # The printed list has exactly the two new mandates more.
    printed_after = _printed_mandates(page, live_server, directive_url)
    assert len(printed_after - printed_before) == 2, sorted(printed_after - printed_before)
    assert printed_before <= printed_after


def _keyboard_options(page, selector, limit=200):
    """ArrowDown from the top of a select: the values a keyboard user can reach, in order."""
    page.focus(selector)
    page.keyboard.press("Home")
    values = []
    for _ in range(limit):
        page.keyboard.press("ArrowDown")
        value = page.eval_on_selector(selector, "s => s.value")
        if values and value == values[-1]:
            return values
        values.append(value)
    raise AssertionError(f"{selector} has more than {limit} options")


def test_coordinator_narrows_the_register_to_a_district_and_one_of_its_settlements(page):
    page.login("coordinator")
    page.goto("/appeals")
    page.focus("#district")
    page.keyboard.press("ArrowDown")
    district = page.eval_on_selector("#district", "s => s.value")
    assert district
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "settlement"
    # Only the chosen district's settlements can be reached from the keyboard.
    reachable = _keyboard_options(page, "#settlement")
    own = page.eval_on_selector_all(f"#settlement option[data-district='{district}']", "os => os.map(o => o.value)")
    assert own and reachable == own
    settlement = own[-1]
    with page.expect_navigation():
        page.locator("form.filters button[type=submit]").click()
    assert f"district={district}" in page.url and f"settlement={settlement}" in page.url
    assert page.eval_on_selector("#district", "s => s.value") == district
    assert page.eval_on_selector("#settlement", "s => s.value") == settlement
    settlement_name = page.eval_on_selector("#settlement", "s => s.selectedOptions[0].text")
    rows = page.locator(".register-table tbody tr td:nth-child(4)").all_inner_texts()
    assert rows and all(name == settlement_name for name in rows), rows
    # Another district: the settlement of the first one no longer applies and is cleared.
    page.focus("#district")
    page.keyboard.press("ArrowDown")
    assert page.eval_on_selector("#district", "s => s.value") not in ("", district)
    assert page.eval_on_selector("#settlement", "s => s.value") == ""
