"""A mandate's public text (issue 17, item 1): pre-filled without personal data, reviewed, approved
by a coordinator; the responsible person is a user. appeals/mandates/publication.py."""
import importlib

import pytest
import sqlalchemy as sa

from appeals.core.audit import AuditRecord
from appeals.core.privacy import HIDDEN, looks_like_address, public_text_problems, redact_for_public
from appeals.mandates import flagging, lifecycle, publication, queries
from appeals.mandates.directives import MandateError
from appeals.mandates.models import Mandate
from tests.fixtures_register import VALID_IIN

PHONE = "+7 701 555 44 33"
EMAIL = "aigul.sarsen@mail.kz"


@pytest.mark.parametrize("text", [
    "ул. Абая, д. 12, кв. 5", "Абай көшесі 12, пәтер 7", "Абай көшесі 12-үй", "7-пәтер", "кв. 15",
    "12 Abay street", "мкр. Самал-2, 15", "пр. Толе би 45",
])
def test_address_like_fragments_are_found_and_hidden(text):
    assert looks_like_address(text)
    drafted = redact_for_public(f"Жарық керек: {text}")
    assert drafted == f"Жарық керек: {HIDDEN}"


@pytest.mark.parametrize("text", [
    "Абай көшесіне жарық орнату", "Мектеп салу 2026 жылы", "Су құбырын 5 км тарту", "Дом культуры жөндеу",
    "Ремонт дороги на 12 км", "01.02.2026 дейін",
])
def test_streets_villages_dates_and_quantities_stay(text):
    assert not looks_like_address(text) and redact_for_public(text) == text
    assert public_text_problems(text) == []


def test_the_draft_hides_iin_phone_email_and_known_names():
    drafted = redact_for_public(f"Сәрсенова Айгүл: жол керек, ЖСН {VALID_IIN}, тел. {PHONE}, {EMAIL}",
                                ["Сәрсенова", "Айгүл"])
    assert VALID_IIN not in drafted and "555" not in drafted and EMAIL not in drafted
    assert "Сәрсенова" not in drafted and "Айгүл" not in drafted and "жол керек" in drafted


@pytest.fixture
def planted_appeal(make_appeal):
    return make_appeal(applicant_name="Сәрсенова Айгүл Бекқызы", iin=VALID_IIN, phone="+77015554433",
                       address="Кордай ауылы, Абай көшесі 12, пәтер 7",
                       summary=f"Сәрсенова: көшені жарықтандыру, тел. {PHONE}, {EMAIL}, Абай көшесі 12")


def test_flagging_prefills_a_draft_public_title_without_personal_data(db, users, make_directive, planted_appeal):
    [mandate] = flagging.flag_appeals(make_directive(), [planted_appeal.id], users.coordinator)
    assert mandate.public_state == "draft" and not mandate.is_published
    assert "көшені жарықтандыру" in mandate.public_title
    for value in ("Сәрсенова", "555", EMAIL, "Абай көшесі 12"):
        assert value not in mandate.public_title
    assert mandate.title.startswith("Сәрсенова")  # the internal title stays the appeal's summary


def test_publishing_refuses_personal_data_and_hidden_marks(db, users, make_directive, planted_appeal):
    [mandate] = flagging.flag_appeals(make_directive(), [planted_appeal.id], users.coordinator)
    with pytest.raises(MandateError) as error:  # the draft still has *** where the phone was
        publication.save_public_text(mandate, {"public_title": mandate.public_title}, users.coordinator, publish=True)
    assert error.value.field == "public_title" and "***" in str(error.value.message)
    for bad in (f"Жарық, хабарласу {PHONE}", f"Жазыңыз: {EMAIL}", f"ЖСН {VALID_IIN}", "Абай көшесі 12, пәтер 7",
                "Сәрсенова ханымның өтініші бойынша"):
        with pytest.raises(MandateError) as error:
            publication.save_public_text(mandate, {"public_title": "Жарық", "public_description": bad},
                                         users.coordinator, publish=True)
        assert error.value.field == "public_description", bad
    db.session.expire_all()
    assert db.session.get(Mandate, mandate.id).public_state == "draft"


def test_publish_then_an_edit_returns_to_draft(db, users, make_directive, planted_appeal):
    [mandate] = flagging.flag_appeals(make_directive(), [planted_appeal.id], users.coordinator)
    data = {"public_title": "Кордай ауылында көшелерді жарықтандыру", "public_description": "Бағандар орнату"}
    publication.save_public_text(mandate, data, users.coordinator, publish=True)
    db.session.expire_all()
    mandate = db.session.get(Mandate, mandate.id)
    assert mandate.is_published and mandate.public_approved_by_id == users.coordinator.id
    assert mandate.public_approved_at is not None
    publication.save_public_text(mandate, data, users.coordinator)  # nothing changed: stays published
    assert db.session.get(Mandate, mandate.id).is_published
    publication.save_public_text(mandate, {**data, "public_title": "Жарық"}, users.coordinator)
    db.session.expire_all()
    assert db.session.get(Mandate, mandate.id).public_state == "draft"
    actions = db.session.scalars(sa.select(AuditRecord.action).where(AuditRecord.object_type == "mandates")
                                 .order_by(AuditRecord.id)).all()
    assert "mandate.published" in actions and actions[-1] == "mandate.public_text"


