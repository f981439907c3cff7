"""The registration and coordinator forms after the user trial (issue 14, items 2–8)."""
import re
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from appeals.core.audit import AuditRecord
from appeals.core.timeutil import local_now, local_today
from appeals.register import validation, workflow
from appeals.register.models import Appeal
from appeals.schedules.models import ReceptionSession
from tests.fixtures_register import an_hour_ago


def _html(response):
    return response.get_data(as_text=True)


def _form(reference, when=None, **overrides):
    when = when or an_hour_ago()
    data = {
        "office_id": str(reference.kordai.id), "received_date": f"{when:%d.%m.%Y}", "received_time": f"{when:%H:%M}",
        "channel": "letter", "applicant_kind": "individual", "applicant_name": "Сәрсенбаев Нұрлан",
        "iin": "", "phone": "", "address": "", "settlement_id": str(reference.settlements[0].id),
        "appeal_type": "statement", "category_id": str(reference.categories[0].id),
        "summary": "Ауылдағы көшені жарықтандыру", "save": "1",
    }
    data.update(overrides)
    return data


def _appeals(db):
    db.session.rollback()
    return db.session.scalars(sa.select(Appeal).order_by(Appeal.id)).all()


# --- Item 2: the possible-repeat warning ---------------------------------------------------------

def _checked_repeat(html):
    return re.findall(r'<input type="radio" form="appeal-form" name="repeat_of" value="(\d*)" id="[^"]+" checked>', html)


def test_a_similar_summary_alone_defaults_to_not_a_repeat(client, login, users, reference, reg_appeal, db):
    earlier = reg_appeal(summary="Ауылдағы көшені жарықтандыру", phone="", applicant_name="Басқа Адам")
    login(users.clerk)
    response = client.post("/appeals/new", data=_form(reference))
    html = _html(response)
    assert earlier.number in html
    assert _checked_repeat(html) == [""]  # "not a repeat"
    assert "data-autofocus-error" in html


def test_the_same_phone_suggests_linking(client, login, users, reference, reg_appeal, db):
    earlier = reg_appeal(summary="Мүлде басқа тақырып", phone="+7 701 123 45 67")
    login(users.clerk)
    html = _html(client.post("/appeals/new", data=_form(reference, phone="8 701 123 45 67")))
    assert _checked_repeat(html) == [str(earlier.id)]


# --- Item 3: the office ---------------------------------------------------------------------------

def test_the_office_defaults_to_the_last_used_else_the_regional(client, login, make_user, reference, db):
    clerk = make_user("clerk.two", "clerk", [reference.merke, reference.regional])
    login(clerk)
    html = _html(client.get("/appeals/new"))
    assert re.search(rf'<option selected value="{reference.regional.id}"|<option value="{reference.regional.id}" selected', html)
    workflow.register_appeal({**_service_data(reference), "office_id": reference.merke.id,
                              "settlement_id": reference.settlements[2].id}, clerk)
    html = _html(client.get("/appeals/new"))
    assert re.search(rf'<option selected value="{reference.merke.id}"|<option value="{reference.merke.id}" selected', html)


def test_the_main_office_set_by_the_admin_comes_before_the_last_used(client, login, make_user, users, reference, db):
    from appeals.auth import services as accounts

    clerk = make_user("clerk.main", "clerk", [reference.merke, reference.regional])
    workflow.register_appeal({**_service_data(reference), "office_id": reference.regional.id,
                              "settlement_id": reference.settlements[2].id}, clerk)
    # The admin sets the clerk's main office on the user form; it is audited.
    login(users.admin)
    page = client.get(f"/admin/users/{clerk.id}").get_data(as_text=True)
    assert 'name="main_office"' in page
    response = client.post(f"/admin/users/{clerk.id}", data={
        "username": clerk.username, "full_name": "", "email": "", "role": "clerk", "offices": ["MRK", "ZHM"],
        "main_office": "MRK", "locale": "", "is_active": "y", "password": ""})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    db.session.refresh(clerk)
    assert clerk.main_office_id == reference.merke.id
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "user_updated")
                               .order_by(AuditRecord.id.desc()))
    assert record.changes["main_office"] == [None, "MRK"]
    client.post("/logout")
    login(clerk)
    html = _html(client.get("/appeals/new"))
    assert re.search(rf'<option selected value="{reference.merke.id}"|<option value="{reference.merke.id}" selected', html)
    # It must be one of the clerk's offices.
    with pytest.raises(accounts.AccountError) as error:
        accounts.update_user(clerk, role="clerk", office_codes=["MRK"], full_name="", email="", locale=None,
                             is_active=True, actor=users.admin, main_office_code="KRD")
    assert error.value.field == "main_office"


