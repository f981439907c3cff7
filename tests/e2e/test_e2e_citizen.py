"""On a 390×844 phone a citizen sends an appeal with a photo, types the code from the SMS gateway,
gets the receipt and follows the appeal; a clerk answers it with a letter; the citizen downloads the
answer; the photo kept with the appeal has no GPS position left (issue 16, items 1, 2, 5)."""
import io
import re

from PIL import Image

from tests.e2e import checkers
from tests.hostile_files import photo_with_gps, simple_pdf

PHONE = "+77015550199"


def _phone(browser, live_server):
    from tests.e2e.conftest import WatchedPage

    context = browser.new_context(locale="kk-KZ", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, accept_downloads=True)
    checkers.install_axe(context)
    return context, WatchedPage(context.new_page(), live_server.url)


def test_a_citizen_appeals_online_from_a_phone_and_downloads_the_answer(browser, live_server, page, tmp_path):
    checkers.require_checkers()
    context, citizen = _phone(browser, live_server)
    violations = []
    try:
        photo = tmp_path / "IMG_0420.jpg"
        photo.write_bytes(photo_with_gps("JPEG", size=(120, 90)))
        citizen.goto("/appeal")
        assert citizen.locator("h1").inner_text() == "Онлайн өтініш жіберу"
        violations += checkers.axe_violations(citizen.page, "/appeal:")
        width = citizen.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the form is {width}px wide on a 390px phone"
        citizen.fill("#applicant_name", "Бекова Әсем Нұрланқызы")
        citizen.fill("#phone", "+7 701 555 01 99")
        citizen.fill("#settlement", "Масаншы — Қордай ауданы")
        citizen.select_option("#appeal_type", "request")
        citizen.select_option("#category_id", index=1)
        citizen.fill("#summary", "Аялдамаға шатыр орнату")
        citizen.fill("#text", "Балалар мектеп автобусын жаңбырда күтеді.")
        citizen.set_input_files("#files", str(photo))
        citizen.check("#consent")
        citizen.wait_for_timeout(1100)  # the form's minimum fill time (1 s on this server)
        with citizen.expect_navigation():
            citizen.locator("main button[type=submit]").click()
        assert "/appeal/confirm/" in citizen.url, citizen.inner_text("main")[:500]
        assert "******99" in citizen.inner_text("main"), "the code went to the phone given (masked)"
        violations += checkers.axe_violations(citizen.page, "confirmation:")

        citizen.fill("#code", live_server.sms.wait_for_code(PHONE))
        with citizen.expect_navigation():
            citizen.locator("button", has_text="Өтінішімді тіркеу").click()
        assert citizen.url.endswith("/appeal/receipt")
        number = citizen.locator(".receipt-number").inner_text()
        tracking = citizen.locator(".receipt-code").inner_text()
        assert re.fullmatch(r"KRD-\d{4}-\d+", number) and re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", tracking)
        citizen.page.screenshot(path=str(tmp_path / "receipt.png"), full_page=True)
        violations += checkers.axe_violations(citizen.page, "receipt:")

        # The number and the tracking code, typed on /track, open the status.
        citizen.goto("/track")
        violations += checkers.axe_violations(citizen.page, "/track:")
        citizen.fill("#number", number)
        citizen.fill("#code", tracking.lower())
        with citizen.expect_navigation():
            citizen.locator("main button[type=submit]").click()
        assert "/track/" in citizen.url and "Тіркелді" in citizen.locator(".track-status").inner_text()
        track_url = citizen.url
        violations += checkers.axe_violations(citizen.page, "status:")
        main = citizen.inner_text("main")
        assert "Бекова" not in main and "шатыр" not in main, "nothing personal on the tracking page"

        # The clerk of Kordai finds it in the register, sees the photo without its metadata, and answers.
        page.login("clerk.kordai")
        page.goto("/appeals")
        with page.expect_navigation():
            page.locator("a", has_text=number).first.click()
        appeal_url = page.url
        page.context.add_init_script(path=str(checkers.AXE_JS))
        page.reload()
        violations += checkers.axe_violations(page.page, "the appeal's page with its files:")
        with page.expect_download() as photo_download:
            page.locator("#attachments a", has_text="IMG_0420.jpg").click()
        kept = open(photo_download.value.path(), "rb").read()
        with Image.open(io.BytesIO(kept)) as image:
            assert len(image.getexif()) == 0 and (image.width, image.height) == (90, 120)
        assert b"PhoneMaker" not in kept

        letter = tmp_path / "жауап.pdf"
        letter.write_bytes(simple_pdf())
        page.set_input_files("#attachment-files", str(letter))
        page.select_option("#attachment-kind", "answer")
        with page.expect_navigation():
            page.locator("#attachments button", has_text="Тіркеу").click()
        for status in ("in_review", "answered"):
            page.goto(appeal_url)
            form = page.locator(f"form:has(input[name=status][value={status}])")
            page.locator("details.transition", has=form).locator("summary").click()
            if status == "answered":
                form.locator("#answer_text").fill("Аялдамаға шатыр көктемде орнатылады.")
            with page.expect_navigation():
                form.locator("button[type=submit]").click()

        # The citizen sees the answer and downloads the letter.
        citizen.goto(track_url[len(live_server.url):])
        assert "Жауап берілді" in citizen.locator(".track-status").inner_text()
        with citizen.expect_download() as answer_download:
            citizen.locator("a", has_text="жауап.pdf").click()
        assert open(answer_download.value.path(), "rb").read().startswith(b"%PDF-")
        assert not citizen.errors, citizen.errors
        assert not violations, "\n".join(violations)
    finally:
        context.close()
