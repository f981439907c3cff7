"""export-data / import-data: every table, deterministic file, lossless round trip, all-or-nothing restore."""
import base64
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa

from appeals.core.extensions import db as _db


def _wipe():
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    _db.session.remove()
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(sa.text(f'DELETE FROM "{table}"'))


@pytest.fixture
def full_database(app_ctx, reference, users):
    """At least one row in every table, with awkward values: unicode, JSON, times, self-references."""
    from appeals.api import tokens
    from appeals.auth.models import LoginThrottle, TotpRecoveryCode, UserSession
    from appeals.core import audit
    from appeals.core.idempotency import IdempotencyKey
    from appeals.core.jobs import Job, JobResultData
    from appeals.core.numbering import NumberSequence
    from appeals.mandates.models import Directive, Mandate, MandateAppeal, MandateProgressNote
    from appeals.register.models import Appeal, AppealExtension, AppealSuspension, DeadlineRule
    from appeals.schedules.models import Host, ReceptionSession

    session = _db.session
    token, _secret = tokens.create_token(users.clerk, "field team")
    host = Host(full_name="Әбілқасымов Әли Қайратұлы", position="Кандидат", kind="candidate",
                office_id=reference.kordai.id, user_id=users.host.id, feed_token="feed-secret-1")
    reception = ReceptionSession(office_id=reference.kordai.id, date=dt.date(2026, 3, 2), start_time=dt.time(10, 0),
                                 end_time=dt.time(12, 30), room="№ 1", capacity=20, topic="Жолдар", status="held",
                                 visitors_count=7, approved_by_id=users.coordinator.id,
                                 approved_at=dt.datetime(2026, 2, 27, 9, 15, 3, 120000),
                                 created_by_id=users.clerk.id)
    reception.hosts = [host]
    session.add_all([host, reception])
    session.flush()
    first = Appeal(office_id=reference.kordai.id, number="KRD-2026-1", year=2026, seq=1,
                   received_at=dt.datetime(2026, 3, 2, 10, 20), channel="session", session_id=reception.id,
                   host_id=host.id, applicant_name="Сейітқали Гүлнұр", iin="900101300012", phone="+77011234567",
                   address="Қордай, Жібек жолы 5", settlement_id=reference.settlements[0].id,
                   appeal_type="proposal", category_id=reference.categories[0].id, summary="Жол жөндеу \"кезек\"",
                   text="Line one\nLine two\ttab", due_date=dt.date(2026, 3, 23), original_due_date=dt.date(2026, 3, 23),
                   created_by_id=users.clerk.id)
    session.add(first)
    session.flush()
    repeat = Appeal(office_id=reference.kordai.id, number="KRD-2026-2", year=2026, seq=2,
                    received_at=dt.datetime(2026, 3, 3, 9, 0), channel="phone", applicant_kind="collective",
                    signatories=12, appeal_type="complaint", summary="Су", status="answered",
                    due_date=dt.date(2026, 4, 20), original_due_date=dt.date(2026, 3, 24),
                    answered_at=dt.date(2026, 3, 20), answer_text="Жауап", repeat_of_id=first.id, language="ru")
    session.add(repeat)
    session.flush()
    session.add(AppealExtension(appeal_id=repeat.id, old_due_date=dt.date(2026, 3, 24),
                                new_due_date=dt.date(2026, 4, 20), reason="Сараптама", user_id=users.clerk.id,
                                created_at=dt.datetime(2026, 3, 10, 8, 0)))
    session.add(AppealSuspension(appeal_id=repeat.id, started_on=dt.date(2026, 3, 5), reason="Құжаттар күтілуде",
                                 started_by_id=users.clerk.id, resumed_on=dt.date(2026, 3, 9), resumed_by_id=users.clerk.id,
                                 paused_days=2, due_before=dt.date(2026, 3, 20), due_after=dt.date(2026, 3, 24),
                                 created_at=dt.datetime(2026, 3, 5, 4, 0)))
    # The migration's rows may be there already (the first test of a run): merged, not added twice.
    session.merge(DeadlineRule(appeal_type="complaint", working_days=25, updated_at=dt.datetime(2026, 3, 1, 5, 0),
                               updated_by_id=users.admin.id))
    directive = Directive(issuer="Орталық аппарат", number="12-А", issued_on=dt.date(2026, 2, 1), title="Аманат",
                          appeal_types=["proposal", "statement"], category_ids=[reference.categories[0].id],
                          settlement_ids=[], keywords="жол, су", min_signatories=None,
                          received_from=dt.date(2026, 2, 1), received_to=dt.date(2026, 12, 31), target_count=365)
    session.add(directive)
    session.flush()
    mandate = Mandate(directive_id=directive.id, number="A-1", seq=1, title="Жол жөндеу", office_id=reference.kordai.id,
                      settlement_id=reference.settlements[0].id, category_id=reference.categories[0].id,
                      status="in_progress", progress_percent=40, target_date=dt.date(2026, 10, 1))
    session.add(mandate)
    session.flush()
    session.add_all([
        MandateAppeal(mandate_id=mandate.id, directive_id=directive.id, appeal_id=first.id,
                      added_by_id=users.coordinator.id, added_at=dt.datetime(2026, 3, 5, 12, 0)),
        MandateProgressNote(mandate_id=mandate.id, noted_on=dt.date(2026, 4, 1), note="Смета дайын",
                            progress_percent=40, user_id=users.coordinator.id, created_at=dt.datetime(2026, 4, 1, 6, 0)),
        NumberSequence(scope="appeal:KRD", year=2026, last_value=2),
        NumberSequence(scope="Mandate:A", year=2026, last_value=1),
        LoginThrottle(key="user:zeta", failures=2, first_failure_at=dt.datetime(2026, 3, 1, 1, 2, 3)),
        LoginThrottle(key="addr:127.0.0.1", failures=1, first_failure_at=dt.datetime(2026, 3, 1, 1, 2, 4)),
        UserSession(user_id=users.clerk.id, secret_hash="a" * 64, created_at=dt.datetime(2026, 3, 1, 8, 0),
                    last_seen_at=dt.datetime(2026, 3, 1, 8, 5, 1), ip_address="203.0.113.5", user_agent="Firefox «ә»"),
        TotpRecoveryCode(user_id=users.admin.id, code_hash="b" * 64, created_at=dt.datetime(2026, 3, 1, 8, 0)),
        IdempotencyKey(user_id=users.clerk.id, key="retry-1", method="POST", path="/api/v1/appeals",
                       request_hash="a" * 64, response_status=201, response_body='{"id":1}',
                       created_at=dt.datetime(2026, 3, 2, 10, 21)),
        Job(kind="journal_pdf", user_id=users.clerk.id, params={"office": "KRD", "nested": {"b": 1, "a": [1, 2]}},
            status="done", progress=10, total=10, result_path="db", result_name="journal.pdf"),
    ])
    session.flush()
    session.add(JobResultData(job_id=session.scalar(sa.select(Job.id)), data=b"%PDF-1.7\x00\xff binary"))
    from appeals.core.outbox import Notice, NotificationPreference
    from appeals.notifications.duties import DutyRun

    session.add_all([
        Notice(user_id=users.clerk.id, channel="email", template="appeal_assigned", status="sent", attempts=2,
               params={"number": "KRD-2026-1", "due_date": "2026-03-23"}, created_at=dt.datetime(2026, 3, 2, 10, 22),
               next_attempt_at=dt.datetime(2026, 3, 2, 10, 23), sent_at=dt.datetime(2026, 3, 2, 10, 23),
               result="SMTPServerDisconnected"),
        NotificationPreference(user_id=users.clerk.id, email=True, sms=True, inapp=False, digest=True,
                               phone="+77011234567"),
        DutyRun(duty="morning", day=dt.date(2026, 3, 2), ran_at=dt.datetime(2026, 3, 2, 4, 0)),
    ])
    from appeals.core import storage
    from appeals.register.models import AppealAttachment

    letter = storage.put(b"%PDF-1.7\x00\xff a scanned letter", "application/pdf", created_at=dt.datetime(2026, 3, 2, 10, 25))
    from appeals.register.models import OnlineSubmission

    session.add(OnlineSubmission(public_id="pending-«ә»", state="pending", data={"summary": "Жол", "phone": "+77011234567"},
                                 files=[{"key": "ab" * 20, "name": "фото.jpg"}], code_channel="sms", locale="kk",
                                 created_at=dt.datetime(2026, 3, 2, 10, 0), expires_at=dt.datetime(2026, 3, 2, 12, 0)))
    session.add(AppealAttachment(appeal_id=first.id, file_key=letter, kind="appeal", source="citizen",
                                 name="Хат «ә».pdf", content_type="application/pdf", size=27, pages=1,
                                 added_at=dt.datetime(2026, 3, 2, 10, 25)))
    photo_key = storage.put(bytes(range(256)) * 50, "image/png", created_at=dt.datetime(2026, 3, 2, 10, 26))
    from appeals.core.ratelimit import RateWindow
    from appeals.core.verification import VerificationCode
    from appeals.mandates.models import MandateSubscription, MandateUpdatePhoto
    from appeals.register.models import AnswerLetter, LetterTemplate
    from appeals.schedules.models import Booking

    note = session.scalar(sa.select(MandateProgressNote))
    session.add_all([
        MandateUpdatePhoto(note_id=note.id, file_key=photo_key, content_type="image/png", width=16, height=16),
        MandateSubscription(email="citizen@example.kz", locale="ru", mandate_id=mandate.id,
                            created_at=dt.datetime(2026, 4, 1, 7, 0), confirmed_at=dt.datetime(2026, 4, 1, 7, 5)),
        Booking(session_id=reception.id, slot_start=dt.time(10, 30), name="Сейітқали Гүлнұр", phone="+77011234567",
                topic="Жол «жөндеу»", status="arrived", locale="kk", created_at=dt.datetime(2026, 2, 28, 5, 0),
                confirmed_at=dt.datetime(2026, 2, 28, 5, 2), reminded_at=dt.datetime(2026, 3, 1, 5, 0),
                marked_by_id=users.clerk.id, appeal_id=first.id),
        RateWindow(scope="booking", key_hash="d" * 64, window_start=dt.datetime(2026, 2, 28, 5, 0), window_seconds=3600,
                   count=2),
        AnswerLetter(appeal_id=repeat.id, locale="kk", status="pending", delivery="post",
                     created_at=dt.datetime(2026, 3, 20, 6, 0), created_by_id=users.clerk.id),
        LetterTemplate(appeal_type="complaint", locale="ru", opening="Уважаемый(ая) {name}!", closing="С уважением.",
                       updated_at=dt.datetime(2026, 3, 1, 6, 0), updated_by_id=users.admin.id),
        VerificationCode(purpose="booking", subject="booking:1", code_hash="c" * 64, attempts=1,
                         created_at=dt.datetime(2026, 2, 28, 5, 0), expires_at=dt.datetime(2026, 2, 28, 5, 10),
                         used_at=dt.datetime(2026, 2, 28, 5, 2)),
        Notice(user_id=None, address="+77011234567", locale="ru", channel="sms", template="booking_reminder",
               status="sent", attempts=1, params={"booking_id": 1, "time": "10:30"},
               created_at=dt.datetime(2026, 3, 1, 5, 0), next_attempt_at=dt.datetime(2026, 3, 1, 5, 0)),
    ])
    from appeals.reports.chain import MandateReport

    approved = MandateReport(office_id=first.office_id, period_start=dt.date(2026, 2, 1), period_end=dt.date(2026, 2, 28),
                             status="approved", figures={"registered": 1, "«ә»": [1, 2]}, items=[{"number": "M-1"}],
                             changes=[], submitted_by_id=users.coordinator.id,
                             submitted_at=dt.datetime(2026, 3, 1, 6, 0), reviewed_by_id=users.coordinator.id,
                             reviewed_at=dt.datetime(2026, 3, 2, 6, 0), comment="Жарайды")
    session.add(approved)
    session.flush()
    session.add(MandateReport(office_id=first.office_id, period_start=dt.date(2026, 3, 1), period_end=dt.date(2026, 3, 31),
                              status="submitted", figures={"registered": 2}, items=[], changes=[{"number": "M-1"}],
                              previous_id=approved.id, submitted_by_id=users.coordinator.id,
                              submitted_at=dt.datetime(2026, 4, 1, 6, 0)))
    audit.record("appeal_created", first, changes={"summary": [None, first.summary]}, user=users.clerk)
    session.commit()
    return users


