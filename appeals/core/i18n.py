"""Language choice and locale-aware formatting. Kazakh is the default language of the interface."""
from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale, lazy_gettext
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


def fmt_number(value):
    if value is None:
        return ""
    return format_decimal(value)


def choice_label(labels, value):
    """The translated label of an enum value (labels are lazy strings), or the value itself."""
    label = labels.get(value)
    return str(label) if label is not None else value


__all__ = ["LANGUAGE_NAMES", "select_locale", "fmt_date", "fmt_datetime", "fmt_number", "lazy_gettext"]
