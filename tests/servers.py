"""Real servers on loopback for the tests: an aiosmtpd SMTP server and an HTTP SMS gateway stand-in.

Loaded as a pytest plugin by tests/conftest.py, so any test can ask for `smtp` or `sms_gateway`.
"""
import email
import json
import socket
import threading
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """aiosmtpd's handler: every message received, parsed."""

    def __init__(self):
        self.messages = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        with self.arrived:
            self.messages.append((envelope.rcpt_tos, message))
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count, timeout=30):
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        return self.messages


class SmtpServer:
    def __init__(self, port):
        self.port, self.inbox, self.controller = port, Inbox(), None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(app, monkeypatch):
    server = SmtpServer(_free_port()).start()
    monkeypatch.setitem(app.config, "MAIL_URL", f"smtp://127.0.0.1:{server.port}")
    monkeypatch.setitem(app.config, "MAIL_FROM", "qabyldau@example.kz")
    yield server
    server.stop()


class Gateway(BaseHTTPRequestHandler):
    """The SMS gateway stand-in: answers the statuses queued in `server.answers`, records what it got and
    from which connection (`server.connections`: the client's ports); keeps connections alive, as a real
    gateway's HTTPS endpoint does."""

    protocol_version = "HTTP/1.1"
    # Headers and body go in two writes: without this, Nagle's algorithm holds the body back until the
    # client's delayed ACK (40 ms a message on a kept-alive connection).
    disable_nagle_algorithm = True

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = self.server.answers.pop(0) if self.server.answers else 200
        self.server.connections.add(self.client_address[1])
        self.server.received.append((status, self.headers.get("Authorization"), body))
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sms_gateway(app, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.answers, server.received, server.connections = [], [], set()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setitem(app.config, "SMS_URL", f"http://:gateway-token@127.0.0.1:{server.server_port}/send")
    yield server
    server.shutdown()
    server.server_close()
