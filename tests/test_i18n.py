"""Every message has a Kazakh, Russian and English translation."""
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parent.parent / "appeals" / "translations"


def _catalog(locale):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle)


def _template_ids():
    with open(TRANSLATIONS / "messages.pot", "rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_catalog_is_complete(locale):
    catalog = _catalog(locale)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings) or message.fuzzy:
            missing.append(message.id)
    assert missing == [], f"{len(missing)} untranslated in {locale}: {missing[:10]}"


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_catalog_covers_the_template(locale):
    ids = {message.id for message in _catalog(locale) if message.id}
    assert _template_ids() - ids == set()


def test_template_is_up_to_date_with_the_code(tmp_path, monkeypatch):
    """Strings added to code or templates without `make translations` fail here."""
    from babel.messages.frontend import CommandLineInterface

    root = TRANSLATIONS.parent.parent
    out = tmp_path / "fresh.pot"
    monkeypatch.chdir(root)
    CommandLineInterface().run([
        "pybabel", "--quiet", "extract", "-F", str(TRANSLATIONS / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
        "-o", str(out), "--no-location", "--sort-output", ".",
    ])
    with open(out, "rb") as handle:
        fresh = {message.id for message in read_po(handle) if message.id}
    assert fresh - _template_ids() == set()


def test_kazakh_letters_survive_in_catalog():
    catalog = _catalog("kk")
    text = "".join(m.string if isinstance(m.string, str) else "".join(m.string) for m in catalog if m.id)
    assert any(letter in text for letter in "әғқңөұүһі")
