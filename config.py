"""Configuration read from the environment (12-factor), with safe development defaults."""
import json
import math
import os
import secrets
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("QABYLDAU_INSTANCE", BASE_DIR / "instance"))


def _json_dumps(value):
    return json.dumps(value, ensure_ascii=False)


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
        # JSON columns (a job's input and params) keep Cyrillic as it is: escaped, every letter
        # took six bytes, in memory while it was written and in the database.
        "json_serializer": _json_dumps,
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
    # Links given out (calendar feeds, the API's address, notices) start with PUBLIC_BASE_URL (below);
    # set to "", they take this request's host with this scheme (behind a TLS proxy the request says http).
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "https" if ENV_NAME == "production" else "http")
    # A register search is carried sealed in the URL (never the IIN or name itself) for this long.
    SEARCH_TOKEN_SECONDS = int(os.environ.get("SEARCH_TOKEN_SECONDS", 8 * 3600))

    BABEL_DEFAULT_LOCALE = "kk"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("QABYLDAU_TIMEZONE", "Asia/Almaty")
    LANGUAGES = ("kk", "ru", "en")
    CLI_LANGUAGE = os.environ.get("QABYLDAU_CLI_LANGUAGE", "en")

    # Behind nginx: how many proxies in front of gunicorn set X-Forwarded-For/-Proto/-Host (0: none,
    # the headers are ignored, as they must be when clients can reach gunicorn directly).
    TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", 0))

    PASSWORD_MIN_LENGTH = int(os.environ.get("PASSWORD_MIN_LENGTH", 10))
    # werkzeug's method for new password hashes; not read from the environment, so production
    # always hashes with scrypt. Only TestConfig lowers it.
    PASSWORD_HASH_METHOD = "scrypt"
    # Login throttling (appeals/auth/throttle.py, README "Login throttling").
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", 5))
    LOGIN_LOCK_SECONDS = int(os.environ.get("LOGIN_LOCK_SECONDS", 15 * 60))
    LOGIN_MAX_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 10))
    LOGIN_MAX_DELAY_SECONDS = int(os.environ.get("LOGIN_MAX_DELAY_SECONDS", 60))
    LOGIN_DEVICE_COOKIE_DAYS = int(os.environ.get("LOGIN_DEVICE_COOKIE_DAYS", 180))

    # Server-side session records (appeals/auth/sessions.py): minutes of inactivity after which a
    # session ends, for roles that see personal data and for the others; and the absolute lifetime.
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", 30))
    SESSION_IDLE_MINUTES_OTHER = int(os.environ.get("SESSION_IDLE_MINUTES_OTHER", 120))

    # API tokens: default and longest lifetime, and how many active tokens one account may hold.
    API_TOKEN_DEFAULT_DAYS = int(os.environ.get("API_TOKEN_DEFAULT_DAYS", 90))
    API_TOKEN_MAX_DAYS = int(os.environ.get("API_TOKEN_MAX_DAYS", 365))
    API_TOKENS_PER_USER = int(os.environ.get("API_TOKENS_PER_USER", 5))

    # Two-factor authentication: roles that must enrol a TOTP authenticator before they may work.
    REQUIRE_TOTP_ROLES = tuple(
        role.strip() for role in os.environ.get(
            "REQUIRE_TOTP_ROLES", "admin,coordinator" if ENV_NAME == "production" else "").split(",")
        if role.strip()
    )

    # The answer terms per appeal type are a table the admin edits (appeals/register/deadlines.py).
    # One-time codes sent to citizens (appeals/core/verification.py).
    VERIFICATION_CODE_MINUTES = int(os.environ.get("VERIFICATION_CODE_MINUTES", 10))
    VERIFICATION_MAX_ATTEMPTS = int(os.environ.get("VERIFICATION_MAX_ATTEMPTS", 5))
    VERIFICATION_CODES_PER_HOUR = int(os.environ.get("VERIFICATION_CODES_PER_HOUR", 5))
    # Local time the SMS reminders of tomorrow's booked receptions are written (every day).
    BOOKING_REMINDER_TIME = os.environ.get("BOOKING_REMINDER_TIME", "10:00")
    # Bookings a client address may make per hour, and one phone per day (appeals/core/ratelimit.py).
    BOOKINGS_PER_ADDRESS_PER_HOUR = int(os.environ.get("BOOKINGS_PER_ADDRESS_PER_HOUR", 10))
    BOOKINGS_PER_PHONE_PER_DAY = int(os.environ.get("BOOKINGS_PER_PHONE_PER_DAY", 5))
    APPEAL_MAX_EXTENSION_DAYS = int(os.environ.get("APPEAL_MAX_EXTENSION_DAYS", 60))
    APPEAL_FORWARD_WORKING_DAYS = int(os.environ.get("APPEAL_FORWARD_WORKING_DAYS", 3))
    APPEAL_DUE_SOON_WORKING_DAYS = int(os.environ.get("APPEAL_DUE_SOON_WORKING_DAYS", 3))
    # Repeat-check look-ups whose IIN or phone matches, per user and hour (each one is audited).
    REPEAT_CHECK_MATCHES_PER_HOUR = int(os.environ.get("REPEAT_CHECK_MATCHES_PER_HOUR", 30))

    API_RATE_LIMIT_PER_MINUTE = int(os.environ.get("API_RATE_LIMIT_PER_MINUTE", 600))
    # Per account, all its tokens together (more tokens do not buy more requests).
    API_USER_RATE_LIMIT_PER_MINUTE = int(os.environ.get("API_USER_RATE_LIMIT_PER_MINUTE", 1200))
    API_MAX_PAGE_SIZE = 200
    REPORT_BACKGROUND_ROWS = int(os.environ.get("REPORT_BACKGROUND_ROWS", 3000))
    REPORT_WORKERS = int(os.environ.get("REPORT_WORKERS", os.cpu_count() or 2))
    # A journal of more rows is refused with a message (10,000 rows: 36 s, 365 MB; bench/RESULTS.md).
    JOURNAL_MAX_ROWS = int(os.environ.get("JOURNAL_MAX_ROWS", 20000))

    # The queue (appeals/core/queue.py): unset = a SQLite file in the instance folder; redis://host:6379/0.
    QUEUE_URL = os.environ.get("QUEUE_URL") or None
    QUEUE_NAME = os.environ.get("QUEUE_NAME", "qabyldau")
    WORKER_THREADS = int(os.environ.get("WORKER_THREADS", 2))
    # How often a worker sweeps leases and runs the duties that are due.
    WORKER_TICK_SECONDS = float(os.environ.get("WORKER_TICK_SECONDS", 15))
    JOB_MAX_RUNNING_PER_USER = int(os.environ.get("JOB_MAX_RUNNING_PER_USER", 2))
    JOB_HEARTBEAT_SECONDS = float(os.environ.get("JOB_HEARTBEAT_SECONDS", 5))
    JOB_LEASE_SECONDS = float(os.environ.get("JOB_LEASE_SECONDS", 60))
    JOB_MAX_ATTEMPTS = int(os.environ.get("JOB_MAX_ATTEMPTS", 2))
    JOB_RESULT_HOURS = float(os.environ.get("JOB_RESULT_HOURS", 24))
    # Where finished jobs' files live: "database", or a folder every app server shares.
    RESULT_STORE = os.environ.get("RESULT_STORE", "database")
    # Uploaded files (appeals/core/storage.py): the largest file, the largest picture before it is
    # decoded, the longest side a kept picture is scaled down to, the most pages of a PDF.
    UPLOAD_MAX_FILE_BYTES = int(os.environ.get("UPLOAD_MAX_FILE_BYTES", 10 * 1024 * 1024))
    UPLOAD_MAX_IMAGE_PIXELS = int(os.environ.get("UPLOAD_MAX_IMAGE_PIXELS", 40_000_000))
    UPLOAD_IMAGE_MAX_SIDE = int(os.environ.get("UPLOAD_IMAGE_MAX_SIDE", 4096))
    UPLOAD_MAX_PDF_PAGES = int(os.environ.get("UPLOAD_MAX_PDF_PAGES", 300))
    # Attachments of one appeal (its letter, enclosures and the answer's scans): how many files and
    # how many bytes in all; a citizen's online appeal takes fewer.
    ATTACHMENTS_MAX_FILES = int(os.environ.get("ATTACHMENTS_MAX_FILES", 20))
    ATTACHMENTS_MAX_BYTES = int(os.environ.get("ATTACHMENTS_MAX_BYTES", 50 * 1024 * 1024))
    ONLINE_ATTACHMENTS_MAX_FILES = int(os.environ.get("ONLINE_ATTACHMENTS_MAX_FILES", 5))
    # The public online appeal form (/appeal) and tracking (/track): abuse limits (appeals/register/online.py).
    ONLINE_APPEALS_PER_ADDRESS_PER_HOUR = int(os.environ.get("ONLINE_APPEALS_PER_ADDRESS_PER_HOUR", 10))
    ONLINE_APPEALS_PER_PHONE_PER_DAY = int(os.environ.get("ONLINE_APPEALS_PER_PHONE_PER_DAY", 5))
    ONLINE_MIN_FILL_SECONDS = float(os.environ.get("ONLINE_MIN_FILL_SECONDS", 5))
    ONLINE_SUBMISSION_HOURS = int(os.environ.get("ONLINE_SUBMISSION_HOURS", 2))
    TRACK_FAILURES_PER_ADDRESS_PER_HOUR = int(os.environ.get("TRACK_FAILURES_PER_ADDRESS_PER_HOUR", 10))
    TRACK_FAILURES_PER_NUMBER_PER_HOUR = int(os.environ.get("TRACK_FAILURES_PER_NUMBER_PER_HOUR", 5))

    # Notifications (appeals/core/outbox.py): smtp://user:pass@host:587 (STARTTLS) or smtps://host:465.
    MAIL_URL = os.environ.get("MAIL_URL") or None
    MAIL_FROM = os.environ.get("MAIL_FROM", "qabyldau@localhost")
    SMS_URL = os.environ.get("SMS_URL") or None
    # Links in notices point here (the address users open the app at).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    NOTIFY_RETRY_SECONDS = float(os.environ.get("NOTIFY_RETRY_SECONDS", 30))
    NOTIFY_RETRY_MAX_SECONDS = float(os.environ.get("NOTIFY_RETRY_MAX_SECONDS", 3600))
    NOTIFY_MAX_ATTEMPTS = int(os.environ.get("NOTIFY_MAX_ATTEMPTS", 12))
    # A delivery round waits this long for more notices before it claims them (one round for many under load).
    NOTIFY_GATHER_SECONDS = float(os.environ.get("NOTIFY_GATHER_SECONDS", 0.05))
    # Scheduled duties, local time (working days for the notices; cleanup every day).
    NOTIFY_MORNING_TIME = os.environ.get("NOTIFY_MORNING_TIME", "09:00")
    NOTIFY_DIGEST_TIME = os.environ.get("NOTIFY_DIGEST_TIME", "18:00")
    NOTIFY_DUE_WITHIN_WORKING_DAYS = int(os.environ.get("NOTIFY_DUE_WITHIN_WORKING_DAYS", 2))
    CLEANUP_TIME = os.environ.get("CLEANUP_TIME", "03:00")


class TestConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    WTF_CSRF_ENABLED = False
    SESSION_COOKIE_SECURE = False
    PASSWORD_MIN_LENGTH = 10
    # One PBKDF2 round instead of scrypt: fixtures create and log in users in almost every test.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
    # Tasks run at once, in the caller's process; the worker tests start real workers instead.
    QUEUE_IMMEDIATE = True
    # Tests deliver notices themselves (deliver_due) or through a real worker.
    OUTBOX_KICK = False


SECRET_KEY_MIN_BYTES = 32
# A key of 32 random bytes written as hex or base64 carries well over this by the character-frequency
# estimate below; "abc" repeated, a word or a date does not.
SECRET_KEY_MIN_ENTROPY_BITS = 100


def secret_key_entropy_bits(key):
    """Shannon estimate of the key's entropy (bits per character from its own frequencies × length)."""
    if not key:
        return 0.0
    counts = Counter(key)
    per_char = -sum(n / len(key) * math.log2(n / len(key)) for n in counts.values())
    return per_char * len(key)


def resolve_secret_key(config):
    """Production refuses to start without a long random SECRET_KEY; development keeps one in instance/."""
    key = config.get("SECRET_KEY")
    if config.get("ENV_NAME") == "production":
        if not key:
            raise RuntimeError("SECRET_KEY must be set when QABYLDAU_ENV=production")
        if len(key.encode("utf-8")) < SECRET_KEY_MIN_BYTES or secret_key_entropy_bits(key) < SECRET_KEY_MIN_ENTROPY_BITS:
            raise RuntimeError(
                f"SECRET_KEY must be at least {SECRET_KEY_MIN_BYTES} random bytes when QABYLDAU_ENV=production; "
                "make one with: python3 -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return key
    if key:
        return key
    return _development_secret_key()
