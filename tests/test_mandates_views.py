"""Pages of directives and mandates: flows, errors on forms, and who may open what (incl. direct URLs)."""
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from appeals.mandates import flagging, lifecycle, queries
from appeals.mandates.models import Directive, Mandate, MandateAppeal


@pytest.fixture
def setup(db, users, reference, make_appeal, make_directive, make_host):
    host = make_host(users.host)
    appeals = [make_appeal(summary="Жолды жөндеу", host_id=host.id), make_appeal(summary="Саябақ салу"),
               make_appeal(appeal_type="complaint", summary="Шағым"),
               make_appeal(office=reference.merke, settlement_id=reference.settlements[2].id, summary="Мектеп")]
    directive = make_directive(appeal_types=["proposal"])
    [mandate] = flagging.flag_appeals(directive, [appeals[0].id], users.coordinator)

    class Setup:
        pass

    s = Setup()
    s.host, s.appeals, s.directive, s.mandate = host, appeals, directive, mandate
    return s


def _text(response):
    return response.get_data(as_text=True)


# --- Permissions per role ----------------------------------------------------------------------


ROLE_PAGES = {
    # endpoint path builder -> roles allowed (others get 403)
    "list_directives": ({"admin", "coordinator", "viewer"}, lambda s: "/directives"),
    "new_directive": ({"admin", "coordinator"}, lambda s: "/directives/new"),
    "directive_detail": ({"admin", "coordinator", "viewer"}, lambda s: f"/directives/{s.directive.id}"),
    "edit_directive": ({"admin", "coordinator"}, lambda s: f"/directives/{s.directive.id}/edit"),
    "candidates": ({"coordinator"}, lambda s: f"/directives/{s.directive.id}/candidates"),
    "list_mandates": ({"admin", "coordinator", "clerk", "other_clerk", "host", "viewer"}, lambda s: "/mandates"),
    "mandate_detail": ({"admin", "coordinator", "clerk", "host", "viewer"}, lambda s: f"/mandates/{s.mandate.id}"),
    "edit_mandate": ({"coordinator"}, lambda s: f"/mandates/{s.mandate.id}/edit"),
    "merge": ({"coordinator"}, lambda s: f"/mandates/{s.mandate.id}/merge"),
    "statistics": ({"admin", "coordinator", "viewer"}, lambda s: "/mandates/statistics"),
}


@pytest.mark.parametrize("role", ["admin", "coordinator", "clerk", "other_clerk", "host", "viewer"])
def test_pages_per_role(app, users, setup, login, role):
    client = app.test_client()
    login(getattr(users, role), test_client=client)
    for name, (allowed, path) in ROLE_PAGES.items():
        response = client.get(path(setup))
        expected = 200 if role in allowed else 403
        assert response.status_code == expected, (name, role, response.status_code)


def test_anonymous_is_sent_to_login(client, setup):
    for path in ("/directives", f"/mandates/{setup.mandate.id}", "/mandates/statistics"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["admin", "clerk", "host", "viewer"])
def test_writes_refused_for_non_coordinators(app, users, setup, login, role):
    client = app.test_client()
    login(getattr(users, role), test_client=client)
    m = setup.mandate
    link = m.links[0]
    posts = [
        (f"/directives/{setup.directive.id}/candidates", {"step": "flag", "appeal_id": setup.appeals[1].id}),
        (f"/mandates/{m.id}/unflag", {"link_id": link.id, "reason": "x"}),
        (f"/mandates/{m.id}/progress", {"noted_on": "2025-03-20", "note": "x"}),
        (f"/mandates/{m.id}/edit", {"title": "x", "status": "registered"}),
        (f"/mandates/{m.id}/merge", {"step": "flag", "appeal_id": setup.appeals[1].id}),
    ]
    for path, data in posts:
        assert client.post(path, data=data).status_code == 403, path
    assert queries.mandates_for_appeal(setup.appeals[1]) == []


