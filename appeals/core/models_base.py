"""Column helpers shared by every domain's models."""
from datetime import datetime

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


class LocalizedNameMixin:
    """Reference data is named in Kazakh and Russian; English falls back to Russian."""

    def localized_name(self, locale=None):
        from flask_babel import get_locale

        code = locale or str(get_locale() or "kk")
        if code == "kk":
            return self.name_kk or self.name_ru
        if code == "en" and getattr(self, "name_en", None):
            return self.name_en
        return self.name_ru or self.name_kk

    @property
    def name(self):
        return self.localized_name()
