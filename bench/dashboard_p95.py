"""The statistics dashboard's p95 on PostgreSQL: a month, a quarter and a year, one region and the whole country.

    .venv/bin/python bench/dashboard_p95.py [--appeals 1000000] [--runs 30] [--keep]
    .venv/bin/python bench/dashboard_p95.py --schema bench_register_list --runs 30   # reuse bench/list_p95.py's load

The data is bench/list_p95.py's (20 regions, 202 offices, 300,000 appeals a year up to today, every third
appeal under a mandate of its own, a reception session per four appeals), loaded the same way into a schema
of its own (dropped at the end unless --keep), or an already loaded schema with --schema (left as it is).
Each period ends today and is rolling (30, 91 and 365 days), so it starts and ends inside months: the worst
case for the monthly summary (appeals.reports.summaries), whose partial months are read from the appeals.
Timed: appeals.reports.statistics.dashboard() alone and GET /reports (the whole page, as the central office), for the
whole country and for one region (the first one's 12 offices). Figures, with each target, are printed last.
"""
import argparse
import datetime as dt
import os
import statistics as st
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import list_p95 as loader  # noqa: E402
import sqlalchemy as sa  # noqa: E402

PERIODS = {"month": 30, "quarter": 91, "year": 365}
TARGET_MS = 200


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def per_query(db, figures, start, end, office_ids):
    """Each part of the dashboard, best of 3 (ms)."""
    from appeals.reports import summaries

    parts = {
        "appeal measures": lambda: figures._appeal_measures(start, end, office_ids=office_ids),
        "registered by status": lambda: figures.mandates_registered_in_period(start, end, office_ids),
        "overdue": lambda: figures.overdue_appeals(office_ids=office_ids),
        "sessions held": lambda: figures.sessions_held_count(start, end, office_ids=office_ids),
        "days (weeks)": lambda: summaries.counts("day", start, end, office_ids),
        "categories": lambda: summaries.counts("category", start, end, office_ids),
        "channels": lambda: summaries.counts("channel", start, end, office_ids),
        "offices": lambda: figures.received_counts(start, end, "office_id", office_ids),
        "districts": lambda: figures.district_bars(start, end, office_ids=office_ids),
    }
    result = {}
    for name, run in parts.items():
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            run()
            best = min(best, (time.perf_counter() - t) * 1000)
            db.session.rollback()
        result[name] = best
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument("--per-year", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the schema this run loaded")
    parser.add_argument("--schema", help="an already loaded schema (bench/list_p95.py --keep): no load, not dropped")
    parser.add_argument("--per-query", action="store_true", help="also time each part of the dashboard (best of 3)")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

    loader.SCHEMA = args.schema or f"bench_dash_{uuid.uuid4().hex[:8]}"
    load_line = f"reused schema {loader.SCHEMA}"
    lines = []
    try:
        if not args.schema:
            loader.reset_schema(url)
        app = loader.build_app(url)
        with app.app_context():
            from appeals.core.extensions import db

            if not args.schema:
                from flask_migrate import upgrade

                upgrade()
                loader.load_reference(db)
                started = time.perf_counter()
                timings = loader.load_appeals(db, args.appeals, args.per_year)
                load_line = (f"loaded {args.appeals:,} appeals in {time.perf_counter() - started:.1f} s ("
                             + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + ")")
                print(load_line, flush=True)
            appeals = db.session.scalar(sa.text("SELECT count(*) FROM appeals"))
            regions = db.session.scalar(sa.text("SELECT count(*) FROM regions"))
            first_region = db.session.scalar(sa.text("SELECT id FROM regions ORDER BY id LIMIT 1"))

        from appeals.core.timeutil import local_today
        from appeals.reports import statistics as figures

        client = app.test_client()
        response = client.post("/login", data={"username": "bench.central", "password": loader.PASSWORD})
        assert response.status_code == 302, response.status_code
        load_before = os.getloadavg()
        results = []
        scopes = []
        with app.test_request_context():
            today = local_today()
            region_offices = figures.region_office_ids(first_region)
            db.session.rollback()
            for scope, office_ids, region_arg in (("country", None, {}),
                                                  ("one region", region_offices, {"region": first_region})):
                for name, days in PERIODS.items():
                    start = today - dt.timedelta(days=days - 1)
                    if args.per_query:
                        parts = per_query(db, figures, start, today, office_ids)
                        lines.append(f"  {scope:10} {name:8} " + ", ".join(f"{k} {v:.1f}" for k, v in parts.items()))
                    timings = []
                    for _ in range(args.runs):
                        t = time.perf_counter()
                        stats = figures.dashboard(start, today, office_ids=office_ids)
                        timings.append((time.perf_counter() - t) * 1000)
                        db.session.rollback()
                    query = {"date_from": start.isoformat(), "date_to": today.isoformat(), **region_arg}
                    scopes.append((scope, name, stats["figures"]["appeals_received"], timings, query))
            db.session.remove()
        for scope, name, count, timings, query in scopes:
            client.get("/reports", query_string=query)
            pages = []
            for _ in range(args.runs):
                t = time.perf_counter()
                response = client.get("/reports", query_string=query)
                pages.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:300])
            results.append((scope, name, count, timings, pages))
        load_after = os.getloadavg()
    finally:
        if not args.schema and not args.keep:
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{loader.SCHEMA}" CASCADE'))
            engine.dispose()

    print()
    if lines:
        print("each part, best of 3 (ms):")
        print("\n".join(lines))
    print(f"Dashboard at {appeals:,} appeals ({regions} regions), PostgreSQL, {args.runs} runs each (ms)")
    print(f"{'scope':<12}{'period':<9}{'appeals':>9}{'dashboard() p50':>17}{'p95':>7}{'page p50':>10}{'page p95':>10}")
    for scope, name, count, timings, pages in results:
        print(f"{scope:<12}{name:<9}{count:>9,}{st.median(timings):>17.0f}{pct(timings, .95):>7.0f}"
              f"{st.median(pages):>10.0f}{pct(pages, .95):>10.0f}")
    print()
    print(load_line)
    print(f"load average: {load_before[0]:.1f} before, {load_after[0]:.1f} after the measurements")
    for scope, name, _count, _timings, pages in results:
        print(f"dashboard page p95 [{scope}, {name}] = {pct(pages, .95):.0f} ms (target <= {TARGET_MS} ms)")


if __name__ == "__main__":
    main()
