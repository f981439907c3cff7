"""Appeal counts per month and office (appeal_counts), kept by triggers in the same transaction.

Revision ID: 0014_appeal_counts_summary
Revises: 0013_mandate_public_text

The dashboard over a year read every appeal of the year five times (grouped by week, category,
channel, office and district): 3 s p95 at 1,000,000 appeals under load (bench/RESULTS.md). The
summary holds, per month and office, the appeals by day, category, channel and settlement
(appeals.reports.summaries). Triggers keep it in the transaction of every change of an appeal:

- PostgreSQL: statement-level triggers with transition tables, so an import or a bulk INSERT adds its
  rows grouped, in one upsert per statement (rows ordered by key, the same lock order for everyone);
- SQLite: row-level triggers (SQLite has no statement-level ones).

The table is filled from the appeals already there.
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_appeal_counts_summary"
down_revision = "0013_mandate_public_text"
branch_labels = None
depends_on = None

# One row per dimension of an appeal row `r` (PostgreSQL): the summary's key.
_PG_CELLS = """
    SELECT v.dim, date_trunc('month', r.received_at)::date AS month, r.office_id, v.key, {sign} AS delta
    FROM {rows} r CROSS JOIN LATERAL (VALUES
        ('day', to_char(r.received_at, 'DD')),
        ('category', coalesce(CAST(r.category_id AS VARCHAR), '')),
        ('channel', CAST(r.channel AS VARCHAR)),
        ('settlement', coalesce(CAST(r.settlement_id AS VARCHAR), ''))) AS v(dim, key)
"""

_PG_UPSERT = """
    INSERT INTO appeal_counts AS t (dim, month, office_id, key, appeals)
    SELECT dim, month, office_id, key, sum(delta) FROM ({cells}) AS c
    GROUP BY dim, month, office_id, key
    HAVING sum(delta) <> 0
    ORDER BY dim, month, office_id, key
    ON CONFLICT (dim, month, office_id, key) DO UPDATE SET appeals = t.appeals + EXCLUDED.appeals;
"""

_PG_FUNCTIONS = {
    "qb_appeal_counts_insert": _PG_UPSERT.format(cells=_PG_CELLS.format(sign="1", rows="new_rows")),
    "qb_appeal_counts_delete": _PG_UPSERT.format(cells=_PG_CELLS.format(sign="-1", rows="old_rows")),
    "qb_appeal_counts_update": _PG_UPSERT.format(
        cells=_PG_CELLS.format(sign="-1", rows="old_rows") + " UNION ALL "
        + _PG_CELLS.format(sign="1", rows="new_rows")),
}
_PG_EVENTS = {"qb_appeal_counts_insert": ("INSERT", "NEW TABLE AS new_rows"),
              "qb_appeal_counts_delete": ("DELETE", "OLD TABLE AS old_rows"),
              "qb_appeal_counts_update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")}

_SQLITE_VALUES = """
    INSERT INTO appeal_counts (dim, month, office_id, key, appeals) VALUES
        ('day', date({r}.received_at, 'start of month'), {r}.office_id, strftime('%d', {r}.received_at), {sign}),
        ('category', date({r}.received_at, 'start of month'), {r}.office_id,
         coalesce(CAST({r}.category_id AS VARCHAR), ''), {sign}),
        ('channel', date({r}.received_at, 'start of month'), {r}.office_id, CAST({r}.channel AS VARCHAR), {sign}),
        ('settlement', date({r}.received_at, 'start of month'), {r}.office_id,
         coalesce(CAST({r}.settlement_id AS VARCHAR), ''), {sign})
    ON CONFLICT (dim, month, office_id, key) DO UPDATE SET appeals = appeals + excluded.appeals;
"""
_SQLITE_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in
                              ("received_at", "office_id", "category_id", "channel", "settlement_id"))

_REBUILD_PG = """
    INSERT INTO appeal_counts (dim, month, office_id, key, appeals)
    SELECT dim, month, office_id, key, sum(delta) FROM ({cells}) AS c GROUP BY dim, month, office_id, key
""".format(cells=_PG_CELLS.format(sign="1", rows="appeals"))
_REBUILD_SQLITE = """
    INSERT INTO appeal_counts (dim, month, office_id, key, appeals)
    SELECT dim, month, office_id, key, count(*) FROM (
        SELECT 'day' AS dim, date(received_at, 'start of month') AS month, office_id, strftime('%d', received_at) AS key FROM appeals
        UNION ALL SELECT 'category', date(received_at, 'start of month'), office_id, coalesce(CAST(category_id AS VARCHAR), '') FROM appeals
        UNION ALL SELECT 'channel', date(received_at, 'start of month'), office_id, CAST(channel AS VARCHAR) FROM appeals
        UNION ALL SELECT 'settlement', date(received_at, 'start of month'), office_id, coalesce(CAST(settlement_id AS VARCHAR), '') FROM appeals
    ) GROUP BY dim, month, office_id, key
"""


def upgrade():
    op.create_table(
        "appeal_counts",
        sa.Column("dim", sa.String(10), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("appeals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dim", "month", "office_id", "key", name=op.f("pk_appeal_counts")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for name, body in _PG_FUNCTIONS.items():
            event, referencing = _PG_EVENTS[name]
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$")
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON appeals REFERENCING {referencing} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
        op.execute(_REBUILD_PG)
    else:
        op.execute(f"CREATE TRIGGER qb_appeal_counts_insert AFTER INSERT ON appeals BEGIN "
                   f"{_SQLITE_VALUES.format(r='NEW', sign='1')} END")
        op.execute(f"CREATE TRIGGER qb_appeal_counts_delete AFTER DELETE ON appeals BEGIN "
                   f"{_SQLITE_VALUES.format(r='OLD', sign='-1')} END")
        op.execute(f"CREATE TRIGGER qb_appeal_counts_update AFTER UPDATE ON appeals WHEN {_SQLITE_CHANGED} BEGIN "
                   f"{_SQLITE_VALUES.format(r='OLD', sign='-1')} {_SQLITE_VALUES.format(r='NEW', sign='1')} END")
        op.execute(_REBUILD_SQLITE)


def downgrade():
    for name in _PG_FUNCTIONS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON appeals" if op.get_bind().dialect.name == "postgresql"
                   else f"DROP TRIGGER IF EXISTS {name}")
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_table("appeal_counts")
