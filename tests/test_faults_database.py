"""The database stops in the middle of work: the user gets a 503 page in their language, no appeal
is half-written (no number is used up), and the app recovers by itself when the database returns.

PostgreSQL: a small TCP proxy between the app and the server is cut while the appeal's INSERT is
on its way. SQLite: the database file becomes unopenable and the INSERT fails with the driver's
own I/O error; the file is then put back.
"""
import os
import socket
import sqlite3
import threading
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from appeals import create_app
from config import TestConfig
from tests.conftest import TEST_DATABASE_URL


class TcpProxy:
    """Forwards 127.0.0.1:port to the database; cut() drops every connection and refuses new ones."""

    def __init__(self, upstream_host, upstream_port):
        self.upstream = (upstream_host, upstream_port)
        self.port = None
        self.sockets = set()
        self.lock = threading.Lock()
        self.listener = None
        self.listen()

    def listen(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port or 0))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.update((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        # shutdown() wakes the thread blocked in accept(); close() alone would leave the port listening.
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass
            self.sockets.clear()

    def restore(self):
        self.listen()


class Outage:
    """Backend-specific ways to stop and restart the database under the app."""

    def __init__(self, app, proxy=None, sqlite_path=None):
        self.app, self.proxy, self.sqlite_path = app, proxy, sqlite_path
        self.down = False

    def stop(self):
        self.down = True
        if self.proxy:
            self.proxy.cut()
        else:
            # Nobody can open the file any more: in its place stands a folder.
            for suffix in ("", "-wal", "-shm"):
                path = self.sqlite_path + suffix
                if os.path.exists(path):
                    os.rename(path, path + ".away")
            os.mkdir(self.sqlite_path)
            # Open connections would keep reading the moved file; a real outage takes them too.
            from appeals.core.extensions import db

            with self.app.app_context():
                db.engine.dispose()

    def start(self):
        self.down = False
        if self.proxy:
            self.proxy.restore()
        else:
            os.rmdir(self.sqlite_path)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(self.sqlite_path + suffix + ".away"):
                    os.rename(self.sqlite_path + suffix + ".away", self.sqlite_path + suffix)


@pytest.fixture
def fault_app(app, tmp_path, request):
    """A second app whose database can be taken away; the demo offices, categories and users in it.

    Parametrise indirectly with a dict to override its configuration."""
    proxy = sqlite_path = None
    if TEST_DATABASE_URL:
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        parts = urlsplit(url)
        proxy = TcpProxy(parts.hostname, parts.port or 5432)
        netloc = parts.netloc.replace(f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname,
                                      f"127.0.0.1:{proxy.port}")
        url = urlunsplit(parts._replace(netloc=netloc))
    else:
        sqlite_path = str(tmp_path / "fault.sqlite3")
        url = f"sqlite:///{sqlite_path}"
    faulty = create_app({
        **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        **getattr(request, "param", {}),
    })
    from appeals.core.extensions import db
    from tests.conftest import IsolatedClient

    faulty.test_client_class = IsolatedClient
    with faulty.app_context():
        if sqlite_path:
            from flask_migrate import upgrade

            upgrade()
        from appeals.demo import load_reference, load_users

        load_reference()
        load_users()
        db.session.remove()
    faulty.outage = Outage(faulty, proxy, sqlite_path)
    yield faulty
    if faulty.outage.down:
        faulty.outage.start()
    with faulty.app_context():
        db.session.remove()
        db.engine.dispose()
    if proxy:
        proxy.cut()


def _appeal_form(app):
    from appeals.core.extensions import db
    from appeals.core.timeutil import local_now
    from appeals.reference.models import Category, Office, Settlement

    with app.app_context():
        office = db.session.scalar(sa.select(Office).where(Office.code == "TRZ"))
        data = {
            "office_id": office.id,
            "received_at": (local_now() - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M"),
            "channel": "phone", "applicant_kind": "individual", "applicant_name": "Омарова Гүлнар",
            "settlement_id": db.session.scalar(sa.select(Settlement.id).limit(1)),
            "appeal_type": "statement", "category_id": db.session.scalar(sa.select(Category.id).limit(1)),
            "summary": "Көшеге жарық орнату", "repeats_checked": "1", "save": "1",
        }
        db.session.remove()
    return data


def _appeals(app):
    from appeals.core.extensions import db

    with app.app_context():
        rows = db.session.execute(sa.text("SELECT number, seq FROM appeals ORDER BY seq")).all()
        db.session.remove()
    return rows


def test_database_stops_mid_registration_then_recovers(fault_app):
    outage = fault_app.outage
    client = fault_app.test_client()
    assert client.post("/login", data={"username": "clerk", "password": "qabyldau-demo"}).status_code == 302
    client.post("/language/ru", data={"next": "/"})
    form = _appeal_form(fault_app)

    first = client.post("/appeals/new", data=form)
    assert first.status_code == 302, first.get_data(as_text=True)[:2000]

    from appeals.core.extensions import db

    with fault_app.app_context():
        engine = db.engine

    def cut_at_insert(conn, cursor, statement, parameters, context, executemany):
        # The number is already taken in this transaction; the appeal row is on its way.
        if statement.lstrip().upper().startswith("INSERT INTO APPEALS") and not outage.down:
            outage.stop()
            if outage.sqlite_path:
                raise sqlite3.OperationalError("disk I/O error")

    event.listen(engine, "before_cursor_execute", cut_at_insert)
    try:
        failed = client.post("/appeals/new", data=form)
    finally:
        event.remove(engine, "before_cursor_execute", cut_at_insert)
    assert failed.status_code == 503, (failed.headers, failed.get_data(as_text=True)[:3000])
    page = failed.get_data(as_text=True)
    assert "Сервис временно недоступен" in page  # the clerk chose Russian
    assert '<html lang="ru"' in page

    # While the database is away every page says so, in the user's language, without a trace.
    assert outage.down
    during = client.get("/appeals")
    assert during.status_code == 503, during.get_data(as_text=True)[:500]
    assert "Сервис временно недоступен" in during.get_data(as_text=True)

    outage.start()
    # Back by itself, with no restart: the failed requests made the pool drop its dead connections.
    assert client.get("/appeals").status_code == 200
    second = client.post("/appeals/new", data=form)
    assert second.status_code == 302
    rows = _appeals(fault_app)
    # Nothing half-written: two appeals, numbered 1 and 2 — the failed one used up no number.
    assert [seq for _number, seq in rows] == [1, 2]
    assert rows[1][0].endswith("-00002")


def test_api_gets_problem_json_503_while_the_database_is_away(fault_app):
    from appeals.api import tokens
    from appeals.auth.models import User
    from appeals.core.extensions import db

    with fault_app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == "viewer"))
        secret = tokens.create_token(user, "fault")[1]
        db.session.remove()
    client = fault_app.test_client()
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "kk"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    fault_app.outage.stop()
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 503
    fault_app.outage.start()
    assert client.get("/api/v1/me", headers=headers).status_code == 200


@pytest.mark.parametrize("fault_app, after_the_loss", [
    # Pinged before reuse, the dead connection is replaced and the clerk sees nothing.
    ({"DATABASE_PING_AFTER_IDLE_SECONDS": 0}, [200, 200, 200]),
    # Without the ping the first request fails (a 503, never a 500) and the pool heals itself.
    ({"DATABASE_PING_AFTER_IDLE_SECONDS": 3600}, [503, 200, 200]),
], indirect=["fault_app"], ids=["pinged", "not-pinged"])
def test_a_connection_lost_while_idle(fault_app, after_the_loss):
    if fault_app.outage.proxy is None:
        pytest.skip("SQLite has no server connection to lose")
    client = fault_app.test_client()
    assert client.post("/login", data={"username": "clerk", "password": "qabyldau-demo"}).status_code == 302
    assert client.get("/appeals").status_code == 200
    # The server drops the pooled connection while nobody uses it (a restart, a network blip).
    fault_app.outage.stop()
    fault_app.outage.start()
    assert [client.get("/appeals").status_code for _ in range(3)] == after_the_loss
