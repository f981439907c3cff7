"""The one runner of background jobs: progress others can see, an outcome always recorded, nothing half-written."""
import logging
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from appeals.auth.models import User
from appeals.core import jobs
from appeals.core.database import is_postgresql, write_transaction
from appeals.core.jobs import Job, JobFailed, JobResult, start_job
from appeals.reference.models import Category
from appeals.register import imports
from appeals.register.models import Appeal
from tests.conftest import TEST_DATABASE_URL

HEADER = "received_at;channel;applicant_name;iin;phone;settlement;appeal_type;category;summary"


def _rows(count):
    lines = [f"15.01.2024 10:{i % 60:02d};letter;Applicant {i};;;Қордай;statement;roads;Summary {i}" for i in range(count)]
    return imports.read_import_file("door.csv", "\n".join([HEADER, *lines]).encode())


def _seen_elsewhere(db, job_id):
    """The job row as another request would read it: through a connection of its own."""
    with db.engine.connect() as connection:
        return connection.execute(sa.select(Job.__table__).where(Job.__table__.c.id == job_id)).mappings().one()


def _count(db, model):
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# Test kinds: each test puts the work it wants into BEHAVIOUR; the registered work calls it.
BEHAVIOUR = {}


@jobs.job_kind("test_job", redo_safe=True, error_params={"phase": "rejected"})
def _test_work(job):
    return BEHAVIOUR["work"](job)


@jobs.job_kind("test_once", redo_safe=False)
def _test_once(job):
    return BEHAVIOUR["work"](job)


def _start(user, params, work, **kwargs):
    BEHAVIOUR["work"] = work
    return start_job(kwargs.pop("kind", "test_job"), user, params, **kwargs)


def test_background_job_reports_progress_and_records_its_result(db, users):
    seen = {}

    def work(job):
        seen["thread"] = threading.current_thread()
        seen["user"] = db.session.get(User, job.user_id).username
        seen["running"] = dict(_seen_elsewhere(db, job.id))
        job.progress(3, 10, phase="half-way")
        seen["progress"] = dict(_seen_elsewhere(db, job.id))
        return JobResult(data=b"%PDF-1.7 report", name="report.pdf", params={"pages": 7})

    job = _start(users.clerk, {"lang": "en"}, work)

    assert seen["user"] == "clerk" and seen["running"]["status"] == "running"
    # The worker holds a lease on the job while it works.
    assert seen["running"]["attempts"] == 1 and seen["running"]["heartbeat_at"] is not None
    # Progress was committed while the work was still going.
    assert (seen["progress"]["progress"], seen["progress"]["total"]) == (3, 10)
    assert seen["progress"]["params"] == {"lang": "en", "phase": "half-way"}
    assert (job.status, job.kind, job.user_id) == ("done", "test_job", users.clerk.id)
    assert (job.progress, job.total) == (10, 10)
    assert (job.result_path, job.result_name, job.error) == ("db", "report.pdf", "")
    assert jobs.result_bytes(job) == b"%PDF-1.7 report"
    assert job.params == {"lang": "en", "phase": "half-way", "pages": 7}
    assert job.finished_at is not None


def test_inline_job_runs_in_the_callers_thread_and_is_finished_on_return(db, users):
    threads = []

    def work(job):
        threads.append(threading.current_thread())

    job = _start(users.clerk, {}, work, total=4, inline=True)

    assert threads == [threading.current_thread()]
    # A job that never reported its size still ends with a full bar.
    assert (job.status, job.progress, job.total, job.result_path) == ("done", 4, 4, "")


@pytest.mark.parametrize("mode", [{"inline": True}, {}], ids=["inline", "queued"])
def test_unexpected_failure_is_logged_rolled_back_and_marked_failed(app, db, users, caplog, mode):
    categories_before = _count(db, Category)

    def work(job):
        job.progress(1, 2)
        db.session.add(Category(code="half", name_kk="Жартылай", name_ru="Наполовину", name_en="Half"))
        db.session.flush()
        raise RuntimeError("password=hunter2 in table secret_things")

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        job = _start(users.clerk, {"file": "a.csv"}, work, **mode)

    assert job.status == "failed" and job.finished_at is not None
    # The user reads a message meant for them, never the exception's own text.
    assert job.error == "An unexpected error occurred. It has been logged; please try again."
    assert job.params == {"file": "a.csv", "phase": "rejected"}
    assert (job.progress, job.total) == (1, 2)
    assert _count(db, Category) == categories_before
    failures = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(failures) == 1 and f"job {job.id} failed" in failures[0].getMessage()
    assert failures[0].exc_info[0] is RuntimeError


