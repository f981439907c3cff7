"""Mandate reports up the chain (issue 17, item 4): submitted by the office's coordinator, approved or
sent back by the regional coordinator, locked once approved; the region's report (PDF, XLSX) totals
equal reports.statistics' figures."""
import datetime as dt
import io

import pytest
import sqlalchemy as sa

OCTOBER = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
NOVEMBER = (dt.date(2026, 11, 1), dt.date(2026, 11, 17))


@pytest.fixture
def chain_data(db, reference, users, make_user, make_appeal, make_directive):
    """Mandates at Kordai and Merke registered in October, one overdue; an office coordinator for Kordai."""
    from appeals.mandates import flagging
    from appeals.mandates.models import Mandate

    directive = make_directive(valid_from=dt.date(2026, 1, 1), issued_on=dt.date(2026, 1, 1))
    kordai = [make_appeal(office=reference.kordai, received_at=dt.datetime(2026, 10, 5 + n, 10)) for n in range(3)]
    merke = [make_appeal(office=reference.merke, received_at=dt.datetime(2026, 10, 6, 10))]
    mandates = [flagging.flag_appeals(directive, [a.id], users.coordinator)[0] for a in kordai + merke]
    for index, mandate in enumerate(mandates):
        db.session.execute(sa.update(Mandate).where(Mandate.id == mandate.id).values(
            created_at=dt.datetime(2026, 10, 10 + index, 6, 0),
            target_date=dt.date(2026, 10, 20) if index == 0 else dt.date(2027, 3, 1),
            status="in_progress" if index == 1 else "registered"))
    db.session.commit()

    class Data:
        pass

    d = Data()
    d.directive, d.mandates = directive, mandates
    d.office_coordinator = make_user("coord.kordai", "coordinator", [reference.kordai])
    return d


def test_a_report_freezes_the_statistics_figures_and_what_changed(db, reference, users, chain_data):
    from appeals.reports import chain, statistics

    report = chain.submit_report(reference.kordai, *OCTOBER, chain_data.office_coordinator)
    expected = statistics.mandate_report_figures(*OCTOBER, [reference.kordai.id])
    assert report.figures == expected
    assert expected == {"registered_in_period": 3, "total": 3, "registered": 2, "in_progress": 1, "fulfilled": 0,
                        "partially_fulfilled": 0, "not_fulfilled": 0, "overdue": 1}
    assert [c["change"] for c in report.changes] == ["new", "new", "new"]  # no earlier report
    assert report.status == "submitted"


def test_who_submits_and_who_approves(db, reference, users, chain_data, make_user):
    from appeals.reports import chain

    # The Kordai coordinator submits Kordai's report, not Merke's.
    with pytest.raises(chain.ReportChainError) as other_office:
        chain.submit_report(reference.merke, *OCTOBER, chain_data.office_coordinator)
    assert other_office.value.kind == "forbidden"
    report = chain.submit_report(reference.kordai, *OCTOBER, chain_data.office_coordinator)
    # Submitted twice: refused while it awaits review.
    with pytest.raises(chain.ReportChainError) as twice:
        chain.submit_report(reference.kordai, *OCTOBER, chain_data.office_coordinator)
    assert twice.value.kind == "conflict"
    # An office coordinator does not approve, nor does the regional coordinator who submitted a report.
    with pytest.raises(chain.ReportChainError) as office_level:
        chain.approve_report(report, chain_data.office_coordinator)
    assert office_level.value.kind == "forbidden"
    own = chain.submit_report(reference.merke, *OCTOBER, users.coordinator)
    with pytest.raises(chain.ReportChainError):
        chain.approve_report(own, users.coordinator)
    second_regional = make_user("coord.regional", "coordinator", [reference.regional])
    assert chain.approve_report(own, second_regional).status == "approved"
    # A viewer or a clerk does neither.
    with pytest.raises(chain.ReportChainError):
        chain.submit_report(reference.kordai, *NOVEMBER, users.viewer)


def test_sent_back_with_a_comment_then_resubmitted(db, reference, users, chain_data):
    from appeals.mandates.models import Mandate
    from appeals.reports import chain

    report = chain.submit_report(reference.kordai, *OCTOBER, chain_data.office_coordinator)
    with pytest.raises(chain.ReportChainError) as no_comment:
        chain.return_report(report, users.coordinator, "  ")
    assert no_comment.value.field == "comment"
    returned = chain.return_report(report, users.coordinator, "Мерзімі өткен аманатты тексеріңіз")
    assert returned.status == "returned" and returned.comment.startswith("Мерзімі")
    with pytest.raises(chain.ReportChainError):
        chain.approve_report(returned, users.coordinator)  # nothing to approve until resubmitted
    db.session.execute(sa.update(Mandate).where(Mandate.id == chain_data.mandates[0].id).values(status="fulfilled"))
    db.session.commit()
    again = chain.submit_report(reference.kordai, *OCTOBER, chain_data.office_coordinator)
    assert again.id == report.id and again.status == "submitted"
    assert again.figures["fulfilled"] == 1 and again.figures["overdue"] == 0


