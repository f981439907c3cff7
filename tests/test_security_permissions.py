"""Every route, as every role and as an anonymous visitor, gives the status its role deserves.

The routes come from `app.url_map`, so a page added tomorrow is checked too: a route without an
entry in EXPECTED fails `test_every_route_has_an_expectation` until someone decides who may open it.

Sample objects (an appeal, a session, a host, a directive, a mandate...) belong to the Merke
office, so the Kordai clerk meets them as another office's data: object-level refusals (IDOR)
are part of the matrix.
"""
import datetime as dt

import pytest

ROLES = ("admin", "central", "coordinator", "clerk", "host", "viewer")
ANON = "anonymous"

# Who may open each endpoint. "public": everyone including anonymous visitors; "user": any
# logged-in role; otherwise the set of roles allowed. API endpoints (token auth) are marked
# with api=True: anonymous gets 401 there instead of a redirect to the login page.
PUBLIC, USER = "public", "user"
ALL = set(ROLES)


def E(who, api=False, anon=None, every=None, data=None, multipart=False, params=None):
    """`every`: the one outcome for everybody; `data(samples)`: form fields a POST needs to reach its check;
    `multipart`: an API file upload, sent as multipart/form-data (JSON would be refused before the check);
    `params(samples)`: URL values of its own (an object that another route's allowed write removes)."""
    return {"who": who, "api": api, "anon": anon, "every": every, "data": data, "multipart": multipart,
            "params": params}


