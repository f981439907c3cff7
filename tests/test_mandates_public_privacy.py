"""No public page or public document holds an IIN-, phone- or e-mail-like string from an appeal
(issue 17, "done when"): the planted appeal of tests/test_privacy_personal.py carries them in every
field (name, IIN, phone, address, summary, letter, answer, and the corrections' history); it becomes
a published mandate with updates, and every public door is read as an anonymous visitor."""
import re

import sqlalchemy as sa

from appeals.core.privacy import HIDDEN
from appeals.mandates import flagging, lifecycle, publication
from appeals.mandates.models import Mandate
from tests.fixtures_register import VALID_IIN
from tests.fixtures_reports import pdf_pages_text
from tests.hostile_files import photo_with_gps
from tests.test_privacy_personal import (  # noqa: F401  (the planted appeal is a fixture)
    EMAIL,
    LETTER_WORD,
    PHONE_DIGITS,
    _leaks,
    planted,
)


def _public_leaks(text):
    flat = re.sub(r"[\s\-()+]", "", text)
    found = _leaks(text, letter=True)
    found += [value for value in (VALID_IIN, PHONE_DIGITS, PHONE_DIGITS[1:], EMAIL) if value in flat]
    return sorted(set(found))


def test_no_public_page_feed_or_document_holds_the_appeals_personal_data(app, db, users, login, planted,  # noqa: F811
                                                                          make_directive):
    [mandate] = flagging.flag_appeals(make_directive(), [planted.id], users.coordinator,
                                      override_reason="test flag")
    # The draft the coordinator starts from holds none of it either; they rewrite the hidden places.
    assert _public_leaks(mandate.public_title) == [] and HIDDEN in mandate.public_title
    clean = " ".join(mandate.public_title.replace(HIDDEN, " ").replace(",", " ").split())
    publication.save_public_text(mandate, {"public_title": clean, "public_description": "Көше шамдарын орнату"},
                                 users.coordinator, publish=True)
    lifecycle.update_mandate(mandate, {"responsible": "Аудан әкімдігі"}, users.coordinator)
    # Staff typed a phone into an update: the public pages hide it all the same.
    lifecycle.add_progress_note(mandate, "2026-11-18", f"Өтініш иесімен сөйлестік ({planted.phone})", 40,
                                users.coordinator, photos=[photo_with_gps()])
    db.session.expire_all()
    mandate = db.session.get(Mandate, mandate.id)
    anonymous = app.test_client()
    pages = {}
    for url in ("/public/mandates", f"/public/mandates/{mandate.number}", "/public/mandates/summary?by=district",
                "/public/mandates/summary?by=settlement", "/public/mandates/feed",
                f"/public/mandates/feed?mandate={mandate.number}",
                f"/public/mandates?settlement_id={mandate.settlement_id}"):
        for lang in ("kk", "ru", "en"):
            response = anonymous.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
            assert response.status_code == 200, url
            pages[f"{url} {lang}"] = response.get_data(as_text=True)
    assert all(mandate.number in text for url, text in pages.items() if "summary" not in url)
    assert "Көше шамдарын орнату" in pages[f"/public/mandates/{mandate.number} en"]
    photo = mandate.notes[0].photos[0]
    image = anonymous.get(f"/public/mandates/photos/{photo.id}").data
    assert b"PhoneMaker" not in image and b"GPS" not in image
    # The public documents: the printed public mandate list, as every role that may print it.
    for role in ("viewer", "host", "clerk", "coordinator"):
        client = app.test_client()
        login(getattr(users, role), test_client=client)
        for group in ("settlement", "category"):
            response = client.get("/reports/mandates.pdf", query_string={"group": group, "lang": "en"})
            assert response.status_code == 200
            pages[f"pdf {role} {group}"] = "\n".join(pdf_pages_text(response.data))
        # The mandates export (the bulk-update file) carries the public text only.
        pages[f"csv {role}"] = client.get("/mandates/export?format=csv").get_data(as_text=True)
    assert mandate.number in pages["pdf viewer settlement"] and mandate.number in pages["csv viewer"]
    leaks = {where: found for where, text in pages.items() if (found := _public_leaks(text))}
    assert leaks == {}
    assert LETTER_WORD not in "".join(pages.values())
    # The mandate's own title still is the appeal's summary: it is the public text that protects.
    assert db.session.scalar(sa.select(Mandate.title).where(Mandate.id == mandate.id)) != mandate.public_title
