"""Reference data administration: permissions, validation, audit, settlements CSV import."""
import io

import pytest
import sqlalchemy as sa

from appeals.core.audit import AuditRecord
from appeals.core.errors import DomainError
from appeals.reference import services
from appeals.reference.models import Category, Office, Settlement

PAGES = ["/admin/reference/offices", "/admin/reference/offices/new", "/admin/reference/districts",
         "/admin/reference/regions/new", "/admin/reference/districts/new", "/admin/reference/settlements",
         "/admin/reference/settlements/new", "/admin/reference/settlements/import", "/admin/reference/categories",
         "/admin/reference/categories/new"]


@pytest.mark.parametrize("role", ["coordinator", "clerk", "host", "viewer"])
def test_reference_pages_are_for_admins_only(client, login, users, reference, role):
    login(getattr(users, role))
    for url in PAGES + [f"/admin/reference/offices/{reference.kordai.id}"]:
        assert client.get(url).status_code == 403, url
    response = client.post("/admin/reference/categories/new", data={"code": "x1", "name_kk": "a", "name_ru": "b"})
    assert response.status_code == 403


def test_reference_pages_open_for_admin_with_tabs(client, login, users, reference):
    login(users.admin)
    for url in PAGES + [f"/admin/reference/offices/{reference.kordai.id}",
                        f"/admin/reference/districts/{reference.districts[0].id}",
                        f"/admin/reference/regions/{reference.region.id}",
                        f"/admin/reference/settlements/{reference.settlements[0].id}",
                        f"/admin/reference/categories/{reference.categories[0].id}"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'href="/admin/reference/settlements"' in response.get_data(as_text=True)


def test_admin_creates_office_and_it_is_audited(client, login, users, reference, app_ctx):
    from appeals.core.extensions import db

    login(users.admin)
    response = client.post("/admin/reference/offices/new", data={
        "code": "shu", "name_kk": "Шу филиалы", "name_ru": "Шуский филиал", "kind": "territorial",
        "parent_id": str(reference.regional.id), "district_id": "", "address": "Төле би, 1",
        "phone": "8 (72643) 2-11-22", "is_active": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    office = db.session.scalar(sa.select(Office).where(Office.code == "SHU"))
    assert office.parent_id == reference.regional.id and office.phone == "+77264321122"
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "office_created"))
    assert record.changes["code"] == [None, "SHU"]


@pytest.mark.parametrize("changes, message", [
    ({"code": "KRD"}, "This code is already in use."),
    ({"code": "k"}, "Use 2 to 10 Latin capital letters or digits."),
    ({"parent_id": ""}, "A territorial office belongs to a regional office."),
    ({"parent_id": "KORDAI"}, "Not a valid choice"),
    ({"phone": "12"}, "Enter a phone number"),
])
def test_office_form_errors(client, login, users, reference, changes, message):
    login(users.admin)
    data = {"code": "NEW", "name_kk": "Жаңа", "name_ru": "Новый", "kind": "territorial",
            "parent_id": str(reference.regional.id), "district_id": "", "address": "", "phone": ""}
    data.update(changes)
    if data["parent_id"] == "KORDAI":
        data["parent_id"] = str(reference.kordai.id)
    response = client.post("/admin/reference/offices/new?lang=en", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message.lower() in body.lower()


def test_office_cannot_be_its_own_parent(app_ctx, users, reference):
    with pytest.raises(services.ReferenceError) as error:
        services.save_office({"code": "ZHM", "name_kk": "a", "name_ru": "b", "kind": "regional",
                              "parent_id": reference.regional.id}, users.admin, reference.regional)
    assert error.value.field == "parent_id"


def test_category_and_district_edit(client, login, users, reference, app_ctx):
    from appeals.core.extensions import db

    login(users.admin)
    category = reference.categories[0]
    response = client.post(f"/admin/reference/categories/{category.id}", data={
        "code": "roads", "name_kk": "Жолдар мен көпірлер", "name_ru": "Дороги и мосты", "name_en": "Roads and bridges",
        "sort_order": "5"})
    assert response.status_code == 302
    db.session.expire_all()
    category = db.session.get(Category, category.id)
    assert category.name_en == "Roads and bridges" and category.sort_order == 5 and category.is_active is False
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "category_updated"))
    assert record.changes["is_active"] == [True, False]
    response = client.post("/admin/reference/districts/new", data={
        "region_id": str(reference.region.id), "code": "TLS", "name_kk": "Талас ауданы", "name_ru": "Таласский район"})
    assert response.status_code == 302


