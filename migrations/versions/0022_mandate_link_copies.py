"""Mandate links carry copies of their appeal's received time and office and their mandate's status.

Revision ID: 0022_mandate_link_copies
Revises: 0021_user_main_office

The period's mandate figures (of its appeals: registered as mandates, mandates from them, fulfilled)
joined every appeal of the period to the links and the mandates: at 300,000 appeals a year that is the
whole cost of a year's dashboard (bench/RESULTS.md). With the copies, they read the standing links
of the period alone, through one partial index (covering on PostgreSQL). Triggers keep the copies
in the transaction of every change: a new or re-pointed link takes them from its appeal and mandate,
a change of an appeal's received time or office and of a mandate's status is copied to its links.
"""
import sqlalchemy as sa
from alembic import op

revision = "0022_mandate_link_copies"
down_revision = "0021_user_main_office"
branch_labels = None
depends_on = None

_PG = [
    """CREATE FUNCTION qb_link_copies() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        SELECT a.received_at, a.office_id INTO NEW.appeal_received_at, NEW.appeal_office_id
            FROM appeals a WHERE a.id = NEW.appeal_id;
        SELECT m.status INTO NEW.mandate_status FROM mandates m WHERE m.id = NEW.mandate_id;
        RETURN NEW; END $$""",
    """CREATE TRIGGER qb_link_copies BEFORE INSERT OR UPDATE OF appeal_id, mandate_id ON mandate_appeals
        FOR EACH ROW EXECUTE FUNCTION qb_link_copies()""",
    """CREATE FUNCTION qb_link_copies_appeal() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        UPDATE mandate_appeals SET appeal_received_at = NEW.received_at, appeal_office_id = NEW.office_id
            WHERE appeal_id = NEW.id;
        RETURN NULL; END $$""",
    """CREATE TRIGGER qb_link_copies_appeal AFTER UPDATE OF received_at, office_id ON appeals FOR EACH ROW
        WHEN (OLD.received_at IS DISTINCT FROM NEW.received_at OR OLD.office_id IS DISTINCT FROM NEW.office_id)
        EXECUTE FUNCTION qb_link_copies_appeal()""",
    """CREATE FUNCTION qb_link_copies_mandate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        UPDATE mandate_appeals SET mandate_status = NEW.status WHERE mandate_id = NEW.id;
        RETURN NULL; END $$""",
    """CREATE TRIGGER qb_link_copies_mandate AFTER UPDATE OF status ON mandates FOR EACH ROW
        WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION qb_link_copies_mandate()""",
]
_SQLITE_COPY = """UPDATE mandate_appeals SET
        appeal_received_at = (SELECT received_at FROM appeals WHERE id = NEW.appeal_id),
        appeal_office_id = (SELECT office_id FROM appeals WHERE id = NEW.appeal_id),
        mandate_status = (SELECT status FROM mandates WHERE id = NEW.mandate_id)
    WHERE id = NEW.id;"""
_SQLITE = [
    f"CREATE TRIGGER qb_link_copies AFTER INSERT ON mandate_appeals BEGIN {_SQLITE_COPY} END",
    f"CREATE TRIGGER qb_link_copies_update AFTER UPDATE OF appeal_id, mandate_id ON mandate_appeals BEGIN {_SQLITE_COPY} END",
    """CREATE TRIGGER qb_link_copies_appeal AFTER UPDATE OF received_at, office_id ON appeals BEGIN
        UPDATE mandate_appeals SET appeal_received_at = NEW.received_at, appeal_office_id = NEW.office_id
            WHERE appeal_id = NEW.id; END""",
    """CREATE TRIGGER qb_link_copies_mandate AFTER UPDATE OF status ON mandates BEGIN
        UPDATE mandate_appeals SET mandate_status = NEW.status WHERE mandate_id = NEW.id; END""",
]
_BACKFILL = """UPDATE mandate_appeals SET
    appeal_received_at = (SELECT received_at FROM appeals WHERE appeals.id = mandate_appeals.appeal_id),
    appeal_office_id = (SELECT office_id FROM appeals WHERE appeals.id = mandate_appeals.appeal_id),
    mandate_status = (SELECT status FROM mandates WHERE mandates.id = mandate_appeals.mandate_id)"""


def upgrade():
    with op.batch_alter_table("mandate_appeals") as batch:
        batch.add_column(sa.Column("appeal_received_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("appeal_office_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("mandate_status", sa.String(24), nullable=True))
    op.execute(_BACKFILL)
    op.create_index("ix_mandate_appeals_received", "mandate_appeals", ["appeal_received_at"],
                    postgresql_include=["appeal_office_id", "appeal_id", "mandate_id", "mandate_status"],
                    postgresql_where=sa.text("removed_at IS NULL"), sqlite_where=sa.text("removed_at IS NULL"))
    for statement in (_PG if op.get_bind().dialect.name == "postgresql" else _SQLITE):
        op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, table in (("qb_link_copies", "mandate_appeals"), ("qb_link_copies_update", "mandate_appeals"),
                        ("qb_link_copies_appeal", "appeals"), ("qb_link_copies_mandate", "mandates")):
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}" if postgresql else f"DROP TRIGGER IF EXISTS {name}")
    if postgresql:
        for name in ("qb_link_copies", "qb_link_copies_appeal", "qb_link_copies_mandate"):
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_mandate_appeals_received", table_name="mandate_appeals")
    with op.batch_alter_table("mandate_appeals") as batch:
        batch.drop_column("mandate_status")
        batch.drop_column("appeal_office_id")
        batch.drop_column("appeal_received_at")
