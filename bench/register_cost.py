#!/usr/bin/env python3
"""CPU and wall time of one appeal registration through the API, in one process, on PostgreSQL.

    .venv/bin/python bench/register_cost.py                   # 300 registrations after 30 warm-up ones
    .venv/bin/python bench/register_cost.py --no-gc-freeze    # the same without gc.freeze() (A/B)
    .venv/bin/python bench/register_cost.py --schema bench_10m  # on a loaded schema (list_p95.py --keep)
    .venv/bin/python bench/register_cost.py --profile         # and where the CPU time goes (cProfile)

The Flask test client posts to /api/v1/appeals one request at a time, so the figures hold no
network, no gunicorn and no queueing: what the application itself costs per registration. Also
prints the SQL statements one registration issues, each with its mean wall time over the measured
registrations (the database's share, round trip included). Uses a fresh PostgreSQL schema of its own
(BENCH_DATABASE_URL, default the CI database) and drops it afterwards, or with --schema a schema loaded
by bench/list_p95.py, kept as it is (the registrations stay in it).
"""
import argparse
import gc
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import register_load  # noqa: E402  (same database set-up and request bodies as the load bench)


def measure(post, count):
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        response = post()
        if response.status_code != 201:
            raise SystemExit(f"registration failed: {response.status_code} {response.get_data(as_text=True)[:300]}")
    return (time.perf_counter() - wall) / count * 1000, (time.process_time() - cpu) / count * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--warm-up", type=int, default=30)
    parser.add_argument("--no-gc-freeze", action="store_true", help="skip gc.freeze() after start-up")
    parser.add_argument("--schema", help="a schema loaded by bench/list_p95.py --keep, reused and kept")
    parser.add_argument("--profile", action="store_true",
                        help="print cProfile's functions by CPU time (process time, own and cumulative) of the measured ones")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="qabyldau-cost-"))
    db = register_load.Database("postgresql", tmp, schema=args.schema)
    env = {"DATABASE_URL": db.url, "QABYLDAU_INSTANCE": str(tmp / "instance"), "SECRET_KEY": uuid.uuid4().hex,
           "QABYLDAU_ENV": "production", "SESSION_COOKIE_SECURE": "0", "API_RATE_LIMIT_PER_MINUTE": "100000000", "API_USER_RATE_LIMIT_PER_MINUTE": "100000000"}
    os.environ.update(env)
    try:
        tokens, office_id, settlements, categories = register_load.prepare(db, {**os.environ}, 1)
        from sqlalchemy import event

        from appeals import create_app
        from appeals.core.extensions import db as app_db

        app = create_app()
        if not args.no_gc_freeze:
            gc.freeze()  # as wsgi.py does
        client = app.test_client()
        clerk = register_load.Client(0, 0, tokens[0], office_id, settlements, categories, 0, 0)
        headers = {"Authorization": f"Bearer {tokens[0]}", "Content-Type": "application/json"}
        numbers = iter(range(10**7))

        def post():
            return client.post("/api/v1/appeals", data=clerk.body(next(numbers)), headers=headers)

        measure(post, args.warm_up)
        statements = []
        with app.app_context():
            engine = app_db.engine

        def count_statement(_conn, _cursor, statement, *_rest):
            statements.append(" ".join(statement.split())[:90])

        event.listen(engine, "before_cursor_execute", count_statement)
        post()
        event.remove(engine, "before_cursor_execute", count_statement)
        timings: dict[str, list[float]] = {}
        started: list[float] = []

        def start(*_args):
            started.append(time.perf_counter())

        def stop(_conn, _cursor, statement, *_rest):
            timings.setdefault(" ".join(statement.split())[:90], []).append(time.perf_counter() - started.pop())

        event.listen(engine, "before_cursor_execute", start)
        event.listen(engine, "after_cursor_execute", stop)
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile(time.process_time)
            profiler.enable()
        wall_ms, cpu_ms = measure(post, args.count)
        if profiler is not None:
            profiler.disable()
    finally:
        db.drop()

    if profiler is not None:
        import pstats

        (Path(__file__).parent / "output").mkdir(exist_ok=True)
        profiler.dump_stats(Path(__file__).parent / "output" / "register_cost.prof")  # for pstats / snakeviz
        for order in ("tottime", "cumulative"):
            pstats.Stats(profiler).strip_dirs().sort_stats(order).print_stats(35)
    print("SQL statements of one registration (and a COMMIT), mean wall ms each over the measured ones:")
    for statement in statements:
        values = timings.get(statement, [])
        print(f"  {sum(values) / max(len(values), 1) * 1000:7.2f}  {statement}")
    sql_ms = sum(sum(values) for values in timings.values()) / args.count * 1000
    print(f"statements' wall per registration: {sql_ms:.2f} ms (the rest of the wall: the app and the COMMIT)")
    print(f"gc.freeze: {'no' if args.no_gc_freeze else 'yes'}; {args.count} registrations, one at a time")
    print(f"per registration: wall {wall_ms:.2f} ms, CPU {cpu_ms:.2f} ms, {len(statements)} statements")


if __name__ == "__main__":
    main()
