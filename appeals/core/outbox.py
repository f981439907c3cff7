"""Notifications through a transactional outbox: e-mail (SMTP), SMS (an HTTP gateway), in-app.

`notify()` adds the notices to the caller's session, so they commit (or roll back) with the change
that causes them: a rolled-back change sends nothing. Workers deliver what is due
(`deliver_due`), claimed row by row; a failed attempt is retried with exponential backoff
(NOTIFY_RETRY_SECONDS doubling up to NOTIFY_RETRY_MAX_SECONDS, NOTIFY_MAX_ATTEMPTS in all), so
nothing is lost while the mail server or the SMS gateway is down. Each row is also the record of
what was sent: to whom, channel, template, when, the result; the admins' log shows those columns
and never the params or the text.

A notice's params hold ids and numbers, never a citizen's personal data: the text is rendered at
delivery, in the recipient's language, from templates/notifications/<template>.{subject,txt,html}.

A citizen has no account: `notify_address()` writes a notice to a phone number or an e-mail address
with its language (`user_id` empty). An e-mail notice may carry one PDF from appeals/core/storage.py
(an answer letter): only its key is in the row, the bytes are read at delivery.
"""
import functools
import json
import os
import smtplib
import ssl
import threading
import time
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Optional, Protocol
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies_environment, proxy_bypass

import sqlalchemy as sa
import urllib3
from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column

from appeals.core import storage
from appeals.core.database import is_postgresql, separate_write, write_transaction
from appeals.core.extensions import db
from appeals.core.models_base import enum_column
from appeals.core.queue import huey, in_app_context
from appeals.core.timeutil import utcnow

CHANNELS = ("email", "sms", "inapp")
# pending: waiting for (another) attempt; sending: claimed by a worker; held: waiting for the digest.
NOTICE_STATUSES = ("pending", "sending", "sent", "failed", "held", "skipped")


