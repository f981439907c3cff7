"""The central office's level (issue 17, item 5): a coordinator's scope is their own region, the
central office sees every region and issues directives to all, through every door."""
import datetime as dt

import pytest
import sqlalchemy as sa


@pytest.fixture
def south(app_ctx, reference, users, make_user):
    """A second region (Turkistan) with its regional office, a coordinator, a viewer and a clerk."""
    from appeals.core.extensions import db
    from appeals.reference.models import District, Office, Region, Settlement

    region = Region(code="TUR", name_kk="Түркістан облысы", name_ru="Туркестанская область")
    district = District(region=region, code="SRM", name_kk="Сайрам ауданы", name_ru="Сайрамский район")
    settlement = Settlement(district=district, name_kk="Ақсу", name_ru="Аксу", kato="511001")
    office = Office(code="TKM", name_kk="Түркістан облыстық филиалы", name_ru="Туркестанский областной филиал",
                    kind="regional", region=region, district=district, address="Түркістан, Тәуке хан 2")
    db.session.add_all([region, district, settlement, office])
    db.session.commit()

    class South:
        pass

    s = South()
    s.region, s.district, s.settlement, s.office = region, district, settlement, office
    s.coordinator = make_user("coordinator.south", "coordinator", region_code="TUR")
    s.viewer = make_user("viewer.south", "viewer", region_code="TUR")
    s.clerk = make_user("clerk.south", "clerk", [office])
    return s


@pytest.fixture
def two_regions(south, reference, users, make_appeal):
    """One appeal in each region, the Zhambyl one with personal data."""
    north_appeal = make_appeal(office=reference.kordai, iin="880101300123", phone="+77011234567",
                               summary="Қордайға жол керек")
    south_appeal = make_appeal(office=south.office, settlement_id=south.settlement.id, summary="Ақсуға су керек")
    return north_appeal, south_appeal


def _client(app, user):
    from tests.conftest import PASSWORD

    client = app.test_client()
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def test_coordinator_sees_only_their_region_through_pages_and_api(app, two_regions, south, users):
    from appeals.api import tokens

    north, south_appeal = two_regions
    client = _client(app, south.coordinator)
    page = client.get("/appeals").get_data(as_text=True)
    assert south_appeal.number in page and north.number not in page
    assert client.get(f"/appeals/{north.id}").status_code in (403, 404)
    assert client.get(f"/appeals/{south_appeal.id}").status_code == 200
    assert client.post(f"/appeals/{north.id}/transition", data={"status": "in_review"}).status_code in (403, 404)
    # The journal PDF, the card and the export are the same list and the same check.
    assert client.get(f"/reports/appeals/{north.id}/card.pdf").status_code in (403, 404)
    bearer = {"Authorization": f"Bearer {tokens.create_token(south.coordinator, 't')[1]}"}
    listed = client.get("/api/v1/appeals", headers=bearer).get_json()["items"]
    assert [a["number"] for a in listed] == [south_appeal.number]
    assert client.get(f"/api/v1/appeals/{north.id}", headers=bearer).status_code in (403, 404)
    # The Zhambyl coordinator, the other way round.
    north_client = _client(app, users.coordinator)
    assert north_client.get(f"/appeals/{south_appeal.id}").status_code in (403, 404)
    assert south_appeal.number not in north_client.get("/appeals").get_data(as_text=True)


def test_viewer_of_a_region_sees_that_region_only(app, two_regions, south):
    north, south_appeal = two_regions
    client = _client(app, south.viewer)
    page = client.get("/appeals").get_data(as_text=True)
    assert south_appeal.number in page and north.number not in page
    assert client.get(f"/appeals/{north.id}").status_code in (403, 404)


def test_central_office_sees_every_region_masked_and_changes_nothing(app, two_regions, users):
    north, south_appeal = two_regions
    client = _client(app, users.central)
    page = client.get("/appeals").get_data(as_text=True)
    assert north.number in page and south_appeal.number in page
    detail = client.get(f"/appeals/{north.id}").get_data(as_text=True)
    assert "880101300123" not in detail and "1234567" not in detail
    assert client.get(f"/appeals/{north.id}/edit").status_code == 403
    assert client.post(f"/appeals/{north.id}/transition", data={"status": "in_review"}).status_code in (403, 404)
    # No search by personal data for a masked role.
    assert north.number not in client.get("/appeals?q=880101300123").get_data(as_text=True)


