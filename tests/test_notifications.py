"""The outbox against real servers on loopback: an aiosmtpd SMTP server, an HTTP SMS gateway stand-in, Redis.

Notices commit with the change that causes them, are delivered with retries while a server is down,
and nothing is sent for a change that rolled back. Scheduled duties run with the clock set.
"""
import datetime as dt
import re
import time

import pytest
import sqlalchemy as sa

from appeals.core import outbox
from appeals.core.database import write_transaction
from appeals.core.outbox import Notice, NotificationPreference
from appeals.notifications import duties
from appeals.register.models import Appeal
from tests.servers import SmtpServer, _free_port


def _staff(users, db, **emails):
    with write_transaction():
        for name, address in emails.items():
            user = getattr(users, name)
            merged = db.session.merge(user)
            merged.email, merged.locale = address, "en"
    db.session.expire_all()


def _notices(db, **where):
    db.session.rollback()
    db.session.expire_all()  # what the rows hold now, not what this session last loaded
    query = sa.select(Notice).order_by(Notice.id)
    for key, value in where.items():
        query = query.where(getattr(Notice, key) == value)
    return db.session.scalars(query).all()


def test_a_notice_commits_with_its_change_and_arrives_as_multipart_mail_in_the_users_language(db, users, smtp):
    _staff(users, db, clerk="clerk@example.kz")
    with write_transaction():
        db.session.merge(users.clerk).locale = "ru"
        outbox.notify(users.clerk, "appeal_assigned", {"appeal_id": 7, "number": "KRD-2026-00007",
                                                        "due_date": "2026-03-23"})

    assert outbox.deliver_due() == {"sent": 1, "retry": 0, "failed": 0}

    (recipients, message), = smtp.inbox.wait_for(1)
    assert recipients == ["clerk@example.kz"] and message["From"] == "qabyldau@example.kz"
    assert message["Subject"] == "Вам назначено обращение KRD-2026-00007"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "23.03.2026" in text and "http://127.0.0.1:5000/appeals/7" in text
    assert '<a href="http://127.0.0.1:5000/appeals/7">' in html
    email_notice, inapp = _notices(db)
    assert (email_notice.channel, email_notice.status, email_notice.attempts) == ("email", "sent", 1)
    assert email_notice.sent_at is not None
    assert (inapp.channel, inapp.status, inapp.read_at) == ("inapp", "sent", None)


def test_a_change_that_rolled_back_sends_nothing(db, users, smtp):
    _staff(users, db, clerk="clerk@example.kz")
    with pytest.raises(RuntimeError), write_transaction():
        outbox.notify(users.clerk, "appeal_assigned", {"appeal_id": 7, "number": "KRD-2026-00007",
                                                        "due_date": "2026-03-23"})
        db.session.flush()
        raise RuntimeError("the change failed after the notice was written")

    assert outbox.deliver_due()["sent"] == 0
    assert _notices(db) == []
    time.sleep(0.3)
    assert smtp.inbox.messages == []


def test_mail_server_down_for_a_while_the_notices_arrive_once_it_returns(app, db, users, monkeypatch):
    port = _free_port()
    monkeypatch.setitem(app.config, "MAIL_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_SECONDS", 60)
    _staff(users, db, clerk="clerk@example.kz", coordinator="coord@example.kz")
    with write_transaction():
        for user in (users.clerk, users.coordinator):
            outbox.notify(user, "appeal_assigned", {"appeal_id": 1, "number": "KRD-2026-00001",
                                                     "due_date": "2026-03-23"}, channels=("email",))
    start = outbox.utcnow()

    assert outbox.deliver_due(now=start) == {"sent": 0, "retry": 2, "failed": 0}
    waiting = _notices(db)
    assert {(n.status, n.attempts, n.result) for n in waiting} == {("pending", 1, "ConnectionRefusedError")}
    assert all(n.next_attempt_at == start + dt.timedelta(seconds=60) for n in waiting)
    # Still down a minute later: the next delay doubles.
    assert outbox.deliver_due(now=start + dt.timedelta(seconds=61))["retry"] == 2
    assert {n.next_attempt_at for n in _notices(db)} == {start + dt.timedelta(seconds=61 + 120)}

    server = SmtpServer(port).start()
    try:
        assert outbox.deliver_due(now=start + dt.timedelta(seconds=100))["sent"] == 0, "not due yet"
        assert outbox.deliver_due(now=start + dt.timedelta(seconds=200)) == {"sent": 2, "retry": 0, "failed": 0}
        messages = server.inbox.wait_for(2)
    finally:
        server.stop()
    assert sorted(recipients[0] for recipients, _message in messages) == ["clerk@example.kz", "coord@example.kz"]
    assert {(n.status, n.attempts) for n in _notices(db)} == {("sent", 3)}
    assert outbox.deliver_due(now=start + dt.timedelta(seconds=900))["sent"] == 0, "sent once"


