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