EXPECTED = {
    "static": E(PUBLIC),
    "auth.login": E(PUBLIC),
    "auth.logout": E(PUBLIC, every="login"),  # always back to the login form
    "auth.set_language": E(PUBLIC),
    "auth.change_password": E(USER),
    # Without a pending sign-in the second step sends back to the login form (signed-in users: home).
    "auth.login_totp": E(USER),
    "auth.totp_setup": E(USER),
    "home.index": E(USER),
    # Administration
    "admin.users": E({"admin"}),
    "admin.new_user": E({"admin"}),
    "admin.edit_user": E({"admin"}),
    "admin.audit_log": E({"admin"}),
    "admin.deadlines": E({"admin"}),
    "letters.templates": E({"admin"}),
    # The sample appeal is not answered: no letter for anybody (who may see it: tests/test_answer_letters.py).
    "letters.appeal_letter": E(set()),
    "notifications.log": E({"admin"}),
    "notifications.inbox": E(USER),
    "reference.categories": E({"admin"}),
    "reference.districts": E({"admin"}),
    "reference.offices": E({"admin"}),
    "reference.settlements": E({"admin"}),
    "reference.edit_category": E({"admin"}),
    "reference.edit_district": E({"admin"}),
    "reference.edit_office": E({"admin"}),
    "reference.edit_region": E({"admin"}),
    "reference.edit_settlement": E({"admin"}),
    "reference.import_settlements": E({"admin"}),
    "reference.export_settlements": E({"admin"}),
    "reference.new_category": E({"admin"}),
    "reference.new_district": E({"admin"}),
    "reference.new_office": E({"admin"}),
    "reference.new_region": E({"admin"}),
    "reference.new_settlement": E({"admin"}),
    # Schedules: the session and host belong to Merke, a draft.
    "schedules.public_schedule": E(PUBLIC),
    # Booking: the sample session is a draft (not bookable, unknown to citizens) and the sample
    # token is not a booking's signed link, so the citizen's pages answer 404 to everybody.
    "bookings.book": E(PUBLIC, every="deny"),
    "bookings.booking": E(PUBLIC, every="deny"),
    "bookings.cancel": E(PUBLIC, every="deny"),
    "bookings.day": E({"coordinator", "clerk"}),
    "bookings.open_slots": E({"coordinator"}),
    "bookings.mark": E({"coordinator"}),
    # The citizen's pages: no login. A confirmation page, tracking link or file with a made-up
    # id or a bad signature is 404 for everybody.
    "citizen.appeal_form": E(PUBLIC),
    "citizen.confirm": E(PUBLIC, every="deny"),
    "citizen.receipt": E(PUBLIC),
    "citizen.track": E(PUBLIC),
    "citizen.track_link": E(PUBLIC, every="deny"),
    "citizen.track_file": E(PUBLIC, every="deny"),
    "letters.track_letter": E(PUBLIC, every="deny"),
    "schedules.host_feed": E(PUBLIC),  # the secret token in the URL is the credential
    "schedules.calendar": E(ALL),
    "schedules.my_schedule": E({"host"}),
    "schedules.approve": E({"coordinator"}),
    # A draft of another office: only coordinators and admins (issue 13, finding 20: not viewers).
    "schedules.session_detail": E({"admin", "coordinator"}),
    "schedules.new_session": E({"admin", "coordinator", "clerk"}),
    "schedules.edit_session": E({"admin", "coordinator"}),
    "schedules.cancel": E({"admin", "coordinator"}),
    "schedules.mark_held": E({"coordinator"}),
    "schedules.generate": E({"admin", "coordinator", "clerk"}),
    "schedules.hosts": E({"admin", "coordinator"}),
    "schedules.new_host": E({"admin", "coordinator"}),
    "schedules.edit_host": E({"admin", "coordinator"}),
    "schedules.host_feed_token": E({"admin", "coordinator"}),
    # Register: the appeal belongs to Merke.
    "register.list_appeals": E({"central", "coordinator", "clerk", "host", "viewer"}),
    "register.new_appeal": E({"coordinator", "clerk"}),
    "register.appeal_detail": E({"central", "coordinator", "viewer"}),
    "register.edit_appeal": E({"coordinator"}),
    "register.transition": E({"coordinator"}),
    "register.forward": E({"coordinator"}),
    "register.extend": E({"coordinator"}),
    "register.suspend": E({"coordinator"}),
    # Resuming a running clock is refused as a conflict (409) even for those who may.
    "register.resume": E({"coordinator"}),
    "register.export": E({"coordinator", "clerk"}),
    "register.import_appeals": E({"coordinator", "clerk"}),
    "register.import_template": E({"coordinator", "clerk"}),
    # The Merke appeal's files: masked roles (viewer, host) and other offices' clerks get none.
    "register.attachment_upload": E({"coordinator"}),
    "register.attachment_download": E({"coordinator"}),
    "register.attachment_remove": E({"coordinator"}),
    # Mandates
    "mandates.list_directives": E({"admin", "central", "coordinator", "viewer"}),
    "mandates.directive_detail": E({"admin", "central", "coordinator", "viewer"}),
    "mandates.new_directive": E({"admin", "central", "coordinator"}),
    # The sample directive is the region's own: the central office reads it, its coordinators change it.
    "mandates.edit_directive": E({"admin", "coordinator"}),
    "mandates.candidates": E({"coordinator"}),
    "mandates.list_mandates": E({"admin", "central", "coordinator", "clerk", "host", "viewer"}),
    "mandates.mandate_detail": E({"admin", "central", "coordinator", "viewer"}),
    "mandates.edit_mandate": E({"coordinator"}),
    "mandates.merge": E({"coordinator"}),
    "mandates.unflag": E({"coordinator"}, data=lambda s: {"link_id": s.mandate.links[0].id}),
    "mandates.bulk_edit": E({"coordinator"}),
    "mandates.combine": E({"coordinator"}),
    "mandates.add_progress": E({"coordinator"}),
    "mandates.public_text": E({"coordinator"}),
    "mandates.photo": E({"admin", "central", "coordinator", "viewer"}),
    "mandates.export": E({"admin", "central", "coordinator", "clerk", "host", "viewer"}),
    "mandates.import_updates": E({"coordinator"}),
    # Public mandates pages: no login (the sample mandate is published; a draft one is a 404 for all).
    "public_mandates.index": E(PUBLIC),
    "public_mandates.summary": E(PUBLIC),
    "public_mandates.feed": E(PUBLIC),
    "public_mandates.detail": E(PUBLIC),
    "public_mandates.photo": E(PUBLIC),
    "public_mandates.subscribe": E(PUBLIC, data=lambda s: {"mandate": s.params["number"], "email": "matrix@example.kz"}),
    "public_mandates.confirm": E(PUBLIC),
    "public_mandates.unsubscribe": E(PUBLIC),
    "mandates.unpublish": E({"coordinator"}),
    "reports.mandate_statistics": E({"admin", "central", "coordinator", "viewer"}),
    # Printed documents
    "reports.dashboard": E({"admin", "central", "coordinator", "viewer"}),
    # Mandate reports up the chain: the sample is Merke's October report, submitted by Merke's coordinator.
    "reports.chain_reports": E({"central", "coordinator", "viewer"}),
    "reports.chain_report": E({"central", "coordinator", "viewer"}),
    "reports.chain_submit": E({"coordinator"}, data=lambda s: {
        "office_id": s.params["office_id"], "date_from": s.report.period_start.isoformat(),
        "date_to": s.report.period_end.isoformat()}),
    "reports.chain_review": E({"coordinator"}, data=lambda s: {"decision": "return", "comment": "Түзетіңіз"}),
    "reports.chain_region_pdf": E({"central", "coordinator", "viewer"}),
    "reports.chain_region_xlsx": E({"central", "coordinator", "viewer"}),
    "reports.summary_pdf": E({"admin", "central", "coordinator", "viewer"}),
    "reports.journal_pdf": E({"central", "coordinator", "clerk", "viewer"}),
    "reports.card_pdf": E({"central", "coordinator", "viewer"}),  # the Merke appeal
    "reports.mandates_pdf": E(ALL),
    "reports.schedule_pdf": E(ALL),
    # The sample job is the viewer's own: nobody else learns that it exists.
    "reports.job_status": E({"viewer"}),
    "reports.job_download": E({"viewer"}),
    # API (Bearer tokens)
    "api.docs": E(PUBLIC),
    "api.openapi": E(PUBLIC),
    # The token pages (cookie login): the sample token is the viewer's; an admin may revoke anyone's.
    "tokens.page": E(USER),
    "tokens.revoke": E({"admin", "viewer"}),
    # One's own tokens through the API: another account's token is 404 to everyone else.
    "api.list_tokens": E(ALL, api=True),
    "api.create_token": E(ALL, api=True),
    "api.revoke_token": E({"viewer"}, api=True),
    "api.me": E(ALL, api=True),
    "api.list_offices": E(ALL, api=True),
    # Documents through the API (issue 18, item 2): the pages' rules; the sample job is the viewer's.
    "api.journal_document": E({"central", "coordinator", "clerk", "viewer"}, api=True),
    "api.mandates_document": E(ALL, api=True),
    "api.schedule_document": E(ALL, api=True),
    "api.card_document": E({"central", "coordinator", "viewer"}, api=True),
    "api.summary_document": E({"admin", "central", "coordinator", "viewer"}, api=True),
    "api.get_job": E({"viewer"}, api=True),
    "api.download_job": E({"viewer"}, api=True),
    # Reference data: read by every client, written by admins (issue 18, item 1).
    **{f"api.list_{kind}": E(ALL, api=True) for kind in ("regions", "districts", "settlements", "categories")},
    **{f"api.get_{kind}": E(ALL, api=True) for kind in ("region", "district", "settlement", "category")},
    **{f"api.{verb}_{kind}": E({"admin"}, api=True) for verb in ("create", "update")
       for kind in ("region", "district", "settlement", "category", "office")},
    "api.get_office": E(ALL, api=True),
    "api.list_hosts": E(ALL, api=True),
    "api.get_host": E(ALL, api=True),
    "api.create_host": E({"admin", "coordinator"}, api=True),
    "api.update_host": E({"admin", "coordinator"}, api=True),
    "api.list_sessions": E(ALL, api=True),
    "api.get_session": E({"admin", "coordinator"}, api=True),
    "api.create_session": E({"admin", "coordinator", "clerk"}, api=True),
    # Bulk calls (issue 18, item 6): the role check first; rows are checked one by one after it.
    "api.create_sessions": E({"admin", "coordinator", "clerk"}, api=True),
    "api.mark_sessions_held": E({"coordinator", "clerk", "host"}, api=True),
    "api.create_appeals": E({"coordinator", "clerk"}, api=True),
    "api.update_session": E({"admin", "coordinator"}, api=True),
    "api.approve_sessions": E({"coordinator"}, api=True),
    # Valid bodies, so the request gets past validation to the object-level check.
    "api.cancel_session": E({"admin", "coordinator"}, api=True, data=lambda s: {"reason": "Зал жөнделуде"}),
    "api.mark_held": E({"coordinator"}, api=True, data=lambda s: {"visitors": 3}),
    "api.list_directives": E({"admin", "central", "coordinator", "viewer"}, api=True),
    "api.get_directive": E({"admin", "central", "coordinator", "viewer"}, api=True),
    "api.create_directive": E({"admin", "central", "coordinator"}, api=True),
    "api.update_directive": E({"admin", "coordinator"}, api=True),
    "api.flag_appeals": E({"coordinator"}, api=True),
    "api.list_mandates": E(ALL, api=True),
    "api.get_mandate": E({"admin", "central", "coordinator", "viewer"}, api=True),
    "api.update_mandate": E({"coordinator"}, api=True),
    "api.add_progress": E({"coordinator"}, api=True, data=lambda s: {
        "noted_on": dt.date.today().isoformat(), "note": "Жоба сметасы дайын", "percent": 20}),
    "api.statistics": E({"admin", "central", "coordinator", "viewer"}, api=True),
    "api.list_appeals": E({"central", "coordinator", "clerk", "host", "viewer"}, api=True),
    "api.search_appeals": E({"central", "coordinator", "clerk", "host", "viewer"}, api=True, data=lambda s: {"q": "су"}),
    "api.get_appeal": E({"central", "coordinator", "viewer"}, api=True),
    # The files as on the appeal page: the office's clerks and the region's coordinators, never masked roles.
    "api.list_attachments": E({"coordinator"}, api=True),
    "api.download_attachment": E({"coordinator"}, api=True),
    "api.add_attachments": E({"coordinator"}, api=True, multipart=True),
    "api.remove_attachment": E({"coordinator"}, api=True, params=lambda s: {"attachment_id": s.spare_attachment_id}),
    "api.create_appeal": E({"coordinator", "clerk"}, api=True),
    "api.update_appeal": E({"coordinator"}, api=True),
    "api.transition_appeal": E({"coordinator"}, api=True, data=lambda s: {"status": "in_review"}),
    "api.extend_appeal": E({"coordinator"}, api=True, data=lambda s: {
        "new_due_date": (s.appeal.due_date + dt.timedelta(days=10)).isoformat(), "reason": "Қосымша тексеру қажет"}),
}