def test_sms_through_the_json_gateway_with_a_retry_after_its_error(app, db, users, sms_gateway, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_SECONDS", 1)
    with write_transaction():
        db.session.add(NotificationPreference(user_id=users.host.id, email=False, sms=True, inapp=False,
                                              phone="+77011234567"))
        outbox.notify(users.host, "session_cancelled", {"session_id": 3, "date": "2026-03-12", "start": "10:00",
                                                         "end": "12:00", "office_id": 1})
    sms_gateway.answers = [503]
    start = outbox.utcnow()

    assert outbox.deliver_due(now=start)["retry"] == 1
    assert _notices(db)[0].result == "HTTP 503"
    assert outbox.deliver_due(now=start + dt.timedelta(seconds=2))["sent"] == 1

    (first_status, _auth, _body), (status, authorization, body) = sms_gateway.received
    assert (first_status, status, authorization) == (503, 200, "Bearer gateway-token")
    assert body["to"] == "+77011234567" and "12.03.2026" in body["text"] and "10:00" in body["text"]
    notice, = _notices(db)
    assert (notice.channel, notice.status, notice.attempts) == ("sms", "sent", 2)


def test_the_sms_client_keeps_its_connection_from_one_delivery_round_to_the_next(app, db, sms_gateway):
    """Each committed notice queues a round of its own; the rounds of a worker's thread share one client
    and its kept-alive connection (a new connection per message was most of a quiet queue's cost)."""
    for number in ("KRD-2026-00001", "KRD-2026-00002", "KRD-2026-00003"):
        with write_transaction():
            outbox.notify_address("sms", "+77011234567", "online_appeal_received",
                                  {"number": number, "link": "http://x/t/a", "due_date": "2026-12-20",
                                   "office": "Қордай"}, locale="kk")
        assert outbox.deliver_due()["sent"] == 1
    assert [re.search(r"KRD-2026-\d+", body["text"]).group() for _status, _auth, body in sms_gateway.received] == [
        "KRD-2026-00001", "KRD-2026-00002", "KRD-2026-00003"]
    assert len(sms_gateway.connections) == 1, "one connection for the three rounds"


def test_a_notice_a_dead_worker_had_claimed_is_sent_once_its_lease_runs_out(app, db, sms_gateway):
    """At least once, never zero times: a claim left behind by a worker that died while sending is
    taken again after NOTIFY_LEASE_SECONDS, and not before."""
    with write_transaction():
        notice = outbox.notify_address("sms", "+77011234567", "verification_code", {"code": "123456"}, locale="kk")
    start = outbox.utcnow()
    claimed = outbox._claim_batch(start, 10)  # the worker that dies after claiming
    assert [row.id for row in claimed] == [notice.id] and _notices(db)[0].status == "sending"
    lease = float(app.config.get("NOTIFY_LEASE_SECONDS", 120))

    assert outbox.deliver_due(now=start + dt.timedelta(seconds=lease - 1))["sent"] == 0, "still another's claim"
    assert outbox.deliver_due(now=start + dt.timedelta(seconds=lease + 1))["sent"] == 1
    sent, = _notices(db)
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert [body["text"] for _status, _auth, body in sms_gateway.received] and len(sms_gateway.received) == 1


def test_sms_goes_through_the_proxy_the_environment_names(app, db, users, sms_gateway, monkeypatch):
    """HTTP_PROXY / NO_PROXY are honoured (read once per delivery round, not per message): a gateway only
    reachable through the proxy gets the message, here the stand-in acting as the proxy."""
    from appeals.core.outbox import JsonHttpSms

    proxy = f"http://127.0.0.1:{sms_gateway.server_port}"
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setitem(app.config, "SMS_URL", "http://:gateway-token@sms-gateway.invalid/send")
    with write_transaction():
        outbox.notify_address("sms", "+77011234567", "online_appeal_received",
                              {"number": "KRD-2026-00001", "link": "http://x/t/a", "due_date": "2026-12-20",
                               "office": "Қордай"}, locale="kk")
    assert outbox.deliver_due()["sent"] == 1
    (_status, authorization, body), = sms_gateway.received
    assert authorization == "Bearer gateway-token" and body["to"] == "+77011234567" and "KRD-2026-00001" in body["text"]
    monkeypatch.setenv("NO_PROXY", "sms-gateway.invalid")
    assert JsonHttpSms("http://sms-gateway.invalid/send").proxy is None, "NO_PROXY is honoured too"


def test_digest_users_get_one_mail_a_day_with_everything_held(db, users, smtp):
    _staff(users, db, clerk="clerk@example.kz")
    with write_transaction():
        db.session.add(NotificationPreference(user_id=users.clerk.id, email=True, inapp=False, digest=True))
    for number in ("KRD-2026-00001", "KRD-2026-00002"):
        with write_transaction():
            outbox.notify(users.clerk, "appeal_assigned", {"appeal_id": 1, "number": number, "due_date": "2026-03-23"})

    assert outbox.deliver_due()["sent"] == 0
    assert {n.status for n in _notices(db)} == {"held"}
    assert outbox.send_digests() == 1
    assert outbox.deliver_due()["sent"] == 1

    (recipients, message), = smtp.inbox.wait_for(1)
    text = message.get_body(("plain",)).get_content()
    assert message["Subject"] == "Qabyldau: 2 notices of the day"
    assert "KRD-2026-00001" in text and "KRD-2026-00002" in text
    held = _notices(db, template="appeal_assigned")
    digest, = _notices(db, template="digest")
    assert {(n.status, n.digest_id) for n in held} == {("sent", digest.id)}


def test_the_bell_counts_unread_notices_and_the_inbox_lists_them(client, db, users, login):
    with write_transaction():
        outbox.notify(users.host, "session_approved", {"session_id": 3, "date": "2026-03-12", "start": "10:00",
                                                        "end": "12:00", "office_id": 1}, channels=("inapp",))
    login(users.host)

    home = client.get("/?lang=en").get_data(as_text=True)
    inbox = client.get("/notifications?lang=en").get_data(as_text=True)

    assert 'class="bell"' in home and ">1</span>" in home
    assert "Your reception on 12.03.2026, 10:00–12:00, is approved" in inbox
    client.post("/notifications", data={"action": "read"})
    assert outbox.unread_count(users.host.id) == 0
    assert ">1</span>" not in client.get("/?lang=en").get_data(as_text=True)


def test_preferences_are_validated_and_saved(client, db, users, login):
    login(users.clerk)

    refused = client.post("/notifications?lang=en", data={"sms": "1", "inapp": "1", "delivery": "immediate"})
    assert refused.status_code == 400
    assert "Enter a mobile number to get notices by SMS." in refused.get_data(as_text=True)
    assert db.session.get(NotificationPreference, users.clerk.id) is None

    saved = client.post("/notifications", data={"sms": "1", "phone": "+7 701 123 45 67", "delivery": "digest"})
    assert saved.status_code == 302
    assert outbox.preferences(users.clerk.id) == {"email": False, "sms": True, "inapp": False, "digest": True,
                                                  "phone": "+77011234567"}


def test_admins_see_the_record_of_notices_without_their_content(app, client, db, users, login):
    with write_transaction():
        outbox.notify(users.clerk, "appeal_assigned", {"appeal_id": 1, "number": "KRD-2026-00042",
                                                        "due_date": "2026-03-23"}, channels=("inapp",))
    login(users.admin)

    page = client.get("/admin/notices?lang=en")
    text = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "clerk" in text and "appeal_assigned" in text and "In the application" in text
    assert "KRD-2026-00042" not in text
    other = app.test_client()
    login(users.coordinator, test_client=other)
    assert other.get("/admin/notices").status_code == 403


def test_a_clerk_is_told_of_an_appeal_assigned_to_them_and_a_host_of_their_session(db, reference, users, hosts,
                                                                                   session_data):
    from appeals.register import workflow
    from appeals.schedules import sessions as schedule_sessions
    from tests.fixtures_reports import make_appeals

    appeal, = make_appeals(reference, 1, statuses=("registered",))
    workflow.transition(appeal, "in_review", users.coordinator, responsible_id=users.clerk.id)
    session = schedule_sessions.create_session(session_data(), users.clerk)
    schedule_sessions.approve_sessions([session.id], users.coordinator)
    schedule_sessions.update_session(session, session_data(start_time=dt.time(14, 0), end_time=dt.time(16, 0)),
                             users.coordinator)
    schedule_sessions.cancel_session(session, "Зал жөнделуде", users.coordinator)

    assigned, = _notices(db, user_id=users.clerk.id)
    assert (assigned.template, assigned.params["number"]) == ("appeal_assigned", appeal.number)
    told = [(n.template, n.params["start"]) for n in _notices(db, user_id=users.host.id)]
    assert told == [("session_approved", "10:00"), ("session_moved", "14:00"), ("session_cancelled", "14:00")]
    # Hosts without an account, and the clerk for the session, get nothing.
    assert len(_notices(db)) == 4


# --- Scheduled duties, with the clock set -------------------------------------------------------

# Wednesday 11 March 2026, a working day in Kazakhstan.
WEDNESDAY = dt.date(2026, 3, 11)


def _appeal(reference, users, number, due, responsible=None, status="in_review", received=None):
    received = received or dt.datetime(2026, 2, 20, 10, 0)
    appeal = Appeal(office_id=reference.kordai.id, number=number, year=2026, seq=int(number[-3:]),
                    received_at=received, channel="letter", applicant_kind="individual", applicant_name="Test",
                    settlement_id=reference.settlements[0].id, appeal_type="statement",
                    category_id=reference.categories[0].id, summary="Жол", status=status, due_date=due,
                    original_due_date=due, responsible_id=responsible.id if responsible else None,
                    created_by_id=users.clerk.id)
    return appeal


def test_reminders_and_escalations_arrive_at_nine_on_a_working_day(db, reference, users, smtp):
    _staff(users, db, clerk="clerk@example.kz", coordinator="coord@example.kz")
    with write_transaction():
        db.session.add_all([
            _appeal(reference, users, "KRD-2026-001", WEDNESDAY + dt.timedelta(days=1), users.clerk),  # due tomorrow
            _appeal(reference, users, "KRD-2026-002", WEDNESDAY + dt.timedelta(days=8), users.clerk),  # not yet
            _appeal(reference, users, "KRD-2026-003", WEDNESDAY - dt.timedelta(days=1), users.clerk),  # overdue today
            _appeal(reference, users, "KRD-2026-004", WEDNESDAY - dt.timedelta(days=6), users.clerk),  # long overdue
            _appeal(reference, users, "KRD-2026-005", WEDNESDAY + dt.timedelta(days=1), users.clerk,
                    status="answered"),
            # Received last Thursday, still only registered: its three working days to forward (Friday,
            # Tuesday, Wednesday: Monday 9 March is the holiday for 8 March) end today.
            _appeal(reference, users, "KRD-2026-006", WEDNESDAY + dt.timedelta(days=20), None, status="registered",
                    received=dt.datetime(2026, 3, 5, 11, 0)),
            # Received on Friday: its period ends tomorrow.
            _appeal(reference, users, "KRD-2026-007", WEDNESDAY + dt.timedelta(days=20), None, status="registered",
                    received=dt.datetime(2026, 3, 6, 11, 0)),
        ])

    assert duties.run_due_duties(now=dt.datetime.combine(WEDNESDAY, dt.time(8, 59))) == ["cleanup"]
    assert duties.run_due_duties(now=dt.datetime.combine(WEDNESDAY, dt.time(9, 0))) == ["morning"]
    assert duties.run_due_duties(now=dt.datetime.combine(WEDNESDAY, dt.time(9, 30))) == [], "once a day"
    assert outbox.deliver_due()["sent"] == 3

    messages = {message["Subject"]: (recipients, message) for recipients, message in smtp.inbox.wait_for(3)}
    reminder = messages["1 appeal of yours is due within two working days"]
    escalation = messages["1 appeal of office KRD became overdue"]
    forward = messages["1 appeal must be forwarded today"]
    assert reminder[0] == ["clerk@example.kz"] and escalation[0] == ["coord@example.kz"]
    assert "KRD-2026-001" in reminder[1].get_body(("plain",)).get_content()
    assert "12.03.2026" in reminder[1].get_body(("plain",)).get_content()
    escalated = escalation[1].get_body(("plain",)).get_content()
    assert "KRD-2026-003" in escalated and "KRD-2026-004" not in escalated
    forwarded = forward[1].get_body(("plain",)).get_content()
    assert forward[0] == ["clerk@example.kz"] and "KRD-2026-006" in forwarded and "KRD-2026-007" not in forwarded


def test_no_reminders_on_a_day_off(db, reference, users, smtp):
    _staff(users, db, clerk="clerk@example.kz")
    with write_transaction():
        db.session.add(_appeal(reference, users, "KRD-2026-001", WEDNESDAY + dt.timedelta(days=5), users.clerk))
    saturday = dt.datetime(2026, 3, 14, 9, 0)
    assert duties.run_due_duties(now=saturday) == ["cleanup"]
    assert _notices(db) == []


def test_cleanup_deletes_old_job_files_keys_and_throttle_rows(app, db, users):
    from appeals.auth.models import LoginThrottle
    from appeals.core.idempotency import IdempotencyKey
    from appeals.core.jobs import Job, JobResultData

    now = dt.datetime(2026, 3, 11, 0, 0)
    with write_transaction():
        old = Job(kind="journal_pdf", user_id=users.clerk.id, status="done", result_path="db", params={},
                  finished_at=now - dt.timedelta(hours=25))
        fresh = Job(kind="journal_pdf", user_id=users.clerk.id, status="done", result_path="db", params={},
                    finished_at=now - dt.timedelta(hours=1))
        db.session.add_all([old, fresh])
        db.session.flush()
        db.session.add_all([JobResultData(job_id=old.id, data=b"old"), JobResultData(job_id=fresh.id, data=b"new")])
        for key, age in (("old", 31), ("new", 29)):
            db.session.add(IdempotencyKey(user_id=users.clerk.id, key=key, method="POST", path="/api/v1/appeals",
                                          request_hash="a" * 64, response_status=201, response_body="{}",
                                          created_at=now - dt.timedelta(days=age)))
        db.session.add_all([
            LoginThrottle(key="user:old", failures=3, first_failure_at=now - dt.timedelta(days=40)),
            LoginThrottle(key="user:new", failures=3, first_failure_at=now - dt.timedelta(minutes=5)),
        ])

    counts = duties.cleanup(now)

    assert (counts["job_results"], counts["idempotency_keys"], counts["login_throttle"]) == (1, 1, 1)
    assert counts["sessions"] == 0
    db.session.rollback()
    assert db.session.scalars(sa.select(JobResultData.job_id)).all() == [fresh.id]
    assert db.session.scalars(sa.select(IdempotencyKey.key)).all() == ["new"]
    assert db.session.scalars(sa.select(LoginThrottle.key)).all() == ["user:new"]
