"""Configuration read from the environment (12-factor), with safe development defaults."""
import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("QABYLDAU_INSTANCE", BASE_DIR / "instance"))


def _env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret_key():
    """A generated key kept in instance/ so sessions survive restarts on a developer's machine."""
    key_file = INSTANCE_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


class Config:
    ENV_NAME = os.environ.get("QABYLDAU_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'qabyldau.sqlite3'}"
    )
    # A failed statement's message carries its bound values (IINs, phones, letters) into logs and
    # tracebacks: they are hidden. DATABASE_LOG_PARAMETERS=1 shows them while debugging, never in production.
    SQLALCHEMY_ENGINE_OPTIONS = {
        "hide_parameters": not (_env_bool("DATABASE_LOG_PARAMETERS") and ENV_NAME != "production"),
    }
    # A pooled connection idle for longer than this is pinged before use (appeals/database.py).
    DATABASE_PING_AFTER_IDLE_SECONDS = float(os.environ.get("DATABASE_PING_AFTER_IDLE_SECONDS", 1.0))
    INSTANCE_PATH = str(INSTANCE_DIR)

    # Sessions: the cookie never reaches scripts or other sites.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", ENV_NAME == "production")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = 8 * 3600

    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 20 * 1024 * 1024))

    BABEL_DEFAULT_LOCALE = "kk"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("QABYLDAU_TIMEZONE", "Asia/Almaty")
    LANGUAGES = ("kk", "ru", "en")
    CLI_LANGUAGE = os.environ.get("QABYLDAU_CLI_LANGUAGE", "en")

    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", 10))
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", 5))
    LOGIN_LOCK_SECONDS = int(os.environ.get("LOGIN_LOCK_SECONDS", 15 * 60))
    LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 20))

    # APPK (Administrative Procedural Code of Kazakhstan) art. 76: 15 working days.
    APPEAL_DEADLINE_WORKING_DAYS = int(os.environ.get("APPEAL_DEADLINE_WORKING_DAYS", 15))
    APPEAL_MAX_EXTENSION_DAYS = int(os.environ.get("APPEAL_MAX_EXTENSION_DAYS", 60))
    APPEAL_FORWARD_WORKING_DAYS = int(os.environ.get("APPEAL_FORWARD_WORKING_DAYS", 3))
    APPEAL_DUE_SOON_WORKING_DAYS = int(os.environ.get("APPEAL_DUE_SOON_WORKING_DAYS", 3))

    API_RATE_LIMIT_PER_MINUTE = int(os.environ.get("API_RATE_LIMIT_PER_MINUTE", 600))
    API_MAX_PAGE_SIZE = 200
    REPORT_BACKGROUND_ROWS = int(os.environ.get("REPORT_BACKGROUND_ROWS", 3000))
    REPORT_WORKERS = int(os.environ.get("REPORT_WORKERS", os.cpu_count() or 2))


class TestConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    WTF_CSRF_ENABLED = False
    SESSION_COOKIE_SECURE = False
    PASSWORD_MIN_LENGTH = 10


def resolve_secret_key(config):
    """Production refuses to start without an explicit SECRET_KEY; development keeps one in instance/."""
    if config.get("SECRET_KEY"):
        return config["SECRET_KEY"]
    if config.get("ENV_NAME") == "production":
        raise RuntimeError("SECRET_KEY must be set when QABYLDAU_ENV=production")
    return _development_secret_key()
