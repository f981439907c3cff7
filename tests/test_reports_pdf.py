"""Printed documents: content, numbering, masking, Kazakh letters and permissions."""
import datetime as dt
import re

import pytest

from tests.fixtures_reports import KAZAKH_LETTERS, pdf_pages_text, render_first_page_png

MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def _pdf(client, url, **params):
    response = client.get(url, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/pdf"
    return response.data


def _assert_page_numbers(pages):
    total = len(pages)
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in text, f"page {number}: {text[-200:]}"


def test_journal_lists_rows_with_totals_and_page_numbers(client, login, users, report_data):
    login(users.clerk)
    data = _pdf(client, "/reports/journal.pdf", lang="en", **MARCH)
    pages = pdf_pages_text(data)
    text = " ".join("\n".join(pages).split())
    numbers = re.findall(r"KRD-2026-\d{5}", text)
    assert sorted(numbers) == sorted(a.number for a in report_data.appeals)
    assert len(numbers) == 40
    _assert_page_numbers(pages)
    assert "Appeals in the journal" in text and re.search(r"Appeals in the journal\s*40", text)
    # Clerks of the office see names in full; the footer names the clerk who printed it.
    assert "Әбілқасымов Нұрлан 7" in text
    assert "Printed by" in pages[-1] and users.clerk.display_name in pages[0]
    for page in pages:
        if "KRD-2026-" in page:
            assert "Registration" in page, "the table header repeats on every page"
    for letter in KAZAKH_LETTERS.split():
        assert letter in text


def test_journal_masks_applicants_for_viewer(client, login, users, report_data):
    login(users.viewer)
    text = " ".join("\n".join(pdf_pages_text(_pdf(client, "/reports/journal.pdf", lang="en", **MARCH))).split())
    assert "Әбілқасымов Н. 7." in text
    assert "Әбілқасымов Нұрлан" not in text
    assert len(re.findall(r"KRD-2026-\d{5}", text)) == 40


def test_journal_uses_register_filters_and_scope(client, login, users, reference, report_data):
    login(users.clerk)
    category = reference.categories[1]
    expected = [a.number for a in report_data.appeals if a.category_id == category.id]
    text = "\n".join(pdf_pages_text(_pdf(client, "/reports/journal.pdf", lang="en", category=category.id, **MARCH)))
    assert sorted(re.findall(r"KRD-2026-\d{5}", text)) == sorted(expected)
    assert category.name_en in text  # the filter is printed
    # The clerk of another office prints an empty journal, not Kordai's appeals.
    client.post("/logout")
    login(users.other_clerk)
    text = "\n".join(pdf_pages_text(_pdf(client, "/reports/journal.pdf", lang="en", **MARCH)))
    assert "KRD-2026" not in text
    assert re.search(r"Appeals in the journal\s*0", text)


def test_journal_prints_the_district_filter(app_ctx, users, reference, report_data):
    from appeals.core.extensions import db
    from appeals.register.queries import parse_list_filters
    from appeals.reports.services import build_journal

    merke = reference.districts[1]
    moved = report_data.appeals[:2]
    for appeal in moved:
        appeal.settlement_id = reference.settlements[3].id
    db.session.commit()
    doc = build_journal(parse_list_filters({"district": str(merke.id), **MARCH}), users.coordinator, "ru")
    assert ("Район", merke.name_ru) in doc.filters
    assert sorted(row["number"] for row in doc.rows) == sorted(a.number for a in moved)


def test_journal_forbidden_for_host_and_anonymous(client, login, users, report_data):
    assert client.get("/reports/journal.pdf").status_code in (302, 401)
    login(users.host)
    assert client.get("/reports/journal.pdf").status_code == 403


def test_journal_in_kazakh_and_russian(client, login, users, report_data):
    login(users.clerk)
    for lang, settlement in (("kk", "Қордай"), ("ru", "Кордай")):
        pages = pdf_pages_text(_pdf(client, "/reports/journal.pdf", lang=lang, **MARCH))
        text = "\n".join(pages)
        assert len(re.findall(r"KRD-2026-\d{5}", text)) == 40
        total = len(pages)
        numbering = {"kk": "{total} беттің {page}-беті", "ru": "Страница {page} из {total}"}[lang]
        assert numbering.format(page=1, total=total) in pages[0]
        assert numbering.format(page=total, total=total) in pages[-1]
        assert settlement in text  # reference names in the document's language


def test_fast_path_page_numbers_survive_parallel_merge(app_ctx, tmp_path, monkeypatch):
    """Many pages in several process-rendered chunks: order, numbering and cache."""
    from appeals.reports import pdf
    from appeals.reports.documents import PrintedDocument, render_journal

    monkeypatch.setattr(pdf, "OVERLAY_PIECE_PAGES", 7)  # page stamps in several pieces, as for 10,000 rows

    rows = [{"n": str(i), "number": f"ZHM-2026-{i:05d}", "date": "01.03.2026", "applicant": "Өмірзақ Ұ.",
             "settlement": "Қордай", "type": "Өтініш", "category": "Жолдар",
             "summary": "ауыз су құбыры ескірген, жөндеуді сұраймыз " * (1 + i % 4), "host": "Құлыбеков Н.",
             "status": "Тіркелді", "deadline": "22.03.2026"} for i in range(1, 301)]
    doc = PrintedDocument(lang="en", title="Journal", rows=rows, totals=[("Total", "300")], generated_by="tester")
    stats = {}
    data = render_journal(doc, workers=2, cache_dir=tmp_path / "cache", stats=stats)
    pages = pdf_pages_text(data)
    assert stats["chunk_count"] >= 2 and stats["pages"] == len(pages)
    assert re.findall(r"ZHM-2026-\d{5}", "\n".join(pages)) == [r["number"] for r in rows]
    _assert_page_numbers(pages)
    assert stats["pages_planned"] == len(pages), "the row packer predicts the renderer's pages"
    again = {}
    assert pdf_pages_text(render_journal(doc, workers=2, cache_dir=tmp_path / "cache", stats=again)) == pages
    assert again["cached_chunks"] == again["chunks"]


def test_background_job_for_large_journal(app, client, login, users, report_data):
    app.config.update(REPORT_BACKGROUND_ROWS=10, REPORT_JOBS_SYNC=True)
    try:
        login(users.clerk)
        response = client.get("/reports/journal.pdf", query_string={"lang": "en", **MARCH})
        assert response.status_code == 302 and "/reports/jobs/" in response.location
        status_url = response.location
        page = client.get(status_url)
        assert page.status_code == 200 and "reports.js" in page.get_data(as_text=True)
        state = client.get(status_url, query_string={"format": "json"}).get_json()
        assert state["status"] == "done", state
        download = client.get(state["download"])
        assert download.status_code == 200 and download.mimetype == "application/pdf"
        assert len(re.findall(r"KRD-2026-\d{5}", "\n".join(pdf_pages_text(download.data)))) == 40
        # Only the owner may fetch the document or even learn it exists.
        client.post("/logout")
        login(users.coordinator)
        assert client.get(state["download"]).status_code == 404
        assert client.get(status_url).status_code == 404
    finally:
        app.config.update(REPORT_BACKGROUND_ROWS=3000, REPORT_JOBS_SYNC=False)


def test_registration_card(client, login, users, report_data, reference):
    appeal = report_data.appeals[4]
    login(users.clerk)
    pages = pdf_pages_text(_pdf(client, f"/reports/appeals/{appeal.id}/card.pdf", lang="en"))
    text = "\n".join(pages)
    assert appeal.number in text
    assert appeal.due_date.strftime("%d.%m.%Y") in text
    assert appeal.iin in text  # the office's clerk prints the citizen's receipt in full
    assert reference.kordai.address in text  # where to ask
    assert "Page 1 of 1" in text
    client.post("/logout")
    login(users.viewer)
    text = "\n".join(pdf_pages_text(_pdf(client, f"/reports/appeals/{appeal.id}/card.pdf", lang="en")))
    assert appeal.iin not in text and appeal.iin[:4] in text
    client.post("/logout")
    login(users.other_clerk)
    assert client.get(f"/reports/appeals/{appeal.id}/card.pdf").status_code == 403
    assert client.get("/reports/appeals/999999/card.pdf").status_code == 404


@pytest.fixture
def mandate_data(reference, users, report_data):
    from appeals.core.extensions import db
    from appeals.mandates.models import Directive, Mandate, MandateAppeal

    directive = Directive(issuer="Орталық кеңсе", number="12-ә", issued_on=dt.date(2026, 3, 1),
                          title="Сайлаушылардың аманаттары")
    db.session.add(directive)
    db.session.flush()
    mandates = []
    for i, appeal in enumerate(report_data.appeals[:6], start=1):
        mandate = Mandate(directive_id=directive.id, number=f"A-{i:03d}", seq=i, title=f"Су құбырын жөндеу {i}",
                          office_id=reference.kordai.id, settlement_id=appeal.settlement_id,
                          category_id=appeal.category_id, responsible="Аудан әкімдігі",
                          target_date=dt.date(2026, 12, 1))
        db.session.add(mandate)
        db.session.flush()
        db.session.add(MandateAppeal(mandate_id=mandate.id, directive_id=directive.id, appeal_id=appeal.id,
                                     added_at=dt.datetime(2026, 3, 20)))
        mandates.append(mandate)
    db.session.commit()
    return directive, mandates


def test_mandate_list_public_and_internal(client, login, users, mandate_data, report_data):
    directive, mandates = mandate_data
    login(users.coordinator)
    public = "\n".join(pdf_pages_text(_pdf(client, "/reports/mandates.pdf", lang="en",
                                           directive_id=directive.id, group="settlement")))
    assert all(m.number in public for m in mandates)
    assert "Кордай" in public and "Сортобе" in public  # grouped by settlement (Russian names in English)
    assert report_data.appeals[0].phone not in public and "Әбілқасымов" not in public
    internal = "\n".join(pdf_pages_text(_pdf(client, "/reports/mandates.pdf", lang="en", version="internal",
                                             directive_id=directive.id, group="category")))
    assert report_data.appeals[0].number in internal and "Әбілқасымов" in internal
    client.post("/logout")
    login(users.clerk)
    assert client.get("/reports/mandates.pdf", query_string={"version": "internal"}).status_code == 403
    assert client.get("/reports/mandates.pdf", query_string={"directive_id": directive.id}).status_code == 200


@pytest.fixture
def sessions(reference, report_data):
    from appeals.core.extensions import db
    from appeals.schedules.models import ReceptionSession

    rows = []
    for day, status in ((dt.date(2026, 3, 2), "held"), (dt.date(2026, 3, 4), "approved"),
                        (dt.date(2026, 3, 5), "draft")):
        session = ReceptionSession(office_id=reference.kordai.id, date=day, start_time=dt.time(10),
                                   end_time=dt.time(12), room="Кабинет 3", topic="Ауыз су мәселелері",
                                   status=status)
        session.hosts.append(report_data.host)
        rows.append(session)
    db.session.add_all(rows)
    db.session.commit()
    return rows


def test_schedule_for_office_week_and_host(client, login, users, reference, report_data, sessions):
    login(users.clerk)
    text = " ".join("\n".join(pdf_pages_text(_pdf(client, "/reports/schedule.pdf", lang="en",
                                                   office=reference.kordai.id, period="week",
                                                   date="2026-03-03"))).split())
    assert "Құлыбеков Нұрлан" in text and "10:00–12:00" in text
    assert "05.03.2026" not in text.replace("—", " ") or "draft" not in text.lower()
    assert re.search(r"Receptions\s*2", text), "drafts are not posted on the door"
    client.post("/logout")
    login(users.host)
    text = " ".join("\n".join(pdf_pages_text(_pdf(client, "/reports/schedule.pdf", lang="kk", period="month",
                                                   date="2026-03-15"))).split())
    assert "ҚҰЛЫБЕКОВ НҰРЛАН" in text and reference.kordai.name_kk in text


def test_summary_report_counts(client, login, users, report_data, sessions, mandate_data):
    login(users.coordinator)
    pages = pdf_pages_text(_pdf(client, "/reports/summary.pdf", lang="en", **MARCH))
    text = " ".join("\n".join(pages).split())
    assert re.search(r"\b40\b", text)  # appeals received
    assert "Receptions held" in text and "Of them registered as mandates" in text
    assert re.search(r"\b40\s*Appeals received", text)
    assert re.search(r"\b6\s*Of them registered as mandates", text)
    assert re.search(r"\b6\s*Mandates from these appeals", text)  # the number of mandates is printed
    assert re.search(r"\b1\s*Receptions held", text)
    assert re.search(r"Total\s*1\s*40\s*6\s*6", text)  # the office table's total line
    client.post("/logout")
    login(users.clerk)
    assert client.get("/reports/summary.pdf").status_code == 403


def test_every_document_renders_page_one_to_png(client, login, users, reference, report_data, sessions,
                                                 mandate_data, tmp_path):
    directive, _mandates = mandate_data
    login(users.coordinator)
    urls = [
        ("/reports/journal.pdf", {"lang": "kk", **MARCH}),
        ("/reports/mandates.pdf", {"lang": "ru", "directive_id": directive.id, "version": "internal"}),
        ("/reports/schedule.pdf", {"lang": "kk", "office": reference.kordai.id, "date": "2026-03-03"}),
        (f"/reports/appeals/{report_data.appeals[0].id}/card.pdf", {"lang": "kk"}),
        ("/reports/summary.pdf", {"lang": "ru", **MARCH}),
    ]
    for url, params in urls:
        png = render_first_page_png(_pdf(client, url, **params), tmp_path)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000, url


def test_fonts_are_local_and_remote_urls_refused(app_ctx):
    from appeals.reports.pdf import FONTS_DIR, LocalOnlyFetcher

    assert (FONTS_DIR / "DejaVuSansCondensed.ttf").is_file() and (FONTS_DIR / "LICENSE").is_file()
    with pytest.raises(ValueError):
        LocalOnlyFetcher().fetch("https://example.com/font.ttf")
    with pytest.raises(ValueError):
        LocalOnlyFetcher().fetch("file:///etc/passwd")


def test_large_mandate_list_runs_in_background(app, client, login, users, mandate_data):
    directive, mandates = mandate_data
    app.config.update(REPORT_BACKGROUND_MANDATES=3, REPORT_JOBS_SYNC=True)
    try:
        login(users.coordinator)
        response = client.get("/reports/mandates.pdf", query_string={"directive_id": directive.id, "lang": "en",
                                                                    "version": "internal"})
        assert response.status_code == 302 and "/reports/jobs/" in response.location
        state = client.get(response.location, query_string={"format": "json"}).get_json()
        assert state["status"] == "done", state
        text = "\n".join(pdf_pages_text(client.get(state["download"]).data))
        assert all(m.number in text for m in mandates) and "WITH CONTACTS" in text.upper()
    finally:
        app.config.update(REPORT_BACKGROUND_MANDATES=200, REPORT_JOBS_SYNC=False)


def test_mandate_list_period_filter(client, login, users, mandate_data):
    directive, mandates = mandate_data
    login(users.coordinator)
    today = dt.date.today()
    text = "\n".join(pdf_pages_text(_pdf(client, "/reports/mandates.pdf", lang="en", directive_id=directive.id,
                                         date_from=(today - dt.timedelta(days=1)).isoformat(),
                                         date_to=(today + dt.timedelta(days=1)).isoformat())))
    assert all(m.number in text for m in mandates)  # registered today (created_at)
    text = "\n".join(pdf_pages_text(_pdf(client, "/reports/mandates.pdf", lang="en", directive_id=directive.id,
                                         date_from="2020-01-01", date_to="2020-12-31")))
    assert not any(m.number in text for m in mandates) and re.search(r"Mandates\s*0", text)
