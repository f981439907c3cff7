"""The appeals register (өтініштер тізілімі)."""
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appeals.auth.models import User
from appeals.core.extensions import db
from appeals.core.models_base import TimestampMixin, enum_column
from appeals.reference.models import Category, Office, Settlement
from appeals.schedules.models import Host, ReceptionSession

CHANNELS = ("session", "door_to_door", "online_event", "phone", "letter", "email", "other", "online")
# "online": sent by the citizen through the public form (/appeal), never chosen by a clerk.
CLERK_CHANNELS = CHANNELS[:-1]
APPLICANT_KINDS = ("individual", "anonymous", "collective")
# Kinds of appeal named by the Administrative Procedural Code (APPK) of Kazakhstan, art. 4.
APPEAL_TYPES = ("statement", "complaint", "proposal", "response", "request")
APPEAL_STATUSES = ("registered", "in_review", "forwarded", "answered", "closed", "withdrawn")
OPEN_STATUSES = ("registered", "in_review", "forwarded")
# Answered, or closed after the answer: the applicant has the answer (its files, its letter).
ANSWERED_STATUSES = ("answered", "closed")
# The languages the applicant is written to (notices, the answer letter): the interface's three.
APPEAL_LANGUAGES = ("kk", "ru", "en")

SUMMARY_MAX = 500
TEXT_MAX = 20000


class Appeal(TimestampMixin, db.Model):
    __tablename__ = "appeals"
    __table_args__ = (
        sa.UniqueConstraint("office_id", "year", "seq", name="uq_appeals_office_year_seq"),
        sa.CheckConstraint("signatories IS NULL OR signatories >= 1", name="signatories_positive"),
        sa.Index("ix_appeals_office_received", "office_id", "received_at"),
        # Covering on PostgreSQL: a period's partial months count from the index alone (migration 0027).
        sa.Index("ix_appeals_received", "received_at",
                 postgresql_include=["office_id", "category_id", "channel", "settlement_id"]),
        sa.Index("ix_appeals_status_due", "status", "due_date"),
        sa.Index("ix_appeals_settlement_received", "settlement_id", "received_at"),
        # A district's, settlement's or status's appeals within a scope of offices (migration 0031).
        sa.Index("ix_appeals_settlement_office", "settlement_id", "office_id", "received_at"),
        sa.Index("ix_appeals_status_office", "status", "office_id", "received_at"),
        sa.Index("ix_appeals_category_received", "category_id", "received_at"),
        sa.Index("ix_appeals_host_received", "host_id", "received_at"),
        sa.Index("ix_appeals_iin", "iin"),
        sa.Index("ix_appeals_phone", "phone"),
        # Deadline lists (overdue, due soon, "open by deadline") read only open appeals in due order:
        # a partial index keeps that a short index walk however many closed appeals pile up.
        sa.Index(
            "ix_appeals_open_due", "due_date", "id",
            postgresql_where=sa.text("status IN ('registered', 'in_review', 'forwarded')"),
            sqlite_where=sa.text("status IN ('registered', 'in_review', 'forwarded')"),
        ),
        # The overdue count (deadlines.overdue_condition) from the index alone, office beside the
        # deadline for the scope (migration 0027).
        sa.Index(
            "ix_appeals_overdue", "due_date", "office_id",
            postgresql_where=sa.text("status IN ('registered', 'in_review', 'forwarded') AND suspended_since IS NULL"),
            sqlite_where=sa.text("status IN ('registered', 'in_review', 'forwarded') AND suspended_since IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"))
    number: Mapped[str] = mapped_column(sa.String(32), unique=True)
    year: Mapped[int] = mapped_column()
    seq: Mapped[int] = mapped_column()
    received_at: Mapped[datetime] = mapped_column()
    channel: Mapped[str] = enum_column(CHANNELS, "appeal_channel")
    session_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("reception_sessions.id"), index=True)
    host_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("hosts.id"))

    applicant_kind: Mapped[str] = enum_column(APPLICANT_KINDS, "applicant_kind", default="individual")
    applicant_name: Mapped[str] = mapped_column(sa.String(200), default="")
    iin: Mapped[Optional[str]] = mapped_column(sa.String(12))
    phone: Mapped[Optional[str]] = mapped_column(sa.String(20))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    settlement_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("settlements.id"))
    signatories: Mapped[Optional[int]] = mapped_column()

    appeal_type: Mapped[str] = enum_column(APPEAL_TYPES, "appeal_type")
    category_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("categories.id"))
    summary: Mapped[str] = mapped_column(sa.String(SUMMARY_MAX))
    text: Mapped[str] = mapped_column(sa.Text, default="")

    status: Mapped[str] = enum_column(APPEAL_STATUSES, "appeal_status", default="registered")
    responsible_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    due_date: Mapped[date] = mapped_column()
    original_due_date: Mapped[date] = mapped_column()
    forwarded_to: Mapped[str] = mapped_column(sa.String(300), default="")
    forwarded_at: Mapped[Optional[date]] = mapped_column()
    answer_text: Mapped[str] = mapped_column(sa.Text, default="")
    answered_at: Mapped[Optional[date]] = mapped_column()
    closed_at: Mapped[Optional[datetime]] = mapped_column()
    withdrawn_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    repeat_of_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("appeals.id"), index=True)
    # The day the answer clock was stopped while the office waits for the applicant (None: running).
    suspended_since: Mapped[Optional[date]] = mapped_column()
    # The applicant's e-mail (the online form asks for a phone or an e-mail): personal data like the phone.
    email: Mapped[str] = mapped_column(sa.String(254), default="", server_default="")
    # An online appeal: which consent text the citizen agreed to, and when (Law on personal data, art. 8).
    consent_version: Mapped[Optional[str]] = mapped_column(sa.String(20))
    consent_at: Mapped[Optional[datetime]] = mapped_column()
    # SHA-256 of the private tracking code given to the citizen on the receipt (never kept in clear).
    tracking_code_hash: Mapped[Optional[str]] = mapped_column(sa.String(64))
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    # The applicant's language: every notice and letter to them is in it (applicant_locale below).
    language: Mapped[str] = enum_column(APPEAL_LANGUAGES, "appeal_language", default="kk", server_default="kk")

    office: Mapped[Office] = relationship()
    session: Mapped[Optional[ReceptionSession]] = relationship()
    host: Mapped[Optional[Host]] = relationship()
    settlement: Mapped[Optional[Settlement]] = relationship()
    category: Mapped[Optional[Category]] = relationship()
    responsible: Mapped[Optional[User]] = relationship(foreign_keys=[responsible_id])
    created_by: Mapped[Optional[User]] = relationship(foreign_keys=[created_by_id])
    repeat_of: Mapped[Optional["Appeal"]] = relationship(remote_side=[id])
    extensions: Mapped[list["AppealExtension"]] = relationship(
        back_populates="appeal", order_by="AppealExtension.created_at"
    )
    suspensions: Mapped[list["AppealSuspension"]] = relationship(
        back_populates="appeal", order_by="AppealSuspension.id"
    )

    @property
    def is_open(self):
        return self.status in OPEN_STATUSES

    def __repr__(self):
        return f"<Appeal {self.number}>"


