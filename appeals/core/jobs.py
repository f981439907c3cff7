"""Background jobs (large PDFs, large imports), run by worker processes through the queue.

A job is a row of the jobs table: kind, params for its page, its input, status and progress. The
queue (appeals.core.queue) carries only its id. A worker claims the job (at most
JOB_MAX_RUNNING_PER_USER running jobs per user; the others wait, queued, in order), keeps a
heartbeat on it while it works, and records how it ended. If the worker dies (kill -9, a deploy,
the machine), the heartbeat stops: `sweep_jobs`, which every worker runs at start and then
periodically, queues the job again when its kind is safe to redo and it has attempts left, and
otherwise ends it as failed with a translated message. No job stays "running" forever.

Each kind is registered once with `job_kind` (its work, whether it is safe to redo, its messages);
`start_job` records a job of a kind and queues it. Progress and the outcome are written through a
connection of their own, each in a short transaction, so other requests see them while the work's
own transaction is still open, and a failing work cannot take its job's status down with it. A work
that commits what it makes (an import) records its outcome inside that same transaction
(`JobHandle.finish_in_transaction`), so a crash leaves either both or neither.
"""
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from appeals.core.database import separate_write, write_transaction
from appeals.core.extensions import db
from appeals.core.models_base import enum_column
from appeals.core.queue import huey, in_app_context, task_app
from appeals.core.timeutil import utcnow

JOB_STATUSES = ("queued", "running", "done", "failed")
# An exception's own text may name tables, paths or citizens' data: the user gets this instead.
UNEXPECTED_ERROR = _l("An unexpected error occurred. It has been logged; please try again.")
INTERRUPTED = _l("The job was interrupted (its worker stopped) and was not finished; please start it again.")


class Job(db.Model):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"), index=True)
    params: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    # What the work needs (e.g. an import's rows); never shown on a page.
    input: Mapped[Optional[Any]] = mapped_column(sa.JSON)
    locale: Mapped[str] = mapped_column(sa.String(8), default="")
    status: Mapped[str] = enum_column(JOB_STATUSES, "job_status", default="queued")
    progress: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    # The running worker's lease: renewed every JOB_HEARTBEAT_SECONDS while it works.
    heartbeat_at: Mapped[Optional[datetime]] = mapped_column()
    worker: Mapped[str] = mapped_column(sa.String(120), default="")
    # "db" (the job_results table) or a file name inside the RESULT_STORE folder; "" without one.
    result_path: Mapped[str] = mapped_column(sa.String(500), default="")
    result_name: Mapped[str] = mapped_column(sa.String(200), default="")
    error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[Optional[datetime]] = mapped_column()
    finished_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (sa.Index("ix_jobs_status_user", "status", "user_id"),)


