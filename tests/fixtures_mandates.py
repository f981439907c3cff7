"""Fixtures for the mandates tests (loaded by tests/conftest.py).

Appeals are created directly as rows so these tests do not depend on the register's services.
"""
import itertools
from datetime import date, datetime, timedelta

import pytest


@pytest.fixture
def make_appeal(db, reference):
    from appeals.register.models import Appeal

    counter = itertools.count(1)

    def factory(**kwargs):
        seq = next(counter)
        office = kwargs.pop("office", reference.kordai)
        received_at = kwargs.pop("received_at", datetime(2025, 3, 10, 10, 0) + timedelta(minutes=seq))
        values = dict(
            office_id=office.id,
            number=f"{office.code}-{received_at.year}-{seq:05d}",
            year=received_at.year,
            seq=seq,
            received_at=received_at,
            channel="session",
            applicant_kind="individual",
            applicant_name=f"Азамат {seq}",
            settlement_id=reference.settlements[0].id,
            appeal_type="proposal",
            category_id=reference.categories[0].id,
            summary=f"Ұсыныс {seq}",
            text="",
            status="registered",
            due_date=received_at.date() + timedelta(days=15),
            original_due_date=received_at.date() + timedelta(days=15),
        )
        values.update(kwargs)
        appeal = Appeal(**values)
        db.session.add(appeal)
        db.session.commit()
        return appeal

    return factory


@pytest.fixture
def directive_data(reference):
    return {
        "issuer": "Орталық аппарат",
        "number": "12-Д",
        "issued_on": date(2025, 3, 1),
        "title": "Азаматтардың ұсыныстарын аманат ретінде тіркеу туралы",
        "valid_from": date(2025, 3, 1),
        "valid_to": None,
    }


@pytest.fixture
def make_directive(db, users, directive_data):
    from appeals.mandates import directives

    def factory(**kwargs):
        return directives.create_directive({**directive_data, **kwargs}, users.coordinator)

    return factory


@pytest.fixture
def make_host(db):
    """A host linked to a user account, so appeals received by them can be told apart."""
    from appeals.schedules.models import Host

    def factory(user, office=None):
        host = Host(full_name=user.full_name or user.username, kind="candidate", user_id=user.id,
                    office_id=getattr(office, "id", None))
        db.session.add(host)
        db.session.commit()
        return host

    return factory
