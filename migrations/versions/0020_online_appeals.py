"""Online appeals (issue 16, items 1-2): channel "online", the applicant's e-mail, the consent given and
the tracking code's digest on appeals; online_submissions holds a form until its code is typed back.

Revision ID: 0020_online_appeals
Revises: 0019_central_office_regions

Widening the channel's CHECK constraint on SQLite rewrites only the table's declaration (SQLite's
documented procedure for changes that leave the stored rows valid): a batch copy of `appeals` would
drop the appeal-count triggers of 0014 and rewrite a million rows.
"""
import re

import sqlalchemy as sa
from alembic import op

revision = "0020_online_appeals"
down_revision = "0019_central_office_regions"
branch_labels = None
depends_on = None

OLD = ("session", "door_to_door", "online_event", "phone", "letter", "email", "other")
NEW = (*OLD, "online")


def _check(values):
    return "channel IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def _set_channels(values):
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE appeals DROP CONSTRAINT ck_appeals_appeal_channel")
        op.execute(f"ALTER TABLE appeals ADD CONSTRAINT ck_appeals_appeal_channel CHECK ({_check(values)})")
        return
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'appeals'").scalar()
    pattern = re.compile(r"(CONSTRAINT ck_appeals_appeal_channel CHECK \()channel IN \([^)]*\)(\))")
    changed, count = pattern.subn(lambda m: m.group(1) + _check(values) + m.group(2), sql)
    if count != 1:
        raise RuntimeError("appeals: the channel constraint was not found")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'appeals'", (changed,))
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    if bind.exec_driver_sql("PRAGMA integrity_check").scalar() != "ok":
        raise RuntimeError("appeals: integrity check failed after widening the channel constraint")


def upgrade():
    _set_channels(NEW)
    # Plain ADD COLUMNs: a batch copy would drop the appeal-count triggers on SQLite.
    op.add_column("appeals", sa.Column("email", sa.String(length=254), nullable=False, server_default=""))
    op.add_column("appeals", sa.Column("consent_version", sa.String(length=20), nullable=True))
    op.add_column("appeals", sa.Column("consent_at", sa.DateTime(), nullable=True))
    op.add_column("appeals", sa.Column("tracking_code_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "online_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.Enum("pending", "registered", name="online_submission_state", native_enum=False,
                                   create_constraint=True, length=24), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("files", sa.JSON(), nullable=True),
        sa.Column("code_channel", sa.String(length=10), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["appeal_id"], ["appeals.id"], name=op.f("fk_online_submissions_appeal_id_appeals"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_online_submissions")),
        sa.UniqueConstraint("public_id", name=op.f("uq_online_submissions_public_id")),
    )
    with op.batch_alter_table("online_submissions") as batch_op:
        batch_op.create_index(batch_op.f("ix_online_submissions_expires_at"), ["expires_at"], unique=False)


def downgrade():
    op.drop_table("online_submissions")
    op.execute("UPDATE appeals SET channel = 'other' WHERE channel = 'online'")
    with op.batch_alter_table("appeals") as batch_op:
        for column in ("tracking_code_hash", "consent_at", "consent_version", "email"):
            batch_op.drop_column(column)
    _set_channels(OLD)
