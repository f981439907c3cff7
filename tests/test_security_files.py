"""Issue 13, finding 10: files at rest. The instance folder and what the app writes are the service
account's alone; generated documents and retry records are deleted after their keeping time."""
import os
import stat
import subprocess
import sys
from datetime import timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from appeals.core.idempotency import IdempotencyKey, purge_idempotency_keys
from appeals.core.jobs import Job, JobResultData
from appeals.core.retention import purge_document_cache, purge_expired
from appeals.core.timeutil import utcnow
from tests.fixtures_register import VALID_IIN

PROJECT = Path(__file__).resolve().parent.parent


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def _flask(instance, *args, cwd):
    env = {**os.environ, "QABYLDAU_INSTANCE": str(instance), "QABYLDAU_ENV": "development"}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=True)


def test_instance_folder_database_and_backups_are_private(tmp_path):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    instance.chmod(0o755)
    (instance / "reports").mkdir()
    (instance / "reports").chmod(0o755)
    old_report = instance / "reports" / "old.pdf"
    old_report.write_text("from an older version")
    old_report.chmod(0o644)
    _flask(instance, "db", "upgrade", cwd=PROJECT)
    backup = tmp_path / "backup.json"
    _flask(instance, "export-data", str(backup), cwd=PROJECT)
    assert _mode(instance) == 0o700 and _mode(instance / "reports") == 0o700
    database = instance / "qabyldau.sqlite3"
    created = [database, instance / "secret_key", old_report, backup]
    created += [p for p in instance.glob("qabyldau.sqlite3-*")]  # WAL and SHM while they exist
    for path in created:
        assert _mode(path) == 0o600, (path, oct(_mode(path)))


def test_cached_documents_and_job_results_are_deleted_after_the_keeping_time(app, db, users):
    now = utcnow()
    job = Job(kind="report_pdf", user_id=users.coordinator.id, params={}, status="done", result_path="db",
              result_name="journal.pdf", finished_at=now - timedelta(hours=30), created_at=now - timedelta(hours=31))
    db.session.add(job)
    db.session.flush()
    db.session.add(JobResultData(job_id=job.id, data=b"%PDF- citizens' data"))
    db.session.commit()
    cache = Path(app.instance_path) / "reports" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    old_chunk, new_chunk = cache / "old.pdf", cache / "new.pdf"
    for path, age in ((old_chunk, timedelta(hours=30)), (new_chunk, timedelta(hours=1))):
        path.write_bytes(b"%PDF- a chunk of the journal")
        epoch = (now - age).replace(tzinfo=timezone.utc).timestamp()
        os.utime(path, (epoch, epoch))
    counts = purge_expired(now)
    assert counts["job_results"] == 1 and counts["document_cache"] == 1
    assert not old_chunk.exists() and new_chunk.exists()
    db.session.expire_all()
    assert db.session.get(Job, job.id).result_path == "" and db.session.get(JobResultData, job.id) is None
    # The keeping time is a setting.
    app.config["JOB_RESULT_HOURS"] = 0.5
    try:
        assert purge_document_cache(now) == 1 and not new_chunk.exists()
    finally:
        app.config["JOB_RESULT_HOURS"] = 24


def test_idempotency_rows_hold_no_personal_data_and_are_purged(api_as, users, reg_data, db):
    api = api_as(users.clerk)
    data = reg_data(iin=VALID_IIN)
    data["received_at"] = data["received_at"].isoformat(timespec="minutes")
    first = api.post("/appeals", data, headers={"Idempotency-Key": "team-7-0001"})
    assert first.status_code == 201 and VALID_IIN in first.get_data(as_text=True)
    db.session.rollback()
    row = db.session.execute(sa.select(IdempotencyKey.__table__)).one()._asdict()
    stored = " ".join(str(value) for value in row.values())
    assert "team-7-0001" not in stored
    for secret in (VALID_IIN, data["applicant_name"], data["address"], "77011234567", first.get_json()["number"]):
        assert secret not in stored, secret
    # The client's key still replays the first answer.
    again = api.post("/appeals", data, headers={"Idempotency-Key": "team-7-0001"})
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()
    assert purge_idempotency_keys(utcnow() + timedelta(days=29)) == 0
    assert purge_idempotency_keys(utcnow() + timedelta(days=31)) == 1
    assert db.session.scalar(sa.select(sa.func.count(IdempotencyKey.id))) == 0
