"""Register services: registration, validation, deadlines, workflow, repeats, masking and list filters."""
import difflib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import refresh
from hypothesis import given, settings
from hypothesis import strategies as st

from appeals.core.audit import AuditRecord
from appeals.core.timeutil import local_now, local_today
from appeals.register import deadlines, personal_data, queries, repeats, validation, workflow
from appeals.register.models import Appeal, AppealExtension
from tests.fixtures_register import VALID_IIN


def _count(db):
    return db.session.scalar(sa.select(sa.func.count(Appeal.id)))


def test_register_assigns_number_due_date_and_audit(reg_appeal, reference, users, db):
    appeal = reg_appeal(iin=VALID_IIN, phone="8 701 123 45 67")
    year = appeal.received_at.year
    assert appeal.number == f"KRD-{year}-00001"
    assert (appeal.year, appeal.seq, appeal.status) == (year, 1, "registered")
    assert appeal.phone == "+77011234567" and appeal.iin == VALID_IIN
    assert appeal.due_date == deadlines.compute_due_date(appeal.received_at.date(), 15)
    assert appeal.original_due_date == appeal.due_date
    second = reg_appeal()
    assert second.number == f"KRD-{year}-00002"
    other_office = reg_appeal(actor=users.coordinator, office_id=reference.merke.id)
    assert other_office.number == f"MRK-{year}-00001"
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.object_type == "appeals", AuditRecord.object_id == str(appeal.id)))
    assert record.action == "created" and record.username == "clerk"
    # The audit trail keeps personal data masked.
    assert record.changes["iin"] != VALID_IIN and record.changes["iin"].endswith(VALID_IIN[-2:])


def test_withdrawn_numbers_are_never_reused(reg_appeal, users):
    first = reg_appeal()
    workflow.transition(first, "withdrawn", users.clerk, reason="Өтініш иесі бас тартты")
    second = reg_appeal()
    assert second.seq == first.seq + 1


def test_failed_registration_does_not_consume_a_number(reg_appeal, reg_data, users, db):
    with pytest.raises(validation.AppealValidationError):
        workflow.register_appeal(reg_data(summary=""), users.clerk)
    assert reg_appeal().seq == 1


@pytest.mark.parametrize("overrides, field", [
    ({"iin": "900101300038"}, "iin"),
    ({"phone": "12345"}, "phone"),
    ({"settlement_id": 999999}, "settlement_id"),
    ({"settlement_id": ""}, "settlement_id"),
    ({"category_id": ""}, "category_id"),
    ({"summary": "x" * 501}, "summary"),
    ({"summary": "   "}, "summary"),
    ({"text": "x" * 20001}, "text"),
    ({"applicant_name": ""}, "applicant_name"),
    ({"channel": "pigeon"}, "channel"),
    ({"appeal_type": "wish"}, "appeal_type"),
    ({"received_at": "2999-01-01T10:00"}, "received_at"),
    ({"received_at": "yesterday"}, "received_at"),
    ({"applicant_kind": "collective", "signatories": 1}, "signatories"),
    ({"channel": "session"}, "session_id"),
])
def test_bad_input_is_refused_on_the_field_and_nothing_written(reg_data, users, db, overrides, field):
    with pytest.raises(validation.AppealValidationError) as info:
        workflow.register_appeal(reg_data(**overrides), users.clerk)
    assert field in info.value.errors
    assert all(isinstance(m, str) and m for m in info.value.errors[field])
    assert _count(db) == 0


def test_validation_messages_are_translated(app, reg_data, users):
    with app.test_request_context("/?lang=ru"):
        with pytest.raises(validation.AppealValidationError) as info:
            workflow.register_appeal(reg_data(iin="900101300038"), users.clerk)
    russian = info.value.errors["iin"][0]
    with app.test_request_context("/?lang=en"):
        refresh()  # the test's app context outlives the request: forget the locale chosen above
        with pytest.raises(validation.AppealValidationError) as info:
            workflow.register_appeal(reg_data(iin="900101300038"), users.clerk)
    english = info.value.errors["iin"][0]
    assert russian != english and any("а" <= letter <= "я" for letter in russian.lower())


