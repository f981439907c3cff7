"""Mandates in public (issue 17, items 2 and 3): the public pages, progress updates with photos by
the responsible person, e-mail subscriptions with double opt-in and one-click unsubscribe, notices
through the outbox to the local SMTP server."""
import io
import re
import xml.etree.ElementTree as ET

import pytest
import sqlalchemy as sa
from PIL import Image

from appeals.core import outbox
from appeals.core.outbox import Notice
from appeals.mandates import flagging, lifecycle, publication, subscriptions
from appeals.mandates.directives import MandateError
from appeals.mandates.models import Mandate, MandateSubscription
from tests.hostile_files import photo_with_gps

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def published(db, users, reference, make_appeal, make_directive):
    """Two published mandates (Kordai settlements 0 and 1) and one draft; the first one's responsible is the host."""
    directive = make_directive()
    appeals = [make_appeal(summary="Көшені жарықтандыру, тел. 87015554433", settlement_id=reference.settlements[0].id),
               make_appeal(summary="Саябақ салу", settlement_id=reference.settlements[1].id,
                           category_id=reference.categories[1].id),
               make_appeal(summary="Құпия жоба", settlement_id=reference.settlements[0].id)]
    mandates = [flagging.flag_appeals(directive, [a.id], users.coordinator)[0] for a in appeals]
    lifecycle.update_mandate(mandates[0], {"responsible": "Кордай ауданының әкімдігі",
                                           "responsible_user_id": users.host.id}, users.coordinator)
    publication.save_public_text(mandates[0], {"public_title": "Көшелерді жарықтандыру",
                                               "public_description": "Бағандар мен шамдар орнату"},
                                 users.coordinator, publish=True)
    publication.save_public_text(mandates[1], {"public_title": "Жаңа саябақ"}, users.coordinator, publish=True)
    db.session.expire_all()
    return [db.session.get(Mandate, m.id) for m in mandates]


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_the_public_list_shows_published_mandates_only_to_anyone(client, published, reference):
    page = _page(client, "/public/mandates?lang=en")
    assert "Көшелерді жарықтандыру" in page and "Жаңа саябақ" in page
    assert published[2].number not in page and "Құпия жоба" not in page
    assert "8701" not in page and published[0].title not in page  # the appeal's summary never
    assert "public" in client.get("/public/mandates").headers["Cache-Control"]
    only_first = _page(client, f"/public/mandates?settlement_id={reference.settlements[0].id}")
    assert "Көшелерді жарықтандыру" in only_first and "Жаңа саябақ" not in only_first
    by_category = _page(client, f"/public/mandates?category_id={reference.categories[1].id}")
    assert "Жаңа саябақ" in by_category and "Көшелерді жарықтандыру" not in by_category
    district = reference.settlements[0].district_id
    by_district = _page(client, f"/public/mandates?district_id={district}")
    assert "Көшелерді жарықтандыру" in by_district
    assert "Көшелерді" not in _page(client, "/public/mandates?status=fulfilled")
    bad = client.get("/public/mandates?status=nonsense&lang=en")
    assert bad.status_code == 200 and "flash-error" in bad.get_data(as_text=True)


def test_one_mandate_in_public_and_a_draft_is_not_found(client, published):
    mandate = published[0]
    page = _page(client, f"/public/mandates/{mandate.number}?lang=en")
    for shown in (mandate.number, "Көшелерді жарықтандыру", "Бағандар мен шамдар орнату", "Кордай ауданының әкімдігі",
                  mandate.settlement.name_en or mandate.settlement.name_ru):
        assert shown in page, shown
    assert client.get(f"/public/mandates/{published[2].number}").status_code == 404
    assert client.get("/public/mandates/A-999-9999").status_code == 404


