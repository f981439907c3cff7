"""Background jobs (large PDFs, large imports) whose progress every worker process can report.

One runner for every kind of job: `start_job` records the job, runs its work and records how it
ended. Progress and the outcome are written through a connection of their own, each in a short
transaction, so other requests see them while the work's own transaction is still open, and a
failing work cannot take its job's status down with it.
"""
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from appeals.core.database import separate_write, write_transaction
from appeals.core.extensions import db
from appeals.core.models_base import enum_column
from appeals.core.timeutil import utcnow

JOB_STATUSES = ("queued", "running", "done", "failed")
# An exception's own text may name tables, paths or citizens' data: the user gets this instead.
UNEXPECTED_ERROR = _l("An unexpected error occurred. It has been logged; please try again.")


class Job(db.Model):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"), index=True)
    params: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    status: Mapped[str] = enum_column(JOB_STATUSES, "job_status", default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    result_path: Mapped[str] = mapped_column(sa.String(500), default="")
    result_name: Mapped[str] = mapped_column(sa.String(200), default="")
    error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column()


class JobFailed(Exception):
    """Raised by a job's work to end it as failed with a message meant for the user.

    `params` are merged into the job's params, for the job's page (e.g. the rows to correct).
    """

    def __init__(self, message, **params):
        super().__init__(str(message))
        self.message = message
        self.params = params


@dataclass
class JobResult:
    """What a finished job leaves behind: a file to download and/or facts for its page."""

    path: str = ""
    name: str = ""
    params: dict = field(default_factory=dict)


class JobHandle:
    """What the work sees of its job: its kind, params and user, and a way to report progress."""

    def __init__(self, job):
        self.id = job.id
        self.kind = job.kind
        self.user_id = job.user_id
        self.params = dict(job.params or {})
        self.total = job.total or 0

    def progress(self, done, total=None, **params):
        """Record how far the work is (and params for the job's page), committed at once.

        On SQLite do not call it while the work holds the write lock: it would wait for itself.
        """
        values = {"progress": done}
        if total is not None:
            values["total"] = self.total = total
        if params:
            self.params.update(params)
            values["params"] = dict(self.params)
        _write(self.id, **values)


def start_job(kind, user, params, work, *, total=0, inline=False, wait=False,
              error_message=UNEXPECTED_ERROR, error_params=None):
    """Record a job of `user` and run `work(handle)`; returns the Job row.

    inline: run it now, in the caller's request (a small job the page would wait for anyway);
    otherwise in a daemon thread with an app context of its own (wait: until it has ended).
    The work returns a JobResult (or None) or raises JobFailed with a message for the user; any
    other exception is logged with its traceback and the job shows `error_message` and
    `error_params`. Whatever the work left uncommitted is rolled back in every case, so a job
    that fails has written nothing but its own status.
    """
    with write_transaction():
        job = Job(kind=kind, user_id=getattr(user, "id", None), params=dict(params or {}), status="queued",
                  progress=0, total=total)
        db.session.add(job)
    handle = JobHandle(job)
    crash = JobFailed(error_message, **(error_params or {}))
    if inline:
        _execute(handle, work, crash)
    else:
        app = current_app._get_current_object()
        locale = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
        thread = threading.Thread(target=_run_in_thread, args=(app, locale, handle, work, crash),
                                  name=f"job-{kind}-{job.id}", daemon=True)
        thread.start()
        if not wait:
            return job
        thread.join()
    # Its status was written through another connection.
    db.session.expire(job)
    return job


def _run_in_thread(app, locale, handle, work, crash):
    with app.app_context():
        try:
            # Messages the work leaves for the user are in the language they started it in.
            with force_locale(locale):
                _execute(handle, work, crash)
        finally:
            db.session.remove()


def _execute(handle, work, crash):
    try:
        _write(handle.id, status="running")
        result = work(handle) or JobResult()
        # A work commits what it means to keep; anything else is not part of its result.
        db.session.rollback()
        handle.params.update(result.params)
        # A finished job shows a full bar, even one that never knew its size.
        total = max(handle.total, 1)
        _write(handle.id, status="done", params=dict(handle.params), progress=total, total=total,
               result_path=result.path, result_name=result.name, finished_at=utcnow())
    except JobFailed as failure:
        db.session.rollback()
        _fail(handle, failure)
    except Exception:  # noqa: BLE001 - the job must end as failed whatever happened, not spin forever
        # The app's logger: module loggers created before Alembic configures logging are silenced by it.
        current_app.logger.exception("%s job %s failed", handle.kind, handle.id)
        db.session.rollback()
        _fail(handle, crash)


def _fail(handle, failure):
    handle.params.update(failure.params)
    _write(handle.id, status="failed", params=dict(handle.params), error=str(failure.message)[:2000],
           finished_at=utcnow())


def _write(job_id, **values):
    """One short transaction on a connection of its own, whatever the work's session is doing."""
    table = Job.__table__
    with separate_write() as connection:
        connection.execute(sa.update(table).where(table.c.id == job_id).values(**values))