def test_coordinator_reviews_and_publishes_through_the_page(client, db, users, login, make_directive,
                                                             planted_appeal):
    [mandate] = flagging.flag_appeals(make_directive(), [planted_appeal.id], users.coordinator)
    login(users.coordinator)
    page = client.get(f"/mandates/{mandate.id}/public?lang=en").get_data(as_text=True)
    assert "көшені жарықтандыру" in page and EMAIL not in page
    refused = client.post(f"/mandates/{mandate.id}/public?lang=en", data={
        "public_title": f"Жарық, тел. {PHONE}", "publish": "1"})
    assert refused.status_code == 422 and "must not contain" in refused.get_data(as_text=True)
    assert db.session.get(Mandate, mandate.id).public_state == "draft"
    done = client.post(f"/mandates/{mandate.id}/public", data={
        "public_title": "Көшелерді жарықтандыру", "public_description": "", "publish": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/mandates/{mandate.id}#public-text")
    db.session.expire_all()
    assert db.session.get(Mandate, mandate.id).is_published
    assert client.post(f"/mandates/{mandate.id}/unpublish").status_code == 302
    db.session.expire_all()
    assert db.session.get(Mandate, mandate.id).public_state == "draft"


def test_a_withdrawn_mandate_is_never_published(db, users, make_directive, planted_appeal):
    [mandate] = flagging.flag_appeals(make_directive(), [planted_appeal.id], users.coordinator)
    publication.save_public_text(mandate, {"public_title": "Жарық"}, users.coordinator, publish=True)
    flagging.unflag(mandate.links[0], "қате", users.coordinator)
    db.session.expire_all()
    mandate = db.session.get(Mandate, mandate.id)
    assert mandate.status == "withdrawn" and not mandate.is_published


def test_responsible_person_is_a_user_who_then_sees_the_mandate(client, db, users, login, make_directive,
                                                                 make_appeal, reference):
    appeal = make_appeal(office=reference.merke, settlement_id=reference.settlements[2].id, summary="Мектеп")
    [mandate] = flagging.flag_appeals(make_directive(), [appeal.id], users.coordinator)
    # The Kordai clerk does not see a Merke mandate ...
    assert mandate.id not in db.session.scalars(queries.build_mandate_query({}, users.clerk)
                                                .with_only_columns(Mandate.id)).all()
    login(users.clerk)
    assert client.get(f"/mandates/{mandate.id}").status_code == 403
    client.post("/logout")
    login(users.coordinator)
    response = client.post(f"/mandates/{mandate.id}/edit", data={
        "title": mandate.title, "status": mandate.status, "responsible": "Аудан әкімдігі",
        "responsible_user_id": str(users.clerk.id), "settlement_id": str(mandate.settlement_id)})
    assert response.status_code == 302
    db.session.expire_all()
    mandate = db.session.get(Mandate, mandate.id)
    assert mandate.responsible_user_id == users.clerk.id and mandate.responsible == "Аудан әкімдігі"
    client.post("/logout")
    # ... until they are made its responsible person.
    login(users.clerk)
    assert client.get(f"/mandates/{mandate.id}").status_code == 200
    assert mandate.number in client.get("/mandates").get_data(as_text=True)


def test_responsible_user_must_exist_and_be_active(db, users, make_directive, make_appeal):
    [mandate] = flagging.flag_appeals(make_directive(), [make_appeal().id], users.coordinator)
    with pytest.raises(MandateError) as error:
        lifecycle.update_mandate(mandate, {"responsible_user_id": 99999}, users.coordinator)
    assert error.value.field == "responsible_user_id"
    users.viewer.is_active_account = False
    db.session.commit()
    with pytest.raises(MandateError):
        lifecycle.update_mandate(mandate, {"responsible_user_id": users.viewer.id}, users.coordinator)


def test_migration_prefills_draft_public_titles(app, db, users, make_directive, planted_appeal):
    migration = importlib.import_module("migrations.versions.0013_mandate_public_text")
    [mandate] = flagging.flag_appeals(make_directive(), [planted_appeal.id], users.coordinator)
    mandate.public_title = ""
    db.session.commit()
    with db.engine.begin() as connection:
        assert migration.prefill_public_titles(connection) == 1
    db.session.expire_all()
    title = db.session.get(Mandate, mandate.id).public_title
    assert "жарықтандыру" in title and "Сәрсенова" not in title and EMAIL not in title
    with db.engine.begin() as connection:
        assert migration.prefill_public_titles(connection) == 0
