"""The mandate figures of a period's appeals per month and office (mandate_link_counts), kept by triggers.

Revision ID: 0035_mandate_link_counts
Revises: 0034_mandate_counts

"Of them registered as mandates", "mandates from these appeals" and "of these mandates fulfilled" are
three distinct counts over the standing links of the period's appeals: a country's year is ~85,000
links sorted three times, 47–55 ms at 1,000,000 appeals, half of the dashboard's SQL (bench/RESULTS.md).
Distinct counts do not add up across months in general: a mandate formed from appeals of two months
counts once in both together. They do add up for every mandate whose standing links lie in one month
and office, which is nearly all of them, so two tables hold:

- ``mandate_link_counts``: per month (local, of the appeal's received time) and office of the appeal, the
  three counts over the standing links there whose mandate is not withdrawn;
- ``spanning_mandates``: the mandates whose such links lie in more than one month-and-office cell.

appeals.reports.summaries.link_measures() adds up the cells and corrects for the spanning mandates from
their own links (a handful of rows). Triggers on the links recompute every cell and mandate a statement
touched, from the links themselves (a distinct count has no delta), after locking the cell rows and the
mandates, so that two transactions changing one cell do not each write a count the other missed.
The links' copies of 0022 (the appeal's time and office, the mandate's status) reach these triggers
as updates of the links. An index on (office, received) of the standing links makes a cell's
recount a read of its own links. Both tables are filled from the links already there.
"""
import sqlalchemy as sa
from alembic import op

revision = "0035_mandate_link_counts"
down_revision = "0034_mandate_counts"
branch_labels = None
depends_on = None

_COUNTED = "l.removed_at IS NULL AND l.mandate_status <> 'withdrawn'"

# --- PostgreSQL: statement-level triggers; {rows}: the transition tables of the event -------------------
# The mandates are locked first: a change of a mandate's status holds its row before it reaches the links.
_PG_BODY = """
    PERFORM 1 FROM mandates m WHERE m.id IN (SELECT r.mandate_id FROM ({rows}) r) ORDER BY m.id FOR NO KEY UPDATE;
    INSERT INTO mandate_link_counts AS t (month, office_id, appeals, mandates, fulfilled)
    SELECT DISTINCT date_trunc('month', r.appeal_received_at)::date, r.appeal_office_id, 0, 0, 0 FROM ({rows}) r
    WHERE r.appeal_received_at IS NOT NULL AND r.appeal_office_id IS NOT NULL
    ORDER BY 1, 2
    ON CONFLICT (month, office_id) DO NOTHING;
    PERFORM 1 FROM mandate_link_counts t
    WHERE (t.month, t.office_id) IN (SELECT date_trunc('month', r.appeal_received_at)::date, r.appeal_office_id
                                     FROM ({rows}) r)
    ORDER BY t.month, t.office_id FOR UPDATE;
    UPDATE mandate_link_counts t SET (appeals, mandates, fulfilled) = (
        SELECT count(DISTINCT l.appeal_id), count(DISTINCT l.mandate_id),
               count(DISTINCT CASE WHEN l.mandate_status = 'fulfilled' THEN l.mandate_id END)
        FROM mandate_appeals l
        WHERE {counted} AND l.appeal_office_id = t.office_id
          AND l.appeal_received_at >= t.month AND l.appeal_received_at < t.month + interval '1 month')
    WHERE (t.month, t.office_id) IN (SELECT date_trunc('month', r.appeal_received_at)::date, r.appeal_office_id
                                     FROM ({rows}) r);
    DELETE FROM spanning_mandates s WHERE s.mandate_id IN (SELECT r.mandate_id FROM ({rows}) r);
    INSERT INTO spanning_mandates (mandate_id)
    SELECT l.mandate_id FROM mandate_appeals l
    WHERE {counted} AND l.mandate_id IN (SELECT r.mandate_id FROM ({rows}) r)
    GROUP BY l.mandate_id
    HAVING count(DISTINCT (date_trunc('month', l.appeal_received_at), l.appeal_office_id)) > 1;
"""
_PG_ROWS = {"insert": "SELECT * FROM new_rows", "delete": "SELECT * FROM old_rows",
            "update": "SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows"}
_PG_EVENTS = {"insert": ("INSERT", "NEW TABLE AS new_rows"), "delete": ("DELETE", "OLD TABLE AS old_rows"),
              "update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")}

