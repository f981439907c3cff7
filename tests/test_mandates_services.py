"""Directive criteria, flagging, merging, unflagging, progress and statistics (services directly)."""
import threading
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from appeals.core.audit import AuditRecord
from appeals.core.numbering import NumberSequence
from appeals.mandates import criteria, directives, flagging, lifecycle, queries
from appeals.mandates.models import Directive, Mandate, MandateAppeal


def _ids(query, db):
    return {a.id for a in db.session.scalars(query)}


# --- Directive validation ---------------------------------------------------------------------


def test_create_directive_defaults_and_audit(db, make_directive):
    directive = make_directive(issuer="", appeal_types=["proposal"], keywords="Жол;  СУ\nжол")
    assert make_directive(number="2", keywords=["Газ", " газ", "Су"]).keywords == "газ, су"
    assert directive.issuer  # the central office by default
    assert directive.keywords == "жол, су"
    assert directive.numbering == "directive"
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "directive.create"))
    assert record.object_id == str(directive.id)


def test_contradictory_criteria_refused_with_all_field_errors(db, users, directive_data):
    data = {**directive_data, "valid_from": date(2025, 3, 31), "valid_to": date(2025, 3, 1),
            "received_from": "2025-03-20", "received_to": "2025-03-10", "min_signatories": 0,
            "target_count": -5, "title": ""}
    with pytest.raises(directives.DirectiveError) as error:
        directives.create_directive(data, users.coordinator)
    assert set(error.value.errors) == {"valid_to", "received_to", "min_signatories", "target_count", "title"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Directive)) == 0


def test_unknown_ids_and_bad_dates_refused(db, users, directive_data):
    with pytest.raises(directives.DirectiveError) as error:
        directives.create_directive({**directive_data, "category_ids": [999], "issued_on": "yesterday"}, users.coordinator)
    assert set(error.value.errors) == {"category_ids", "issued_on"}


def test_update_directive_audits_diff(db, users, make_directive):
    directive = make_directive()
    directives.update_directive(directive, {"title": "Жаңа атау", "target_count": 10}, users.coordinator)
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "directive.update"))
    assert record.changes["title"][1] == "Жаңа атау"
    assert record.changes["target_count"] == [None, 10]


# --- Criteria matching -------------------------------------------------------------------------


@pytest.fixture
def varied(reference, make_appeal):
    """Appeals differing in one property each from a 'base' one."""
    s = reference.settlements
    c = reference.categories
    return {
        "base": make_appeal(summary="Көшені жөндеу", received_at=datetime(2025, 3, 10, 9)),
        "complaint": make_appeal(appeal_type="complaint", received_at=datetime(2025, 3, 10, 9)),
        "water": make_appeal(category_id=c[1].id, received_at=datetime(2025, 3, 10, 9)),
        "merke": make_appeal(settlement_id=s[2].id, office=reference.merke, received_at=datetime(2025, 3, 10, 9)),
        "sortobe": make_appeal(settlement_id=s[1].id, received_at=datetime(2025, 3, 10, 9)),
        "road_caps": make_appeal(summary="ЖОЛДЫ асфальттау керек", received_at=datetime(2025, 3, 10, 9)),
        "road_text": make_appeal(summary="Өтініш", text="Біздің ауылдағы жол бұзылған", received_at=datetime(2025, 3, 10, 9)),
        "collective": make_appeal(applicant_kind="collective", signatories=40, received_at=datetime(2025, 3, 10, 9)),
        "early": make_appeal(received_at=datetime(2025, 2, 27, 18)),
        "late": make_appeal(received_at=datetime(2025, 3, 31, 23, 59)),
    }


