"""Rate limits shared by every worker (appeals/core/ratelimit.py)."""
import threading
from datetime import timedelta

import sqlalchemy as sa

from appeals.core import ratelimit
from appeals.core.ratelimit import RateWindow


def test_hits_over_the_limit_wait_until_the_window_ends(db, time_machine):
    time_machine.move_to("2026-11-18 11:00:10+05:00", tick=False)
    assert [ratelimit.hit("form", "203.0.113.5", limit=3, per_seconds=60) for _ in range(4)] == [0, 0, 0, 50]
    assert ratelimit.peek("form", "203.0.113.5", limit=3, per_seconds=60) == 50
    assert ratelimit.hit("form", "203.0.113.6", limit=3, per_seconds=60) == 0, "another address counts alone"
    assert ratelimit.hit("other", "203.0.113.5", limit=3, per_seconds=60) == 0, "another scope counts alone"
    time_machine.move_to("2026-11-18 11:01:00+05:00", tick=False)
    assert ratelimit.hit("form", "203.0.113.5", limit=3, per_seconds=60) == 0, "a new window starts afresh"


def test_keys_are_stored_as_digests_and_old_windows_purged(db, time_machine):
    time_machine.move_to("2026-11-18 11:00:00+05:00", tick=False)
    ratelimit.hit("phone", "+77011234567", limit=5, per_seconds=3600)
    stored = db.session.scalars(sa.select(RateWindow.key_hash)).all()
    assert len(stored) == 1 and "7011234567" not in stored[0]
    assert ratelimit.purge_windows() == 0
    time_machine.shift(timedelta(hours=1))
    assert ratelimit.purge_windows() == 1


def test_an_empty_key_is_not_limited_and_reset_forgets(db):
    assert ratelimit.hit("form", "", limit=1, per_seconds=60) == 0
    ratelimit.hit("form", "x", limit=1, per_seconds=60)
    assert ratelimit.hit("form", "x", limit=1, per_seconds=60) > 0
    ratelimit.reset("form", "x")
    assert ratelimit.hit("form", "x", limit=1, per_seconds=60) == 0


def test_concurrent_hits_are_all_counted(app, db):
    def worker(results):
        with app.app_context():
            results.append(ratelimit.hit("burst", "198.51.100.1", limit=10, per_seconds=3600))

    results: list = []
    threads = [threading.Thread(target=worker, args=(results,)) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count(0) == 10 and len(results) == 16
    assert db.session.scalar(sa.select(RateWindow.count)) == 16


def test_counters_commit_without_waiting_for_the_disk_and_appeals_still_wait(app, db):
    """On PostgreSQL the rate limits' windows are written on connections of their own with
    synchronous_commit off; the app's own connections (the appeals' commits) keep it on."""
    from appeals.core.database import counter_engine

    ratelimit.hit("form", "203.0.113.9", limit=3, per_seconds=60)
    if db.engine.dialect.name != "postgresql":
        assert counter_engine() is db.engine
        return
    assert counter_engine() is counter_engine() and counter_engine() is not db.engine
    with counter_engine().connect() as connection:
        assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
    assert db.session.execute(sa.text("SHOW synchronous_commit")).scalar() == "on"
    assert db.session.scalar(sa.select(RateWindow.count)) == 1, "the counter's window is in the same database"


def test_several_keys_are_counted_together_and_the_longest_wait_is_given(db, time_machine):
    time_machine.move_to("2026-11-18 11:00:10+05:00", tick=False)
    both = (ratelimit.Hit("form", "203.0.113.7", 5, 60), ratelimit.Hit("phone", "+77011234567", 1, 3600))
    assert ratelimit.hit_all(*both) == 0
    assert ratelimit.hit_all(*both) == 3590, "the phone's hour is over its limit: its wait, the longer one"
    assert ratelimit.hit("form", "203.0.113.7", limit=5, per_seconds=60) == 0, "the address counted 3 of 5"
    assert ratelimit.hit_all(ratelimit.Hit("form", "", 1, 60), ratelimit.Hit("x", "y", 0, 60)) == 0
    assert sorted(db.session.scalars(sa.select(RateWindow.count))) == [2, 3], "no key and no limit: not counted"
