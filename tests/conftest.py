"""Fixtures that build a real app from the factory on a real, migrated database.

SQLite (a temporary file) by default; PostgreSQL when TEST_DATABASE_URL is set, each run (and
each xdist worker) in a fresh schema of its own. Tables are emptied after every test.
"""
import contextvars
import os
import tempfile
import uuid
from datetime import datetime, time
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

# Before the app is imported: config.py reads where the instance folder is.
os.environ.setdefault("QABYLDAU_INSTANCE", tempfile.mkdtemp(prefix="qabyldau-instance-"))

from flask.testing import FlaskClient

from appeals import create_app
from appeals.core.extensions import db as _db
from config import TestConfig

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
PASSWORD = "correct-horse-battery"

# The clock every test starts at (but the browser tests, whose server runs on the real clock):
# a working Wednesday, 11:00 at the branch, far from midnight and holidays, so that nothing depends
# on the hour or the day the suite runs. QABYLDAU_TEST_CLOCK=HH:MM moves it to that local time of
# the same day (CI runs the register, mandates, reports and API tests again at 00:30 and 23:30);
# a full ISO date-time (local) moves the day too. The clock ticks from there.
TEST_ZONE = ZoneInfo(TestConfig.BABEL_DEFAULT_TIMEZONE)
ANCHOR = datetime(2026, 11, 18, 11, 0)


def _test_clock():
    value = os.environ.get("QABYLDAU_TEST_CLOCK", "").strip()
    if not value:
        return ANCHOR.replace(tzinfo=TEST_ZONE)
    try:
        moment = datetime.combine(ANCHOR.date(), time.fromisoformat(value)) if len(value) <= 8 else datetime.fromisoformat(value)
    except ValueError:
        raise pytest.UsageError(f"QABYLDAU_TEST_CLOCK={value!r}: give HH:MM or a local ISO date-time") from None
    return moment.replace(tzinfo=TEST_ZONE)


TEST_CLOCK = _test_clock()


def _database_url(tmp_root):
    if not TEST_DATABASE_URL:
        return f"sqlite:///{tmp_root / 'test.sqlite3'}", None
    schema = f"test_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(TEST_DATABASE_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    return f"{TEST_DATABASE_URL}{separator}options={quote(f'-csearch_path={schema}')}", schema


def _backend_line():
    return f"qabyldau test database: {'postgresql' if TEST_DATABASE_URL else 'sqlite'}"


def _clock_line():
    return f"qabyldau test clock: {TEST_CLOCK:%Y-%m-%d %H:%M} {TEST_ZONE.key}"


def pytest_report_header(config):
    return [_backend_line(), _clock_line()]


def pytest_terminal_summary(terminalreporter):
    # Printed even with -q, so CI can tell that the PostgreSQL run really ran on PostgreSQL.
    terminalreporter.write_line(_backend_line())
    terminalreporter.write_line(_clock_line())


def _in_browser_tests(item):
    return "e2e" in item.path.relative_to(item.config.rootpath).parts