def test_an_approved_report_is_locked_and_later_changes_go_to_the_next(db, app, reference, users, chain_data, login,
                                                                       client):
    from appeals.mandates.models import Mandate
    from appeals.reports import chain

    report = chain.approve_report(chain.submit_report(reference.kordai, *OCTOBER, chain_data.office_coordinator),
                                  users.coordinator)
    frozen = dict(report.figures)
    db.session.execute(sa.update(Mandate).where(Mandate.id == chain_data.mandates[0].id).values(
        status="fulfilled", progress_percent=100))
    db.session.commit()
    for refused in (lambda: chain.submit_report(reference.kordai, *OCTOBER, chain_data.office_coordinator),
                    lambda: chain.return_report(report, users.coordinator, "Қайта қараңыз"),
                    lambda: chain.approve_report(report, users.coordinator)):
        with pytest.raises(chain.ReportChainError) as locked:
            refused()
        assert locked.value.kind == "conflict"
    db.session.expire_all()
    assert db.session.get(chain.MandateReport, report.id).figures == frozen
    # Through the page too: the review form is gone and a POST is refused.
    login(users.coordinator)
    page = client.get(f"/reports/chain/{report.id}").get_data(as_text=True)
    assert 'data-report-status="approved"' in page and 'name="decision"' not in page
    client.post(f"/reports/chain/{report.id}/review", data={"decision": "return", "comment": "x"})
    assert db.session.get(chain.MandateReport, report.id).status == "approved"
    # The next period's report carries the change.
    following = chain.submit_report(reference.kordai, *NOVEMBER, chain_data.office_coordinator)
    assert following.previous_id == report.id
    number = chain_data.mandates[0].number
    assert {"number": number, "change": "status", "before": "registered", "after": "fulfilled"} in following.changes
    assert {"number": number, "change": "progress", "before": 0, "after": 100} in following.changes
    assert not any(c["change"] == "new" for c in following.changes)


def test_the_regions_report_totals_equal_the_statistics(db, app, reference, users, chain_data, make_user, login,
                                                         client):
    """Every office approved: the region's PDF and XLSX totals are reports.statistics' figures of the region."""
    from openpyxl import load_workbook

    from appeals.reports import chain, statistics
    from tests.fixtures_reports import pdf_pages_text

    second = make_user("coord.second", "coordinator", [reference.regional])
    for office in reference.offices:
        submitter = chain_data.office_coordinator if office is reference.kordai else users.coordinator
        report = chain.submit_report(office, *OCTOBER, submitter)
        chain.approve_report(report, second if submitter is users.coordinator else users.coordinator)
    region = chain.region_report(reference.region, *OCTOBER)
    office_ids = statistics.region_office_ids(reference.region.id)
    expected = statistics.mandate_report_figures(*OCTOBER, office_ids)
    assert region["totals"] == expected and region["approved"] == region["offices"] == 3
    assert expected["registered_in_period"] == sum(
        statistics.mandates_registered_in_period(*OCTOBER, office_ids).values()) == 4
    assert expected["total"] == 4

    login(users.central)  # the central office reads every region's report
    args = {"date_from": OCTOBER[0].isoformat(), "date_to": OCTOBER[1].isoformat(), "lang": "kk"}
    xlsx = client.get(f"/reports/chain/regions/{reference.region.id}/report.xlsx", query_string=args)
    assert xlsx.status_code == 200
    rows = list(load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True))
    header, total = rows[2], rows[-1]
    assert len(rows) == 3 + 3 + 1  # title, filter, header, one row per office, totals
    assert list(total[3:]) == [expected[name] for name in statistics.REPORT_FIGURES]
    assert header[3:] and all(header[3:])
    pdf = client.get(f"/reports/chain/regions/{reference.region.id}/report.pdf", query_string=args)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    pages = pdf_pages_text(pdf.data)
    text = "\n".join(pages)
    assert "Жамбыл облысы" in text and "3 / 3" in text
    assert "1" in pages[-1].split()[-1] or any(ch.isdigit() for ch in pages[-1][-12:])  # "Бет 1 / 1"
    totals_line = next(line for line in text.splitlines() if line.strip().startswith("Барлығы") or "Барлығы" in line)
    assert totals_line.split()[-8:] == [str(expected[name]) for name in statistics.REPORT_FIGURES]


def test_pages_follow_the_levels(db, app, reference, users, chain_data, make_user, login, client):
    from appeals.reference.models import Office, Region
    from appeals.reports import chain

    report = chain.submit_report(reference.kordai, *OCTOBER, chain_data.office_coordinator)
    south = Region(code="TUR", name_kk="Түркістан облысы", name_ru="Туркестанская область")
    db.session.add_all([south, Office(code="TKM", name_kk="Түркістан", name_ru="Туркестан", kind="regional",
                                      region=south)])
    db.session.commit()
    outsider = make_user("coord.south", "coordinator", region_code="TUR")
    login(outsider)
    assert client.get(f"/reports/chain/{report.id}").status_code == 403
    assert reference.kordai.code not in client.get("/reports/chain").get_data(as_text=True)
    assert client.get(f"/reports/chain/regions/{reference.region.id}/report.pdf").status_code == 403
    client.post("/logout")
    login(users.coordinator)
    listing = client.get("/reports/chain", query_string={"date_from": "2026-10-01", "date_to": "2026-10-31"})
    page = listing.get_data(as_text=True)
    assert "KRD" in page and "MRK" in page and 'name="office_id"' in page
    # Submitted from the list, twice with one token: one report, one audit record.
    from appeals.core.audit import AuditRecord

    form = {"office_id": reference.merke.id, "date_from": "2026-10-01", "date_to": "2026-10-31",
            "submission_token": "t" * 24}
    assert client.post("/reports/chain/submit", data=form).status_code == 302
    assert client.post("/reports/chain/submit", data=form).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(chain.MandateReport)
                             .where(chain.MandateReport.office_id == reference.merke.id)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord)
                             .where(AuditRecord.action == "mandate_report.submit")) == 2  # Kordai's and Merke's
    # The regional coordinator reviews the Kordai report from its page.
    response = client.post(f"/reports/chain/{report.id}/review", data={"decision": "approve"})
    assert response.status_code == 302
    assert db.session.get(chain.MandateReport, report.id).status == "approved"
