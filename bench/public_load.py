#!/usr/bin/env python3
"""Load test of the citizen's side: online appeals while clerks register through the API.

    .venv/bin/python bench/public_load.py                          # 50 citizens, 8 clerks, 30 s, PostgreSQL
    .venv/bin/python bench/public_load.py --citizens 20 --duration 15

A fresh PostgreSQL schema is migrated and given the demo offices, settlements and users; gunicorn
serves the app (the README's production set-up: sync workers, --preload, the back office and the
citizens' pages on two pools, the Redis queue) and queue workers deliver the notices to a local SMS
gateway stand-in run by this script. Each citizen, in a thread with a cookie session of its own,
opens /appeal, sends the form, waits for the SMS with its code at the gateway, types the code back
and opens the receipt; each clerk posts registrations to /api/v1/appeals on a kept-alive
connection, from a process of their own (so that the clerks' latencies are not taken behind the
citizens' threads' hold on this script's interpreter lock). Then the register is checked: every
office's numbers 1..n without a gap or duplicate, every receipt's number in the register (none
lost), no appeal nobody was told about. Targets (issue 16): at least 50 online appeals/s, clerks'
p95 under 100 ms, 0 gaps, 0 lost. The limits per address and phone and the form's minimum fill
time protect a real deployment; here every citizen comes from 127.0.0.1 within milliseconds, so
they are lifted.

Figures are printed last and written to bench/output/public_load.json. Everything stays on
127.0.0.1; every loop is bounded in time.
"""
import argparse
import http.client
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from register_load import (  # noqa: E402
    ALMATY,
    BIN,
    PROJECT,
    Client,
    CpuWatch,
    Database,
    _server_cpu_s,
    calibration_ms,
    prepare,
    start_server,
)


class Gateway(BaseHTTPRequestHandler):
    """The SMS gateway stand-in: keeps the last text per phone and wakes whoever waits for it. It keeps
    connections alive (HTTP/1.1), as a real gateway's HTTPS endpoint does."""

    protocol_version = "HTTP/1.1"
    # Headers and body go in two writes: without this, Nagle's algorithm holds the body back until the
    # client's delayed ACK (40 ms a message on a kept-alive connection).
    disable_nagle_algorithm = True

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.arrived:
            self.server.texts.setdefault(body["to"], []).append(body["text"])
            self.server.count += 1
            self.server.arrived.notify_all()
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def start_gateway():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.texts, server.count, server.arrived = {}, 0, threading.Condition()
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for_code(gateway, phone, timeout):
    deadline = time.monotonic() + timeout
    with gateway.arrived:
        while time.monotonic() < deadline:
            for text in gateway.texts.get(phone, []):
                found = re.search(r"\b(\d{6})\b", text)
                if found:
                    gateway.texts[phone] = []
                    return found.group(1)
            gateway.arrived.wait(timeout=max(0.01, deadline - time.monotonic()))
    return None


class Browser:
    """A citizen's browser as light as a load client can be (http.client, its cookies, redirects
    followed by the caller): the load client shares the machine with the app, so its own CPU is kept
    small. gunicorn's sync workers close each connection; http.client opens the next one itself."""

    def __init__(self, port):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies = {}

    def request(self, method, path, data=None):
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data).encode("ascii")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8")
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _eq, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in cookie and "01 Jan 1970" not in cookie:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response.status, response.headers, text

    def close(self):
        self.connection.close()


CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
STARTED = re.compile(r'name="started" type="hidden" value="([^"]+)"')
NUMBER = re.compile(r'class="receipt-number">([^<]+)<')


