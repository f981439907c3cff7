"""Reports up the chain and the mandates' bulk edit, as the coordinators do them (issue 17 item 4,
issue 14 item 10)."""
import re
from datetime import timedelta

from tests.e2e.conftest import server_today


def _last_month():
    end = server_today().replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def test_a_report_is_submitted_approved_and_then_refuses_changes(page):
    start, end = _last_month()
    period = f"date_from={start}&date_to={end}"
    page.login("coordinator.kordai")
    page.goto(f"/reports/chain?{period}")
    row = page.locator("tr", has_text="KRD")
    assert row.locator("button[type=submit]").count() == 1, "the office's coordinator may submit its report"
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    assert re.search(r"/reports/chain/\d+$", page.url)
    report_url = page.url
    assert page.locator("[data-report-status=submitted]").count() == 1
    assert page.locator("button[name=decision]").count() == 0, "an office coordinator does not approve"
    page.context.clear_cookies()  # the regional coordinator, in the same browser

    page.login("coordinator")
    page.goto(report_url)
    with page.expect_navigation():
        page.locator("button[name=decision][value=approve]").click()
    assert page.locator(".flash-success").count() == 1
    assert page.locator("[data-report-status=approved]").count() == 1
    assert page.locator("button[name=decision]").count() == 0, "an approved report is locked"
    # The list offers no second submission (the service refuses one: tests/test_reports_chain.py).
    page.goto(f"/reports/chain?{period}")
    assert page.locator("tr", has_text="KRD").locator("button[type=submit]").count() == 0


def test_the_coordinator_changes_several_mandates_at_once(page):
    page.login("coordinator")
    page.goto("/mandates?status=open")
    boxes = page.locator("input[type=checkbox][name=mandate_id]")
    assert boxes.count() >= 2
    numbers = [boxes.nth(i).get_attribute("aria-label").split()[-1] for i in range(2)]
    page.locator("details.bulk-edit summary").click()
    boxes.nth(0).check()
    boxes.nth(1).check()
    target = (server_today() + timedelta(days=90)).isoformat()
    page.fill("#bulk-target", target)
    with page.expect_navigation():
        page.locator("#bulk-form button[type=submit]").click()
    assert page.locator(".flash-success").count() == 1
    for number in numbers:
        page.goto(f"/mandates?q={number}")
        day, month, year = target[8:10], target[5:7], target[:4]
        assert f"{day}.{month}.{year}" in page.locator("tr", has_text=number).inner_text()
