"""The layout's rules, checked on the source: core imports no domain, the domains depend in one
direction, SQLite functions are registered in one place, and search folds text one way."""
import ast
import pathlib
import re

import pytest
import sqlalchemy as sa

from appeals.core.database import fold

APPEALS = pathlib.Path(__file__).resolve().parent.parent / "appeals"
# Each package may import only the packages listed after it (and itself); core imports none of them.
DOMAIN_ORDER = ("reference", "schedules", "register", "mandates")
ON_TOP = ("reports", "api")


def _imports(path):
    """Every appeals.<package> a module imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "appeals" and len(parts) > 1:
                found.add(parts[1])
    return found


def _modules(package):
    return sorted((APPEALS / package).rglob("*.py"))


def test_core_imports_no_domain():
    domains = {*DOMAIN_ORDER, *ON_TOP, "auth", "admin", "maintenance", "home", "demo"}
    offenders = {str(path.relative_to(APPEALS)): sorted(_imports(path) & domains) for path in _modules("core")}
    assert {path: names for path, names in offenders.items() if names} == {}


@pytest.mark.parametrize("package", DOMAIN_ORDER)
def test_a_domain_imports_neither_a_later_domain_nor_reports_nor_api(package):
    later = set(DOMAIN_ORDER[DOMAIN_ORDER.index(package) + 1:]) | set(ON_TOP)
    offenders = {str(path.relative_to(APPEALS)): sorted(_imports(path) & later) for path in _modules(package)}
    assert {path: names for path, names in offenders.items() if names} == {}


def test_sqlite_functions_are_registered_in_core_database_only():
    registering = sorted(str(path.relative_to(APPEALS)) for path in APPEALS.rglob("*.py")
                         if "create_function(" in path.read_text(encoding="utf-8"))
    assert registering == ["core/database.py"]


def test_fold_normalises_and_case_folds_kazakh_and_russian():
    assert fold("ЖОЛ Әлия ҚҰРЫЛЫС") == "жол әлия құрылыс"
    # NFKC: a ligature and full-width letters are the plain letters a clerk types.
    assert fold("ﬁ ＡＢＣ") == "fi abc"
    assert fold(None) == ""


def test_the_database_folds_as_python_does(db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("qb_fold is SQLite's; PostgreSQL folds with lower()")
    text = "ЖОЛ Әлия ﬁ ＡＢＣ Straße"
    assert db.session.scalar(sa.select(sa.func.qb_fold(text))) == fold(text)


# Who may see or do what is answered by appeals/auth/permissions.py alone: a role compared anywhere
# else is a second copy of a rule.
ROLE_COMPARISON = re.compile(
    r"""\.role\s*(==|!=|\bin\b|\bnot\s+in\b)|\.role\.in_\(|\brole\s*(==|!=)\s*['"]|['"]\s*(==|!=)\s*[\w.]*\.role\b""")


def test_no_role_is_compared_outside_auth():
    offenders = []
    for path in sorted([*APPEALS.rglob("*.py"), *(APPEALS.parent / "templates").rglob("*.html")]):
        relative = str(path.relative_to(APPEALS if path.suffix == ".py" else APPEALS.parent))
        if relative.startswith("auth/"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if ROLE_COMPARISON.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []


def test_the_role_check_finds_what_it_looks_for():
    """The pattern above is not hollow: each way of comparing a role is caught."""
    for line in ('if user.role == "clerk":', "if current_user.role in ('clerk',):", 'User.role.in_(("a",))',
                 "{% if current_user.role == 'host' %}", 'if user.role != "host"', 'if "host" == user.role:'):
        assert ROLE_COMPARISON.search(line), line
    assert not ROLE_COMPARISON.search("labels.ROLE_LABELS[user.role]")
