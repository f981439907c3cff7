"""The register's folded search document as a stored column (issue 19; PostgreSQL only).

Until now the full-text index was built on an expression (0006), so every row a search had to look
at again recomputed qb_search_fold() of the whole document, some 40 µs a row. At 10,000,000 appeals a
regional coordinator's search for a common surname read ~400,000 candidates that way (41 s), and the
other plan (the region's newest appeals first, each checked) 9 s for the same reason. Stored, the
check is a comparison of a tsvector already on the row, and the planner has the column's own
statistics to choose between the two plans.

`appeals.search_document` is GENERATED ALWAYS ... STORED: PostgreSQL keeps it equal to the document on
every insert and update, so no code writes it and the ORM model does not declare it (the register's
search names it in SQL, see appeals.register.queries; tests/test_migrations.py leaves it out of the
model comparison). Adding it rewrites the appeals table and rebuilds its indexes under an exclusive
lock: 26 minutes at 10,000,000 appeals on this 2-core machine (about 2½ minutes a million), so plan
the upgrade of a large instance for a quiet hour.
SQLite has no tsvector: its search folds in Python (appeals/core/database.py).
"""
from alembic import op

revision = "0030_search_document_column"
down_revision = "0029_search_index_direct"
branch_labels = None
depends_on = None

DOCUMENT = (
    "to_tsvector('simple'::regconfig, qb_search_fold(coalesce(number, '') || ' ' || coalesce(applicant_name, '') || ' ' "
    "|| coalesce(summary, '') || ' ' || coalesce(text, '')))"
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE appeals ADD COLUMN search_document tsvector GENERATED ALWAYS AS ({DOCUMENT}) STORED")
    # As 0029: no pending list, each appeal goes into the index as it is inserted.
    op.execute("CREATE INDEX ix_fts_appeals_document ON appeals USING gin (search_document) WITH (fastupdate = off)")
    op.execute("DROP INDEX IF EXISTS ix_fts_appeals_folded")
    # The planner's statistics of the new column (it chooses between the index and the newest-first walk).
    op.execute("ANALYZE appeals (search_document)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_fts_appeals_folded ON appeals USING gin ({DOCUMENT}) "
               "WITH (fastupdate = off)")
    op.execute("DROP INDEX IF EXISTS ix_fts_appeals_document")
    op.execute("ALTER TABLE appeals DROP COLUMN search_document")