def pytest_configure(config):
    # WTForms 3.4 drops select choices given as tuples (or a dict of them): declare options as
    # SelectChoice, and let a test fail at once rather than the upgrade break the forms.
    config.addinivalue_line("markers", "real_clock: the test keeps the real clock (its app runs in another process too)")
    config.addinivalue_line(
        "filterwarnings", "error:Passing SelectField choices (as tuples|in a dict) is deprecated:DeprecationWarning",
    )


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup` (the Makefile's): the browser tests go to one worker, so one app server.

    By path rather than by xdist_group marks: pytest-xdist 3.8 renames marked items through
    `item._nodeid`, which pytest 9.2 no longer reads, so the marks group nothing.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class BrowserTestsTogether(LoadGroupScheduling):
        def _split_scope(self, nodeid):
            return "e2e" if "/e2e/" in "/" + nodeid.split("::")[0] else super()._split_scope(nodeid)

    return BrowserTestsTogether(config, log)


@pytest.fixture(autouse=True)
def _clock(request):
    """Each test starts at TEST_CLOCK; time-machine's `time_machine` fixture moves it further.

    Tests whose app runs in another process (the browser tests, `real_clock` modules) keep the real
    clock: the other process could not share a travelled one.
    """
    if _in_browser_tests(request.node) or request.node.get_closest_marker("real_clock"):
        yield None
        return
    with time_machine.travel(TEST_CLOCK, tick=True) as traveller:
        yield traveller


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url, schema = _database_url(tmp_path_factory.mktemp("db"))
    yield url
    if schema:
        engine = sa.create_engine(TEST_DATABASE_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


class IsolatedClient(FlaskClient):
    """Runs each request in fresh context variables, as a real server would.

    Without this, a request made while a test holds an app context reuses that context's `g`,
    so per-request caches (locale, logged-in user, DB session) would leak between requests.

    The test's own session is committed before the request (the request sees what the test
    wrote) and after it (the test then reads what the request wrote, not an old snapshot).
    """

    def open(self, *args, **kwargs):
        from flask import has_app_context

        if has_app_context():
            _db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            _db.session.commit()
            _db.session.expire_all()
        return response


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    application = create_app({
        **{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance),
    })
    application.instance_path = str(instance)
    application.test_client_class = IsolatedClient
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield application
    with application.app_context():
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(request, app):
    from appeals.core import queue

    # The queue is one object per process, and any app a test creates (a production config, a second
    # database) points it at its own settings: tasks would then wait for a worker that never comes.
    if queue._app is not app:
        queue.init_queue(app)
    yield
    with app.app_context():
        _db.session.remove()
        tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(sa.text(f'DELETE FROM "{table}"'))


@pytest.fixture
def app_ctx(app):
    # Services called directly from tests answer in English, the language of the source strings.
    with app.test_request_context("/?lang=en"):
        yield app
        _db.session.remove()


@pytest.fixture
def db(app_ctx):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- Reference data and users -------------------------------------------------------------


@pytest.fixture
def reference(app_ctx):
    """A small region: two districts, four settlements, a regional and two territorial offices."""
    from appeals.reference.models import Category, District, Office, Region, Settlement

    region = Region(code="ZHA", name_kk="Жамбыл облысы", name_ru="Жамбылская область")
    d1 = District(region=region, code="KRD", name_kk="Қордай ауданы", name_ru="Кордайский район")
    d2 = District(region=region, code="MRK", name_kk="Меркі ауданы", name_ru="Меркенский район")
    settlements = [
        Settlement(district=d1, name_kk="Қордай", name_ru="Кордай", kato="311001"),
        Settlement(district=d1, name_kk="Сортөбе", name_ru="Сортобе", kato="311002"),
        Settlement(district=d2, name_kk="Меркі", name_ru="Мерке", kato="312001"),
        Settlement(district=d2, name_kk="Ақермен", name_ru="Акермен", kato="312002"),
    ]
    regional = Office(code="ZHM", name_kk="Облыстық филиал", name_ru="Областной филиал", kind="regional", region=region, address="Тараз, Төле би 35")
    kordai = Office(code="KRD", name_kk="Қордай филиалы", name_ru="Кордайский филиал", kind="territorial", region=region, parent=regional, district=d1, address="Қордай, Жібек жолы 1")
    merke = Office(code="MRK", name_kk="Меркі филиалы", name_ru="Меркенский филиал", kind="territorial", region=region, parent=regional, district=d2, address="Меркі, Исмаилов 5")
    categories = [
        Category(code="roads", name_kk="Жолдар", name_ru="Дороги", name_en="Roads", sort_order=1),
        Category(code="water", name_kk="Ауыз су", name_ru="Питьевая вода", name_en="Drinking water", sort_order=2),
        Category(code="housing", name_kk="Тұрғын үй", name_ru="Жилье", name_en="Housing", sort_order=3),
    ]
    _db.session.add_all([region, d1, d2, *settlements, regional, kordai, merke, *categories])
    _db.session.commit()

    class Reference:
        pass

    ref = Reference()
    ref.region, ref.districts, ref.settlements = region, [d1, d2], settlements
    ref.regional, ref.kordai, ref.merke = regional, kordai, merke
    ref.offices = [regional, kordai, merke]
    ref.categories = categories
    return ref


@pytest.fixture
def make_user(app_ctx):
    from appeals.auth import services

    def factory(username, role, offices=(), password=PASSWORD, **kwargs):
        codes = [o if isinstance(o, str) else o.code for o in offices]
        return services.create_user(username, password, role, codes, **kwargs)

    return factory


@pytest.fixture
def users(reference, make_user):
    """One account per role; the clerk works at the Kordai office."""

    class Users:
        pass

    u = Users()
    u.admin = make_user("admin", "admin")
    u.central = make_user("central", "central")
    u.coordinator = make_user("coordinator", "coordinator")
    u.clerk = make_user("clerk", "clerk", [reference.kordai])
    u.other_clerk = make_user("clerk.merke", "clerk", [reference.merke])
    u.host = make_user("host", "host")
    u.viewer = make_user("viewer", "viewer")
    return u


@pytest.fixture
def login(client):
    def do_login(user, password=PASSWORD, test_client=None):
        target = test_client or client
        response = target.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return target

    return do_login



# Each domain keeps its own fixtures in tests/fixtures_<domain>.py.
pytest_plugins = [
    "tests.fixtures_schedules",
    "tests.fixtures_register",
    "tests.fixtures_mandates",
    "tests.fixtures_reports",
    "tests.fixtures_api",
    "tests.servers",
]