# --- SQLite: row-level triggers, one writer at a time ------------------------------------------------------
_SQLITE_CELL = """
    INSERT INTO mandate_link_counts (month, office_id, appeals, mandates, fulfilled)
    SELECT date({r}.appeal_received_at, 'start of month'), {r}.appeal_office_id, 0, 0, 0
    WHERE {r}.appeal_received_at IS NOT NULL AND {r}.appeal_office_id IS NOT NULL
    ON CONFLICT (month, office_id) DO NOTHING;
    UPDATE mandate_link_counts SET
        appeals = (SELECT count(DISTINCT l.appeal_id) FROM mandate_appeals l WHERE {counted} AND {in_cell}),
        mandates = (SELECT count(DISTINCT l.mandate_id) FROM mandate_appeals l WHERE {counted} AND {in_cell}),
        fulfilled = (SELECT count(DISTINCT l.mandate_id) FROM mandate_appeals l
                     WHERE {counted} AND {in_cell} AND l.mandate_status = 'fulfilled')
    WHERE month = date({r}.appeal_received_at, 'start of month') AND office_id = {r}.appeal_office_id;
    DELETE FROM spanning_mandates WHERE mandate_id = {r}.mandate_id;
    INSERT INTO spanning_mandates (mandate_id)
    SELECT l.mandate_id FROM mandate_appeals l WHERE {counted} AND l.mandate_id = {r}.mandate_id
    GROUP BY l.mandate_id
    HAVING count(DISTINCT date(l.appeal_received_at, 'start of month') || '|' || l.appeal_office_id) > 1;
"""
_IN_CELL = ("l.appeal_office_id = mandate_link_counts.office_id"
            " AND date(l.appeal_received_at, 'start of month') = mandate_link_counts.month")
_SQLITE_ROWS = {"insert": ("NEW",), "delete": ("OLD",), "update": ("OLD", "NEW")}
_SQLITE_COLUMNS = ("mandate_id", "appeal_id", "removed_at", "appeal_received_at", "appeal_office_id", "mandate_status")

_FILL = {
    "postgresql": [
        f"""INSERT INTO mandate_link_counts (month, office_id, appeals, mandates, fulfilled)
            SELECT date_trunc('month', l.appeal_received_at)::date, l.appeal_office_id, count(DISTINCT l.appeal_id),
                   count(DISTINCT l.mandate_id), count(DISTINCT CASE WHEN l.mandate_status = 'fulfilled' THEN l.mandate_id END)
            FROM mandate_appeals l WHERE {_COUNTED} AND l.appeal_received_at IS NOT NULL AND l.appeal_office_id IS NOT NULL
            GROUP BY 1, 2""",
        f"""INSERT INTO spanning_mandates (mandate_id) SELECT l.mandate_id FROM mandate_appeals l WHERE {_COUNTED}
            GROUP BY l.mandate_id HAVING count(DISTINCT (date_trunc('month', l.appeal_received_at), l.appeal_office_id)) > 1""",
    ],
    "sqlite": [
        f"""INSERT INTO mandate_link_counts (month, office_id, appeals, mandates, fulfilled)
            SELECT date(l.appeal_received_at, 'start of month'), l.appeal_office_id, count(DISTINCT l.appeal_id),
                   count(DISTINCT l.mandate_id), count(DISTINCT CASE WHEN l.mandate_status = 'fulfilled' THEN l.mandate_id END)
            FROM mandate_appeals l WHERE {_COUNTED} AND l.appeal_received_at IS NOT NULL AND l.appeal_office_id IS NOT NULL
            GROUP BY 1, 2""",
        f"""INSERT INTO spanning_mandates (mandate_id) SELECT l.mandate_id FROM mandate_appeals l WHERE {_COUNTED}
            GROUP BY l.mandate_id
            HAVING count(DISTINCT date(l.appeal_received_at, 'start of month') || '|' || l.appeal_office_id) > 1""",
    ],
}


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "mandate_link_counts",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("appeals", sa.Integer(), nullable=False),
        sa.Column("mandates", sa.Integer(), nullable=False),
        sa.Column("fulfilled", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "office_id", name=op.f("pk_mandate_link_counts"),
                                postgresql_include=["appeals", "mandates", "fulfilled"]),
    )
    op.create_table(
        "spanning_mandates",
        sa.Column("mandate_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("mandate_id", name=op.f("pk_spanning_mandates")),
    )
    op.create_index("ix_mandate_appeals_office_received", "mandate_appeals", ["appeal_office_id", "appeal_received_at"],
                    postgresql_where=sa.text("removed_at IS NULL"), sqlite_where=sa.text("removed_at IS NULL"))
    for kind in ("insert", "delete", "update"):
        name = f"qb_mandate_link_counts_{kind}"
        if postgresql:
            body = _PG_BODY.format(rows=_PG_ROWS[kind], counted=_COUNTED)
            event, referencing = _PG_EVENTS[kind]
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$")
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON mandate_appeals REFERENCING {referencing} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
        else:
            statements = "".join(_SQLITE_CELL.format(r=r, counted=_COUNTED, in_cell=_IN_CELL) for r in _SQLITE_ROWS[kind])
            when = ""
            if kind == "update":
                when = " WHEN " + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _SQLITE_COLUMNS)
            op.execute(f"CREATE TRIGGER {name} AFTER {kind.upper()} ON mandate_appeals{when} BEGIN {statements} END")
    for statement in _FILL["postgresql" if postgresql else "sqlite"]:
        op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for kind in ("insert", "delete", "update"):
        name = f"qb_mandate_link_counts_{kind}"
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON mandate_appeals" if postgresql else f"DROP TRIGGER IF EXISTS {name}")
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_mandate_appeals_office_received", table_name="mandate_appeals")
    op.drop_table("spanning_mandates")
    op.drop_table("mandate_link_counts")
