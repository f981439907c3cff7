#!/usr/bin/env python3
"""Where an online appeal's CPU goes in the app server: the five requests profiled one by one.

    .venv/bin/python bench/profile_public.py                    # 200 appeals, CPU ms and queries per step
    .venv/bin/python bench/profile_public.py --profile send     # plus cProfile's top functions of one step
    .venv/bin/python bench/profile_public.py --clerks 200       # the clerks' API registration too

A fresh PostgreSQL schema gets the demo reference data and users (as bench/public_load.py); the app
is built as gunicorn builds it (production settings) and driven through Flask's test client in this
one process, so the figures are the app's own CPU without HTTP, the load client or the worker. The
code is taken from the outbox row the send step wrote (as the SMS gateway would get it).
"""
import argparse
import cProfile
import io
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from register_load import ALMATY, Database, prepare  # noqa: E402

STEPS = ("form", "send", "confirm_page", "code", "receipt")
# The queue worker's part: one delivery round per notice, as each commit's kick makes it (the code's SMS
# after "send", the receipt's after "code"), to a gateway stand-in in a process of its own.
WORKER_STEPS = ("deliver",)
# bench/public_load.py's SMS gateway stand-in, in a process of its own (its CPU is not the worker's).
GATEWAY = ("import sys, threading; sys.path.insert(0, sys.argv[1]); from public_load import start_gateway; "
           "print(start_gateway().server_port, flush=True); threading.Event().wait()")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appeals", type=int, default=200)
    parser.add_argument("--clerks", type=int, default=0, help="API registrations to time as well")
    parser.add_argument("--profile", choices=STEPS + WORKER_STEPS + ("api",), action="append", default=[])
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sql", action="store_true", help="print the statements of the last appeal's requests")
    args = parser.parse_args()

    gateway = subprocess.Popen([sys.executable, "-c", GATEWAY, str(Path(__file__).resolve().parent)],
                               stdout=subprocess.PIPE, text=True)
    gateway_port = int(gateway.stdout.readline())
    tmp = Path(tempfile.mkdtemp(prefix="qabyldau-profile-"))
    db = Database("postgresql", tmp)
    env = {**os.environ, "DATABASE_URL": db.url, "QABYLDAU_INSTANCE": str(tmp / "instance"),
           "SECRET_KEY": "bench-" + uuid.uuid4().hex, "QABYLDAU_ENV": "production", "SESSION_COOKIE_SECURE": "0",
           "API_RATE_LIMIT_PER_MINUTE": "100000000", "API_USER_RATE_LIMIT_PER_MINUTE": "100000000",
           "ONLINE_APPEALS_PER_ADDRESS_PER_HOUR": "100000000", "ONLINE_APPEALS_PER_PHONE_PER_DAY": "100000000",
           "ONLINE_MIN_FILL_SECONDS": "0", "QUEUE_URL": "", "SMS_URL": f"http://127.0.0.1:{gateway_port}/send",
           "NOTIFY_GATHER_SECONDS": "0",  # a round per notice, no waiting for others
           # The test client's scheme (plain HTTP, as gunicorn sees the bench's requests).
           "PREFERRED_URL_SCHEME": "http"}
    try:
        tokens, office_id, settlement_ids, categories = prepare(db, env, 1)
        os.environ.update(env)
        import sqlalchemy as sa

        from appeals.core import outbox
        from appeals.core.extensions import db as sdb
        from wsgi import app  # noqa: E402  (the app as gunicorn --preload builds it)

        queries = [0]
        statements = []

        with app.app_context():
            sa.event.listen(sdb.engine, "before_cursor_execute", lambda *a, **k: (queries.__setitem__(0, queries[0] + 1),
                                                                                      statements.append(a[2])))
            labels = [f"{name} — {district}" for name, district in sdb.session.execute(sa.text(
                "SELECT s.name_kk, d.name_kk FROM settlements s JOIN districts d ON d.id = s.district_id "
                "ORDER BY s.id LIMIT 40"))]
            sdb.session.remove()
        labels = [label for label in labels if labels.count(label) == 1]
        cpu = {step: 0.0 for step in STEPS + WORKER_STEPS + ("api",)}
        count = {step: 0 for step in STEPS + WORKER_STEPS + ("api",)}
        nq = {step: 0 for step in STEPS + WORKER_STEPS + ("api",)}
        profiles = {step: cProfile.Profile(time.process_time) for step in args.profile}  # CPU, not waits

        def timed(step, call):
            statements.clear()
            profile = profiles.get(step)
            q0 = queries[0]
            started = time.process_time()
            if profile:
                profile.enable()
            result = call()
            if profile:
                profile.disable()
            cpu[step] += time.process_time() - started
            if args.sql and n == args.appeals - 1:
                print(f"--- {step}")
                for sql in statements:
                    print("   ", " ".join(sql.split())[-260:])
            nq[step] += queries[0] - q0
            count[step] += 1
            return result

        def code_for(phone):
            with app.app_context():
                rows = sdb.session.execute(sa.text(
                    "SELECT params FROM notices WHERE address = :a ORDER BY id DESC LIMIT 1"), {"a": phone}).all()
                sdb.session.remove()
            params = rows[0][0]
            params = json.loads(params) if isinstance(params, str) else params
            return params["code"]

        for n in range(args.appeals):
            client = app.test_client()
            phone = f"+7702{n % 1000:03d}{n // 1000:04d}"
            html = timed("form", lambda: client.get("/appeal")).get_data(as_text=True)
            csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
            begun = re.search(r'name="started" type="hidden" value="([^"]+)"', html).group(1)
            sent = timed("send", lambda: client.post("/appeal", data={
                "csrf_token": csrf, "started": begun, "website": "", "applicant_kind": "individual",
                "applicant_name": f"Азамат Профиль {n}", "phone": phone, "code_channel": "sms",
                "settlement": labels[n % len(labels)], "appeal_type": "proposal",
                "category_id": str(categories[n % len(categories)]),
                "summary": f"Ауылға жаңа аялдама керек №{n}", "text": "Толық мәтін.", "consent": "y"}))
            assert sent.status_code == 303, sent.get_data(as_text=True)[:3000]
            confirm = sent.headers["Location"]
            timed("deliver", outbox.deliver_notices.call_local)
            page = timed("confirm_page", lambda: client.get(confirm)).get_data(as_text=True)
            csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            code = code_for(phone.replace(" ", ""))
            done = timed("code", lambda: client.post(confirm, data={"csrf_token": csrf, "code": code}))
            assert done.status_code == 303, done.get_data(as_text=True)[:3000]
            timed("deliver", outbox.deliver_notices.call_local)
            receipt = timed("receipt", lambda: client.get(done.headers["Location"]))
            assert 'class="receipt-number"' in receipt.get_data(as_text=True)

        api = app.test_client()
        for n in range(args.clerks):
            body = {"office_id": office_id, "channel": "phone", "applicant_kind": "individual",
                    "received_at": (datetime.now(ALMATY) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"),
                    "applicant_name": f"Қызметкер Профиль {n}", "phone": "+7705" + f"{n:07d}",
                    "settlement_id": settlement_ids[n % len(settlement_ids)], "appeal_type": "request",
                    "category_id": categories[n % len(categories)], "summary": f"Су құбыры туралы №{n}"}
            response = timed("api", lambda: api.post("/api/v1/appeals", json=body,
                                                     headers={"Authorization": f"Bearer {tokens[0]}"}))
            assert response.status_code == 201, response.get_data(as_text=True)[:2000]

        # The first appeal's requests warm the caches and compile the templates: leave them out of nothing,
        # but say what one appeal costs on average.
        total = 0.0
        for step in STEPS + WORKER_STEPS + ("api",):
            if count[step]:
                per = 1000 * cpu[step] / count[step]
                if step in STEPS:
                    total += per
                print(f"{step:13s} {per:7.2f} ms CPU  {nq[step] / count[step]:5.1f} queries  ({count[step]} requests)")
        print(f"{'online appeal':13s} {total:7.2f} ms CPU in the app (five requests)")
        if count["deliver"]:
            print(f"{'worker':13s} {2000 * cpu['deliver'] / count['deliver']:7.2f} ms CPU in the worker (two SMS)")
        for step, profile in profiles.items():
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
            print(f"\n=== {step}: cumulative ===")
            print(out.getvalue()[-12000:])
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(args.top)
            print(f"\n=== {step}: own time ===")
            print(out.getvalue()[-8000:])
    finally:
        gateway.terminate()
        db.drop()


if __name__ == "__main__":
    main()