def test_retired_settlements_and_categories_are_refused_but_an_appeal_keeps_its_category(
        reg_appeal, reg_data, reference, users, db):
    appeal = reg_appeal()
    settlement, category = reference.settlements[1], reference.categories[0]
    settlement.is_active = False
    category.is_active = False
    db.session.commit()
    with pytest.raises(validation.AppealValidationError) as info:
        workflow.register_appeal(reg_data(settlement_id=settlement.id, category_id=category.id), users.clerk)
    assert set(info.value.errors) == {"settlement_id", "category_id"}
    # A correction of an appeal filed under the category before it was retired keeps it...
    workflow.update_appeal(appeal, {"summary": "Түзетілген мазмұн"}, users.clerk)
    assert db.session.get(Appeal, appeal.id).category_id == category.id
    # ...but cannot move another appeal into it, nor into a category that does not exist.
    other = workflow.register_appeal(reg_data(category_id=reference.categories[1].id), users.clerk)
    for category_id in (category.id, 999999, "abc"):
        with pytest.raises(validation.AppealValidationError) as info:
            workflow.update_appeal(other, {"category_id": category_id}, users.clerk)
        assert set(info.value.errors) == {"category_id"}
    assert _count(db) == 2


def test_clerk_cannot_register_for_another_office(reg_data, reference, users, db):
    with pytest.raises(validation.AppealValidationError) as info:
        workflow.register_appeal(reg_data(office_id=reference.merke.id), users.clerk)
    assert "office" in info.value.errors
    assert _count(db) == 0


def test_anonymous_and_collective_appeals(reg_appeal):
    anonymous = reg_appeal(applicant_kind="anonymous", applicant_name="Secret", iin=VALID_IIN, settlement_id="")
    assert (anonymous.applicant_name, anonymous.iin, anonymous.phone, anonymous.settlement_id) == ("", None, None, None)
    collective = reg_appeal(applicant_kind="collective", applicant_name="Сортөбе тұрғындары", signatories=48)
    assert collective.signatories == 48


def test_session_appeal_takes_host_and_must_match_session_date(reg_appeal, reg_data, reg_session, users):
    hosts = reg_session.hosts
    appeal = reg_appeal(channel="session", session_id=reg_session.id, host_id=hosts[1].id,
                        received_at=local_now().replace(hour=0, minute=1, second=0, microsecond=0))
    assert appeal.session_id == reg_session.id and appeal.host_id == hosts[1].id
    with pytest.raises(validation.AppealValidationError) as info:
        workflow.register_appeal(reg_data(channel="session", session_id=reg_session.id, host_id=hosts[0].id,
                                          received_at=local_now() - timedelta(days=2)), users.clerk)
    assert "received_at" in info.value.errors


# --- Workflow ---------------------------------------------------------------------------------

ALL = ("registered", "in_review", "forwarded", "answered", "closed", "withdrawn")
PATHS = {
    "registered": [],
    "in_review": ["in_review"],
    "forwarded": ["forwarded"],
    "answered": ["in_review", "answered"],
    "closed": ["in_review", "answered", "closed"],
    "withdrawn": ["withdrawn"],
}
DETAILS = {
    "registered": {},
    "in_review": {},
    "forwarded": {"recipient": "Қордай ауданының әкімдігі", "date": None},
    "answered": {"answer_text": "Жол жөнделеді", "answered_at": None},
    "closed": {},
    "withdrawn": {"reason": "Өтініш иесі бас тартты"},
}


def _move(appeal, path, actor):
    for status in path:
        appeal = workflow.transition(appeal, status, actor, **DETAILS[status])
    return appeal


