import re

import pytest
import sqlalchemy as sa

from appeals.auth.models import User
from appeals.core.audit import AuditRecord

ADMIN_PAGES = ["/admin/users", "/admin/users/new", "/admin/audit"]


@pytest.mark.parametrize("role", ["coordinator", "clerk", "host", "viewer"])
def test_admin_pages_are_refused_to_other_roles(client, users, login, role):
    login(getattr(users, role))
    for url in ADMIN_PAGES + [f"/admin/users/{users.admin.id}"]:
        assert client.get(url).status_code == 403, url


def test_admin_pages_require_login(client, users):
    for url in ADMIN_PAGES:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_pages_open_for_admin(client, users, login):
    login(users.admin)
    for url in ADMIN_PAGES + [f"/admin/users/{users.clerk.id}"]:
        assert client.get(url).status_code == 200, url


def test_admin_creates_user_and_it_is_audited(app_ctx, client, users, login):
    from appeals.core.extensions import db

    login(users.admin)
    response = client.post("/admin/users/new", data={
        "username": "new.clerk", "full_name": "Жаңа Қызметкер", "role": "clerk",
        "offices": ["KRD"], "password": "long-enough-password", "is_active": "y", "locale": "",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    user = db.session.scalar(sa.select(User).where(User.username == "new.clerk"))
    assert [o.code for o in user.offices] == ["KRD"]
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "user_created", AuditRecord.object_id == str(user.id)))
    assert record.username == "admin"
    assert record.changes["role"] == [None, "clerk"]


def test_clerk_without_office_is_refused_on_the_form(client, users, login):
    login(users.admin)
    response = client.post("/admin/users/new?lang=en", data={
        "username": "lonely", "role": "clerk", "password": "long-enough-password", "is_active": "y", "locale": "",
    })
    assert response.status_code == 200
    assert "at least one office" in response.get_data(as_text=True)


def test_admin_edits_and_deactivates_user_with_before_after_audit(app_ctx, client, users, login):
    from appeals.core.extensions import db

    login(users.admin)
    response = client.post(f"/admin/users/{users.viewer.id}", data={
        "username": "viewer", "full_name": "Press office", "role": "viewer", "locale": "ru", "email": "",
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "user_updated"))
    assert record.changes["is_active_account"] == [True, False]
    assert record.changes["full_name"] == ["", "Press office"]


def test_admin_cannot_deactivate_self(client, users, login):
    login(users.admin)
    response = client.post(f"/admin/users/{users.admin.id}?lang=en", data={"username": "admin", "role": "admin", "locale": ""})
    assert response.status_code == 200
    assert "cannot deactivate your own account" in response.get_data(as_text=True)


def _audit_rows(html):
    """The rows of the audit table (the filter's select also names every action: leave it out)."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def test_audit_page_filters(db, client, users, login):
    login(users.admin)  # a "login" record besides the accounts' "user_created" ones
    created = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "user_created",
                                                              AuditRecord.object_type == "users")).all()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord))
    assert len(created) == 7 and total > len(created)
    every = _audit_rows(client.get("/admin/audit?size=100").get_data(as_text=True))
    assert len(every) == total
    rows = _audit_rows(client.get("/admin/audit?size=100&action=user_created&object_type=users").get_data(as_text=True))
    assert len(rows) == len(created)
    assert all(">login<" not in row for row in rows)
    one = _audit_rows(client.get(f"/admin/audit?action=user_created&object_id={users.viewer.id}").get_data(as_text=True))
    assert len(one) == 1 and "viewer" in one[0] and "clerk" not in one[0]


def test_audit_records_have_no_update_or_delete_path(app):
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_csrf_missing_is_400_with_translated_page(app, users):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        response = client.post("/login?lang=ru", data={"username": "clerk", "password": "x"})
        assert response.status_code == 400
        assert "формы" in response.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_cli_create_user_reads_password_from_stdin(runner, reference):
    result = runner.invoke(args=["create-user", "cli.user", "--role", "clerk", "--office", "KRD"], input="a-long-cli-password\n")
    assert result.exit_code == 0, result.output
    assert "Created user cli.user" in result.output


def test_cli_unknown_role_or_office_exits_2(runner, reference):
    result = runner.invoke(args=["create-user", "x.user", "--role", "wizard"], input="a-long-cli-password\n")
    assert result.exit_code == 2
    result = runner.invoke(args=["create-user", "x.user", "--role", "clerk", "--office", "NOPE"], input="a-long-cli-password\n")
    assert result.exit_code == 2
    assert "NOPE" in result.output


def test_cli_set_password_lets_the_user_log_in_with_the_new_one(runner, client, users):
    result = runner.invoke(args=["set-password", "viewer"], input="a-fresh-cli-password\n")
    assert result.exit_code == 0, result.output
    assert client.post("/login", data={"username": "viewer", "password": "a-fresh-cli-password"}).status_code == 302


def test_cli_set_password_refuses_unknown_user_and_short_password(runner, users):
    assert runner.invoke(args=["set-password", "ghost"], input="a-fresh-cli-password\n").exit_code == 2
    result = runner.invoke(args=["set-password", "viewer"], input="short\n")
    assert result.exit_code == 2 and "at least" in result.output
