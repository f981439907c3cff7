"""Column helpers shared by every domain's models."""
from collections.abc import Mapping
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from appeals.core.timeutil import utcnow


def enum_column(values, name, **kwargs):
    """A portable enum: VARCHAR with a CHECK constraint, identical on SQLite and PostgreSQL."""
    return mapped_column(
        sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24),
        **kwargs,
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)


# The one fallback rule for text kept in several languages (reference names, host positions): the
# UI language first, then the other of the two official languages (Kazakh, Russian), English last.
# An English reader is better served by Russian (Cyrillic shared with most transliterations, the
# region's second language) than by Kazakh, a Russian reader by Kazakh than by English.
LANGUAGE_FALLBACK: dict[str, tuple[str, ...]] = {
    "kk": ("kk", "ru", "en"),
    "ru": ("ru", "kk", "en"),
    "en": ("en", "ru", "kk"),
}


def current_language(locale: Optional[str] = None) -> str:
    """The language asked for, else the request's (kk outside a request); unknown codes fall to kk."""
    if locale is None:
        from flask_babel import get_locale

        try:
            locale = str(get_locale() or "kk")
        except RuntimeError:  # outside an application context
            locale = "kk"
    code = str(locale).split("_")[0].split("-")[0].lower()
    return code if code in LANGUAGE_FALLBACK else "kk"


def pick_localized(values: Mapping[str, Optional[str]], locale: Optional[str] = None) -> str:
    """The text of ``values`` (language code -> text) for ``locale`` under LANGUAGE_FALLBACK.

    Empty and blank texts count as missing, so a half-filled row still shows a name."""
    for code in LANGUAGE_FALLBACK[current_language(locale)]:
        text = values.get(code)
        if text and text.strip():
            return text
    return ""


class LocalizedNameMixin:
    """Reference data is named in Kazakh, Russian and English (``name_kk``, ``name_ru``, ``name_en``);
    a missing name falls back through LANGUAGE_FALLBACK."""

    def names(self) -> dict[str, Optional[str]]:
        return {"kk": getattr(self, "name_kk", None), "ru": getattr(self, "name_ru", None),
                "en": getattr(self, "name_en", None)}

    def localized_name(self, locale: Optional[str] = None) -> str:
        return pick_localized(self.names(), locale)

    @property
    def name(self) -> str:
        return self.localized_name()
