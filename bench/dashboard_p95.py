"""Dashboard queries at 1,000,000 appeals on PostgreSQL: p50/p95 per query and for the whole page.

    .venv/bin/python bench/dashboard_p95.py [--appeals 1000000] [--runs 30] [--keep] [--schema NAME]

--keep leaves the loaded schema for another run with --schema NAME (no load; dropped at the end unless
--keep again), so several steps can be measured on one load.

Creates a schema of its own in BENCH_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
migrates it, loads the demo reference data, then bulk-loads appeals (three years, INSERT ... SELECT
generate_series), reception sessions and mandates in SQL, VACUUM ANALYZEs (as autovacuum would), and times
appeals.reports.statistics.dashboard() (every query of the dashboard) and GET /reports as a viewer.
The schema is dropped at the end unless --keep.
"""
import argparse
import os
import statistics as st
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_BASE = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

APPEALS_SQL = """
INSERT INTO appeals (office_id, number, year, seq, received_at, channel, applicant_kind, applicant_name, iin, phone,
    address, settlement_id, appeal_type, category_id, summary, text, status, due_date, original_due_date,
    forwarded_to, answer_text, withdrawn_reason, created_at, updated_at)
SELECT o.id, 'B' || g, 2024 + (g % 3), g, r.received_at,
    (ARRAY['session','session','session','door_to_door','phone','letter','email','online_event'])[1 + g % 8],
    'individual', 'Бенчмарк Өтінішші ' || g, lpad((g % 1000000000000)::text, 12, '0'), '+7701' || lpad((g % 10000000)::text, 7, '0'),
    '', s.id, (ARRAY['statement','complaint','proposal','request'])[1 + g % 4], c.id,
    'Ауыл жолын жөндеу туралы ұсыныс ' || g, '',
    CASE WHEN r.received_at > now() - interval '40 days' THEN (ARRAY['registered','in_review','forwarded','answered'])[1 + g % 4]
         WHEN g % 50 = 0 THEN 'in_review' ELSE (ARRAY['answered','closed','closed','withdrawn'])[1 + g % 4] END,
    (r.received_at + interval '21 days')::date, (r.received_at + interval '21 days')::date,
    '', '', '', r.received_at, r.received_at
FROM generate_series(1, :n) AS g
CROSS JOIN LATERAL (SELECT now() - (g::float / :n) * interval '1095 days' AS received_at) r
JOIN offices o ON o.id = (SELECT min(id) FROM offices) + (g % (SELECT count(*) FROM offices))
JOIN settlements s ON s.id = (SELECT min(id) FROM settlements) + (g % (SELECT count(*) FROM settlements))
JOIN categories c ON c.id = (SELECT min(id) FROM categories) + (g % (SELECT count(*) FROM categories))
"""

SESSIONS_SQL = """
INSERT INTO reception_sessions (office_id, date, start_time, end_time, room, topic, status, cancel_reason,
    created_at, updated_at)
SELECT (SELECT min(id) FROM offices) + (g % (SELECT count(*) FROM offices)),
    (now() - (g % 1095) * interval '1 day')::date, time '10:00', time '12:00', '', '',
    CASE WHEN g % 10 = 0 THEN 'cancelled' ELSE 'held' END, '', now(), now()
FROM generate_series(1, :n) AS g
"""

MANDATES_SQL = """
INSERT INTO mandates (directive_id, number, seq, title, description, office_id, settlement_id, category_id,
    responsible, status, progress_percent, withdrawn_reason, created_at, updated_at)
SELECT :directive, 'BM-' || g, g, 'Бенчмарк аманаты ' || g, '', (SELECT min(id) FROM offices),
    NULL, NULL, '', (ARRAY['registered','in_progress','fulfilled','partially_fulfilled','not_fulfilled'])[1 + g % 5],
    0, '', now() - (g::float / :n) * interval '1095 days', now()
FROM generate_series(1, :n) AS g
"""


# Every mandate stands on one appeal (the third one of its time), so the figures of the appeals' period
# (registered as mandates, mandates from these appeals, fulfilled) join real links.
LINKS_SQL = """
INSERT INTO mandate_appeals (mandate_id, directive_id, appeal_id, added_at, override_reason, removed_reason)
SELECT m.id, m.directive_id, a.id, m.created_at, '', ''
FROM mandates m JOIN appeals a ON a.seq = 3 * m.seq
"""


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def vacuum(db, tables=("appeals", "reception_sessions", "mandates", "mandate_appeals", "settlements", "offices")):
    """VACUUM ANALYZE until the visibility map covers the tables.

    On the shared server another session's open transaction keeps VACUUM from marking pages all-visible
    (relallvisible stays 0): every count then reads the heap (the overdue count: 208 ms instead of 6 ms).
    """
    import sqlalchemy as sa

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for attempt in range(12):
            for table in tables:
                conn.execute(sa.text(f"VACUUM ANALYZE {table}"))
            pages, visible = conn.execute(sa.text(
                "SELECT relpages, relallvisible FROM pg_class WHERE oid = 'appeals'::regclass")).one()
            if visible >= 0.95 * pages:
                print(f"visibility map: {visible:,} of {pages:,} appeal pages all-visible (vacuum pass {attempt + 1})")
                return
            time.sleep(10)
        print(f"warning: only {visible:,} of {pages:,} appeal pages all-visible: another session holds back VACUUM")