class JobResultData(db.Model):
    """A finished job's file, when RESULT_STORE is "database": every app server can serve it."""

    __tablename__ = "job_results"
    job_id: Mapped[int] = mapped_column(sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


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
    """What a finished job leaves behind: a file to download (its bytes) and/or facts for its page."""

    data: Optional[bytes] = None
    name: str = ""
    params: dict = field(default_factory=dict)


@dataclass
class JobKind:
    work: Callable[["JobHandle"], Optional[JobResult]]
    redo_safe: bool = True
    error_message: Any = UNEXPECTED_ERROR
    error_params: dict = field(default_factory=dict)
    interrupted_message: Any = INTERRUPTED


_KINDS: dict[str, JobKind] = {}


def job_kind(kind: str, *, redo_safe: bool = True, error_message=UNEXPECTED_ERROR, error_params=None,
             interrupted_message=INTERRUPTED):
    """Register the work of a kind of job (a decorator). redo_safe: a job interrupted mid-way may
    simply run again (it wrote nothing, or what it wrote commits with its outcome)."""

    def register(work):
        _KINDS[kind] = JobKind(work, redo_safe, error_message, dict(error_params or {}), interrupted_message)
        return work

    return register


class JobHandle:
    """What the work sees of its job: its kind, params, input and user, and a way to report progress."""

    def __init__(self, job: Job):
        self.id = job.id
        self.kind = job.kind
        self.user_id = job.user_id
        self.params = dict(job.params or {})
        self.input = job.input
        self.total = job.total or 0
        self.attempt = job.attempts
        self.locale = job.locale

    def progress(self, done: int, total: Optional[int] = None, **params) -> None:
        """Record how far the work is (and params for the job's page), committed at once.

        On SQLite do not call it while the work holds the write lock: it would wait for itself.
        """
        values: dict[str, Any] = {"progress": done}
        if total is not None:
            values["total"] = self.total = total
        if params:
            self.params.update(params)
            values["params"] = dict(self.params)
        _write(self.id, **values)

    def finish_in_transaction(self, result: JobResult) -> None:
        """Record the job as done inside the work's open transaction: it commits with the work."""
        self.params.update(result.params)
        db.session.execute(_done_statement(self, result, result_path=""))


def max_running_per_user() -> int:
    return int(current_app.config.get("JOB_MAX_RUNNING_PER_USER", 2))


def start_job(kind: str, user, params: Optional[dict], *, input: Any = None, total: int = 0,
              inline: bool = False) -> Job:
    """Record a job of `kind` for `user` and queue it (inline: run it now, in the caller's request,
    for a small job the page would wait for anyway); returns the Job row."""
    if kind not in _KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    with write_transaction():
        job = Job(kind=kind, user_id=getattr(user, "id", None), params=dict(params or {}), input=input,
                  locale=locale, status="queued", progress=0, total=total, attempts=0)
        db.session.add(job)
    job_id = job.id
    if inline:
        handle = _claim(job_id, ignore_cap=True)
        if handle is not None:
            _execute(handle)
    else:
        run_job(job_id)
    db.session.expire(job)
    return job


def queue_position(job: Job) -> int:
    """1 for the next of its user's waiting jobs to start, 2 for the one after it, ...; 0 unless queued."""
    if job.status != "queued":
        return 0
    return 1 + db.session.scalar(
        sa.select(sa.func.count()).select_from(Job)
        .where(Job.user_id == job.user_id, Job.status == "queued", Job.id < job.id)
    )


@huey.task(name="run_job")
@in_app_context
def run_job(job_id: int) -> None:
    """The queue's task: claim the job (if its user has a free slot) and run it."""
    handle = _claim(job_id)
    if handle is None:
        return
    heartbeat = _Heartbeat(task_app(), handle)
    heartbeat.start()
    try:
        with force_locale(handle.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            _execute(handle)
    finally:
        heartbeat.stop()
        db.session.rollback()
        dispatch_waiting(handle.user_id)


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


def _claim(job_id: int, ignore_cap: bool = False) -> Optional[JobHandle]:
    """Mark the job running for this worker, unless it is not queued or its user has no free slot."""
    with write_transaction():
        job = db.session.get(Job, job_id, with_for_update=True, populate_existing=True)
        if job is None or job.status != "queued":
            return None
        if job.user_id is not None and not ignore_cap:
            # Serialises the claims of one user's jobs (SQLite: the write lock already does).
            users = sa.table("users", sa.column("id"))
            db.session.execute(sa.select(users.c.id).where(users.c.id == job.user_id).with_for_update())
            running = db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
                Job.user_id == job.user_id, Job.status == "running"))
            if running >= max_running_per_user():
                return None
        now = utcnow()
        job.status, job.attempts, job.heartbeat_at, job.started_at = "running", job.attempts + 1, now, now
        job.worker = _worker_name()
    return JobHandle(job)


def dispatch_waiting(user_id: Optional[int]) -> int:
    """Queue the oldest waiting jobs of `user_id` that fit in its free slots; returns how many."""
    if user_id is None:
        return 0
    running = db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(
        Job.user_id == user_id, Job.status == "running"))
    free = max_running_per_user() - running
    if free <= 0:
        return 0
    waiting = db.session.scalars(sa.select(Job.id).where(Job.user_id == user_id, Job.status == "queued")
                                 .order_by(Job.id).limit(free)).all()
    db.session.rollback()
    for job_id in waiting:
        run_job(job_id)
    return len(waiting)


class _Heartbeat:
    """Renews the job's lease every JOB_HEARTBEAT_SECONDS from a thread of its own."""

    def __init__(self, app, handle: JobHandle):
        self.app, self.handle = app, handle
        self.interval = float(app.config.get("JOB_HEARTBEAT_SECONDS", 5))
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"job-{handle.id}-heartbeat", daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopped.set()
        self.thread.join(timeout=self.interval + 5)

    def _run(self):
        with self.app.app_context():
            while not self.stopped.wait(self.interval):
                try:
                    table = Job.__table__
                    with separate_write() as connection:
                        connection.execute(sa.update(table).where(
                            table.c.id == self.handle.id, table.c.status == "running",
                            table.c.attempts == self.handle.attempt).values(heartbeat_at=utcnow()))
                except Exception:  # noqa: BLE001 - a missed beat is retried; the sweeper judges
                    self.app.logger.warning("heartbeat of job %s failed", self.handle.id, exc_info=True)


def _execute(handle: JobHandle) -> None:
    spec = _KINDS[handle.kind]
    try:
        result = spec.work(handle) or JobResult()
        # A work commits what it means to keep; anything else is not part of its result.
        db.session.rollback()
        handle.params.update(result.params)
        stored = _store_result(handle.id, result.data) if result.data is not None else ""
        with separate_write() as connection:
            connection.execute(_done_statement(handle, result, result_path=stored))
    except JobFailed as failure:
        db.session.rollback()
        _fail(handle, failure)
    except Exception:  # noqa: BLE001 - the job must end as failed whatever happened, not spin forever
        # The app's logger: module loggers created before Alembic configures logging are silenced by it.
        current_app.logger.exception("%s job %s failed", handle.kind, handle.id)
        db.session.rollback()
        _fail(handle, JobFailed(spec.error_message, **spec.error_params))


def _done_statement(handle: JobHandle, result: JobResult, result_path: str):
    table = Job.__table__
    # A finished job shows a full bar, even one that never knew its size.
    total = max(handle.total, 1)
    return (sa.update(table)
            .where(table.c.id == handle.id, table.c.status == "running", table.c.attempts == handle.attempt)
            .values(status="done", params=dict(handle.params), progress=total, total=total, result_path=result_path,
                    result_name=result.name, finished_at=utcnow()))