def _export(**kwargs):
    from appeals.maintenance import backup

    stream = io.StringIO()
    backup.export_data(stream, **kwargs)
    return stream.getvalue()


def _import(text):
    from appeals.maintenance import backup

    return backup.import_data(io.StringIO(text))


def test_export_covers_every_table_with_versioned_header(full_database):
    text = _export(include_credentials=True)
    lines = text.splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "qabyldau-export" and header["version"] == 1 and header["credentials"] is True
    derived = [t.name for t in _db.metadata.sorted_tables if t.info.get("derived")]
    assert "appeal_counts" in derived
    assert [entry["name"] for entry in header["tables"]] == [t.name for t in _db.metadata.sorted_tables
                                                               if t.name not in derived]
    empty = [entry["name"] for entry in header["tables"] if entry["rows"] == 0]
    assert empty == [], "the fixture must fill every table so that the round trip covers it"


def _derived_rows():
    return {t.name: sorted(tuple(row) for row in _db.session.execute(sa.select(t)).all())
            for t in _db.metadata.sorted_tables if t.info.get("derived")}


def test_round_trip_is_byte_identical(full_database):
    for credentials in (True, False):
        first = _export(include_credentials=credentials)
        derived = _derived_rows()
        assert derived["appeal_counts"]
        _wipe()
        counts = _import(first)
        # Tables derived from others (the appeal counts) are not in the file: the restore rebuilds them.
        assert _derived_rows() == derived
        assert sum(counts.values()) == len(first.splitlines()) - 1 - len(counts)
        second = _export(include_credentials=credentials)
        assert second == first
        if not credentials:
            break
        _wipe()
        _import(first)


