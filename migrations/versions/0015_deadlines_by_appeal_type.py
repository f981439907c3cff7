"""Deadlines by appeal type: the table of answer terms (APPK defaults), pauses of the answer clock.

Revision ID: 0015_deadlines_by_appeal_type
Revises: 0014_appeal_counts_summary

The terms are written with the APPK defaults as e-Otinish applies them: 15 working days for
statements, proposals, requests and responses, 20 for complaints. Deadlines of appeals already
registered stay as they were (the applicants were told them).
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0015_deadlines_by_appeal_type"
down_revision = "0014_appeal_counts_summary"
branch_labels = None
depends_on = None

APPEAL_TYPES = ("statement", "complaint", "proposal", "response", "request")
DEFAULTS = {"statement": 15, "complaint": 20, "proposal": 15, "response": 15, "request": 15}


def upgrade():
    rules = op.create_table(
        "deadline_rules",
        sa.Column("appeal_type", sa.Enum(*APPEAL_TYPES, name="deadline_appeal_type", native_enum=False,
                                         create_constraint=True, length=24), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("working_days BETWEEN 1 AND 60", name=op.f("ck_deadline_rules_working_days_range")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_deadline_rules_updated_by_id_users")),
        sa.PrimaryKeyConstraint("appeal_type", name=op.f("pk_deadline_rules")),
    )
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    op.bulk_insert(rules, [{"appeal_type": kind, "working_days": days, "updated_at": now}
                           for kind, days in DEFAULTS.items()])
    op.create_table(
        "appeal_suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("resumed_on", sa.Date(), nullable=True),
        sa.Column("resumed_by_id", sa.Integer(), nullable=True),
        sa.Column("paused_days", sa.Integer(), nullable=True),
        sa.Column("due_before", sa.Date(), nullable=False),
        sa.Column("due_after", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("paused_days IS NULL OR paused_days >= 0",
                           name=op.f("ck_appeal_suspensions_paused_days_not_negative")),
        sa.ForeignKeyConstraint(["appeal_id"], ["appeals.id"], name=op.f("fk_appeal_suspensions_appeal_id_appeals"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["started_by_id"], ["users.id"], name=op.f("fk_appeal_suspensions_started_by_id_users")),
        sa.ForeignKeyConstraint(["resumed_by_id"], ["users.id"], name=op.f("fk_appeal_suspensions_resumed_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_suspensions")),
    )
    with op.batch_alter_table("appeal_suspensions") as batch_op:
        batch_op.create_index(batch_op.f("ix_appeal_suspensions_appeal_id"), ["appeal_id"], unique=False)
    # A plain ADD COLUMN: a batch copy of the table would drop the appeal-count triggers on SQLite.
    op.add_column("appeals", sa.Column("suspended_since", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("appeals") as batch_op:
        batch_op.drop_column("suspended_since")
    with op.batch_alter_table("appeal_suspensions") as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeal_suspensions_appeal_id"))
    op.drop_table("appeal_suspensions")
    op.drop_table("deadline_rules")
