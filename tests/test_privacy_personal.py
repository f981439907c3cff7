"""Personal data through every door for the masked roles (issue 13, findings 2, 3, 8, 19; issue 14, item 11).

One appeal carries an IIN, a phone and an e-mail address in every field a citizen's data can reach;
viewers, hosts and (until they reveal) coordinators must not meet them on pages, in the API, in
PDFs, exports, search results or the audit trail. The policy is appeals.auth.permissions.
"""
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from appeals.core.audit import AuditRecord
from tests.fixtures_register import VALID_IIN
from tests.fixtures_reports import pdf_pages_text

PHONE = "+7 701 555 44 33"
PHONE_DIGITS = "77015554433"
EMAIL = "aigul.sarsen@mail.kz"
NAME = "Сәрсенова Айгүл Бекқызы"
OLD_NAME = "Сарсенова Айгуль Беккызы"  # as first typed, corrected later
ADDRESS = "Абай көшесі 12, пәтер 7"
LETTER_WORD = "qupiyasoz"  # a word only the letter has
SUMMARY_WORD = "жарықтандыру"
PLANTED = f"ЖСН {VALID_IIN}, тел. {PHONE}, {EMAIL}"


NAME_PARTS = ("Айгүл", "Бекқызы", "Айгуль", "Беккызы")


def _leaks(text, letter=False):
    """The planted values found in `text` (whitespace-insensitive for the digits, as PDFs wrap lines);
    `letter`: the letter's own words count too (documents and records that must not quote it)."""
    flat = re.sub(r"\s", "", text)
    found = [value for value in (VALID_IIN, PHONE_DIGITS, EMAIL) if value in flat]
    found += [value for value in (*NAME_PARTS, "Абай көшесі", "пәтер 7") if value in text]
    if letter:
        found += [value for value in (LETTER_WORD, "Құрметті") if value in text]
    return found


def _except_name(leaks):
    return [value for value in leaks if value not in NAME_PARTS]


@pytest.fixture
def planted(reg_appeal, reg_session, users, db):
    """The Kordai clerk's appeal, received by the `host` user, personal data in every field, answered."""
    from appeals.register import workflow

    appeal = reg_appeal(
        applicant_name=OLD_NAME, iin=VALID_IIN, phone=PHONE, address=f"{ADDRESS}, {EMAIL}",
        channel="session", session_id=reg_session.id, host_id=reg_session.hosts[1].id,
        received_at=reg_session_start(reg_session), appeal_type="proposal",
        summary=f"Көше {SUMMARY_WORD} керек, {PLANTED}",
        text=f"Құрметті әкім! {LETTER_WORD}. {PLANTED}. Хат иесі: {NAME}, {ADDRESS}",
    )
    # A correction of the name and address, as the pentest did: the timeline must not show either side.
    workflow.update_appeal(appeal, {"applicant_name": NAME, "address": ADDRESS + ", 2-подъезд"}, users.clerk)
    workflow.transition(appeal, "in_review", users.clerk)
    workflow.transition(appeal, "answered", users.clerk, answer_text=f"Жауап: {PLANTED}")
    return db.session.get(type(appeal), appeal.id)


def reg_session_start(session):
    from datetime import datetime

    from appeals.core.timeutil import local_now

    start = datetime.combine(session.date, session.start_time) + timedelta(minutes=1)
    return min(start, local_now().replace(second=0, microsecond=0))


# --- pages --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["viewer", "host", "coordinator"])
def test_appeal_page_and_its_timeline_hide_personal_data(planted, users, login, client, role):
    login(getattr(users, role))
    page = client.get(f"/appeals/{planted.id}?lang=en").get_data(as_text=True)
    assert planted.number in page and "Details corrected" in page  # the timeline is there
    if role in ("host", "coordinator"):
        # They see the current name (hosts received the citizen in person), never the old one.
        assert NAME in page and "Айгуль" not in page
        assert _except_name(_leaks(page)) == []
    else:
        assert _leaks(page) == []
    # The summary and the letter are shown, with the personal data in them hidden, not dropped.
    assert SUMMARY_WORD in page and LETTER_WORD in page


def test_clerk_of_the_office_sees_everything(planted, users, login, client):
    login(users.clerk)
    page = client.get(f"/appeals/{planted.id}").get_data(as_text=True)
    assert VALID_IIN in page and EMAIL in page and LETTER_WORD in page and "Айгүл" in page


