"""The statistics dashboard: figures, links to the lists behind them, permissions, CSP-safe markup."""
import re
from urllib.parse import parse_qs, urlparse

import sqlalchemy as sa

MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def _links(html):
    return [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+)"', html)]


def test_dashboard_figures_link_to_filtered_lists(client, login, users, reference, report_data):
    login(users.viewer)
    response = client.get("/reports", query_string=MARCH)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<svg") >= 5
    assert ' style="' not in html and "<script>" not in html  # the CSP forbids both
    tiles = dict(re.findall(r'<span class="stat" data-figure="(\w+)">([^<]+)</span>', html))
    assert tiles["appeals_received"] == "40"  # appeals received in March
    links = _links(html)
    category = reference.categories[0]
    wanted = [link for link in links if urlparse(link).path == "/appeals" and parse_qs(urlparse(link).query).get("category")
              == [str(category.id)]]
    assert wanted, "each category bar opens the register filtered by that category"
    query = parse_qs(urlparse(wanted[0]).query)
    assert query["date_from"] == ["2026-03-01"] and query["date_to"] == ["2026-03-31"]
    count = sum(1 for a in report_data.appeals if a.category_id == category.id)
    bars = {parse_qs(urlparse(href.replace("&amp;", "&")).query).get("category", [""])[0]: label
            for href, label in re.findall(r'<a href="([^"]+)" aria-label="([^"]+)">', html)}
    assert count > 0 and bars[str(category.id)] == f"{category.name_kk}: {count}"
    assert any(parse_qs(urlparse(link).query).get("channel") == ["phone"] for link in links)
    assert any(parse_qs(urlparse(link).query).get("overdue") == ["1"] for link in links)
    assert any(urlparse(link).path.startswith("/schedule/calendar") for link in links)
    assert any(link.startswith("/reports/summary.pdf") and "date_from=2026-03-01" in link for link in links)


