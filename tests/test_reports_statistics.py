"""One definition per figure (appeals.reports.statistics): the dashboard, the mandates statistics page,
the summary PDF and the API give the same figures under the same names; one rule for an appeal's district."""
import datetime as dt
import re
from datetime import date, datetime

import pytest

from tests.fixtures_reports import pdf_pages_text

MARCH = (date(2025, 3, 1), date(2025, 3, 31))
APRIL = (date(2025, 4, 1), date(2025, 4, 30))
PERIOD_FIGURES = ("sessions_held", "appeals_received", "mandates_registered", "mandates_count", "fulfilled",
                  "mandates_registered_in_period")


def _sessions(db, reference, days):
    from appeals.schedules.models import ReceptionSession

    for day, status in days:
        db.session.add(ReceptionSession(office_id=reference.kordai.id, date=day, start_time=dt.time(10),
                                        end_time=dt.time(12), status=status))
    db.session.commit()


def _registered_on(db, mandates, when):
    """As if the coordinator had registered the mandates at `when` (local time)."""
    from appeals.core.timeutil import local_to_utc

    for mandate in mandates:
        mandate.created_at = local_to_utc(when)
    db.session.commit()


def test_statistics_counts_per_office_and_district(db, users, reference, make_appeal, make_directive):
    from appeals.mandates import flagging, lifecycle
    from appeals.reports.statistics import briefing

    _sessions(db, reference, [(date(2025, 3, 3), "held"), (date(2025, 3, 4), "held"),
                              (date(2025, 3, 5), "cancelled"), (date(2025, 4, 2), "held")])
    kordai = [make_appeal(received_at=datetime(2025, 3, d, 11)) for d in (2, 3, 4, 5)]
    merke = [make_appeal(office=reference.merke, settlement_id=reference.settlements[2].id,
                         received_at=datetime(2025, 3, d, 11)) for d in (6, 31)]
    outside = make_appeal(received_at=datetime(2025, 4, 1, 0, 0))
    directive = make_directive()
    k1, k2 = flagging.flag_appeals(directive, [kordai[0].id, kordai[1].id], users.coordinator)
    flagging.flag_appeals(directive, [kordai[2].id], users.coordinator, merge_into=k2)
    [m1] = flagging.flag_appeals(directive, [merke[1].id], users.coordinator)
    flagging.flag_appeals(directive, [outside.id], users.coordinator)
    lifecycle.update_mandate(k1, {"status": "fulfilled"}, users.coordinator)

    stats = briefing(*MARCH)
    totals = stats["totals"]
    assert totals["appeals_received"] == 6
    assert totals["mandates_registered"] == 4
    assert totals["mandates_count"] == 3  # k2 was merged from two appeals: one mandate
    assert totals["fulfilled"] == 1
    assert totals["fulfilled_share"] == pytest.approx(1 / 3)
    assert totals["sessions_held"] == 2
    by_office = {row["office"].code: row for row in stats["offices"]}
    assert (by_office["KRD"]["appeals_received"], by_office["KRD"]["mandates_registered"],
            by_office["KRD"]["mandates_count"], by_office["KRD"]["sessions_held"]) == (4, 3, 2, 2)
    assert (by_office["MRK"]["appeals_received"], by_office["MRK"]["mandates_registered"]) == (2, 1)
    assert "ZHM" not in by_office
    by_district = {row["district"].code: row for row in stats["districts"]}
    assert by_district["KRD"]["appeals_received"] == 4 and by_district["MRK"]["mandates_count"] == 1
    # An unflagged appeal no longer counts, nor the mandate it leaves without appeals (withdrawn).
    flagging.unflag(m1.links[0], "Қайталанған", users.coordinator)
    assert briefing(*MARCH)["totals"]["mandates_registered"] == 3
    assert briefing(*MARCH)["totals"]["mandates_count"] == 2


