"""core.parsing: one rule for dates, periods, ids and choices, and every page and filter using it.

A date outside 2000-01-01 … 2100-12-31 (or one that cannot be read) is a field error with a
translated message on the page, 422 problem+json in the API, and never a 500.
"""
import datetime as dt

import pytest

from appeals.core import parsing
from appeals.core.errors import DomainError

BOUNDS = ("01.01.2000", "31.12.2100")  # in the message in every language


@pytest.mark.parametrize("text, expected", [
    ("2000-01-01", dt.date(2000, 1, 1)),
    ("2100-12-31", dt.date(2100, 12, 31)),
    ("15.03.2026", dt.date(2026, 3, 15)),
    (" 2026-03-15 ", dt.date(2026, 3, 15)),
    (dt.datetime(2026, 3, 15, 10, 30), dt.date(2026, 3, 15)),
    ("", None),
    (None, None),
])
def test_dates_that_are_read(text, expected):
    assert parsing.parse_date(text, "day") == expected


@pytest.mark.parametrize("text", ["1999-12-31", "2101-01-01", "9999-12-31", "0001-01-01", dt.date(1990, 5, 1)])
def test_dates_out_of_range_are_field_errors(app_ctx, text):
    with pytest.raises(parsing.ParseError) as error:
        parsing.parse_date(text, "day")
    assert isinstance(error.value, DomainError) and error.value.kind == "invalid"
    assert list(error.value.errors) == ["day"]
    assert all(bound in error.value.message for bound in BOUNDS)


@pytest.mark.parametrize("text", ["yesterday", "2026-02-30", "31/12/2026", "2026-13-01", "1e5"])
def test_unreadable_dates_are_field_errors(app_ctx, text):
    with pytest.raises(parsing.ParseError) as error:
        parsing.parse_date(text, "day")
    assert error.value.errors["day"] == ["Enter a date as dd.mm.yyyy."]


def test_datetimes_take_nine_oclock_for_a_bare_date_and_keep_the_bounds(app_ctx):
    assert parsing.parse_datetime("2026-03-15") == dt.datetime(2026, 3, 15, 9, 0)
    assert parsing.parse_datetime("15.03.2026 10:45:30") == dt.datetime(2026, 3, 15, 10, 45, 30)
    with pytest.raises(parsing.ParseError):
        parsing.parse_datetime("9999-12-31T10:00", "received_at")


@pytest.mark.parametrize("value, expected", [("7", 7), (7, 7), ("", None), ("0", None), (0, None), (None, None)])
def test_ids(value, expected):
    assert parsing.parse_id(value, "office") == expected


@pytest.mark.parametrize("value", ["abc", "-1", "2147483648", "99999999999999", "1.5", True])
def test_bad_ids_are_field_errors(app_ctx, value):
    with pytest.raises(parsing.ParseError) as error:
        parsing.parse_id(value, "office")
    assert list(error.value.errors) == ["office"]


def test_choices_flags_and_numbers(app_ctx):
    assert parsing.parse_choice("open", ("open", "closed"), "status") == "open"
    assert parsing.parse_choice("", ("open",), "status", default="open") == "open"
    with pytest.raises(parsing.ParseError):
        parsing.parse_choice("lost", ("open", "closed"), "status")
    assert parsing.parse_flag("on") and parsing.parse_flag("TRUE") and not parsing.parse_flag("no")
    assert parsing.parse_int("12", "n", minimum=0, maximum=20) == 12
    with pytest.raises(parsing.ParseError) as error:
        parsing.parse_int("21", "n", minimum=0, maximum=20)
    assert error.value.errors == {"n": ["Enter a number from 0 to 20."]}


def test_period_rules(app_ctx):
    today = dt.date(2026, 3, 31)
    assert parsing.parse_period("2026-03-01", "2026-03-31") == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert parsing.parse_period(None, "2026-03-31") == (dt.date(2026, 3, 2), dt.date(2026, 3, 31))
    assert parsing.parse_period("2026-03-10", None, today=today) == (dt.date(2026, 3, 10), today)
    assert parsing.parse_period(None, None, default=lambda: (today, today)) == (today, today)
    with pytest.raises(parsing.ParseError) as error:
        parsing.parse_period("2026-03-31", "2026-03-01")
    assert list(error.value.errors) == ["date_to"]
    with pytest.raises(parsing.ParseError) as error:
        parsing.parse_period("2000-01-01", "2100-12-31")
    assert list(error.value.errors) == ["date_to"]
    # Both ends wrong: both reported at once.
    with pytest.raises(parsing.ParseError) as error:
        parsing.parse_period("0001-01-01", "9999-12-31", start_field="start", end_field="end")
    assert set(error.value.errors) == {"start", "end"}


