"""Mandates: a responsible person (a user), and a reviewed public text of their own.

Revision ID: 0013_mandate_public_text
Revises: 0012_stored_files

Existing mandates get a draft public title made from their title (a copy of the appeal's summary)
with IIN-, phone-, e-mail- and address-like fragments and the applicants' names and addresses
hidden, the same pre-fill a new mandate gets; none is published until a coordinator approves it.
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_mandate_public_text"
down_revision = "0012_stored_files"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("responsible_user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("public_title", sa.String(length=500), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("public_description", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column(
            "public_state", sa.Enum("draft", "published", name="mandate_public_state", native_enum=False,
                                    create_constraint=True, length=24),
            nullable=False, server_default="draft"))
        batch_op.add_column(sa.Column("public_approved_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("public_approved_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_mandates_responsible_user_id_users"), "users",
                                    ["responsible_user_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_mandates_public_approved_by_id_users"), "users",
                                    ["public_approved_by_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_mandates_responsible_user_id"), ["responsible_user_id"], unique=False)
        batch_op.create_index("ix_mandates_public", ["public_state", "status"], unique=False)
    prefill_public_titles(op.get_bind())


def prefill_public_titles(connection):
    """Draft public titles for mandates that have none; returns how many were written."""
    from appeals.core.privacy import redact_for_public

    mandates = sa.table("mandates", sa.column("id", sa.Integer), sa.column("title", sa.String),
                        sa.column("public_title", sa.String))
    links = sa.table("mandate_appeals", sa.column("mandate_id", sa.Integer), sa.column("appeal_id", sa.Integer))
    appeals = sa.table("appeals", sa.column("id", sa.Integer), sa.column("applicant_name", sa.String),
                       sa.column("address", sa.String), sa.column("iin", sa.String), sa.column("phone", sa.String))
    known: dict[int, list[str]] = {}
    for mandate_id, name, address, iin, phone in connection.execute(
            sa.select(links.c.mandate_id, appeals.c.applicant_name, appeals.c.address, appeals.c.iin, appeals.c.phone)
            .join(appeals, appeals.c.id == links.c.appeal_id)):
        known.setdefault(mandate_id, []).extend([*(name or "").split(), address or "", iin or "", phone or ""])
    written = 0
    for mandate_id, title in connection.execute(
            sa.select(mandates.c.id, mandates.c.title).where(mandates.c.public_title == "")).all():
        connection.execute(sa.update(mandates).where(mandates.c.id == mandate_id).values(
            public_title=redact_for_public(title, known.get(mandate_id, ()))[:500]))
        written += 1
    return written


def downgrade():
    with op.batch_alter_table("mandates", schema=None) as batch_op:
        batch_op.drop_index("ix_mandates_public")
        batch_op.drop_index(batch_op.f("ix_mandates_responsible_user_id"))
        batch_op.drop_constraint(batch_op.f("fk_mandates_public_approved_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_mandates_responsible_user_id_users"), type_="foreignkey")
        batch_op.drop_column("public_approved_at")
        batch_op.drop_column("public_approved_by_id")
        batch_op.drop_column("public_state")
        batch_op.drop_column("public_description")
        batch_op.drop_column("public_title")
        batch_op.drop_column("responsible_user_id")
