"""Register search that knows how Kazakh names are typed: the full-text index on folded text.

Revision ID: 0006
Revises: 0005

qb_search_fold() (appeals/core/search_fold.py) maps «Нұрлан», «Нурлан» and «Nurlan» onto one
skeleton; the GIN index of 0002 gives way to one on the folded document, which the register's
search (appeals.register.services.FTS_DOCUMENT) must spell exactly like this to be planned on it.
SQLite has no index for it: the app registers the Python function of the same name.
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FOLDED_DOCUMENT = (
    "to_tsvector('simple', qb_search_fold(coalesce(number, '') || ' ' || coalesce(applicant_name, '') || ' ' "
    "|| coalesce(summary, '') || ' ' || coalesce(text, '')))"
)
PLAIN_DOCUMENT = (
    "to_tsvector('simple', coalesce(number, '') || ' ' || coalesce(applicant_name, '') || ' ' "
    "|| coalesce(summary, '') || ' ' || coalesce(text, ''))"
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    from appeals.core.search_fold import postgresql_function

    op.execute(postgresql_function())
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_fts_appeals_folded ON appeals USING gin ({FOLDED_DOCUMENT})")
    op.execute("DROP INDEX IF EXISTS ix_fts_appeals")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_fts_appeals ON appeals USING gin ({PLAIN_DOCUMENT})")
    op.execute("DROP INDEX IF EXISTS ix_fts_appeals_folded")
    op.execute("DROP FUNCTION IF EXISTS qb_search_fold(text)")