def test_statistics_count_the_users_region(app, two_regions, south, users):
    from appeals.api import tokens
    from appeals.auth.permissions import stats_office_ids, visible_office_ids
    from appeals.reports import statistics

    north, south_appeal = two_regions
    day = north.received_at.date()
    args = {"start": day.isoformat(), "end": day.isoformat()}
    everything = statistics.figures(day, day)
    assert everything["appeals_received"] == 2
    south_only = statistics.figures(day, day, office_ids=stats_office_ids(south.coordinator))
    assert south_only["appeals_received"] == 1
    assert visible_office_ids(users.central) is None
    for user, expected in ((south.coordinator, 1), (users.coordinator, 1), (users.central, 2)):
        client = _client(app, user)
        page = client.get("/mandates/statistics", query_string=args).get_data(as_text=True)
        assert f'data-stat="appeals_received">{expected}<' in page, user.username
        dashboard = client.get("/reports", query_string={"date_from": day.isoformat(), "date_to": day.isoformat()})
        assert dashboard.status_code == 200
        bearer = {"Authorization": f"Bearer {tokens.create_token(user, 'stats')[1]}"}
        api = client.get("/api/v1/statistics", query_string={"start": day.isoformat(), "end": day.isoformat()},
                         headers=bearer).get_json()
        assert api["totals"]["appeals_received"] == expected, user.username
        codes = {row["office_code"] for row in api["offices"]}
        assert ("TKM" in codes) == (user is not users.coordinator)
        assert ("KRD" in codes) == (user is not south.coordinator)


def test_directives_by_level(app, two_regions, south, users, directive_data):
    """Central directives go to every region; a region's own stay in it; each level changes its own."""
    from appeals.api import tokens
    from appeals.mandates import directives

    central = directives.create_directive({**directive_data, "number": "1-Ц"}, users.central)
    north_own = directives.create_directive({**directive_data, "number": "2-Ж"}, users.coordinator)
    assert central.region_id is None and north_own.region_id == users.coordinator.region_id

    south_client = _client(app, south.coordinator)
    listed = south_client.get("/directives").get_data(as_text=True)
    assert "1-Ц" in listed and "2-Ж" not in listed
    assert south_client.get(f"/directives/{north_own.id}").status_code == 403
    assert south_client.get(f"/directives/{central.id}").status_code == 200
    assert south_client.get(f"/directives/{central.id}/edit").status_code == 403
    bearer = {"Authorization": f"Bearer {tokens.create_token(south.coordinator, 'd')[1]}"}
    numbers = [d["number"] for d in south_client.get("/api/v1/directives", headers=bearer).get_json()["items"]]
    assert numbers == ["1-Ц"]
    assert south_client.get(f"/api/v1/directives/{north_own.id}", headers=bearer).status_code == 403
    assert south_client.patch(f"/api/v1/directives/{central.id}", json={"title": "x" * 10},
                              headers=bearer).status_code == 403

    central_client = _client(app, users.central)
    both = central_client.get("/directives").get_data(as_text=True)
    assert "1-Ц" in both and "2-Ж" in both
    assert central_client.get(f"/directives/{central.id}/edit").status_code == 200
    assert central_client.get(f"/directives/{north_own.id}/edit").status_code == 403
    with pytest.raises(directives.DirectiveError) as refused:
        directives.update_directive(north_own, {"title": "Басқа атау"}, users.central)
    assert refused.value.kind == "forbidden"


