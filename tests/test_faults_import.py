"""A worker killed in the middle of an import leaves nothing imported, and no number used up."""
import csv
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

# The import runs in a process of its own, on the real clock: so does the test.
pytestmark = pytest.mark.real_clock

PROJECT = Path(__file__).resolve().parent.parent
ROWS = 2500
MARKER = "kill-test"


def _write_file(path, reference):
    from appeals.core.timeutil import local_now

    received = (local_now() - timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["received_at", "channel", "applicant_kind", "applicant_name", "settlement", "appeal_type",
                         "category", "summary"])
        for n in range(ROWS):
            writer.writerow([received, "letter", "individual", f"Импорт Сынақ {n}", reference.settlements[0].name_kk,
                             "proposal", reference.categories[0].code, f"{MARKER} {n}: су құбыры"])


def _writer_active(engine, table_name="appeals"):
    """True while another connection holds an open write transaction on the database."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            return bool(conn.execute(sa.text(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = :t AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
            ), {"t": table_name}).scalar())
        conn.exec_driver_sql("PRAGMA busy_timeout=0")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except sa.exc.OperationalError:
            return True
        conn.exec_driver_sql("ROLLBACK")
        return False


def test_import_killed_mid_way_leaves_nothing(app, db, reference, users, tmp_path):
    from appeals.register import workflow
    from appeals.register.models import Appeal

    path = tmp_path / "appeals.csv"
    _write_file(path, reference)
    db.session.commit()
    env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "x",
           "QABYLDAU_INSTANCE": app.instance_path}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "import-appeals", str(path), "--office", "KRD"],
        cwd=PROJECT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        deadline = time.monotonic() + 120
        while not _writer_active(engine):
            assert process.poll() is None, "the import ended before it was caught writing: " + process.stderr.read()
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.02)
        time.sleep(0.3)  # well inside the rows
        assert process.poll() is None, "the import finished before the kill; make the file larger"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        engine.dispose()
    assert process.returncode == -signal.SIGKILL

    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Appeal.id)).where(Appeal.summary.like(f"{MARKER}%"))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Appeal.id))) == 0
    # The numbers the dead import had taken were never committed: the office starts again at 1.
    from appeals.core.timeutil import local_now

    appeal = workflow.register_appeal({
        "office_id": reference.kordai.id, "received_at": local_now() - timedelta(hours=1), "channel": "phone",
        "applicant_name": "Кейінгі Азамат", "settlement_id": reference.settlements[0].id, "appeal_type": "statement",
        "category_id": reference.categories[0].id, "summary": "Import kill follow-up",
    }, users.clerk)
    assert appeal.seq == 1
