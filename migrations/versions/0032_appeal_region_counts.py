"""The appeal counts summed per region (appeal_region_counts), kept by the same triggers (issue 19).

Revision ID: 0032_appeal_region_counts
Revises: 0031_appeals_scope_indexes

The monthly summary of 0014 holds a row per office: the whole country's year-long dashboard summed
~67,000 day rows, ~15,000 category and channel rows and ~12,000 settlement rows of 202 offices
(70 ms for the days alone at 1,000,000 appeals; bench/RESULTS.md). A region's or the country's
figures need no office: ``appeal_region_counts`` holds the same cells summed per region (one row
where the office table has ten to twelve), and appeals.reports.summaries reads it for every region
a scope holds whole, the office table for the rest.

The triggers of 0014 now add each change to both tables in the same transaction (PostgreSQL: the
same statement-level functions, a second upsert; SQLite: a second statement in each row trigger).
Offices without a region count in the office table only. An office moved to another region moves
its counts with it (a trigger on offices; on PostgreSQL it first takes a SHARE lock on appeals, so
that no registration in flight adds to the region the office is leaving after its counts moved).

The table is filled from appeal_counts.
"""
import sqlalchemy as sa
from alembic import op

revision = "0032_appeal_region_counts"
down_revision = "0031_appeals_scope_indexes"
branch_labels = None
depends_on = None

# 0014's cells of an appeal row `r` (PostgreSQL), unchanged.
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

_PG_REGION_UPSERT = """
    INSERT INTO appeal_region_counts AS t (dim, month, region_id, key, appeals)
    SELECT c.dim, c.month, o.region_id, c.key, sum(c.delta) FROM ({cells}) AS c
    JOIN offices o ON o.id = c.office_id AND o.region_id IS NOT NULL
    GROUP BY c.dim, c.month, o.region_id, c.key
    HAVING sum(c.delta) <> 0
    ORDER BY c.dim, c.month, o.region_id, c.key
    ON CONFLICT (dim, month, region_id, key) DO UPDATE SET appeals = t.appeals + EXCLUDED.appeals;
"""


def _pg_cells(kind: str) -> str:
    if kind == "insert":
        return _PG_CELLS.format(sign="1", rows="new_rows")
    if kind == "delete":
        return _PG_CELLS.format(sign="-1", rows="old_rows")
    return _PG_CELLS.format(sign="-1", rows="old_rows") + " UNION ALL " + _PG_CELLS.format(sign="1", rows="new_rows")


def _pg_body(kind: str, regions: bool) -> str:
    body = _PG_UPSERT.format(cells=_pg_cells(kind))
    return body + _PG_REGION_UPSERT.format(cells=_pg_cells(kind)) if regions else body


_PG_OFFICE_MOVED = """
    LOCK TABLE appeals IN SHARE MODE;
    INSERT INTO appeal_region_counts AS t (dim, month, region_id, key, appeals)
    SELECT c.dim, c.month, m.region_id, c.key, sum(m.sign * c.appeals)
    FROM appeal_counts c CROSS JOIN (VALUES (OLD.region_id, -1), (NEW.region_id, 1)) AS m(region_id, sign)
    WHERE c.office_id = NEW.id AND m.region_id IS NOT NULL AND c.appeals <> 0
    GROUP BY c.dim, c.month, m.region_id, c.key
    ORDER BY c.dim, c.month, m.region_id, c.key
    ON CONFLICT (dim, month, region_id, key) DO UPDATE SET appeals = t.appeals + EXCLUDED.appeals;
"""

# 0014's row of an appeal `r` (SQLite), the office table's statement unchanged.
_SQLITE_CELLS = """
    SELECT 'day' AS dim, date({r}.received_at, 'start of month') AS month, strftime('%d', {r}.received_at) AS key
    UNION ALL SELECT 'category', date({r}.received_at, 'start of month'), coalesce(CAST({r}.category_id AS VARCHAR), '')
    UNION ALL SELECT 'channel', date({r}.received_at, 'start of month'), CAST({r}.channel AS VARCHAR)
    UNION ALL SELECT 'settlement', date({r}.received_at, 'start of month'), coalesce(CAST({r}.settlement_id AS VARCHAR), '')
"""
_SQLITE_VALUES = """
    INSERT INTO appeal_counts (dim, month, office_id, key, appeals)
    SELECT c.dim, c.month, {r}.office_id, c.key, {sign} FROM ({cells}) AS c WHERE true
    ON CONFLICT (dim, month, office_id, key) DO UPDATE SET appeals = appeals + excluded.appeals;
"""
_SQLITE_REGION_VALUES = """
    INSERT INTO appeal_region_counts (dim, month, region_id, key, appeals)
    SELECT c.dim, c.month, o.region_id, c.key, {sign} FROM ({cells}) AS c
    JOIN offices o ON o.id = {r}.office_id WHERE o.region_id IS NOT NULL
    ON CONFLICT (dim, month, region_id, key) DO UPDATE SET appeals = appeals + excluded.appeals;
"""
_SQLITE_CHANGED = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in
                              ("received_at", "office_id", "category_id", "channel", "settlement_id"))
