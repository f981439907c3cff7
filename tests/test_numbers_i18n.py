"""Numbers and percentages through Babel in every language: pages, charts, PDFs (issue 14, item 14)."""
import re

import pytest
from babel import numbers as babel_numbers
from flask import render_template_string
from hypothesis import given
from hypothesis import strategies as st

from appeals.core.i18n import fmt_number, fmt_percent
from tests.fixtures_reports import pdf_pages_text

NBSP = "\u00a0"


@pytest.mark.parametrize("locale, number, percent, whole", [
    ("kk", f"1{NBSP}225", f"22,7{NBSP}%", f"50{NBSP}%"),
    ("ru", f"1{NBSP}225", f"22,7{NBSP}%", f"50{NBSP}%"),
    ("en", "1,225", "22.7%", "50%"),
])
def test_helpers_per_locale(locale, number, percent, whole):
    assert fmt_number(1225, locale=locale) == number
    assert fmt_percent(0.2274, locale=locale) == percent
    assert fmt_percent(0.5, 0, locale=locale) == whole
    assert fmt_number(None) == "" and fmt_percent(None) == ""


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
@given(value=st.integers(-10**12, 10**12) | st.sampled_from([0, 999, 1000, 9999, 10000, -1000]))
def test_whole_numbers_are_written_as_babel_writes_them(locale, value):
    # fmt_number writes whole numbers without Babel's pattern machinery (a dashboard formats hundreds);
    # the result must be Babel's to the character.
    assert fmt_number(value, locale=locale) == babel_numbers.format_decimal(value, locale=locale)


def test_fixed_decimals_round_and_keep_trailing_zero():
    assert fmt_number(3, 1, locale="ru") == "3,0"
    assert fmt_number(1234567.25, 1, locale="kk") == f"1{NBSP}234{NBSP}567,2"
    assert fmt_percent(1, locale="en") == "100.0%"


@pytest.mark.parametrize("lang, expected", [("kk", f"1{NBSP}225 · 22,7{NBSP}%"), ("ru", f"1{NBSP}225 · 22,7{NBSP}%"),
                                            ("en", "1,225 · 22.7%")])
def test_template_filters_follow_the_page_language(app, lang, expected):
    with app.test_request_context(f"/?lang={lang}"):
        from flask_babel import refresh

        refresh()
        assert render_template_string("{{ 1225|number }} · {{ 0.227|percent }}") == expected


def test_chart_figures_and_link_names_are_formatted(app):
    from appeals.reports import charts
    from appeals.reports.statistics import Bar

    with app.test_request_context("/?lang=ru"):
        from flask_babel import refresh

        refresh()
        svg = str(charts.bar_chart([Bar("Дороги", 1225, "/appeals?category=1")], "t"))
        column = str(charts.column_chart([Bar("02.03–08.03", 12345, "/appeals?date_from=2026-03-02")], "w"))
    assert f'aria-label="Дороги: 1{NBSP}225"' in svg and f">1{NBSP}225</text>" in svg
    assert f">12{NBSP}345</text>" in column and "1225" not in svg


def test_mandate_statistics_page_writes_shares_the_russian_way(client, login, users, report_data):
    login(users.coordinator)
    page = client.get("/mandates/statistics?lang=ru&date_from=2026-03-01&date_to=2026-03-31").get_data(as_text=True)
    shares = re.findall(r"\d+(?:[.,]\d)?(?:\u00a0)?%", page)
    assert shares, "the page shows shares"
    assert all(re.fullmatch(r"\d+,\d\u00a0%", share) for share in shares), shares
    page = client.get("/mandates/statistics?lang=en&date_from=2026-03-01&date_to=2026-03-31").get_data(as_text=True)
    shares = re.findall(r"\d+(?:[.,]\d)?(?:\u00a0)?%", page)
    assert shares and all(re.fullmatch(r"\d+\.\d%", share) for share in shares), shares


@pytest.mark.parametrize("lang, pattern", [("ru", r"\d+,\d %"), ("kk", r"\d+,\d %"), ("en", r"\d+\.\d%")])
def test_summary_pdf_shares_in_the_documents_language(client, login, users, report_data, lang, pattern):
    login(users.coordinator)
    response = client.get("/reports/summary.pdf", query_string={"lang": lang, "date_from": "2026-03-01",
                                                                "date_to": "2026-03-31"})
    assert response.status_code == 200
    text = " ".join(pdf_pages_text(response.data)).replace(NBSP, " ")
    assert re.search(pattern, text), text[:3000]
    wrong = r"\d+\.\d %?" if lang != "en" else r"\d+,\d %"
    assert not re.search(r"\b\d+\.\d(?: ?%)", text) if lang != "en" else not re.search(wrong, text)