# --- CSV import ----------------------------------------------------------------------------------

CSV_TEXT = (
    "district_code;kato;name_kk;name_ru\n"
    "KRD;311001;Қордай ауылы;Кордай\n"        # known KATO: renamed in Kazakh
    "KRD;311003;Қарасай;Карасай\n"            # new
    "MRK;;Ақермен;Акермен\n"                  # no KATO, same name in the district: unchanged
    "MRK;;Жаңа ауыл;Жана аул\n"               # new without KATO
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_import_accepts_utf8_bom_and_windows_1251(app_ctx, users, reference, encoding):
    from appeals.core.extensions import db

    text = CSV_TEXT if encoding != "cp1251" else CSV_TEXT.replace("Қордай ауылы", "Кордай ауылы").replace(
        "Қарасай", "Карасай").replace("Ақермен", "Акермен").replace("Жаңа ауыл", "Жана ауыл")
    result = services.import_settlements(text.encode(encoding), users.admin)
    # Windows-1251 has no Kazakh letters, so "Акермен" there also replaces the Kazakh name "Ақермен".
    assert (result.created, result.updated) == (2, 2 if encoding == "cp1251" else 1)
    names = set(db.session.scalars(sa.select(Settlement.name_ru)))
    assert {"Карасай", "Жана аул", "Кордай", "Акермен"} <= names
    assert db.session.scalar(sa.select(Settlement.name_kk).where(Settlement.kato == "311001")).endswith("ауылы")


def test_import_is_all_or_nothing_with_row_errors(app_ctx, users, reference):
    from appeals.core.extensions import db

    before = db.session.scalar(sa.select(sa.func.count(Settlement.id)))
    text = ("district_code,kato,name_kk,name_ru\n"
            "KRD,311009,Жаңа,Новый\n"
            "XXX,311010,Белгісіз,Неизвестный\n"
            "KRD,311009,Қайталау,Повтор\n"
            "KRD,31,Қысқа,Короткий\n"
            "MRK,,,Без названия\n")
    with pytest.raises(services.ImportErrors) as error:
        services.import_settlements(text.encode(), users.admin)
    assert isinstance(error.value, DomainError) and error.value.kind == "invalid"  # the one domain error
    lines = [line for line, _message in error.value.row_errors]
    assert lines == [3, 4, 5, 6]
    assert "XXX" in error.value.row_errors[0][1]
    assert db.session.scalar(sa.select(sa.func.count(Settlement.id))) == before


def test_import_missing_columns(app_ctx, users, reference):
    with pytest.raises(services.ImportErrors) as error:
        services.import_settlements("name;district\nА;B\n".encode(), users.admin)
    assert "district_code" in error.value.row_errors[0][1]
    with pytest.raises(services.ImportErrors):
        services.import_settlements(b"", users.admin)


def test_import_page_shows_row_errors(client, login, users, reference):
    login(users.admin)
    bad = "district_code;kato;name_kk;name_ru\nZZZ;311777;Ауыл;Аул\n".encode("cp1251")
    response = client.post("/admin/reference/settlements/import?lang=en",
                           data={"file": (io.BytesIO(bad), "settlements.csv")}, content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "ZZZ" in body and "The file was not imported" in body
    good = CSV_TEXT.encode("utf-8-sig")
    response = client.post("/admin/reference/settlements/import",
                           data={"file": (io.BytesIO(good), "settlements.csv")}, content_type="multipart/form-data")
    assert response.status_code == 302
    listing = client.get("/admin/reference/settlements?q=Карасай").get_data(as_text=True)
    assert "311003" in listing
