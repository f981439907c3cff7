"""The district of an appeal: one rule for the register's filter, the directive criteria and every figure.

An appeal is in the district of the settlement it states, never of the office that registered it:
the regional office registers appeals from every district. An appeal without a settlement
(anonymous ones may have none) is in no district; statistics count such appeals in a row of their own.
"""
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from appeals.core.extensions import db
from appeals.reference.models import Settlement
from appeals.register.models import Appeal


def appeal_district_id(appeal: Appeal) -> int | None:
    """The district of one loaded appeal (None: no settlement stated)."""
    return appeal.settlement.district_id if appeal.settlement is not None else None


def district_settlement_ids(district_ids: Iterable[int]) -> list[int]:
    ids = list(district_ids)
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Settlement.id).where(Settlement.district_id.in_(ids))))


def settlement_in_districts(column: Any, district_ids: Iterable[int]) -> sa.ColumnElement[bool]:
    """`column` (a settlement id) lies in one of the districts.

    The districts' few settlement ids are looked up first and written into the SQL: with the values
    in sight (and the statistics of migration 0003) PostgreSQL sees that a clerk's office has next to
    no appeals in another district and combines ix_appeals_office_received with
    ix_appeals_settlement_received, where a subquery made it walk the office's whole history by date
    looking for them (bench/list_p95.py).
    """
    ids = district_settlement_ids(district_ids)
    return column.in_(sa.bindparam("district_settlements", ids, expanding=True, literal_execute=True, unique=True))


def appeal_in_districts(district_ids: Iterable[int]) -> sa.ColumnElement[bool]:
    """SQL twin of `appeal_district_id(appeal) in district_ids`."""
    return settlement_in_districts(Appeal.settlement_id, district_ids)


def with_appeal_district(query: sa.Select) -> sa.Select:
    """Join what `APPEAL_DISTRICT` needs to a select() from Appeal (an outer join: no settlement, no district)."""
    return query.outerjoin(Settlement, Settlement.id == Appeal.settlement_id)


# The district of an appeal as a column, for GROUP BY; needs with_appeal_district(). NULL: no settlement.
APPEAL_DISTRICT = Settlement.district_id