def test_kept_files_in_a_folder_travel_in_the_backup_byte_for_byte(app, app_ctx, reference, monkeypatch, tmp_path):
    from appeals.core import storage
    from appeals.core.database import write_transaction

    monkeypatch.setitem(app.config, "RESULT_STORE", str(tmp_path / "one"))
    photo = bytes(range(256)) * 4000
    with write_transaction():
        key = storage.put(photo, "image/jpeg")
    first = _export()
    assert storage.info(key).location == "folder"
    _wipe()
    # Restored on another machine with another folder: the bytes come from the file, not the old folder.
    monkeypatch.setitem(app.config, "RESULT_STORE", str(tmp_path / "two"))
    _import(first)
    assert storage.get(key) == photo and (tmp_path / "two" / "files" / key[:2] / key).read_bytes() == photo
    assert _export() == first


def test_a_kept_file_that_does_not_match_its_digest_restores_nothing(full_database):
    from appeals.core import storage

    text = _export()
    lines = text.splitlines()
    position = next(i for i, line in enumerate(lines) if '"table":"stored_files"' in line) + 1
    row = json.loads(lines[position])
    row[json.loads(lines[position - 1])["columns"].index("data")] = base64.b64encode(b"swapped").decode()
    lines[position] = json.dumps(row, ensure_ascii=False)
    _wipe()
    with pytest.raises(Exception, match="digest"):
        _import("\n".join(lines) + "\n")
    _db.session.rollback()
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(storage.StoredFile)) == 0


