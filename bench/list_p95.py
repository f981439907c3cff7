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


def load_reference(db):
    from appeals.auth import services as accounts
    from appeals.reference.models import Category, District, Office, Region, Settlement
    from appeals.schedules.models import Host

    region = Region(code="ZHA", name_kk="Жамбыл облысы", name_ru="Жамбылская область")
    db.session.add(region)
    for index, code in enumerate(OFFICES):
        district = District(region=region, code=code, name_kk=f"{code} ауданы", name_ru=f"{code} район")
        db.session.add(district)
        for s in range(5):
            db.session.add(Settlement(district=district, name_kk=f"{code} ауылы {s}", name_ru=f"{code} село {s}",
                                      kato=f"31{code}{s:03d}"))
        db.session.add(Office(code=code, name_kk=f"{code} филиалы", name_ru=f"{code} филиал",
                              kind="regional" if index == 0 else "territorial", district=district))
        db.session.add(Host(full_name=f"Host {code}", kind="candidate"))
    for index, code in enumerate(["housing", "utilities", "roads", "water", "health", "education", "employment",
                                  "social", "land", "agriculture", "transport", "gas", "order", "ecology",
                                  "culture", "other"]):
        db.session.add(Category(code=code, name_kk=code, name_ru=code, name_en=code, sort_order=index))
    db.session.commit()
    accounts.create_user("bench.coordinator", PASSWORD, "coordinator", [])
    accounts.create_user("bench.clerk", PASSWORD, "clerk", ["KRD"])


def load_appeals(db, rows):
    """Generated inside PostgreSQL: a year of appeals, every office numbered 1..n without gaps."""
    offices = len(OFFICES)
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
        NULL, CASE WHEN g % 9 < 3 THEN 1 + g % {offices} END,
        'individual',
        ({_sql_array(SURNAMES)})[1 + (g * 7) % {len(SURNAMES)}] || ' ' || ({_sql_array(NAMES)})[1 + (g * 13) % {len(NAMES)}],
        NULL, '+7701' || lpad((g % 10000000)::text, 7, '0'), 'Абай көшесі ' || (g % 120),
        (g - 1) % {offices} * 5 + 1 + (g / 7) % 5,
        NULL,
        (ARRAY['statement','statement','proposal','proposal','complaint','request','response'])[1 + (g / 3) % 7],
        1 + (g * 11) % 16,
        ({_sql_array(SUMMARIES)})[1 + (g * 5) % {len(SUMMARIES)}] || ' №' || g,
        'Өтініш мәтіні ' || g,
        (ARRAY['closed','closed','closed','answered','answered','answered','in_review','registered','forwarded','withdrawn'])[1 + (g / 11) % 10],
        NULL, r.received_at::date + 21, r.received_at::date + 21, '', NULL, '', NULL, NULL, '', NULL, NULL,
        now(), now()
    FROM generate_series(1, :rows) AS g
    JOIN offices o ON o.code = (ARRAY[{", ".join(repr(c) for c in OFFICES)}])[1 + (g - 1) % {offices}]
    CROSS JOIN LATERAL (SELECT timestamp '2025-01-01 09:00' + ((g * 31) % (365 * 86400)) * interval '1 second' AS received_at) r
    """
    db.session.execute(sa.text(statement), {"rows": rows})
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE appeals"))


CASES = [
    # (name, user, query string) — typical register pages.
    ("region, newest first", "bench.coordinator", ""),
    ("clerk's office, newest first", "bench.clerk", ""),
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
    ("search: number", "bench.coordinator", "q=KRD-2025-04242"),
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
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
    clients = {}
    for username in ("bench.coordinator", "bench.clerk"):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        clients[username] = client
    results = []
    for name, username, query in CASES:
        query = query.format(KRD=krd, MRK=mrk, SETTLEMENT=settlement, SETTLEMENT_DISTRICT=settlement_district)
        client = clients[username]
        for _ in range(5):
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
            statement = queries.with_list_relations(queries.build_list_query(filters, user)).limit(51).offset((page - 1) * 50)
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
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded schema of the same size")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

    loaded = 0
    if args.reuse:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            exists = conn.scalar(sa.text("SELECT to_regclass(:t)"), {"t": f"{SCHEMA}.appeals"})
            loaded = conn.scalar(sa.text(f'SELECT count(*) FROM "{SCHEMA}".appeals')) if exists else 0
        engine.dispose()
    app = None
    if loaded != args.rows:
        reset_schema(url)
        app = build_app(url)
        from flask_migrate import upgrade

        from appeals.core.extensions import db

        with app.app_context():
            upgrade()
            load_reference(db)
            started = time.perf_counter()
            load_appeals(db, args.rows)
            print(f"loaded {args.rows:,} appeals in {time.perf_counter() - started:.1f} s (generate_series)")
    app = app or build_app(url)
    results = measure(app, args.runs)

    print()
    print(f"Register list at {args.rows:,} appeals, PostgreSQL, {args.runs} requests per case (ms)")
    print(f"{'case':<34}{'rows':>5}{'page p50':>10}{'page p95':>10}{'sql p50':>9}{'sql p95':>9}")
    for name, rows, p50, p95, s50, s95 in results:
        print(f"{name:<34}{rows:>5}{p50:>10.1f}{p95:>10.1f}{s50:>9.1f}{s95:>9.1f}")
    filtered = [r for r in results if not r[0].startswith("search")]
    searches = [r for r in results if r[0].startswith("search")]
    print()
    print(f"filtered list page p95 (worst case) = {max(r[3] for r in filtered):.1f} ms (target <= 50 ms)")
    print(f"search page p95 (worst case) = {max(r[3] for r in searches):.1f} ms")


if __name__ == "__main__":
    main()
