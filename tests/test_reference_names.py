"""Reference names in Kazakh, Russian and English with one fallback rule (issue 14, item 13)."""
import pytest

from appeals.core.models_base import LANGUAGE_FALLBACK, pick_localized
from appeals.reference.models import Category, District, Office, Region, Settlement
from appeals.schedules.models import Host

ALL = {"kk": "Жамбыл ауданы", "ru": "Жамбылский район", "en": "Zhambyl District"}


@pytest.mark.parametrize("missing, locale, expected", [
    ((), "kk", "kk"), ((), "ru", "ru"), ((), "en", "en"),
    (("kk",), "kk", "ru"), (("kk", "ru"), "kk", "en"),
    (("ru",), "ru", "kk"), (("ru", "kk"), "ru", "en"),
    (("en",), "en", "ru"), (("en", "ru"), "en", "kk"),
])
def test_fallback_order_per_language(missing, locale, expected):
    values = {code: (None if code in missing else text) for code, text in ALL.items()}
    assert pick_localized(values, locale) == ALL[expected]


def test_blank_counts_as_missing_and_unknown_language_reads_kazakh():
    assert pick_localized({"kk": " ", "ru": "", "en": "Roads"}, "kk") == "Roads"
    assert pick_localized(ALL, "de") == ALL["kk"]
    assert pick_localized(ALL, "ru_RU") == ALL["ru"]
    assert pick_localized({}, "en") == ""
    assert set(LANGUAGE_FALLBACK) == {"kk", "ru", "en"}


@pytest.mark.parametrize("model", [Region, District, Settlement, Office, Category])
def test_every_reference_model_names_in_three_languages(model):
    row = model(name_kk=ALL["kk"], name_ru=ALL["ru"], name_en=ALL["en"])
    assert [row.localized_name(code) for code in ("kk", "ru", "en")] == [ALL["kk"], ALL["ru"], ALL["en"]]
    row.name_en = None if model is not Category else ""
    assert row.localized_name("en") == ALL["ru"]


def test_host_position_follows_the_same_rule():
    host = Host(full_name="Асқар Бекұлы", position="Депутат", position_ru="Депутат маслихата", position_en=None)
    assert host.localized_position("kk") == "Депутат"
    assert host.localized_position("ru") == "Депутат маслихата"
    assert host.localized_position("en") == "Депутат маслихата"


def test_the_request_language_picks_the_name(app, reference):
    district = reference.districts[0]
    district.name_en = "First District"
    for lang, expected in (("kk", district.name_kk), ("ru", district.name_ru), ("en", "First District")):
        with app.test_request_context(f"/?lang={lang}"):
            from flask_babel import refresh
            refresh()
            assert district.name == expected, lang