def test_host_sees_only_mandates_from_own_appeals(app, db, users, setup, login):
    [other] = flagging.flag_appeals(setup.directive, [setup.appeals[1].id], users.coordinator)
    client = app.test_client()
    login(users.host, test_client=client)
    listing = _text(client.get("/mandates"))
    assert setup.mandate.number in listing and other.number not in listing
    assert client.get(f"/mandates/{other.id}").status_code == 403
    # A merke clerk cannot open a Kordai mandate by URL either.
    client2 = app.test_client()
    login(users.other_clerk, test_client=client2)
    assert client2.get(f"/mandates/{setup.mandate.id}").status_code == 403


# --- Directives --------------------------------------------------------------------------------


def test_create_directive_via_form(client, db, users, reference, login):
    login(users.coordinator)
    response = client.post("/directives/new", data={
        "issuer": "", "number": "5-Д", "issued_on": "2025-03-01", "title": "Жол туралы",
        "valid_from": "2025-03-01", "numbering": "directive", "number_prefix": "A",
        "appeal_types": ["proposal", "statement"], "category_ids": [reference.categories[0].id],
        "keywords": "жол", "min_signatories": "3",
    })
    assert response.status_code == 302
    directive = db.session.scalar(sa.select(Directive))
    assert directive.appeal_types == ["proposal", "statement"] and directive.category_ids == [reference.categories[0].id]
    assert directive.issuer and directive.min_signatories == 3
    page = _text(client.get(response.headers["Location"]))
    assert "Жол туралы" in page and "жол" in page


def test_contradictory_directive_form_shows_field_errors(client, db, users, login):
    login(users.coordinator)
    response = client.post("/directives/new", data={
        "number": "5", "issued_on": "2025-03-01", "title": "X", "numbering": "directive",
        "valid_from": "2025-03-10", "valid_to": "2025-03-01", "received_from": "2025-03-10", "received_to": "2025-03-01",
        "min_signatories": "-2", "target_count": "-1",
    })
    assert response.status_code == 200
    page = _text(response)
    assert page.count('class="error"') >= 4
    assert 'aria-invalid="true"' in page
    assert db.session.scalar(sa.select(sa.func.count(Directive.id))) == 0


def test_edit_directive(client, db, users, setup, login):
    login(users.coordinator)
    response = client.post(f"/directives/{setup.directive.id}/edit", data={
        "issuer": "Орталық аппарат", "number": "12-Д", "issued_on": "2025-03-01", "title": "Жаңартылған",
        "numbering": "directive", "number_prefix": "A", "appeal_types": ["proposal"], "target_count": "100",
    })
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Directive, setup.directive.id).target_count == 100


# --- Candidates and bulk flagging ---------------------------------------------------------------


def test_candidates_list_shows_matching_and_matched_criteria(client, users, setup, login):
    login(users.coordinator)
    page = _text(client.get(f"/directives/{setup.directive.id}/candidates"))
    assert setup.appeals[1].number in page and setup.appeals[3].number in page
    assert setup.appeals[0].number not in page  # already a mandate
    assert setup.appeals[2].number not in page  # a complaint misses the type criterion
    page_all = _text(client.get(f"/directives/{setup.directive.id}/candidates?all=1&q=Шағым"))
    assert setup.appeals[2].number in page_all and "off-criteria" in page_all
    filtered = _text(client.get(f"/directives/{setup.directive.id}/candidates?office_id={setup.appeals[3].office_id}"))
    assert setup.appeals[3].number in filtered and setup.appeals[1].number not in filtered


def test_bulk_flag_review_shows_count_then_flags(client, db, users, setup, login):
    login(users.coordinator)
    url = f"/directives/{setup.directive.id}/candidates"
    ids = [setup.appeals[1].id, setup.appeals[3].id]
    review = client.post(url, data={"step": "review", "appeal_id": ids, "back": url})
    page = _text(review)
    assert review.status_code == 200 and "2" in page and 'value="flag"' in page
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 1  # nothing written yet
    done = client.post(url, data={"step": "flag", "appeal_id": ids, "back": url, "mode": "separate"})
    assert done.status_code == 302 and done.headers["Location"].endswith(url)
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 3


