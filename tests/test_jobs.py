"""The one runner of background jobs: progress others can see, an outcome always recorded, nothing half-written."""
import functools
import logging
import threading

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from appeals.auth.models import User
from appeals.core import jobs
from appeals.core.database import is_postgresql, write_transaction
from appeals.core.jobs import Job, JobFailed, JobResult, start_job
from appeals.reference.models import Category
from appeals.register import transfer
from appeals.register.models import Appeal
from tests.conftest import TEST_DATABASE_URL

HEADER = "received_at;channel;applicant_name;iin;phone;settlement;appeal_type;category;summary"


def _rows(count):
    lines = [f"15.01.2024 10:{i % 60:02d};letter;Applicant {i};;;Қордай;statement;roads;Summary {i}" for i in range(count)]
    return transfer.read_import_file("door.csv", "\n".join([HEADER, *lines]).encode())


def _seen_elsewhere(db, job_id):
    """The job row as another request would read it: through a connection of its own."""
    with db.engine.connect() as connection:
        return connection.execute(sa.select(Job.__table__).where(Job.__table__.c.id == job_id)).mappings().one()


def _count(db, model):
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_background_job_reports_progress_and_records_its_result(db, users):
    seen = {}

    def work(job):
        seen["thread"] = threading.current_thread()
        seen["user"] = db.session.get(User, job.user_id).username
        seen["running"] = _seen_elsewhere(db, job.id)["status"]
        job.progress(3, 10, phase="half-way")
        seen["progress"] = dict(_seen_elsewhere(db, job.id))
        return JobResult(path="/tmp/report.pdf", name="report.pdf", params={"pages": 7})

    job = start_job("test_job", users.clerk, {"lang": "en"}, work, wait=True)

    assert seen["thread"] is not threading.current_thread() and seen["thread"].daemon
    assert seen["user"] == "clerk" and seen["running"] == "running"
    # Progress was committed while the work was still going.
    assert (seen["progress"]["progress"], seen["progress"]["total"]) == (3, 10)
    assert seen["progress"]["params"] == {"lang": "en", "phase": "half-way"}
    assert (job.status, job.kind, job.user_id) == ("done", "test_job", users.clerk.id)
    assert (job.progress, job.total) == (10, 10)
    assert (job.result_path, job.result_name, job.error) == ("/tmp/report.pdf", "report.pdf", "")
    assert job.params == {"lang": "en", "phase": "half-way", "pages": 7}
    assert job.finished_at is not None


def test_inline_job_runs_in_the_callers_thread_and_is_finished_on_return(db, users):
    threads = []

    def work(job):
        threads.append(threading.current_thread())

    job = start_job("test_job", users.clerk, {}, work, total=4, inline=True)

    assert threads == [threading.current_thread()]
    # A job that never reported its size still ends with a full bar.
    assert (job.status, job.progress, job.total, job.result_path) == ("done", 4, 4, "")


@pytest.mark.parametrize("mode", [{"inline": True}, {"wait": True}], ids=["inline", "background"])
def test_unexpected_failure_is_logged_rolled_back_and_marked_failed(app, db, users, caplog, mode):
    categories_before = _count(db, Category)

    def work(job):
        job.progress(1, 2)
        db.session.add(Category(code="half", name_kk="Жартылай", name_ru="Наполовину", name_en="Half"))
        db.session.flush()
        raise RuntimeError("password=hunter2 in table secret_things")

    with caplog.at_level(logging.ERROR, logger=app.logger.name):
        job = start_job("test_job", users.clerk, {"file": "a.csv"}, work, error_params={"phase": "rejected"}, **mode)

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
        job = start_job("test_job", users.clerk, {"file": "a.csv"}, work, wait=True)

    assert (job.status, job.error) == ("failed", "Row 3: the IIN is not valid.")
    assert job.params == {"file": "a.csv", "errors": [[3, "iin", "bad"]], "error_count": 1}
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_background_failure_message_is_in_the_language_of_whoever_started_it(db, users):
    def work(job):
        raise RuntimeError("boom")

    with force_locale("ru"):
        expected = str(jobs.UNEXPECTED_ERROR)
        job = start_job("test_job", users.clerk, {}, work, wait=True)

    assert expected != "An unexpected error occurred. It has been logged; please try again."
    assert job.error == expected


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

    job = start_job("test_job", users.clerk, {}, work, wait=True)

    assert (seen["progress"], seen["total"]) == (5, 9)
    assert job.status == "failed" and (job.progress, job.total) == (5, 9)
    assert _count(db, Category) == categories_before


# --- The register import, run by the shared runner ---------------------------------------------


def test_import_reports_its_phases_and_progress(db, reference, users):
    calls = []

    class Recorder:
        def progress(self, done, total=None, **params):
            calls.append((done, total, params))

    imported = transfer.import_rows(_rows(150), reference.kordai, users.clerk, job=Recorder())

    assert len(imported) == 150
    saving = [(0, None, {"phase": "saving"})] + ([(100, None, {})] if is_postgresql() else [])
    assert calls == [(0, 150, {"phase": "validating"}), (100, None, {})] + saving


@pytest.mark.parametrize("inline_rows", [300, 0], ids=["inline", "background"])
def test_import_failing_half_way_leaves_nothing_and_is_marked_failed(app, db, reference, users, monkeypatch,
                                                                     inline_rows):
    from appeals.register import services

    insert = services._insert_appeal
    inserted = []

    def insert_then_break(*args, **kwargs):
        if len(inserted) == 2:
            raise RuntimeError("disk full")
        inserted.append(insert(*args, **kwargs))
        return inserted[-1]

    monkeypatch.setattr(services, "_insert_appeal", insert_then_break)
    # The background run, waited for: the outcome is then known without polling.
    monkeypatch.setattr(transfer, "start_job", functools.partial(start_job, wait=True))
    monkeypatch.setitem(app.config, "IMPORT_INLINE_ROWS", inline_rows)

    job = transfer.start_import(reference.kordai, "door.csv", _rows(5), users.clerk)

    assert len(inserted) == 2, "the failure came after rows had been written"
    assert job.status == "failed"
    assert job.error == "The import failed unexpectedly; nothing was imported."
    assert job.params == {"office": "KRD", "filename": "door.csv", "phase": "rejected", "errors": [],
                          "error_count": 0}
    assert _count(db, Appeal) == 0
    # Not even a registration number was used up.
    monkeypatch.setattr(services, "_insert_appeal", insert)
    job = transfer.start_import(reference.kordai, "door.csv", _rows(1), users.clerk)
    assert job.status == "done" and job.params["first"] == "KRD-2024-00001"
