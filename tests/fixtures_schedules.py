"""Fixtures for the schedules tests (loaded by tests/conftest.py)."""
import datetime as dt

import pytest


@pytest.fixture
def hosts(reference, users):
    """Three hosts: two at Kordai (one linked to the `host` account), one at Merke."""
    from appeals.schedules import hosts as schedule_hosts

    class Hosts:
        pass

    h = Hosts()
    h.aliya = schedule_hosts.create_host({"full_name": "Әлімова Әлия Серікқызы", "position": "Облыстық мәслихат депутаттығына кандидат",
                                    "kind": "candidate", "office_id": reference.kordai.id, "user_id": users.host.id}, users.coordinator)
    h.berik = schedule_hosts.create_host({"full_name": "Бекұлы Берік", "position": "Филиал мүшесі", "kind": "office_member",
                                    "office_id": reference.kordai.id}, users.coordinator)
    h.dana = schedule_hosts.create_host({"full_name": "Досова Дана", "position": "Депутат", "kind": "deputy",
                                   "office_id": reference.merke.id}, users.coordinator)
    return h


@pytest.fixture
def next_monday(app_ctx):
    from appeals.core.timeutil import local_today

    today = local_today()
    return today + dt.timedelta(days=7 - today.weekday())


@pytest.fixture
def session_data(reference, hosts, next_monday):
    """A factory of valid session input for the Kordai office on `next_monday`, overridable per test."""

    def make(**changes):
        data = {"office_id": reference.kordai.id, "host_ids": [hosts.aliya.id], "date": next_monday,
                "start_time": dt.time(10, 0), "end_time": dt.time(12, 0), "room": "101", "capacity": 20,
                "topic": "Ауыл жолдары"}
        data.update(changes)
        return data

    return make


@pytest.fixture
def bookable(db, reference, users):
    """An approved session at Kordai tomorrow 10:00–12:00 with one host, open for booking: 4 slots of 30 minutes, 2 places each."""
    from appeals.core.timeutil import local_today
    from appeals.schedules import bookings
    from appeals.schedules.models import Host, ReceptionSession

    host = Host(full_name="Бекболатов Асқар", kind="candidate", office_id=reference.kordai.id)
    reception = ReceptionSession(office_id=reference.kordai.id, date=local_today() + dt.timedelta(days=1),
                                 start_time=dt.time(10, 0), end_time=dt.time(12, 0), status="approved", hosts=[host])
    db.session.add_all([host, reception])
    db.session.commit()
    bookings.open_slots(reception, "30", "2", users.clerk)
    return db.session.get(ReceptionSession, reception.id)
