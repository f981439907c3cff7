"""The register demo: the briefing's month of appeals, numbered by the live rule."""
from collections import defaultdict

import sqlalchemy as sa

from appeals.register.models import Appeal
from appeals.register.rules import check_iin


def test_demo_loads_the_briefings_appeals(app_ctx, db):
    from appeals import demo
    from appeals.register import demo as register_demo
    from appeals.schedules import demo as schedules_demo

    demo.load_reference()
    demo.load_users()
    schedules_demo.load()
    assert register_demo.load() == demo.DEMO_APPEALS
    appeals = db.session.scalars(sa.select(Appeal)).all()
    assert len(appeals) == demo.DEMO_APPEALS == 1218
    start, end = demo.demo_period()
    assert all(start <= a.received_at.date() <= end for a in appeals)
    by_scope = defaultdict(list)
    for appeal in appeals:
        by_scope[(appeal.office_id, appeal.year)].append(appeal.seq)
    assert all(sorted(seqs) == list(range(1, len(seqs) + 1)) for seqs in by_scope.values())
    sessions = [a for a in appeals if a.channel == "session"]
    assert len(sessions) > len(appeals) / 2
    assert all(a.session.status == "held" and a.host in a.session.hosts for a in sessions[:50])
    assert {a.status for a in appeals} >= {"registered", "in_review", "answered", "closed"}
    assert sum(1 for a in appeals if a.repeat_of_id) >= 5
    for appeal in appeals:
        if appeal.iin:
            check_iin(appeal.iin)
        if appeal.phone:
            assert appeal.phone.startswith("+77") and len(appeal.phone) == 12
