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


KAZAKH_LETTERS = "әғқңөұүі"  # the Kazakh-only letters of the catalog (һ is in none of its words)


def test_kazakh_letters_survive_in_catalog(app):
    """What the Kazakh catalog says is what a Kazakh page shows: compiled, loaded and served intact."""
    from flask_babel import gettext

    samples = [m for m in _catalog("kk") if isinstance(m.id, str) and m.id and any(c in m.string for c in KAZAKH_LETTERS)]
    assert set(KAZAKH_LETTERS) <= set("".join(m.string for m in samples))
    with app.test_request_context("/?lang=kk"):
        wrong = [(m.id, gettext(m.id)) for m in samples if gettext(m.id) != m.string]
    assert wrong == [], wrong[:5]


@pytest.mark.parametrize(("locale", "expected"), [("kk", "Жарамды таңдау емес."), ("ru", "Неверный вариант."),
                                                  ("en", "Not a valid choice.")])
def test_forms_speak_the_pages_language_with_wtforms_own_messages(app, monkeypatch, locale, expected):
    """WTForms' built-in messages come in the page's language, from a catalog read once per process."""
    from babel import support
    from werkzeug.datastructures import MultiDict
    from wtforms import SelectField

    from appeals.core import forms

    class Choice(forms.Form):
        class Meta:
            csrf = False

        kind = SelectField(choices={"a": "A"})

    loads = []
    real_load = support.Translations.load
    monkeypatch.setattr(support.Translations, "load", lambda *args, **kwargs: loads.append(args) or real_load(
        *args, **kwargs))
    forms.wtforms_catalog.cache_clear()
    for _request in range(3):
        with app.test_request_context(f"/?lang={locale}"):
            form = Choice(formdata=MultiDict({"kind": "b"}))
            assert not form.validate()
            assert form.kind.errors == [expected]
    assert len(loads) == 1
    forms.wtforms_catalog.cache_clear()
