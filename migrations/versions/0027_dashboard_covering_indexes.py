"""Index-only reads for the dashboard at country scale (issue 19).

- ``ix_appeals_overdue``: the overdue count (open, clock running, past its deadline) read from the
  index alone. Since the clock can stop (0015) the count also asks ``suspended_since IS NULL``, which
  ``ix_appeals_open_due`` cannot answer without the table; this index holds only the appeals that can
  be overdue, with their office (the scope) beside the deadline.
- ``ix_appeals_received`` becomes covering on PostgreSQL: the partial months of a period (a rolling
  30 days starts and ends inside months, appeals.reports.summaries) count by office, category, channel
  and settlement straight from the index. Same key as before, so every other use of it is unchanged.
- ``ix_mandates_created`` also carries the mandate's office: "registered in the period, by status" for
  a region reads the index alone, as the whole country's already did.
"""
import sqlalchemy as sa
from alembic import op

revision = "0027_dashboard_covering_indexes"
down_revision = "0026_mandate_merged_into"
branch_labels = None
depends_on = None

OVERDUE_WHERE = "status IN ('registered', 'in_review', 'forwarded') AND suspended_since IS NULL"
RECEIVED_INCLUDE = ["office_id", "category_id", "channel", "settlement_id"]


def upgrade():
    with op.batch_alter_table("appeals") as batch:
        batch.create_index("ix_appeals_overdue", ["due_date", "office_id"],
                           postgresql_where=sa.text(OVERDUE_WHERE), sqlite_where=sa.text(OVERDUE_WHERE))
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_appeals_received", table_name="appeals")
        op.create_index("ix_appeals_received", "appeals", ["received_at"], postgresql_include=RECEIVED_INCLUDE)
        op.drop_index("ix_mandates_created", table_name="mandates")
        op.create_index("ix_mandates_created", "mandates", ["created_at"], postgresql_include=["status", "office_id"])


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_mandates_created", table_name="mandates")
        op.create_index("ix_mandates_created", "mandates", ["created_at"], postgresql_include=["status"])
        op.drop_index("ix_appeals_received", table_name="appeals")
        op.create_index("ix_appeals_received", "appeals", ["received_at"])
    with op.batch_alter_table("appeals") as batch:
        batch.drop_index("ix_appeals_overdue", postgresql_where=sa.text(OVERDUE_WHERE),
                         sqlite_where=sa.text(OVERDUE_WHERE))