@pytest.mark.parametrize("start", ALL)
@pytest.mark.parametrize("target", ALL)
def test_every_transition_allowed_or_refused(reg_appeal, users, db, start, target):
    appeal = _move(reg_appeal(), PATHS[start], users.clerk)
    assert appeal.status == start
    allowed = target in workflow.TRANSITIONS[start]
    if allowed:
        moved = workflow.transition(appeal, target, users.clerk, **DETAILS[target])
        assert moved.status == target
        record = db.session.scalars(sa.select(AuditRecord).where(
            AuditRecord.object_id == str(appeal.id), AuditRecord.action.in_(("status_changed", "forwarded")))
            .order_by(AuditRecord.id.desc())).first()
        assert record.changes["status"] == [start, target]
    else:
        with pytest.raises(validation.AppealError) as info:
            workflow.transition(appeal, target, users.clerk, **DETAILS[target])
        assert info.value.field == "status"
        assert db.session.get(Appeal, appeal.id).status == start


def test_answer_requires_text_and_sane_date(reg_appeal, users, db):
    appeal = workflow.transition(reg_appeal(), "in_review", users.clerk)
    with pytest.raises(validation.AppealValidationError) as info:
        workflow.transition(appeal, "answered", users.clerk, answer_text="  ", answered_at=local_today() + timedelta(days=1))
    assert set(info.value.errors) == {"answer_text", "answered_at"}
    assert db.session.get(Appeal, appeal.id).status == "in_review"
    answered = workflow.transition(appeal, "answered", users.clerk, answer_text="Жауап берілді")
    assert answered.answered_at == local_today() and answered.answer_text == "Жауап берілді"


def test_in_review_sets_responsible_person(reg_appeal, users):
    appeal = workflow.transition(reg_appeal(), "in_review", users.clerk, responsible_id=users.coordinator.id)
    assert appeal.responsible_id == users.coordinator.id
    other = reg_appeal()
    with pytest.raises(validation.AppealValidationError):
        # A clerk of another office cannot be made responsible.
        workflow.transition(other, "in_review", users.clerk, responsible_id=users.other_clerk.id)


def test_other_office_clerk_and_viewer_cannot_change(reg_appeal, users):
    appeal = reg_appeal()
    for actor in (users.other_clerk, users.viewer, users.host):
        # A valid responsible person: only the permission check is left to refuse.
        with pytest.raises(validation.AppealError, match="not allowed") as info:
            workflow.transition(appeal, "in_review", actor, responsible_id=users.clerk.id)
        assert not isinstance(info.value, validation.AppealValidationError)
        assert appeal.status == "registered" and appeal.responsible_id is None
    assert workflow.transition(appeal, "in_review", users.clerk, responsible_id=users.clerk.id).status == "in_review"


def test_forward_records_recipient_and_date(reg_appeal, users, db):
    appeal = reg_appeal()
    with pytest.raises(validation.AppealValidationError) as info:
        workflow.forward(appeal, "", local_today() + timedelta(days=3), users.clerk)
    assert set(info.value.errors) == {"recipient", "date"}
    moved = workflow.forward(appeal, "Қордай ауданының әкімдігі", local_today(), users.clerk)
    assert (moved.status, moved.forwarded_to, moved.forwarded_at) == ("forwarded", "Қордай ауданының әкімдігі", local_today())
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "forwarded"))
    assert record.changes["late"] == [None, False]