def test_job_failed_shows_its_message_and_params_without_a_traceback(app, db, users, caplog):
    def work(job):
        raise JobFailed("Row 3: the IIN is not valid.", errors=[[3, "iin", "bad"]], error_count=1)

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        job = _start(users.clerk, {"file": "a.csv"}, work)

    assert (job.status, job.error) == ("failed", "Row 3: the IIN is not valid.")
    assert job.params == {"file": "a.csv", "errors": [[3, "iin", "bad"]], "error_count": 1}
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_background_failure_message_is_in_the_language_of_whoever_started_it(db, users):
    def work(job):
        raise RuntimeError("boom")

    with force_locale("ru"):
        expected = str(jobs.UNEXPECTED_ERROR)
        job = _start(users.clerk, {}, work)

    assert expected != "An unexpected error occurred. It has been logged; please try again."
    assert job.locale == "ru" and job.error == expected


@pytest.mark.skipif(not TEST_DATABASE_URL,
                    reason="SQLite has one writer: progress cannot be written while the work holds the lock")
def test_progress_is_committed_while_the_works_transaction_is_open(db, users):
    categories_before = _count(db, Category)
    seen = {}

    def work(job):
        with write_transaction():
            db.session.add(Category(code="half", name_kk="Жартылай", name_ru="Наполовину", name_en="Half"))
            db.session.flush()
            job.progress(5, 9)
            seen.update(_seen_elsewhere(db, job.id))
            raise RuntimeError("after the progress, before the commit")

    job = _start(users.clerk, {}, work)

    assert (seen["progress"], seen["total"]) == (5, 9)
    assert job.status == "failed" and (job.progress, job.total) == (5, 9)
    assert _count(db, Category) == categories_before


# --- Caps, leases and the sweeper ----------------------------------------------------------------


def _running(db, user, count):
    """Jobs another worker is running for `user` (fresh heartbeats)."""
    now = jobs.utcnow()
    rows = [Job(kind="test_job", user_id=user.id, params={}, status="running", attempts=1, heartbeat_at=now,
                started_at=now) for _ in range(count)]
    with write_transaction():
        db.session.add_all(rows)
    return rows


def test_a_user_runs_at_most_two_jobs_and_the_others_wait_in_order(db, users):
    ran = []
    busy = _running(db, users.clerk, 2)

    first = _start(users.clerk, {}, lambda job: ran.append(job.id))
    second = _start(users.clerk, {}, lambda job: ran.append(job.id))
    others = _start(users.coordinator, {}, lambda job: ran.append(job.id))

    assert ran == [others.id], "another user's job does not wait for the clerk's"
    assert (first.status, second.status) == ("queued", "queued")
    assert (jobs.queue_position(first), jobs.queue_position(second), jobs.queue_position(others)) == (1, 2, 0)

    # One of the running jobs ends: exactly one slot opens, and the oldest waiting job takes it; the
    # next one starts only when that one has finished.
    with write_transaction():
        db.session.get(Job, busy[0].id).status = "done"
    BEHAVIOUR["work"] = lambda job: ran.append((job.id, _seen_elsewhere(db, second.id)["status"]))
    assert jobs.sweep_jobs()["dispatched"] == 1
    db.session.expire_all()
    assert ran == [others.id, (first.id, "queued"), (second.id, "running")]
    assert (db.session.get(Job, first.id).status, db.session.get(Job, second.id).status) == ("done", "done")


def test_the_job_page_shows_a_waiting_job_and_its_place_in_line(client, db, users, login):
    _running(db, users.clerk, 2)
    _start(users.clerk, {}, lambda job: None)
    job = _start(users.clerk, {}, lambda job: None)
    login(users.clerk)

    page = client.get(f"/reports/jobs/{job.id}?lang=en")
    status = client.get(f"/reports/jobs/{job.id}?format=json").get_json()

    assert "number 2 in line" in page.get_data(as_text=True)
    assert (status["status"], status["position"]) == ("queued", 2)


@pytest.mark.parametrize("kind, attempts, outcome", [
    ("test_job", 1, "queued"),      # safe to redo, attempts left: queued again and run
    ("test_job", 2, "failed"),      # no attempts left
    ("test_once", 1, "failed"),     # not safe to redo
])
def test_a_job_whose_worker_stopped_beating_is_redone_or_failed(app, db, users, kind, attempts, outcome):
    ran = []
    BEHAVIOUR["work"] = lambda job: ran.append(job.attempt)
    stale = jobs.utcnow() - timedelta(seconds=app.config["JOB_LEASE_SECONDS"] + 1)
    with force_locale("ru"):
        expected_error = str(jobs.INTERRUPTED)
    with write_transaction():
        job = Job(kind=kind, user_id=users.clerk.id, params={}, locale="ru", status="running", attempts=attempts,
                  heartbeat_at=stale, started_at=stale)
        alive = Job(kind=kind, user_id=users.clerk.id, params={}, status="running", attempts=1,
                    heartbeat_at=jobs.utcnow(), started_at=stale)
        db.session.add_all([job, alive])

    swept = jobs.sweep_jobs()

    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert db.session.get(Job, alive.id).status == "running", "a job with a fresh heartbeat is left alone"
    if outcome == "queued":
        assert swept["requeued"] == 1 and ran == [attempts + 1]
        assert job.status == "done" and job.attempts == attempts + 1
    else:
        assert swept["failed"] == 1 and ran == []
        assert (job.status, job.error) == ("failed", expected_error) and job.finished_at is not None


