"""Merged mandates (issue 14, item 10): the mandate a merged one went into.

Revision ID: 0026_mandate_merged_into
Revises: 0025_mandate_progress_public

A plain column, no foreign key: adding one rebuilds the table on SQLite, and the rebuild would drop
the link-copy triggers of 0022.
"""
import sqlalchemy as sa
from alembic import op

revision = "0026_mandate_merged_into"
down_revision = "0025_mandate_progress_public"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("mandates", sa.Column("merged_into_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.drop_column("merged_into_id")
