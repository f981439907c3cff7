"""Reference data administration: regions, districts, settlements (with CSV import), offices, categories.

Every save validates plain dicts, writes in one transaction and leaves a before/after audit record.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import phonenumbers
import sqlalchemy as sa
from flask_babel import gettext as _

from appeals.core import audit
from appeals.core.database import write_transaction
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.uploads import SheetLimits, UploadError, quote, read_csv_rows
from appeals.reference.models import OFFICE_KINDS, Category, District, Office, Region, Settlement

if TYPE_CHECKING:
    from appeals.auth.models import User

CODE_RE = re.compile(r"^[A-Z0-9_-]{2,10}$")
CATEGORY_CODE_RE = re.compile(r"^[a-z0-9_-]{2,40}$")
KATO_RE = re.compile(r"^[0-9A-Z]{6,12}$")
MAX_IMPORT_ROWS = 20000
IMPORT_COLUMNS = ("district_code", "kato", "name_kk", "name_ru")
# Optional in an import (a file without it leaves English names as they are); always in an export.
IMPORT_OPTIONAL_COLUMNS = ("name_en",)
EXPORT_COLUMNS = IMPORT_COLUMNS + IMPORT_OPTIONAL_COLUMNS


class ReferenceError(DomainError):
    """A rule of the reference data (regions, settlements, offices, categories) was broken."""


class ImportErrors(ReferenceError):
    """The file was refused as a whole; `row_errors` are (line number, message) pairs, as the register
    import's ImportValidationError has them."""

    def __init__(self, row_errors: list[tuple[int, str]]) -> None:
        self.row_errors = list(row_errors)
        super().__init__(_("The file has %(n)d errors; nothing was imported.", n=len(self.row_errors)), "file")


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _text(data: Mapping[str, Any], name: str, max_length: int, required: bool = True) -> str:
    value = " ".join(str(data.get(name) or "").split())
    if required and not value:
        raise ReferenceError(_("This field is required."), name)
    if len(value) > max_length:
        raise ReferenceError(_("At most %(n)d characters.", n=max_length), name)
    return value


def _names(data: Mapping[str, Any]) -> dict[str, str | None]:
    """The three names of a reference row: Kazakh and Russian required, English optional (None when
    not given, so the fallback rule of core.models_base shows the Russian one)."""
    return {"name_kk": _text(data, "name_kk", 200), "name_ru": _text(data, "name_ru", 200),
            "name_en": _text(data, "name_en", 200, required=False) or None}


def _code(data: Mapping[str, Any], name: str = "code", pattern: re.Pattern[str] = CODE_RE, upper: bool = True) -> str:
    value = (data.get(name) or "").strip()
    value = value.upper() if upper else value.lower()
    if not pattern.match(value):
        if upper:
            raise ReferenceError(_("Use 2 to 10 Latin capital letters or digits."), name)
        raise ReferenceError(_("Use 2 to 40 lower-case Latin letters, digits, dashes or underscores."), name)
    return value


