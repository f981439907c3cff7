"""A clerk registers appeals from a reception session with the keyboard only, in Kazakh."""
import re
from datetime import date

from tests.e2e.conftest import pdf_text, server_today

SESSION_LABEL = re.compile(r"(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2})–\d{2}:\d{2} · (\w+) · ")


def _selected_text(page, selector):
    return page.eval_on_selector(selector, "s => s.selectedOptions.length ? s.selectedOptions[0].text : ''")


def _focused(page):
    return page.evaluate("document.activeElement && document.activeElement.id")


def _choose_past_session(page, office_code):
    """ArrowDown through the session list until a reception of `office_code` held before today."""
    for _ in range(200):
        page.keyboard.press("ArrowDown")
        match = SESSION_LABEL.match(_selected_text(page, "#session_id"))
        if match and match.group(6) == office_code:
            day, month, year, hour, minute = (int(g) for g in match.groups()[:5])
            if date(year, month, day) < server_today():
                return date(year, month, day), hour, minute
    raise AssertionError(f"no earlier reception session of {office_code} in the list")


def _assert_received_from_session(page, when, hour, minute):
    # Choosing the session filled the date and time fields (dd.mm.yyyy, 24-hour) with its own.
    assert page.input_value("#received_date") == f"{when:%d.%m.%Y}"
    assert page.input_value("#received_time") == f"{hour:02d}:{minute:02d}"


def _arrow_to(page, selector, prefix, limit=150):
    """Pick an option the way a keyboard user does: ArrowDown until it is the one."""
    page.keyboard.press("Home")
    for _ in range(limit):
        if _selected_text(page, selector).startswith(prefix):
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"no option starting with {prefix!r} in {selector}")


def _tab_to(page, element_id, limit=30):
    if _focused(page) == element_id:
        return
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page) == element_id:
            return
    raise AssertionError(f"Tab never reached #{element_id} (focus on #{_focused(page)})")


def test_clerk_registers_from_a_session_with_the_keyboard_and_prints_the_card(page, live_server):
    page.login("clerk")
    page.goto("/appeals/new")
    assert page.locator("html").get_attribute("lang") == "kk"
    page.wait_for_focus("#office_id")
    page.keyboard.type("TRZ")  # type-ahead in the office list

    # The session first: it decides the date and the host.
    _tab_to(page, "session_id")
    session_day, hour, minute = _choose_past_session(page, "TRZ")
    assert _selected_text(page, "#host_id") != "—", "the session's single host is chosen by itself"
    _assert_received_from_session(page, session_day, hour, minute)

    _tab_to(page, "applicant_name")
    page.keyboard.type("Серікбаев Нұрлан Асқарұлы")
    _tab_to(page, "phone")
    page.keyboard.type("8 701 555 12 34")
    _tab_to(page, "address")
    page.keyboard.type("Тараз, Абай даңғылы 10")
    _tab_to(page, "settlement_id")
    _arrow_to(page, "#settlement_id", "Тараз")
    _tab_to(page, "category_id")
    _arrow_to(page, "#category_id", "Жолдар")
    _tab_to(page, "summary")
    page.keyboard.type("Шағын аудандағы жолды жөндеу туралы ұсыныс")

    # "Save" (not "save and next"): Tab to the button and press Enter.
    _tab_to(page, "save", limit=10)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/appeals/\d+$", page.url), page.inner_text("main")[:500]
    heading = page.locator("h1").inner_text()
    number = re.search(r"TRZ-\d{4}-\d{5}", heading).group(0)
    details = page.inner_text("main")
    assert "Серікбаев Нұрлан Асқарұлы" in details
    # The deadline: 15 working days after the reception, shown as a date.
    deadline = re.search(r"(\d{2}\.\d{2}\.\d{4})", details.split(page.locator("dt").filter(has_text=re.compile("deadline|мерзім|срок", re.I)).first.inner_text(), 1)[1])
    assert deadline, details[:1000]
    day, month, year = (int(x) for x in deadline.group(1).split("."))
    assert (date(year, month, day) - session_day).days >= 15

    # Print the registration card: the print menu opens with Enter, its Kazakh PDF link follows.
    page.locator("details.print-menu summary").first.focus()
    page.keyboard.press("Enter")
    link = page.locator("details.print-menu a[lang=kk]").first
    assert link.is_visible()
    response = page.context.request.get(live_server.url + link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    card = pdf_text(response.body())
    assert number in card
    assert "Серікбаев" in card


def test_save_and_register_next_keeps_the_reception(page):
    """Ctrl+Enter saves and opens the next form with the office, channel, session and host kept."""
    page.login("clerk")
    page.goto("/appeals/new")
    page.wait_for_focus("#office_id")
    page.keyboard.type("TRZ")
    _tab_to(page, "session_id")
    session_day, hour, minute = _choose_past_session(page, "TRZ")
    session_label = _selected_text(page, "#session_id")
    _assert_received_from_session(page, session_day, hour, minute)
    numbers = []
    # Two different matters: near-identical summaries in one settlement would rightly stop at the
    # possible-repeat warning instead of saving.
    for name, summary in (("Әлиева Сәуле", "Аялдамаға шатыр салу"), ("Жақыпов Бауыржан", "Спорт алаңына жаттығу құралдары")):
        _tab_to(page, "applicant_name")
        page.keyboard.type(name)
        _tab_to(page, "settlement_id")
        _arrow_to(page, "#settlement_id", "Тараз")
        _tab_to(page, "category_id")
        _arrow_to(page, "#category_id", "Ауыз су")
        _tab_to(page, "summary")
        page.keyboard.type(summary)
        with page.expect_navigation():
            page.keyboard.press("Control+Enter")
        flash = page.locator(".flash-success").inner_text()
        numbers.append(re.search(r"TRZ-\d{4}-(\d{5})", flash).group(1))
        # The next form keeps the reception and puts the cursor on the applicant.
        assert _selected_text(page, "#session_id") == session_label
        assert page.input_value("#received_date") == f"{session_day:%d.%m.%Y}"
        page.wait_for_focus("#applicant_name")
    assert int(numbers[1]) == int(numbers[0]) + 1