def test_district_of_an_appeal_is_its_settlements_everywhere(db, users, reference, make_appeal, make_directive):
    """The Merke office's appeal about a Kordai village is a Kordai-district appeal for the register's
    filter, the directive criteria (both the Python and the SQL form) and every statistic; an appeal
    without a settlement is in no district (not in its office's), with a row of its own."""
    from appeals.mandates import criteria
    from appeals.register.queries import build_list_query
    from appeals.reports.statistics import briefing, dashboard

    kordai_district, merke_district = reference.districts
    about_kordai = make_appeal(office=reference.merke, settlement_id=reference.settlements[0].id,
                               received_at=datetime(2025, 3, 5, 10))
    unstated = make_appeal(office=reference.kordai, settlement_id=None, applicant_kind="anonymous",
                           applicant_name="", received_at=datetime(2025, 3, 6, 10))
    in_merke = make_appeal(office=reference.merke, settlement_id=reference.settlements[3].id,
                           received_at=datetime(2025, 3, 7, 10))

    def register(district):
        return set(db.session.scalars(build_list_query({"district": district.id}, users.coordinator)))

    assert register(kordai_district) == {about_kordai}
    assert register(merke_district) == {in_merke}
    directive = make_directive(district_ids=[kordai_district.id])
    assert criteria.unmet_criteria(directive, about_kordai) == []
    assert "place" in criteria.unmet_criteria(directive, unstated)  # not its office's district
    assert "place" in criteria.unmet_criteria(directive, in_merke)
    candidates = set(db.session.scalars(criteria.candidate_query(directive)))
    assert about_kordai in candidates and unstated not in candidates and in_merke not in candidates
    filtered = set(db.session.scalars(criteria.candidate_query(directive, {"all": True,
                                                                           "district_id": merke_district.id})))
    assert filtered == {in_merke}

    rows = {row["district"].code if row["district"] else None: row["appeals_received"]
            for row in briefing(*MARCH)["districts"]}
    assert rows == {"KRD": 1, "MRK": 1, None: 1}
    bars = [(bar.label, bar.value) for bar in dashboard(*MARCH, lang="kk")["districts"]]
    assert sorted(bars[:2]) == sorted([(kordai_district.name_kk, 1), (merke_district.name_kk, 1)])
    assert bars[2][1] == 1 and len(bars) == 3


def _replay_month(db, users, reference, make_appeal, make_directive):
    """March's appeals, flagged as mandates by a directive that came weeks later (registered 20 April)."""
    from appeals.mandates import flagging, lifecycle

    _sessions(db, reference, [(date(2025, 3, 3), "held"), (date(2025, 3, 17), "held"), (date(2025, 4, 8), "held")])
    march = [make_appeal(received_at=datetime(2025, 3, d, 11)) for d in (3, 4, 10, 17, 24)]
    march.append(make_appeal(office=reference.merke, settlement_id=reference.settlements[2].id,
                             received_at=datetime(2025, 3, 31, 17, 30)))
    april = [make_appeal(received_at=datetime(2025, 4, d, 11)) for d in (2, 9)]
    directive = make_directive()
    m1, m2 = flagging.flag_appeals(directive, [march[0].id, march[1].id], users.coordinator)
    flagging.flag_appeals(directive, [march[2].id], users.coordinator, merge_into=m2)  # merged: one mandate
    [m3] = flagging.flag_appeals(directive, [march[5].id], users.coordinator)
    [m4] = flagging.flag_appeals(directive, [march[3].id], users.coordinator)
    [m5] = flagging.flag_appeals(directive, [april[0].id], users.coordinator)
    lifecycle.update_mandate(m1, {"status": "fulfilled"}, users.coordinator)
    flagging.unflag(m4.links[0], "Қате тіркелді", users.coordinator)  # m4 is withdrawn
    _registered_on(db, [m1, m2, m3, m4], datetime(2025, 4, 20, 9, 30))
    _registered_on(db, [m5], datetime(2025, 4, 25, 9, 30))
    return march, april


def _page_figures(html, attribute):
    return {name: int(value.replace("\xa0", "").replace(" ", ""))
            for name, value in re.findall(rf'<span class="stat" {attribute}="(\w+)">([^<]+)</span>', html)}


def _pdf_figures(data):
    from appeals.reports.statistics import FIGURE_LABELS

    text = " ".join("\n".join(pdf_pages_text(data)).split())
    figures = {}
    for name in PERIOD_FIGURES:
        found = re.search(rf"\b(\d+) {re.escape(str(FIGURE_LABELS[name]))}", text)
        assert found, f"the summary prints {name}"
        figures[name] = int(found.group(1))
    return figures