def test_flagging_under_a_central_directive_stays_in_the_region(app, two_regions, south, users, directive_data):
    from appeals.mandates import directives, flagging

    north, south_appeal = two_regions
    central = directives.create_directive({**directive_data, "number": "1-Ц"}, users.central)
    client = _client(app, south.coordinator)
    candidates = client.get(f"/directives/{central.id}/candidates?all=1").get_data(as_text=True)
    assert south_appeal.number in candidates and north.number not in candidates
    with pytest.raises(directives.MandateError):
        flagging.flag_appeals(central, [north.id], south.coordinator)
    south_mandate = flagging.flag_appeals(central, [south_appeal.id], south.coordinator)[0]
    north_mandate = flagging.flag_appeals(central, [north.id], users.coordinator)[0]
    # Adding one region's appeal to another region's mandate is refused as well.
    with pytest.raises(directives.MandateError):
        flagging.flag_appeals(central, [south_appeal.id], users.coordinator, merge_into=south_mandate)

    mandates = client.get("/mandates").get_data(as_text=True)
    assert south_mandate.number in mandates and north_mandate.number not in mandates
    assert client.get(f"/mandates/{north_mandate.id}").status_code in (403, 404)
    assert client.get(f"/mandates/{north_mandate.id}/edit").status_code in (403, 404)
    # The directive's progress counts the region's mandates for its coordinator, all for the central office.
    from appeals.mandates.queries import directive_progress

    assert directive_progress(central, south.coordinator)["mandates"] == 1
    assert directive_progress(central, users.central)["mandates"] == 2
    central_page = _client(app, users.central).get("/mandates").get_data(as_text=True)
    assert south_mandate.number in central_page and north_mandate.number in central_page


def test_a_coordinator_approves_only_their_regions_sessions(app, south, users):
    from appeals.core.extensions import db
    from appeals.core.timeutil import local_today
    from appeals.schedules import sessions as schedule_sessions
    from appeals.schedules.models import Host

    host = Host(full_name="Оспанов Ерлан", kind="deputy", office_id=south.office.id)
    db.session.add(host)
    db.session.commit()
    monday = local_today() + dt.timedelta(days=7 - local_today().weekday())
    draft = schedule_sessions.create_session({
        "office_id": south.office.id, "host_ids": [host.id], "date": monday, "start_time": dt.time(10, 0),
        "end_time": dt.time(12, 0), "room": "1", "capacity": 10, "topic": "Су"}, south.coordinator)
    with pytest.raises(schedule_sessions.ScheduleError):
        schedule_sessions.approve_sessions([draft.id], users.coordinator)
    assert _client(app, users.coordinator).get(f"/schedule/sessions/{draft.id}").status_code in (403, 404)
    assert schedule_sessions.approve_sessions([draft.id], south.coordinator) == 1


def test_accounts_name_their_region(app, south, reference, users, runner):
    from appeals.auth import services
    from appeals.core.extensions import db

    # Two regions: a coordinator or viewer must name theirs.
    with pytest.raises(services.AccountError) as missing:
        services.create_user("coord.new", "Tulpar-Zhol-2026", "coordinator")
    assert missing.value.field == "region"
    with pytest.raises(services.AccountError):
        services.create_user("coord.new", "Tulpar-Zhol-2026", "coordinator", region_code="NOPE")
    central = services.create_user("central.two", "Tulpar-Zhol-2026", "central", region_code="TUR")
    assert central.region_id is None  # the central office works for every region
    result = runner.invoke(args=["create-user", "viewer.tur", "--role", "viewer", "--region", "tur"],
                           input="Tulpar-Zhol-2026\n")
    assert result.exit_code == 0, result.output
    created = services.find_user("viewer.tur")
    assert created.region_id == south.region.id
    # The admin form: the region is a choice, saved and audited.
    client = _client(app, users.admin)
    page = client.get(f"/admin/users/{created.id}").get_data(as_text=True)
    assert 'name="region_code"' in page and "TUR" in page
    response = client.post(f"/admin/users/{created.id}", data={
        "username": created.username, "role": "viewer", "region_code": "ZHA", "full_name": "", "email": "",
        "locale": "", "is_active": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert db.session.get(type(created), created.id).region_id == reference.region.id
    from appeals.core.audit import AuditRecord

    record = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "user_updated")
                                .order_by(AuditRecord.id.desc())).first()
    assert record.changes["region_id"] == [south.region.id, reference.region.id]


