import pytest

from appeals import create_app
from config import Config


def test_factory_uses_given_config(app):
    assert app.testing
    assert app.config["SECRET_KEY"] == "test-secret-key"


def test_production_refuses_to_start_without_secret_key(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_development_generates_and_keeps_a_secret_key(tmp_path, monkeypatch):
    import config

    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    first = config.resolve_secret_key({"ENV_NAME": "development", "SECRET_KEY": None})
    second = config.resolve_secret_key({"ENV_NAME": "development", "SECRET_KEY": None})
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_unwritable_instance_folder_is_a_clear_start_up_error(tmp_path, monkeypatch):
    import appeals

    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    monkeypatch.setattr(appeals.Config, "INSTANCE_PATH", str(blocked / "instance"))
    with pytest.raises(RuntimeError, match="not writable"):
        create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})


def test_default_database_is_sqlite_in_instance_folder():
    assert Config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///") or Config.SQLALCHEMY_DATABASE_URI.startswith("postgresql")


def test_sqlite_runs_with_foreign_keys_and_wal(app):
    from appeals.core.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite pragmas")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_missing_page_is_a_translated_404(client):
    response = client.get("/no-such-page?lang=ru")
    assert response.status_code == 404
    assert "Страница не найдена" in response.get_data(as_text=True)


def test_a_forked_worker_opens_connections_of_its_own(app):
    """gunicorn --preload forks workers from a process that may hold pooled connections."""
    import os

    import sqlalchemy as sa

    from appeals.core.extensions import db

    with app.app_context():
        engine = db.engine
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar() == 1
        pooled = engine.pool.checkedin()
        assert pooled >= 1
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report what its pool holds, then leave at once
            os.close(read_end)
            try:
                inherited = engine.pool.checkedin()
                with engine.connect() as connection:
                    works = connection.execute(sa.text("SELECT 2")).scalar() == 2
                os.write(write_end, f"{inherited} {works}".encode())
            finally:
                os._exit(0)
        os.close(write_end)
        report = os.read(read_end, 100).decode()
        os.close(read_end)
        os.waitpid(pid, 0)
        assert report == "0 True"
        # The parent's connections were left open for it and still work.
        assert engine.pool.checkedin() == pooled
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 3")).scalar() == 3
