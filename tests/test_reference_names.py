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


# --- administration: forms, import and export ---------------------------------------------------


def test_admin_saves_english_names_on_every_form(client, login, users, reference, app_ctx):
    import sqlalchemy as sa

    from appeals.core.audit import AuditRecord
    from appeals.core.extensions import db

    login(users.admin)
    forms = {
        f"/admin/reference/regions/{reference.region.id}": ({"code": "ZHA"}, reference.region, "Zhambyl Region"),
        f"/admin/reference/districts/{reference.districts[0].id}": (
            {"code": "KRD", "region_id": str(reference.region.id)}, reference.districts[0], "Kordai District"),
        f"/admin/reference/settlements/{reference.settlements[0].id}": (
            {"kato": "311001", "district_id": str(reference.districts[0].id), "is_active": "y"},
            reference.settlements[0], "Kordai"),
        f"/admin/reference/offices/{reference.kordai.id}": (
            {"code": "KRD", "kind": "territorial", "parent_id": str(reference.regional.id), "district_id": "",
             "address": "", "phone": "", "is_active": "y"}, reference.kordai, "Kordai territorial office"),
        f"/admin/reference/categories/{reference.categories[0].id}": (
            {"code": "roads", "sort_order": "1", "is_active": "y"}, reference.categories[0], "Roads and streets"),
    }
    for url, (data, row, english) in forms.items():
        page = client.get(url).get_data(as_text=True)
        assert 'name="name_en"' in page, url
        response = client.post(url, data={**data, "name_kk": row.name_kk, "name_ru": row.name_ru, "name_en": english})
        assert response.status_code == 302, (url, response.get_data(as_text=True)[:2000])
        db.session.refresh(row)
        assert row.name_en == english and row.localized_name("en") == english
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "district_updated"))
    assert record.changes["name_en"] == [None, "Kordai District"]
    # Cleared again: the English pages fall back to the Russian name (None, not an empty name).
    district = reference.districts[0]
    client.post(f"/admin/reference/districts/{district.id}", data={
        "code": "KRD", "region_id": str(reference.region.id), "name_kk": district.name_kk,
        "name_ru": district.name_ru, "name_en": "  "})
    db.session.refresh(district)
    assert district.name_en is None and district.localized_name("en") == district.name_ru


def test_english_page_shows_english_names_and_russian_where_missing(client, login, users, reference, app_ctx):
    from appeals.core.extensions import db

    reference.districts[0].name_en = "Kordai District"
    db.session.commit()
    login(users.admin)
    page = client.get("/admin/reference/settlements?lang=en").get_data(as_text=True)
    assert "KRD — Kordai District" in page
    assert "MRK — Меркенский район" in page  # no English name: the Russian one
    page = client.get("/admin/reference/settlements?lang=kk").get_data(as_text=True)
    assert "KRD — Қордай ауданы" in page


def test_settlements_export_and_import_carry_three_names(client, login, users, reference, app_ctx):
    from appeals.core.extensions import db
    from appeals.reference import services

    reference.settlements[0].name_en = "Kordai"
    db.session.commit()
    login(users.admin)
    response = client.get("/admin/reference/settlements/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True).lstrip("\ufeff")
    lines = text.splitlines()
    assert lines[0] == "district_code,kato,name_kk,name_ru,name_en"
    assert "KRD,311001,Қордай,Кордай,Kordai" in lines
    assert "KRD,311002,Сортөбе,Сортобе," in lines
    assert len(lines) == 5
    only_merke = client.get(f"/admin/reference/settlements/export.csv?district={reference.districts[1].id}")
    assert len(only_merke.get_data(as_text=True).splitlines()) == 3
    # Round trip: the exported file, with an English name added, updates in place.
    edited = text.replace("KRD,311002,Сортөбе,Сортобе,", "KRD,311002,Сортөбе,Сортобе,Sortobe")
    result = services.import_settlements(edited.encode("utf-8-sig"), users.admin)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)
    db.session.refresh(reference.settlements[1])
    assert reference.settlements[1].name_en == "Sortobe"
    # A file in the old four-column format keeps the English names.
    old = "district_code;kato;name_kk;name_ru\nKRD;311002;Сортөбе;Сортобе\n"
    assert services.import_settlements(old.encode(), users.admin).unchanged == 1
    db.session.refresh(reference.settlements[1])
    assert reference.settlements[1].name_en == "Sortobe"


def test_register_import_finds_a_settlement_by_any_of_its_names(app_ctx, users, reference):
    from appeals.core.extensions import db
    from appeals.register.imports import _Resolver

    reference.settlements[2].name_en = "Merke"
    reference.settlements[3].name_ru = reference.settlements[3].name_kk  # «Ақермен» in both languages
    db.session.commit()
    lookups = _Resolver(reference.kordai)
    assert lookups.settlements["merke"] == reference.settlements[2].id
    assert lookups.settlements["мерке"] == reference.settlements[2].id
    assert lookups.settlements["ақермен"] == reference.settlements[3].id  # its own two names are no clash


def test_host_positions_in_three_languages_on_the_form_and_public_schedule(client, login, users, reference, app_ctx):
    import sqlalchemy as sa

    from appeals.core.extensions import db

    login(users.coordinator)
    response = client.post("/schedule/hosts/new", data={
        "full_name": "Асқаров Бекзат", "position": "Аудандық мәслихат депутаты",
        "position_ru": "Депутат районного маслихата", "position_en": "", "kind": "deputy",
        "office_id": str(reference.kordai.id), "user_id": "", "is_active": "y",
        "submission_token": _token(client, "/schedule/hosts/new")})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    host = db.session.scalar(sa.select(Host).where(Host.full_name == "Асқаров Бекзат"))
    assert (host.position_ru, host.position_en) == ("Депутат районного маслихата", None)
    ru = client.get("/schedule/hosts?lang=ru").get_data(as_text=True)
    en = client.get("/schedule/hosts?lang=en").get_data(as_text=True)
    kk = client.get("/schedule/hosts?lang=kk").get_data(as_text=True)
    assert "Депутат районного маслихата" in ru and "Депутат районного маслихата" in en
    assert "Аудандық мәслихат депутаты" in kk and "Аудандық мәслихат депутаты" not in ru


def _token(client, url):
    import re

    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="submission_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="submission_token"', page)
    assert match, "the form carries a one-time token"
    return match.group(1)


def test_summary_pdf_heading_in_the_documents_language(client, login, users, reference, app_ctx):
    from appeals.core.extensions import db
    from tests.fixtures_reports import pdf_pages_text

    reference.regional.name_en = "Zhambyl regional branch"
    db.session.commit()
    login(users.coordinator)
    texts = {}
    for lang in ("kk", "ru", "en"):
        response = client.get("/reports/summary.pdf", query_string={"lang": lang, "date_from": "2026-03-01",
                                                                    "date_to": "2026-03-31"})
        assert response.status_code == 200
        texts[lang] = " ".join(" ".join(pdf_pages_text(response.data)).split()).casefold()  # the heading is in capitals
    kk, ru = reference.regional.name_kk.casefold(), reference.regional.name_ru.casefold()
    assert "zhambyl regional branch" in texts["en"] and ru not in texts["en"]
    assert ru in texts["ru"] and "zhambyl" not in texts["ru"]
    assert kk in texts["kk"] and ru not in texts["kk"]