def _service_data(reference):
    return {"office_id": reference.kordai.id, "received_at": an_hour_ago(),
            "channel": "letter", "applicant_kind": "individual", "applicant_name": "Ахметов Ерлан",
            "settlement_id": reference.settlements[0].id, "appeal_type": "proposal",
            "category_id": reference.categories[0].id, "summary": "Жол"}


def test_a_coordinator_corrects_the_office_before_the_first_status_change(users, reference, db):
    appeal = workflow.register_appeal(_service_data(reference), users.clerk)
    workflow.update_appeal(appeal, {"office_id": reference.merke.id}, users.coordinator)
    db.session.expire_all()
    appeal = db.session.get(Appeal, appeal.id)
    assert appeal.office_id == reference.merke.id and appeal.number.startswith("KRD-")  # the number stays
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "updated"))
    assert record.changes["office_id"] == [reference.kordai.id, reference.merke.id]
    workflow.transition(appeal, "in_review", users.coordinator)
    try:
        workflow.update_appeal(db.session.get(Appeal, appeal.id), {"office_id": reference.kordai.id}, users.coordinator)
    except validation.AppealError as exc:
        assert exc.field == "office"
    else:
        raise AssertionError("the office changed after the first status change")


def test_a_clerk_cannot_move_an_appeal_to_another_office(app, client, login, users, reference, db):
    appeal = workflow.register_appeal(_service_data(reference), users.clerk)
    login(users.clerk)
    edit = _html(client.get(f"/appeals/{appeal.id}/edit"))
    assert 'name="office_id"' not in edit
    client.post(f"/appeals/{appeal.id}/edit", data={**_form(reference), "office_id": str(reference.merke.id)})
    assert _appeals(db)[0].office_id == reference.kordai.id
    coordinator = login(users.coordinator, test_client=app.test_client())
    edit = _html(coordinator.get(f"/appeals/{appeal.id}/edit"))
    assert re.search(r'<select[^>]*id="office_id"', edit)


# --- Items 4 and 5: received date and time --------------------------------------------------------

def test_separate_date_and_time_fields_register_the_moment(client, login, users, reference, db):
    login(users.clerk)
    html = _html(client.get("/appeals/new"))
    assert 'id="received_date"' in html and 'id="received_time"' in html and 'type="datetime-local"' not in html
    when = (local_now() - timedelta(hours=2)).replace(second=0, microsecond=0)
    response = client.post("/appeals/new", data=_form(reference, when))
    assert response.status_code == 302, _html(response)[:3000]
    assert _appeals(db)[0].received_at == when


def test_a_six_digit_year_is_refused(client, login, users, reference, db):
    login(users.clerk)
    response = client.post("/appeals/new", data=_form(reference, received_date="01.12.202620"))
    assert response.status_code == 400 and 'id="received_date-error"' in _html(response)
    assert _appeals(db) == []


def test_an_empty_date_takes_the_chosen_session(client, login, users, reference, reg_session, db):
    login(users.clerk)
    html = _html(client.get("/appeals/new"))
    assert f'data-date="{reg_session.date:%d.%m.%Y}"' in html and 'data-time="00:00"' in html
    response = client.post("/appeals/new", data=_form(
        reference, channel="session", session_id=str(reg_session.id), host_id=str(reg_session.hosts[0].id),
        received_date="", received_time=""))
    assert response.status_code == 302, _html(response)[:3000]
    assert _appeals(db)[0].received_at == datetime.combine(reg_session.date, time(0, 0))