@pytest.mark.parametrize("chosen, criterion, expected", [
    ({"appeal_types": ["proposal"]}, "appeal_types", {"complaint"}),
    ({"category_ids": "roads"}, "categories", {"water"}),
    ({"settlement_ids": "kordai"}, "place", {"merke", "sortobe"}),
    ({"district_ids": "kordai_district"}, "place", {"merke"}),
    ({"keywords": "жол"}, "keywords", None),
    ({"min_signatories": 10}, "min_signatories", None),
    ({"received_from": date(2025, 3, 1), "received_to": date(2025, 3, 30)}, "received_window", {"early", "late"}),
])
def test_each_criterion_alone(db, reference, varied, make_directive, chosen, criterion, expected):
    resolved = dict(chosen)
    if resolved.get("category_ids") == "roads":
        resolved["category_ids"] = [reference.categories[0].id]
    if resolved.get("settlement_ids") == "kordai":
        resolved["settlement_ids"] = [reference.settlements[0].id]
    if resolved.get("district_ids") == "kordai_district":
        resolved["district_ids"] = [reference.districts[0].id]
    directive = make_directive(**resolved)
    if criterion == "keywords":
        matching = {"road_caps", "road_text"}
    elif criterion == "min_signatories":
        matching = {"collective"}
    else:
        matching = set(varied) - expected
    for name, appeal in varied.items():
        if name in matching:
            assert criteria.matches(directive, appeal) == [criterion], name
            assert criteria.unmet_criteria(directive, appeal) == []
        else:
            assert criteria.unmet_criteria(directive, appeal) == [criterion], name
    # The SQL query agrees with the Python check, on SQLite and PostgreSQL alike.
    assert _ids(criteria.candidate_query(directive), db) == {varied[n].id for n in matching}


def test_no_criteria_means_every_appeal(db, varied, make_directive):
    directive = make_directive()
    assert criteria.matches(directive, varied["base"]) == []
    assert _ids(criteria.candidate_query(directive), db) == {a.id for a in varied.values()}


def test_combined_criteria(db, reference, varied, make_directive, make_appeal):
    both = make_appeal(summary="Жолды жөндеу", applicant_kind="collective", signatories=12,
                       received_at=datetime(2025, 3, 12, 9))
    make_appeal(summary="Жолды жөндеу", appeal_type="complaint", signatories=12, received_at=datetime(2025, 3, 12, 9))
    directive = make_directive(appeal_types=["proposal", "statement"], keywords="жол, асфальт",
                               min_signatories=10, district_ids=[reference.districts[0].id],
                               received_from=date(2025, 3, 1), received_to=date(2025, 3, 31))
    assert criteria.matches(directive, both) == ["appeal_types", "place", "keywords", "min_signatories", "received_window"]
    assert criteria.unmet_criteria(directive, varied["road_caps"]) == ["min_signatories"]
    assert set(criteria.unmet_criteria(directive, varied["merke"])) == {"place", "keywords", "min_signatories"}
    assert _ids(criteria.candidate_query(directive), db) == {both.id}


def test_keywords_fold_kazakh_and_russian_letters(db, make_appeal, make_directive):
    kazakh = make_appeal(summary="ҚҰДЫҚ ҚАЗУ ҚАЖЕТ")
    russian = make_appeal(summary="Нужен ремонт", text="ВОДОПРОВОД в селе Отар")
    other = make_appeal(summary="Percent % and under_score")
    directive = make_directive(keywords="құдық, водопровод")
    assert _ids(criteria.candidate_query(directive), db) == {kazakh.id, russian.id}
    assert criteria.matched_keywords(directive, russian) == ["водопровод"]
    # LIKE wildcards typed as keywords are literal characters.
    wild = make_directive(number="13", keywords="_")
    assert _ids(criteria.candidate_query(wild), db) == {other.id}


def test_candidates_exclude_flagged_and_withdrawn_and_filter(db, users, reference, make_appeal, make_directive):
    a, b = make_appeal(summary="Су құбыры"), make_appeal(office=reference.merke, summary="Мектеп")
    make_appeal(status="withdrawn")
    directive = make_directive()
    flagging.flag_appeals(directive, [a.id], users.coordinator)
    assert _ids(criteria.candidate_query(directive), db) == {b.id}
    assert _ids(criteria.candidate_query(directive, {"office_id": reference.kordai.id}), db) == set()
    assert _ids(criteria.candidate_query(directive, {"q": "МЕКТ"}), db) == {b.id}
    assert _ids(criteria.candidate_query(directive, {"q": b.number}), db) == {b.id}
    # Under another directive the flagged appeal is still a candidate.
    assert a.id in _ids(criteria.candidate_query(make_directive(number="99")), db)


