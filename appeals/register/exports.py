"""Export of the register list to CSV and XLSX, with personal data as the user may see it."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import gettext as _

from appeals.auth.permissions import personal_data_mode, personal_view
from appeals.core.extensions import db
from appeals.core.i18n import LANGUAGE_NAMES
from appeals.core.labels import (
    APPEAL_STATUS_LABELS,
    APPEAL_TYPE_LABELS,
    APPLICANT_KIND_LABELS,
    CHANNEL_LABELS,
)
from appeals.core.spreadsheets import csv_row, xlsx_row
from appeals.register.models import Appeal
from appeals.register.queries import with_list_relations

if TYPE_CHECKING:
    from appeals.auth.models import User

EXPORT_MAX_ROWS = 100000


def _export_header() -> list[str]:
    return [
        _("Number"), _("Received"), _("Office"), _("Channel"), _("Applicant"), _("IIN"), _("Phone"),
        _("Settlement"), _("Type"), _("Category"), _("Summary"), _("Status"), _("Due date"), _("Repeat of"),
        _("Language of the answer"),
    ]


def _export_rows(query: sa.Select, user: User) -> Iterator[list[Any]]:
    mode = personal_data_mode(user)
    statement = with_list_relations(query).limit(EXPORT_MAX_ROWS).execution_options(yield_per=500)
    repeat_numbers: dict[int, str] = {}
    for appeal in db.session.scalars(statement):
        view = personal_view(appeal, user, mode=mode, offer_reveal=False)
        name, iin, phone = view.name, view.iin, view.phone
        repeat = ""
        if appeal.repeat_of_id:
            if appeal.repeat_of_id not in repeat_numbers:
                repeat_numbers[appeal.repeat_of_id] = db.session.scalar(
                    sa.select(Appeal.number).where(Appeal.id == appeal.repeat_of_id))
            repeat = repeat_numbers[appeal.repeat_of_id]
        yield [
            appeal.number, appeal.received_at.strftime("%d.%m.%Y %H:%M"), appeal.office.code,
            str(CHANNEL_LABELS.get(appeal.channel, appeal.channel)), name or str(APPLICANT_KIND_LABELS[appeal.applicant_kind]),
            iin, phone, appeal.settlement.name if appeal.settlement else "",
            str(APPEAL_TYPE_LABELS.get(appeal.appeal_type, appeal.appeal_type)),
            appeal.category.name if appeal.category else "", view.text(appeal.summary),
            str(APPEAL_STATUS_LABELS.get(appeal.status, appeal.status)), appeal.due_date.strftime("%d.%m.%Y"), repeat,
            LANGUAGE_NAMES.get(appeal.language, appeal.language),
        ]


def export_csv(query: sa.Select, user: User) -> Iterator[str]:
    """CSV lines (UTF-8 with BOM so that Excel opens Cyrillic correctly), streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(csv_row(_export_header()))
    yield "\ufeff" + buffer.getvalue()
    for row in _export_rows(query, user):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(csv_row(row))
        yield buffer.getvalue()


def export_xlsx(query: sa.Select, user: User) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Appeals"))
    header = xlsx_row(sheet, _export_header())
    for cell in header:
        cell.font = Font(bold=True)
    sheet.append(header)
    for row in _export_rows(query, user):
        sheet.append(xlsx_row(sheet, row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
