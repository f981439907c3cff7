"""Stored files: one store for attachments, photos and answer letters (appeals/core/storage.py).

Revision ID: 0012_stored_files
Revises: 0011_reference_names_en

The row always holds a file's type, size and SHA-256; its bytes too when RESULT_STORE is
"database", otherwise they live in the RESULT_STORE folder.
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_stored_files"
down_revision = "0011_reference_names_en"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stored_files",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=16), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_stored_files")),
    )


def downgrade():
    op.drop_table("stored_files")
