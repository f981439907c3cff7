"""Reference data: the administrative map (regions, districts, settlements), offices and categories."""
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from appeals.core.extensions import db
from appeals.core.models_base import LocalizedNameMixin, enum_column

OFFICE_KINDS = ("regional", "territorial")


class Region(LocalizedNameMixin, db.Model):
    __tablename__ = "regions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name_kk: Mapped[str] = mapped_column(sa.String(200))
    name_ru: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[Optional[str]] = mapped_column(sa.String(200))

    districts: Mapped[list["District"]] = relationship(back_populates="region", order_by="District.name_kk")

    def __repr__(self):
        return f"<Region {self.code}>"


class District(LocalizedNameMixin, db.Model):
    __tablename__ = "districts"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name_kk: Mapped[str] = mapped_column(sa.String(200))
    name_ru: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[Optional[str]] = mapped_column(sa.String(200))

    region: Mapped[Region] = relationship(back_populates="districts")
    settlements: Mapped[list["Settlement"]] = relationship(back_populates="district")

    def __repr__(self):
        return f"<District {self.code}>"


class Settlement(LocalizedNameMixin, db.Model):
    __tablename__ = "settlements"
    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(sa.ForeignKey("districts.id"), index=True)
    # KATO: the national classifier of administrative-territorial objects.
    kato: Mapped[Optional[str]] = mapped_column(sa.String(12), unique=True)
    name_kk: Mapped[str] = mapped_column(sa.String(200))
    name_ru: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[Optional[str]] = mapped_column(sa.String(200))
    is_active: Mapped[bool] = mapped_column(default=True)

    district: Mapped[District] = relationship(back_populates="settlements")

    def __repr__(self):
        return f"<Settlement {self.name_ru}>"


class Office(LocalizedNameMixin, db.Model):
    __tablename__ = "offices"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(10), unique=True)
    name_kk: Mapped[str] = mapped_column(sa.String(200))
    name_ru: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[Optional[str]] = mapped_column(sa.String(200))
    kind: Mapped[str] = enum_column(OFFICE_KINDS, "office_kind")
    # The region the office serves: a coordinator's scope is the offices of their region.
    region_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("regions.id"), index=True)
    parent_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("offices.id"))
    district_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("districts.id"))
    address: Mapped[str] = mapped_column(sa.String(300), default="")
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    is_active: Mapped[bool] = mapped_column(default=True)

    parent: Mapped[Optional["Office"]] = relationship(remote_side=[id])
    region: Mapped[Optional[Region]] = relationship()
    district: Mapped[Optional[District]] = relationship()

    def __repr__(self):
        return f"<Office {self.code}>"


class Category(LocalizedNameMixin, db.Model):
    """Subject of an appeal (housing, roads, ...), kept by administrators."""

    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name_kk: Mapped[str] = mapped_column(sa.String(200))
    name_ru: Mapped[str] = mapped_column(sa.String(200))
    # Older than the other name_en columns: NOT NULL, "" when not given (read as missing).
    name_en: Mapped[str] = mapped_column(sa.String(200), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    sort_order: Mapped[int] = mapped_column(default=0)

    def __repr__(self):
        return f"<Category {self.code}>"