def test_extension_up_to_two_months_with_reason(reg_appeal, users, db):
    appeal = reg_appeal()
    original = appeal.due_date
    with pytest.raises(validation.AppealValidationError) as info:
        workflow.extend_deadline(appeal, original + timedelta(days=10), "short", users.clerk)
    assert "reason" in info.value.errors
    with pytest.raises(validation.AppealValidationError) as info:
        workflow.extend_deadline(appeal, original + timedelta(days=61), "Қосымша тексеру қажет", users.clerk)
    assert "new_due" in info.value.errors
    with pytest.raises(validation.AppealValidationError):
        workflow.extend_deadline(appeal, original, "Қосымша тексеру қажет", users.clerk)
    workflow.extend_deadline(appeal, original + timedelta(days=30), "Қосымша тексеру қажет", users.clerk)
    workflow.extend_deadline(appeal, original + timedelta(days=60), "Тағы бір ведомстводан жауап күтілуде", users.coordinator)
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.due_date == original + timedelta(days=60) and appeal.original_due_date == original
    extensions = db.session.scalars(sa.select(AppealExtension).order_by(AppealExtension.id)).all()
    assert [(e.old_due_date, e.new_due_date, e.user_id) for e in extensions] == [
        (original, original + timedelta(days=30), users.clerk.id),
        (original + timedelta(days=30), original + timedelta(days=60), users.coordinator.id),
    ]


def test_update_appeal_audits_changes_and_keeps_number(reg_appeal, users, db):
    appeal = reg_appeal()
    number = appeal.number
    workflow.update_appeal(appeal, {"summary": "Жаңа қысқаша мазмұн", "phone": "87017654321"}, users.clerk)
    appeal = db.session.get(Appeal, appeal.id)
    assert (appeal.number, appeal.summary, appeal.phone) == (number, "Жаңа қысқаша мазмұн", "+77017654321")
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "updated"))
    assert record.changes["summary"] == ["Көшедегі жолды жөндеу қажет", "Жаңа қысқаша мазмұн"]
    with pytest.raises(validation.AppealValidationError):
        workflow.update_appeal(appeal, {"iin": "123"}, users.clerk)
    with pytest.raises(validation.AppealError):
        workflow.update_appeal(appeal, {"summary": "x"}, users.other_clerk)


# --- Repeats ----------------------------------------------------------------------------------

def test_repeat_detection_by_iin_phone_and_similar_summary(reg_appeal, reg_data, reference, users):
    by_iin = reg_appeal(iin=VALID_IIN, phone="", summary="Зейнетақы туралы")
    by_phone = reg_appeal(phone="+7 702 000 11 22", summary="Жұмысқа орналасу")
    similar = reg_appeal(phone="", settlement_id=reference.settlements[1].id, summary="Сортөбе ауылында ауыз су жоқ")
    unrelated = reg_appeal(phone="", summary="Мектепке жөндеу керек")
    old = reg_appeal(phone="+7 702 000 11 22", received_at=local_now() - timedelta(days=120), summary="Ескі")

    found = repeats.find_possible_repeats(reg_data(iin=VALID_IIN, phone="", summary="Басқа"), users.clerk).appeals
    assert [a.id for a in found] == [by_iin.id]
    found = repeats.find_possible_repeats(reg_data(phone="87020001122", summary="Басқа"), users.clerk).appeals
    assert [a.id for a in found] == [by_phone.id]
    assert old.id not in [a.id for a in found]
    found = repeats.find_possible_repeats(reg_data(phone="", settlement_id=reference.settlements[1].id,
                                                    summary="Сортөбе ауылында ауыз су жоқ!"), users.clerk).appeals
    assert [a.id for a in found] == [similar.id]
    # The same summary in another settlement is not a repeat.
    assert repeats.find_possible_repeats(reg_data(phone="", settlement_id=reference.settlements[2].id,
                                                   summary="Сортөбе ауылында ауыз су жоқ"), users.clerk).appeals == []
    assert unrelated.id not in [a.id for a in repeats.find_possible_repeats(
        reg_data(phone="", summary="Басқа тақырып"), users.clerk).appeals]

    repeat = workflow.register_appeal(reg_data(iin=VALID_IIN), users.clerk, link_repeat_of=by_iin.id)
    assert repeat.repeat_of_id == by_iin.id
    assert queries.parse_list_filters({"repeats": "1"})["repeats"] is True


