"""Issue 13, finding 11: the PDF renderer loads only its fonts and stylesheets, and no saved name
can write CSS of its own into a document."""
import pytest
import tinycss2

from appeals.core.text import clean_name
from appeals.reports import pdf
from appeals.reports.pdf import FONTS_DIR, JOURNAL_CSS, PRINT_CSS, LocalOnlyFetcher

ROOT = FONTS_DIR.parent.parent.parent


@pytest.mark.parametrize("url", [
    (ROOT / "config.py").as_uri(),
    (ROOT / "instance" / "secret_key").as_uri(),
    (ROOT / "instance" / "qabyldau.sqlite3").as_uri(),
    # A sibling folder whose name starts like the fonts folder's.
    (FONTS_DIR.parent / "fonts-private" / "key.ttf").as_uri(),
    FONTS_DIR.as_uri() + "/../../../config.py",
    FONTS_DIR.as_uri() + "/%2e%2e/%2e%2e/%2e%2e/config.py",
    (FONTS_DIR.parent / "pdf.py").as_uri(),
    "file://evil.example" + str(FONTS_DIR / "DejaVuSans.ttf"),
    "https://example.com/font.ttf",
    "data:text/css,body{}",
])
def test_fetcher_refuses_anything_but_fonts_and_stylesheets(url):
    fetcher = LocalOnlyFetcher()
    assert not fetcher.allows(url)
    with pytest.raises(ValueError):
        fetcher.fetch(url)


def test_fetcher_allows_the_shipped_fonts_and_stylesheets(tmp_path):
    fetcher = LocalOnlyFetcher()
    for path in (FONTS_DIR / "DejaVuSans.ttf", PRINT_CSS, JOURNAL_CSS):
        assert fetcher.allows(path.as_uri()), path
    # A symlink into the fonts folder from elsewhere is followed to what it points at.
    link = tmp_path / "font.ttf"
    link.symlink_to(ROOT / "config.py")
    assert not fetcher.allows(link.as_uri())


def _content_strings(css):
    rules = [rule for rule in tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True)]
    assert [(r.type, r.at_keyword) for r in rules] == [("at-rule", "page")], css
    boxes = [r for r in tinycss2.parse_blocks_contents(rules[0].content, skip_whitespace=True) if r.type == "at-rule"]
    strings = {}
    for box in boxes:
        declarations = tinycss2.parse_blocks_contents(box.content, skip_whitespace=True)
        content = [d for d in declarations if d.type == "declaration" and d.name == "content"]
        assert len(content) == 1
        strings[box.at_keyword] = [t.value for t in content[0].value if t.type == "string"]
    return strings


@pytest.mark.parametrize("name", [
    'Ерлан\r} @page { @bottom-left { content: "PWNED" } } @page {',
    'A"; } body { display: none } @page { x: "',
    "back\\slash\nnew\fline\x00nul\x1b\u2028",
])
def test_footer_css_keeps_any_text_inside_its_string(name):
    css = pdf.footer_css(f"Printed by {name}", "Page %(page)s of %(pages)s")
    strings = _content_strings(css)
    assert strings["bottom-left"][0].replace("\ufffd", "\x00") == f"Printed by {name}"
    assert "PWNED" not in "".join(strings.get("bottom-right", []))


def test_clean_name_strips_control_and_format_characters():
    assert clean_name(" Ерлан\r\n} @page {\x00\x1b  Серікұлы\u202e\u200b ") == "Ерлан } @page { Серікұлы"
    assert clean_name(None) == "" and clean_name("Әбілқасымов Ерлан") == "Әбілқасымов Ерлан"


def test_names_are_cleaned_when_saved(db, users, reg_appeal, reference):
    from appeals.auth import services as auth_services
    from appeals.schedules import hosts as schedule_hosts

    user = auth_services.create_user("crlf", "correct-horse-battery", "clerk", [reference.kordai.code],
                                     full_name="Айгүл\r} @page { x: 1 }\u202e")
    assert user.full_name == "Айгүл } @page { x: 1 }"
    auth_services.update_user(user, role="clerk", office_codes=[reference.kordai.code], full_name="Жаңа\x1bат",
                              email="", locale=None, is_active=True, actor=users.admin)
    assert user.full_name == "Жаңа ат"
    host = schedule_hosts.create_host({"full_name": "Хост\x07\u200bАты", "kind": "candidate"}, users.admin)
    assert host.full_name == "Хост Аты"
    appeal = reg_appeal(applicant_name="Серікова\x01 Айгүл\u202e")
    assert appeal.applicant_name == "Серікова Айгүл"