# --- Flagging ----------------------------------------------------------------------------------


def test_bulk_flag_creates_one_mandate_per_appeal_without_touching_appeal(db, users, make_appeal, make_directive):
    appeals = [make_appeal() for _ in range(5)]
    directive = make_directive(appeal_types=["proposal"], valid_to=date(2099, 12, 31))
    before = [(a.status, a.due_date) for a in appeals]
    mandates = flagging.flag_appeals(directive, [a.id for a in appeals], users.coordinator)
    assert [m.number for m in mandates] == [f"A-{directive.id}-{n:04d}" for n in range(1, 6)]
    assert [m.seq for m in mandates] == [1, 2, 3, 4, 5]
    for mandate, appeal in zip(mandates, appeals):
        assert mandate.title == appeal.summary and mandate.office_id == appeal.office_id
        assert mandate.target_date == date(2099, 12, 31)
        assert [link.appeal_id for link in mandate.active_links] == [appeal.id]
    db.session.expire_all()
    assert [(a.status, a.due_date) for a in appeals] == before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord).where(AuditRecord.action == "mandate.flag")) == 5


def test_flag_twice_under_one_directive_refused_whole_batch(db, users, make_appeal, make_directive):
    a, b = make_appeal(), make_appeal()
    directive = make_directive()
    flagging.flag_appeals(directive, [a.id], users.coordinator)
    with pytest.raises(directives.MandateError) as error:
        flagging.flag_appeals(directive, [b.id, a.id], users.coordinator)
    assert a.number in error.value.message
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 1
    # The refused batch did not consume a number.
    assert flagging.flag_appeals(directive, [b.id], users.coordinator)[0].seq == 2


def test_override_needs_reason_and_is_audited(db, users, make_appeal, make_directive):
    complaint = make_appeal(appeal_type="complaint")
    directive = make_directive(appeal_types=["proposal"])
    with pytest.raises(directives.MandateError) as error:
        flagging.flag_appeals(directive, [complaint.id], users.coordinator)
    assert error.value.field == "override_reason"
    assert error.value.details == [complaint.number]
    [mandate] = flagging.flag_appeals(directive, [complaint.id], users.coordinator, override_reason="Депутат ұсынды")
    assert mandate.links[0].override_reason == "Депутат ұсынды"
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "mandate.flag_override"))
    assert record.changes["unmet"] == ["appeal_types"] and record.changes["override_reason"] == "Депутат ұсынды"


def test_withdrawn_appeal_and_closed_directive_refused(db, users, make_appeal, make_directive):
    directive = make_directive()
    with pytest.raises(directives.MandateError):
        flagging.flag_appeals(directive, [make_appeal(status="withdrawn").id], users.coordinator)
    expired = make_directive(number="old", valid_from=date(2020, 1, 1), valid_to=date(2020, 12, 31))
    with pytest.raises(directives.MandateError) as error:
        flagging.flag_appeals(expired, [make_appeal().id], users.coordinator)
    assert error.value.field == "directive"
    with pytest.raises(directives.MandateError):
        flagging.flag_appeals(directive, [], users.coordinator)


def test_merge_several_appeals_into_one_mandate(db, users, reference, make_appeal, make_directive):
    road = [make_appeal(summary="Жолды жөндеу") for _ in range(3)]
    directive = make_directive()
    [joint] = flagging.flag_appeals(directive, [road[0].id, road[1].id], users.coordinator, as_one=True)
    assert [link.appeal_id for link in joint.active_links] == [road[0].id, road[1].id]
    [same] = flagging.flag_appeals(directive, [road[2].id], users.coordinator, merge_into=joint)
    assert same.id == joint.id
    assert len(same.active_links) == 3
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 1
    links = queries.mandates_for_appeal(road[2])
    assert [link.mandate.number for link in links] == [joint.number]
    other = make_directive(number="77")
    with pytest.raises(directives.MandateError):
        flagging.flag_appeals(other, [make_appeal().id], users.coordinator, merge_into=joint)


