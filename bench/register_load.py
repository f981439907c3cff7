#!/usr/bin/env python3
"""Load test of appeal registration: concurrent clerks against the real app under gunicorn.

    .venv/bin/python bench/register_load.py                 # both runs below
    .venv/bin/python bench/register_load.py --only postgresql --clients 8 --duration 30
    .venv/bin/python bench/register_load.py --only sqlite --clients 16 --per-client 1000

PostgreSQL run: N clients post registrations through the API (each with its own Bearer token
from `flask create-token`) for a fixed time. SQLite run: N clients × M registrations each.
Both then check the register itself: numbers 1..n with no gap, no duplicate, and exactly one
appeal for every 201 a client received (no lost appeal, none extra). Figures are printed last
and written to bench/output/register_load.json.

Everything stays on 127.0.0.1; every loop is bounded in time or count.
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

PROJECT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_BASE = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
OFFICE = "ZHM"
ALMATY = ZoneInfo("Asia/Almaty")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(cmd, env, **kwargs):
    return subprocess.run(cmd, cwd=PROJECT, env=env, check=True, capture_output=True, text=True, **kwargs)


class Database:
    """A database of the run's own: a fresh PostgreSQL schema or a SQLite file."""

    def __init__(self, backend, tmp, schema=None):
        import sqlalchemy as sa

        self.sa = sa
        self.backend = backend
        self.reused = schema is not None
        if schema is not None:  # an already loaded schema (bench/list_p95.py --keep): kept as it is
            self.schema = schema
            sep = "&" if "?" in PG_BASE else "?"
            self.url = f"{PG_BASE}{sep}options={quote(f'-csearch_path={self.schema}')}"
        elif backend == "sqlite":
            self.url = f"sqlite:///{tmp / 'bench.sqlite3'}"
            self.schema = None
        else:
            self.schema = f"bench_{uuid.uuid4().hex[:10]}"
            engine = sa.create_engine(PG_BASE)
            with engine.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            engine.dispose()
            sep = "&" if "?" in PG_BASE else "?"
            self.url = f"{PG_BASE}{sep}options={quote(f'-csearch_path={self.schema}')}"

    def engine(self):
        return self.sa.create_engine(self.url)

    def drop(self):
        if self.schema and not self.reused:
            engine = self.sa.create_engine(PG_BASE)
            with engine.begin() as conn:
                conn.execute(self.sa.text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            engine.dispose()


def prepare(db, env, clients):
    """Migrate, load the demo offices, categories and users (not the demo month), make tokens.

    On a reused schema (10,000,000 appeals of bench/list_p95.py): a clerk of its ZHM office instead of the
    demo's, and the office's number series set to where the loaded appeals of this year end."""
    run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], env)
    if db.reused:
        script = (
            "import sqlalchemy as sa\n"
            "from appeals import create_app\n"
            "from appeals.auth import services\n"
            "from appeals.auth.models import User\n"
            "from appeals.core.extensions import db\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            "    if db.session.scalar(sa.select(User).where(User.username == 'clerk')) is None:\n"
            "        services.create_user('clerk', 'Bench-registrar-2291', 'clerk', ['ZHM'])\n"
            "    db.session.execute(sa.text(\n"
            "        \"INSERT INTO number_sequences (scope, year, last_value) SELECT 'appeal:ZHM', a.year, max(a.seq)\"\n"
            "        \" FROM appeals a JOIN offices o ON o.id = a.office_id WHERE o.code = 'ZHM' GROUP BY a.year\"\n"
            "        \" ON CONFLICT (scope, year) DO UPDATE SET last_value = GREATEST(number_sequences.last_value, EXCLUDED.last_value)\"))\n"
            # The tokens of earlier runs on this schema would reach the account's cap of active tokens.
            "    db.session.execute(sa.text(\"UPDATE api_tokens SET revoked_at = now() WHERE name LIKE 'bench %'\"\n"
            "                               \" AND revoked_at IS NULL\"))\n"
            "    db.session.commit()\n"
        )
    else:
        script = (
            "from appeals import create_app\n"
            "from appeals.demo import load_reference, load_users\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            "    load_reference(); load_users()\n"
        )
    run([str(BIN / "python"), "-c", script], env)
    tokens = [
        run([str(BIN / "flask"), "--app", "wsgi", "create-token", "clerk", "--name", f"bench {i}"], env).stdout.strip().splitlines()[-1]
        for i in range(clients)
    ]
    sa = db.sa
    engine = db.engine()
    with engine.connect() as conn:
        office_id = conn.execute(sa.text("SELECT id FROM offices WHERE code = :c"), {"c": OFFICE}).scalar_one()
        settlements = [row[0] for row in conn.execute(sa.text(
            "SELECT s.id FROM settlements s JOIN districts d ON d.id = s.district_id JOIN regions r ON r.id = d.region_id"
            " WHERE r.id = (SELECT min(id) FROM regions) ORDER BY s.id LIMIT 20"))]
        categories = [row[0] for row in conn.execute(sa.text("SELECT id FROM categories ORDER BY id"))]
        db.first_new_id = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM appeals")).scalar_one()
        db.appeals_before = conn.execute(sa.text("SELECT count(*) FROM appeals")).scalar_one() if db.reused else 0
    engine.dispose()
    return tokens, office_id, settlements, categories