def test_restored_data_keeps_values_and_ids_continue(app_ctx, full_database):
    from appeals.reference.models import Office
    from appeals.register.models import Appeal

    text = _export(include_credentials=True)
    _wipe()
    _import(text)
    repeat = _db.session.scalar(sa.select(Appeal).where(Appeal.number == "KRD-2026-2"))
    assert repeat.repeat_of.number == "KRD-2026-1" and repeat.signatories == 12
    assert (repeat.language, repeat.repeat_of.language) == ("ru", "kk")
    first = repeat.repeat_of
    assert first.received_at == dt.datetime(2026, 3, 2, 10, 20) and first.text == "Line one\nLine two\ttab"
    assert _db.session.scalar(sa.select(Office).where(Office.code == "KRD")).parent.code == "ZHM"
    # New rows get fresh ids after the restored ones (PostgreSQL sequences were moved on).
    office = Office(code="NEW", name_kk="Жаңа", name_ru="Новый", kind="territorial")
    _db.session.add(office)
    _db.session.commit()
    assert office.id > max(_db.session.scalars(sa.select(Office.id).where(Office.code != "NEW")))


def test_credentials_are_left_out_unless_asked(full_database):
    from appeals.auth.models import User

    stored_hash = _db.session.scalar(sa.select(User.password_hash).where(User.username == "clerk"))
    text = _export()
    assert stored_hash and "feed-secret-1" not in text and stored_hash not in text
    header = json.loads(text.splitlines()[0])
    assert {e["name"]: e["rows"] for e in header["tables"]}["api_tokens"] == 0
    _wipe()
    _import(text)
    clerk = _db.session.scalar(sa.select(User).where(User.username == "clerk"))
    assert clerk.password_hash == "" and not clerk.check_password("anything")


