"""Terminology, the journal's order and the language switch (issue 14, items 12, 14, 15, 16)."""
import re
from datetime import timedelta

from appeals.core.timeutil import local_now
from appeals.reports import services as reports


def _html(response):
    return response.get_data(as_text=True)


def test_the_statement_type_is_aryz_and_the_applicant_legend_is_not_repeated(client, login, users):
    login(users.clerk)
    html = _html(client.get("/appeals/new"))  # Kazakh, the default
    assert re.search(r'<option[^>]*value="statement"[^>]*>Арыз</option>', html)
    assert len(re.findall(r">Өтініш беруші<", html)) == 1  # the legend only; the field is «…түрі»
    assert "Өтініш берушінің түрі" in html


def test_the_journal_runs_in_number_order_unless_asked_otherwise(db, users, reg_appeal):
    now = local_now().replace(second=0, microsecond=0)
    # Registered first but received earlier: number order and newest-first differ.
    first = reg_appeal(received_at=now - timedelta(hours=5))
    second = reg_appeal(received_at=now - timedelta(hours=1), phone="")
    by_number = reports.build_journal(reports.journal_filters({}), users.clerk, "ru")
    assert [row["number"] for row in by_number.rows] == [first.number, second.number]
    newest = reports.build_journal(reports.journal_filters({"sort": "-received"}), users.clerk, "ru")
    assert [row["number"] for row in newest.rows] == [second.number, first.number]


def test_the_journal_totals_are_formatted_for_the_language(db, users, reg_appeal, monkeypatch):
    reg_appeal()
    # Pretend a large journal: the count is grouped as the page groups it (1 225 in Russian).
    monkeypatch.setattr(reports, "fmt_number", lambda value, _real=reports.fmt_number: _real(value + 1224))
    doc = reports.build_journal(reports.journal_filters({}), users.clerk, "ru")
    assert dict(doc.totals)["Обращений в журнале"] == "1\xa0225"


def test_a_language_switch_says_so_with_an_undo(client, login, users, db):
    from appeals.auth.models import User

    login(users.clerk)
    response = client.post("/language/ru", data={"next": "/appeals"})
    assert response.status_code == 302
    page = _html(client.get("/appeals"))
    assert 'class="flash flash-info flash-undo"' in page
    undo = re.search(r'<form method="post" action="(/language/kk)">(.*?)</form>', page, re.S)
    assert undo and 'name="undo"' in undo.group(2)
    db.session.expire_all()
    assert db.session.get(User, users.clerk.id).locale == "ru"
    client.post(undo.group(1), data={"undo": "1", "next": "/appeals"})
    db.session.expire_all()
    assert db.session.get(User, users.clerk.id).locale == "kk"
    assert "flash-undo" not in _html(client.get("/appeals"))  # the undo itself asks nothing more
