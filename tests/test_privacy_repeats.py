"""Finding 9 (issue 13): the repeat check is no region-wide look-up.

Other offices' matches say only that one exists; matching look-ups are audited (without the IIN or
phone) and limited per hour; an appeal can be linked as a repeat only to one the actor may see.
"""
import json

import pytest
import sqlalchemy as sa

from appeals.core.audit import AuditRecord
from appeals.register.models import Appeal
from tests.fixtures_register import VALID_IIN
from tests.test_register_views import _count, _form

MERKE_PHONE = "+7 705 111 22 33"


@pytest.fixture
def merke_appeal(reg_appeal, users, reference):
    return reg_appeal(actor=users.other_clerk, office_id=reference.merke.id, iin=VALID_IIN, phone=MERKE_PHONE,
                      settlement_id=reference.settlements[2].id, summary="Меркідегі мектеп шатыры")


def test_another_offices_match_says_only_that_it_exists(merke_appeal, users, reference, reg_data, db):
    from appeals.register import repeats

    for data in (reg_data(iin=VALID_IIN, phone=""), reg_data(iin="", phone="8 705 111 22 33")):
        check = repeats.find_possible_repeats(data, users.clerk)
        assert check.appeals == [] and check.elsewhere and not check.limited
    records = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "repeat_check_matched")).all()
    assert [r.username for r in records] == ["clerk", "clerk"]
    assert VALID_IIN not in json.dumps([r.changes for r in records]) and "705" not in json.dumps([r.changes for r in records])
    # The office's own clerk and the coordinator see the appeal itself.
    assert repeats.find_possible_repeats(reg_data(iin=VALID_IIN), users.other_clerk).appeals == [merke_appeal]
    assert repeats.find_possible_repeats(reg_data(iin=VALID_IIN), users.coordinator).appeals == [merke_appeal]
    # A look-up that matches nothing is not recorded.
    repeats.find_possible_repeats(reg_data(iin="", phone="+7 777 000 00 01"), users.clerk)
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditRecord.action == "repeat_check_matched")) == 4


def test_new_appeal_form_shows_no_number_date_or_status_of_another_office(merke_appeal, users, reference, login,
                                                                          client, db):
    login(users.clerk)
    response = client.post("/appeals/new?lang=en", data=_form(reference, phone="", summary="Басқа тақырып"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "An appeal of this person exists in another office" in html
    assert merke_appeal.number not in html and "Меркідегі" not in html
    assert f'name="repeat_of" value="{merke_appeal.id}"' not in html  # nothing to link it to
    assert _count(db) == 1


def test_matching_lookups_are_limited_per_hour(app, merke_appeal, users, reg_data, reg_appeal, db, monkeypatch):
    from appeals.register import repeats

    own = reg_appeal(iin=VALID_IIN)
    monkeypatch.setitem(app.config, "REPEAT_CHECK_MATCHES_PER_HOUR", 2)
    assert repeats.find_possible_repeats(reg_data(iin=VALID_IIN), users.clerk).appeals == [own]
    assert repeats.find_possible_repeats(reg_data(iin=VALID_IIN), users.clerk).elsewhere
    third = repeats.find_possible_repeats(reg_data(iin=VALID_IIN), users.clerk)
    assert third.limited and third.appeals == [] and not third.elsewhere
    # Another clerk has a budget of their own.
    assert repeats.find_possible_repeats(reg_data(iin=VALID_IIN), users.other_clerk).appeals


def test_past_the_cap_only_lookups_with_matches_show_nothing(app, users, reg_data, reg_appeal, db, monkeypatch):
    """The hourly cap stops look-ups that match an IIN or phone, similar summaries included; a look-up
    that matches no person still shows the settlement's similar appeals."""
    from appeals.register import repeats

    own = reg_appeal(iin=VALID_IIN, phone="", summary="Мектептің шатыры ағып тұр")
    similar = reg_appeal(phone="+7 701 765 43 21", summary="Көшедегі жолды жөндеу қажет")
    monkeypatch.setitem(app.config, "REPEAT_CHECK_MATCHES_PER_HOUR", 1)
    assert set(repeats.find_possible_repeats(reg_data(iin=VALID_IIN, phone=""), users.clerk).appeals) == {similar, own}
    limited = repeats.find_possible_repeats(reg_data(iin=VALID_IIN, phone=""), users.clerk)
    assert limited.limited and limited.appeals == []
    nobody = repeats.find_possible_repeats(reg_data(iin="", phone="+7 777 000 00 01"), users.clerk)
    assert not nobody.limited and nobody.appeals == [similar]
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditRecord.action == "repeat_check_matched")) == 1


def test_repeat_of_accepts_only_visible_appeals(merke_appeal, users, reference, reg_data, login, client, api_as, db):
    from appeals.register import validation, workflow

    with pytest.raises(validation.AppealError) as refused:
        workflow.register_appeal(reg_data(), users.clerk, link_repeat_of=merke_appeal.id)
    assert refused.value.field == "repeat_of"
    own = workflow.register_appeal(reg_data(), users.clerk)
    with pytest.raises(validation.AppealError):
        workflow.update_appeal(own, {"summary": "Түзетілді"}, users.clerk, link_repeat_of=merke_appeal.id)
    assert db.session.get(Appeal, own.id).repeat_of_id is None

    login(users.clerk)
    before = _count(db)
    response = client.post("/appeals/new", data=_form(reference, repeats_checked="1", repeat_of=str(merke_appeal.id)))
    assert response.status_code == 400 and _count(db) == before

    api = api_as(users.clerk)
    body = {"office_id": reference.kordai.id, "received_at": reg_data()["received_at"].isoformat(),
            "channel": "letter", "applicant_kind": "individual", "applicant_name": "Әбілқасымов Ерлан",
            "settlement_id": reference.settlements[0].id, "appeal_type": "statement",
            "category_id": reference.categories[0].id, "summary": "Жол", "repeat_of_id": merke_appeal.id}
    response = api.post("/appeals", body)
    assert response.status_code in (404, 422), response.get_data(as_text=True)
    assert _count(db) == before
    assert api.patch(f"/appeals/{own.id}", {"repeat_of_id": merke_appeal.id}).status_code in (404, 422)
    assert db.session.get(Appeal, own.id).repeat_of_id is None