def test_bulk_flag_as_one_joint_mandate(client, db, users, setup, login):
    login(users.coordinator)
    url = f"/directives/{setup.directive.id}/candidates"
    done = client.post(url, data={"step": "flag", "appeal_id": [setup.appeals[1].id, setup.appeals[3].id],
                                  "mode": "joint", "back": url})
    assert done.status_code == 302 and "/mandates/" in done.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(Mandate.id))) == 2


def test_override_requires_reason_on_the_confirmation(client, db, users, setup, login):
    login(users.coordinator)
    url = f"/directives/{setup.directive.id}/candidates"
    complaint = setup.appeals[2]
    review = _text(client.post(url, data={"step": "review", "appeal_id": [complaint.id], "back": url}))
    assert 'name="override_reason"' in review
    refused = client.post(url, data={"step": "flag", "appeal_id": [complaint.id], "back": url})
    assert refused.status_code == 422 and complaint.number in _text(refused)
    ok = client.post(url, data={"step": "flag", "appeal_id": [complaint.id], "back": url,
                                "override_reason": "Кеңес шешімі"})
    assert ok.status_code == 302
    link = db.session.scalar(sa.select(MandateAppeal).where(MandateAppeal.appeal_id == complaint.id))
    assert link.override_reason == "Кеңес шешімі"


def test_flag_twice_refused_on_page(client, db, users, setup, login):
    login(users.coordinator)
    url = f"/directives/{setup.directive.id}/candidates"
    response = client.post(url, data={"step": "flag", "appeal_id": [setup.appeals[0].id], "back": url})
    assert response.status_code == 422 and setup.mandate.number in _text(response)


def test_back_link_cannot_leave_the_site(client, users, setup, login):
    login(users.coordinator)
    url = f"/directives/{setup.directive.id}/candidates"
    response = client.post(url, data={"step": "flag", "appeal_id": [setup.appeals[1].id, setup.appeals[3].id],
                                      "back": "https://evil.example/x"})
    assert response.status_code == 302 and "evil" not in response.headers["Location"]


# --- Mandate page ------------------------------------------------------------------------------


def test_merge_adds_appeals_to_mandate(client, db, users, setup, login):
    login(users.coordinator)
    url = f"/mandates/{setup.mandate.id}/merge"
    page = _text(client.get(url))
    assert setup.appeals[1].number in page
    review = _text(client.post(url, data={"step": "review", "appeal_id": [setup.appeals[1].id], "back": url}))
    assert setup.mandate.number in review
    done = client.post(url, data={"step": "flag", "appeal_id": [setup.appeals[1].id], "back": url})
    assert done.status_code == 302
    detail = _text(client.get(f"/mandates/{setup.mandate.id}"))
    assert setup.appeals[0].number in detail and setup.appeals[1].number in detail