def test_the_repeat_check_shows_the_newest_similar_appeals_of_a_busy_settlement(reg_appeal, reg_data, reference, users):
    settlement = reference.settlements[1].id
    now = local_now().replace(microsecond=0)
    similar = [reg_appeal(phone="", settlement_id=settlement, received_at=now - timedelta(hours=n),
                          summary=f"Сортөбе ауылында ауыз су жоқ {n}") for n in range(1, 15)]
    for n in range(1, 6):
        reg_appeal(phone="", settlement_id=settlement, received_at=now - timedelta(minutes=n),
                   summary=f"Мектептің шатыры ағады, жөндеу керек {n}")
    found = repeats.find_possible_repeats(reg_data(phone="", settlement_id=settlement,
                                                   summary="Сортөбе ауылында ауыз су жоқ"), users.clerk, limit=5).appeals
    assert [a.id for a in found] == [a.id for a in similar[:5]]
    # The appeal being checked is not its own repeat, and the next newest takes its place.
    found = repeats.find_possible_repeats(reg_data(phone="", settlement_id=settlement, exclude_id=similar[0].id,
                                                   summary="Сортөбе ауылында ауыз су жоқ"), users.clerk, limit=5).appeals
    assert [a.id for a in found] == [a.id for a in similar[1:6]]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="абвгдеәғқңөұүһі су жоқ 12", max_size=40), st.text(alphabet="абвгдеәғқңөұүһі су жоқ 12", max_size=40))
def test_the_summary_similarity_shortcuts_give_the_plain_rules_answer(a, b):
    # The plain rule: the better of difflib's ratio and the words' Jaccard index, of the folded texts.
    folded_a, folded_b = repeats._normalise_text(a), repeats._normalise_text(b)
    if folded_a and folded_b:
        words_a, words_b = set(folded_a.split()), set(folded_b.split())
        plain = max(difflib.SequenceMatcher(None, folded_a, folded_b).ratio(),
                    len(words_a & words_b) / len(words_a | words_b))
    else:
        plain = 0.0
    for threshold in (0.3, 0.5, repeats.SIMILARITY_THRESHOLD, 0.9):
        assert repeats._Similarity(a).reaches(b, threshold) == (plain >= threshold)


# --- Masking ----------------------------------------------------------------------------------

def test_masking_per_role(reg_appeal, reg_session, users, db):
    appeal = reg_appeal(iin=VALID_IIN, channel="session", session_id=reg_session.id, host_id=reg_session.hosts[1].id,
                        received_at=local_now().replace(hour=0, minute=1, second=0, microsecond=0))
    from appeals.auth.permissions import personal_view

    clerk_view = personal_view(appeal, users.clerk)
    assert (clerk_view.iin, clerk_view.phone, clerk_view.masked) == (VALID_IIN, "+77011234567", False)
    for user in (users.host, users.viewer):
        view = personal_view(appeal, user)
        assert view.masked and not view.can_reveal
        assert view.iin == VALID_IIN[:4] + "******" + VALID_IIN[-2:]
        assert view.phone.startswith("+770") and "*" in view.phone and VALID_IIN not in view.iin
    assert personal_view(appeal, users.viewer).name == "Әбілқасымов Е. С."
    coordinator = personal_view(appeal, users.coordinator)
    assert coordinator.masked and coordinator.can_reveal
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditRecord.action == "personal_data_viewed")) == 0
    revealed = personal_data.reveal_personal_data(appeal, users.coordinator)
    assert revealed.iin == VALID_IIN and not revealed.masked
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "personal_data_viewed"))
    assert (record.username, record.object_id) == ("coordinator", str(appeal.id))
    # A viewer asking to reveal still gets masked data.
    assert personal_data.reveal_personal_data(appeal, users.viewer).masked


# --- List filters -----------------------------------------------------------------------------

def _numbers(db, filters, user):
    return sorted(a.number for a in db.session.scalars(queries.build_list_query(filters, user)))


