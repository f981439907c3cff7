"""The summaries' keys carry the count: index-only reads of a period's cells (issue 19; PostgreSQL only).

Revision ID: 0033_summary_index_only
Revises: 0032_appeal_region_counts

A country's year reads ~17,000 office rows (the offices' bars) and ~7,000–12,000 region rows per
dimension. Their rows lie scattered over the table's pages (the triggers add them as appeals come, every
dimension in turn), so each read visited ~2,800 heap pages: 24 ms for the offices' bars at 1,000,000
appeals. With the count in the primary key's index (INCLUDE), the read is the index alone: 7.6 ms. The
price: a count's change is no longer a HOT update (the index holds it), one more index entry per
changed cell. The upserts of the triggers keep their conflict target (the key columns).
"""
from alembic import op

revision = "0033_summary_index_only"
down_revision = "0032_appeal_region_counts"
branch_labels = None
depends_on = None

_KEYS = {"appeal_counts": "dim, month, office_id, key", "appeal_region_counts": "dim, month, region_id, key"}


def _primary_keys(include: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite has no INCLUDE; its small tables read fast either way
    for table, keys in _KEYS.items():
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}, "
                   f"ADD CONSTRAINT pk_{table} PRIMARY KEY ({keys}){include}")


def upgrade():
    _primary_keys(" INCLUDE (appeals)")


def downgrade():
    _primary_keys("")
