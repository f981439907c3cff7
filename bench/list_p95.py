#!/usr/bin/env python3
"""p95 of the appeals register list and search pages at a million appeals (PostgreSQL).

    .venv/bin/python bench/list_p95.py                  # 1,000,000 appeals, 100 requests per case
    .venv/bin/python bench/list_p95.py --rows 200000 --runs 50
    .venv/bin/python bench/list_p95.py --reuse          # keep the loaded schema from an earlier run

Database: BENCH_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test), in a
schema of its own (bench_register_list) that is dropped and rebuilt unless --reuse. The schema
is created by the app's migrations (so the indexes measured are the real ones, including the
full-text index of 0002), then appeals are generated inside PostgreSQL with generate_series
(one INSERT ... SELECT: seconds instead of hours of ORM inserts).

Each case is a real request through the app (test client, logged-in user, template rendered),
timed end to end; the SQL alone is timed too. Figures are printed last.
"""
import argparse
import os
import queue
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QABYLDAU_INSTANCE", tempfile.mkdtemp(prefix="qabyldau-bench-list-"))
os.environ.setdefault("SECRET_KEY", "bench")

import sqlalchemy as sa  # noqa: E402

SCHEMA = "bench_register_list"
PASSWORD = "Reception-list-7391"  # passwords may not contain the username
OFFICES = ["ZHM", "TRZ", "BZK", "ZHB", "ZHL", "KRD", "MRK", "MNK", "SRS", "TLS", "SHU", "TRS"]
SURNAMES = ["Әбілқасымов", "Бекболатов", "Жұмабеков", "Сейтқалиев", "Нұрланов", "Тоқтаров", "Қасымов", "Оспанов",
            "Мұратов", "Ермеков", "Сәрсенов", "Байжанов", "Иванов", "Ким", "Петров", "Шевченко", "Ахметов", "Исаев",
            "Құлыбеков", "Дүйсенов", "Омаров", "Сұлтанов", "Бекенов", "Тұрсынов", "Жақыпов"]
NAMES = ["Ерлан", "Асқар", "Нұрлан", "Бауыржан", "Серік", "Айгүл", "Гүлнұр", "Дина", "Жанар", "Сәуле", "Анна", "Ольга"]
SUMMARIES = ["Көшедегі жолды жөндеу қажет", "Ауылда ауыз су жоқ", "Қыста жылу жеткіліксіз", "Электр қуаты жиі өшеді",
             "Мектепке спорт залы салу", "Балабақшада орын жетіспейді", "Жұмысқа орналасуға көмек",
             "Әлеуметтік көмек тағайындау", "Жер телімін рәсімдеу", "Ауылды газдандыру", "Автобус қатынасы жоқ",
             "Заңсыз қоқыс үйіндісі", "Клубты жөндеу", "Дәрігер жетіспейді", "Көпір апатты жағдайда",
             "Ремонт дороги на улице", "Нет питьевой воды", "Помощь в трудоустройстве"]


def _sql_array(values):
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def build_app(url):
    from appeals import create_app
    from config import TestConfig

    separator = "&" if "?" in url else "?"
    app = create_app({
        **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
        "TESTING": False,
        "SQLALCHEMY_DATABASE_URI": f"{url}{separator}options={quote(f'-csearch_path={SCHEMA}')}",
        "INSTANCE_PATH": os.environ["QABYLDAU_INSTANCE"],
    })
    return app


def reset_schema(url):
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA "{SCHEMA}"'))
    engine.dispose()


REGIONS = 20  # with the first, the demo-like region above, the others named R01 … R19
OFFICES_PER_REGION = 10


