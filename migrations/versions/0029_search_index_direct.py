"""The register's full-text index takes each appeal at once (issue 19): GIN ``fastupdate`` off.

With fastupdate on (PostgreSQL's default) new entries go to a pending list that the inserting
backend itself merges into the index once it passes gin_pending_list_limit. At 10,000,000 appeals
that merge took a registration from ~30 ms to over 2 s, inside the transaction that holds its
office's number counter, so every clerk of the office waited with it (bench/register_load.py
--schema: p95 601 ms and 33 appeals/s before, 248 ms and 53/s after). Off, each insert updates the
index directly, a steady few entries per appeal, and a search never scans a pending list.
PostgreSQL only (SQLite has no such index).
"""
from alembic import op

revision = "0029_search_index_direct"
down_revision = "0028_appeal_language"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX ix_fts_appeals_folded SET (fastupdate = off)")
    # What the pending list holds now goes into the index (it would otherwise stay until a VACUUM).
    op.execute("SELECT gin_clean_pending_list('ix_fts_appeals_folded'::regclass)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX ix_fts_appeals_folded RESET (fastupdate)")