def test_list_filters(reg_appeal, reference, users, reg_session, db):
    now = local_now().replace(second=0, microsecond=0)
    a1 = reg_appeal(appeal_type="complaint", channel="phone", received_at=now - timedelta(days=40))
    a2 = reg_appeal(category_id=reference.categories[1].id, settlement_id=reference.settlements[1].id,
                    summary="Ауыз су құбыры", applicant_name="Сейтқали Дина")
    a3 = reg_appeal(channel="session", session_id=reg_session.id, host_id=reg_session.hosts[1].id,
                    received_at=now.replace(hour=0, minute=1))
    m1 = reg_appeal(actor=users.coordinator, office_id=reference.merke.id, settlement_id=reference.settlements[2].id)
    workflow.transition(a2, "in_review", users.clerk)
    coordinator = users.coordinator
    assert _numbers(db, {}, coordinator) == sorted([a1.number, a2.number, a3.number, m1.number])
    assert _numbers(db, {"office": reference.merke.id}, coordinator) == [m1.number]
    assert _numbers(db, {"appeal_type": "complaint"}, coordinator) == [a1.number]
    assert _numbers(db, {"channel": "session"}, coordinator) == [a3.number]
    assert _numbers(db, {"category": reference.categories[1].id}, coordinator) == [a2.number]
    assert _numbers(db, {"settlement": reference.settlements[2].id}, coordinator) == [m1.number]
    assert _numbers(db, {"host": reg_session.hosts[1].id}, coordinator) == [a3.number]
    assert _numbers(db, {"status": "in_review"}, coordinator) == [a2.number]
    assert a2.number not in _numbers(db, {"status": "registered"}, coordinator)
    assert _numbers(db, {"status": "open"}, coordinator) == sorted([a1.number, a2.number, a3.number, m1.number])
    assert _numbers(db, {"date_to": (now - timedelta(days=30)).date()}, coordinator) == [a1.number]
    assert a1.number not in _numbers(db, {"date_from": (now - timedelta(days=30)).date()}, coordinator)
    # a1 was received 40 days ago: its 15 working days are over.
    assert _numbers(db, {"overdue": True}, coordinator) == [a1.number]
    assert _numbers(db, {"q": "сейтқали"}, coordinator) == [a2.number]
    assert _numbers(db, {"q": "құбыры"}, coordinator) == [a2.number]
    assert _numbers(db, {"q": a3.number.lower()}, coordinator) == [a3.number]
    assert _numbers(db, {"q": "жоқсөз"}, coordinator) == []
    # Scope: clerks see their office, hosts what they received, viewers the region.
    assert _numbers(db, {}, users.clerk) == sorted([a1.number, a2.number, a3.number])
    assert _numbers(db, {}, users.other_clerk) == [m1.number]
    assert _numbers(db, {}, users.host) == [a3.number]
    assert len(_numbers(db, {}, users.viewer)) == 4
    # Sorting.
    newest = db.session.scalars(queries.build_list_query({"sort": "-received"}, coordinator)).first()
    assert newest.received_at == max(a.received_at for a in (a1, a2, a3, m1))
    first_due = db.session.scalars(queries.build_list_query({"sort": "due"}, coordinator)).first()
    assert first_due.id == a1.id


