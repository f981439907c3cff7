"""Directives of the central office and the mandates («аманат») registered under them."""
from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appeals.auth.models import User
from appeals.core.extensions import db
from appeals.core.models_base import TimestampMixin, enum_column
from appeals.reference.models import Category, Office, Region, Settlement
from appeals.register.models import Appeal

MANDATE_STATUSES = ("registered", "in_progress", "fulfilled", "partially_fulfilled", "not_fulfilled", "withdrawn")
OPEN_MANDATE_STATUSES = ("registered", "in_progress")
NUMBERING_SCOPES = ("directive", "year")
# A mandate's public text: written (pre-filled) as a draft, on public pages only once a coordinator
# approved it; any later edit takes it back to draft until approved again.
PUBLIC_STATES = ("draft", "published")


class Directive(TimestampMixin, db.Model):
    """An instruction to register citizens' proposals as mandates, with the criteria it sets."""

    __tablename__ = "directives"
    __table_args__ = (
        sa.CheckConstraint("valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from", name="validity_order"),
        sa.CheckConstraint(
            "received_to IS NULL OR received_from IS NULL OR received_to >= received_from", name="window_order"
        ),
        sa.CheckConstraint("min_signatories IS NULL OR min_signatories >= 1", name="min_signatories_positive"),
        sa.CheckConstraint("target_count IS NULL OR target_count >= 0", name="target_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(sa.String(300))
    number: Mapped[str] = mapped_column(sa.String(50))
    issued_on: Mapped[date] = mapped_column()
    title: Mapped[str] = mapped_column(sa.String(500))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    valid_from: Mapped[Optional[date]] = mapped_column()
    valid_to: Mapped[Optional[date]] = mapped_column()
    numbering: Mapped[str] = enum_column(NUMBERING_SCOPES, "mandate_numbering", default="directive")
    number_prefix: Mapped[str] = mapped_column(sa.String(20), default="A")

    # Selection criteria; an empty list or NULL means "any".
    appeal_types: Mapped[Optional[list]] = mapped_column(sa.JSON)
    category_ids: Mapped[Optional[list]] = mapped_column(sa.JSON)
    settlement_ids: Mapped[Optional[list]] = mapped_column(sa.JSON)
    district_ids: Mapped[Optional[list]] = mapped_column(sa.JSON)
    keywords: Mapped[str] = mapped_column(sa.String(1000), default="")
    min_signatories: Mapped[Optional[int]] = mapped_column()
    received_from: Mapped[Optional[date]] = mapped_column()
    received_to: Mapped[Optional[date]] = mapped_column()
    target_count: Mapped[Optional[int]] = mapped_column()
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    # NULL: the central office's directive to every region; else a region's own directive.
    region_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("regions.id"), index=True)

    created_by: Mapped[Optional[User]] = relationship()
    region: Mapped[Optional[Region]] = relationship()
    mandates: Mapped[list["Mandate"]] = relationship(back_populates="directive", order_by="Mandate.seq")

    def __repr__(self):
        return f"<Directive {self.number}>"


class Mandate(TimestampMixin, db.Model):
    __tablename__ = "mandates"
    __table_args__ = (
        sa.CheckConstraint("progress_percent >= 0 AND progress_percent <= 100", name="progress_range"),
        sa.Index("ix_mandates_directive_status", "directive_id", "status"),
        sa.Index("ix_mandates_office_status", "office_id", "status"),
        sa.Index("ix_mandates_settlement", "settlement_id"),
        # "Mandates registered in the period" (reports.statistics); migration 0007.
        sa.Index("ix_mandates_created", "created_at", postgresql_include=["status", "office_id"]),
        # The public pages read published mandates only.
        sa.Index("ix_mandates_public", "public_state", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    directive_id: Mapped[int] = mapped_column(sa.ForeignKey("directives.id"))
    number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    seq: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(sa.String(500))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    office_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("offices.id"))
    settlement_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("settlements.id"))
    category_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("categories.id"))
    # The responsible body or organisation (free text, shown in public) ...
    responsible: Mapped[str] = mapped_column(sa.String(300), default="")
    # ... and the responsible person, a user of any role, who reports the progress.
    responsible_user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"), index=True)
    target_date: Mapped[Optional[date]] = mapped_column()
    status: Mapped[str] = enum_column(MANDATE_STATUSES, "mandate_status", default="registered")
    progress_percent: Mapped[int] = mapped_column(default=0)
    withdrawn_reason: Mapped[str] = mapped_column(sa.String(1000), default="")
    # Set when merged into another mandate (appeals/mandates/bulk.py): this one is withdrawn, its number kept.
    # No foreign key: adding one rebuilds the table on SQLite, which drops the link-copy triggers (0022).
    merged_into_id: Mapped[Optional[int]] = mapped_column()
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    # The reviewed public text: nothing else of a mandate's appeals reaches a public page or document.
    public_title: Mapped[str] = mapped_column(sa.String(500), default="")
    public_description: Mapped[str] = mapped_column(sa.Text, default="")
    public_state: Mapped[str] = enum_column(PUBLIC_STATES, "mandate_public_state", default="draft")
    public_approved_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    public_approved_at: Mapped[Optional[datetime]] = mapped_column()

    directive: Mapped[Directive] = relationship(back_populates="mandates")
    office: Mapped[Optional[Office]] = relationship()
    settlement: Mapped[Optional[Settlement]] = relationship()
    category: Mapped[Optional[Category]] = relationship()
    created_by: Mapped[Optional[User]] = relationship(foreign_keys=[created_by_id])
    responsible_user: Mapped[Optional[User]] = relationship(foreign_keys=[responsible_user_id])
    merged_into: Mapped[Optional["Mandate"]] = relationship(
        primaryjoin="foreign(Mandate.merged_into_id) == remote(Mandate.id)", viewonly=True)
    public_approved_by: Mapped[Optional[User]] = relationship(foreign_keys=[public_approved_by_id])
    links: Mapped[list["MandateAppeal"]] = relationship(back_populates="mandate", order_by="MandateAppeal.id")
    notes: Mapped[list["MandateProgressNote"]] = relationship(
        back_populates="mandate", order_by="MandateProgressNote.noted_on"
    )

    @property
    def is_published(self) -> bool:
        """On the public pages: its public text approved, and not withdrawn."""
        return self.public_state == "published" and self.status != "withdrawn"

    @property
    def active_links(self):
        return [link for link in self.links if link.removed_at is None]

    def __repr__(self):
        return f"<Mandate {self.number}>"