def test_coordinator_reveal_shows_the_letter_and_is_audited(planted, users, login, client, db):
    login(users.coordinator)
    page = client.post(f"/appeals/{planted.id}", data={"reveal": "1"}).get_data(as_text=True)
    assert VALID_IIN in page and LETTER_WORD in page and EMAIL in page
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditRecord.action == "personal_data_viewed")) == 1


def test_register_list_search_hides_and_finds_nothing_personal(planted, users, login, client):
    login(users.viewer)
    listing = client.get("/appeals").get_data(as_text=True)
    assert planted.number in listing and _leaks(listing) == []
    for q in (VALID_IIN, PHONE, NAME, "Айгүл", LETTER_WORD, EMAIL, "Абай"):
        found = client.get("/appeals", query_string={"q": q}).get_data(as_text=True)
        assert planted.number not in found, q
    assert planted.number in client.get("/appeals", query_string={"q": SUMMARY_WORD}).get_data(as_text=True)
    assert planted.number in client.get("/appeals", query_string={"q": planted.number}).get_data(as_text=True)
    client.post("/logout")
    login(users.clerk)
    for q in (VALID_IIN, "Айгүл", LETTER_WORD):
        assert planted.number in client.get("/appeals", query_string={"q": q}).get_data(as_text=True), q


# --- API ----------------------------------------------------------------------------------------

def test_api_masks_free_text_and_search(planted, users, api_as):
    viewer = api_as(users.viewer)
    body = viewer.get(f"/appeals/{planted.id}").get_json()
    assert body["personal_data_masked"] is True
    assert _leaks(json.dumps(body, ensure_ascii=False)) == [] and LETTER_WORD in body["text"]
    assert SUMMARY_WORD in body["summary"] and body["answer_text"].startswith("Жауап")
    for q in (VALID_IIN, "Айгүл", LETTER_WORD):
        # An IIN is searched in the body (POST /appeals/search), never in the URL; masked roles find nothing.
        assert viewer.post("/appeals/search", {"q": q}).get_json()["items"] == [], q
    for q in ("Айгүл", LETTER_WORD):
        assert viewer.get(f"/appeals?q={q}").get_json()["items"] == [], q
    assert [item["id"] for item in viewer.get(f"/appeals?q={SUMMARY_WORD}").get_json()["items"]] == [planted.id]

    host = api_as(users.host).get(f"/appeals/{planted.id}").get_json()
    assert _except_name(_leaks(json.dumps(host, ensure_ascii=False))) == []

    coordinator = api_as(users.coordinator)
    assert _except_name(_leaks(json.dumps(coordinator.get(f"/appeals/{planted.id}").get_json(),
                                          ensure_ascii=False))) == []
    revealed = coordinator.get(f"/appeals/{planted.id}?reveal=true").get_json()
    assert VALID_IIN in revealed["text"] and revealed["iin"] == VALID_IIN

    clerk = api_as(users.clerk).get(f"/appeals/{planted.id}").get_json()
    assert EMAIL in clerk["answer_text"] and LETTER_WORD in clerk["text"]


# --- PDFs and exports ---------------------------------------------------------------------------

def test_journal_and_card_pdfs_hide_personal_data(planted, users, login, client):
    login(users.viewer)
    journal = "\n".join(pdf_pages_text(client.get("/reports/journal.pdf?lang=en").data))
    card = "\n".join(pdf_pages_text(client.get(f"/reports/appeals/{planted.id}/card.pdf?lang=en").data))
    assert planted.number in journal and planted.number in card
    assert _leaks(journal) == [] and _leaks(card) == []


def test_coordinator_export_hides_the_summary_personal_data(planted, users, login, client):
    login(users.coordinator)
    csv = client.get("/appeals/export?format=csv").get_data(as_text=True)
    assert planted.number in csv and SUMMARY_WORD in csv
    assert _except_name(_leaks(csv)) == []


# --- the audit trail ----------------------------------------------------------------------------

