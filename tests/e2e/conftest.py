"""End-to-end harness: the real app in a subprocess on its own database, driven by Debian's Chromium.

One server per test session (gunicorn on a free loopback port), loaded with `flask db upgrade`
and `flask seed-demo` exactly as `make run` does, so the browser sees what a user would.
SQLite file by default; a fresh PostgreSQL schema when TEST_DATABASE_URL is set.

Every page a test visits is watched: a JavaScript console error or an uncaught page error fails
the test. A failing test leaves a full-page screenshot in tests/e2e/artifacts/.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote
from urllib.request import urlopen

import pytest
import sqlalchemy as sa

PROJECT_DIR = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("QABYLDAU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DEMO_PASSWORD = "qabyldau-demo"
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def _clean_tables():
    """The browser tests use the server's own database, not the in-process test database."""
    yield


def server_today():
    """Today at the branch, as the server sees it (Asia/Almaty), not the machine's UTC date."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(os.environ.get("QABYLDAU_TIMEZONE", "Asia/Almaty"))).date()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database(tmp_root):
    """A database of the server's own: (url, drop callback)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_root / 'e2e.sqlite3'}", lambda: None
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()

    def drop():
        eng = sa.create_engine(base)
        with eng.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        eng.dispose()

    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options={quote(f'-csearch_path={schema}')}", drop


def _flask(env, *args, timeout=600):
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class SmsGateway:
    """The local SMS gateway stand-in the server sends to (SMS_URL): what each phone received."""

    def __init__(self):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/send"

    def texts_to(self, phone):
        return [message["text"] for message in self.received if message["to"] == phone]

    def wait_for_code(self, phone, after=0, timeout=30):
        """The 6-digit code in the newest SMS to `phone` beyond the first `after` ones (the worker sends it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.texts_to(phone)[after:]
            codes = [m.group(0) for text in texts for m in re.finditer(r"\b\d{6}\b", text)]
            if codes:
                return codes[-1]
            time.sleep(0.2)
        raise AssertionError(f"no code reached {phone}: {self.received}")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class LiveServer:
    def __init__(self, url, env, process, log_path):
        self.url, self.env, self.process, self.log_path = url, env, process, log_path
        self.sms: SmsGateway | None = None
        self.smtp = None

    def flask(self, *args, timeout=600):
        """Run a CLI command against the server's database (e.g. create-token)."""
        return _flask(self.env, *args, timeout=timeout)

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    url, drop = _database(root)
    sms = SmsGateway()
    from tests.servers import SmtpServer, _free_port

    # Notices by e-mail (staff, subscribed citizens) arrive at a local SMTP server (live_server.smtp).
    smtp = SmtpServer(_free_port()).start()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "QABYLDAU_INSTANCE": str(root / "instance"),
        "SECRET_KEY": "e2e-" + uuid.uuid4().hex,
        "QABYLDAU_ENV": "development",
        "SESSION_COOKIE_SECURE": "0",
        "PYTHONUNBUFFERED": "1",
        # Citizens' codes and reminders go to the local gateway stand-in (live_server.sms).
        "SMS_URL": sms.url,
        "MAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
        "MAIL_FROM": "qabyldau@example.kz",
        # A test fills the online appeal form faster than a person could.
        "ONLINE_MIN_FILL_SECONDS": "1",
    }
    _flask(env, "db", "upgrade")
    _flask(env, "seed-demo")
    port = free_port()
    log_path = root / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            # As the README deploys it: sync workers forked from a preloaded app.
            [str(BIN / "gunicorn"), "--preload", "-w", "3", "-b", f"127.0.0.1:{port}", "--timeout", "120", "wsgi:app"],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    # Background documents and notices are made by a queue worker beside the server, as `make run` does.
    with open(root / "worker.log", "w") as worker_log:
        worker = subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", "worker"], cwd=PROJECT_DIR, env=env,
                                  stdout=worker_log, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", env, process, log_path)
    server.sms = sms
    server.smtp = smtp
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the app server exited:\n{server.log()}")
            try:
                with urlopen(server.url + "/login", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app server did not start:\n{server.log()}")
            time.sleep(0.2)
        yield server
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        sms.stop()
        smtp.stop()
        drop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        reason = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium, or `sh .ci/system-packages.sh --browser`)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


class WatchedPage:
    """A Playwright page plus what went wrong on it: console errors, page errors, failed requests."""

    def __init__(self, page, base_url):
        self.page = page
        self.base_url = base_url
        self.errors = []
        self.visited = []
        self.expected_failures = set()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error on {page.url}: {error}"))
        page.on("framenavigated", lambda frame: frame == page.main_frame and self.visited.append(frame.url))

    def _console(self, message):
        if message.type != "error":
            return
        # Chromium reports a refused page (403, 404) as a console error; a test that asked for it expects it.
        if message.text.startswith("Failed to load resource") and message.location.get("url") in self.expected_failures:
            return
        self.errors.append(f"console error on {self.page.url}: {message.text}")

    def goto(self, path, expect_status=None, **kwargs):
        url = path if path.startswith("http") else self.base_url + path
        if expect_status is not None and expect_status >= 400:
            self.expected_failures.add(url)
        response = self.page.goto(url, **kwargs)
        if expect_status is not None:
            assert response.status == expect_status, f"{url}: {response.status}, expected {expect_status}"
        return response

    def wait_for_focus(self, selector):
        """Keyboard users type where the page put the focus; wait until it is there."""
        self.page.wait_for_function("s => document.activeElement && document.activeElement.matches(s)", arg=selector)

    def login(self, username, password=DEMO_PASSWORD):
        page = self.page
        self.goto("/login")
        page.fill("#username", username)
        page.fill("#password", password)
        with page.expect_navigation():
            page.press("#password", "Enter")
        assert "/login" not in page.url, f"login of {username} failed: {page.inner_text('main')[:300]}"

    def __getattr__(self, name):
        return getattr(self.page, name)


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(locale="kk-KZ", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15000)
    watched = WatchedPage(context.new_page(), live_server.url)
    yield watched
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed or watched.errors:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::")[-1])
        try:
            watched.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a dead page must not hide the test's own failure
            pass
    context.close()
    assert not watched.errors, "JavaScript errors:\n" + "\n".join(watched.errors)


def pdf_text(data):
    """Text of a PDF, as a person reading it would see (poppler's pdftotext)."""
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext (poppler-utils) is required")
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return result.stdout.decode()