_SQLITE_OFFICE_MOVED = """
    INSERT INTO appeal_region_counts (dim, month, region_id, key, appeals)
    SELECT dim, month, {r}.region_id, key, {sign} * appeals FROM appeal_counts
    WHERE office_id = NEW.id AND {r}.region_id IS NOT NULL AND appeals <> 0
    ON CONFLICT (dim, month, region_id, key) DO UPDATE SET appeals = appeals + excluded.appeals;
"""

_FILL = """
    INSERT INTO appeal_region_counts (dim, month, region_id, key, appeals)
    SELECT c.dim, c.month, o.region_id, c.key, sum(c.appeals) FROM appeal_counts c
    JOIN offices o ON o.id = c.office_id WHERE o.region_id IS NOT NULL
    GROUP BY c.dim, c.month, o.region_id, c.key
"""

_EVENTS = {"insert": ("INSERT", "NEW TABLE AS new_rows"), "delete": ("DELETE", "OLD TABLE AS old_rows"),
           "update": ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")}


def _sqlite_statements(kind: str, regions: bool) -> str:
    def both(r: str, sign: str) -> str:
        cells = _SQLITE_CELLS.format(r=r)
        text = _SQLITE_VALUES.format(r=r, sign=sign, cells=cells)
        return text + _SQLITE_REGION_VALUES.format(r=r, sign=sign, cells=cells) if regions else text
    if kind == "insert":
        return both("NEW", "1")
    if kind == "delete":
        return both("OLD", "-1")
    return both("OLD", "-1") + both("NEW", "1")


def _sqlite_trigger(kind: str, regions: bool) -> str:
    when = f" WHEN {_SQLITE_CHANGED}" if kind == "update" else ""
    return (f"CREATE TRIGGER qb_appeal_counts_{kind} AFTER {_EVENTS[kind][0]} ON appeals{when} BEGIN "
            f"{_sqlite_statements(kind, regions)} END")


def _set_triggers(regions: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for kind in _EVENTS:
            op.execute(f"CREATE OR REPLACE FUNCTION qb_appeal_counts_{kind}() RETURNS trigger LANGUAGE plpgsql AS "
                       f"$$ BEGIN {_pg_body(kind, regions)} RETURN NULL; END $$")
    else:
        for kind in _EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS qb_appeal_counts_{kind}")
            op.execute(_sqlite_trigger(kind, regions))


def upgrade():
    op.create_table(
        "appeal_region_counts",
        sa.Column("dim", sa.String(10), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("appeals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dim", "month", "region_id", "key", name=op.f("pk_appeal_region_counts")),
    )
    _set_triggers(regions=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION qb_appeal_counts_office_moved() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN {_PG_OFFICE_MOVED} RETURN NULL; END $$")
        op.execute("CREATE TRIGGER qb_appeal_counts_office_moved AFTER UPDATE OF region_id ON offices FOR EACH ROW "
                   "WHEN (OLD.region_id IS DISTINCT FROM NEW.region_id) EXECUTE FUNCTION qb_appeal_counts_office_moved()")
    else:
        op.execute("CREATE TRIGGER qb_appeal_counts_office_moved AFTER UPDATE OF region_id ON offices "
                   "WHEN OLD.region_id IS NOT NEW.region_id BEGIN "
                   f"{_SQLITE_OFFICE_MOVED.format(r='OLD', sign='-1')} {_SQLITE_OFFICE_MOVED.format(r='NEW', sign='1')} END")
    op.execute(_FILL)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS qb_appeal_counts_office_moved ON offices")
        op.execute("DROP FUNCTION IF EXISTS qb_appeal_counts_office_moved()")
    else:
        op.execute("DROP TRIGGER IF EXISTS qb_appeal_counts_office_moved")
    _set_triggers(regions=False)
    op.drop_table("appeal_region_counts")
