"""Mandate reports up the chain (issue 17, item 4): an office's report per period, frozen at submission.

Revision ID: 0023_mandate_reports
Revises: 0022_mandate_link_copies
"""
import sqlalchemy as sa
from alembic import op

revision = "0023_mandate_reports"
down_revision = "0022_mandate_link_copies"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mandate_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.Enum("submitted", "returned", "approved", name="mandate_report_status",
                                    native_enum=False, create_constraint=True, length=24), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_mandate_reports_period_order")),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"], name=op.f("fk_mandate_reports_office_id_offices")),
        sa.ForeignKeyConstraint(["previous_id"], ["mandate_reports.id"],
                                name=op.f("fk_mandate_reports_previous_id_mandate_reports")),
        sa.ForeignKeyConstraint(["reviewed_by_id"], ["users.id"], name=op.f("fk_mandate_reports_reviewed_by_id_users")),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["users.id"],
                                name=op.f("fk_mandate_reports_submitted_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mandate_reports")),
        sa.UniqueConstraint("office_id", "period_start", "period_end", name=op.f("uq_mandate_reports_office_id")),
    )
    with op.batch_alter_table("mandate_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mandate_reports_office_id"), ["office_id"], unique=False)


def downgrade():
    op.drop_table("mandate_reports")
