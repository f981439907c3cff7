"""Hosts who receive citizens and the reception sessions of the approved schedule."""
import datetime as dt
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appeals.auth.models import User
from appeals.core.extensions import db
from appeals.core.models_base import TimestampMixin, enum_column, pick_localized
from appeals.reference.models import Office

HOST_KINDS = ("candidate", "office_member", "deputy", "other")
SESSION_STATUSES = ("draft", "approved", "held", "cancelled")
# pending: waiting for the SMS code (holds its place for the code's minutes); confirmed: booked;
# arrived / no_show: marked by the clerk on the day; cancelled: by the citizen's link or the office.
BOOKING_STATUSES = ("pending", "confirmed", "cancelled", "arrived", "no_show")

session_hosts = sa.Table(
    "session_hosts",
    db.Model.metadata,
    sa.Column("session_id", sa.ForeignKey("reception_sessions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("host_id", sa.ForeignKey("hosts.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Host(TimestampMixin, db.Model):
    __tablename__ = "hosts"
    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    # The position in Kazakh (the form's first field), with Russian and English optional; shown
    # through localized_position() under the reference names' fallback rule.
    position: Mapped[str] = mapped_column(sa.String(300), default="")
    position_ru: Mapped[Optional[str]] = mapped_column(sa.String(300))
    position_en: Mapped[Optional[str]] = mapped_column(sa.String(300))
    kind: Mapped[str] = enum_column(HOST_KINDS, "host_kind")
    office_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("offices.id"), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    # Secret part of the calendar feed URL; replacing it revokes every existing subscription.
    # SHA-256 of the calendar feed's secret (appeals.core.tokens.hash_token); the secret is shown once.
    feed_token: Mapped[Optional[str]] = mapped_column(sa.String(64), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)

    office: Mapped[Optional[Office]] = relationship()
    user: Mapped[Optional[User]] = relationship()

    def localized_position(self, locale: Optional[str] = None) -> str:
        return pick_localized({"kk": self.position, "ru": self.position_ru, "en": self.position_en}, locale)

    def __repr__(self):
        return f"<Host {self.full_name}>"


class ReceptionSession(TimestampMixin, db.Model):
    """One reception: an office, one or more hosts, a date and a time slot (local time, Asia/Almaty)."""

    __tablename__ = "reception_sessions"
    __table_args__ = (
        sa.CheckConstraint("end_time > start_time", name="time_order"),
        sa.CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_positive"),
        sa.CheckConstraint("visitors_count IS NULL OR visitors_count >= 0", name="visitors_positive"),
        sa.Index("ix_sessions_office_date", "office_id", "date"),
        sa.Index("ix_sessions_date_status", "date", "status"),
        sa.CheckConstraint("slot_minutes IS NULL OR slot_minutes BETWEEN 5 AND 240", name="slot_minutes_range"),
        sa.CheckConstraint("slot_capacity IS NULL OR slot_capacity >= 1", name="slot_capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("offices.id"))
    date: Mapped[dt.date] = mapped_column()
    start_time: Mapped[dt.time] = mapped_column()
    end_time: Mapped[dt.time] = mapped_column()
    room: Mapped[str] = mapped_column(sa.String(100), default="")
    capacity: Mapped[Optional[int]] = mapped_column()
    topic: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[str] = enum_column(SESSION_STATUSES, "session_status", default="draft")
    cancel_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    visitors_count: Mapped[Optional[int]] = mapped_column()
    approved_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    approved_at: Mapped[Optional[dt.datetime]] = mapped_column()
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    # Citizens may book a time: slots of slot_minutes from start_time, slot_capacity citizens each.
    slot_minutes: Mapped[Optional[int]] = mapped_column()
    slot_capacity: Mapped[Optional[int]] = mapped_column()

    office: Mapped[Office] = relationship()
    hosts: Mapped[list[Host]] = relationship(secondary=session_hosts, order_by=Host.full_name)
    approved_by: Mapped[Optional[User]] = relationship(foreign_keys=[approved_by_id])
    created_by: Mapped[Optional[User]] = relationship(foreign_keys=[created_by_id])

    @property
    def starts_at(self):
        return dt.datetime.combine(self.date, self.start_time)

    @property
    def ends_at(self):
        return dt.datetime.combine(self.date, self.end_time)

    def __repr__(self):
        return f"<ReceptionSession {self.office_id} {self.date} {self.start_time}>"


class Booking(db.Model):
    """A citizen's booked time at a reception session (issue 16, item 3)."""

    __tablename__ = "bookings"
    __table_args__ = (sa.Index("ix_bookings_slot", "session_id", "slot_start", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("reception_sessions.id", ondelete="CASCADE"))
    slot_start: Mapped[dt.time] = mapped_column()
    name: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str] = mapped_column(sa.String(20), index=True)
    topic: Mapped[str] = mapped_column(sa.String(300))
    status: Mapped[str] = enum_column(BOOKING_STATUSES, "booking_status", default="pending")
    locale: Mapped[str] = mapped_column(sa.String(8), default="kk")
    created_at: Mapped[dt.datetime] = mapped_column()
    confirmed_at: Mapped[Optional[dt.datetime]] = mapped_column()
    cancelled_at: Mapped[Optional[dt.datetime]] = mapped_column()
    reminded_at: Mapped[Optional[dt.datetime]] = mapped_column()
    marked_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id"))
    # The appeal registered from this booking at the reception.
    appeal_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("appeals.id", ondelete="SET NULL"))

    session: Mapped[ReceptionSession] = relationship()
