"""Pressing Save twice (Enter, Enter) or three times (Space) registers one appeal (issue 14, item 1)."""
import re
import uuid

import pytest


def _fill_appeal(page, summary):
    page.goto("/appeals/new")
    trz = page.eval_on_selector("#office_id", "s => [...s.options].find(o => o.text.startsWith('TRZ')).value")
    page.select_option("#office_id", trz)
    page.select_option("#channel", "letter")
    page.fill("#applicant_name", "Қосмұрат Ерлан")
    page.select_option("#settlement_id", index=1)
    page.select_option("#category_id", index=1)
    page.fill("#summary", summary)
    # A letter received now (the form starts with the current date and time): no session needed.


def _register_rows(page, summary):
    page.goto("/appeals?q=" + summary)
    return page.locator("table tbody tr").filter(has_text=summary).count()


@pytest.mark.parametrize("key, presses", [("Enter", 2), ("Space", 3)])
def test_repeated_presses_on_save_register_one_appeal(page, key, presses):
    page.login("clerk")
    summary = f"q{uuid.uuid4().hex}"
    _fill_appeal(page, summary)
    page.focus("#save")
    with page.expect_navigation():
        for _ in range(presses):
            page.keyboard.press(key)
    assert re.search(r"/appeals/\d+$", page.url), page.inner_text("main")[:800]
    assert _register_rows(page, summary) == 1


def test_the_save_button_is_disabled_while_the_form_is_sent(page):
    page.login("clerk")
    _fill_appeal(page, f"b{uuid.uuid4().hex}")
    # Note, across the navigation, whether the button went disabled after the submit.
    page.evaluate("""() => {
        const save = document.getElementById('save');
        new MutationObserver(() => {
            if (save.disabled) { sessionStorage.setItem('save-disabled', document.getElementById('appeal-form').getAttribute('aria-busy')); }
        }).observe(save, {attributes: true});
    }""")
    page.focus("#save")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/appeals/\d+$", page.url)
    assert page.evaluate("sessionStorage.getItem('save-disabled')") == "true"