def start_server(env, worker_class, workers, threads, nice=0, name="gunicorn"):
    """gunicorn as the README deploys it; `nice` > 0 runs the pool at a lower CPU priority (`nice -n`)."""
    port = free_port()
    log = open(Path(env["QABYLDAU_INSTANCE"]) / f"{name}.log", "w")
    process = subprocess.Popen(
        (["nice", "-n", str(nice)] if nice else []) + [str(BIN / "gunicorn"), "-w", str(workers), "-k", worker_class, "--threads", str(threads), "--preload",
         "-b", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning", "wsgi:app"],
        cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited; see " + log.name)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _process_cpu_s(pid):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def _server_cpu_s(master_pid):
    """CPU seconds of the gunicorn master and its workers so far."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        children = []
    return sum(_process_cpu_s(pid) for pid in [master_pid, *children])


def _machine_cpu_s():
    """Busy CPU seconds of the whole machine so far (all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / CLOCK_TICKS


def calibration_ms():
    """CPU time of a fixed piece of pure-Python work. The same run can differ by a third from one
    minute to the next on a shared host; this figure, taken around the load, says how fast the
    machine was while it was measured."""
    started = time.process_time()
    total = 0
    for i in range(3_000_000):
        total += i
    return round((time.process_time() - started) * 1000, 1)


class CpuWatch:
    """Where the CPU went during the load: the app server, this client, and the rest (the database)."""

    def __init__(self, *server_pids):
        self.server_pids = server_pids  # every gunicorn master (a pool each) of the app server
        self.start = self._read()

    def _read(self):
        server = sum(_server_cpu_s(pid) for pid in self.server_pids)
        return time.monotonic(), server, time.process_time(), _machine_cpu_s()

    def stop(self, registered, other_clients_s=0.0):
        """Per registration; `other_clients_s`: CPU seconds of load clients run in processes of their own."""
        end = self._read()
        wall, server, client, machine = (b - a for a, b in zip(self.start, end))
        client += other_clients_s
        per = 1000 / max(registered, 1)
        return {
            "cpu_ms_per_registration": {
                "app_server": round(server * per, 2), "load_client": round(client * per, 2),
                "database_and_rest": round(max(machine - server - client, 0) * per, 2),
            },
            "machine_busy_pct": round(100 * machine / (wall * (os.cpu_count() or 1)), 1),
        }


class Client(threading.Thread):
    """One clerk: registers appeals one after another on a kept-alive connection."""

    def __init__(self, index, port, token, office_id, settlements, categories, stop_at, limit):
        super().__init__(daemon=True)
        self.index, self.port, self.token = index, port, token
        self.office_id, self.settlements, self.categories = office_id, settlements, categories
        self.stop_at, self.limit = stop_at, limit
        self.latencies, self.numbers, self.errors = [], [], []

    def body(self, n):
        return json.dumps({
            "office_id": self.office_id,
            "received_at": (datetime.now(ALMATY) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"),
            "channel": "phone",
            "applicant_kind": "individual",
            "applicant_name": f"Жүктеме Сынақ {self.index}-{n}",
            "phone": "+7701" + f"{(self.index * 100000 + n) % 10000000:07d}",
            "settlement_id": self.settlements[n % len(self.settlements)],
            "appeal_type": "proposal",
            "category_id": self.categories[n % len(self.categories)],
            "summary": f"Ауылдағы жолды жөндеу туралы ұсыныс №{self.index}-{n}",
        })

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        n = 0
        while time.monotonic() < self.stop_at and (self.limit is None or n < self.limit):
            body = self.body(n)
            n += 1
            started = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/appeals", body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                continue
            self.latencies.append(time.perf_counter() - started)
            if response.status == 201:
                self.numbers.append(json.loads(payload)["number"])
            else:
                self.errors.append(f"{response.status}: {payload[:200]!r}")
            self.pause(started)
        conn.close()

    def pause(self, started):
        """Between two registrations: none here (a tight loop); bench/public_load.py's clerks type."""


def check_register(db, office_id, numbers):
    """0 gaps, 0 duplicates, and the register holds exactly the appeals the clients were told about."""
    sa = db.sa
    engine = db.engine()
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT number, year, seq FROM appeals WHERE office_id = :o AND id > :first"
                                    " ORDER BY year, seq"), {"o": office_id, "first": db.first_new_id}).all()
    engine.dispose()
    by_year = {}
    for _number, year, seq in rows:
        by_year.setdefault(year, []).append(seq)
    # The run's numbers follow each other from where the series stood (1 on a fresh database).
    gaps = sum(max(seqs) - min(seqs) + 1 - len(set(seqs)) for seqs in by_year.values())
    db_numbers = [row[0] for row in rows]
    duplicates = len(db_numbers) - len(set(db_numbers)) + len(numbers) - len(set(numbers))
    lost = len(set(numbers) - set(db_numbers))
    unacknowledged = len(set(db_numbers) - set(numbers))
    return {"appeals_in_register": len(rows), "gaps": gaps, "duplicates": duplicates,
            "lost": lost, "unacknowledged": unacknowledged}


def bench(backend, clients, duration, per_client, worker_class, workers, threads, schema=None):
    tmp = Path(tempfile.mkdtemp(prefix=f"qabyldau-bench-{backend}-"))
    db = Database(backend, tmp, schema)
    env = {**os.environ, "DATABASE_URL": db.url, "QABYLDAU_INSTANCE": str(tmp / "instance"),
           "SECRET_KEY": "bench-" + uuid.uuid4().hex, "QABYLDAU_ENV": "production",
           "SESSION_COOKIE_SECURE": "0",
           # The per-token budget protects a real deployment; here it would measure itself.
           "API_RATE_LIMIT_PER_MINUTE": "100000000", "API_USER_RATE_LIMIT_PER_MINUTE": "100000000",
           "API_TOKENS_PER_USER": "100"}
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "QABYLDAU_INSTANCE")})
    process = None
    try:
        tokens, office_id, settlements, categories = prepare(db, env, clients)
        process, port = start_server(env, worker_class, workers, threads)
        calibration_before = calibration_ms()
        cpu = CpuWatch(process.pid)
        started = time.monotonic()
        stop_at = started + duration if duration else started + 3600
        threads_ = [Client(i, port, tokens[i], office_id, settlements, categories, stop_at, per_client)
                    for i in range(clients)]
        for t in threads_:
            t.start()
        for t in threads_:
            t.join(timeout=max(1, stop_at - time.monotonic()) + 120)
        elapsed = time.monotonic() - started
        latencies = sorted(latency for t in threads_ for latency in t.latencies)
        numbers = [n for t in threads_ for n in t.numbers]
        cpu_use = cpu.stop(len(numbers))
        cpu_use["calibration_ms"] = [calibration_before, calibration_ms()]
        errors = [e for t in threads_ for e in t.errors]
        check = check_register(db, office_id, numbers)
        return {
            "backend": backend, "clients": clients, "gunicorn": f"-w {workers} -k {worker_class}" + (f" --threads {threads}" if worker_class == "gthread" else ""),
            "duration_s": round(elapsed, 1), "requests": len(latencies) + sum(1 for e in errors if ":" in e and not e[0].isdigit()),
            "registered": len(numbers), "errors": len(errors), "error_samples": errors[:5],
            "appeals_in_table_before": db.appeals_before,
            "appeals_per_s": round(len(numbers) / elapsed, 1),
            "latency_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
            "latency_p95_ms": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1) if latencies else None,
            "latency_max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
            **check,
            **cpu_use,
        }
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        db.drop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=("postgresql", "sqlite"))
    parser.add_argument("--clients", type=int, help="default: 8 on PostgreSQL, 16 on SQLite")
    parser.add_argument("--duration", type=float, default=30, help="seconds of the PostgreSQL run")
    parser.add_argument("--per-client", type=int, default=1000, help="registrations per client in the SQLite run")
    # The production set-up the README recommends: sync workers behind a reverse proxy.
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="per worker, gthread only")
    parser.add_argument("--schema", help="PostgreSQL: register into an already loaded schema (bench/list_p95.py "
                                         "--appeals 10000000 --keep), left in place")
    args = parser.parse_args()

    results = []
    if args.only in (None, "postgresql"):
        results.append(bench("postgresql", args.clients or 8, args.duration, None, args.worker_class, args.workers, args.threads,
                             args.schema))
    if args.only in (None, "sqlite"):
        results.append(bench("sqlite", args.clients or 16, None, args.per_client, args.worker_class, args.workers, args.threads))

    out = PROJECT / "bench" / "output"
    out.mkdir(exist_ok=True)
    (out / "register_load.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    ok = True
    for r in results:
        print(json.dumps(r, ensure_ascii=False))
        ok &= r["registered"] > 0 and r["gaps"] == 0 and r["duplicates"] == 0 and r["lost"] == 0 and r["unacknowledged"] == 0
        if r["backend"] == "sqlite":
            ok &= r["errors"] == 0
    for r in results:
        print(f"{r['backend']:<10} clients={r['clients']:<3} registered={r['registered']:<6} in {r['duration_s']}s: "
              f"{r['appeals_per_s']} appeals/s, p50 {r['latency_p50_ms']} ms, p95 {r['latency_p95_ms']} ms, "
              f"errors {r['errors']}, gaps {r['gaps']}, duplicates {r['duplicates']}, lost {r['lost']}, "
              f"{r['appeals_in_table_before']:,} appeals in the table before (target >= 200 appeals/s with 8 clients)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