@pytest.fixture
def samples(app_ctx, reference, users, tmp_path):
    """One object of every kind, all at the Merke office, and an API token for every role."""
    from appeals.api import tokens
    from appeals.core.timeutil import local_now, local_today
    from appeals.mandates import directives, flagging
    from appeals.register import workflow
    from appeals.schedules import hosts as schedule_hosts
    from appeals.schedules import sessions as schedule_sessions

    host = schedule_hosts.create_host({"full_name": "Досова Дана", "position": "Депутат", "kind": "deputy",
                                  "office_id": reference.merke.id}, users.coordinator)
    own_host = schedule_hosts.create_host({"full_name": "Әлімова Әлия", "position": "Кандидат", "kind": "candidate",
                                      "office_id": reference.kordai.id, "user_id": users.host.id}, users.coordinator)
    monday = local_today() + dt.timedelta(days=7 - local_today().weekday())
    session = schedule_sessions.create_session({
        "office_id": reference.merke.id, "host_ids": [host.id], "date": monday,
        "start_time": dt.time(10, 0), "end_time": dt.time(12, 0), "room": "1", "capacity": 10, "topic": "Су",
    }, users.coordinator)
    appeal = workflow.register_appeal({
        "office_id": reference.merke.id, "received_at": local_now() - dt.timedelta(hours=1), "channel": "phone",
        "host_id": host.id, "applicant_kind": "individual", "applicant_name": "Сәрсенова Айгүл",
        "phone": "+77011234567", "settlement_id": reference.settlements[2].id, "appeal_type": "proposal",
        "category_id": reference.categories[1].id, "summary": "Ауылға ауыз су құбырын тарту",
    }, users.other_clerk)
    directive = directives.create_directive({
        "issuer": "Орталық аппарат", "number": "7-Д", "issued_on": local_today() - dt.timedelta(days=30),
        "title": "Ұсыныстарды аманат ретінде тіркеу", "valid_from": local_today() - dt.timedelta(days=30),
    }, users.coordinator)
    mandate = flagging.flag_appeals(directive, [appeal.id], users.coordinator)[0]
    from appeals.mandates import lifecycle, publication
    from tests.hostile_files import photo_with_gps

    # A second, published mandate for the public pages (the matrix unflags the first one's appeal).
    public_appeal = workflow.register_appeal({
        "office_id": reference.merke.id, "received_at": local_now() - dt.timedelta(hours=2), "channel": "phone",
        "applicant_kind": "individual", "applicant_name": "Омаров Серік", "settlement_id": reference.settlements[2].id,
        "appeal_type": "proposal", "category_id": reference.categories[1].id, "summary": "Ауылға ауыз су",
    }, users.other_clerk)
    public_mandate = flagging.flag_appeals(directive, [public_appeal.id], users.coordinator)[0]
    publication.save_public_text(public_mandate, {"public_title": "Ауылға ауыз су"}, users.coordinator, publish=True)
    photo = lifecycle.add_progress_note(public_mandate, local_today(), "Жоба дайын", 10, users.coordinator,
                                        photos=[photo_with_gps()]).photos[0]
    from appeals.auth import services as accounts
    from appeals.reports import chain
    from tests.conftest import PASSWORD

    merke_coordinator = accounts.create_user("coord.merke", PASSWORD, "coordinator", ["MRK"])
    month_end = local_today().replace(day=1) - dt.timedelta(days=1)
    report = chain.submit_report(reference.merke, month_end.replace(day=1), month_end, merke_coordinator)
    _host, feed_secret = schedule_hosts.regenerate_feed_token(host, users.coordinator)
    api_tokens = {role: tokens.create_token(getattr(users, role), "matrix")[1] for role in ROLES}
    viewer_token = tokens.create_token(users.viewer, "viewer's second")[0]
    job = _viewer_job(users.viewer, tmp_path)
    from appeals.register import attachments
    from tests.hostile_files import simple_pdf

    attachment, spare_attachment = attachments.attach_files(
        appeal, [attachments.Upload("letter.pdf", simple_pdf()), attachments.Upload("spare.pdf", simple_pdf())],
        users.other_clerk)
    from appeals.core.extensions import db as _sdb
    from appeals.core.timeutil import utcnow
    from appeals.schedules.models import Booking

    booking = Booking(session_id=session.id, slot_start=dt.time(10, 0), name="Сәрсенова Айгүл", phone="+77011234567",
                      topic="Су", status="confirmed", locale="kk", created_at=utcnow())
    _sdb.session.add(booking)
    _sdb.session.commit()

    class Samples:
        pass

    s = Samples()
    s.host, s.own_host, s.session, s.appeal, s.directive, s.mandate = host, own_host, session, appeal, directive, mandate
    s.api_tokens = api_tokens
    s.report = report
    s.spare_attachment_id = spare_attachment.id
    s.params = {
        "user_id": users.other_clerk.id, "appeal_id": appeal.id, "session_id": session.id, "host_id": host.id,
        "directive_id": directive.id, "mandate_id": mandate.id, "token_id": viewer_token.id, "job_id": job.id,
        "attachment_id": attachment.id, "booking_id": booking.id, "public_id": "no-such-submission",
        "office_id": reference.merke.id, "category_id": reference.categories[0].id,
        "district_id": reference.districts[1].id, "region_id": reference.region.id,
        "settlement_id": reference.settlements[2].id, "code": "ru", "filename": "css/app.css",
        "token": feed_secret, "report_id": report.id, "number": public_mandate.number, "photo_id": photo.id,
    }
    return s