def applicant_locale(appeal: Appeal) -> str:
    """The language the applicant is written to, in every notice (receipt, extension, forwarding) and
    in the answer letter: the appeal's own (the online form's language, the booking's, the clerk's
    choice); Kazakh, the default, for anything else. The one rule for it: no caller picks a locale."""
    language = getattr(appeal, "language", None)
    return language if language in APPEAL_LANGUAGES else APPEAL_LANGUAGES[0]


class AppealExtension(db.Model):
    """A reasoned decision to extend an appeal's deadline (APPK: up to two months in total)."""

    __tablename__ = "appeal_extensions"
    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(sa.ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    old_due_date: Mapped[date] = mapped_column()
    new_due_date: Mapped[date] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.String(1000))
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column()

    appeal: Mapped[Appeal] = relationship(back_populates="extensions")
    user: Mapped[Optional[User]] = relationship()


class AppealSuspension(db.Model):
    """The answer clock stopped while the office waits for the applicant (documents, a clarification).

    `paused_days` is set on resumption: the working days of the pause, added to the deadline.
    """

    __tablename__ = "appeal_suspensions"
    __table_args__ = (
        sa.CheckConstraint("paused_days IS NULL OR paused_days >= 0", name="paused_days_not_negative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(sa.ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    started_on: Mapped[date] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.String(1000))
    started_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    resumed_on: Mapped[Optional[date]] = mapped_column()
    resumed_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    paused_days: Mapped[Optional[int]] = mapped_column()
    due_before: Mapped[date] = mapped_column()
    due_after: Mapped[Optional[date]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()

    appeal: Mapped[Appeal] = relationship(back_populates="suspensions")
    started_by: Mapped[Optional[User]] = relationship(foreign_keys=[started_by_id])
    resumed_by: Mapped[Optional[User]] = relationship(foreign_keys=[resumed_by_id])


class DeadlineRule(db.Model):
    """The answer term of an appeal type in working days (APPK art. 76 as e-Otinish applies it).

    Rows are created by the migration with the statutory defaults; the admin edits them.
    """

    __tablename__ = "deadline_rules"
    __table_args__ = (
        sa.CheckConstraint("working_days BETWEEN 1 AND 60", name="working_days_range"),
    )
    appeal_type: Mapped[str] = mapped_column(
        sa.Enum(*APPEAL_TYPES, name="deadline_appeal_type", native_enum=False, create_constraint=True, length=24),
        primary_key=True,
    )
    working_days: Mapped[int] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    updated_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))

    updated_by: Mapped[Optional[User]] = relationship()


ATTACHMENT_KINDS = ("appeal", "answer")
ATTACHMENT_SOURCES = ("clerk", "citizen")


class AppealAttachment(db.Model):
    """A scan or photo kept with an appeal (its letter, enclosures) or with its answer; the bytes are
    in the one file store (appeals/core/storage.py), this row says whose they are."""

    __tablename__ = "appeal_attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(sa.ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    file_key: Mapped[str] = mapped_column(sa.ForeignKey("stored_files.key"), unique=True)
    kind: Mapped[str] = enum_column(ATTACHMENT_KINDS, "attachment_kind", default="appeal")
    source: Mapped[str] = enum_column(ATTACHMENT_SOURCES, "attachment_source", default="clerk")
    # The name the file had on the sender's computer, cleaned; shown only to who may open the file.
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    pages: Mapped[int] = mapped_column(default=0)
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    added_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column()

    appeal: Mapped[Appeal] = relationship()
    added_by: Mapped[Optional[User]] = relationship()


ONLINE_STATES = ("pending", "registered")


class OnlineSubmission(db.Model):
    """A citizen's online appeal waiting for the code sent to their phone or e-mail.

    It holds what the form sent (and the keys of its already cleaned files) until the code is typed
    back: then the appeal is registered from it in one transaction and its data are dropped. An
    unconfirmed one is deleted with its files after ONLINE_SUBMISSION_HOURS.
    """

    __tablename__ = "online_submissions"
    id: Mapped[int] = mapped_column(primary_key=True)
    # The unguessable id in the confirmation page's address.
    public_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    state: Mapped[str] = enum_column(ONLINE_STATES, "online_submission_state", default="pending")
    data: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    files: Mapped[Optional[list]] = mapped_column(sa.JSON)
    code_channel: Mapped[str] = mapped_column(sa.String(10), default="sms")
    locale: Mapped[str] = mapped_column(sa.String(8), default="kk")
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)
    appeal_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("appeals.id", ondelete="SET NULL"))

