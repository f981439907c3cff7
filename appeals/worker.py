"""`flask --app wsgi worker`: a worker process of the queue, with the periodic duties in it.

Each worker runs the queue's tasks in WORKER_THREADS threads and, every WORKER_TICK_SECONDS, a
maintenance round in a thread of its own: the job sweeper (leases that ran out, jobs waiting for a
slot), the notices that are due, and the scheduled duties. Any number of workers may run on any
number of machines: every round's changes are conditional on what it read, and each scheduled duty
runs once per day because its run is claimed by a row first (appeals/notifications/duties.py).
"""
import logging
import threading
from typing import Callable

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from appeals.core.extensions import db

log = logging.getLogger(__name__)


def maintenance_round(app: Flask) -> None:
    """One round of the periodic work; each part fails on its own (logged), the others still run."""
    from appeals.core import jobs, outbox, retention
    from appeals.notifications import duties
    from appeals.reports import letters

    # purge_expired includes jobs.purge_results, and the document cache and idempotency keys.
    parts: list[Callable[[], object]] = [jobs.sweep_jobs, retention.purge_expired, outbox.deliver_due,
                                         outbox.release_stale_round_flag, duties.run_due_duties,
                                         letters.make_pending_letters]
    for part in parts:
        with app.app_context():
            try:
                part()
            except Exception:  # noqa: BLE001 - e.g. the database restarting: the next round tries again
                app.logger.exception("maintenance: %s failed", getattr(part, "__name__", part))
            finally:
                db.session.remove()


def _maintenance_loop(app: Flask, stop: threading.Event, interval: float) -> None:
    while True:
        maintenance_round(app)
        if stop.wait(interval):
            return


@click.command("worker")
@click.option("--threads", type=int, default=None, help="Tasks run at once (default WORKER_THREADS, 2).")
@click.option("--no-duties", is_flag=True, help="Run tasks only: no sweeper, outbox rounds or scheduled duties.")
@with_appcontext
def worker_command(threads, no_duties):
    """Run a queue worker (Ctrl-C or SIGTERM stops it)."""
    from appeals.core.queue import huey

    app = current_app._get_current_object()
    if not app.logger.handlers and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()
    if not no_duties:
        interval = float(app.config.get("WORKER_TICK_SECONDS", 15))
        threading.Thread(target=_maintenance_loop, args=(app, stop, interval), name="maintenance",
                         daemon=True).start()
    consumer = huey.create_consumer(workers=threads or int(app.config.get("WORKER_THREADS", 2)),
                                    worker_type="thread", periodic=False)
    click.echo(f"worker: queue {huey.name!r} on {type(huey.storage).__name__}, "
               f"{consumer.workers} threads{'' if no_duties else ', duties on'}")
    try:
        consumer.run()
    finally:
        stop.set()


commands = [worker_command]