def load(db, appeals, schema):
    import sqlalchemy as sa

    from appeals.demo import load_reference, load_users

    load_reference()
    load_users()
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(sa.text(APPEALS_SQL), {"n": appeals})
        conn.execute(sa.text(SESSIONS_SQL), {"n": appeals // 4})
        directive = conn.execute(sa.text(
            "INSERT INTO directives (issuer, number, issued_on, title, text, numbering, number_prefix, keywords,"
            " created_at, updated_at) VALUES ('bench', '1', now()::date, 'bench', '', 'directive', 'BM', '',"
            " now(), now()) RETURNING id")).scalar_one()
        conn.execute(sa.text(MANDATES_SQL), {"n": appeals // 3, "directive": directive})
        conn.execute(sa.text(LINKS_SQL))
    # What autovacuum does on a live database: statistics and the visibility map (index-only scans).
    vacuum(db)
    print(f"loaded {appeals:,} appeals, {appeals // 4:,} sessions, {appeals // 3:,} mandates (one appeal each) "
          f"in {time.perf_counter() - started:.1f} s (schema {schema})")


def per_query(db, figures, today, periods):
    import datetime as dt

    for name, days in periods.items():
        parts = per_query_parts(figures, today - dt.timedelta(days=days - 1), today)
        for part, run in parts.items():
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                run()
                best = min(best, (time.perf_counter() - t) * 1000)
                db.session.rollback()
            print(f"  {name:8} {part:22} {best:7.0f} ms")


def per_query_parts(figures, start, today):
    return {
        "appeal measures": lambda: figures._appeal_measures(start, today),
        "registered by status": lambda: figures.mandates_registered_in_period(start, today),
        "overdue": figures.overdue_appeals,
        "sessions held": lambda: figures.sessions_held_count(start, today),
        "weeks": lambda: figures._counts(figures._week_expr(), start, today),
        "categories": lambda: figures._counts(figures.Appeal.category_id, start, today),
        "channels": lambda: figures._counts(figures.Appeal.channel, start, today),
        "offices": lambda: figures._counts(figures.Appeal.office_id, start, today),
        "districts": lambda: figures.district_bars(start, today),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--schema", help="reuse a schema loaded by an earlier run with --keep")
    parser.add_argument("--per-query", action="store_true", help="also time each query of the dashboard (best of 3)")
    args = parser.parse_args()

    import sqlalchemy as sa

    schema = args.schema or f"bench_dash_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_BASE)
    if not args.schema:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_BASE else "?"
    url = f"{PG_BASE}{sep}options={quote(f'-csearch_path={schema}')}"
    env = {**os.environ, "DATABASE_URL": url, "QABYLDAU_INSTANCE": tempfile.mkdtemp(prefix="qabyldau-dash-"),
           "SECRET_KEY": "bench"}
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "QABYLDAU_INSTANCE", "SECRET_KEY")})
    try:
        subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                       env=env, check=True, capture_output=True)
        from appeals import create_app

        app = create_app({"WTF_CSRF_ENABLED": False})
        with app.app_context():
            from appeals.core.extensions import db
            from appeals.demo import DEMO_PASSWORD

            if args.schema:
                print(f"reusing schema {schema}")
                vacuum(db)  # and ANALYZE whatever a new migration added
            else:
                load(db, args.appeals, schema)

        import datetime as dt

        from appeals.core.timeutil import local_today
        from appeals.reports import statistics as figures

        periods = {"month": 30, "quarter": 91, "year": 365}
        with app.test_request_context():
            today = local_today()
            if args.per_query:
                per_query(db, figures, today, periods)
            for name, days in periods.items():
                start = today - dt.timedelta(days=days - 1)
                timings = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    stats = figures.dashboard(start, today)
                    timings.append((time.perf_counter() - t) * 1000)
                    db.session.rollback()
                print(f"statistics() [{name}, {stats['figures']['appeals_received']:,} appeals in period]: "
                      f"p50 {st.median(timings):.0f} ms, p95 {pct(timings, .95):.0f} ms")

        client = app.test_client()
        client.post("/login", data={"username": "viewer", "password": DEMO_PASSWORD})
        results = []
        with app.test_request_context():
            today = local_today()
        for name, days in periods.items():
            query = {"date_from": (today - dt.timedelta(days=days - 1)).isoformat(), "date_to": today.isoformat()}
            timings = []
            for _ in range(args.runs):
                t = time.perf_counter()
                response = client.get("/reports", query_string=query)
                timings.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200
            results.append((name, timings))
            print(f"GET /reports ({name}, whole page): p50 {st.median(timings):.0f} ms, p95 {pct(timings, .95):.0f} ms")
        load_avg = os.getloadavg()
        print(f"load average at the end: {load_avg[0]:.1f} {load_avg[1]:.1f} {load_avg[2]:.1f}")
        for name, timings in results:
            print(f"dashboard p95 [{name}] = {pct(timings, .95):.0f} ms (target 200 ms)")
    finally:
        if not args.keep:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
