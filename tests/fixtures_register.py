"""Fixtures for the register tests (loaded by tests/conftest.py)."""
from datetime import date, datetime, timedelta

import pytest

from appeals.register.rules import make_iin

VALID_IIN = make_iin(date(1990, 1, 1), "m", 30)


def an_hour_ago():
    """When test appeals are received: an hour ago, but never yesterday (local, to the minute).

    Tests count what arrived "today" and compare appeals registered by fixtures and by forms: at
    00:30 (one of CI's clocks) "an hour ago" alone would fall on the day before.
    """
    from appeals.core.timeutil import local_now

    now = local_now()
    return max(now - timedelta(hours=1), datetime.combine(now.date(), datetime.min.time())).replace(second=0, microsecond=0)


@pytest.fixture
def reg_data(reference):
    """A factory of valid registration data for the Kordai office; keyword arguments override fields."""
    received_at = an_hour_ago()

    def build(**overrides):
        data = {
            "office_id": reference.kordai.id,
            "received_at": received_at,
            "channel": "letter",
            "applicant_kind": "individual",
            "applicant_name": "Әбілқасымов Ерлан Серікұлы",
            "iin": "",
            "phone": "+7 701 123 45 67",
            "address": "Абай көшесі, 12",
            "settlement_id": reference.settlements[0].id,
            "appeal_type": "statement",
            "category_id": reference.categories[0].id,
            "summary": "Көшедегі жолды жөндеу қажет",
            "text": "Толық мәтін",
        }
        data.update(overrides)
        return data

    return build


@pytest.fixture
def reg_appeal(reg_data, users):
    """Register an appeal through the service (as the Kordai clerk unless `actor` is given)."""
    from appeals.register import workflow

    def create(actor=None, link_repeat_of=None, **overrides):
        return workflow.register_appeal(reg_data(**overrides), actor or users.clerk, link_repeat_of=link_repeat_of)

    return create


@pytest.fixture
def reg_session(reference, users, db):
    """A held reception session at the Kordai office today with two hosts; the second is the `host` user's."""
    from appeals.core.timeutil import local_today
    from appeals.schedules.models import Host, ReceptionSession

    first = Host(full_name="Бекболатов Асқар", kind="candidate", office_id=reference.kordai.id)
    second = Host(full_name="Құлыбеков Нұрлан", kind="deputy", office_id=reference.kordai.id, user_id=users.host.id)
    session = ReceptionSession(
        office_id=reference.kordai.id, date=local_today(), start_time=datetime.min.time().replace(hour=0),
        end_time=datetime.min.time().replace(hour=23, minute=59), status="held", hosts=[first, second],
    )
    db.session.add_all([first, second, session])
    db.session.commit()
    return session