def test_results_in_a_shared_folder_and_their_cleanup_after_a_day(app, db, users, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "RESULT_STORE", str(tmp_path / "shared"))
    job = _start(users.clerk, {}, lambda job: JobResult(data=b"%PDF folder", name="a.pdf"))
    kept = _start(users.clerk, {}, lambda job: JobResult(data=b"%PDF kept", name="b.pdf"))
    monkeypatch.setitem(app.config, "RESULT_STORE", "database")
    in_db = _start(users.clerk, {}, lambda job: JobResult(data=b"%PDF db", name="c.pdf"))

    assert (tmp_path / "shared" / job.result_path).read_bytes() == b"%PDF folder"
    monkeypatch.setitem(app.config, "RESULT_STORE", str(tmp_path / "shared"))
    assert jobs.result_bytes(job) == b"%PDF folder" and jobs.result_bytes(in_db) == b"%PDF db"

    with write_transaction():
        for old in (job, in_db):
            db.session.get(Job, old.id).finished_at = jobs.utcnow() - timedelta(hours=25)
    assert jobs.purge_results() == 2
    db.session.expire_all()
    assert jobs.result_bytes(db.session.get(Job, job.id)) is None
    assert jobs.result_bytes(db.session.get(Job, in_db.id)) is None
    assert not (tmp_path / "shared" / f"job-{job.id}.bin").exists()
    assert jobs.result_bytes(db.session.get(Job, kept.id)) == b"%PDF kept"
    assert _count(db, jobs.JobResultData) == 0


# --- The register import, run by the shared runner ---------------------------------------------


def test_import_reports_its_phases_and_progress(db, reference, users):
    calls = []

    class Recorder:
        def progress(self, done, total=None, **params):
            calls.append((done, total, params))

    imported = imports.import_rows(_rows(150), reference.kordai, users.clerk, job=Recorder())

    assert len(imported) == 150
    saving = [(0, None, {"phase": "saving"})] + ([(100, None, {})] if is_postgresql() else [])
    assert calls == [(0, 150, {"phase": "validating"}), (100, None, {})] + saving


@pytest.mark.parametrize("inline_rows", [300, 0], ids=["inline", "background"])
def test_import_failing_half_way_leaves_nothing_and_is_marked_failed(app, db, reference, users, monkeypatch,
                                                                     inline_rows):
    from appeals.register import workflow

    insert = workflow.insert_appeal
    inserted = []

    def insert_then_break(*args, **kwargs):
        if len(inserted) == 2:
            raise RuntimeError("disk full")
        inserted.append(insert(*args, **kwargs))
        return inserted[-1]

    monkeypatch.setattr(imports, "insert_appeal", insert_then_break)
    monkeypatch.setitem(app.config, "IMPORT_INLINE_ROWS", inline_rows)

    job = imports.start_import(reference.kordai, "door.csv", _rows(5), users.clerk)

    assert len(inserted) == 2, "the failure came after rows had been written"
    assert job.status == "failed"
    assert job.error == "The import failed unexpectedly; nothing was imported."
    assert job.params == {"office": "KRD", "filename": "door.csv", "phase": "rejected", "errors": [],
                          "error_count": 0}
    assert _count(db, Appeal) == 0
    # Not even a registration number was used up.
    monkeypatch.setattr(imports, "insert_appeal", insert)
    job = imports.start_import(reference.kordai, "door.csv", _rows(1), users.clerk)
    assert job.status == "done" and job.params["first"] == "KRD-2024-00001"


def test_a_journal_over_the_row_cap_is_refused_with_a_message_and_starts_no_job(app, client, db, reference, users,
                                                                               login, monkeypatch):
    from tests.fixtures_reports import make_appeals

    make_appeals(reference, 6)
    monkeypatch.setitem(app.config, "JOURNAL_MAX_ROWS", 5)
    monkeypatch.setitem(app.config, "REPORT_BACKGROUND_ROWS", 2)
    login(users.coordinator)

    response = client.get("/reports/journal.pdf?lang=en", follow_redirects=True)

    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "The journal would have 6 rows; at most 5 can be printed at once." in response.get_data(as_text=True)
    assert _count(db, Job) == 0
    monkeypatch.setitem(app.config, "JOURNAL_MAX_ROWS", 6)
    assert client.get("/reports/journal.pdf?lang=en").status_code == 302
    assert _count(db, Job) == 1