def load_reference(db, regions=REGIONS):
    """The first region as before (12 offices, codes the cases name), then regions-1 more of 10 offices each,
    a district of five settlements per office: 202 offices and 1,010 settlements at 20 regions."""
    from appeals.auth import services as accounts
    from appeals.reference.models import Category, District, Office, Region, Settlement
    from appeals.schedules.models import Host

    region_codes = [("ZHA", OFFICES)] + [(f"R{r:02d}", [f"R{r:02d}{o}" for o in "ABCDEFGHIJ"[:OFFICES_PER_REGION]])
                                         for r in range(1, regions)]
    for region_code, codes in region_codes:
        region = Region(code=region_code, name_kk=f"{region_code} облысы", name_ru=f"{region_code} область")
        db.session.add(region)
        regional = None
        for index, code in enumerate(codes):
            district = District(region=region, code=code, name_kk=f"{code} ауданы", name_ru=f"{code} район")
            db.session.add(district)
            for s in range(5):
                db.session.add(Settlement(district=district, name_kk=f"{code} ауылы {s}", name_ru=f"{code} село {s}",
                                          kato=f"{region_code}{code}{s:03d}"[:12]))
            office = Office(code=code, name_kk=f"{code} филиалы", name_ru=f"{code} филиал",
                            kind="regional" if index == 0 else "territorial", district=district, parent=regional,
                            region=region)
            regional = regional or office
            db.session.add(office)
            if region_code == "ZHA":
                db.session.add(Host(full_name=f"Host {code}", kind="candidate"))
    for index, code in enumerate(["housing", "utilities", "roads", "water", "health", "education", "employment",
                                  "social", "land", "agriculture", "transport", "gas", "order", "ecology",
                                  "culture", "other"]):
        db.session.add(Category(code=code, name_kk=code, name_ru=code, name_en=code, sort_order=index))
    db.session.commit()
    accounts.create_user("bench.coordinator", PASSWORD, "coordinator", [], region_code="ZHA")  # a regional coordinator
    accounts.create_user("bench.clerk", PASSWORD, "clerk", ["KRD"])
    # The SQL a regional coordinator's scope gives (office_id IN the region's offices): a clerk of all 12.
    accounts.create_user("bench.region", PASSWORD, "clerk", OFFICES)
    accounts.create_user("bench.viewer", PASSWORD, "viewer", [], region_code="ZHA")
    accounts.create_user("bench.central", PASSWORD, "central", [])  # the whole country (the dashboard bench)


def _appeal_indexes(conn):
    return conn.execute(sa.text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'appeals' "
        "AND indexname NOT LIKE 'pk_%' AND indexdef NOT LIKE 'CREATE UNIQUE%'")).all()


