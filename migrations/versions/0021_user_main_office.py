"""A main office per user: the new-appeal form's default office (issue 14, item 3).

Revision ID: 0021_user_main_office
Revises: 0020_online_appeals

Nullable: existing accounts keep the old default (the office registered for last, else the
regional one) until the admin sets it. A plain ADD COLUMN on both databases (SQLite takes the
REFERENCES clause inline), so the users table, referenced from everywhere, is never rebuilt.
"""
import sqlalchemy as sa
from alembic import op

revision = "0021_user_main_office"
down_revision = "0020_online_appeals"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # Alembic would want a batch rebuild of users for the constraint; SQLite takes it inline.
        op.execute("ALTER TABLE users ADD COLUMN main_office_id INTEGER CONSTRAINT fk_users_main_office_id_offices "
                   "REFERENCES offices (id)")
        return
    op.add_column("users", sa.Column(
        "main_office_id", sa.Integer(),
        sa.ForeignKey("offices.id", name="fk_users_main_office_id_offices"), nullable=True))


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_users_main_office_id_offices", "users", type_="foreignkey")
    op.drop_column("users", "main_office_id")