def test_the_responsible_person_posts_an_update_with_a_photo_without_its_metadata(app, client, db, users, login,
                                                                                  published):
    mandate = published[0]
    login(users.host)  # a host, made responsible: may report on this mandate only
    assert client.get(f"/mandates/{mandate.id}").status_code == 200
    response = client.post(f"/mandates/{mandate.id}/progress", data={
        "noted_on": "2026-11-18", "note": "Бағандар орнатылды", "percent": "40", "status": "",
        "photos": [(io.BytesIO(photo_with_gps()), "IMG_0001.jpg")]}, content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.expire_all()
    mandate = db.session.get(Mandate, mandate.id)
    assert mandate.progress_percent == 40 and mandate.status == "in_progress"
    [note] = mandate.notes
    [photo] = note.photos
    data = client.get(f"/public/mandates/photos/{photo.id}").data
    assert data.startswith(b"\xff\xd8") and b"PhoneMaker" not in data and b"Camera serial" not in data
    assert not Image.open(io.BytesIO(data)).getexif()
    page = _page(client, f"/public/mandates/{mandate.number}")
    assert "Бағандар орнатылды" in page and f"/public/mandates/photos/{photo.id}" in page
    # Not the responsible person of the other mandate.
    refused = client.post(f"/mandates/{published[1].id}/progress", data={"noted_on": "2026-11-18", "note": "x"})
    assert refused.status_code == 403
    # A draft mandate's photos are not public.
    lifecycle.add_progress_note(published[2], "2026-11-18", "Жоба", 10, users.coordinator,
                                photos=[photo_with_gps()])
    db.session.expire_all()
    hidden = db.session.get(Mandate, published[2].id).notes[0].photos[0]
    assert client.get(f"/public/mandates/photos/{hidden.id}").status_code == 404


def test_updates_refuse_a_bad_photo_a_bad_status_and_too_many_photos(db, users, published):
    with pytest.raises(MandateError) as error:
        lifecycle.add_progress_note(published[0], "2026-11-18", "x", None, users.coordinator, photos=[b"%PDF-1.4 no"])
    assert error.value.field == "photos"
    with pytest.raises(MandateError) as error:
        lifecycle.add_progress_note(published[0], "2026-11-18", "x", None, users.coordinator, status="withdrawn")
    assert error.value.field == "status"
    with pytest.raises(MandateError):
        lifecycle.add_progress_note(published[0], "2026-11-18", "x", None, users.coordinator,
                                    photos=[photo_with_gps()] * 7)
    note = lifecycle.add_progress_note(published[0], "2026-11-18", "Бітті", None, users.coordinator,
                                       status="fulfilled")
    db.session.expire_all()
    mandate = db.session.get(Mandate, published[0].id)
    assert mandate.status == "fulfilled" and mandate.progress_percent == 100 and note.status == "fulfilled"


def test_public_update_texts_hide_personal_data_staff_typed(client, db, users, published):
    lifecycle.add_progress_note(published[0], "2026-11-18", "Тұрғынмен сөйлестік: +7 701 555 44 33, ул. Абая, д. 12",
                                30, users.coordinator)
    page = _page(client, f"/public/mandates/{published[0].number}")
    assert "555 44 33" not in page and "д. 12" not in page and "Тұрғынмен сөйлестік" in page


def test_summary_per_district_and_per_settlement(client, db, users, published, reference):
    lifecycle.add_progress_note(published[1], "2026-11-18", "Басталды", 50, users.coordinator)
    by_settlement = _page(client, "/public/mandates/summary?by=settlement&lang=en")
    rows = re.findall(r"<tr>(.*?)</tr>", by_settlement.split("<tbody>")[1], re.S)
    assert len(rows) == 2  # two settlements with published mandates; the draft is not counted
    by_district = _page(client, "/public/mandates/summary?by=district&lang=en")
    [row] = re.findall(r"<tr>(.*?)</tr>", by_district.split("<tbody>")[1], re.S)
    cells = [re.sub(r"<.*?>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert cells[0] == "2"  # both published mandates are in one district
    assert "25" in cells[-1]  # (0 + 50) / 2


def test_the_atom_feed_lists_updates_of_published_mandates(client, db, users, published):
    lifecycle.add_progress_note(published[0], "2026-11-18", "Бағандар орнатылды", 40, users.coordinator)
    lifecycle.add_progress_note(published[2], "2026-11-18", "Құпия жаңалық", 10, users.coordinator)
    response = client.get("/public/mandates/feed")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    assert "Көшелерді жарықтандыру" in entries[0].find(f"{ATOM}title").text
    assert entries[0].find(f"{ATOM}content").text == "Бағандар орнатылды"
    assert f"/public/mandates/{published[0].number}#update-" in entries[0].find(f"{ATOM}link").get("href")
    one = ET.fromstring(client.get(f"/public/mandates/feed?mandate={published[1].number}").data)
    assert one.findall(f"{ATOM}entry") == []
    assert client.get(f"/public/mandates/feed?mandate={published[2].number}").status_code == 404


def _deliver():
    outbox.deliver_due()


def _link(message, pattern):
    text = message.get_body(("plain",)).get_content()
    found = re.search(pattern, text)
    assert found, text
    return found.group(0)


def test_double_opt_in_notice_on_progress_and_one_click_unsubscribe(app, client, db, users, published, smtp):
    mandate = published[0]
    page = _page(client, f"/public/mandates/{mandate.number}?lang=en")
    assert 'name="email"' in page
    response = client.post("/public/mandates/subscribe", data={"mandate": mandate.number, "email": "Citizen@Mail.KZ"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#subscribe")
    [subscription] = db.session.scalars(sa.select(MandateSubscription)).all()
    assert subscription.confirmed_at is None
    # Not confirmed: a progress change sends nothing to this address.
    lifecycle.add_progress_note(mandate, "2026-11-18", "Жоба", 10, users.coordinator)
    _deliver()
    [(to, confirmation)] = smtp.inbox.wait_for(1)
    assert to == ["Citizen@mail.kz"] and confirmation["Subject"]
    link = _link(confirmation, r"http://[^\s]+/public/mandates/subscription/[^\s]+")
    path = link.split("5000", 1)[1]
    assert "Confirm the subscription" in _page(client, path + "?lang=en")
    db.session.expire_all()
    assert db.session.get(MandateSubscription, subscription.id).confirmed_at is None  # GET confirms nothing
    assert client.post(path).status_code == 200
    db.session.expire_all()
    assert db.session.get(MandateSubscription, subscription.id).confirmed_at is not None
    lifecycle.add_progress_note(mandate, "2026-11-18", "Бағандар орнатылды", 40, users.coordinator)
    lifecycle.add_progress_note(mandate, "2026-11-18", "Мәтін ғана", None, users.coordinator)  # no change: no notice
    _deliver()
    messages = smtp.inbox.wait_for(2)
    assert len(messages) == 2
    notice = messages[1][1]
    assert "40" in notice["Subject"] and mandate.number in notice["Subject"]
    unsubscribe = notice["List-Unsubscribe"].strip("<>")
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/public/mandates/unsubscribe/" in unsubscribe
    # The mail program's one-click POST, without any CSRF token of ours.
    one_click = client.post(unsubscribe.split("5000", 1)[1], data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    db.session.expire_all()
    assert db.session.scalars(sa.select(MandateSubscription)).all() == []  # the address is gone with it
    assert all(notice.params.get("unsubscribe_token") for notice in db.session.scalars(
        sa.select(Notice).where(Notice.template.like("mandate_%"))))


def test_subscribing_to_a_settlement_and_the_answer_never_tells_who_is_subscribed(app, client, db, users, published,
                                                                                   reference, smtp):
    settlement = reference.settlements[0]
    page = _page(client, f"/public/mandates?settlement_id={settlement.id}&lang=en")
    assert "Follow the mandates of" in page
    for _attempt in range(2):
        response = client.post("/public/mandates/subscribe", data={"settlement_id": settlement.id,
                                                                   "email": "a@example.kz"}, follow_redirects=True)
        assert "confirmation link" in response.get_data(as_text=True) or response.status_code == 200
    assert len(db.session.scalars(sa.select(MandateSubscription)).all()) == 1  # the second submit made no other
    _deliver()
    assert len(smtp.inbox.wait_for(1)) == 1  # and sent no second mail within ten minutes
    [subscription] = db.session.scalars(sa.select(MandateSubscription)).all()
    subscriptions.confirm(subscriptions.confirm_token(subscription))
    lifecycle.add_progress_note(published[0], "2026-11-18", "Басталды", 20, users.coordinator)
    lifecycle.add_progress_note(published[1], "2026-11-18", "Басталды", 20, users.coordinator)  # another settlement
    _deliver()
    messages = smtp.inbox.wait_for(2, timeout=5)
    assert len(messages) == 2 and published[0].number in messages[1][1]["Subject"]
    bad = client.post("/public/mandates/subscribe?lang=en", data={"settlement_id": settlement.id,
                                                                  "email": "not an address"}, follow_redirects=True)
    assert "not a valid e-mail address" in bad.get_data(as_text=True)


def test_links_are_signed_and_expired_subscriptions_are_deleted(app, db, users, published, time_machine):
    subscription = subscriptions.subscribe("b@example.kz", "ru", mandate=published[0])
    assert subscriptions.confirm("forged." + subscriptions.confirm_token(subscription)) is None
    assert subscriptions.unsubscribe("garbage") is False
    with pytest.raises(subscriptions.SubscriptionError):
        subscriptions.subscribe("b@example.kz", "ru", mandate=published[2])  # a draft cannot be followed
    from datetime import timedelta

    from appeals.core.timeutil import utcnow

    assert subscriptions.purge_unconfirmed(utcnow() + timedelta(days=8)) == 1
    assert db.session.scalars(sa.select(MandateSubscription)).all() == []


def test_a_mandate_past_its_target_date_reminds_its_responsible_person_and_the_coordinators(
        db, users, published, smtp):
    import datetime as dt

    from appeals.core.database import write_transaction
    from appeals.notifications import duties

    wednesday = dt.date(2026, 3, 11)
    with write_transaction():
        for user, address in ((users.host, "host@example.kz"), (users.coordinator, "coord@example.kz")):
            merged = db.session.merge(user)
            merged.email, merged.locale = address, "en"
        first = db.session.get(Mandate, published[0].id)  # its responsible person is the host
        first.target_date = wednesday - dt.timedelta(days=1)
        fulfilled = db.session.get(Mandate, published[1].id)
        fulfilled.target_date, fulfilled.status = wednesday - dt.timedelta(days=1), "fulfilled"
    db.session.expire_all()
    with write_transaction():  # the duty's claim gives it one in production
        counts = duties.morning_notices(wednesday)
    assert counts["mandates_overdue"] == 2
    outbox.deliver_due()
    messages = {tuple(to): message for to, message in smtp.inbox.wait_for(2)}
    assert set(messages) == {("host@example.kz",), ("coord@example.kz",)}
    for message in messages.values():
        text = message.get_body(("plain",)).get_content()
        assert published[0].number in text and published[1].number not in text
    with write_transaction():
        assert duties.morning_notices(wednesday + dt.timedelta(days=1))["mandates_overdue"] == 0  # told once
