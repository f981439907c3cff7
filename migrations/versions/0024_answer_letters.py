"""Answer letters: one row per letter (its PDF in stored_files) and the admin's templates per type and language.

Revision ID: 0024_answer_letters
Revises: 0023_mandate_reports
"""
import sqlalchemy as sa
from alembic import op

revision = "0024_answer_letters"
down_revision = "0023_mandate_reports"
branch_labels = None
depends_on = None

APPEAL_TYPES = ("statement", "complaint", "proposal", "response", "request")


def upgrade():
    op.create_table(
        "answer_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appeal_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("status", sa.Enum("pending", "made", "failed", name="letter_status", native_enum=False,
                                    create_constraint=True, length=24), nullable=False),
        sa.Column("delivery", sa.Enum("email", "post", name="letter_delivery", native_enum=False,
                                      create_constraint=True, length=24), nullable=False),
        sa.Column("file_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("made_at", sa.DateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["appeal_id"], ["appeals.id"], name=op.f("fk_answer_letters_appeal_id_appeals"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_answer_letters_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_letters")),
    )
    with op.batch_alter_table("answer_letters") as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_letters_appeal_id"), ["appeal_id"], unique=False)
    op.create_table(
        "letter_templates",
        sa.Column("appeal_type", sa.Enum(*APPEAL_TYPES, name="letter_appeal_type", native_enum=False,
                                         create_constraint=True, length=24), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("opening", sa.Text(), nullable=False),
        sa.Column("closing", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"], name=op.f("fk_letter_templates_updated_by_id_users")),
        sa.PrimaryKeyConstraint("appeal_type", "locale", name=op.f("pk_letter_templates")),
    )


def downgrade():
    op.drop_table("letter_templates")
    op.drop_table("answer_letters")
