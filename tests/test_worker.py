"""Real worker processes (`flask --app wsgi worker`) killed with SIGKILL mid-job, on both queue storages.

The test process queues jobs into the same storage the worker reads (the embedded SQLite file, or
Redis), on the test database (SQLite or PostgreSQL), and reads the outcome from the jobs table.
"""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from appeals.core import jobs, queue
from appeals.core.jobs import Job
from appeals.register import imports
from appeals.register.models import Appeal
from tests.fixtures_reports import make_appeals

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# The workers run in processes of their own, on the real clock: so does the test.
pytestmark = pytest.mark.real_clock

HEADER = "received_at;channel;applicant_name;iin;phone;settlement;appeal_type;category;summary"


def _redis_up():
    try:
        import redis

        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 - any failure: no Redis here
        return False


@pytest.fixture(params=["sqlite-queue", "redis-queue"])
def real_queue(request, app, tmp_path):
    """Point the app's queue at a real storage of its own (and give the workers the same settings)."""
    if request.param == "redis-queue":
        if not _redis_up():
            if os.environ.get("CI"):
                pytest.fail(f"Redis is not reachable at {REDIS_URL} (.ci/run starts it)")
            pytest.skip("Redis is not running")
        url = REDIS_URL
    else:
        url = f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    name = f"test-{uuid.uuid4().hex[:10]}"
    saved = {key: app.config.get(key) for key in ("QUEUE_URL", "QUEUE_NAME", "QUEUE_IMMEDIATE")}
    app.config.update(QUEUE_URL=url, QUEUE_NAME=name, QUEUE_IMMEDIATE=False)
    queue.init_queue(app)
    yield {"QUEUE_URL": url, "QUEUE_NAME": name}
    queue.huey.flush()
    app.config.update(saved)
    queue.init_queue(app)


class Worker:
    """A `flask --app wsgi worker` process in a session of its own (killed with its render children)."""

    def __init__(self, app, settings, tmp_path, **extra):
        self.env = {
            **os.environ, **settings,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "QABYLDAU_INSTANCE": str(tmp_path / f"worker-instance-{uuid.uuid4().hex[:6]}"),
            "SECRET_KEY": "worker-test-secret-key-0123456789abcdef",
            "JOB_HEARTBEAT_SECONDS": "0.5", "JOB_LEASE_SECONDS": "3", "WORKER_TICK_SECONDS": "0.5",
            "REPORT_WORKERS": "1",
            **{key: str(value) for key, value in extra.items()},
        }
        self.log = tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--threads", "2"], cwd=ROOT, env=self.env,
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait_ready(self, timeout=60):
        """Until the consumer runs (and the first maintenance round has had its moment)."""
        deadline = time.monotonic() + timeout
        while "worker: queue" not in self.log.read_text(errors="replace"):
            assert time.monotonic() < deadline and self.process.poll() is None, self.output()
            time.sleep(0.1)
        time.sleep(1)
        return self

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self):
        return self.log.read_text(errors="replace")[-3000:]


def _job(db, job_id):
    db.session.rollback()
    db.session.expire_all()
    return db.session.get(Job, job_id)


def _wait(db, job_id, condition, worker, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = _job(db, job_id)
        if condition(job):
            return job
        assert worker.process.poll() is None, f"the worker exited:\n{worker.output()}"
        time.sleep(0.2)
    raise AssertionError(f"timed out; job {job.status} {job.progress}/{job.total} {job.params}\n{worker.output()}")


def _count_appeals(db):
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Appeal))


# One queue storage is enough for the long journal; the import runs on both.
@pytest.mark.parametrize("real_queue", ["sqlite-queue"], indirect=True)
def test_journal_of_10000_rows_killed_mid_way_ends_failed_after_a_restart(app, db, reference, users, real_queue,
                                                                          tmp_path):
    make_appeals(reference, 10000)
    first = Worker(app, real_queue, tmp_path).start()
    try:
        with force_locale("ru"):
            job = jobs.start_job("journal_pdf", users.coordinator, {"args": {}, "lang": "ru", "rows": 10000})
            interrupted = str(jobs.INTERRUPTED)
        running = _wait(db, job.id, lambda j: j.status == "running" and j.progress > 0, first, timeout=240)
        assert running.total == 10000 or running.total > running.progress
        first.kill()
    finally:
        first.stop()
    assert _job(db, job.id).status == "running", "nobody has noticed yet"

    # The next worker allows one attempt: the lease runs out and the job ends failed, in Russian.
    second = Worker(app, real_queue, tmp_path, JOB_MAX_ATTEMPTS=1).start()
    try:
        failed = _wait(db, job.id, lambda j: j.status != "running", second, timeout=60)
    finally:
        second.stop()
    assert (failed.status, failed.error) == ("failed", interrupted)
    assert failed.finished_at is not None and failed.result_path == ""


