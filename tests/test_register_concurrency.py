"""Registration numbers stay unique and gapless when many clerks save at the same moment.

Runs against the real test database: a SQLite file (BEGIN IMMEDIATE + busy_timeout queue the
writers) or PostgreSQL with TEST_DATABASE_URL (the counter row lock does).
"""
import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from appeals.core.extensions import db as _db
from appeals.register import workflow
from appeals.register.models import Appeal

THREADS = 16
PER_THREAD = 25


def test_numbers_gapless_and_unique_under_concurrency(app, reg_data, users, reference, db):
    data = reg_data()
    clerk_id = users.clerk.id
    # Every thread starts together so that their transactions really collide.
    barrier = threading.Barrier(THREADS)
    failures = []

    def clerk_session(worker):
        numbers = []
        with app.app_context():
            from appeals.auth.models import User

            actor = _db.session.get(User, clerk_id)
            _ = actor.office_ids
            # Give the connection back while waiting: the pool has fewer connections than threads.
            _db.session.rollback()
            barrier.wait(timeout=60)
            for index in range(PER_THREAD):
                try:
                    appeal = workflow.register_appeal(
                        {**data, "summary": f"Worker {worker} appeal {index}"}, actor)
                    numbers.append(appeal.number)
                except Exception as exc:  # noqa: BLE001 - collected and reported by the assertion below
                    failures.append(repr(exc))
            _db.session.remove()
        return numbers

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(clerk_session, range(THREADS)))

    assert failures == []
    total = THREADS * PER_THREAD
    returned = [number for numbers in results for number in numbers]
    assert len(returned) == len(set(returned)) == total
    db.session.rollback()  # end the read snapshot taken before the threads wrote
    seqs = db.session.scalars(sa.select(Appeal.seq).where(Appeal.office_id == reference.kordai.id).order_by(Appeal.seq)).all()
    assert seqs == list(range(1, total + 1))
    year = data["received_at"].year
    assert sorted(returned) == [f"KRD-{year}-{n:05d}" for n in range(1, total + 1)]
