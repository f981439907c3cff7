"""The central office's level: a "central" role, offices, coordinators and directives by region.

Revision ID: 0019_central_office_regions
Revises: 0018_bookings_citizen_notices

One instance serves the whole country. An office belongs to a region (offices.region_id), a
coordinator or viewer works for one (users.region_id), and a directive is either the central
office's, to every region (directives.region_id NULL), or a region's own.

Existing rows are filled in so that nothing changes for a one-region installation: an office takes
its district's region, else its parent office's, else the only region there is; coordinators and
viewers, who saw everything until now, get the only region (with several regions an administrator
assigns them: until then they see nothing); existing directives were the region's own, so with one
region they become that region's (with none or several they stay central).
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_central_office_regions"
down_revision = "0018_bookings_citizen_notices"
branch_labels = None
depends_on = None

OLD_ROLES = ("admin", "coordinator", "clerk", "host", "viewer")
NEW_ROLES = ("admin", "central", "coordinator", "clerk", "host", "viewer")


def _role_type(values):
    return sa.Enum(*values, name="user_role", native_enum=False, create_constraint=True, length=24)


def _set_role_check(values):
    bind = op.get_bind()
    allowed = ", ".join(f"'{value}'" for value in values)
    if bind.dialect.name == "sqlite":
        # SQLite cannot alter a CHECK constraint: the batch copies the table with the new one.
        with op.batch_alter_table("users", recreate="always") as batch_op:
            batch_op.alter_column("role", existing_type=_role_type(OLD_ROLES if values == NEW_ROLES else NEW_ROLES),
                                  type_=_role_type(values), existing_nullable=False)
    else:
        op.drop_constraint(op.f("ck_users_user_role"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_user_role"), "users", f"role IN ({allowed})")


def _fill_regions():
    bind = op.get_bind()
    regions = sa.table("regions", sa.column("id", sa.Integer))
    districts = sa.table("districts", sa.column("id", sa.Integer), sa.column("region_id", sa.Integer))
    offices = sa.table("offices", sa.column("id", sa.Integer), sa.column("region_id", sa.Integer),
                       sa.column("district_id", sa.Integer), sa.column("parent_id", sa.Integer))
    users = sa.table("users", sa.column("region_id", sa.Integer), sa.column("role", sa.String))
    directives = sa.table("directives", sa.column("region_id", sa.Integer))
    bind.execute(offices.update().where(offices.c.district_id.is_not(None)).values(
        region_id=sa.select(districts.c.region_id).where(districts.c.id == offices.c.district_id).scalar_subquery()))
    parent = offices.alias("parent")
    bind.execute(offices.update().where(offices.c.region_id.is_(None), offices.c.parent_id.is_not(None)).values(
        region_id=sa.select(parent.c.region_id).where(parent.c.id == offices.c.parent_id).scalar_subquery()))
    region_ids = bind.execute(sa.select(regions.c.id)).scalars().all()
    if len(region_ids) == 1:
        only = region_ids[0]
        bind.execute(offices.update().where(offices.c.region_id.is_(None)).values(region_id=only))
        bind.execute(users.update().where(users.c.role.in_(("coordinator", "viewer"))).values(region_id=only))
        bind.execute(directives.update().values(region_id=only))


def upgrade():
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_offices_region_id"), ["region_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_offices_region_id_regions"), "regions", ["region_id"], ["id"])
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_users_region_id"), ["region_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_users_region_id_regions"), "regions", ["region_id"], ["id"])
    with op.batch_alter_table("directives", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_directives_region_id"), ["region_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_directives_region_id_regions"), "regions", ["region_id"], ["id"])
    _set_role_check(NEW_ROLES)
    _fill_regions()


def downgrade():
    users = sa.table("users", sa.column("role", sa.String))
    # A central-office account has no place in the old roles: it becomes a viewer (sees, changes nothing).
    op.get_bind().execute(users.update().where(users.c.role == "central").values(role="viewer"))
    _set_role_check(OLD_ROLES)
    for table in ("directives", "users", "offices"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_region_id_regions"), type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_region_id"))
            batch_op.drop_column("region_id")