def test_more_than_30_days_back_asks_for_a_reason(client, login, users, reference, db):
    login(users.clerk)
    long_ago = (local_now() - timedelta(days=45)).replace(hour=10, minute=0, second=0, microsecond=0)
    asked = client.post("/appeals/new", data=_form(reference, long_ago))
    assert asked.status_code == 400
    html = _html(asked)
    assert 'id="backdate_reason"' in html and 'id="received_date-error"' in html
    assert _appeals(db) == []
    done = client.post("/appeals/new", data=_form(reference, long_ago, backdate_reason="Хат поштада кешікті"))
    assert done.status_code == 302
    [appeal] = _appeals(db)
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "created"))
    assert record.changes["backdate_reason"] == "Хат поштада кешікті" and appeal.received_at == long_ago


def test_29_days_back_needs_no_reason(client, login, users, reference, db):
    login(users.clerk)
    response = client.post("/appeals/new", data=_form(reference, local_now() - timedelta(days=29)))
    assert response.status_code == 302


# --- Item 6: the session picker ------------------------------------------------------------------

def test_the_session_picker_lists_held_or_started_sessions_grouped_by_day(client, login, users, reference, db):
    today = local_today()
    now = local_now()

    def add(day, start, status):
        session = ReceptionSession(office_id=reference.kordai.id, date=day, start_time=start,
                                   end_time=time(23, 59), status=status)
        db.session.add(session)
        db.session.commit()
        return session

    held = add(today - timedelta(days=3), time(10, 0), "held")
    started = add(today - timedelta(days=1), time(9, 0), "approved")
    draft = add(today - timedelta(days=2), time(9, 0), "draft")
    cancelled = add(today - timedelta(days=2), time(11, 0), "cancelled")
    later = add(today + timedelta(days=1), time(0, 0), "approved") if now.hour < 23 else None
    login(users.clerk)
    html = _html(client.get("/appeals/new"))
    select = html[html.index('id="session_id"'):html.index("</select>", html.index('id="session_id"'))]
    ids = re.findall(r'<option[^>]*value="(\d+)"', select)
    assert ids == [str(started.id), str(held.id)]  # the most recent first
    assert str(draft.id) not in ids and str(cancelled.id) not in ids and (later is None or str(later.id) not in ids)
    assert select.count("<optgroup") == 2 and 'id="session-search"' in html


# --- Items 7 and 8: markers, counter, menu, the new user's role ------------------------------------

def test_required_fields_are_marked_and_the_summary_has_a_counter(app, client, login, users):
    login(users.clerk)
    html = _html(client.get("/appeals/new"))
    name_field = html[html.index('for="applicant_name"') - 200:html.index('id="applicant_name"') + 200]
    assert 'class="req"' in name_field and "required" in name_field
    assert 'data-counter-for="summary"' in html
    admin = login(users.admin, test_client=app.test_client())
    html = _html(admin.get("/admin/users/new"))
    password = html[html.index('for="password"') - 200:html.index('id="password"') + 200]
    assert 'class="req"' in password


def _current_menu(html):
    return re.findall(r'<a href="([^"]+)" aria-current="page">', html)


def test_the_menu_highlights_the_page_itself(app, client, login, users):
    login(users.clerk)
    assert _current_menu(_html(client.get("/appeals/new"))) == ["/appeals/new"]
    assert _current_menu(_html(client.get("/appeals"))) == ["/appeals"]
    coordinator = login(users.coordinator, test_client=app.test_client())
    assert _current_menu(_html(coordinator.get("/directives"))) == ["/directives"]
    assert _current_menu(_html(coordinator.get("/mandates"))) == ["/mandates"]


def test_the_new_users_role_is_a_required_choice_without_default(client, login, users, db):
    from appeals.auth.models import User

    login(users.admin)
    html = _html(client.get("/admin/users/new"))
    start = re.search(r'<select[^>]*id="role"', html).start()
    role = html[start:html.index("</select>", start)]
    assert "required" in role and "selected" not in role and '<option value="">' in role
    response = client.post("/admin/users/new", data={"username": "no.role", "password": "long-enough-password",
                                                     "role": "", "is_active": "y"})
    assert response.status_code == 200 and 'id="role-error"' in _html(response)
    db.session.rollback()
    assert db.session.scalar(sa.select(User).where(User.username == "no.role")) is None
