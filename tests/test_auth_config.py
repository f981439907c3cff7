"""Production configuration checks (issue 13, finding 18)."""
import secrets

import pytest

from appeals import create_app


def _production(tmp_path, key):
    return {"ENV_NAME": "production", "SECRET_KEY": key, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
            "INSTANCE_PATH": str(tmp_path)}


# Ids of their own: a random key in a test id differs between xdist workers, which then refuse to run.
@pytest.mark.parametrize("key", ["abc", "abc" * 11, "0" * 64, "2026-12-01" * 4, secrets.token_hex(8)],
                         ids=["short", "repeated", "zeros", "date", "random-8-bytes"])
def test_production_refuses_a_short_or_guessable_secret_key(tmp_path, key):
    with pytest.raises(RuntimeError, match="at least 32 random bytes"):
        create_app(_production(tmp_path, key))


@pytest.mark.parametrize("key", [secrets.token_hex(32), secrets.token_urlsafe(32)], ids=["hex", "urlsafe"])
def test_production_accepts_a_random_secret_key(tmp_path, key):
    app = create_app(_production(tmp_path, key))
    assert app.config["SECRET_KEY"] == key


def test_development_accepts_any_key(tmp_path):
    app = create_app({"SECRET_KEY": "abc", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    assert app.config["SECRET_KEY"] == "abc"


def test_seed_demo_refuses_to_run_in_production(app, runner, app_ctx):
    import sqlalchemy as sa

    from appeals.auth.models import User
    from appeals.core.extensions import db

    app.config["ENV_NAME"] = "production"
    try:
        result = runner.invoke(args=["seed-demo"])
    finally:
        app.config["ENV_NAME"] = "testing"
    assert result.exit_code == 2
    assert "refuses to run when QABYLDAU_ENV=production" in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0

