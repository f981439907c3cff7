"""The demo schedule: the briefing's 309 held receptions, and no broken conflict rule in the data."""
import sqlalchemy as sa

from appeals.demo import DEMO_SESSIONS_HELD, demo_period, load_reference, load_users
from appeals.schedules import demo
from appeals.schedules import hosts as schedule_hosts
from appeals.schedules import services as schedule_services
from appeals.schedules.models import Host, ReceptionSession, session_hosts


def test_demo_schedule_matches_the_briefing_and_respects_conflicts(db):
    load_reference()
    load_users()
    demo.load()
    start, end = demo_period()
    assert schedule_services.sessions_held_count(start, end) == DEMO_SESSIONS_HELD
    by_office = {row.office.code: row.sessions for row in schedule_services.sessions_held_by_office(start, end)}
    assert sum(by_office.values()) == DEMO_SESSIONS_HELD
    assert by_office["ZHM"] > 0 and sum(1 for count in by_office.values() if count) >= 8
    statuses = dict(db.session.execute(
        sa.select(ReceptionSession.status, sa.func.count()).group_by(ReceptionSession.status)).all())
    assert statuses["approved"] > 50 and statuses["draft"] >= 3 and statuses["cancelled"] == 1
    assert db.session.scalar(sa.select(sa.func.count(ReceptionSession.id)).where(
        ReceptionSession.status == "held", ReceptionSession.visitors_count.is_(None))) == 0

    # No host in two overlapping sessions, no room booked twice.
    a, b = sa.orm.aliased(ReceptionSession), sa.orm.aliased(ReceptionSession)
    ha, hb = session_hosts.alias(), session_hosts.alias()
    overlap = sa.and_(a.id < b.id, a.date == b.date, a.start_time < b.end_time, b.start_time < a.end_time,
                      a.status != "cancelled", b.status != "cancelled")
    host_clashes = db.session.scalar(sa.select(sa.func.count()).select_from(a).join(b, overlap)
                                     .join(ha, ha.c.session_id == a.id).join(hb, hb.c.session_id == b.id)
                                     .where(ha.c.host_id == hb.c.host_id))
    room_clashes = db.session.scalar(sa.select(sa.func.count()).select_from(a).join(b, overlap)
                                     .where(a.office_id == b.office_id, a.room == b.room))
    assert host_clashes == 0 and room_clashes == 0

    host = db.session.scalar(sa.select(Host).where(Host.user.has(username="host")))
    assert host is not None and host.feed_token
    assert len(schedule_hosts.list_hosts()) >= 20