def test_unflag_with_reason_withdraws_empty_mandate_and_number_not_reused(db, users, make_appeal, make_directive):
    a, b, c = make_appeal(), make_appeal(), make_appeal()
    directive = make_directive()
    [joint] = flagging.flag_appeals(directive, [a.id, b.id], users.coordinator, as_one=True)
    with pytest.raises(directives.MandateError):
        flagging.unflag(joint.links[0], "  ", users.coordinator)
    flagging.unflag(a, "Қате белгіленді", users.coordinator)
    db.session.expire_all()
    joint = db.session.get(Mandate, joint.id)
    assert joint.status == "registered" and [link.appeal_id for link in joint.active_links] == [b.id]
    removed = db.session.scalar(sa.select(MandateAppeal).where(MandateAppeal.appeal_id == a.id))
    assert removed.removed_reason == "Қате белгіленді" and removed.removed_by_id == users.coordinator.id
    flagging.unflag(joint.active_links[0], "Өтініш беруші бас тартты", users.coordinator)
    db.session.expire_all()
    joint = db.session.get(Mandate, joint.id)
    assert joint.status == "withdrawn" and joint.withdrawn_reason == "Өтініш беруші бас тартты"
    with pytest.raises(directives.MandateError):
        flagging.unflag(joint.links[0], "again", users.coordinator)
    # The appeal can be flagged again; it gets a new number, the old one stays with the withdrawn mandate.
    [again] = flagging.flag_appeals(directive, [a.id, c.id], users.coordinator, as_one=True)
    assert again.seq == 2 and again.number != joint.number
    actions = db.session.scalars(sa.select(AuditRecord.action).where(AuditRecord.action.like("mandate.%"))).all()
    assert actions.count("mandate.unflag") == 2 and "mandate.withdraw" in actions


def test_year_numbering_shared_by_prefix(db, users, make_appeal, make_directive):
    from appeals.core.timeutil import local_today

    d1 = make_directive(numbering="year", number_prefix="AM")
    d2 = make_directive(number="2", numbering="year", number_prefix="AM")
    m1 = flagging.flag_appeals(d1, [make_appeal().id], users.coordinator)[0]
    m2 = flagging.flag_appeals(d2, [make_appeal().id], users.coordinator)[0]
    year = local_today().year
    assert (m1.number, m2.number) == (f"AM-{year}-0001", f"AM-{year}-0002")
    with pytest.raises(directives.DirectiveError):
        directives.update_directive(d1, {"numbering": "directive"}, users.coordinator)