class Notice(db.Model):
    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Empty for a notice to a citizen: then `address` (E.164 phone or e-mail) and `locale` say where and how.
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(sa.String(254), default="")
    locale: Mapped[str] = mapped_column(sa.String(8), default="")
    # A file of appeals/core/storage.py attached to an e-mail (an answer letter), and its file name.
    attachment_key: Mapped[Optional[str]] = mapped_column(sa.String(64))
    attachment_name: Mapped[str] = mapped_column(sa.String(200), default="")
    channel: Mapped[str] = enum_column(CHANNELS, "notice_channel")
    template: Mapped[str] = mapped_column(sa.String(60))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    status: Mapped[str] = enum_column(NOTICE_STATUSES, "notice_status", default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column()
    read_at: Mapped[Optional[datetime]] = mapped_column()
    # The last failure's kind (e.g. "SMTPServerDisconnected"), never the server's text.
    result: Mapped[str] = mapped_column(sa.String(200), default="")
    # Notices delivered together in one digest share it.
    digest_id: Mapped[Optional[int]] = mapped_column()

    __table_args__ = (sa.Index("ix_notices_due", "status", "next_attempt_at"),
                      sa.Index("ix_notices_inbox", "user_id", "channel", "read_at"))


class NotificationPreference(db.Model):
    """A user's choice of channels and of immediate notices or a daily digest (defaults: e-mail and in-app, at once)."""

    __tablename__ = "notification_preferences"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[bool] = mapped_column(default=True)
    sms: Mapped[bool] = mapped_column(default=False)
    inapp: Mapped[bool] = mapped_column(default=True)
    digest: Mapped[bool] = mapped_column(default=False)
    # The staff member's own mobile number for SMS (never a citizen's).
    phone: Mapped[str] = mapped_column(sa.String(20), default="")


DEFAULTS = {"email": True, "sms": False, "inapp": True, "digest": False, "phone": ""}


def preferences(user_id: int) -> dict:
    row = db.session.get(NotificationPreference, user_id)
    if row is None:
        return dict(DEFAULTS)
    return {key: getattr(row, key) for key in DEFAULTS}


def notify(user, template: str, params: Optional[dict] = None, *, channels: Optional[tuple] = None) -> list[Notice]:
    """Add the notices of `template` for `user` to the current transaction (by their preferences).

    Call it inside the write_transaction() of the change that causes the notice.
    channels: limit to these channels (a digest goes by e-mail only).
    """
    user_id = getattr(user, "id", user)
    prefs = preferences(user_id)
    email_address = getattr(user, "email", None)
    if email_address is None:
        email_address = db.session.scalar(sa.text("SELECT email FROM users WHERE id = :id"), {"id": user_id}) or ""
    now = utcnow()
    created = []
    for channel in channels or CHANNELS:
        if not prefs[channel]:
            continue
        if channel == "email" and not email_address or channel == "sms" and not prefs["phone"]:
            continue
        if channel == "inapp":
            status, sent_at = "sent", now
        else:
            status, sent_at = ("held" if prefs["digest"] else "pending"), None
        notice = Notice(user_id=user_id, channel=channel, template=template, params=dict(params or {}),
                        status=status, attempts=0, next_attempt_at=now, created_at=now, sent_at=sent_at)
        db.session.add(notice)
        created.append(notice)
    if any(notice.status == "pending" for notice in created):
        db.session.info["outbox_kick"] = True
    return created


def notify_address(channel: str, address: str, template: str, params: Optional[dict] = None, *, locale: str,
                   attachment_key: Optional[str] = None, attachment_name: str = "") -> Notice:
    """Add a notice to a citizen (no account): `channel` "sms" (E.164 phone) or "email", in `locale`.

    Like notify(), call it inside the write_transaction() of the change that causes it.
    """
    if channel not in ("sms", "email") or not address:
        raise ValueError("a citizen's notice needs a channel and an address")
    now = utcnow()
    notice = Notice(user_id=None, address=address[:254], locale=locale[:8], channel=channel, template=template,
                    params=dict(params or {}), status="pending", attempts=0, next_attempt_at=now, created_at=now,
                    attachment_key=attachment_key if channel == "email" else None,
                    attachment_name=attachment_name[:200] if channel == "email" else "")
    db.session.add(notice)
    db.session.info["outbox_kick"] = True
    return notice


@event.listens_for(Session, "after_commit")
def _kick_after_commit(session):
    """Wake a worker once the notices are committed (the periodic round would find them anyway)."""
    if not session.info.pop("outbox_kick", False):
        return
    try:
        if current_app.config.get("OUTBOX_KICK", True):
            queue_round()
    except Exception:  # noqa: BLE001 - the queue being down loses nothing: the next round delivers
        current_app.logger.warning("could not queue notice delivery", exc_info=True)


# Set while a delivery round is queued and gathering: the notices committed meanwhile go with it.
ROUND_QUEUED = "outbox-round-queued"


def _gather_seconds() -> float:
    return 0.0 if huey.immediate else float(current_app.config.get("NOTIFY_GATHER_SECONDS", 0.05))


def queue_round() -> None:
    """Queue a delivery round, unless one is queued and still gathering (NOTIFY_GATHER_SECONDS): then
    the notices just committed go with that one. Under load a round then claims, sends and records
    several notices at once instead of one (the claim and the record were most of a message's cost);
    each notice waits at most the gathering time for its round."""
    if _gather_seconds() <= 0 or huey.put_if_empty(ROUND_QUEUED, time.time()):
        deliver_notices()


def release_stale_round_flag(older_than: float = 60.0) -> bool:
    """Forget a round that was queued but never ran (its worker killed while it gathered), so that the
    commits queue rounds again; the worker's maintenance round calls this after delivering what is due."""
    queued_at = huey.get(ROUND_QUEUED, peek=True)
    if queued_at is not None and time.time() - float(queued_at) > older_than:
        huey.delete(ROUND_QUEUED)
        return True
    return False


@event.listens_for(Session, "after_rollback")
def _no_kick_after_rollback(session):
    session.info.pop("outbox_kick", None)


# --- Channels --------------------------------------------------------------------------------


class DeliveryError(Exception):
    """A channel could not deliver now (retried later)."""


class Mailer:
    """SMTP from MAIL_URL: smtp://user:pass@host:587 (STARTTLS when the server offers it), smtps://host:465 (TLS)."""

    def __init__(self, url: str, sender: str, timeout: float = 20):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise RuntimeError("MAIL_URL must start with smtp:// or smtps://")
        self.tls = parts.scheme == "smtps"
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or (465 if self.tls else 587)
        self.username = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        self.sender, self.timeout = sender, timeout
        self.connection: Optional[smtplib.SMTP] = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.tls:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            connection.ehlo()
            if connection.has_extn("starttls"):
                connection.starttls(context=context)
                connection.ehlo()
        if self.username:
            connection.login(self.username, self.password)
        return connection

    def send(self, to: str, subject: str, text: str, html: str,
             attachment: Optional[tuple[str, bytes]] = None, unsubscribe_url: str = "") -> None:
        """`attachment`: (file name, PDF bytes). `unsubscribe_url`: a subscription's one-click
        unsubscribe address, sent as List-Unsubscribe with List-Unsubscribe-Post (RFC 2369, RFC 8058)."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        if unsubscribe_url:
            message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        if attachment is not None:
            message.add_attachment(attachment[1], maintype="application", subtype="pdf", filename=attachment[0])
        try:
            if self.connection is None:
                self.connection = self._connect()
            self.connection.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise DeliveryError(type(error).__name__) from error

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.connection = None


class SmsAdapter(Protocol):
    def send(self, phone: str, text: str) -> None: ...

    def close(self) -> None: ...


class JsonHttpSms:
    """The generic gateway: POST {"to", "text", "id"} as JSON to SMS_URL; any 2xx is accepted.

    A password in the URL (https://:TOKEN@gateway/send) goes as a bearer token, not in the body.
    Sent with urllib3 on a kept-alive connection. The environment's proxy and CA settings
    (HTTPS_PROXY, NO_PROXY, REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE) are read once, when the
    client is made: reading them for every message was a scan of os.environ that cost the worker
    more than the rest of sending it.
    """

    def __init__(self, url: str, timeout: float = 10):
        parts = urlsplit(url)
        self.token = unquote(parts.password or parts.username or "")
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.url = parts._replace(netloc=netloc).geturl()
        proxies = getproxies_environment()
        self.proxy = None if proxy_bypass(netloc) else (
            proxies.get(parts.scheme) or proxies.get("all") or None)
        options: dict = {"timeout": urllib3.Timeout(total=timeout), "retries": False, "maxsize": 2}
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if parts.scheme == "https" and bundle:
            options["ca_certs"] = bundle  # else the system's store
        self.pool = urllib3.ProxyManager(self.proxy, **options) if self.proxy else urllib3.PoolManager(**options)
        self.headers = {"Content-Type": "application/json", **(
            {"Authorization": f"Bearer {self.token}"} if self.token else {})}

    def send(self, phone: str, text: str) -> None:
        body = json.dumps({"to": phone, "text": text, "id": uuid.uuid4().hex}).encode("ascii")
        try:
            response = self.pool.request("POST", self.url, body=body, headers=self.headers)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise DeliveryError(type(error).__name__) from error
        if not 200 <= response.status < 300:
            raise DeliveryError(f"HTTP {response.status}")

    def close(self) -> None:
        self.pool.clear()


SMS_ADAPTERS = {"http": JsonHttpSms, "https": JsonHttpSms}


# The environment's settings JsonHttpSms reads (proxies, CA file): an adapter is made again when they change.
_CLIENT_ENVIRONMENT = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                       "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
_adapters = threading.local()


def sms_adapter(url: str) -> SmsAdapter:
    """The SMS gateway's client for `url`, kept per thread: its kept-alive connection and the
    environment's proxy settings serve every delivery round of the worker's thread (a new client per
    round was a new connection and a new scan of the environment for each message of a quiet queue)."""
    scheme = urlsplit(url).scheme
    if scheme not in SMS_ADAPTERS:
        raise RuntimeError(f"SMS_URL: no adapter for {scheme}://")
    key = (url, tuple(os.environ.get(name) for name in _CLIENT_ENVIRONMENT))
    kept = getattr(_adapters, "sms", None)
    if kept is not None and kept[0] == key:
        return kept[1]
    if kept is not None:
        kept[1].close()
    adapter = SMS_ADAPTERS[scheme](url)
    _adapters.sms = (key, adapter)
    return adapter


# --- Rendering -------------------------------------------------------------------------------


NOTICE_PARTS = ("subject", "text", "html", "unsubscribe")


def render_notice(template: str, params: dict, locale: str, parts: tuple[str, ...] = NOTICE_PARTS) -> dict:
    """Subject, text and HTML of a notice in `locale`, from the blocks of
    templates/notifications/messages/<template>.j2 (links point to PUBLIC_BASE_URL); "unsubscribe":
    the one-click unsubscribe address of a subscription's notice (empty for the others). `parts`: only
    these (an SMS is its subject alone)."""
    base = current_app.config.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    name = f"notifications/messages/{template}.j2"
    with current_app.test_request_context(base_url=base), force_locale(locale):
        # One template, rendered once per part (the base template shows the block `part` names).
        rendered = {part: render_template(name, p=params, part=part).strip() for part in parts}
    if "subject" in rendered:
        rendered["subject"] = " ".join(rendered["subject"].split())
    return rendered


# --- Delivery --------------------------------------------------------------------------------


@huey.task(name="deliver_notices")
@in_app_context
def deliver_notices() -> None:
    gather = _gather_seconds()
    if gather > 0:
        time.sleep(gather)  # the notices committed meanwhile come along (queue_round did not queue them a round)
        huey.delete(ROUND_QUEUED)  # from here on, a commit queues the next round: nothing is left waiting
    deliver_due()


def _retry_delay(attempts: int) -> timedelta:
    base = float(current_app.config.get("NOTIFY_RETRY_SECONDS", 30))
    most = float(current_app.config.get("NOTIFY_RETRY_MAX_SECONDS", 3600))
    return timedelta(seconds=min(most, base * 2 ** max(0, attempts - 1)))


# What a delivery round reads of each notice it claims.
_CLAIMED_COLUMNS = ("id", "user_id", "channel", "template", "params", "attempts", "digest_id", "address", "locale",
                    "attachment_key", "attachment_name")


@functools.cache
def _claim_statement(postgresql: bool, size: int) -> sa.Update:
    """Claim the due notices and return what delivering them needs, in one statement (built once per
    process, with bound parameters: the round's most frequent statement).

    Due: pending and its time has come, or claimed by a worker whose lease ran out (a worker that
    died while sending leaves its claim behind: after the lease it is sent again; at least once,
    never zero times). On PostgreSQL, rows another worker is claiming are skipped, not waited for."""
    table = Notice.__table__
    now = sa.bindparam("now", type_=table.c.next_attempt_at.type)
    due = sa.or_(sa.and_(table.c.status == "pending", table.c.next_attempt_at <= now),
                 sa.and_(table.c.status == "sending", table.c.next_attempt_at < now))
    chosen = sa.select(table.c.id).where(due).order_by(table.c.next_attempt_at, table.c.id).limit(size)
    if postgresql:
        chosen = chosen.with_for_update(skip_locked=True)
    return (sa.update(table).where(table.c.id.in_(chosen.scalar_subquery()))
            .values(status="sending", attempts=table.c.attempts + 1,
                    next_attempt_at=sa.bindparam("until", type_=table.c.next_attempt_at.type))
            .returning(*(table.c[name] for name in _CLAIMED_COLUMNS)))


def _claim_batch(now: datetime, size: int) -> list:
    """The due notices, claimed for this worker's lease (NOTIFY_LEASE_SECONDS), oldest first."""
    lease = timedelta(seconds=float(current_app.config.get("NOTIFY_LEASE_SECONDS", 120)))
    with write_transaction():
        rows = db.session.execute(_claim_statement(is_postgresql(), size), {"now": now, "until": now + lease}).all()
    return sorted(rows, key=lambda row: row.id)


def deliver_due(now: Optional[datetime] = None, batch: int = 200) -> dict:
    """Deliver every notice that is due; returns counts {"sent", "retry", "failed"}."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    mailer: Optional[Mailer] = None
    sms: Optional[SmsAdapter] = None
    # Sent notices are recorded a few at a time: one short write instead of one per message (a crash
    # in between sends those few again: at least once, never lost).
    sent: list[int] = []
    try:
        while True:
            moment = now or utcnow()
            rows = _claim_batch(moment, batch)
            if not rows:
                return counts
            staff = {row.user_id for row in rows if row.user_id is not None}
            users = _recipients(staff) if staff else {}
            db.session.rollback()
            for row in rows:
                user = users.get(row.user_id) if row.user_id is not None else _citizen(row)
                try:
                    if user is None or not user["active"]:
                        _finish(row.id, "skipped", "inactive account")
                        continue
                    content = _content(row, user["locale"])
                    if row.channel == "email":
                        mailer = mailer or Mailer(_setting("MAIL_URL"), current_app.config["MAIL_FROM"])
                        mailer.send(user["email"], content["subject"], content["text"], content["html"],
                                    attachment=_attachment(row), unsubscribe_url=content.get("unsubscribe", ""))
                    else:
                        sms = sms or sms_adapter(_setting("SMS_URL"))
                        sms.send(user["phone"], content["subject"])
                    sent.append(row.id)
                    counts["sent"] += 1
                    if len(sent) >= SENT_WRITE_EVERY:
                        _record_sent(sent)
                except DeliveryError as error:
                    if row.attempts >= int(current_app.config.get("NOTIFY_MAX_ATTEMPTS", 12)):
                        _finish(row.id, "failed", str(error))
                        counts["failed"] += 1
                    else:
                        _retry(row.id, str(error), moment + _retry_delay(row.attempts))
                        counts["retry"] += 1
                except Exception as error:  # noqa: BLE001 - a broken template or setting: record and go on
                    current_app.logger.exception("notice %s could not be delivered", row.id)
                    _retry(row.id, type(error).__name__, moment + _retry_delay(row.attempts))
                    counts["retry"] += 1
            _record_sent(sent)
            if len(rows) < batch:
                # Fewer were due than a batch holds: nothing else is due now (a notice committed since
                # has queued a round of its own), so no second claim to find that out.
                return counts
    finally:
        _record_sent(sent)
        if mailer is not None:
            mailer.close()


SENT_WRITE_EVERY = 25


def _record_sent(ids: list[int]) -> None:
    if not ids:
        return
    table = Notice.__table__
    with separate_write() as connection:
        connection.execute(sa.update(table).where(table.c.id.in_(ids)).values(status="sent", result="",
                                                                               sent_at=utcnow()))
    ids.clear()


def _setting(name: str) -> str:
    value = current_app.config.get(name)
    if not value:
        raise DeliveryError(f"{name} not set")
    return value


def _recipients(user_ids: set) -> dict:
    users = sa.table("users", sa.column("id"), sa.column("email"), sa.column("locale"), sa.column("is_active"))
    found = {}
    for user_id, email, locale, active in db.session.execute(
            sa.select(users.c.id, users.c.email, users.c.locale, users.c.is_active).where(users.c.id.in_(user_ids))):
        found[user_id] = {"email": email, "locale": locale or current_app.config["BABEL_DEFAULT_LOCALE"],
                          "active": active, "phone": preferences(user_id)["phone"]}
    return found


def _citizen(row) -> dict:
    """A notice to a citizen's address: the same shape as _recipients' users."""
    return {"email": row.address, "phone": row.address, "active": True,
            "locale": row.locale or current_app.config["BABEL_DEFAULT_LOCALE"]}


def _attachment(row) -> Optional[tuple[str, bytes]]:
    if not row.attachment_key:
        return None
    data = storage.get(row.attachment_key)
    db.session.rollback()
    if data is None:
        raise DeliveryError("attachment missing")
    return (row.attachment_name or "document.pdf", data)


def _content(row, locale: str) -> dict:
    if row.channel == "sms" and row.template != "digest":
        return render_notice(row.template, row.params or {}, locale, parts=("subject",))  # the SMS's text
    if row.template == "digest":
        items = db.session.execute(sa.select(Notice.template, Notice.params).where(
            Notice.digest_id == row.id).order_by(Notice.id)).all()
        db.session.rollback()
        parts = [render_notice(template, params, locale) for template, params in items]
        return render_notice("digest", {"items": parts, "count": len(parts)}, locale)
    return render_notice(row.template, row.params or {}, locale)


def _finish(notice_id: int, status: str, result: str) -> None:
    table = Notice.__table__
    with separate_write() as connection:
        connection.execute(sa.update(table).where(table.c.id == notice_id).values(
            status=status, result=result[:200], sent_at=utcnow() if status == "sent" else None))


def _retry(notice_id: int, result: str, when: datetime) -> None:
    table = Notice.__table__
    with separate_write() as connection:
        connection.execute(sa.update(table).where(table.c.id == notice_id).values(
            status="pending", result=result[:200], next_attempt_at=when))


def send_digests(now: Optional[datetime] = None) -> int:
    """Gather each user's held notices into one e-mail digest (queued like any notice); returns how many."""
    now = now or utcnow()
    held = db.session.execute(sa.select(Notice.user_id, Notice.id).where(Notice.status == "held")
                              .order_by(Notice.user_id, Notice.id)).all()
    db.session.rollback()
    by_user: dict[int, list[int]] = {}
    for user_id, notice_id in held:
        by_user.setdefault(user_id, []).append(notice_id)
    for user_id, ids in by_user.items():
        with write_transaction():
            digest = Notice(user_id=user_id, channel="email", template="digest", params={"count": len(ids)},
                            status="pending", attempts=0, next_attempt_at=now, created_at=now)
            db.session.add(digest)
            db.session.flush()
            # Those held notices are now part of the digest; their own row records it.
            db.session.execute(sa.update(Notice).where(Notice.id.in_(ids), Notice.status == "held")
                               .values(status="sent", sent_at=now, digest_id=digest.id, result="digest"))
            db.session.info["outbox_kick"] = True
    return len(by_user)


def unread_count(user_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notice).where(
        Notice.user_id == user_id, Notice.channel == "inapp", Notice.read_at.is_(None))) or 0
