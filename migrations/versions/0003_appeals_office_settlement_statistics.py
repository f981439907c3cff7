"""PostgreSQL statistics on how appeals' offices and settlements go together.

Revision ID: 0003
Revises: 0002

A territorial office registers appeals about its own district, so office and settlement are far from
independent. Assuming they were, the planner expected a clerk's office to have plenty of appeals in
another district (or settlement) and walked the office's whole history by date to fill a page that
stays empty (250 ms at a million appeals). With the most common (office, settlement) pairs known it
combines the two indexes instead (17 ms; bench/list_p95.py, "clerk, another district"). The register
writes a district's settlement ids into the SQL (appeals.register.districts.appeal_in_districts) so that
these statistics apply (a subquery hides the ids from the planner and stays at 250 ms).
The target of 1000 keeps the pairs of a whole region in the list (every settlement, seen by its
district's office and by the regional one); the price is ANALYZE of appeals sampling more rows
(0.6 s -> 6.6 s at a million appeals, in autovacuum's background worker).
SQLite has no extended statistics: nothing to do there.
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NAME = "st_appeals_office_settlement"


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE STATISTICS IF NOT EXISTS {NAME} (mcv, dependencies) ON office_id, settlement_id FROM appeals")
    op.execute(f"ALTER STATISTICS {NAME} SET STATISTICS 1000")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP STATISTICS IF EXISTS {NAME}")
