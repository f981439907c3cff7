"""Reference names in English, host positions in Russian and English (issue 14, item 13).

Revision ID: 0011_reference_names_en
Revises: 0010

Regions, districts, settlements and offices get ``name_en`` (categories had it since 0001), hosts
``position_ru`` and ``position_en`` (``position`` stays the Kazakh one). All are nullable: a missing
name falls back through appeals.core.models_base.LANGUAGE_FALLBACK, so existing rows read as before
until an administrator or a reference import fills them.
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_reference_names_en"
down_revision = "0010"
branch_labels = None
depends_on = None

NAMED = ("regions", "districts", "settlements", "offices")


def upgrade():
    for table in NAMED:
        op.add_column(table, sa.Column("name_en", sa.String(200), nullable=True))
    op.add_column("hosts", sa.Column("position_ru", sa.String(300), nullable=True))
    op.add_column("hosts", sa.Column("position_en", sa.String(300), nullable=True))


def downgrade():
    with op.batch_alter_table("hosts") as batch:
        batch.drop_column("position_en")
        batch.drop_column("position_ru")
    for table in NAMED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("name_en")