def _viewer_job(viewer, tmp_path):
    """A finished background journal of the viewer's, with its PDF in the result store."""
    from appeals.core.database import write_transaction
    from appeals.core.extensions import db
    from appeals.core.jobs import Job, JobResultData

    with write_transaction():
        job = Job(kind="journal_pdf", user_id=viewer.id, status="done", progress=1, total=1,
                  result_path="db", result_name="journal.pdf", params={})
        db.session.add(job)
        db.session.flush()
        db.session.add(JobResultData(job_id=job.id, data=b"%PDF-1.4\n%%EOF\n"))
    return job


def _url(app, rule, params):
    missing = [name for name in rule.arguments if name not in params]
    assert not missing, f"no sample value for {missing} in {rule.rule}: add one to the samples fixture"
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{name: params[name] for name in rule.arguments})


def _method(rule):
    for method in ("GET", "POST", "PATCH", "PUT", "DELETE"):
        if method in rule.methods:
            return method
    raise AssertionError(rule)


def _routes(app):
    # The API's writes last: their valid bodies really cancel the sample session, which other pages would notice.
    return sorted(app.url_map.iter_rules(),
                  key=lambda r: (r.endpoint.startswith("api.") and "GET" not in r.methods,
                                 r.endpoint == "api.cancel_session", r.endpoint, r.rule))


