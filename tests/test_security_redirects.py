"""Issue 13, finding 17: redirects whose target comes from the request stay on this site."""
import pytest

from appeals.core.web import safe_redirect_target

OFFSITE = ["https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
           "http://evil.example@localhost.evil.example/", "/\r\nLocation: https://evil.example", "ftp://localhost/x",
           "appeals"]


@pytest.mark.parametrize("target", OFFSITE)
def test_offsite_targets_give_the_default(app, target):
    with app.test_request_context("/", base_url="http://localhost"):
        assert safe_redirect_target(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target, expected", [
    ("/appeals?page=2", "/appeals?page=2"),
    ("http://localhost/reports?x=1#y", "/reports?x=1#y"),
    ("https://localhost/reports", "/reports"),
])
def test_same_site_targets_are_kept_as_paths(app, target, expected):
    with app.test_request_context("/", base_url="http://localhost"):
        assert safe_redirect_target(target, "/fallback") == expected


def test_bad_report_parameter_does_not_follow_a_foreign_referer(client, login, users):
    login(users.coordinator)
    response = client.get("/reports/summary.pdf?date_from=bad", headers={"Referer": "https://evil.example/phish"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/reports"
    # The site's own page is still where the user came back to.
    response = client.get("/reports/summary.pdf?date_from=bad", headers={"Referer": "http://localhost/appeals?x=1"})
    assert response.headers["Location"] == "/appeals?x=1"


def test_login_next_stays_on_site(client, users):
    from tests.conftest import PASSWORD

    response = client.post("/login?next=https://evil.example/", data={"username": users.clerk.username,
                                                                      "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/"
