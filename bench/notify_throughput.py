"""10,000 notices through the outbox and the queue to a local SMTP server (aiosmtpd on loopback).

    .venv/bin/python bench/notify_throughput.py [--notices 10000] [--workers 2] [--batch 100]
        [--queue redis://127.0.0.1:6379/0 | --queue sqlite]   (default: Redis when it answers)
        DATABASE_URL=postgresql+psycopg://... to run on PostgreSQL (default: a fresh SQLite file)

The producer commits notices in transactions of --batch (as a service would, one per change); each
commit queues a delivery round or joins the one queued (appeals/core/outbox.py); `flask --app wsgi
worker` processes deliver them. Printed last: notices per second (first commit to last arrival) and
the time from commit to arrival, p50 and p95.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _redis_up(url):
    try:
        import redis

        return redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--queue", default=None)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="qabyldau-notify-bench-"))
    os.environ["QABYLDAU_INSTANCE"] = str(tmp / "instance")
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = database
    queue = args.queue
    if queue is None:
        queue = "redis://127.0.0.1:6379/0" if _redis_up("redis://127.0.0.1:6379/0") else "sqlite"
    queue_url = f"sqlite:///{tmp / 'queue.sqlite3'}" if queue == "sqlite" else queue
    queue_name = f"bench-{uuid.uuid4().hex[:8]}"

    from aiosmtpd.controller import Controller

    arrivals = {}
    lock = threading.Lock()

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            moment = time.monotonic()
            subject = next((line for line in envelope.original_content.split(b"\r\n")
                            if line.startswith(b"Subject:")), b"")
            found = re.search(rb"B-\d{6}", subject)
            number = found.group(0).decode() if found else ""
            with lock:
                arrivals[number] = moment
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=smtp_port)
    controller.start()

    from appeals import create_app
    from appeals.core import outbox
    from appeals.core.database import write_transaction
    from appeals.core.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "QUEUE_URL": queue_url, "QUEUE_NAME": queue_name,
                      "MAIL_URL": f"smtp://127.0.0.1:{smtp_port}", "OUTBOX_KICK": True})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        from appeals.auth import services as accounts

        user = accounts.create_user("bench.clerk", "Tulpar-Saryarqa-2026", "viewer", [])
        with write_transaction():
            db.session.merge(user).email = "bench@example.kz"
            db.session.merge(user).locale = "en"
        user_id = user.id

    env = {**os.environ, "DATABASE_URL": database, "QUEUE_URL": queue_url, "QUEUE_NAME": queue_name,
           "MAIL_URL": f"smtp://127.0.0.1:{smtp_port}", "SECRET_KEY": "bench-secret-key-0123456789abcdef0123",
           "WORKER_TICK_SECONDS": "3600"}
    workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--threads",
                                 str(args.threads)], cwd=ROOT, env=env, stdout=(tmp / f"worker-{index}.log").open("wb"),
                                stderr=subprocess.STDOUT) for index in range(args.workers)]
    time.sleep(4)  # start-up (imports, first maintenance round)

    committed = {}
    try:
        with app.app_context():
            start = time.monotonic()
            for first in range(0, args.notices, args.batch):
                numbers = [f"B-{index:06d}" for index in range(first, min(first + args.batch, args.notices))]
                with write_transaction():
                    for number in numbers:
                        outbox.notify(user_id, "appeal_assigned", {"appeal_id": 1, "number": number,
                                                                   "due_date": "2026-03-23"}, channels=("email",))
                moment = time.monotonic()
                for number in numbers:
                    committed[number] = moment
            produced = time.monotonic()
        deadline = time.monotonic() + 600
        while len(arrivals) < args.notices and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        controller.stop()

    delivered = [number for number in committed if number in arrivals]
    latencies = sorted(arrivals[number] - committed[number] for number in delivered)
    last = max(arrivals.values()) if arrivals else start
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0] * 99
    database_kind = "postgresql" if database.startswith("postgresql") else "sqlite"
    print(f"database {database_kind}, queue {queue.split(':')[0]}, {args.workers} workers x {args.threads} threads, "
          f"batches of {args.batch}")
    print(f"produced {len(committed)} notices in {produced - start:.2f} s; delivered {len(delivered)}, "
          f"lost {len(committed) - len(delivered)}")
    print(f"throughput: {len(delivered) / (last - start):.1f} notices/s")
    print(f"commit to delivery: p50 {quantiles[49] * 1000:.0f} ms, p95 {quantiles[94] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