def test_every_route_has_an_expectation(app):
    unchecked = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(EXPECTED))
    assert not unchecked, (
        "These routes have no entry in tests/test_security_permissions.py EXPECTED; decide who may "
        f"open them: {unchecked}"
    )


def _outcome(response, api):
    status = response.status_code
    if status in (401,):
        return "401"
    if status in (403, 404):
        return "deny"
    if status in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return "login"
    if status >= 500:
        return f"error {status}"
    return "ok"


def _expected(entry, role):
    if entry["every"]:
        return entry["every"]
    who = entry["who"]
    if who == PUBLIC:
        return "ok"
    if role == ANON:
        return entry["anon"] or ("401" if entry["api"] else "login")
    if who == USER or role in who:
        return "ok"
    return "deny"


def test_permission_matrix(app, samples, users):
    from flask_login import FlaskLoginClient  # noqa: F401  (documentation: we log in through the form)

    from tests.conftest import PASSWORD

    clients = {ANON: app.test_client()}
    for role in ROLES:
        client = app.test_client()
        response = client.post("/login", data={"username": getattr(users, role).username, "password": PASSWORD})
        assert response.status_code == 302
        clients[role] = client

    mismatches = []
    for rule in _routes(app):
        entry = EXPECTED.get(rule.endpoint)
        if entry is None:
            continue
        url = _url(app, rule, {**samples.params, **(entry["params"](samples) if entry["params"] else {})})
        method = _method(rule)
        # Refused roles first: a write by an allowed role must not change what a refused one meets.
        for role, client in sorted(clients.items(), key=lambda item: _expected(entry, item[0]) == "ok"):
            headers = {}
            if entry["api"] and role != ANON:
                headers["Authorization"] = f"Bearer {samples.api_tokens[role]}"
            if rule.endpoint == "auth.logout" and role != ANON:
                client = app.test_client()  # logging out must not end the shared session of the matrix
            kwargs = {}
            if method != "GET":
                payload = entry["data"](samples) if entry["data"] else {}
                if entry["multipart"]:
                    kwargs = {"data": payload, "content_type": "multipart/form-data"}
                else:
                    kwargs = {"json": payload} if entry["api"] else {"data": payload}
            try:
                response = client.open(url, method=method, headers=headers, buffered=True, **kwargs)
            except Exception as exc:  # noqa: BLE001 - e.g. a streamed export failing half-way
                mismatches.append(f"{method} {url} ({rule.endpoint}) as {role}: raised {exc!r}")
                continue
            if response.status_code == 200 and response.mimetype == "text/html":
                from tests.test_security_web import inline_code_problems

                for problem in inline_code_problems(response.get_data(as_text=True)):
                    mismatches.append(f"{url} as {role}: {problem}")
            got, want = _outcome(response, entry["api"]), _expected(entry, role)
            if got != want:
                mismatches.append(f"{method} {url} ({rule.endpoint}) as {role}: got {got} [{response.status_code}], expected {want}")
    assert not mismatches, "\n".join(mismatches)