def test_district_filter_goes_by_the_settlement_not_the_office(reg_appeal, reference, users, db):
    kordai_district, merke_district = reference.districts
    in_kordai = reg_appeal(settlement_id=reference.settlements[0].id)
    also_in_kordai = reg_appeal(settlement_id=reference.settlements[1].id)
    # Registered by the Kordai office, about a village of the Merke district.
    in_merke = reg_appeal(settlement_id=reference.settlements[3].id)
    by_merke_office = reg_appeal(actor=users.coordinator, office_id=reference.merke.id,
                                 settlement_id=reference.settlements[2].id)
    anonymous = reg_appeal(applicant_kind="anonymous", settlement_id="")
    coordinator = users.coordinator
    assert _numbers(db, {"district": kordai_district.id}, coordinator) == sorted([in_kordai.number,
                                                                                 also_in_kordai.number])
    assert _numbers(db, {"district": merke_district.id}, coordinator) == sorted([in_merke.number,
                                                                                by_merke_office.number])
    # An appeal without a settlement is in no district, but still in the unfiltered list.
    assert anonymous.number in _numbers(db, {}, coordinator)
    # Combined with the other filters: a settlement of the district, or of another one (nothing).
    assert _numbers(db, {"district": merke_district.id, "settlement": reference.settlements[3].id},
                    coordinator) == [in_merke.number]
    assert _numbers(db, {"district": kordai_district.id, "settlement": reference.settlements[3].id},
                    coordinator) == []
    assert _numbers(db, {"district": merke_district.id, "office": reference.merke.id},
                    coordinator) == [by_merke_office.number]
    # The user's scope still applies: the Kordai clerk does not see the Merke office's appeal.
    assert _numbers(db, {"district": merke_district.id}, users.clerk) == [in_merke.number]
    # A district that does not exist (or has no settlements yet) has no appeals.
    assert _numbers(db, {"district": merke_district.id + 1000}, coordinator) == []


@pytest.mark.parametrize("value", ["", "0", " "])
def test_parse_list_filters_reads_no_district_as_none(value):
    assert queries.parse_list_filters({"district": value})["district"] is None


@pytest.mark.parametrize("value", ["x", "-3", "1.5", "99999999999"])
def test_parse_list_filters_reports_a_bad_district(app_ctx, value):
    from appeals.core.parsing import FieldErrors, ParseError

    errors = FieldErrors()
    assert queries.parse_list_filters({"district": value}, errors)["district"] is None
    assert list(errors.errors) == ["district"]
    with pytest.raises(ParseError):
        queries.parse_list_filters({"district": value})


def test_parse_list_filters_reads_the_district():
    assert queries.parse_list_filters({"district": " 7 "})["district"] == 7
    assert queries.parse_list_filters({})["district"] is None


def test_search_by_iin_and_phone_only_for_roles_that_see_them(reg_appeal, users, db):
    appeal = reg_appeal(iin=VALID_IIN)
    assert _numbers(db, {"q": VALID_IIN}, users.clerk) == [appeal.number]
    assert _numbers(db, {"q": "8 701 123 45 67"}, users.clerk) == [appeal.number]
    assert _numbers(db, {"q": VALID_IIN}, users.viewer) == []


def test_parse_list_filters_reports_and_drops_bad_values(app_ctx):
    from appeals.core.parsing import FieldErrors

    errors = FieldErrors()
    filters = queries.parse_list_filters({"office": "x", "date_from": "2021-13-01", "status": "lost", "overdue": "1",
                                           "sort": "DROP TABLE", "q": "  Ахмет   Қордай "}, errors)
    assert filters["office"] is None and filters["date_from"] is None and filters["status"] is None
    assert filters["overdue"] is True and filters["sort"] == "-received" and filters["q"] == "Ахмет Қордай"
    assert set(errors.errors) == {"office", "date_from", "status", "sort"}


def test_deadline_state_and_home_watch(reg_appeal, users, db):
    overdue = reg_appeal(received_at=local_now() - timedelta(days=40))
    fresh = reg_appeal()
    assert deadlines.deadline_state(overdue) == "overdue"
    assert deadlines.deadline_state(fresh) is None
    db.session.execute(sa.update(Appeal).where(Appeal.id == fresh.id).values(due_date=local_today()))
    db.session.commit()
    assert deadlines.deadline_state(db.session.get(Appeal, fresh.id)) == "due_soon"
    late, soon = queries.deadline_watch(users.clerk)
    assert [a.id for a in late] == [overdue.id] and [a.id for a in soon] == [fresh.id]
    assert queries.deadline_watch(users.other_clerk) == ([], [])
