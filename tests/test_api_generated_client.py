"""Issue 18, item 12 and "Done when": a client generated from the OpenAPI document with a standard tool
(openapi-python-client) drives a branch's month through the API alone, one token per role.

The client is generated afresh from the live document into a temporary folder (no network needed), and
talks to the app in-process through httpx's WSGI transport. A change that breaks the document for a
generator, or the contract for a client, fails here.
"""
import datetime as dt
import importlib
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

SESSION_DAYS = [dt.date(2026, 11, 2) + dt.timedelta(days=n) for n in range(12) if n % 7 < 5]  # weekdays, 2–13 Nov
APPEALS_PER_SESSION = 2


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The package openapi-python-client generates from /api/v1/openapi.json (imported as qabyldau_client)."""
    from appeals import create_app

    folder = tmp_path_factory.mktemp("client")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'doc.db'}"})
    (folder / "openapi.json").write_bytes(app.test_client().get("/api/v1/openapi.json").data)
    # PDFs come back as the generator's File (bytes), as it does for any binary download.
    (folder / "config.yml").write_text("content_type_overrides:\n  application/pdf: application/octet-stream\n")
    tool = Path(sys.executable).parent / "openapi-python-client"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([str(tool), "generate", "--path", "openapi.json", "--output-path", "qabyldau_client",
                             "--meta", "none", "--config", "config.yml"], cwd=folder, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    # Every operation made it into the client: no "Cannot parse" or skipped endpoint.
    assert "WARNING" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("qabyldau_client")
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == "qabyldau_client" or n.startswith("qabyldau_client.")]:
            del sys.modules[name]


def _module(package, path):
    return importlib.import_module(f"{package.__name__}.{path}")


class Api:
    """The generated client for one token: api.call("reference.create_region", body=...) -> parsed result."""

    def __init__(self, package, app, secret):
        self.package = package
        client_module = _module(package, "client")
        self.client = client_module.AuthenticatedClient(
            base_url="http://localhost/api/v1", token=secret, raise_on_unexpected_status=True,
            headers={"Accept-Language": "en"}, httpx_args={"transport": httpx.WSGITransport(app=app)})

    def model(self, name, data):
        return getattr(_module(self.package, "models"), name).from_dict(data)

    def call(self, operation, expect=(200, 201, 202, 204), **kwargs):
        response = _module(self.package, f"api.{operation}").sync_detailed(client=self.client, **kwargs)
        assert response.status_code in expect, (operation, response.status_code, response.content[:600])
        return response.parsed


def test_a_month_through_the_generated_client(app, app_ctx, generated, users, reference):
    from appeals.api import tokens

    app.config.update(API_RATE_LIMIT_PER_MINUTE=10**6, API_USER_RATE_LIMIT_PER_MINUTE=10**6)
    api = {role: Api(generated, app, tokens.create_token(getattr(users, role), "integrator")[1])
           for role in ("admin", "coordinator", "clerk", "viewer")}
    admin, coordinator, clerk, viewer = (api[r] for r in ("admin", "coordinator", "clerk", "viewer"))

    # Reference data: the admin adds a settlement (with its KATO code) and a category; everyone reads them.
    district_id = clerk.call("reference.list_districts").items[0].id
    settlement = admin.call("reference.create_settlement", body=admin.model("SettlementIn", {
        "district_id": district_id, "kato": "311055100", "name_kk": "Қарасу", "name_ru": "Карасу", "name_en": "Karasu"}))
    category = admin.call("reference.create_category", body=admin.model("CategoryIn", {
        "code": "irrigation", "name_kk": "Суару", "name_ru": "Орошение", "name_en": "Irrigation"}))
    found = clerk.call("reference.list_settlements", kato="311055100")
    assert [s.id for s in found.items] == [settlement.id] and found.total == 1
    office_id = next(o.id for o in clerk.call("reference.list_offices").items if o.code == "KRD")

    # Sessions: a host, the month's sessions planned, approved, held.
    host = coordinator.call("reference.create_host", body=coordinator.model("HostIn", {
        "full_name": "Серікбаев Нұрлан", "kind": "candidate", "office_id": office_id}))
    session_ids = []
    for day in SESSION_DAYS:
        session = clerk.call("schedules.create_session", body=clerk.model("SessionIn", {
            "office_id": office_id, "host_ids": [host.id], "date": day.isoformat(), "start_time": "10:00",
            "end_time": "12:00"}))
        session_ids.append(session.id)
    assert coordinator.call("schedules.approve_sessions", body=coordinator.model(
        "ApproveIn", {"ids": session_ids})).approved == len(session_ids)
    for session_id in session_ids:
        clerk.call("schedules.mark_held", session_id=session_id, body=clerk.model("HeldIn", {"visitors": 3}))

    # Appeals, registered by the clerk at the sessions, with the API-made settlement and category.
    appeal_ids = []
    for n, (day, session_id) in enumerate((d, s) for d, s in zip(SESSION_DAYS, session_ids)
                                          for _ in range(APPEALS_PER_SESSION)):
        created = clerk.call("appeals.create_appeal", idempotency_key=f"month-{n}", body=clerk.model("AppealIn", {
            "office_id": office_id, "received_at": f"{day.isoformat()}T10:{10 + n:02d}:00", "channel": "session",
            "session_id": session_id, "applicant_name": f"Азамат {n}", "phone": f"+7 701 200 {n:02d} {n:02d}",
            "settlement_id": settlement.id, "appeal_type": "proposal", "category_id": category.id,
            "summary": f"Ұсыныс №{n}: арық {n} жөндеу"}))
        # Similar summaries from one settlement are flagged as possible repeats, never as the same person.
        assert created.number.startswith("KRD-") and not any(r.same_person for r in created.possible_repeats.appeals)
        appeal_ids.append(created.id)
    listed = viewer.call("appeals.list_appeals", size=5)
    assert listed.total == len(appeal_ids) and listed.total_exact is True and len(listed.items) == 5

    # A directive, and its mandates: two now, two typed in from the paper register of 10 November.
    directive = coordinator.call("directives.create_directive", body=coordinator.model("DirectiveIn", {
        "number": "11-Д", "issued_on": "2026-11-01", "title": "Сайлаушылардың аманаттары", "valid_from": "2026-11-01",
        "appeal_types": ["proposal"]}))
    now = coordinator.call("mandates.flag_appeals", directive_id=directive.id, body=coordinator.model(
        "FlagIn", {"appeal_ids": appeal_ids[:2]}))
    paper = coordinator.call("mandates.flag_appeals", directive_id=directive.id, body=coordinator.model(
        "FlagIn", {"appeal_ids": appeal_ids[2:4], "registered_on": "2026-11-10"}))
    assert [str(m.registered_on) for m in paper.items] == ["2026-11-10", "2026-11-10"]
    assert len(now.items) == 2

    # Statistics: exact figures, by directive and by office, with names.
    stats = viewer.call("statistics.statistics", date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 18))
    totals = stats.totals
    assert (totals.sessions_held, totals.appeals_received, totals.mandates_registered, totals.mandates_count,
            totals.mandates_registered_in_period) == (len(session_ids), len(appeal_ids), 4, 4, 4)
    assert [(row.office_code, row.appeals_received, row.office_name) for row in stats.offices] == [
        ("KRD", len(appeal_ids), reference.kordai.name_ru)]
    paper_days = viewer.call("statistics.statistics", date_from=dt.date(2026, 11, 10), date_to=dt.date(2026, 11, 10),
                             directive_id=directive.id)
    assert paper_days.totals.mandates_registered_in_period == 2

    # The three printed registers.
    journal = clerk.call("documents.journal_document", date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 18))
    mandates = viewer.call("documents.mandates_document", directive_id=directive.id)
    summary = coordinator.call("documents.summary_document", date_from=dt.date(2026, 11, 1),
                               date_to=dt.date(2026, 11, 18))
    for document in (journal, mandates, summary):
        assert document.payload.read(5) == b"%PDF-"

    # And the integrator's own token, revoked through the API, stops working.
    mine = clerk.call("meta.list_tokens").items
    clerk.call("meta.revoke_token", token_id=mine[0].id)
    assert clerk.call("meta.me", expect=(401,)) is not None
