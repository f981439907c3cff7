"""A region's register filtered by district, settlement or status, at once (issue 19).

A regional coordinator's scope is the offices of the region, and the planner reads it office by office.
With a district or settlement filter it ran, per office, a BitmapAnd of the office's appeals and the
settlements' (at 10,000,000 appeals 12 × 14 ms; 160–204 ms SQL when nothing matched), and with a
status filter the same with the status's appeals (106–116 ms for "in review" + a category). Two
indexes answer "this office's appeals of these settlements / of this status" with one probe per pair:

- ``ix_appeals_settlement_office`` (settlement, office, received): district / settlement filters,
  4 ms. The (settlement, received) index stays: without a scope (the central office) it gives a
  settlement's newest appeals in order.
- ``ix_appeals_status_office`` (status, office, received): status filters, 2.6 ms. The (status, due)
  index stays for lists of a status sorted by deadline.

Registration with 8 clients at 10,000,000 appeals (bench/register_load.py --schema): 80.8 and 81.5/s
without them, 86.1/s with both (within the runs' noise).
"""
from alembic import op

revision = "0031_appeals_scope_indexes"
down_revision = "0030_search_document_column"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appeals") as batch:
        batch.create_index("ix_appeals_settlement_office", ["settlement_id", "office_id", "received_at"])
        batch.create_index("ix_appeals_status_office", ["status", "office_id", "received_at"])


def downgrade():
    with op.batch_alter_table("appeals") as batch:
        batch.drop_index("ix_appeals_status_office")
        batch.drop_index("ix_appeals_settlement_office")
