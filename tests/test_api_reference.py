"""Issue 18, item 1: reference data through the API, read by every client, written by admins, in kk, ru, en."""
import sqlalchemy as sa

from appeals.core.audit import AuditRecord
from tests.fixtures_api import assert_problem


def test_every_client_reads_the_ids_an_appeal_needs(api_as, users, reference):
    api = api_as(users.host)
    regions = api.get("/regions").get_json()["items"]
    assert [r["code"] for r in regions] == [reference.region.code]
    districts = api.get(f"/districts?region_id={reference.region.id}").get_json()["items"]
    assert {d["id"] for d in districts} == {d.id for d in reference.districts}
    settlements = api.get(f"/settlements?district_id={reference.districts[0].id}").get_json()
    assert settlements["total"] == len([s for s in reference.settlements if s.district_id == reference.districts[0].id])
    assert all(item["district_id"] == reference.districts[0].id for item in settlements["items"])
    categories = api.get("/categories?active=true").get_json()["items"]
    assert {c["id"] for c in categories} == {c.id for c in reference.categories if c.is_active}
    assert api.get(f"/settlements/{reference.settlements[0].id}").get_json()["kato"] == reference.settlements[0].kato


def test_names_in_three_languages_and_in_the_clients_language(api_as, users, reference):
    api = api_as(users.viewer)
    settlement = reference.settlements[0]
    kk = api.get(f"/settlements/{settlement.id}", headers={"Accept-Language": "kk"}).get_json()
    ru = api.get(f"/settlements/{settlement.id}", headers={"Accept-Language": "ru"}).get_json()
    assert kk["name_kk"] == settlement.name_kk and kk["name_ru"] == settlement.name_ru
    assert kk["name"] == settlement.name_kk and ru["name"] == settlement.name_ru


def test_settlements_are_found_by_kato_and_by_a_name_typed_in_latin(api_as, users, reference):
    api = api_as(users.clerk)
    settlement = next(s for s in reference.settlements if s.kato)
    by_kato = api.get(f"/settlements?kato={settlement.kato}").get_json()["items"]
    assert [s["id"] for s in by_kato] == [settlement.id]
    from appeals.core.search_fold import search_fold
    assert search_fold(settlement.name_ru)
    word = settlement.name_ru.split()[0][:4]
    # «Кордай» typed in Latin letters finds «Қордай».
    latin = api.get("/settlements?q=Korda").get_json()["items"]
    assert reference.settlements[0].id in [s["id"] for s in latin]
    by_name = api.get(f"/settlements?q={word}").get_json()["items"]
    assert settlement.id in [s["id"] for s in by_name]
    assert_problem(api.get("/settlements?kato=12ab"), 422, "kato")


def test_admin_writes_reference_data_audited_and_others_are_refused(app_ctx, api_as, users, reference):
    admin = api_as(users.admin)
    region = admin.post("/regions", {"code": "TRK", "name_kk": "Түркістан облысы", "name_ru": "Жамбылская область",
                                     "name_en": "Zhambyl Region"})
    assert region.status_code == 201, region.get_data(as_text=True)
    district = admin.post("/districts", {"region_id": region.get_json()["id"], "code": "TLS",
                                         "name_kk": "Талас ауданы", "name_ru": "Таласский район"}).get_json()
    assert district["name_en"] is None
    settlement = admin.post("/settlements", {"district_id": district["id"], "kato": "315230100",
                                             "name_kk": "Қаратау", "name_ru": "Каратау", "name_en": "Karatau"})
    assert settlement.status_code == 201 and settlement.get_json()["kato"] == "315230100"
    duplicate = admin.post("/settlements", {"district_id": district["id"], "kato": "315230100",
                                            "name_kk": "Басқа", "name_ru": "Другой"})
    assert_problem(duplicate, 422, "kato")
    retired = admin.patch(f"/settlements/{settlement.get_json()['id']}", {"is_active": False}).get_json()
    assert retired["is_active"] is False and retired["name_en"] == "Karatau" and retired["kato"] == "315230100"
    category = admin.post("/categories", {"code": "sport-halls", "name_kk": "Спорт залдары", "name_ru": "Спортзалы",
                                         "name_en": "Sports halls"})
    assert category.status_code == 201, category.get_data(as_text=True)
    # A territorial office serves its regional office's region, in one of that region's districts.
    office = admin.post("/offices", {"code": "TLS", "kind": "territorial", "parent_id": reference.regional.id,
                                     "district_id": reference.districts[0].id,
                                     "name_kk": "Талас филиалы", "name_ru": "Таласский филиал"})
    assert office.status_code == 201, office.get_data(as_text=True)
    closed = admin.patch(f"/offices/{office.get_json()['id']}", {"is_active": False}).get_json()
    assert closed["is_active"] is False and closed["kind"] == "territorial"
    assert closed["region_id"] == reference.regional.region_id
    assert_problem(admin.post("/offices", {"code": "XX1", "kind": "territorial", "name_kk": "a", "name_ru": "b"}),
                   422, "parent_id")
    db = app_ctx.extensions["sqlalchemy"].session
    actions = set(db.scalars(sa.select(AuditRecord.action).where(AuditRecord.user_id == users.admin.id)))
    assert {"region_created", "district_created", "settlement_created", "settlement_updated",
            "category_created", "office_created", "office_updated"} <= actions
    for role in ("coordinator", "clerk", "viewer"):
        assert_problem(api_as(getattr(users, role)).post("/categories", {"code": "roads2", "name_kk": "Жол",
                                                                         "name_ru": "Дороги"}), 403)
