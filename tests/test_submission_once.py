"""A web form that creates something is saved once per submission token, however often and
however simultaneously it is sent (issue 14, item 1). Runs on SQLite and PostgreSQL."""
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from appeals.core.idempotency import IdempotencyKey
from appeals.core.timeutil import local_now
from appeals.register.models import Appeal
from tests.fixtures_register import VALID_IIN

TOKEN_FIELD = re.compile(r'name="submission_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="submission_token"')


def _token(html):
    match = TOKEN_FIELD.search(html)
    assert match, "the form carries no submission token"
    return match.group(1) or match.group(2)


def _form(reference, token, **overrides):
    data = {
        "office_id": str(reference.kordai.id),
        "received_at": (local_now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "channel": "letter",
        "applicant_kind": "individual",
        "applicant_name": "Әбілқасымов Ерлан",
        "iin": VALID_IIN,
        "phone": "8 701 123 45 67",
        "address": "Абай 1",
        "settlement_id": str(reference.settlements[0].id),
        "appeal_type": "statement",
        "category_id": str(reference.categories[0].id),
        "summary": "Жолды жөндеу",
        "repeats_checked": "1",
        "save": "1",
        "submission_token": token,
    }
    data.update(overrides)
    return data


def _appeals(db):
    db.session.rollback()
    return db.session.scalars(sa.select(Appeal).order_by(Appeal.seq)).all()


@pytest.mark.parametrize("submits", [2, 3])
def test_concurrent_submits_of_one_form_register_one_appeal(app, client, login, users, reference, db, submits):
    login(users.clerk)
    token = _token(client.get("/appeals/new").get_data(as_text=True))
    data = _form(reference, token)
    # One logged-in client per "worker": each has its own database session and connection.
    clients = [login(users.clerk, test_client=app.test_client()) for _ in range(submits)]
    db.session.rollback()
    barrier = threading.Barrier(submits)

    def send(worker_client):
        barrier.wait(timeout=30)
        return worker_client.post("/appeals/new", data=data)

    with ThreadPoolExecutor(max_workers=submits) as pool:
        responses = list(pool.map(send, clients))

    appeals = _appeals(db)
    assert len(appeals) == 1
    assert appeals[0].seq == 1  # the losers' numbers were rolled back: no gap
    locations = {response.headers.get("Location") for response in responses}
    assert [response.status_code for response in responses] == [302] * submits
    assert locations == {f"/appeals/{appeals[0].id}"}
    assert db.session.scalar(sa.select(sa.func.count(IdempotencyKey.id))) == 1
    # The next page load brings a fresh token: the clerk's next appeal is a new one.
    fresh = _token(client.get("/appeals/new").get_data(as_text=True))
    assert fresh != token
    assert client.post("/appeals/new", data=_form(reference, fresh, summary="Екінші өтініш")).status_code == 302
    assert len(_appeals(db)) == 2


def test_a_repeated_submit_shows_the_first_result(client, login, users, reference, db):
    login(users.clerk)
    token = _token(client.get("/appeals/new").get_data(as_text=True))
    first = client.post("/appeals/new", data=_form(reference, token))
    second = client.post("/appeals/new", data=_form(reference, token))
    assert first.headers["Location"] == second.headers["Location"]
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    number = _appeals(db)[0].number
    notice = re.search(r'<p class="flash flash-info">(.*?)</p>', page, re.S)
    assert notice and number in notice.group(1)
    assert len(_appeals(db)) == 1


def test_save_and_next_replays_to_the_next_form(client, login, users, reference, db):
    login(users.clerk)
    token = _token(client.get("/appeals/new").get_data(as_text=True))
    data = _form(reference, token, save_next="1")
    data.pop("save")
    first = client.post("/appeals/new", data=data)
    second = client.post("/appeals/new", data=data)
    assert "/appeals/new" in first.headers["Location"]
    assert second.headers["Location"] == first.headers["Location"]
    assert len(_appeals(db)) == 1


def test_a_rejected_submit_leaves_the_token_for_the_corrected_one(client, login, users, reference, db):
    login(users.clerk)
    token = _token(client.get("/appeals/new").get_data(as_text=True))
    rejected = client.post("/appeals/new", data=_form(reference, token, summary=""))
    assert rejected.status_code == 400
    assert _token(rejected.get_data(as_text=True)) == token  # the form comes back with its token
    assert client.post("/appeals/new", data=_form(reference, token)).status_code == 302
    assert len(_appeals(db)) == 1


def test_tokens_are_per_user(app, client, login, users, reference, make_user, db):
    second_clerk = make_user("clerk.two", "clerk", [reference.kordai])
    login(users.clerk)
    token = _token(client.get("/appeals/new").get_data(as_text=True))
    assert client.post("/appeals/new", data=_form(reference, token)).status_code == 302
    other = login(second_clerk, test_client=app.test_client())
    assert other.post("/appeals/new", data=_form(reference, token, summary="Басқа")).status_code == 302
    assert len(_appeals(db)) == 2


# --- The other forms that create something -------------------------------------------------------

def _sent_twice(client, url, data):
    """GET the form for its token, then POST the same submit twice; returns both responses."""
    token = _token(client.get(url).get_data(as_text=True))
    first = client.post(url, data={**data, "submission_token": token})
    second = client.post(url, data={**data, "submission_token": token})
    assert first.status_code == 302, first.get_data(as_text=True)[:2000]
    assert second.status_code == 302 and second.headers["Location"] == first.headers["Location"]
    return first, second


def test_new_user_form_creates_once(client, login, users, db):
    from appeals.auth.models import User

    login(users.admin)
    _sent_twice(client, "/admin/users/new", {
        "username": "new.clerk", "full_name": "Жаңа Қызметкер", "role": "clerk", "offices": ["KRD"],
        "password": "long-enough-password", "is_active": "y", "locale": ""})
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(User.id)).where(User.username == "new.clerk")) == 1


