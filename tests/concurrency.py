"""Calls started together on threads of their own, each in a request context and database session of
its own (the concurrency tests: the last place of a slot, one code confirmed twice)."""
import threading
from concurrent.futures import ThreadPoolExecutor

from appeals.core.extensions import db


def at_once(app, threads, call, refused):
    """Run `call(index)` on `threads` threads released together; returns each outcome:
    ("done", its result), ("refused", the error's kind) for a `refused` exception, ("error", repr) else."""
    db.session.remove()
    barrier = threading.Barrier(threads)
    outcomes = []

    def one(index):
        with app.test_request_context("/?lang=en"):
            db.session.rollback()
            barrier.wait(timeout=60)
            try:
                outcomes.append(("done", call(index)))
            except refused as error:
                outcomes.append(("refused", error.kind))
            except Exception as error:  # noqa: BLE001 - reported by the caller's assertion
                outcomes.append(("error", repr(error)))
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(threads)))
    return outcomes