def _fail(handle: JobHandle, failure: JobFailed) -> None:
    handle.params.update(failure.params)
    table = Job.__table__
    with separate_write() as connection:
        connection.execute(
            sa.update(table)
            .where(table.c.id == handle.id, table.c.status == "running", table.c.attempts == handle.attempt)
            .values(status="failed", params=dict(handle.params), error=str(failure.message)[:2000],
                    finished_at=utcnow()))


def _write(job_id: int, **values) -> None:
    """One short transaction on a connection of its own, whatever the work's session is doing."""
    table = Job.__table__
    with separate_write() as connection:
        connection.execute(sa.update(table).where(table.c.id == job_id).values(**values))


# --- The sweeper: leases that ran out, jobs waiting for a slot ------------------------------------


def sweep_jobs(now: Optional[datetime] = None) -> dict:
    """Requeue or fail the running jobs whose worker stopped beating; queue waiting jobs that fit.

    Safe to run in every worker at once: each change is conditional on what the sweeper saw.
    """
    now = now or utcnow()
    lease = timedelta(seconds=float(current_app.config.get("JOB_LEASE_SECONDS", 60)))
    max_attempts = int(current_app.config.get("JOB_MAX_ATTEMPTS", 2))
    stale = db.session.execute(sa.select(Job.id, Job.kind, Job.attempts, Job.locale, Job.params, Job.heartbeat_at)
                               .where(Job.status == "running", Job.heartbeat_at < now - lease)).all()
    db.session.rollback()
    requeued = failed = 0
    table = Job.__table__
    for job_id, kind, attempts, locale, params, heartbeat_at in stale:
        spec = _KINDS.get(kind)
        seen = sa.and_(table.c.id == job_id, table.c.status == "running", table.c.heartbeat_at == heartbeat_at)
        if spec is not None and spec.redo_safe and attempts < max_attempts:
            with separate_write() as connection:
                changed = connection.execute(sa.update(table).where(seen).values(
                    status="queued", heartbeat_at=None, worker="")).rowcount
            requeued += changed
        else:
            with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
                message = str(spec.interrupted_message if spec else INTERRUPTED)
            values = {"status": "failed", "error": message, "finished_at": now}
            if spec is not None and spec.error_params:
                values["params"] = {**(params or {}), **spec.error_params}
            with separate_write() as connection:
                failed += connection.execute(sa.update(table).where(seen).values(**values)).rowcount
    dispatched = 0
    for (user_id,) in db.session.execute(sa.select(Job.user_id).where(Job.status == "queued").distinct()).all():
        dispatched += dispatch_waiting(user_id)
    db.session.rollback()
    return {"requeued": requeued, "failed": failed, "dispatched": dispatched}


# --- Results: one store for every app server --------------------------------------------------


def _result_folder() -> Optional[Path]:
    store = current_app.config.get("RESULT_STORE", "database") or "database"
    if store == "database":
        return None
    folder = Path(store)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _store_result(job_id: int, data: bytes) -> str:
    folder = _result_folder()
    if folder is None:
        with separate_write() as connection:
            connection.execute(sa.delete(JobResultData.__table__).where(JobResultData.__table__.c.job_id == job_id))
            connection.execute(sa.insert(JobResultData.__table__).values(job_id=job_id, data=data))
        return "db"
    name = f"job-{job_id}.bin"
    temporary = folder / f".{name}.{os.getpid()}.tmp"
    temporary.write_bytes(data)
    # Other servers never see a half-written file.
    os.replace(temporary, folder / name)
    return name


def result_bytes(job: Job) -> Optional[bytes]:
    """The finished job's file from whichever store holds it; None when there is none (or it expired)."""
    if job.status != "done" or not job.result_path:
        return None
    if job.result_path == "db":
        return db.session.scalar(sa.select(JobResultData.data).where(JobResultData.job_id == job.id))
    folder = _result_folder() or Path(current_app.config.get("RESULT_STORE", ""))
    path = folder / Path(job.result_path).name
    return path.read_bytes() if path.is_file() else None


def purge_results(now: Optional[datetime] = None) -> int:
    """Delete the files of jobs that finished over JOB_RESULT_HOURS (24) ago; returns how many."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=float(current_app.config.get("JOB_RESULT_HOURS", 24)))
    expired = db.session.execute(sa.select(Job.id, Job.result_path).where(
        Job.result_path != "", Job.finished_at < cutoff)).all()
    db.session.rollback()
    folder = _result_folder()
    for _job_id, path in expired:
        if path != "db" and folder is not None:
            (folder / Path(path).name).unlink(missing_ok=True)
    if expired:
        ids = [job_id for job_id, _path in expired]
        with write_transaction():
            db.session.execute(sa.delete(JobResultData).where(JobResultData.job_id.in_(ids)))
            db.session.execute(sa.update(Job).where(Job.id.in_(ids)).values(result_path=""))
    return len(expired)