def test_directive_form_creates_once(client, login, users, reference, db):
    from appeals.mandates.models import Directive

    login(users.coordinator)
    _sent_twice(client, "/directives/new", {
        "issuer": "", "number": "5-Д", "issued_on": "2025-03-01", "title": "Жол туралы", "valid_from": "2025-03-01",
        "numbering": "directive", "number_prefix": "A", "appeal_types": ["proposal"]})
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Directive.id))) == 1


def test_flag_confirmation_flags_once(client, login, users, db, make_appeal, make_directive):
    from appeals.mandates.models import Mandate

    appeals = [make_appeal(), make_appeal()]
    directive = make_directive(appeal_types=["proposal"])
    login(users.coordinator)
    url = f"/directives/{directive.id}/candidates"
    ids = [a.id for a in appeals]
    review = client.post(url, data={"step": "review", "appeal_id": ids, "back": url}).get_data(as_text=True)
    token = _token(review)
    data = {"step": "flag", "appeal_id": ids, "back": url, "mode": "separate", "submission_token": token}
    first, second = client.post(url, data=data), client.post(url, data=data)
    assert first.status_code == second.status_code == 302
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 2


def test_reference_create_form_creates_once(client, login, users, reference, db):
    from appeals.reference.models import Office

    login(users.admin)
    _sent_twice(client, "/admin/reference/offices/new", {
        "code": "shu", "name_kk": "Шу филиалы", "name_ru": "Шуский филиал", "kind": "territorial",
        "parent_id": str(reference.regional.id), "district_id": "", "address": "Төле би, 1", "is_active": "y"})
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Office.id)).where(Office.code == "SHU")) == 1


def test_appeal_import_starts_once(client, login, users, reference, db):
    from appeals.core.jobs import Job

    login(users.clerk)
    template = client.get("/appeals/import/template")
    assert template.status_code == 200
    url = "/appeals/import"
    token = _token(client.get(url).get_data(as_text=True))
    responses = []
    for _ in range(2):
        responses.append(client.post(url, data={
            "office_id": str(reference.kordai.id), "submission_token": token,
            "file": (__import__("io").BytesIO(template.data), "appeals.xlsx")}, content_type="multipart/form-data"))
    assert [r.status_code for r in responses] == [302, 302]
    assert responses[0].headers["Location"] == responses[1].headers["Location"]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Job.id)).where(Job.kind == "import_appeals")) == 1