def test_an_office_belongs_to_its_regions(app, south, reference, users):
    from appeals.reference import services

    with pytest.raises(services.ReferenceError) as wrong:
        services.save_office({"code": "XX1", "name_kk": "a", "name_ru": "b", "kind": "territorial",
                              "parent_id": reference.regional.id, "region_id": south.region.id}, users.admin)
    assert wrong.value.field == "region_id"
    with pytest.raises(services.ReferenceError) as district:
        services.save_office({"code": "XX2", "name_kk": "a", "name_ru": "b", "kind": "territorial",
                              "parent_id": south.office.id, "district_id": reference.districts[0].id}, users.admin)
    assert district.value.field == "district_id"
    office = services.save_office({"code": "XX3", "name_kk": "a", "name_ru": "b", "kind": "territorial",
                                   "parent_id": south.office.id}, users.admin)
    assert office.region_id == south.region.id  # the parent office's region


def test_morning_escalations_go_to_the_offices_regions_coordinators(app, south, users):
    from appeals.notifications.duties import _active_users, _coordinators_of

    people = _active_users()
    assert [u.username for u in _coordinators_of(south.office.id, people)] == ["coordinator.south"]
    assert "coordinator.south" not in [u.username for u in _coordinators_of(users.clerk.offices[0].id, people)]


def test_printed_documents_carry_the_users_region(app, south, users):
    from appeals.reports.services import org_name

    assert org_name("kk", south.coordinator) == "Түркістан облыстық филиалы"
    assert org_name("kk", users.coordinator) == "Облыстық филиал"


def test_list_filters_offer_the_districts_and_settlements_of_the_users_region(app, south, reference, users):
    import re

    def offered(user):
        page = _client(app, user).get("/appeals").get_data(as_text=True)
        district = re.search(r'<select id="district".*?</select>', page, re.S).group(0)
        settlement = re.search(r'<select id="settlement".*?</select>', page, re.S).group(0)
        return (f'value="{south.district.id}"' in district, f'value="{south.settlement.id}"' in settlement,
                f'value="{reference.settlements[0].id}"' in settlement)

    # (the Turkistan district, its settlement, a Zhambyl settlement)
    assert offered(south.clerk) == (True, True, False)
    assert offered(south.coordinator) == (True, True, False)
    assert offered(users.coordinator) == (False, False, True)
    assert offered(users.central) == (True, True, True)


@pytest.mark.parametrize("cached", [False, True], ids=["read afresh", "kept per process"])
def test_list_filters_per_region_stay_right_when_kept_and_follow_an_edit(app, south, reference, users, monkeypatch,
                                                                          cached):
    # The filter lists are kept per process under the reference data's version (reference/cache.py): one
    # region's lists never reach another region's user, and a renamed settlement shows at once.
    import re

    from appeals.core.extensions import db

    monkeypatch.setitem(app.config, "REFERENCE_CACHE", cached)

    def settlements(user):
        page = _client(app, user).get("/appeals").get_data(as_text=True)
        return re.search(r'<select id="settlement".*?</select>', page, re.S).group(0)

    def offices(user):
        page = _client(app, user).get("/appeals").get_data(as_text=True)
        return re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>',
                          re.search(r'<select id="office".*?</select>', page, re.S).group(0))

    # (the south's region has one office, so its coordinator gets no office filter at all)
    assert reference.kordai.code in offices(users.coordinator) and "" not in offices(users.coordinator)
    assert south.office.code not in offices(users.coordinator)
    assert set(offices(users.central)) >= {south.office.code, reference.kordai.code}

    assert "Ақсу" in settlements(south.coordinator) and "Ақсу" not in settlements(users.coordinator)
    assert reference.settlements[0].name_kk in settlements(users.coordinator)
    db.session.get(type(south.settlement), south.settlement.id).name_kk = "Жаңа Ақсу"
    db.session.commit()
    assert "Жаңа Ақсу" in settlements(south.coordinator)
    assert "Ақсу" not in settlements(users.coordinator)
