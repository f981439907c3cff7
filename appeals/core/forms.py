"""The base of every form: Flask-WTF's, with WTForms' own messages read once per process and language.

    class LoginForm(Form): ...

Flask-WTF finds WTForms' catalog ("This field is required.", "Invalid choice" ...) by reading and
parsing its .mo file from disk again in every request that builds a form (flask_wtf.i18n keeps it on
the request only); the catalogs do not change while the process runs, so each language's is loaded
once here and shared (a loaded catalog is only read).
"""
from __future__ import annotations

import functools

from babel import support
from flask import current_app
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path

from appeals.core.i18n import current_language


@functools.cache
def wtforms_catalog(language: str) -> support.NullTranslations:
    """WTForms' own messages in `language` (English when WTForms has no catalog of it)."""
    return support.Translations.load(messages_path(), [language], domain="wtforms")


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_catalog(current_language())