# --- Every page and filter: extreme and malformed values give a field error, never a 500 ----------

REGISTER_FILTERS = [
    ("date_from", "0001-01-01"), ("date_to", "9999-12-31"), ("date_from", "yesterday"), ("office", "abc"),
    ("status", "lost"), ("appeal_type", "wish"), ("category", "-3"), ("channel", "pigeon"),
    ("district", "99999999999"), ("settlement", "x"), ("host", "1.5"), ("sort", "colour"),
]


@pytest.mark.parametrize("name, value", REGISTER_FILTERS, ids=[f"{n}={v}" for n, v in REGISTER_FILTERS])
def test_register_list_shows_a_bad_filter_as_a_field_error(client, login, users, name, value):
    login(users.coordinator)
    response = client.get("/appeals", query_string={name: value})
    # The list without that filter, and the message on top.
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'data-field="{name}"' in html
    if value in ("0001-01-01", "9999-12-31"):
        assert all(bound in html for bound in BOUNDS)


def test_register_export_with_a_bad_filter_goes_back_to_the_list(client, login, users):
    login(users.coordinator)
    response = client.get("/appeals/export", query_string={"date_to": "9999-12-31", "format": "csv"})
    assert response.status_code == 302 and "/appeals?" in response.headers["Location"]
    assert 'data-field="date_to"' in client.get(response.headers["Location"]).get_data(as_text=True)


# (url, query, role): each gives its page with the message, or goes back with it flashed.
PAGES = [
    ("/reports", {"date_from": "0001-01-01", "date_to": "0001-01-31"}, "coordinator", 200),
    ("/reports", {"date_from": "9999-12-31"}, "coordinator", 200),
    ("/reports/summary.pdf", {"date_to": "9999-12-31"}, "coordinator", 302),
    ("/reports/journal.pdf", {"date_to": "9999-12-31"}, "coordinator", 302),
    ("/reports/journal.pdf", {"date_from": "0001-01-01"}, "clerk", 302),
    ("/reports/mandates.pdf", {"date_to": "9999-12-31"}, "coordinator", 302),
    ("/reports/schedule.pdf", {"date": "9999-12-31"}, "coordinator", 302),
    ("/schedule/calendar", {"date": "9999-12-31"}, "coordinator", 200),
    ("/schedule/calendar", {"date": "0001-01-01", "view": "month"}, "clerk", 200),
    ("/schedule/calendar", {"view": "list", "from": "2000-01-01", "to": "9999-12-31"}, "coordinator", 200),
    ("/mandates/statistics", {"start": "0001-01-01", "end": "9999-12-31"}, "coordinator", 200),
    ("/mandates", {"directive_id": "abc", "status": "lost"}, "coordinator", 200),
]


@pytest.mark.parametrize("url, query, role, status", PAGES,
                         ids=[f"{url}?{'&'.join(f'{k}={v}' for k, v in q.items())}" for url, q, _r, _s in PAGES])
def test_pages_answer_bad_dates_and_ids_with_a_message(client, login, users, url, query, role, status):
    login(getattr(users, role))
    response = client.get(url, query_string=query)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if status == 302:
        response = client.get(response.headers["Location"])
        assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html or "flash-error" in html
    if any(value in ("0001-01-01", "9999-12-31") for value in query.values()):
        assert all(bound in html for bound in BOUNDS)


@pytest.mark.parametrize("query, field", [
    ({"date_to": "9999-12-31"}, "date_to"), ({"date_from": "0001-01-01"}, "date_from"),
    ({"date_from": "yesterday"}, "date_from"), ({"office": "abc"}, "office"), ({"district": "0"}, "district"),
])
def test_api_filters_answer_422(api_as, users, query, field):
    response = api_as(users.coordinator).get("/appeals?" + "&".join(f"{k}={v}" for k, v in query.items()))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in {error["field"] for error in response.get_json()["errors"]}