def test_import_killed_mid_way_is_redone_after_a_restart_and_writes_all_rows_once(app, db, reference, users,
                                                                                  real_queue, tmp_path):
    count = 4000
    lines = [f"15.01.2024 {8 + i % 9:02d}:{i % 60:02d};letter;Applicant {i};;;Қордай;statement;roads;Summary {i}"
             for i in range(count)]
    rows = imports.read_import_file("door.csv", "\n".join([HEADER, *lines]).encode())
    app.config["IMPORT_INLINE_ROWS"] = 0
    first = Worker(app, real_queue, tmp_path).start()
    try:
        job = imports.start_import(reference.kordai, "door.csv", rows, users.clerk)
        _wait(db, job.id, lambda j: (j.params or {}).get("phase") == "saving", first, timeout=240)
        time.sleep(0.5)
        first.kill()
    finally:
        app.config.pop("IMPORT_INLINE_ROWS")
        first.stop()
    after_kill = _job(db, job.id).status
    # All or nothing, and the job's status says which.
    assert (after_kill, _count_appeals(db)) in {("running", 0), ("done", count)}

    second = Worker(app, real_queue, tmp_path).start()
    try:
        done = _wait(db, job.id, lambda j: j.status in ("done", "failed"), second, timeout=240)
    finally:
        second.stop()
    assert done.status == "done", done.error
    assert _count_appeals(db) == count
    assert done.params["imported"] == count and done.params["first"] == "KRD-2024-00001"
    numbers = db.session.scalars(sa.select(Appeal.seq).order_by(Appeal.seq)).all()
    assert numbers == list(range(1, count + 1)), "no gap, no duplicate"
    assert done.attempts == (2 if after_kill == "running" else 1)


def test_a_worker_delivers_a_committed_notice_through_the_queue(app, db, users, real_queue, tmp_path):
    from appeals.core import outbox
    from appeals.core.database import write_transaction
    from tests.servers import SmtpServer, _free_port

    server = SmtpServer(_free_port()).start()
    worker = Worker(app, real_queue, tmp_path, MAIL_URL=f"smtp://127.0.0.1:{server.port}",
                    MAIL_FROM="qabyldau@example.kz", WORKER_TICK_SECONDS=3600).start().wait_ready()
    app.config["OUTBOX_KICK"] = True
    try:
        with write_transaction():
            db.session.merge(users.clerk).email = "clerk@example.kz"
            outbox.notify(users.clerk, "appeal_assigned", {"appeal_id": 1, "number": "KRD-2026-00001",
                                                            "due_date": "2026-03-23"}, channels=("email",))
        # The commit queued a delivery task; the worker's periodic round is an hour away.
        (recipients, message), = server.inbox.wait_for(1, timeout=60) or [None]
        # The server has the message; the worker marks the notice sent just after (stopped before
        # that, it would leave it "sending" for the sweeper to send again).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            db.session.rollback()
            if db.session.scalar(sa.select(outbox.Notice.status)) == "sent":
                break
            time.sleep(0.1)
    finally:
        app.config["OUTBOX_KICK"] = False
        worker.stop()
        server.stop()
    assert recipients == ["clerk@example.kz"] and "KRD-2026-00001" in message["Subject"]
    notice = db.session.scalars(sa.select(outbox.Notice)).one()
    db.session.refresh(notice)
    assert (notice.status, notice.attempts) == ("sent", 1)