def test_api_without_a_token_is_401_problem_json(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 401


def test_other_offices_appeal_is_refused_but_own_office_sees_it(app, samples, users, login):
    """IDOR: guessing another office's appeal id gives nothing; the owning office's clerk gets the page."""
    from tests.conftest import PASSWORD

    outsider = login(users.clerk)
    owner = app.test_client()
    owner.post("/login", data={"username": users.other_clerk.username, "password": PASSWORD})
    appeal = samples.appeal
    for path in (f"/appeals/{appeal.id}", f"/appeals/{appeal.id}/edit", f"/appeals/{appeal.id}/extend",
                 f"/appeals/{appeal.id}/forward", f"/appeals/{appeal.id}/suspend"):
        refused = outsider.get(path)
        assert refused.status_code in (403, 404), path
        assert appeal.number not in refused.get_data(as_text=True)
        assert "Сәрсенова" not in refused.get_data(as_text=True)
        assert owner.get(path).status_code == 200, path
    changed = outsider.post(f"/appeals/{appeal.id}/transition", data={"status": "in_review"})
    assert changed.status_code in (403, 404)
    # Neither the whole list nor a search by the applicant's name reveals it.
    assert appeal.number not in outsider.get("/appeals").get_data(as_text=True)
    assert appeal.number not in outsider.get("/appeals?q=Сәрсенова").get_data(as_text=True)
    assert appeal.number in owner.get("/appeals").get_data(as_text=True)


def test_host_sees_only_appeals_received_in_person(app, samples, users, login):
    host_client = login(users.host)
    assert host_client.get(f"/appeals/{samples.appeal.id}").status_code in (403, 404)
    assert samples.appeal.number not in host_client.get("/appeals").get_data(as_text=True)
    assert host_client.get(f"/mandates/{samples.mandate.id}").status_code in (403, 404)


def test_api_refuses_other_offices_objects(app, samples, client):
    bearer = {"Authorization": f"Bearer {samples.api_tokens['clerk']}"}
    assert client.get(f"/api/v1/sessions/{samples.session.id}", headers=bearer).status_code in (403, 404)
    if "api.get_appeal" in app.view_functions:
        assert client.get(f"/api/v1/appeals/{samples.appeal.id}", headers=bearer).status_code in (403, 404)


def test_a_revoked_or_wrong_token_is_401(app, samples, client):
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer qab_not-a-real-token"}).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {samples.api_tokens['viewer']}"}).status_code == 200


