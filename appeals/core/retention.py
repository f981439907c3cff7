"""How long generated files and retry records are kept, and the one function that deletes them.

`purge_expired()` runs in every worker's maintenance round (appeals/worker.py) and from
`flask purge-expired` (cron, for a deployment without workers). Each purge is safe to run at any
time and from several processes at once.
"""
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import sqlalchemy as sa
from flask import current_app

from appeals.core import jobs, ratelimit, storage
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.idempotency import purge_idempotency_keys
from appeals.core.timeutil import utcnow

log = logging.getLogger(__name__)


def document_cache_folder() -> Path:
    """Where the PDF engine keeps rendered chunks of registers (instance/reports)."""
    return Path(current_app.instance_path) / "reports"


def purge_document_cache(now: Optional[datetime] = None) -> int:
    """Delete cached document chunks and stray files older than JOB_RESULT_HOURS: they hold
    citizens' data like the documents themselves; returns the number of files deleted."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=float(current_app.config.get("JOB_RESULT_HOURS", 24)))
    cutoff_epoch = cutoff.replace(tzinfo=timezone.utc).timestamp()
    removed = 0
    folder = document_cache_folder()
    if folder.is_dir():
        for path in folder.rglob("*"):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff_epoch:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # another process purged it first
    return removed


def purge_finished_job_inputs() -> int:
    """Forget the input of jobs that ended (an import's rows: citizens' names, IINs, letters): a
    finished job is never run again, and its page needs only its params."""
    with write_transaction():
        return db.session.execute(sa.update(jobs.Job).where(jobs.Job.status.in_(("done", "failed")),  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
                                                            jobs.Job.input.is_not(None))
                                  .values(input=None)).rowcount


def purge_expired(now: Optional[datetime] = None) -> dict:
    """Every purge at once: finished jobs' inputs and files, cached chunks, idempotency keys, stored files
    no row names; returns the counts."""
    counts = {"job_inputs": purge_finished_job_inputs(), "job_results": jobs.purge_results(now),
              "document_cache": purge_document_cache(now), "idempotency_keys": purge_idempotency_keys(now),
              "orphan_files": storage.purge_orphans(), "rate_windows": ratelimit.purge_windows(now)}
    if any(counts.values()):
        log.info("purged expired data: %s", counts)
    return counts


def purge_expired_command():
    import click
    from flask.cli import with_appcontext

    @click.command("purge-expired")
    @with_appcontext
    def command():
        """Delete generated documents and retry records past their keeping time (run it hourly)."""
        counts = purge_expired()
        click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))

    return command