def test_credentials_are_exported_when_asked(full_database):
    from appeals.auth.models import User

    stored_hash = _db.session.scalar(sa.select(User.password_hash).where(User.username == "clerk"))
    text = _export(include_credentials=True)
    assert stored_hash and "feed-secret-1" in text and stored_hash in text


def test_restore_refuses_a_database_that_is_not_empty(full_database):
    from appeals.maintenance import backup

    text = _export()
    with pytest.raises(backup.BackupError, match="not empty"):
        _import(text)


def test_restore_checks_format_and_version(app_ctx):
    from appeals.maintenance import backup

    with pytest.raises(backup.BackupError, match="not a Qabyldau export"):
        _import('{"format": "other"}\n')
    with pytest.raises(backup.BackupError, match="version 99"):
        _import('{"format": "qabyldau-export", "version": 99}\n')
    with pytest.raises(backup.BackupError, match="empty"):
        _import("")
    with pytest.raises(backup.BackupError, match="not valid JSON"):
        _import("{oops\n")


def test_bad_row_restores_nothing(full_database):
    from appeals.maintenance import backup

    text = _export(include_credentials=True)
    _wipe()
    lines = text.splitlines()
    # Break the last appeal row: a foreign key to a category that does not exist.
    broken = [line for line in lines]
    header_index = next(i for i, line in enumerate(lines) if line.startswith('{"columns"') and '"table":"appeals"' in line)
    columns = json.loads(lines[header_index])["columns"]
    row = json.loads(lines[header_index + 1])
    row[columns.index("category_id")] = 999999
    broken[header_index + 1] = json.dumps(row, ensure_ascii=False)
    with pytest.raises(backup.BackupError):
        _import("\n".join(broken) + "\n")
    row[columns.index("category_id")] = "roads"
    broken[header_index + 1] = json.dumps(row, ensure_ascii=False)
    with pytest.raises(backup.BackupError, match="wrong type"):
        _import("\n".join(broken) + "\n")
    with pytest.raises(backup.BackupError):
        _import("\n".join(lines[:-3]) + "\n")  # truncated file
    for table in _db.metadata.sorted_tables:
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(table)) == 0, table.name


def test_cli_round_trip_with_progress_and_gzip(app, runner, full_database, tmp_path):
    for name in ("backup.jsonl", "backup.jsonl.gz"):
        first, second = tmp_path / f"1-{name}", tmp_path / f"2-{name}"
        result = runner.invoke(args=["export-data", str(first), "--include-credentials"])
        assert result.exit_code == 0, result.output
        assert "Exported" in result.output
        refused = runner.invoke(args=["import-data", str(first)])
        assert refused.exit_code == 1 and "not empty" in refused.output
        with app.app_context():
            _wipe()
        restored = runner.invoke(args=["import-data", str(first)])
        assert restored.exit_code == 0, restored.output
        assert "Restored" in restored.output
        assert runner.invoke(args=["export-data", str(second), "--include-credentials"]).exit_code == 0
        assert first.read_bytes() == second.read_bytes()


def test_cli_reports_a_foreign_file(runner, tmp_path, app_ctx):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    result = runner.invoke(args=["import-data", str(path)])
    assert result.exit_code == 1 and "Nothing was restored" in result.output


def test_restore_into_a_migrated_database_replaces_the_default_answer_terms(full_database):
    """A new database has the migration's answer terms; the file's terms (complaint 25) replace them."""
    from appeals.register import deadlines
    from appeals.register.models import DeadlineRule

    text = _export()
    _wipe()
    _db.session.add_all([DeadlineRule(appeal_type=kind, working_days=days, updated_at=dt.datetime(2026, 1, 1))
                         for kind, days in deadlines.DEFAULT_WORKING_DAYS.items()])
    _db.session.commit()
    _import(text)
    assert deadlines.working_days_for("complaint") == 25
    file_rows = json.loads(text.splitlines()[0])["tables"]
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(DeadlineRule)) == next(
        entry["rows"] for entry in file_rows if entry["name"] == "deadline_rules")
