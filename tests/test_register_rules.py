"""Pure register rules: IIN check digit, phone normalisation, deadlines in Kazakh working days."""
from datetime import date

import pytest

from appeals.register.rules import (
    RuleViolation,
    add_working_days,
    check_iin,
    check_phone,
    iin_check_digit,
    is_working_day,
    make_iin,
    working_days_between,
)


@pytest.mark.parametrize("iin", [
    "900101300037",  # first pass: weights 1..11 give 73 mod 11 = 7
    "870412400125",
    "010205500019",
    "751231300450",
    "850515300701",  # first pass gives 10, second pass (weights 3..11,1,2) gives 1
])
def test_valid_iins(iin):
    assert check_iin(iin, today=date(2024, 1, 1)) == iin


def test_iin_spaces_are_ignored():
    assert check_iin(" 9001 0130 0037 ", today=date(2024, 1, 1)) == "900101300037"


@pytest.mark.parametrize("iin, code", [
    ("900101300038", "iin_checksum"),   # last digit off by one
    ("900101300073", "iin_checksum"),   # two digits swapped
    ("90010130003", "iin_format"),      # 11 digits
    ("9001013000377", "iin_format"),    # 13 digits
    ("90010130003a", "iin_format"),
    ("", "iin_format"),
    ("901301300037", "iin_date"),       # month 13
    ("900230300037", "iin_date"),       # 30 February
    ("900101900037", "iin_date"),       # century digit 9 does not exist
    ("300101500037", "iin_date"),       # born in 2030: in the future
])
def test_invalid_iins(iin, code):
    with pytest.raises(RuleViolation) as info:
        check_iin(iin, today=date(2024, 1, 1))
    assert info.value.code == code


def test_check_digit_second_pass_and_unissuable_numbers():
    assert iin_check_digit("85051530070") == 1
    # Both passes give 10: no IIN is issued with these eleven digits.
    assert iin_check_digit("85051540032") is None


def test_generated_iins_are_valid():
    for year in (1950, 1988, 2003):
        for sex in ("m", "f"):
            iin = make_iin(date(year, 6, 15), sex, 7)
            assert check_iin(iin, today=date(2024, 1, 1)) == iin


@pytest.mark.parametrize("raw, expected", [
    ("+7 701 123 45 67", "+77011234567"),
    ("8 701 123 45 67", "+77011234567"),
    ("87011234567", "+77011234567"),
    ("701 123-45-67", "+77011234567"),
    ("(7262) 43-00-00", "+77262430000"),
])
def test_phone_normalised_to_e164(raw, expected):
    assert check_phone(raw) == expected


@pytest.mark.parametrize("raw, code", [("abc", "phone_format"), ("", "phone_format"), ("+7 701 12", "phone_invalid"), ("12345", "phone_invalid")])
def test_bad_phones(raw, code):
    with pytest.raises(RuleViolation) as info:
        check_phone(raw)
    assert info.value.code == code


def test_kazakh_calendar_2021():
    assert not is_working_day(date(2021, 1, 1))      # New Year
    assert not is_working_day(date(2021, 1, 4))      # New Year's day off moved from the Saturday
    assert not is_working_day(date(2021, 1, 7))      # Orthodox Christmas
    assert is_working_day(date(2021, 1, 8))
    assert is_working_day(date(2021, 7, 3))          # a Saturday made a working day...
    assert not is_working_day(date(2021, 7, 5))      # ...to give Monday off before Capital Day


def test_deadline_across_new_year_and_christmas_2021():
    # 31 Dec is day 1; 1, 2, 3, 4 and 7 January are not working days; the 15th working day is 25 January.
    assert add_working_days(date(2020, 12, 30), 15) == date(2021, 1, 25)
    assert add_working_days(date(2021, 1, 6), 1) == date(2021, 1, 8)
    assert working_days_between(date(2020, 12, 30), date(2021, 1, 25)) == 15


def test_deadline_counts_transferred_working_saturday():
    assert add_working_days(date(2021, 6, 30), 3) == date(2021, 7, 3)
    # Monday 5 July (transferred day off) and Tuesday 6 July (Capital Day) are skipped.
    assert add_working_days(date(2021, 7, 1), 5) == date(2021, 7, 9)


def test_receipt_on_a_holiday_starts_counting_on_the_next_working_day():
    assert add_working_days(date(2021, 1, 1), 1) == date(2021, 1, 5)
