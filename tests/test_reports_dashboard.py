"""The statistics dashboard: figures, links to the lists behind them, permissions, CSP-safe markup."""
import re
from urllib.parse import parse_qs, urlparse

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
    tiles = re.findall(r'<span class="stat">([^<]+)</span>', html)
    assert tiles[1] == "40"  # appeals received in March
    links = _links(html)
    category = reference.categories[0]
    wanted = [l for l in links if urlparse(l).path == "/appeals" and parse_qs(urlparse(l).query).get("category")
              == [str(category.id)]]
    assert wanted, "each category bar opens the register filtered by that category"
    query = parse_qs(urlparse(wanted[0]).query)
    assert query["date_from"] == ["2026-03-01"] and query["date_to"] == ["2026-03-31"]
    count = sum(1 for a in report_data.appeals if a.category_id == category.id)
    assert f'aria-label="{category.name_kk}: {count}"' in html or f": {count}\"" in html
    assert any(parse_qs(urlparse(l).query).get("channel") == ["phone"] for l in links)
    assert any(parse_qs(urlparse(l).query).get("overdue") == ["1"] for l in links)
    assert any(urlparse(l).path.startswith("/schedule/calendar") for l in links)
    assert any(l.startswith("/reports/summary.pdf") and "date_from=2026-03-01" in l for l in links)


def test_dashboard_counts_by_week_and_channel(app_ctx, reference, report_data):
    import datetime as dt

    from appeals.reports.services import statistics

    stats = statistics(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert stats["appeals"] == 40
    assert sum(bar.value for bar in stats["weeks"]) == 40
    assert sum(bar.value for bar in stats["channels"]) == 40
    assert sum(bar.value for bar in stats["districts"]) == 40
    from appeals.labels import CHANNEL_LABELS

    phone = next(bar for bar in stats["channels"] if bar.label == str(CHANNEL_LABELS["phone"]))
    assert phone.value == sum(1 for a in report_data.appeals if a.channel == "phone")
    # Weeks are Monday-based and cut to the period.
    assert len(stats["weeks"]) == len({(a.received_at.date() - dt.timedelta(days=a.received_at.weekday()))
                                       for a in report_data.appeals})


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
