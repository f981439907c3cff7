"""Script payloads typed into any text field come back as text: escaped in pages, literal in PDFs."""
import datetime as dt
import shutil
import subprocess

import pytest

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD = f"{SCRIPT}{IMG}"
RAW_MARKERS = ("<script>alert(1)", "<img src=x onerror")


@pytest.fixture
def hostile(app_ctx, reference, users):
    """An appeal, a session, a host, a directive and a mandate whose every free-text field holds the payload."""
    from appeals.core.timeutil import local_now, local_today
    from appeals.mandates import directives, flagging, lifecycle
    from appeals.register import workflow
    from appeals.schedules import hosts as schedule_hosts
    from appeals.schedules import sessions as schedule_sessions

    host = schedule_hosts.create_host({"full_name": "Хост " + PAYLOAD, "position": PAYLOAD, "kind": "deputy",
                                  "office_id": reference.kordai.id}, users.coordinator)
    monday = local_today() + dt.timedelta(days=7 - local_today().weekday())
    session = schedule_sessions.create_session({
        "office_id": reference.kordai.id, "host_ids": [host.id], "date": monday, "start_time": dt.time(10, 0),
        "end_time": dt.time(12, 0), "room": PAYLOAD[:100], "capacity": 5, "topic": PAYLOAD,
    }, users.coordinator)
    schedule_sessions.approve_sessions([session.id], users.coordinator)
    cancelled = schedule_sessions.create_session({
        "office_id": reference.kordai.id, "host_ids": [host.id], "date": monday, "start_time": dt.time(14, 0),
        "end_time": dt.time(15, 0), "room": "2", "topic": "x",
    }, users.coordinator)
    schedule_sessions.cancel_session(cancelled, "Себебі " + PAYLOAD, users.coordinator)
    appeal = workflow.register_appeal({
        "office_id": reference.kordai.id, "received_at": local_now() - dt.timedelta(hours=2), "channel": "phone",
        "host_id": host.id, "applicant_kind": "individual", "applicant_name": "Азамат " + PAYLOAD,
        "address": PAYLOAD, "settlement_id": reference.settlements[0].id, "appeal_type": "proposal",
        "category_id": reference.categories[0].id, "summary": "Ұсыныс " + PAYLOAD, "text": PAYLOAD * 3,
    }, users.clerk)
    workflow.extend_deadline(appeal, appeal.due_date + dt.timedelta(days=10), "Ұзарту " + PAYLOAD, users.clerk)
    directive = directives.create_directive({
        "issuer": PAYLOAD, "number": "1-" + PAYLOAD[:40], "issued_on": local_today() - dt.timedelta(days=10),
        "title": "Нұсқау " + PAYLOAD, "text": PAYLOAD, "keywords": "су, " + PAYLOAD,
        "valid_from": local_today() - dt.timedelta(days=10),
    }, users.coordinator)
    mandate = flagging.flag_appeals(directive, [appeal.id], users.coordinator, override_reason="Себеп " + PAYLOAD)[0]
    lifecycle.update_mandate(mandate, {"title": "Аманат " + PAYLOAD, "description": PAYLOAD, "responsible": PAYLOAD},
                            users.coordinator)
    lifecycle.add_progress_note(mandate, local_today(), "Жасалды " + PAYLOAD, 10, users.coordinator)

    class Hostile:
        pass

    h = Hostile()
    h.host, h.session, h.cancelled, h.appeal, h.directive, h.mandate = host, session, cancelled, appeal, directive, mandate
    return h


def _assert_escaped(html, where):
    for marker in RAW_MARKERS:
        assert marker not in html, f"unescaped payload in {where}"


def test_payloads_are_escaped_in_every_page(app, client, login, users, hostile):
    h = hostile
    pages = {
        "coordinator": ["/", "/appeals", f"/appeals/{h.appeal.id}", f"/appeals/{h.appeal.id}/edit",
                        f"/appeals/{h.appeal.id}/extend", f"/appeals/{h.appeal.id}/forward",
                        "/schedule/calendar", f"/schedule/sessions/{h.session.id}", f"/schedule/sessions/{h.cancelled.id}",
                        "/schedule/hosts", f"/schedule/hosts/{h.host.id}", "/directives", f"/directives/{h.directive.id}",
                        f"/directives/{h.directive.id}/edit", f"/directives/{h.directive.id}/candidates", "/mandates",
                        f"/mandates/{h.mandate.id}", f"/mandates/{h.mandate.id}/edit", f"/mandates/{h.mandate.id}/merge",
                        "/mandates/statistics", "/reports", "/appeals?q=" + SCRIPT],
        "admin": ["/admin/audit"],
        None: ["/schedule"],
    }
    escaped_seen = 0
    for role, paths in pages.items():
        web = app.test_client()
        if role:
            login(getattr(users, role), test_client=web)
        for path in paths:
            response = web.get(path)
            assert response.status_code == 200, (path, response.status_code)
            html = response.get_data(as_text=True)
            _assert_escaped(html, path)
            escaped_seen += "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The payload really was on the pages (as text), not silently dropped.
    assert escaped_seen >= len(pages["coordinator"]) // 2


def test_csv_and_xlsx_exports_do_not_start_formulas(app, client, login, users, hostile, app_ctx):
    """Spreadsheet injection: a cell starting with = + - @ would run as a formula in Excel."""
    from appeals.register import workflow

    formula = workflow.register_appeal({
        "office_id": hostile.appeal.office_id, "received_at": hostile.appeal.received_at, "channel": "letter",
        "applicant_kind": "individual", "applicant_name": "=HYPERLINK(\"http://evil\",\"x\")",
        "settlement_id": hostile.appeal.settlement_id, "appeal_type": "statement",
        "category_id": hostile.appeal.category_id, "summary": "=1+2",
    }, users.clerk)
    login(users.clerk)
    response = client.get("/appeals/export?format=csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert formula.number in text
    for line in text.splitlines():
        for cell in line.split(","):
            assert not cell.strip('"').startswith(("=HYPERLINK", "=1+2")), line


def _pdf_text(data):
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext (poppler-utils) is required")
    return subprocess.run(["pdftotext", "-raw", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def test_payloads_are_literal_text_in_pdfs(app, client, login, users, hostile):
    h = hostile
    login(users.coordinator)
    documents = [
        f"/reports/appeals/{h.appeal.id}/card.pdf",
        "/reports/journal.pdf",
        f"/reports/mandates.pdf?directive_id={h.directive.id}&version=internal",
        f"/reports/schedule.pdf?date={h.session.date.isoformat()}",
    ]
    for path in documents:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "application/pdf"
        # Narrow table cells wrap the payload over lines: compare without whitespace.
        text = "".join(_pdf_text(response.data).split())
        # Rendered as markup, <script> would vanish and <img> would be a broken picture: here both are text.
        assert "<script>alert(1)</script>" in text, path
        assert '"><imgsrc=xonerror=alert(1)>' in text, path


def test_user_names_are_escaped_in_the_menu_and_administration(app, client, login, users, make_user, reference):
    hostile_user = make_user("xss.user", "viewer", full_name="Пайдаланушы " + PAYLOAD)
    login(hostile_user)
    _assert_escaped(client.get("/").get_data(as_text=True), "the user menu")
    admin = app.test_client()
    login(users.admin, test_client=admin)
    for path in ("/admin/users", f"/admin/users/{hostile_user.id}", "/admin/audit"):
        response = admin.get(path)
        assert response.status_code == 200
        _assert_escaped(response.get_data(as_text=True), path)
