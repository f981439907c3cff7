"""PostgreSQL full-text index of the appeals register (names, number, summary, text).

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Must stay identical to appeals.register.queries.FTS_DOCUMENT (without the table prefix) so that
# the planner recognises the indexed expression in search queries. 'simple': no stemming, which
# suits a register mixing Kazakh and Russian words and proper names.
DOCUMENT = (
    "to_tsvector('simple', coalesce(number, '') || ' ' || coalesce(applicant_name, '') || ' ' "
    "|| coalesce(summary, '') || ' ' || coalesce(text, ''))"
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX IF NOT EXISTS ix_fts_appeals ON appeals USING gin ({DOCUMENT})")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_fts_appeals")