def test_audit_trail_keeps_no_personal_data(planted, users, login, client, db):
    records = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.object_type == "appeals")).all()
    assert {r.action for r in records} >= {"created", "updated", "status_changed"}
    stored = json.dumps([r.changes for r in records], ensure_ascii=False)
    assert _leaks(stored, letter=True) == []
    updated = next(r for r in records if r.action == "updated")
    assert set(updated.changes) == {"applicant_name", "address"}  # the change is recorded, not its values
    login(users.admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert planted.number in page and _leaks(page, letter=True) == []


def test_migration_masks_existing_audit_records(app, db, users):
    import importlib

    migration = importlib.import_module("migrations.versions.0009_mask_personal_data_in_audit")
    old = AuditRecord(action="updated", object_type="appeals", object_id="1", object_label="KRD-2026-00001",
                      username="clerk", changes={
                          "applicant_name": [NAME, NAME + "на"], "address": [None, ADDRESS], "iin": [None, VALID_IIN],
                          "text": ["хат", f"{LETTER_WORD} {PLANTED}"], "status": ["registered", "in_review"]})
    other = AuditRecord(action="office_updated", object_type="offices", object_id="1", username="admin",
                        changes={"address": ["Тараз", "Тараз, Абай 1"]})
    db.session.add_all([old, other])
    db.session.commit()
    with db.engine.begin() as connection:
        assert migration.mask_audit_records(connection) == 1
    db.session.expire_all()
    assert _leaks(json.dumps(db.session.get(AuditRecord, old.id).changes, ensure_ascii=False), letter=True) == []
    assert db.session.get(AuditRecord, old.id).changes["status"] == ["registered", "in_review"]
    assert db.session.get(AuditRecord, other.id).changes == {"address": ["Тараз", "Тараз, Абай 1"]}
    with db.engine.begin() as connection:
        assert migration.mask_audit_records(connection) == 0  # idempotent


# --- mandate lists (finding 19; issue 14, item 11) --------------------------------------------

@pytest.fixture
def planted_mandate(planted, make_directive, users):
    from appeals.mandates import flagging

    directive = make_directive()
    mandate = flagging.flag_appeals(directive, [planted.id], users.coordinator, override_reason="test flag")[0]
    return directive, mandate


def test_public_mandate_list_prints_the_reviewed_public_text_only(planted_mandate, users, login, client):
    from appeals.mandates import publication

    directive, mandate = planted_mandate
    login(users.viewer)

    def printed(group):
        data = client.get("/reports/mandates.pdf", query_string={"directive_id": directive.id, "group": group,
                                                                 "lang": "en"})
        assert data.status_code == 200
        return "\n".join(pdf_pages_text(data.data))

    for group in ("settlement", "category"):
        text = printed(group)
        assert mandate.number in text and "Public text under review" in text
        assert SUMMARY_WORD not in text and _leaks(text, letter=True) == []
    publication.save_public_text(mandate, {"public_title": "Көшелерді жарықтандыру",
                                           "public_description": "Бағандар орнату"}, users.coordinator, publish=True)
    text = printed("settlement")
    assert "Көшелерді жарықтандыру" in text and "Бағандар орнату" in text
    assert "Public text under review" not in text and _leaks(text, letter=True) == []
    assert client.get("/reports/mandates.pdf", query_string={"version": "internal"}).status_code == 403


def test_internal_contact_list_shows_phones_to_coordinators_and_is_audited(planted_mandate, users, login,
                                                                           client, db):
    directive, mandate = planted_mandate
    login(users.coordinator)
    response = client.get("/reports/mandates.pdf", query_string={"directive_id": directive.id, "version": "internal"})
    text = re.sub(r"\s", "", "\n".join(pdf_pages_text(response.data)))
    assert PHONE_DIGITS in text and mandate.number in text
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "mandate_contacts_printed"))
    assert record is not None and record.username == "coordinator" and record.changes["mandates"] == 1


def test_mandate_pages_and_api_hide_the_letters_personal_data(planted_mandate, users, login, client, api_as):
    _directive, mandate = planted_mandate
    for role in ("viewer", "host", "admin"):
        login(getattr(users, role))
        for url in (f"/mandates/{mandate.id}", "/mandates"):
            page = client.get(url).get_data(as_text=True)
            leaks = _except_name(_leaks(page)) if role == "host" else _leaks(page)  # hosts see the name
            assert leaks == [], (role, url)
        assert mandate.number in client.get("/mandates").get_data(as_text=True)
        assert mandate.number not in client.get(f"/mandates?q={VALID_IIN}").get_data(as_text=True)
        client.post("/logout")
        body = api_as(getattr(users, role)).get(f"/mandates/{mandate.id}").get_json()
        leaks = _leaks(json.dumps(body, ensure_ascii=False))
        assert SUMMARY_WORD in body["title"] and (_except_name(leaks) if role == "host" else leaks) == [], role
    assert VALID_IIN in api_as(users.coordinator).get(f"/mandates/{mandate.id}").get_json()["description"]