def test_numbering_under_concurrency(app, db, users, make_appeal, make_directive):
    appeals = [make_appeal() for _ in range(12)]
    directive = make_directive()
    directive_id, coordinator_id = directive.id, users.coordinator.id
    errors = []

    def worker(chunk):
        with app.app_context():
            try:
                from appeals.auth.models import User
                from appeals.core.extensions import db as _db
                from appeals.mandates.models import Directive

                actor = _db.session.get(User, coordinator_id)
                for appeal_id in chunk:
                    flagging.flag_appeals(_db.session.get(Directive, directive_id), [appeal_id], actor)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker, args=([a.id for a in appeals[i::4]],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.rollback()  # end the test's own read snapshot to see the workers' commits
    seqs = sorted(db.session.scalars(sa.select(Mandate.seq).where(Mandate.directive_id == directive_id)))
    assert seqs == list(range(1, 13))
    counter = db.session.scalar(sa.select(NumberSequence.last_value).where(
        NumberSequence.scope == f"mandate:directive:{directive_id}"))
    assert counter == 12


def test_same_appeal_flagged_concurrently_only_once(app, db, users, make_appeal, make_directive):
    appeal = make_appeal()
    directive = make_directive()
    ids = (directive.id, users.coordinator.id, appeal.id)
    outcomes = []
    barrier = threading.Barrier(3)

    def worker():
        with app.app_context():
            from appeals.auth.models import User
            from appeals.core.extensions import db as _db
            from appeals.mandates.models import Directive

            actor = _db.session.get(User, ids[1])
            target = _db.session.get(Directive, ids[0])
            barrier.wait()
            try:
                flagging.flag_appeals(target, [ids[2]], actor)
                outcomes.append("ok")
            except directives.MandateError:
                outcomes.append("refused")
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused", "refused"]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 1


# --- Mandate life ------------------------------------------------------------------------------


def test_update_mandate_status_rules(db, users, make_appeal, make_directive):
    [mandate] = flagging.flag_appeals(make_directive(), [make_appeal().id], users.coordinator)
    lifecycle.update_mandate(mandate, {"title": "Көшені жарықтандыру", "responsible": "Ауыл әкімдігі",
                                      "target_date": "2025-12-31", "status": "in_progress"}, users.coordinator)
    with pytest.raises(directives.MandateError) as error:
        lifecycle.update_mandate(mandate, {"status": "registered"}, users.coordinator)
    assert error.value.field == "status"
    with pytest.raises(directives.MandateError) as error:
        lifecycle.update_mandate(mandate, {"title": "", "progress_percent": 120}, users.coordinator)
    assert set(error.value.details) == {"title", "progress_percent"}
    mandate = lifecycle.update_mandate(mandate, {"status": "fulfilled"}, users.coordinator)
    assert mandate.progress_percent == 100 and mandate.target_date == date(2025, 12, 31)
    record = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "mandate.update")).all()[-1]
    assert record.changes["status"] == ["in_progress", "fulfilled"]


def test_progress_notes_move_progress(db, users, make_appeal, make_directive):
    from appeals.core.timeutil import local_today

    [mandate] = flagging.flag_appeals(make_directive(), [make_appeal().id], users.coordinator)
    lifecycle.add_progress_note(mandate, local_today() - timedelta(days=3), "Жобалық-сметалық құжат дайындалды", 30,
                               users.coordinator)
    db.session.expire_all()
    mandate = db.session.get(Mandate, mandate.id)
    assert mandate.progress_percent == 30 and mandate.status == "in_progress"
    assert [n.progress_percent for n in mandate.notes] == [30]
    with pytest.raises(directives.MandateError) as error:
        lifecycle.add_progress_note(mandate, local_today() + timedelta(days=1), "", 130, users.coordinator)
    assert set(error.value.details) == {"noted_on", "note", "percent"}


def test_overdue_and_scoped_mandate_query(db, users, reference, make_appeal, make_directive, make_host):
    host = make_host(users.host)
    own = make_appeal(host_id=host.id)
    merke = make_appeal(office=reference.merke)
    directive = make_directive(valid_to=None)
    m_own, m_merke = flagging.flag_appeals(directive, [own.id, merke.id], users.coordinator)
    lifecycle.update_mandate(m_merke, {"target_date": date(2020, 1, 1)}, users.coordinator)

    def numbers(filters, user):
        return {m.number for m in db.session.scalars(queries.build_mandate_query(filters, user))}

    assert numbers({}, users.coordinator) == {m_own.number, m_merke.number}
    assert numbers({"overdue": True}, users.viewer) == {m_merke.number}
    assert numbers({}, users.clerk) == {m_own.number}
    assert numbers({}, users.other_clerk) == {m_merke.number}
    assert numbers({}, users.host) == {m_own.number}
    assert numbers({"office_id": reference.merke.id, "status": "open"}, users.admin) == {m_merke.number}
    assert numbers({"settlement_id": reference.settlements[1].id}, users.admin) == set()
