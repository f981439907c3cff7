"""Mandates registered per month, office and status (mandate_counts), kept by triggers (issue 19).

Revision ID: 0034_mandate_counts
Revises: 0033_summary_index_only

"Mandates registered in the period, by status" read every mandate registered in the period from
ix_mandates_created: a country's year is ~100,000 index entries, 23–39 ms at 1,000,000 appeals
(bench/RESULTS.md). The summary holds, per month of the registration time as stored (UTC: the
branch's time zone is a setting, and a trigger must not depend on it), office (0: none) and current
status, the number of mandates. appeals.reports.summaries reads the UTC months a period holds whole
from it and the rest from the mandates (appeals.reports.summaries.plan_span).

Triggers keep it in the transaction of every change, as for appeal_counts (0014): statement-level
with transition tables on PostgreSQL (an update that changes none of the three columns nets to no
row), row-level on SQLite. The table is filled from the mandates already there.
"""
import sqlalchemy as sa
from alembic import op

revision = "0034_mandate_counts"
down_revision = "0033_summary_index_only"
branch_labels = None
depends_on = None

_PG_CELLS = """
    SELECT date_trunc('month', r.created_at)::date AS month, coalesce(r.office_id, 0) AS office_id,
           CAST(r.status AS VARCHAR) AS status, {sign} AS delta
    FROM {rows} r
"""
_PG_UPSERT = """
    INSERT INTO mandate_counts AS t (month, office_id, status, mandates)
    SELECT month, office_id, status, sum(delta) FROM ({cells}) AS c
    GROUP BY month, office_id, status
    HAVING sum(delta) <> 0
    ORDER BY month, office_id, status
    ON CONFLICT (month, office_id, status) DO UPDATE SET mandates = t.mandates + EXCLUDED.mandates;
"""
_PG_FUNCTIONS = {
    "qb_mandate_counts_insert": _PG_UPSERT.format(cells=_PG_CELLS.format(sign="1", rows="new_rows")),
    "qb_mandate_counts_delete": _PG_UPSERT.format(cells=_PG_CELLS.format(sign="-1", rows="old_rows")),
    "qb_mandate_counts_update": _PG_UPSERT.format(
        cells=_PG_CELLS.format(sign="-1", rows="old_rows") + " UNION ALL " + _PG_CELLS.format(sign="1", rows="new_rows")),
}
_PG_EVENTS = {"qb_mandate_counts_insert": ("INSERT", "NEW TABLE AS new_rows"),
              "qb_mandate_counts_delete": ("DELETE", "OLD TABLE AS old_rows"),
              "qb_mandate_counts_update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")}

_SQLITE_VALUES = """
    INSERT INTO mandate_counts (month, office_id, status, mandates)
    VALUES (date({r}.created_at, 'start of month'), coalesce({r}.office_id, 0), CAST({r}.status AS VARCHAR), {sign})
    ON CONFLICT (month, office_id, status) DO UPDATE SET mandates = mandates + excluded.mandates;
"""
_SQLITE_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in ("created_at", "office_id", "status"))
_SQLITE_TRIGGERS = {
    "qb_mandate_counts_insert": f"AFTER INSERT ON mandates BEGIN {_SQLITE_VALUES.format(r='NEW', sign='1')} END",
    "qb_mandate_counts_delete": f"AFTER DELETE ON mandates BEGIN {_SQLITE_VALUES.format(r='OLD', sign='-1')} END",
    "qb_mandate_counts_update": f"AFTER UPDATE ON mandates WHEN {_SQLITE_CHANGED} BEGIN "
                                f"{_SQLITE_VALUES.format(r='OLD', sign='-1')} {_SQLITE_VALUES.format(r='NEW', sign='1')} END",
}

_FILL = {
    "postgresql": "INSERT INTO mandate_counts (month, office_id, status, mandates) SELECT date_trunc('month', created_at)::date,"
                  " coalesce(office_id, 0), status, count(*) FROM mandates GROUP BY 1, 2, 3",
    "sqlite": "INSERT INTO mandate_counts (month, office_id, status, mandates) SELECT date(created_at, 'start of month'),"
              " coalesce(office_id, 0), status, count(*) FROM mandates GROUP BY 1, 2, 3",
}


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        "mandate_counts",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("mandates", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "office_id", "status", name=op.f("pk_mandate_counts"),
                                postgresql_include=["mandates"]),
    )
    for name in _PG_FUNCTIONS:
        if dialect == "postgresql":
            event, referencing = _PG_EVENTS[name]
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                       f"$$ BEGIN {_PG_FUNCTIONS[name]} RETURN NULL; END $$")
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON mandates REFERENCING {referencing} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
        else:
            op.execute(f"CREATE TRIGGER {name} {_SQLITE_TRIGGERS[name]}")
    op.execute(_FILL["postgresql" if dialect == "postgresql" else "sqlite"])


def downgrade():
    dialect = op.get_bind().dialect.name
    for name in _PG_FUNCTIONS:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON mandates")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("mandate_counts")