class Citizen(threading.Thread):
    """One citizen after another on one thread: form, code, receipt."""

    def __init__(self, index, port, gateway, settlements, categories, stop_at):
        super().__init__(daemon=True)
        self.index, self.port, self.gateway = index, port, gateway
        self.settlements, self.categories, self.stop_at = settlements, categories, stop_at
        self.receipts, self.errors, self.durations, self.code_waits = [], [], [], []

    def run(self):
        n = 0
        while time.monotonic() < self.stop_at:
            n += 1
            phone = f"+7702{self.index:03d}{n % 10000:04d}"
            browser = Browser(self.port)
            started = time.perf_counter()
            try:
                _status, _headers, html = browser.request("GET", "/appeal")
                csrf, begun = CSRF.search(html).group(1), STARTED.search(html).group(1)
                status, headers, text = browser.request("POST", "/appeal", {
                    "csrf_token": csrf, "started": begun, "website": "", "applicant_kind": "individual",
                    "applicant_name": f"Азамат Жүктеме {self.index}-{n}", "phone": phone, "code_channel": "sms",
                    "settlement": self.settlements[n % len(self.settlements)], "appeal_type": "proposal",
                    "category_id": str(self.categories[n % len(self.categories)]),
                    "summary": f"Ауылға жаңа аялдама керек №{self.index}-{n}", "text": "Толық мәтін.",
                    "consent": "y"})
                if status != 303:
                    self.errors.append(f"form {status}: {text[:160]!r}")
                    continue
                confirm = headers["Location"]
                waited = time.perf_counter()
                code = wait_for_code(self.gateway, phone, timeout=60)
                self.code_waits.append(time.perf_counter() - waited)
                if code is None:
                    self.errors.append("no code arrived in 60 s")
                    continue
                csrf = CSRF.search(browser.request("GET", confirm)[2]).group(1)
                status, headers, text = browser.request("POST", confirm, {"csrf_token": csrf, "code": code})
                if status == 303:
                    status, headers, text = browser.request("GET", headers["Location"])
                number = NUMBER.search(text)
                if status != 200 or number is None:
                    self.errors.append(f"confirm {status}: {text[:160]!r}")
                    continue
                self.receipts.append(number.group(1))
                self.durations.append(time.perf_counter() - started)
            except (OSError, http.client.HTTPException, AttributeError) as exc:
                self.errors.append(f"{type(exc).__name__}: {str(exc)[:160]}")
            finally:
                browser.close()


