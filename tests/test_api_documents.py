"""Issue 18, item 2: the printed registers through the API: the PDF, or 202 and a job to poll."""
from tests.fixtures_api import assert_problem
from tests.fixtures_reports import pdf_pages_text


def _pdf_text(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    return "\n".join(pdf_pages_text(response.data))


def test_journal_card_schedule_and_summary_as_pdf(api_as, users, reg_appeal):
    appeal = reg_appeal()
    clerk = api_as(users.clerk)
    journal = _pdf_text(clerk.get("/documents/journal.pdf?lang=kk"))
    assert appeal.number in journal and "Әбілқасымов" in journal
    card = _pdf_text(clerk.get(f"/appeals/{appeal.id}/card.pdf"))
    assert appeal.number in card
    assert _pdf_text(clerk.get("/documents/schedule.pdf?period=month"))
    summary = _pdf_text(api_as(users.viewer).get("/documents/summary.pdf?lang=kk"))
    assert "1" in summary
    # A bad period is a problem naming the field, not a PDF.
    assert_problem(api_as(users.viewer).get("/documents/summary.pdf?date_from=2026-05-01&date_to=2026-04-01"),
                   422, "date_to")


def test_the_journal_is_masked_as_the_role_sees_it(api_as, users, reg_appeal):
    appeal = reg_appeal()
    text = _pdf_text(api_as(users.viewer).get("/documents/journal.pdf"))
    assert appeal.number in text and "Әбілқасымов Ерлан" not in text


def test_mandate_lists_public_for_all_internal_for_coordinators(api_as, users):
    assert _pdf_text(api_as(users.host).get("/documents/mandates.pdf?version=public"))
    assert_problem(api_as(users.viewer).get("/documents/mandates.pdf?version=internal"), 403)
    assert _pdf_text(api_as(users.coordinator).get("/documents/mandates.pdf?version=internal"))


def test_a_background_document_is_a_job_to_poll_and_download(api_as, users, reg_appeal):
    appeal = reg_appeal()
    clerk = api_as(users.clerk)
    response = clerk.get("/documents/journal.pdf?background=true")
    assert response.status_code == 202
    job = response.get_json()
    assert response.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    # The test queue runs jobs at once; a worker would take a moment.
    polled = clerk.get(f"/jobs/{job['id']}").get_json()
    assert polled["status"] == "done" and polled["download"] == f"/api/v1/jobs/{job['id']}/download"
    assert appeal.number in _pdf_text(clerk.get(polled["download"].removeprefix("/api/v1")))
    # Nobody else learns that the job exists.
    for role in ("coordinator", "viewer"):
        assert_problem(api_as(getattr(users, role)).get(f"/jobs/{job['id']}"), 404)
        assert_problem(api_as(getattr(users, role)).get(f"/jobs/{job['id']}/download"), 404)


def test_a_large_journal_goes_to_the_queue_by_itself(app, api_as, users, reg_appeal):
    reg_appeal()
    reg_appeal(summary="Екінші өтініш туралы")
    app.config["REPORT_BACKGROUND_ROWS"] = 1
    try:
        response = api_as(users.clerk).get("/documents/journal.pdf")
    finally:
        app.config["REPORT_BACKGROUND_ROWS"] = 3000
    assert response.status_code == 202 and response.get_json()["kind"] == "journal_pdf"


def test_documents_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    journal = paths["/documents/journal.pdf"]["get"]["responses"]
    assert journal["200"]["content"]["application/pdf"]["schema"]["format"] == "binary"
    assert journal["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/JobOut")
    for path in ("/documents/mandates.pdf", "/documents/schedule.pdf", "/documents/summary.pdf",
                 "/appeals/{appeal_id}/card.pdf", "/jobs/{job_id}", "/jobs/{job_id}/download"):
        assert "get" in paths[path], path
    params = {p["name"] for p in paths["/documents/mandates.pdf"]["get"]["parameters"]}
    assert {"version", "group", "directive_id", "lang"} <= params
