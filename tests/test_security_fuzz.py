"""Property-based fuzzing of the main forms: whatever a user (or an attacker) sends, never a 500.

Bad input must come back as a form with translated errors (200/400), a refusal, or a redirect.
"""
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])

# Anything a browser could send: any text (control characters, NUL, emoji, right-to-left marks),
# numbers out of range, dates in odd formats, very long strings.
anything = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=250, max_size=600),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["", " ", "0", "-1", "1e309", "NaN", "2025-02-30", "31.12.9999", "0001-01-01T00:00",
                     "25:61", "\x00", "' OR 1=1 --", "2147483648", "9223372036854775808", "<script>alert(1)</script>", "%s%n", "../../etc/passwd"]),
)


def form(fields):
    """A dict of some of `fields`, each with a hostile value (omitted fields test missing input)."""
    return st.fixed_dictionaries({}, optional={name: anything for name in fields})


@pytest.fixture
def signed_in(app, users, reference):
    """Logged-in clients made once per test (not per example: logging in hashes a password)."""
    from tests.conftest import PASSWORD

    clients = {}

    def get(username):
        if username not in clients:
            client = app.test_client()
            assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
            clients[username] = client
        return clients[username]

    return get


def _never_a_server_error(response, data):
    assert response.status_code < 500, f"{response.status_code} for {data!r}"


@given(data=form(["username", "password", "next"]))
@example(data={"username": "\x00", "password": "0"})  # found by this test: PostgreSQL refuses NUL in text
@FUZZ
def test_login_form(app, users, data):
    client = app.test_client()
    _never_a_server_error(client.post("/login", data=data), data)


@given(data=form(["username", "full_name", "email", "role", "offices", "locale", "is_active", "password"]))
@FUZZ
def test_user_form(signed_in, users, reference, data):
    client = signed_in("admin")
    _never_a_server_error(client.post("/admin/users/new", data=data), data)
    _never_a_server_error(client.post(f"/admin/users/{users.viewer.id}", data=data), data)


APPEAL_FIELDS = ["office_id", "received_at", "channel", "session_id", "host_id", "applicant_kind", "applicant_name",
                 "iin", "phone", "address", "settlement_id", "signatories", "appeal_type", "category_id", "summary",
                 "text", "responsible_id", "repeats_checked", "repeat_of", "save", "save_next"]


@given(data=form(APPEAL_FIELDS))
@FUZZ
def test_appeal_registration_form(signed_in, users, reference, data):
    client = signed_in("clerk")
    _never_a_server_error(client.post("/appeals/new", data=data), data)


@given(data=form(APPEAL_FIELDS), valid=st.booleans())
@example(data={"office_id": "9223372036854775808"}, valid=False)  # found by this test: ids beyond 64 bits
@example(data={"settlement_id": "2147483648"}, valid=False)  # beyond PostgreSQL's integer
@example(data={"summary": "Су\x00құбыры"}, valid=False)
@FUZZ
def test_appeal_registration_with_mostly_valid_input(signed_in, users, reference, data, valid):
    """One hostile field among valid ones reaches the deeper checks (numbering, repeats, the database)."""
    from datetime import timedelta

    from appeals.core.timeutil import local_now

    base = {"office_id": str(reference.kordai.id), "received_at": (local_now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "channel": "phone", "applicant_kind": "individual", "applicant_name": "Фаззинг Тест",
            "settlement_id": str(reference.settlements[0].id), "appeal_type": "statement",
            "category_id": str(reference.categories[0].id), "summary": "Тексеру", "repeats_checked": "1", "save": "1"}
    if not valid:
        base.update(data)
    _never_a_server_error(signed_in("clerk").post("/appeals/new", data=base), base)


@given(data=form(["office_id", "host_ids", "date", "start_time", "end_time", "room", "capacity", "topic"]))
@FUZZ
def test_session_form(signed_in, users, reference, data):
    client = signed_in("coordinator")
    _never_a_server_error(client.post("/schedule/sessions/new", data=data), data)


@given(data=form(["issuer", "number", "issued_on", "title", "text", "valid_from", "valid_to", "numbering",
                  "number_prefix", "appeal_types", "category_ids", "district_ids", "settlement_ids", "keywords",
                  "min_signatories", "received_from", "received_to", "target_count"]))
@FUZZ
def test_directive_form(signed_in, users, reference, data):
    client = signed_in("coordinator")
    _never_a_server_error(client.post("/directives/new", data=data), data)


@given(q=anything, status=anything, page=anything, sort=anything, date_from=anything)
@FUZZ
def test_register_list_filters(signed_in, users, reference, q, status, page, sort, date_from):
    client = signed_in("coordinator")
    query = {"q": q, "status": status, "page": page, "sort": sort, "date_from": date_from}
    _never_a_server_error(client.get("/appeals", query_string=query), query)