def load_appeals(db, rows, per_year=300_000):
    """Generated inside PostgreSQL, spread evenly over rows/per_year years up to now (at least one year).

    Fast path for 10,000,000 rows, on two connections (two cores) throughout: the appeals' secondary
    indexes are dropped and rebuilt after the load; triggers and foreign-key checks are off for the
    load (session_replication_role = replica; the data is generated consistent). Two lanes then run
    side by side: (a) VACUUM of the appeals, the full-text GIN index (PostgreSQL 15 builds GIN on one
    core; since migration 0030 it reads the folded document stored on each row, which the inserts
    computed, two lanes at a time), then the summary of migration 0014 in one pass and its regions' sums (0032); (b) sessions,
    mandates and links with their summaries (0034, 0035). Each lane then builds B-tree indexes from one shared
    list until none is left. Last, again side by side, ANALYZE of the appeals (the stored
    document's statistics are what the search's choice of plan reads) and
    VACUUM of the other tables (after the index build's snapshot is gone, so it sets their
    visibility maps). Appeals older than 40 days are closed, but one in 500 (overdue); every third appeal
    has a mandate of its own. Returns the timings."""
    import threading

    from appeals.reports import summaries

    offices = db.session.scalar(sa.text("SELECT count(*) FROM offices"))
    db.session.commit()  # no transaction left open for the hour of the load
    seconds = max(365, round(rows / per_year * 365)) * 86400
    timings = {}
    engine = db.engine
    with engine.connect() as conn:
        indexes = _appeal_indexes(conn)
        for name, _definition in indexes:
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
        conn.commit()
    errors = []

    def lane(*steps):
        def run():
            try:
                for step in steps:
                    step()
            except Exception as exc:  # reported below
                errors.append(exc)
        return threading.Thread(target=run)

    def in_parallel(*threads):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    def timed(name, work):
        def step():
            t = time.perf_counter()
            work()
            timings[name] = timings.get(name, 0) + time.perf_counter() - t
        return step

    def generated(*statements, **params):
        def work():
            with engine.begin() as conn:
                conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
                conn.execute(sa.text("SET LOCAL work_mem = '256MB'"))
                for sql in statements:
                    conn.execute(sa.text(sql), params)
        return work

    def autocommit(*statements):
        def work():
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("SET maintenance_work_mem = '1GB'"))
                conn.execute(sa.text("SET work_mem = '256MB'"))
                for statement in statements:
                    conn.execute(sa.text(statement))
        return work

    statement = f"""
        INSERT INTO appeals (office_id, number, year, seq, received_at, channel, session_id, host_id, applicant_kind,
            applicant_name, iin, phone, address, settlement_id, signatories, appeal_type, category_id, summary, text,
            status, responsible_id, due_date, original_due_date, forwarded_to, forwarded_at, answer_text, answered_at,
            closed_at, withdrawn_reason, repeat_of_id, created_by_id, created_at, updated_at)
        SELECT
            o.id,
            o.code || '-' || extract(year FROM r.received_at)::int || '-' || lpad(((g - 1) / {offices} + 1)::text, 5, '0'),
            extract(year FROM r.received_at)::int,
            (g - 1) / {offices} + 1,
            r.received_at,
            (ARRAY['session','session','session','door_to_door','online_event','phone','letter','email','other'])[1 + g % 9],
            NULL, CASE WHEN g % 9 < 3 AND o.id <= {len(OFFICES)} THEN 1 + g % {len(OFFICES)} END,
            'individual',
            ({_sql_array(SURNAMES)})[1 + (g * 7) % {len(SURNAMES)}] || ' ' || ({_sql_array(NAMES)})[1 + (g * 13) % {len(NAMES)}],
            NULL, '+7701' || lpad((g % 10000000)::text, 7, '0'), 'Абай көшесі ' || (g % 120),
            (g - 1) % {offices} * 5 + 1 + (g / 7) % 5,
            NULL,
            (ARRAY['statement','statement','proposal','proposal','complaint','request','response'])[1 + (g / 3) % 7],
            1 + (g * 11) % 16,
            ({_sql_array(SUMMARIES)})[1 + (g * 5) % {len(SUMMARIES)}] || ' №' || g,
            'Өтініш мәтіні ' || g,
            CASE WHEN r.received_at > now() - interval '40 days'
                 THEN (ARRAY['closed','answered','answered','in_review','registered','forwarded','withdrawn'])[1 + (g / 11) % 7]
                 WHEN g % 500 = 0 THEN 'in_review'
                 ELSE (ARRAY['closed','closed','closed','answered','answered','answered','withdrawn'])[1 + (g / 11) % 7] END,
            NULL, r.received_at::date + 21, r.received_at::date + 21, '', NULL, '', NULL, NULL, '', NULL, NULL,
            now(), now()
        FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS g
        JOIN offices o ON o.id = 1 + (g - 1) % {offices}
        CROSS JOIN LATERAL (SELECT date_trunc('day', now()) - interval '{seconds} seconds'
                            + ((g::bigint * 104729) % {seconds}) * interval '1 second' AS received_at) r
        """
    half = rows // 2
    started = time.perf_counter()
    in_parallel(lane(generated(statement, first=1, last=half)), lane(generated(statement, first=half + 1, last=rows)))
    timings["appeals"] = time.perf_counter() - started

    def sessions_and_mandates():
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            conn.execute(sa.text(
                "INSERT INTO reception_sessions (office_id, date, start_time, end_time, room, topic, status,"
                " cancel_reason, created_at, updated_at) SELECT 1 + g % :offices,"
                " (now() - (g % :days) * interval '1 day')::date, time '10:00', time '12:00', '', '',"
                " CASE WHEN g % 10 = 0 THEN 'cancelled' ELSE 'held' END, '', now(), now()"
                " FROM generate_series(1, :n) AS g"), {"offices": offices, "days": seconds // 86400, "n": rows // 4})
            directive = conn.execute(sa.text(
                "INSERT INTO directives (issuer, number, issued_on, title, text, numbering, number_prefix, keywords,"
                " created_at, updated_at) VALUES ('bench', '1', now()::date, 'bench', '', 'directive', 'BM', '',"
                " now(), now()) RETURNING id")).scalar_one()
            # Every third appeal stands under a mandate of its own, registered a week after the appeal.
            conn.execute(sa.text(
                "INSERT INTO mandates (directive_id, number, seq, title, description, office_id, settlement_id,"
                " category_id, responsible, status, progress_percent, withdrawn_reason, public_title,"
                " public_description, public_state, created_at, updated_at)"
                " SELECT :d, 'BM-' || a.id, a.id, 'Бенчмарк аманаты ' || a.id, '', a.office_id, a.settlement_id,"
                " a.category_id, '', (ARRAY['registered','in_progress','fulfilled','partially_fulfilled',"
                "'not_fulfilled','withdrawn'])[1 + a.id / 3 % 6], 0, '', '', '', 'draft',"
                " a.received_at + interval '7 days', now() FROM appeals a WHERE a.id % 3 = 0"), {"d": directive})
            # With the triggers off, the link's copies of migration 0022 are written here.
            conn.execute(sa.text(
                "INSERT INTO mandate_appeals (mandate_id, directive_id, appeal_id, added_at, override_reason,"
                " removed_reason, appeal_received_at, appeal_office_id, mandate_status)"
                " SELECT m.id, m.directive_id, m.seq, m.created_at, '', '', a.received_at, a.office_id, m.status"
                " FROM mandates m JOIN appeals a ON a.id = m.seq"))
            # The mandates' monthly summary (migration 0034) and the links' (0035), by the rebuild's own
            # statements.
            for table in ("mandate_counts", "mandate_link_counts", "spanning_mandates"):
                conn.execute(sa.text(f"DELETE FROM {table}"))
            for statement in rebuilds:
                conn.execute(statement)

    fts = [definition for _name, definition in indexes if "gin" in definition.lower()]
    # Built here, in the app's context (they ask the session's dialect), and run by lane (b)'s thread.
    rebuilds = (summaries.mandate_rebuild(), *summaries.link_rebuild())
    btrees = [definition for _name, definition in indexes if "gin" not in definition.lower()]
    others = ("appeal_counts", "appeal_region_counts", "mandate_counts", "mandate_link_counts",
              "spanning_mandates", "reception_sessions", "mandates", "mandate_appeals")
    pending = queue.SimpleQueue()
    for definition in btrees:
        pending.put(definition)

    def btrees_left():
        # Each lane, once its own steps are done, builds the B-tree indexes no lane has taken yet: the
        # lanes' own steps take different times from one machine to the next (10,000,000 appeals, sixth
        # session: 292 s and 200 s before the indexes, then 104 s of indexes in one lane: 906 s in all).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("SET maintenance_work_mem = '1GB'"))
            while True:
                try:
                    definition = pending.get_nowait()
                except queue.Empty:
                    return
                conn.execute(sa.text(definition))

    t = time.perf_counter()
    in_parallel(
        lane(timed("vacuum", autocommit("VACUUM appeals")), timed("full-text index", autocommit(*fts)),
             timed("summary", generated("DELETE FROM appeal_region_counts", "DELETE FROM appeal_counts",
                                         REBUILD_COUNTS, summaries.REGION_ROLL_UP)),
             timed("b-tree indexes (a)", btrees_left)),
        lane(timed("sessions, mandates", sessions_and_mandates), timed("b-tree indexes (b)", btrees_left)))
    timings["both lanes"] = time.perf_counter() - t
    # Only now: a VACUUM while lane (a)'s index build held its snapshot could not mark the rows lane (b)
    # wrote as visible to all, and without the visibility map no index-only scan happens.
    in_parallel(lane(timed("analyze", autocommit("ANALYZE appeals"))),
                lane(timed("vacuum", autocommit(*(f"VACUUM (ANALYZE) {table}" for table in others)))))
    return timings


# The summary of migration 0014, recomputed in one pass (what appeals.reports.summaries.rebuild() does),
# then summed per region (migration 0032) by the rebuild's own statement.
REBUILD_COUNTS = """
INSERT INTO appeal_counts (dim, month, office_id, key, appeals)
SELECT v.dim, date_trunc('month', a.received_at)::date, a.office_id, v.key, count(*)
FROM appeals a CROSS JOIN LATERAL (VALUES
    ('day', to_char(a.received_at, 'DD')), ('category', coalesce(CAST(a.category_id AS VARCHAR), '')),
    ('channel', CAST(a.channel AS VARCHAR)), ('settlement', coalesce(CAST(a.settlement_id AS VARCHAR), ''))) v(dim, key)
GROUP BY 1, 2, 3, 4
"""


CASES = [
    # (name, user, query string) — typical register pages.
    ("region, newest first", "bench.coordinator", ""),
    ("clerk's office, newest first", "bench.clerk", ""),
    ("region's 12 offices, newest first", "bench.region", ""),
    ("region's offices + one month", "bench.region", "date_from=2025-05-01&date_to=2025-05-31"),
    ("office + one month", "bench.coordinator", "office={KRD}&date_from=2025-05-01&date_to=2025-05-31"),
    ("status + category", "bench.coordinator", "status=in_review&category=3"),
    ("type + channel + settlement", "bench.coordinator", "appeal_type=complaint&channel=phone&settlement={SETTLEMENT}"),
    ("district, newest first", "bench.coordinator", "district={MRK}"),
    ("district + type + channel", "bench.coordinator",
     "district={SETTLEMENT_DISTRICT}&appeal_type=complaint&channel=phone"),
    # The generated appeals of an office are all about its own district: an empty page, the worst case.
    ("clerk, another district", "bench.clerk", "district={MRK}"),
    ("overdue, by deadline", "bench.coordinator", "overdue=1&sort=due"),
    ("clerk, open, by deadline", "bench.clerk", "status=open&sort=due"),
    ("page 20 of an office", "bench.coordinator", "office={KRD}&page=20"),
    ("search: surname", "bench.coordinator", "q=Сейтқалиев"),
    # Folded search (migration 0006): the surname typed without Kazakh letters, and in Latin.
    ("search: surname, Russian letters", "bench.coordinator", "q=Сейткалиев"),
    ("search: surname, Latin", "bench.coordinator", "q=Seitkaliyev"),
    ("search: two words", "bench.coordinator", "q=ауыз+су"),
    ("search: number", "bench.coordinator", "q={NUMBER}"),
    ("search within office + month", "bench.clerk", "q=жол&date_from=2025-03-01&date_to=2025-03-31"),
]


def percentile(values, pct):
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def measure(app, runs):
    from appeals.auth.models import User
    from appeals.core.extensions import db
    from appeals.reference.models import District, Office
    from appeals.register import queries

    with app.app_context():
        krd = db.session.scalar(sa.select(Office.id).where(Office.code == "KRD"))
        mrk = db.session.scalar(sa.select(District.id).where(District.code == "MRK"))
        # A combination that exists in the generated data (an empty result would time a full index walk).
        settlement = db.session.scalar(sa.text(
            "SELECT settlement_id FROM appeals WHERE appeal_type = 'complaint' AND channel = 'phone' LIMIT 1"))
        settlement_district = db.session.scalar(sa.text("SELECT district_id FROM settlements WHERE id = :id"),
                                                {"id": settlement})
        number = db.session.scalar(sa.text(
            "SELECT number FROM appeals WHERE office_id = :o AND received_at >= '2025-01-01' ORDER BY received_at LIMIT 1"),
            {"o": krd})
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
    clients = {}
    for username in ("bench.coordinator", "bench.clerk", "bench.region"):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        clients[username] = client
    results = []
    for name, username, query in CASES:
        query = query.format(KRD=krd, MRK=mrk, SETTLEMENT=settlement, SETTLEMENT_DISTRICT=settlement_district,
                             NUMBER=number)
        client = clients[username]
        for _ in range(min(5, runs)):
            response = client.get(f"/appeals?{query}")
            assert response.status_code == 200, (name, response.status_code)
        page_times = []
        for _ in range(runs):
            start = time.perf_counter()
            response = client.get(f"/appeals?{query}")
            page_times.append((time.perf_counter() - start) * 1000)
        rows_on_page = response.get_data(as_text=True).count('<tr class="')
        sql_times = []
        with app.test_request_context(f"/appeals?{query}"):
            from flask import request

            user = db.session.get(User, users[username].id)
            filters = queries.parse_list_filters(request.args)
            page = int(request.args.get("page", 1))
            statement = queries.with_list_relations(queries.build_list_query(
                filters, user, first_rows=page * 50 + 1)).limit(51).offset((page - 1) * 50)
            for _ in range(runs):
                start = time.perf_counter()
                db.session.execute(statement).scalars().all()
                sql_times.append((time.perf_counter() - start) * 1000)
                # One statement per transaction, as in a request: psycopg forgets its prepared statements
                # at ROLLBACK, so each run is planned for its own values. Run repeatedly in one transaction
                # it is prepared after five runs and, five more on, PostgreSQL may switch to a generic plan
                # that no request ever gets (a clerk's empty district: 17 ms planned for, 220 ms generic).
                db.session.rollback()
            db.session.remove()
        results.append((name, rows_on_page, statistics.median(page_times), percentile(page_times, 95),
                        statistics.median(sql_times), percentile(sql_times, 95)))
        print(f"  measured: {name}: page p95 {results[-1][3]:.1f} ms, sql p95 {results[-1][5]:.1f} ms", flush=True)
    return results


def main():
    global SCHEMA
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appeals", "--rows", dest="rows", type=int, default=1_000_000)
    parser.add_argument("--regions", type=int, default=REGIONS)
    parser.add_argument("--per-year", type=int, default=300_000, help="appeals a year (sets the years loaded)")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--reuse", action="store_true", help="use an already loaded schema of the same size")
    parser.add_argument("--keep", action="store_true", help="keep the schema for another run (default: dropped)")
    parser.add_argument("--load-only", action="store_true", help="load (and keep) the schema, measure nothing")
    parser.add_argument("--schema", default=SCHEMA, help=f"the schema to load or reuse (default {SCHEMA})")
    args = parser.parse_args()
    SCHEMA = args.schema
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

    loaded = 0
    if args.reuse:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            exists = conn.scalar(sa.text("SELECT to_regclass(:t)"), {"t": f"{SCHEMA}.appeals"})
            loaded = conn.scalar(sa.text(f'SELECT count(*) FROM "{SCHEMA}".appeals')) if exists else 0
        engine.dispose()
    app = None
    load_line = f"reused schema {SCHEMA} ({loaded:,} appeals)"
    try:
        if not loaded:  # --reuse never reloads a loaded schema (other benches may have added appeals to it)
            reset_schema(url)
            app = build_app(url)
            from flask_migrate import upgrade

            from appeals.core.extensions import db

            with app.app_context():
                upgrade()
                load_reference(db, args.regions)
                started = time.perf_counter()
                timings = load_appeals(db, args.rows, args.per_year)
                total = time.perf_counter() - started
                parts = ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
                load_line = f"loaded {args.rows:,} appeals in {total:.1f} s ({parts}; target <= 900 s)"
                print(load_line, flush=True)
        if args.load_only:
            return
        app = app or build_app(url)
        load_before = os.getloadavg()
        results = measure(app, args.runs)
        load_after = os.getloadavg()
    finally:
        if not (args.keep or args.load_only):
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
            engine.dispose()

    print()
    size = loaded or args.rows  # a reused schema is measured at the size it has
    print(f"Register list at {size:,} appeals ({args.regions} regions), PostgreSQL, {args.runs} requests per case (ms)")
    print(f"{'case':<38}{'rows':>5}{'page p50':>10}{'page p95':>10}{'sql p50':>9}{'sql p95':>9}")
    for name, rows, p50, p95, s50, s95 in results:
        print(f"{name:<38}{rows:>5}{p50:>10.1f}{p95:>10.1f}{s50:>9.1f}{s95:>9.1f}")
    filtered = [r for r in results if not r[0].startswith("search")]
    searches = [r for r in results if r[0].startswith("search")]
    print()
    print(load_line)
    print(f"load average: {load_before[0]:.1f} before, {load_after[0]:.1f} after the measurements")
    print(f"filtered list page p95 (worst case) = {max(r[3] for r in filtered):.1f} ms (target <= 50 ms)")
    print(f"search page p95 (worst case) = {max(r[3] for r in searches):.1f} ms (target <= 100 ms)")


if __name__ == "__main__":
    main()