@pytest.mark.parametrize("kind, url", [
    ("import_appeals", "/appeals/import?job={id}"),
    ("journal_pdf", "/reports/jobs/{id}"),
    ("journal_pdf", "/reports/jobs/{id}/download"),
])
def test_a_job_is_seen_by_its_owner_only_on_every_page(app, client, login, users, kind, url):
    """One rule (permissions: job.view) for the import's page and the documents' pages: not even a
    coordinator reads a clerk's job, whose result was made for the clerk's scope and masking."""
    from appeals.core.database import write_transaction
    from appeals.core.extensions import db
    from appeals.core.jobs import Job, JobResultData

    with app.app_context():
        with write_transaction():
            job = Job(kind=kind, user_id=users.clerk.id, status="done", progress=1, total=1, result_path="db",
                      result_name="journal.pdf", params={"office": "KRD", "filename": "a.csv", "phase": "done",
                                                         "imported": 0, "first": "", "last": ""})
            db.session.add(job)
            db.session.flush()
            db.session.add(JobResultData(job_id=job.id, data=b"%PDF-1.4\n%%EOF\n"))
        job_id = job.id
    login(users.coordinator)
    assert client.get(url.format(id=job_id)).status_code == 404
    client.post("/logout")
    login(users.clerk)
    assert client.get(url.format(id=job_id)).status_code == 200


def test_the_appeal_scope_with_bound_values_is_the_same_rule(app_ctx, db, users, reference, reg_appeal, reg_session):
    """Statements built once per process (the repeat check's) use the scope with bound parameters: for every
    role it selects the same appeals as scope_appeals, including a host's and a user without a region."""
    import sqlalchemy as sa

    from appeals.auth.permissions import appeal_scope, bound_appeal_scope, scope_appeals
    from appeals.register.models import Appeal

    host = next(h for h in reg_session.hosts if h.user_id == users.host.id)
    reg_appeal(channel="session", session_id=reg_session.id, host_id=host.id)
    reg_appeal()
    reg_appeal(actor=users.other_clerk, office_id=reference.merke.id)
    regionless = users.viewer
    regionless.region_id = None
    for user in (users.central, users.coordinator, users.clerk, users.other_clerk, users.host, users.admin, regionless):
        kind, params = appeal_scope(user)
        condition = bound_appeal_scope(kind)
        bound = sa.select(Appeal.id) if condition is None else sa.select(Appeal.id).where(condition)
        expected = set(db.session.scalars(scope_appeals(sa.select(Appeal.id), user)))
        assert set(db.session.scalars(bound, params)) == expected, user.username
    assert len(set(db.session.scalars(scope_appeals(sa.select(Appeal.id), users.host)))) == 1
    assert set(db.session.scalars(scope_appeals(sa.select(Appeal.id), regionless))) == set()
