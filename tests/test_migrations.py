"""`db upgrade` on an empty database gives exactly the models' schema (SQLite and PostgreSQL)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from appeals.core.extensions import db


def _ignored(obj, name, type_, reflected, compare_to):
    # PostgreSQL only, declared in hand-written revisions: the full-text index and the stored search
    # document it is built on (0030, computed by PostgreSQL and named in SQL only).
    if type_ == "column" and name == "search_document" and obj.table.name == "appeals":
        return False
    return not (type_ == "index" and name and name.startswith("ix_fts_"))


def test_upgrade_matches_models(app):
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": _ignored}
            )
            differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_are_at_head(app):
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
        with db.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
    assert len(heads) == 1
    assert set(current) == set(heads)


def test_sqlite_connections_enforce_foreign_keys_after_migrating(app, db):
    # Migrations turn enforcement off while they run (migrations/env.py); the connection they used goes
    # back to the pool and must enforce again, or every later write could point at nothing.
    import pytest
    import sqlalchemy as sa

    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("a SQLite connection's setting")
    assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