class MandateAppeal(db.Model):
    """An appeal flagged into a mandate. Unflagging keeps the row, with who, when and why."""

    __tablename__ = "mandate_appeals"
    __table_args__ = (
        # One appeal is flagged at most once under a directive (while the flag stands).
        sa.Index(
            "uq_mandate_appeals_directive_appeal_active",
            "directive_id",
            "appeal_id",
            unique=True,
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        ),
        # The mandate figures of a period read standing links alone (appeals.reports.statistics; migration 0022).
        sa.Index("ix_mandate_appeals_received", "appeal_received_at",
                 postgresql_include=["appeal_office_id", "appeal_id", "mandate_id", "mandate_status"],
                 postgresql_where=sa.text("removed_at IS NULL"), sqlite_where=sa.text("removed_at IS NULL")),
        # A month-and-office cell's links, recounted by the triggers of migration 0035.
        sa.Index("ix_mandate_appeals_office_received", "appeal_office_id", "appeal_received_at",
                 postgresql_where=sa.text("removed_at IS NULL"), sqlite_where=sa.text("removed_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mandate_id: Mapped[int] = mapped_column(sa.ForeignKey("mandates.id", ondelete="CASCADE"), index=True)
    directive_id: Mapped[int] = mapped_column(sa.ForeignKey("directives.id"))
    appeal_id: Mapped[int] = mapped_column(sa.ForeignKey("appeals.id"), index=True)
    added_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column()
    override_reason: Mapped[str] = mapped_column(sa.String(1000), default="")
    removed_at: Mapped[Optional[datetime]] = mapped_column()
    removed_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    removed_reason: Mapped[str] = mapped_column(sa.String(1000), default="")
    # Copies kept by database triggers (migration 0022), never written by the application: the appeal's
    # received time and office, the mandate's status. A period's mandate figures then read the standing
    # links of its appeals through one index instead of joining every appeal of the period.
    appeal_received_at: Mapped[Optional[datetime]] = mapped_column()
    appeal_office_id: Mapped[Optional[int]] = mapped_column()
    mandate_status: Mapped[Optional[str]] = mapped_column(sa.String(24))

    mandate: Mapped[Mandate] = relationship(back_populates="links")
    appeal: Mapped[Appeal] = relationship()
    added_by: Mapped[Optional[User]] = relationship(foreign_keys=[added_by_id])
    removed_by: Mapped[Optional[User]] = relationship(foreign_keys=[removed_by_id])


class MandateProgressNote(db.Model):
    __tablename__ = "mandate_progress_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    mandate_id: Mapped[int] = mapped_column(sa.ForeignKey("mandates.id", ondelete="CASCADE"), index=True)
    noted_on: Mapped[date] = mapped_column()
    note: Mapped[str] = mapped_column(sa.Text)
    progress_percent: Mapped[Optional[int]] = mapped_column()
    # The status the update moved the mandate to (None: the status stayed).
    status: Mapped[Optional[str]] = mapped_column(sa.String(24))
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column()

    mandate: Mapped[Mandate] = relationship(back_populates="notes")
    user: Mapped[Optional[User]] = relationship()
    photos: Mapped[list["MandateUpdatePhoto"]] = relationship(
        back_populates="note", order_by="MandateUpdatePhoto.id", cascade="all, delete-orphan")


class MandateUpdatePhoto(db.Model):
    """A photo of a progress update, kept in appeals/core/storage.py (re-encoded, without metadata).

    Progress notes are shown in public once the mandate is published: a photo is of the work
    (a road, a pipe), and its caption is what the public reads."""

    __tablename__ = "mandate_update_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(sa.ForeignKey("mandate_progress_notes.id", ondelete="CASCADE"), index=True)
    file_key: Mapped[str] = mapped_column(sa.String(64))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)

    note: Mapped[MandateProgressNote] = relationship(back_populates="photos")


class MandateSubscription(db.Model):
    """A citizen's wish to hear of a published mandate's progress, or of every mandate of a settlement.

    Double opt-in: the row waits unconfirmed until the link mailed to the address is opened (the
    links are signed, nothing secret is stored); unsubscribing deletes the row. The address is
    personal data kept minimally: the address and the language, no name; shown on no page."""

    __tablename__ = "mandate_subscriptions"
    __table_args__ = (
        sa.CheckConstraint("(mandate_id IS NULL) <> (settlement_id IS NULL)", name="one_target"),
        sa.Index("ix_mandate_subscriptions_target", "mandate_id", "settlement_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    locale: Mapped[str] = mapped_column(sa.String(5), default="kk")
    mandate_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("mandates.id", ondelete="CASCADE"))
    settlement_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("settlements.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column()
    confirmed_at: Mapped[Optional[datetime]] = mapped_column()

    mandate: Mapped[Optional[Mandate]] = relationship()
    settlement: Mapped[Optional[Settlement]] = relationship()
