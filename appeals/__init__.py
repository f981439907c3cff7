"""Qabyldau: citizen receptions, the appeals register and mandates for a party's regional branch."""
import functools
import logging
import os
import stat
import uuid
from pathlib import Path

from flask import Flask

from config import Config, resolve_secret_key

PROJECT_DIR = Path(__file__).resolve().parent.parent


def create_app(config=None):
    app = Flask(
        __name__,
        template_folder=str(PROJECT_DIR / "templates"),
        instance_path=Config.INSTANCE_PATH,
        instance_relative_config=False,
    )
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    app.config["SECRET_KEY"] = resolve_secret_key(app.config)
    _ensure_instance_folder(app)

    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)

    from appeals.core import errors, web

    errors.init_app(app)
    web.init_app(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app):
    """Behind TRUSTED_PROXY_HOPS proxies, the client's address, scheme and host come from them.

    Without this every request seems to come from nginx (127.0.0.1): login throttling would count
    the whole organisation as one address and the audit trail would record the proxy. With hops
    set while clients can reach gunicorn directly, anyone could claim any address: keep it 0 then.
    """
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _ensure_instance_folder(app):
    """Fail at start-up, with a clear message, when the instance folder cannot be written.

    The folder holds the SQLite database, generated documents and cached chunks (citizens' data)
    and the development secret key: it is the service account's alone (0700), and so is every
    file the process creates from here on (umask 077: 0600 files, the database's WAL and SHM,
    backups written by export-data included). Files left readable by an older version are
    tightened at start-up.
    """
    path = Path(app.instance_path)
    os.umask(0o077)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        _restrict(path)
        # A probe of this process's own: a web server and its workers start together on one folder,
        # and a shared name let one process delete the probe another was still checking.
        probe = path / f".write-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise RuntimeError(f"Instance folder {path} is not writable: {exc.strerror}") from exc


def _restrict(folder):
    folder.chmod(0o700)
    for entry in folder.rglob("*"):
        try:
            mode = entry.lstat().st_mode
            if stat.S_ISLNK(mode):
                continue
            wanted = 0o700 if stat.S_ISDIR(mode) else 0o600
            if stat.S_IMODE(mode) & 0o077:
                entry.chmod(stat.S_IMODE(mode) & wanted)
        except FileNotFoundError:
            continue


def _init_extensions(app):
    from appeals import models  # noqa: F401  (every table known to the metadata and to Alembic)
    from appeals.core.database import configure_engine
    from appeals.core.extensions import babel, csrf, db, login_manager, migrate
    from appeals.core.i18n import select_locale, select_timezone

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config.get("DATABASE_PING_AFTER_IDLE_SECONDS", 1.0))
    migrate.init_app(app, db, directory=str(PROJECT_DIR / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    login_manager.init_app(app)
    from appeals.core.queue import init_queue

    init_queue(app)
    from appeals.auth import services as auth_services

    auth_services.init_login_manager(login_manager)
    from appeals.auth import permissions

    permissions.init_app(app)


def _register_blueprints(app):
    from appeals.admin.views import bp as admin_bp
    from appeals.api.views import bp as api_bp
    from appeals.auth.views import bp as auth_bp
    from appeals.home.views import bp as home_bp
    from appeals.mandates.public_views import bp as public_mandates_bp
    from appeals.mandates.views import bp as mandates_bp
    from appeals.notifications.views import bp as notifications_bp
    from appeals.register.views import bp as register_bp
    from appeals.reports.letter_views import bp as letters_bp
    from appeals.reports.views import bp as reports_bp
    from appeals.schedules.booking_views import bp as bookings_bp
    from appeals.schedules.views import bp as schedules_bp

    for blueprint in (home_bp, auth_bp, admin_bp, schedules_bp, bookings_bp, letters_bp, register_bp, mandates_bp,
                      public_mandates_bp, reports_bp, notifications_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    from appeals.api.pages import bp as token_pages_bp

    app.register_blueprint(token_pages_bp, url_prefix="/account")
    from appeals.reference.views import bp as reference_bp

    app.register_blueprint(reference_bp)
    from appeals.register.public_views import bp as citizen_bp

    app.register_blueprint(citizen_bp)


def _register_cli(app):
    from appeals import worker
    from appeals.api import cli as api_cli
    from appeals.auth import cli as auth_cli
    from appeals.core.retention import purge_expired_command
    from appeals.demo import seed_demo_command
    from appeals.maintenance import cli as maintenance_cli
    from appeals.register import cli as register_cli

    for command in [*auth_cli.commands, *api_cli.commands, *register_cli.commands, *maintenance_cli.commands,
                    *worker.commands, seed_demo_command, purge_expired_command()]:
        app.cli.add_command(_in_cli_language(app, command))


def _in_cli_language(app, command):
    """Console output in one language (English by default, QABYLDAU_CLI_LANGUAGE to change)."""
    from flask_babel import force_locale

    callback = command.callback

    @functools.wraps(callback)
    def wrapped(*args, **kwargs):
        with force_locale(app.config["CLI_LANGUAGE"]):
            return callback(*args, **kwargs)

    command.callback = wrapped
    return command


logging.getLogger("fontTools").setLevel(logging.WARNING)
