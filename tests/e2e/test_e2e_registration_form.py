"""The registration form after the user trial: the repeat warning's focus, the session search and
the summary counter (issue 14, items 2, 4, 6, 7)."""
import re
import uuid

from tests.e2e.test_e2e_submit_once import _fill_appeal


def test_the_repeat_warning_takes_the_focus_on_not_a_repeat(page):
    page.login("clerk")
    summary = f"r{uuid.uuid4().hex} жарық"
    _fill_appeal(page, summary)
    with page.expect_navigation():
        page.click("#save")
    assert re.search(r"/appeals/\d+$", page.url)
    _fill_appeal(page, summary)  # the same summary in the same settlement, another person
    with page.expect_navigation():
        page.click("#save")
    page.wait_for_focus("#repeat-none")
    assert page.is_checked("#repeat-none")


def test_the_session_search_fills_the_date_and_time(page):
    page.login("clerk")
    page.goto("/appeals/new")
    page.select_option("#channel", "session")
    assert page.is_visible("#session-search")
    first = page.eval_on_selector("#session_id", "s => [...s.options].find(o => o.value)")
    label = page.eval_on_selector("#session_id", "s => [...s.options].find(o => o.value).text")
    office = label.split(" · ")[1]
    page.fill("#session-search", office)
    chosen = page.eval_on_selector("#session_id", "s => s.selectedOptions[0]")
    assert chosen is not None
    day, start = page.eval_on_selector(
        "#session_id", "s => [s.selectedOptions[0].dataset.date, s.selectedOptions[0].dataset.time]")
    assert page.input_value("#received_date") == day and page.input_value("#received_time") == start
    hidden = page.eval_on_selector("#session_id", "s => [...s.options].filter(o => o.value && o.hidden).map(o => o.text)")
    assert all(office not in text for text in hidden)
    assert first is not None


def test_the_summary_counter_warns_when_a_paste_is_cut(page):
    page.login("clerk")
    page.goto("/appeals/new")
    page.fill("#summary", "ә" * 20)
    counter = page.inner_text("#summary-counter")  # "20 of 500 characters", in the page's word order
    assert "20" in counter and "500" in counter
    page.fill("#summary", "ә" * 800)  # maxlength keeps 500, as a paste would
    assert page.input_value("#summary") == "ә" * 500
    assert "error" in page.get_attribute("#summary-counter", "class")
