"""Jobs run by worker processes: input, locale, attempts and a heartbeat lease; results in the database.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("input", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("locale", sa.String(length=8), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("worker", sa.String(length=120), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        batch_op.create_index("ix_jobs_status_user", ["status", "user_id"], unique=False)
    # A job left "running" by the old in-process threads has no worker that could finish it.
    op.execute("UPDATE jobs SET status = 'failed', error = 'Interrupted by the upgrade.' WHERE status IN ('queued', 'running')")
    op.create_table(
        "job_results",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_results_job_id_jobs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_results")),
    )


def downgrade():
    op.drop_table("job_results")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_user")
        for column in ("started_at", "worker", "heartbeat_at", "attempts", "locale", "input"):
            batch_op.drop_column(column)