def test_unflag_needs_reason(client, db, users, setup, login):
    login(users.coordinator)
    link = setup.mandate.links[0]
    client.post(f"/mandates/{setup.mandate.id}/unflag", data={"link_id": link.id, "reason": ""})
    db.session.expire_all()
    assert db.session.get(MandateAppeal, link.id).removed_at is None
    response = client.post(f"/mandates/{setup.mandate.id}/unflag", data={"link_id": link.id, "reason": "Қате"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(MandateAppeal, link.id).removed_reason == "Қате"
    assert db.session.get(Mandate, setup.mandate.id).status == "withdrawn"
    page = _text(client.get(f"/mandates/{setup.mandate.id}"))
    assert "Қате" in page


def test_unflag_link_of_another_mandate_is_404(client, db, users, setup, login):
    [other] = flagging.flag_appeals(setup.directive, [setup.appeals[1].id], users.coordinator)
    login(users.coordinator)
    response = client.post(f"/mandates/{other.id}/unflag", data={"link_id": setup.mandate.links[0].id, "reason": "x"})
    assert response.status_code == 404


def test_edit_mandate_and_progress(client, db, users, setup, login):
    login(users.coordinator)
    m = setup.mandate
    response = client.post(f"/mandates/{m.id}/edit", data={
        "title": "Жолды асфальттау", "description": "", "settlement_id": "", "responsible": "Ауыл әкімі",
        "target_date": "2025-12-31", "status": "in_progress", "progress_percent": "10",
    })
    assert response.status_code == 302
    bad = client.post(f"/mandates/{m.id}/edit", data={"title": "", "status": "registered"})
    assert bad.status_code == 200 and 'class="error"' in _text(bad)
    client.post(f"/mandates/{m.id}/progress", data={"noted_on": (date.today() - timedelta(days=1)).isoformat(),
                                                    "note": "Смета дайын", "percent": "40"})
    db.session.expire_all()
    mandate = db.session.get(Mandate, m.id)
    assert (mandate.title, mandate.status, mandate.progress_percent) == ("Жолды асфальттау", "in_progress", 40)
    page = _text(client.get(f"/mandates/{m.id}"))
    assert "Смета дайын" in page and "Ауыл әкімі" in page


def test_mandate_list_filters(client, db, users, reference, setup, login):
    [merke] = flagging.flag_appeals(setup.directive, [setup.appeals[3].id], users.coordinator)
    lifecycle.update_mandate(merke, {"target_date": date(2020, 1, 1)}, users.coordinator)
    login(users.viewer)
    page = _text(client.get("/mandates?overdue=1"))
    assert merke.number in page and setup.mandate.number not in page
    page = _text(client.get(f"/mandates?office_id={reference.kordai.id}&status=registered"))
    assert setup.mandate.number in page and merke.number not in page
    page = _text(client.get(f"/mandates?settlement_id={reference.settlements[2].id}"))
    assert merke.number in page and setup.mandate.number not in page


def test_statistics_page_and_bad_period(client, users, setup, login):
    login(users.viewer)
    page = _text(client.get("/mandates/statistics?start=2025-03-01&end=2025-03-31"))
    assert 'data-stat="appeals_received">4<' in page
    assert 'data-stat="mandates_registered">1<' in page
    bad = _text(client.get("/mandates/statistics?start=2025-03-31&end=2025-03-01"))
    assert 'role="alert"' in bad


def test_home_block_for_coordinator_only(client, db, users, setup, login, app):
    lifecycle.update_mandate(setup.mandate, {"target_date": date(2020, 1, 1)}, users.coordinator)
    login(users.coordinator)
    page = _text(client.get("/"))
    assert "home-mandates" in page and setup.mandate.number in page
    viewer = app.test_client()
    login(users.viewer, test_client=viewer)
    assert "home-mandates" not in _text(viewer.get("/"))


def test_appeal_snippet_links_back(app, db, users, setup, login):
    """The mandates box reaches the appeal page through the appeal_page_blocks signal (core/hooks)."""
    from flask import render_template
    from flask_login import login_user

    from appeals.core import hooks

    def box(appeal, user):
        blocks = hooks.collect(hooks.appeal_page_blocks, appeal, user=user)
        return "".join(render_template(b.template, appeal=appeal, block=b.context) for b in blocks)

    with app.test_request_context():
        login_user(users.coordinator)
        html = box(setup.appeals[0], users.coordinator)
        assert setup.mandate.number in html and f"/mandates/{setup.mandate.id}" in html
        html = box(setup.appeals[1], users.coordinator)
        assert "appeal-mandates" in html and setup.mandate.number not in html


def test_appeal_page_shows_its_mandate(client, users, setup, login):
    login(users.coordinator)
    page = client.get(f"/appeals/{setup.appeals[0].id}").get_data(as_text=True)
    assert setup.mandate.number in page and f"/mandates/{setup.mandate.id}" in page