class Clerk(Client):
    """One clerk registering through the API on a kept-alive connection (register_load's client),
    at a clerk's pace rather than in a tight loop."""

    def __init__(self, index, port, token, office_id, settlement_ids, categories, stop_at):
        super().__init__(index, port, token, office_id, settlement_ids, categories, stop_at, limit=None)

    def body(self, n):
        return json.dumps({
            "office_id": self.office_id, "channel": "phone", "applicant_kind": "individual",
            "received_at": (datetime.now(ALMATY) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"),
            "applicant_name": f"Қызметкер Жүктеме {self.index}-{n}",
            "phone": "+7705" + f"{(self.index * 100000 + n) % 10000000:07d}",
            "settlement_id": self.settlements[n % len(self.settlements)], "appeal_type": "request",
            "category_id": self.categories[n % len(self.categories)],
            "summary": f"Су құбыры туралы сұрау салу №{self.index}-{n}"})

    def pause(self, started):
        # A clerk types the next appeal: about one registration a second, not a tight loop.
        time.sleep(max(0.0, 0.5 - (time.perf_counter() - started)))


def run_clerks(channel, port, tokens, office_id, settlement_ids, categories):
    """The clerks, in a process of their own (they sit at other computers than the citizens): their
    latencies are not taken while fifty citizens' threads hold this script's interpreter lock."""
    staff_stop_at = channel.recv()
    staff = [Clerk(i, port, tokens[i], office_id, settlement_ids, categories, staff_stop_at) for i in range(len(tokens))]
    for thread in staff:
        thread.start()
    for thread in staff:
        thread.join()
    channel.send(([(clerk.numbers, clerk.latencies, clerk.errors) for clerk in staff], time.process_time()))


class ClerksProcess:
    """What bench() needs of the clerks' process: started, told when to stop, and their results."""

    def __init__(self, port, tokens, office_id, settlement_ids, categories):
        context = multiprocessing.get_context("spawn")
        self.channel, child = context.Pipe()
        self.process = context.Process(
            target=run_clerks, args=(child, port, tokens, office_id, settlement_ids, categories), daemon=True)
        self.process.start()

    def go(self, stop_at):
        self.channel.send(stop_at)

    def results(self, timeout):
        if not self.channel.poll(timeout):
            self.process.kill()
            raise RuntimeError("the clerks' process did not finish in time")
        clerks, cpu_s = self.channel.recv()
        self.process.join(timeout=10)
        return clerks, cpu_s


def check(db, told):
    sa = db.sa
    engine = db.engine()
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT office_id, year, seq, number, channel FROM appeals")).all()
    engine.dispose()
    series = {}
    for office_id, year, seq, _number, _channel in rows:
        series.setdefault((office_id, year), []).append(seq)
    gaps = sum(max(seqs) - len(set(seqs)) for seqs in series.values())
    numbers = [row[3] for row in rows]
    duplicates = len(numbers) - len(set(numbers))
    lost = len(set(told) - set(numbers))
    unacknowledged = len(set(numbers) - set(told))
    online = sum(1 for row in rows if row[4] == "online")
    return {"appeals_in_register": len(rows), "online_in_register": online, "gaps": gaps, "duplicates": duplicates,
            "lost": lost, "unacknowledged": unacknowledged}


def percentile(values, share):
    values = sorted(values)
    return round(values[max(0, int(len(values) * share) - 1)] * 1000, 1) if values else None


# The README's deployment: the back office (staff pages and the API) on a pool of its own, the citizens'
# pages on another at a lower CPU priority; nginx sends /appeal, /track, /schedule, /booking and /public
# to the second. Here the citizens talk to the public pool and the clerks to the back office's, as
# nginx would route them.
PUBLIC_NICE = 10


def bench(citizens, clerks, duration, workers, queue_workers, office_workers=3, pools=2):
    tmp = Path(tempfile.mkdtemp(prefix="qabyldau-bench-public-"))
    db = Database("postgresql", tmp)
    gateway = start_gateway()
    env = {**os.environ, "DATABASE_URL": db.url, "QABYLDAU_INSTANCE": str(tmp / "instance"),
           "SECRET_KEY": "bench-" + uuid.uuid4().hex, "QABYLDAU_ENV": "production", "SESSION_COOKIE_SECURE": "0",
           "API_RATE_LIMIT_PER_MINUTE": "100000000", "API_USER_RATE_LIMIT_PER_MINUTE": "100000000",
           "API_TOKENS_PER_USER": "100", "SMS_URL": f"http://127.0.0.1:{gateway.server_port}/send",
           "ONLINE_APPEALS_PER_ADDRESS_PER_HOUR": "100000000", "ONLINE_APPEALS_PER_PHONE_PER_DAY": "100000000",
           "ONLINE_MIN_FILL_SECONDS": "0", "WORKER_TICK_SECONDS": "1", "WORKER_THREADS": "4",
           # The README's production queue (Redis), under a name of this run's own.
           "QUEUE_URL": os.environ.get("BENCH_QUEUE_URL", "redis://127.0.0.1:6379/0"),
           "QUEUE_NAME": "bench-public-" + uuid.uuid4().hex[:8],
           "NOTIFY_RETRY_SECONDS": "1"}
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "QABYLDAU_INSTANCE")})
    processes = []
    staff = None
    try:
        tokens, office_id, settlement_ids, categories = prepare(db, env, clerks)
        sa = db.sa
        engine = db.engine()
        with engine.connect() as conn:
            labels = [f"{name} — {district}" for name, district in conn.execute(sa.text(
                "SELECT s.name_kk, d.name_kk FROM settlements s JOIN districts d ON d.id = s.district_id "
                "ORDER BY s.id LIMIT 40"))]
        engine.dispose()
        # A name shared by two districts' settlements is still unique with its district: keep unique labels only.
        labels = [label for label in labels if labels.count(label) == 1]
        if pools == 2:
            office, office_port = start_server(env, "sync", office_workers, 1, name="gunicorn-office")
            processes.append(office)
            server, port = start_server(env, "sync", workers, 1, nice=PUBLIC_NICE, name="gunicorn-public")
            processes.append(server)
            masters = [office.pid, server.pid]
        else:  # the former deployment: one pool for everybody
            server, port = start_server(env, "sync", workers, 1)
            processes.append(server)
            office_port, masters = port, [server.pid]
        log = open(tmp / "worker.log", "w")
        for _ in range(queue_workers):
            processes.append(subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "worker"], cwd=PROJECT, env=env,
                                              stdout=log, stderr=subprocess.STDOUT))
        time.sleep(2)
        calibration_before = calibration_ms()
        staff = ClerksProcess(office_port, tokens[:clerks], office_id, settlement_ids, categories)
        cpu = CpuWatch(*masters)
        pools_before = [_server_cpu_s(pid) for pid in masters]
        started = time.monotonic()  # CLOCK_MONOTONIC: the same clock in the clerks' process
        stop_at = started + duration
        people = [Citizen(i, port, gateway, labels, categories, stop_at) for i in range(citizens)]
        staff.go(stop_at)
        for thread in people:
            thread.start()
        for thread in people:
            thread.join(timeout=duration + 180)
        clerks_results, clerks_cpu_s = staff.results(timeout=duration + 180)
        elapsed = time.monotonic() - started
        receipts = [number for person in people for number in person.receipts]
        registered = [number for numbers, _latencies, _errors in clerks_results for number in numbers]
        latencies = [value for _numbers, values, _errors in clerks_results for value in values]
        clerk_errors = [error for _numbers, _latencies, errors in clerks_results for error in errors]
        # Where the CPU went, per appeal of either kind; the calibration says how busy the machine was.
        pools_cpu = [_server_cpu_s(pid) - before for pid, before in zip(masters, pools_before)]
        cpu_use = cpu.stop(len(receipts) + len(registered), clerks_cpu_s)
        if pools == 2:
            # Each pool's own CPU by what it served: the citizens' per online appeal (its five requests),
            # the back office's per clerk's registration. Less affected by the machine's other work.
            cpu_use["pool_cpu_ms"] = {"public_per_online_appeal": round(1000 * pools_cpu[1] / max(len(receipts), 1), 2),
                                      "office_per_registration": round(1000 * pools_cpu[0] / max(len(registered), 1), 2)}
        cpu_use["cpu_ms_per_appeal"] = cpu_use.pop("cpu_ms_per_registration")
        cpu_use["calibration_ms"] = [calibration_before, calibration_ms()]
        cpu_use["load_average"] = list(os.getloadavg())
        result = {
            "backend": "postgresql", "citizens": citizens, "clerks": clerks,
            "gunicorn": (f"public -w {workers} (nice {PUBLIC_NICE}), back office -w {office_workers}" if pools == 2
                         else f"-w {workers} -k sync"),
            "queue_workers": queue_workers, "duration_s": round(elapsed, 1),
            "online_appeals": len(receipts), "online_appeals_per_s": round(len(receipts) / elapsed, 1),
            "citizen_errors": sum(len(p.errors) for p in people),
            "citizen_error_samples": [e for p in people for e in p.errors][:5],
            "citizen_total_p50_ms": percentile([d for p in people for d in p.durations], 0.5),
            "citizen_total_p95_ms": percentile([d for p in people for d in p.durations], 0.95),
            "code_wait_p95_ms": percentile([d for p in people for d in p.code_waits], 0.95),
            "clerk_registrations": len(registered), "clerk_errors": len(clerk_errors),
            "clerk_error_samples": clerk_errors[:5],
            "clerk_p50_ms": percentile(latencies, 0.5),
            "clerk_p95_ms": percentile(latencies, 0.95),
            "sms_received": gateway.count,
            **check(db, receipts + registered),
            **cpu_use,
        }
        return result
    finally:
        if staff is not None and staff.process.is_alive():
            staff.process.kill()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        gateway.shutdown()
        db.drop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument("--clerks", type=int, default=8)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers of the citizens' pool")
    parser.add_argument("--office-workers", type=int, default=3, help="gunicorn sync workers of the back office's pool")
    parser.add_argument("--one-pool", action="store_true", help="everybody on one pool of --workers (the former set-up)")
    parser.add_argument("--queue-workers", type=int, default=1)
    args = parser.parse_args()
    result = bench(args.citizens, args.clerks, args.duration, args.workers, args.queue_workers, args.office_workers,
                   1 if args.one_pool else 2)
    out = PROJECT / "bench" / "output"
    out.mkdir(exist_ok=True)
    (out / "public_load.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, ensure_ascii=False))
    ok = (result["online_appeals_per_s"] >= 50 and (result["clerk_p95_ms"] or 1e9) < 100 and result["gaps"] == 0
          and result["lost"] == 0 and result["duplicates"] == 0)
    print(f"online appeals: {result['online_appeals']} in {result['duration_s']} s = {result['online_appeals_per_s']}/s "
          f"(target >= 50/s); clerks: {result['clerk_registrations']} registrations, p95 {result['clerk_p95_ms']} ms "
          f"(target < 100 ms); gaps {result['gaps']}, duplicates {result['duplicates']}, lost {result['lost']}, "
          f"unacknowledged {result['unacknowledged']}; errors: citizens {result['citizen_errors']}, "
          f"clerks {result['clerk_errors']}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
