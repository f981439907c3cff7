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