LETTER_STATUSES = ("pending", "made", "failed")
LETTER_DELIVERIES = ("email", "post")


class AnswerLetter(db.Model):
    """The answer letter of an appeal (issue 16, item 4): written when the appeal is answered, made
    into a PDF by a worker (appeals/reports/letters.py), kept in appeals/core/storage.py, e-mailed
    to the applicant or printed for the post."""

    __tablename__ = "answer_letters"
    id: Mapped[int] = mapped_column(primary_key=True)
    appeal_id: Mapped[int] = mapped_column(sa.ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[str] = enum_column(LETTER_STATUSES, "letter_status", default="pending")
    delivery: Mapped[str] = enum_column(LETTER_DELIVERIES, "letter_delivery", default="post")
    file_key: Mapped[Optional[str]] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column()
    made_at: Mapped[Optional[datetime]] = mapped_column()
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))

    appeal: Mapped[Appeal] = relationship()
    created_by: Mapped[Optional[User]] = relationship()


class LetterTemplate(db.Model):
    """The admin's wording of the answer letter for one appeal type and language (defaults in
    appeals/reports/letters.py when there is no row)."""

    __tablename__ = "letter_templates"
    appeal_type: Mapped[str] = mapped_column(
        sa.Enum(*APPEAL_TYPES, name="letter_appeal_type", native_enum=False, create_constraint=True, length=24),
        primary_key=True,
    )
    locale: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    opening: Mapped[str] = mapped_column(sa.Text)
    closing: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column()
    updated_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