def test_dashboard_counts_by_week_and_channel(app_ctx, reference, report_data):
    import datetime as dt

    from appeals.reports.statistics import dashboard

    stats = dashboard(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert stats["figures"]["appeals_received"] == 40
    assert sum(bar.value for bar in stats["weeks"]) == 40
    assert sum(bar.value for bar in stats["channels"]) == 40
    assert sum(bar.value for bar in stats["districts"]) == 40
    from appeals.core.labels import CHANNEL_LABELS

    phone = next(bar for bar in stats["channels"] if bar.label == str(CHANNEL_LABELS["phone"]))
    assert phone.value == sum(1 for a in report_data.appeals if a.channel == "phone")
    # Weeks are Monday-based and cut to the period.
    assert len(stats["weeks"]) == len({(a.received_at.date() - dt.timedelta(days=a.received_at.weekday()))
                                       for a in report_data.appeals})


def _move_to_merke_and_drop_settlements(db, reference, report_data):
    """Five Kordai-office appeals about a Merke village, three anonymous ones without a settlement."""
    moved, unstated = report_data.appeals[:5], report_data.appeals[5:8]
    for appeal in moved:
        appeal.settlement_id = reference.settlements[3].id
    for appeal in unstated:
        appeal.applicant_kind, appeal.applicant_name, appeal.settlement_id = "anonymous", "", None
    db.session.commit()
    return moved, unstated


def test_district_figures_follow_the_appeals_settlement(app_ctx, db, reference, report_data):
    import datetime as dt

    from flask_babel import force_locale

    from appeals.reports.statistics import dashboard

    _move_to_merke_and_drop_settlements(db, reference, report_data)
    kordai, merke = reference.districts
    links = []

    def link(kind, **args):
        links.append((kind, args))
        return f"/{kind}?district={args.get('district')}"

    with force_locale("ru"):
        stats = dashboard(dt.date(2026, 3, 1), dt.date(2026, 3, 31), lang="ru", link=link)
    # Every appeal was registered by the Kordai office; the districts are those of the settlements.
    assert [(bar.label, bar.value) for bar in stats["districts"]] == [
        (kordai.name_ru, 32), (merke.name_ru, 5), ("Населённый пункт не указан", 3),
    ]
    assert sum(bar.value for bar in stats["districts"]) == stats["figures"]["appeals_received"] == 40
    assert [bar.url for bar in stats["districts"]] == [f"/appeals?district={kordai.id}",
                                                        f"/appeals?district={merke.id}", ""]
    assert ("appeals", {"district": merke.id, "date_from": "2026-03-01", "date_to": "2026-03-31"}) in links
    assert dashboard(dt.date(2026, 1, 1), dt.date(2026, 1, 31))["districts"] == []


def test_district_bar_opens_the_register_with_the_same_appeals(client, login, users, db, reference, report_data):
    moved, unstated = _move_to_merke_and_drop_settlements(db, reference, report_data)
    merke = reference.districts[1]
    login(users.coordinator)
    html = client.get("/reports", query_string=MARCH).get_data(as_text=True)
    assert f'aria-label="{merke.name_kk}: 5"' in html
    # Appeals without a settlement have a bar without a link, and the note under the chart says why.
    assert "<title>Елді мекен көрсетілмеген</title>" in html and "Елді мекен көрсетілмеген: 3" not in html
    assert "Елді мекені жоқ өтініштер" in html
    url = next(link for link in _links(html) if parse_qs(urlparse(link).query).get("district") == [str(merke.id)])
    query = parse_qs(urlparse(url).query)
    assert urlparse(url).path == "/appeals" and query["date_from"] == ["2026-03-01"]
    register = client.get(url + "&size=100").get_data(as_text=True)
    numbers = set(re.findall(r"KRD-2026-\d{5}", register))
    assert numbers == {appeal.number for appeal in moved}
    assert not numbers & {appeal.number for appeal in unstated}


def test_dashboard_permissions_and_bad_period(client, login, users, report_data):
    assert client.get("/reports").status_code in (302, 401)
    login(users.clerk)
    assert client.get("/reports").status_code == 403
    client.post("/logout")
    login(users.coordinator)
    response = client.get("/reports", query_string={"date_from": "2026-03-31", "date_to": "2026-03-01"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html and 'aria-invalid="true"' in html


def test_bar_labels_fit_their_column_in_kazakh_and_russian():
    """Every demo label, as the chart truncates it, fits left of the bars in DejaVu Sans (shipped)."""
    import re
    from pathlib import Path

    from PIL import ImageFont

    from appeals import demo
    from appeals.reports import charts
    from appeals.reports.statistics import Bar

    font = ImageFont.truetype(str(Path(charts.__file__).parent / "fonts" / "DejaVuSans.ttf"), 13)
    labels = [name for _code, kk, ru, en, _places in demo.DISTRICTS for name in (kk, ru, en)]
    labels += ["Коммуналдық қызметтер", "«Есіктен есікке» аралау", "RIM · Жамбыл облыстық филиалы",
               "Жилищно-коммунальное хозяйство"]
    svg = str(charts.bar_chart([Bar(label, 1, "") for label in labels], "t"))
    shown = re.findall(r'text-anchor="end"[^>]*>([^<]*)<title>', svg)
    assert len(shown) == len(labels)
    room = 190 - 6
    assert [text for text in shown if font.getlength(text) > room] == []
    assert "Коммуналдық қызметтер" in shown  # short enough to stay whole


def _second_region(db, reference):
    """A second region with one territorial office, and three March appeals registered there."""
    import datetime as dt

    import sqlalchemy as sa

    from appeals.reference.models import District, Office, Region, Settlement
    from appeals.register.models import Appeal

    region = Region(code="TRK", name_kk="Түркістан облысы", name_ru="Туркестанская область")
    district = District(region=region, code="SRM", name_kk="Сайрам ауданы", name_ru="Сайрамский район")
    settlement = Settlement(district=district, name_kk="Ақсу", name_ru="Аксу", kato="511001")
    office = Office(code="SRM", name_kk="Сайрам филиалы", name_ru="Сайрамский филиал", kind="territorial",
                    district=district, region=region)
    db.session.add_all([region, district, settlement, office])
    db.session.flush()
    db.session.execute(sa.insert(Appeal), [{
        "office_id": office.id, "number": f"SRM-2026-{n:05d}", "year": 2026, "seq": n,
        "received_at": dt.datetime(2026, 3, 10 + n, 11, 0), "channel": "letter", "applicant_name": "Сынақ",
        "settlement_id": settlement.id, "appeal_type": "statement", "summary": "Сынақ", "category_id": None,
        "due_date": dt.date(2026, 4, 1), "original_due_date": dt.date(2026, 4, 1)} for n in (1, 2, 3)])
    db.session.commit()
    return region


def test_the_dashboard_shows_one_region_or_the_whole_country(db, client, login, users, reference, report_data):
    login(users.central)  # the central office's level: the whole country, or one region
    html = client.get("/reports", query_string=MARCH).get_data(as_text=True)
    assert 'id="region"' not in html  # one region: nothing to choose
    other = _second_region(db, reference)

    def tiles(**args):
        response = client.get("/reports", query_string={**MARCH, **args})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        return dict(re.findall(r'<span class="stat" data-figure="(\w+)">([^<]+)</span>', page)), page

    country, page = tiles()
    assert country["appeals_received"] == "43" and 'id="region"' in page
    assert tiles(region=reference.region.id)[0]["appeals_received"] == "40"
    assert tiles(region=other.id)[0]["appeals_received"] == "3"
    figures, page = tiles(region=999999)
    assert figures["appeals_received"] == "43" and 'aria-invalid="true"' in page
    assert "Облысты тізімнен таңдаңыз." in page
    # A region's viewer sees their region only, whatever the address asks for.
    client.post("/logout")
    login(users.viewer)
    own, page = tiles(region=other.id)
    assert own["appeals_received"] == "40" and 'id="region"' not in page


def test_a_region_holds_its_offices_and_the_regional_office_above_them(db, reference):
    from appeals.reports.statistics import region_office_ids

    other = _second_region(db, reference)
    assert region_office_ids(reference.region.id) == sorted(o.id for o in reference.offices)
    assert len(region_office_ids(other.id)) == 1


def test_the_dashboards_links_are_what_url_for_builds(app):
    from flask import url_for

    from appeals.reports.views import _dashboard_link

    cases = [("appeals", {"category": 3, "date_from": "2026-03-01", "date_to": "2026-03-31"}),
             ("appeals", {"channel": "online_event", "office": None, "district": ""}),
             ("appeals", {}),
             ("mandates", {"status": "partially_fulfilled", "received_from": "2026-01-01"}),
             ("sessions", {"view": "list", "status": "held", "from": "2026-03-01", "to": "2026-03-31"})]
    endpoints = {"appeals": "register.list_appeals", "mandates": "mandates.list_mandates", "sessions": "schedules.calendar"}
    with app.test_request_context("/reports"):
        for kind, args in cases:
            expected = url_for(endpoints[kind], **{k: v for k, v in args.items() if v not in (None, "")})
            assert _dashboard_link(kind, **args) == expected


def test_with_the_reference_cache_on_the_dashboard_follows_an_office_moved_and_a_district_renamed(
        app, db, client, login, users, reference, report_data, monkeypatch):
    """The office-region map and the bars' names are kept per reference version: an edit shows at once."""
    from appeals.reference.models import District, Office

    monkeypatch.setitem(app.config, "REFERENCE_CACHE", True)
    other = _second_region(db, reference)
    login(users.central)

    def page(**args):
        response = client.get("/reports", query_string={**MARCH, **args})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        return dict(re.findall(r'<span class="stat" data-figure="(\w+)">([^<]+)</span>', html))["appeals_received"], html

    assert page(region=other.id)[0] == "3" and page(region=reference.region.id)[0] == "40"
    office = db.session.scalar(sa.select(Office).where(Office.code == "SRM"))
    office.region_id = reference.region.id
    db.session.commit()
    assert page(region=other.id)[0] == "0" and page(region=reference.region.id)[0] == "43"
    district = db.session.scalar(sa.select(District).where(District.code == "SRM"))
    district.name_kk = "Жаңа Сайрам ауданы"
    db.session.commit()
    assert "Жаңа Сайрам ауданы" in page()[1]
