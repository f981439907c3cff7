"""The demo reproduces the briefing: 365 of the month's appeals registered as 365 mandates under one directive."""
import random
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from appeals.demo import DEMO_MANDATES, demo_period
from appeals.mandates.models import Directive, Mandate, MandateAppeal, MandateProgressNote


def _month_of_appeals(make_appeal, reference, proposals, complaints):
    first, _last = demo_period()
    rng = random.Random(7)
    for index in range(proposals + complaints):
        day = first + timedelta(days=index % 30)
        make_appeal(
            appeal_type=rng.choice(["proposal", "statement"]) if index < proposals else "complaint",
            received_at=datetime.combine(day, time(10)) + timedelta(minutes=index % 300),
            office=rng.choice([reference.kordai, reference.merke]),
        )


@pytest.mark.parametrize("proposals, complaints", [(420, 30), (300, 100)])
def test_demo_registers_exactly_the_briefing_mandates(db, users, reference, make_appeal, proposals, complaints):
    from appeals.mandates import demo

    _month_of_appeals(make_appeal, reference, proposals, complaints)
    demo.load()
    db.session.rollback()
    [directive] = db.session.scalars(sa.select(Directive)).all()
    assert directive.appeal_types == ["proposal", "statement"]
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == DEMO_MANDATES
    links = db.session.scalars(sa.select(MandateAppeal)).all()
    assert len(links) == DEMO_MANDATES and len({link.mandate_id for link in links}) == DEMO_MANDATES
    overrides = [link for link in links if link.override_reason]
    assert len(overrides) == max(0, DEMO_MANDATES - proposals)
    statuses = set(db.session.scalars(sa.select(Mandate.status)))
    assert {"registered", "in_progress", "fulfilled"} <= statuses
    assert db.session.scalar(sa.select(sa.func.count(MandateProgressNote.id))) > 100
    first, last = demo_period()
    from appeals.reports.statistics import briefing

    totals = briefing(first, last)["totals"]
    assert (totals["appeals_received"], totals["mandates_registered"], totals["mandates_count"]) == (
        proposals + complaints, DEMO_MANDATES, DEMO_MANDATES)
    assert 0 < totals["fulfilled"] < DEMO_MANDATES
    seqs = sorted(db.session.scalars(sa.select(Mandate.seq)))
    assert seqs == list(range(1, DEMO_MANDATES + 1))


def test_full_demo_statistics_page_shows_briefing_figures(app, db, login, client):
    pytest.importorskip("appeals.register.demo")
    from appeals.auth.models import User
    from appeals.demo import DEMO_PASSWORD, load_all

    load_all()
    coordinator = db.session.scalar(sa.select(User).where(User.username == "coordinator"))
    login(coordinator, password=DEMO_PASSWORD)
    page = client.get("/mandates/statistics").get_data(as_text=True)
    from appeals.core.i18n import fmt_number

    with app.test_request_context():
        appeals = fmt_number(1218)
    assert 'data-stat="sessions_held">309<' in page
    assert f'data-stat="appeals_received">{appeals}<' in page
    assert 'data-stat="mandates_registered">365<' in page
    # The statistics dashboard counts mandates by when they were registered: the demo registered
    # them over its month, so the default period shows the briefing's figures there too.
    from appeals.demo import demo_figures_text
    from appeals.reports.statistics import figures

    first, last = demo_period()
    stats = figures(first, last)
    assert (stats["sessions_held"], stats["appeals_received"], stats["mandates_registered"],
            stats["mandates_count"], stats["mandates_registered_in_period"]) == (309, 1218, 365, 365, 365)
    dashboard = client.get("/reports?lang=en").get_data(as_text=True)
    assert '<span class="stat" data-figure="mandates_registered_in_period">365</span>Mandates registered in the period' in dashboard
    assert '<span class="stat" data-figure="mandates_registered">365</span>Of them registered as mandates' in dashboard
    # seed-demo prints the same figures when it is done.
    from appeals.reports.statistics import FIGURE_LABELS

    text = demo_figures_text()
    assert f"{FIGURE_LABELS['appeals_received']}: 1218" in text
    assert f"{FIGURE_LABELS['mandates_registered_in_period']}: 365" in text
