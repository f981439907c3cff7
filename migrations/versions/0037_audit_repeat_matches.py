"""A partial index of the repeat check's matching look-ups per user and time (ix_audit_repeat_matches).

Revision ID: 0037_audit_repeat_matches
Revises: 0036_api_budget_in_rate_windows

Every registration with an IIN or phone counts the clerk's look-ups of the last hour that matched one
(REPEAT_CHECK_MATCHES_PER_HOUR). With indexes on user_id, action and created_at alone, that count read
a clerk's whole audit trail or everyone's last hour; the partial index holds only those look-ups, so the
count reads the clerk's last hour of them and other audit records cost nothing more to write.
"""
import sqlalchemy as sa
from alembic import op

revision = "0037_audit_repeat_matches"
down_revision = "0036_api_budget_in_rate_windows"
branch_labels = None
depends_on = None

WHERE = sa.text("action = 'repeat_check_matched'")


def upgrade():
    op.create_index("ix_audit_repeat_matches", "audit_records", ["user_id", "created_at"],
                    postgresql_where=WHERE, sqlite_where=WHERE)


def downgrade():
    op.drop_index("ix_audit_repeat_matches", table_name="audit_records")
