"""The audit trail in people's language (issue 14, item 9)."""
import re

import sqlalchemy as sa

from appeals.core.audit import AuditRecord
from appeals.core.audit_labels import ACTIONS, action_label, value_label


def test_every_action_the_code_records_has_a_name():
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent / "appeals"
    recorded = set()
    for path in root.rglob("*.py"):
        recorded |= set(re.findall(r'audit\.record\(\s*"([a-z_.]+)"', path.read_text()))
    recorded |= {f"{kind}_{what}" for kind in ("office", "region", "district", "settlement", "category")
                 for what in ("created", "updated")}
    assert recorded - set(ACTIONS) == set()


def test_the_audit_page_speaks_the_users_language(client, login, users, make_user, db):
    login(users.admin)
    response = client.post("/admin/users/new", data={
        "username": "new.clerk", "full_name": "Жаңа Қызметкер", "role": "clerk", "offices": ["KRD"],
        "password": "long-enough-password", "is_active": "y", "locale": ""})
    assert response.status_code == 302
    db.session.rollback()
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "user_created"))
    html = client.get("/admin/audit").get_data(as_text=True)  # Kazakh
    rows = html[html.index("<tbody>"):html.index("</tbody>")]
    assert "user_created" not in rows and "is_active_account" not in rows and "True" not in rows
    assert "users #" not in rows and "∅" not in rows
    from flask_babel import force_locale

    with force_locale("kk"):
        created, clerk = str(action_label("user_created")), str(value_label("role", "clerk"))
    assert created == "Тіркелгі жасалды" and created in rows
    assert f'href="/admin/users/{record.object_id}"' in rows
    assert clerk in rows and "Иә" in rows
    # The filters list the actions by name, keeping the codes as values.
    assert re.search(r'<option value="user_created"[^>]*>' + re.escape(created), html)


def test_people_are_shown_by_name(client, login, make_user, reference, db):
    admin = make_user("aliya", "admin", full_name="Әлия Сейітова")
    login(admin)
    client.post("/admin/users/new", data={"username": "x.clerk", "role": "clerk", "offices": ["KRD"],
                                          "password": "long-enough-password", "is_active": "y", "locale": ""})
    html = client.get("/admin/audit").get_data(as_text=True)
    assert '<span title="aliya">Әлия Сейітова</span>' in html
