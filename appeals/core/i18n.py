"""Language choice and locale-aware formatting. Kazakh is the default language of the interface."""
import datetime
import functools

from babel import Locale
from babel import numbers as babel_numbers
from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale, lazy_gettext
from flask_login import current_user

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def select_locale():
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    requested = request.args.get("lang")
    if requested in languages:
        return requested
    if request.path.startswith("/api/") and request.accept_languages:
        # API clients say what they want; people get Kazakh until they choose otherwise.
        best = request.accept_languages.best_match(languages)
        if best:
            return best
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone():
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def current_language():
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def fmt_date(value, style="medium"):
    if value is None:
        return ""
    # Kazakh and Russian registers write dates as 24.11.2026.
    return format_date(value, "dd.MM.yyyy" if style == "short" else style)


def fmt_datetime(value, style="short", rebase=False):
    if value is None:
        return ""
    if style == "short":
        return format_datetime(value, "dd.MM.yyyy HH:mm", rebase=rebase)
    return format_datetime(value, style, rebase=rebase)


# Kazakh typography writes a space between a number and the per cent sign, as Russian does
# (22,7 %); CLDR's Kazakh pattern has none. Every other locale keeps CLDR's pattern.
PERCENT_PATTERNS = {"kk": "#,##0\u00a0%"}


def _number_locale(locale=None):
    return str(locale) if locale else str(get_locale() or "kk")


def number_locale():
    """The language numbers are written in now: what a chart of hundreds of figures passes to fmt_number."""
    return _number_locale()


@functools.lru_cache(maxsize=16)
def _integer_symbols(code):
    """(group separator, minus sign) where Babel writes whole numbers as plain groups of three
    (#,##0 patterns: kk, ru, en), else None. tests/test_numbers_i18n.py holds the two ways equal."""
    locale = Locale.parse(code)
    pattern = locale.decimal_formats[None]
    if pattern.grouping != (3, 3) or locale._data.get("min_grouping_digits", 1) != 1:
        return None
    return babel_numbers.get_group_symbol(locale), babel_numbers.get_minus_sign_symbol(locale)


def fmt_number(value, digits=None, locale=None):
    """A number as the language writes it (1 225 in kk and ru, 1,225 in en), through Babel.

    ``digits`` fixes the decimals shown (22,7 with digits=1); by default whole numbers show none
    and fractions Babel's usual three at most. Pages (the ``number`` filter), PDFs (rendered under
    force_locale, so in the document's language), charts and statistics all call this one helper."""
    if value is None:
        return ""
    code = _number_locale(locale)
    if digits is None:
        # Whole numbers (every count on a dashboard, hundreds a page) without Babel's pattern machinery.
        symbols = _integer_symbols(code) if type(value) is int else None
        if symbols is not None:
            text = f"{abs(value):,}".replace(",", symbols[0])
            return symbols[1] + text if value < 0 else text
        return babel_numbers.format_decimal(value, locale=code)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=code, decimal_quantization=True)


def fmt_percent(share, digits=1, locale=None):
    """A share (0.227) as a percentage in the language's way: 22,7 % in kk and ru, 22.7% in en."""
    if share is None:
        return ""
    code = _number_locale(locale)
    language = code.split("_")[0]
    pattern = PERCENT_PATTERNS.get(language) or Locale.parse(code).percent_formats[None].pattern
    if digits:
        pattern = pattern.replace("0%", "0." + "0" * digits + "%").replace("0\u00a0%", "0." + "0" * digits + "\u00a0%")
    return babel_numbers.format_percent(share, format=pattern, locale=code, decimal_quantization=True)


def choice_label(labels, value):
    """The translated label of an enum value (labels are lazy strings), or the value itself."""
    label = labels.get(value)
    return str(label) if label is not None else value


__all__ = ["LANGUAGE_NAMES", "select_locale", "fmt_date", "fmt_datetime", "fmt_number", "fmt_percent", "lazy_gettext"]


def warm_translations(app) -> None:
    """Load every language's catalog and locale data now (flask-babel keeps them per process), as the
    app server's preloading process does before its workers fork."""
    from flask_babel import force_locale, get_translations

    with app.test_request_context():
        for code in app.config["LANGUAGES"]:
            with force_locale(code):
                get_translations()
                fmt_date(datetime.date(2026, 1, 1))
