"""Issue 13, finding 13: IINs, phones and names stay out of URLs; feed tokens are stored hashed;
links given out use the configured scheme and host."""
import re
from urllib.parse import unquote

import sqlalchemy as sa

from appeals.core.tokens import hash_token
from appeals.schedules import hosts as schedule_hosts
from appeals.schedules.models import Host
from tests.fixtures_register import VALID_IIN


def test_register_search_by_iin_never_puts_it_in_a_url(app, client, login, users, reg_appeal):
    found = reg_appeal(iin=VALID_IIN)
    other = reg_appeal(applicant_name="Басқа Адам")
    login(users.clerk)
    page = client.get("/appeals").get_data(as_text=True)
    assert re.search(r'<form class="filters" method="post"', page)
    response = client.post("/appeals", data={"q": VALID_IIN, "status": "open", "csrf_token": "x"})
    assert response.status_code == 303
    location = unquote(response.headers["Location"])
    assert VALID_IIN not in location and "q=" not in location and "status=open" in location
    assert "search=" in location
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert found.number in html and other.number not in html
    # No link on the results page (pagination, export, print) carries the IIN.
    assert not [href for href in re.findall(r'href="([^"]+)"', html) if VALID_IIN in unquote(href)]
    export = re.search(r'href="(/appeals/export\?format=csv[^"]*)"', html).group(1).replace("&amp;", "&")
    csv_text = client.get(export).get_data(as_text=True)
    assert found.number in csv_text and other.number not in csv_text


# The Kazakh (default UI language) end of "... Type the search again."
AGAIN = "Іздеуді қайта теріңіз"


def test_a_sealed_search_is_worthless_to_another_user(app, client, login, users, reg_appeal, make_user, reference):
    reg_appeal(iin=VALID_IIN)
    reg_appeal(applicant_name="Басқа Адам")
    login(users.clerk)
    location = client.post("/appeals", data={"q": VALID_IIN}).headers["Location"]
    colleague = make_user("clerk2", "clerk", offices=[reference.kordai])
    second = login(colleague, test_client=app.test_client())
    html = second.get(location).get_data(as_text=True)
    # The token does not open for them: the term is nowhere, and the page says the search did not open.
    assert VALID_IIN not in html
    assert 'data-field="q"' in html and AGAIN in html


def test_an_expired_sealed_search_says_so_and_exports_nothing_unfiltered(app, client, login, users, reg_appeal,
                                                                       _clock):
    found = reg_appeal(iin=VALID_IIN)
    other = reg_appeal(applicant_name="Басқа Адам")
    login(users.clerk)
    location = client.post("/appeals", data={"q": VALID_IIN}).headers["Location"]
    fresh = client.get(location).get_data(as_text=True)
    assert found.number in fresh and other.number not in fresh and 'data-field="q"' not in fresh
    _clock.shift(app.config["SEARCH_TOKEN_SECONDS"] + 60)
    login(users.clerk)  # the session itself has idled out too
    html = client.get(location).get_data(as_text=True)
    assert 'data-field="q"' in html and AGAIN in html
    # The export of an expired search is refused (back to the list with the message), not the whole register.
    export = client.get(location.replace("/appeals?", "/appeals/export?format=csv&", 1))
    assert export.status_code == 302 and "/appeals/export" not in export.headers["Location"]
    journal = client.get(location.replace("/appeals?", "/reports/journal.pdf?", 1))
    assert journal.status_code == 302 and b"%PDF" not in journal.data
    assert AGAIN in client.get(journal.headers["Location"]).get_data(as_text=True)


def test_feed_tokens_are_stored_as_digests_and_shown_once(app, client, login, users, hosts, db):
    login(users.coordinator)
    response = client.post(f"/schedule/hosts/{hosts.aliya.id}/feed", data={"action": "regenerate"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    link = re.search(r'value="([^"]+/schedule/feed/([^"]+)\.ics)"', page)
    assert link, page
    secret = link.group(2)
    db.session.expire_all()
    assert db.session.get(Host, hosts.aliya.id).feed_token == hash_token(secret)
    assert client.get(f"/schedule/feed/{secret}.ics").status_code == 200
    # Shown once: the next visit no longer has the address.
    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert secret not in again and "/schedule/feed/" not in again


def test_links_given_out_use_the_configured_scheme_and_host(app, client, login, users, hosts):
    login(users.coordinator)
    base = app.config["PUBLIC_BASE_URL"]
    app.config.update(PREFERRED_URL_SCHEME="https", PUBLIC_BASE_URL="")
    try:
        location = client.post(f"/schedule/hosts/{hosts.aliya.id}/feed", data={"action": "regenerate"}).headers["Location"]
        page = client.get(location).get_data(as_text=True)
        assert re.search(r'value="https://localhost/schedule/feed/[^"]+\.ics"', page)
        app.config["PUBLIC_BASE_URL"] = "https://qabyldau.example.kz/"
        location = client.post(f"/schedule/hosts/{hosts.aliya.id}/feed", data={"action": "regenerate"}).headers["Location"]
        page = client.get(location).get_data(as_text=True)
        assert re.search(r'value="https://qabyldau\.example\.kz/schedule/feed/[^"]+\.ics"', page)
    finally:
        app.config.update(PREFERRED_URL_SCHEME="http", PUBLIC_BASE_URL=base)


def test_migration_hashes_existing_feed_tokens(app, db, hosts):
    """0010 hashes tokens in place: addresses given out before the upgrade keep working."""
    import importlib.util
    from pathlib import Path

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    db.session.execute(sa.update(Host).where(Host.id == hosts.aliya.id).values(feed_token="old-clear-secret"))
    db.session.commit()
    path = Path(__file__).resolve().parent.parent / "migrations" / "versions" / "0010_secrets_at_rest.py"
    spec = importlib.util.spec_from_file_location("m0010", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with db.engine.begin() as connection:
        context = MigrationContext.configure(connection)
        with Operations.context(context):
            module.upgrade()
    db.session.expire_all()
    assert schedule_hosts.host_by_feed_token("old-clear-secret").id == hosts.aliya.id
