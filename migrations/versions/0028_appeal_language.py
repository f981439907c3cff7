"""The appeal's language (issue 16): the language the applicant is written to, in notices and the
answer letter. Existing appeals get Kazakh, the default they were written to until now.

Revision ID: 0028_appeal_language
Revises: 0027_dashboard_covering_indexes

On SQLite the column goes in by a plain ADD COLUMN with its CHECK written inline (batch mode adds a
column without copying the table, but drops a type's CHECK on the way; a copy would drop the
appeal-count triggers of 0014 and 0022 and rewrite every row). PostgreSQL adds the constraint itself.
"""
import sqlalchemy as sa
from alembic import op

revision = "0028_appeal_language"
down_revision = "0027_dashboard_covering_indexes"
branch_labels = None
depends_on = None

LANGUAGES = ("kk", "ru", "en")
CHECK = "ck_appeals_appeal_language"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        allowed = ", ".join(f"'{code}'" for code in LANGUAGES)
        op.execute(f"ALTER TABLE appeals ADD COLUMN language VARCHAR(24) DEFAULT 'kk' NOT NULL "
                   f"CONSTRAINT {CHECK} CHECK (language IN ({allowed}))")
        return
    with op.batch_alter_table("appeals") as batch:
        batch.add_column(sa.Column("language", sa.String(length=24), server_default="kk", nullable=False))
        batch.create_check_constraint(op.f(CHECK), sa.column("language").in_(LANGUAGES))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column whose only CHECK is its own in place (no copy, the triggers stay).
        op.execute("ALTER TABLE appeals DROP COLUMN language")
        return
    with op.batch_alter_table("appeals") as batch:
        batch.drop_constraint(op.f(CHECK), type_="check")
        batch.drop_column("language")