@pytest.mark.parametrize("period, expected", [
    # March: six appeals, four of them flagged (five minus the withdrawn one's), forming three
    # mandates (two merged into one), one fulfilled; none registered in March.
    (MARCH, {"sessions_held": 2, "appeals_received": 6, "mandates_registered": 4, "mandates_count": 3,
             "fulfilled": 1, "mandates_registered_in_period": 0}),
    # April: the mandates were registered then (the withdrawn one not counted); two appeals, one flagged.
    (APRIL, {"sessions_held": 1, "appeals_received": 2, "mandates_registered": 1, "mandates_count": 1,
             "fulfilled": 0, "mandates_registered_in_period": 4}),
])
def test_a_replayed_month_gives_the_same_figures_on_every_surface(
        app, db, client, login, users, reference, make_appeal, make_directive, api_as, period, expected):
    from appeals.reports.statistics import figures

    _replay_month(db, users, reference, make_appeal, make_directive)
    start, end = period
    assert {name: figures(start, end)[name] for name in PERIOD_FIGURES} == expected

    api = api_as(users.viewer)
    totals = api.get(f"/statistics?start={start}&end={end}").get_json()["totals"]
    from_api = {name: totals[name] for name in PERIOD_FIGURES}

    login(users.viewer)
    dashboard = client.get("/reports", query_string={"date_from": start.isoformat(), "date_to": end.isoformat(),
                                                     "lang": "en"}).get_data(as_text=True)
    from_dashboard = {k: v for k, v in _page_figures(dashboard, "data-figure").items() if k in PERIOD_FIGURES}
    page = client.get("/mandates/statistics", query_string={"start": start.isoformat(), "end": end.isoformat(),
                                                             "lang": "en"}).get_data(as_text=True)
    from_page = {k: v for k, v in _page_figures(page, "data-stat").items() if k in PERIOD_FIGURES}
    pdf = client.get("/reports/summary.pdf", query_string={"date_from": start.isoformat(),
                                                            "date_to": end.isoformat(), "lang": "en"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    from_pdf = _pdf_figures(pdf.data)
    assert from_dashboard == from_page == from_pdf == from_api == expected


def test_each_figure_opens_its_list_for_the_same_period(app, db, client, login, users, reference, make_appeal,
                                                        make_directive):
    from urllib.parse import parse_qs, urlparse

    _replay_month(db, users, reference, make_appeal, make_directive)
    login(users.coordinator)
    html = client.get("/reports", query_string={"date_from": "2025-04-01", "date_to": "2025-04-30"}).get_data(
        as_text=True)
    links = {name: url.replace("&amp;", "&")
             for url, name in re.findall(r'<a class="tile[^"]*" href="([^"]+)"[^>]*><span class="stat" '
                                         r'data-figure="(\w+)"', html)}
    for name in PERIOD_FIGURES:
        query = parse_qs(urlparse(links[name]).query)
        assert {"2025-04-01", "2025-04-30"} <= {v for values in query.values() for v in values}, name
    # The mandates registered in April: the list behind the figure has exactly them.
    listed = client.get(links["mandates_registered_in_period"] + "&size=100").get_data(as_text=True)
    from appeals.core.extensions import db as _db
    from appeals.mandates.models import Mandate

    counted = {m.number for m in _db.session.query(Mandate).filter(Mandate.status != "withdrawn")}
    withdrawn = {m.number for m in _db.session.query(Mandate).filter(Mandate.status == "withdrawn")}
    assert all(number in listed for number in counted) and not any(number in listed for number in withdrawn)
    # Bars of mandates by status carry the period too.
    bars = [url.replace("&amp;", "&") for url in re.findall(r'href="(/mandates\?[^"]+)"', html)]
    assert any("status=in_progress" in url or "status=registered" in url for url in bars)
    assert bars and all("2025-04-01" in url and "2025-04-30" in url for url in bars)
    # The mandates from March's appeals, listed by the appeals' period.
    march_html = client.get("/reports", query_string={"date_from": "2025-03-01", "date_to": "2025-03-31"}).get_data(
        as_text=True)
    march_links = {name: url.replace("&amp;", "&")
                   for url, name in re.findall(r'<a class="tile[^"]*" href="([^"]+)"[^>]*><span class="stat" '
                                               r'data-figure="(\w+)"', march_html)}
    listed = client.get(march_links["mandates_count"] + "&size=100").get_data(as_text=True)
    march_mandates = {m.number for m in _db.session.query(Mandate).filter(Mandate.status != "withdrawn")
                      if any(link.appeal.received_at < datetime(2025, 4, 1) for link in m.active_links)}
    assert len(march_mandates) == 3
    assert all(number in listed for number in march_mandates)
    assert not any(number in listed for number in counted - march_mandates)


def test_extreme_period_dates_are_refused_not_500(client, login, users, reference):
    login(users.coordinator)
    assert client.get("/mandates?date_to=9999-12-31&received_from=0001-01-01").status_code == 200
    # The printed list refuses the bad filter with a message on the page it came from (core.parsing).
    assert client.get("/reports/mandates.pdf?date_to=9999-12-31").status_code == 302
    for query in ("start=2026-03-01&end=9999-12-31", "start=someday"):
        page = client.get(f"/mandates/statistics?{query}&lang=en")
        assert page.status_code == 200 and 'class="alert alert-error" role="alert"' in page.get_data(as_text=True)
    assert 'role="alert"' not in client.get("/mandates/statistics?start=2026-03-01&end=2026-03-31").get_data(
        as_text=True)