def test_commits_while_a_round_gathers_join_it_and_nothing_waits_past_it(app, db, real_queue, sms_gateway,
                                                                          monkeypatch):
    """One delivery round is queued at a time: notices committed while it gathers go with it (one claim,
    one record for all of them); once it has started, the next commit queues the next round. A flag left
    by a round that never ran is forgotten by the maintenance round, so kicks work again."""
    from appeals.core import outbox
    from appeals.core.database import write_transaction

    monkeypatch.setitem(app.config, "NOTIFY_GATHER_SECONDS", 0.01)
    app.config["OUTBOX_KICK"] = True
    try:
        for code in ("111111", "222222", "333333"):
            with write_transaction():
                outbox.notify_address("sms", "+77011234567", "verification_code", {"code": code}, locale="kk")
        assert queue.huey.pending_count() == 1, "the second and third commits joined the queued round"
        queue.huey.execute(queue.huey.dequeue())
        assert sorted(body["text"][-40:] for _s, _a, body in sms_gateway.received) and len(sms_gateway.received) == 3
        assert queue.huey.pending_count() == 0
        with write_transaction():
            outbox.notify_address("sms", "+77011234567", "verification_code", {"code": "444444"}, locale="kk")
        assert queue.huey.pending_count() == 1, "after the round started, a commit queues the next one"
        queue.huey.execute(queue.huey.dequeue())
        assert len(sms_gateway.received) == 4
    finally:
        app.config["OUTBOX_KICK"] = False
    statuses = db.session.scalars(sa.select(outbox.Notice.status)).all()
    assert statuses == ["sent"] * 4

    # A round queued by a worker that died before running it: the flag stays until it is stale.
    queue.huey.put_if_empty(outbox.ROUND_QUEUED, time.time() - 120)
    assert outbox.release_stale_round_flag() is True
    assert queue.huey.get(outbox.ROUND_QUEUED, peek=True) is None


def _serve(app, settings, tmp_path, name, **extra):
    """An app server (`flask run`) with an instance folder of its own, on a free port."""
    from tests.servers import _free_port

    port = _free_port()
    env = {**os.environ, **settings, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "QABYLDAU_INSTANCE": str(tmp_path / f"instance-{name}"),
           "SECRET_KEY": "worker-test-secret-key-0123456789abcdef", "REPORT_BACKGROUND_ROWS": "2",
           **{key: str(value) for key, value in extra.items()}}
    log = tmp_path / f"server-{name}.log"
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)], cwd=ROOT,
                               env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    return process, f"http://127.0.0.1:{port}", log


def _wait_up(url, process, log, timeout=60):
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-2000:]
        try:
            requests.get(f"{url}/login", timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(log.read_text()[-2000:])


@pytest.mark.parametrize("real_queue", ["redis-queue"], indirect=True)
@pytest.mark.parametrize("store", ["database", "shared-folder"])
def test_a_document_made_by_a_worker_downloads_through_another_app_server(app, db, reference, users, real_queue,
                                                                         tmp_path, store):
    import re

    import requests

    from tests.conftest import PASSWORD

    make_appeals(reference, 5)
    result_store = "database" if store == "database" else str(tmp_path / "shared-results")
    servers = [_serve(app, real_queue, tmp_path, name, RESULT_STORE=result_store) for name in ("a", "b")]
    worker = Worker(app, real_queue, tmp_path, RESULT_STORE=result_store).start()
    try:
        for process, url, log in servers:
            _wait_up(url, process, log)
        (_, first, _), (_, second, _) = servers
        browser = requests.Session()
        form = browser.get(f"{first}/login").text
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        fields.update(username=users.clerk.username, password=PASSWORD)
        assert browser.post(f"{first}/login", data=fields, allow_redirects=False).status_code == 302

        started = browser.get(f"{first}/reports/journal.pdf?lang=en", allow_redirects=False)
        assert started.status_code == 302 and "/reports/jobs/" in started.headers["Location"]
        job_path = urlsplit_path(started.headers["Location"])
        deadline = time.monotonic() + 120
        while (status := browser.get(f"{second}{job_path}?format=json").json())["status"] != "done":
            assert status["status"] != "failed" and time.monotonic() < deadline, (status, worker.output())
            time.sleep(0.3)
        download = browser.get(f"{second}{status['download']}")
    finally:
        worker.stop()
        for process, _url, _log in servers:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
    assert download.status_code == 200 and download.content.startswith(b"%PDF")
    assert download.headers["Content-Type"] == "application/pdf"
    # Neither app server's own folder holds the document: it lives in the one store.
    for name in ("a", "b"):
        assert not list((tmp_path / f"instance-{name}").rglob("job-*")), name
    if store == "shared-folder":
        assert len(list((tmp_path / "shared-results").glob("job-*.bin"))) == 1


def urlsplit_path(location):
    from urllib.parse import urlsplit

    return urlsplit(location).path
