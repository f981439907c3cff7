"""The API's per-token budget is counted in rate_windows with the per-account one (api_rate_windows dropped).

Revision ID: 0036_api_budget_in_rate_windows
Revises: 0035_mandate_link_counts

Every API request counted its token's minute in api_rate_windows and its account's in rate_windows: two
upserts, each on a connection of its own with its own commit. appeals.api.tokens.take_slots now counts
both in rate_windows (scopes "api-token" and "api-user") with one statement. The minutes counted so far
are not carried over: a budget is a minute long.
"""
import sqlalchemy as sa
from alembic import op

revision = "0036_api_budget_in_rate_windows"
down_revision = "0035_mandate_link_counts"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table("api_rate_windows")


def downgrade():
    op.create_table(
        "api_rate_windows",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], name=op.f("fk_api_rate_windows_token_id_api_tokens"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_id", "window_start", name=op.f("pk_api_rate_windows")),
    )
