"""Booking a reception: slots on sessions, bookings; one-time codes; notices to a citizen's address.

Revision ID: 0018_bookings_citizen_notices
Revises: 0017_rate_windows

A notice may now go to a phone number or e-mail address without an account (`user_id` empty,
`address` and `locale` set) and carry one stored file (an answer letter) as an attachment.
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_bookings_citizen_notices"
down_revision = "0017_rate_windows"
branch_labels = None
depends_on = None

BOOKING_STATUSES = ("pending", "confirmed", "cancelled", "arrived", "no_show")


def upgrade():
    with op.batch_alter_table("notices") as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("address", sa.String(length=254), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("locale", sa.String(length=8), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("attachment_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("attachment_name", sa.String(length=200), nullable=False, server_default=""))
    with op.batch_alter_table("notices") as batch_op:
        batch_op.alter_column("address", server_default=None)
        batch_op.alter_column("locale", server_default=None)
        batch_op.alter_column("attachment_name", server_default=None)

    op.create_table(
        "verification_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verification_codes")),
    )
    with op.batch_alter_table("verification_codes") as batch_op:
        batch_op.create_index("ix_verification_codes_subject", ["purpose", "subject", "created_at"], unique=False)

    # Plain ADD COLUMNs: reception_sessions is not copied.
    op.add_column("reception_sessions", sa.Column("slot_minutes", sa.Integer(), nullable=True))
    op.add_column("reception_sessions", sa.Column("slot_capacity", sa.Integer(), nullable=True))
    with op.batch_alter_table("reception_sessions") as batch_op:
        batch_op.create_check_constraint("slot_minutes_range", "slot_minutes IS NULL OR slot_minutes BETWEEN 5 AND 240")
        batch_op.create_check_constraint("slot_capacity_positive", "slot_capacity IS NULL OR slot_capacity >= 1")

    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("slot_start", sa.Time(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("status", sa.Enum(*BOOKING_STATUSES, name="booking_status", native_enum=False, create_constraint=True,
                                    length=24), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("marked_by_id", sa.Integer(), nullable=True),
        sa.Column("appeal_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["reception_sessions.id"], name=op.f("fk_bookings_session_id_reception_sessions"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["marked_by_id"], ["users.id"], name=op.f("fk_bookings_marked_by_id_users")),
        sa.ForeignKeyConstraint(["appeal_id"], ["appeals.id"], name=op.f("fk_bookings_appeal_id_appeals"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings") as batch_op:
        batch_op.create_index("ix_bookings_slot", ["session_id", "slot_start", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_phone"), ["phone"], unique=False)


def downgrade():
    op.drop_table("bookings")
    with op.batch_alter_table("reception_sessions") as batch_op:
        batch_op.drop_constraint("slot_capacity_positive", type_="check")
        batch_op.drop_constraint("slot_minutes_range", type_="check")
        batch_op.drop_column("slot_capacity")
        batch_op.drop_column("slot_minutes")
    op.drop_table("verification_codes")
    op.execute("DELETE FROM notices WHERE user_id IS NULL")
    with op.batch_alter_table("notices") as batch_op:
        batch_op.drop_column("attachment_name")
        batch_op.drop_column("attachment_key")
        batch_op.drop_column("locale")
        batch_op.drop_column("address")
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