def _ref(model: Any, value: Any, name: str, message: str) -> Any:
    try:
        obj = db.session.get(model, int(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        obj = None
    if obj is None:
        raise ReferenceError(message, name)
    return obj


def _unique(model: Any, column: Any, value: Any, current: Any, name: str) -> None:
    query = sa.select(model.id).where(column == value)
    if current is not None and current.id is not None:
        query = query.where(model.id != current.id)
    if db.session.scalar(query) is not None:
        raise ReferenceError(_("This code is already in use."), name)


def _save(obj: Any, values: Mapping[str, Any], fields: tuple[str, ...], actor: User | None, kind: str) -> Any:
    """Apply values to a new or existing object and audit the difference."""
    is_new = obj.id is None
    before = {} if is_new else audit.snapshot(obj, fields)
    for name, value in values.items():
        setattr(obj, name, value)
    if is_new:
        db.session.add(obj)
    db.session.flush()
    after = audit.snapshot(obj, fields)
    changes = {k: [None, v] for k, v in after.items()} if is_new else audit.diff(before, after)
    if changes:
        audit.record(f"{kind}_{'created' if is_new else 'updated'}", obj, changes=changes, user=actor)
    return obj


REGION_FIELDS = ("code", "name_kk", "name_ru", "name_en")
DISTRICT_FIELDS = ("region_id", "code", "name_kk", "name_ru", "name_en")
SETTLEMENT_FIELDS = ("district_id", "kato", "name_kk", "name_ru", "name_en", "is_active")
OFFICE_FIELDS = ("code", "name_kk", "name_ru", "name_en", "kind", "region_id", "parent_id", "district_id", "address",
                 "phone", "is_active")
CATEGORY_FIELDS = ("code", "name_kk", "name_ru", "name_en", "sort_order", "is_active")


def save_region(data: Mapping[str, Any], actor: User | None, region: Region | None = None) -> Region:
    with write_transaction():
        region = db.session.merge(region) if region is not None else Region()
        code = _code(data)
        _unique(Region, Region.code, code, region, "code")
        values = {"code": code, **_names(data)}
        return _save(region, values, REGION_FIELDS, actor, "region")


def save_district(data: Mapping[str, Any], actor: User | None, district: District | None = None) -> District:
    with write_transaction():
        district = db.session.merge(district) if district is not None else District()
        region = _ref(Region, data.get("region_id"), "region_id", _("Choose an existing region."))
        code = _code(data)
        _unique(District, District.code, code, district, "code")
        values = {"region_id": region.id, "code": code, **_names(data)}
        return _save(district, values, DISTRICT_FIELDS, actor, "district")


def _kato(data: Mapping[str, Any]) -> str | None:
    value = (data.get("kato") or "").strip().upper()
    if not value:
        return None
    if not KATO_RE.match(value):
        raise ReferenceError(_("A KATO code has 6 to 12 digits."), "kato")
    return value


def save_settlement(data: Mapping[str, Any], actor: User | None,
                    settlement: Settlement | None = None) -> Settlement:
    with write_transaction():
        settlement = db.session.merge(settlement) if settlement is not None else Settlement()
        district = _ref(District, data.get("district_id"), "district_id", _("Choose an existing district."))
        kato = _kato(data)
        if kato:
            _unique(Settlement, Settlement.kato, kato, settlement, "kato")
        values = {"district_id": district.id, "kato": kato, **_names(data),
                  "is_active": bool(data.get("is_active", True))}
        return _save(settlement, values, SETTLEMENT_FIELDS, actor, "settlement")


def normalize_phone(value: str | None, name: str = "phone") -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "KZ")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise ReferenceError(_("Enter a phone number such as +7 7262 43 00 00."), name)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def save_office(data: Mapping[str, Any], actor: User | None, office: Office | None = None) -> Office:
    with write_transaction():
        office = db.session.merge(office) if office is not None else Office()
        code = _code(data)
        _unique(Office, Office.code, code, office, "code")
        kind = data.get("kind")
        if kind not in OFFICE_KINDS:
            raise ReferenceError(_("Choose the kind of office."), "kind")
        parent_id = None
        if data.get("parent_id") not in (None, ""):
            parent = _ref(Office, data.get("parent_id"), "parent_id", _("Choose an existing office."))
            if office.id is not None and parent.id == office.id:
                raise ReferenceError(_("An office cannot be its own parent."), "parent_id")
            if parent.kind != "regional":
                raise ReferenceError(_("The parent office must be a regional office."), "parent_id")
            parent_id = parent.id
        if kind == "territorial" and parent_id is None:
            raise ReferenceError(_("A territorial office belongs to a regional office."), "parent_id")
        if kind == "regional" and parent_id is not None:
            raise ReferenceError(_("A regional office has no parent office."), "parent_id")
        district = None
        if data.get("district_id") not in (None, ""):
            district = _ref(District, data.get("district_id"), "district_id", _("Choose an existing district."))
        region_id = _office_region_id(data, parent_id, district)
        values = {
            "code": code, **_names(data), "kind": kind, "region_id": region_id, "parent_id": parent_id,
            "district_id": district.id if district is not None else None,
            "address": _text(data, "address", 300, required=False), "phone": normalize_phone(data.get("phone")),
            "is_active": bool(data.get("is_active", True)),
        }
        return _save(office, values, OFFICE_FIELDS, actor, "office")


def _office_region_id(data: Mapping[str, Any], parent_id: int | None, district: District | None) -> int:
    """The office's region: the one chosen, else its parent office's or its district's. A territorial
    office serves its regional office's region, in one of that region's districts: the coordinators'
    scope (appeals.auth.permissions) is the offices of their region."""
    region_id = None
    if data.get("region_id") not in (None, ""):
        region_id = _ref(Region, data.get("region_id"), "region_id", _("Choose an existing region.")).id
    parent = db.session.get(Office, parent_id) if parent_id is not None else None
    if region_id is None:
        region_id = (parent.region_id if parent is not None else None) or (
            district.region_id if district is not None else None)
    if region_id is None:
        regions = db.session.scalars(sa.select(Region.id).limit(2)).all()
        region_id = regions[0] if len(regions) == 1 else None  # a one-region installation
    if region_id is None:
        raise ReferenceError(_("Choose the region the office serves."), "region_id")
    if parent is not None and parent.region_id not in (None, region_id):
        raise ReferenceError(_("A territorial office serves its regional office's region."), "region_id")
    if district is not None and district.region_id != region_id:
        raise ReferenceError(_("The district is in another region."), "district_id")
    return region_id


def save_category(data: Mapping[str, Any], actor: User | None, category: Category | None = None) -> Category:
    with write_transaction():
        category = db.session.merge(category) if category is not None else Category()
        code = _code(data, pattern=CATEGORY_CODE_RE, upper=False)
        _unique(Category, Category.code, code, category, "code")
        try:
            sort_order = int(data.get("sort_order") or 0)
        except (TypeError, ValueError):
            raise ReferenceError(_("Enter a whole number."), "sort_order") from None
        # Category.name_en predates the others and is NOT NULL: "" reads as missing too.
        values = {"code": code, **_names(data), "sort_order": sort_order,
                  "is_active": bool(data.get("is_active", True))}
        values["name_en"] = values["name_en"] or ""
        return _save(category, values, CATEGORY_FIELDS, actor, "category")


# --- settlements CSV import ---------------------------------------------------------------------


def import_settlements(raw: bytes | IO[bytes], actor: User | None) -> ImportResult:
    """Create or update settlements from CSV columns district_code, kato, name_kk, name_ru and,
    optionally, name_en (an empty cell clears the English name; a file without the column keeps it).

    A row with a known KATO code updates that settlement; a row without one updates the settlement
    of the same district and Russian name, or creates it. All or nothing: any bad row refuses the file.
    """
    try:
        # Read as a stream within fixed bounds (appeals.core.uploads): a hostile file stops early.
        rows = read_csv_rows(raw, SheetLimits(max_rows=MAX_IMPORT_ROWS, max_columns=16, max_cell_chars=200))
    except UploadError as exc:
        raise ImportErrors([(0, exc.message)]) from exc
    if not rows:
        raise ImportErrors([(0, _("The file is empty."))])
    header = [cell.lower() for cell in rows[0][1]]
    missing = [column for column in IMPORT_COLUMNS if column not in header]
    if missing:
        raise ImportErrors([(1, _("Missing columns: %(columns)s. Expected: %(expected)s.",
                                  columns=", ".join(missing), expected=", ".join(IMPORT_COLUMNS)))])
    index = {column: header.index(column) for column in IMPORT_COLUMNS + IMPORT_OPTIONAL_COLUMNS
             if column in header}
    result, errors = ImportResult(), []
    with write_transaction():
        districts = {d.code.upper(): d for d in db.session.scalars(sa.select(District))}
        by_kato = {s.kato: s for s in db.session.scalars(sa.select(Settlement).where(Settlement.kato.is_not(None)))}
        by_name = {(s.district_id, s.name_ru.lower()): s for s in db.session.scalars(sa.select(Settlement))}
        seen_kato: dict[str, int] = {}
        for line, row in rows[1:]:
            cells = {column: (row[i] if i < len(row) else "") for column, i in index.items()}
            district = districts.get(cells["district_code"].upper())
            if district is None:
                errors.append((line, _("Unknown district code «%(code)s».", code=quote(cells["district_code"]))))
                continue
            try:
                kato = _kato(cells)
                name_kk, name_ru = _text(cells, "name_kk", 200), _text(cells, "name_ru", 200)
                name_en = _text(cells, "name_en", 200, required=False) or None
            except ReferenceError as exc:
                errors.append((line, f"{exc.field}: {exc.message}"))
                continue
            if kato and kato in seen_kato:
                errors.append((line, _("KATO code %(kato)s repeats line %(line)d.", kato=kato, line=seen_kato[kato])))
                continue
            if kato:
                seen_kato[kato] = line
            settlement = by_kato.get(kato) if kato else None
            if settlement is None:
                settlement = by_name.get((district.id, name_ru.lower()))
                if settlement is not None and kato and settlement.kato and settlement.kato != kato:
                    settlement = None
            values = {"district_id": district.id, "name_kk": name_kk, "name_ru": name_ru}
            if "name_en" in index:
                values["name_en"] = name_en
            if kato:
                values["kato"] = kato
            if settlement is None:
                settlement = Settlement(is_active=True, **values)
                db.session.add(settlement)
                by_name[(district.id, name_ru.lower())] = settlement
                result.created += 1
            elif any(getattr(settlement, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(settlement, k, v)
                result.updated += 1
            else:
                result.unchanged += 1
        if errors:
            raise ImportErrors(errors)
        audit.record("settlements_imported", object_type="settlements", label=f"{result.created}+{result.updated}",
                     changes={"created": [None, result.created], "updated": [None, result.updated]}, user=actor)
    return result


def export_settlements(district_id: int | None = None) -> list[list[str]]:
    """Settlements as rows of EXPORT_COLUMNS (header first), in the import's format, so that an
    exported file edited and imported again updates the same settlements."""
    query = (sa.select(Settlement, District.code).join(District, Settlement.district_id == District.id)
             .order_by(District.code, Settlement.name_kk, Settlement.id))
    if district_id:
        query = query.where(Settlement.district_id == district_id)
    rows = [list(EXPORT_COLUMNS)]
    for settlement, district_code in db.session.execute(query):
        rows.append([district_code, settlement.kato or "", settlement.name_kk, settlement.name_ru,
                     settlement.name_en or ""])
    return rows
