"""Answer letters (issue 16, item 4): the wording per appeal type and language (the admin's, or the
defaults below), the PDF (letterhead, number and date, the answer, the responsible person, a
signature block; DejaVu fonts, page numbers), kept in appeals/core/storage.py and e-mailed to the
applicant through the outbox, or printed for the post.

The answer's transaction writes a pending AnswerLetter (appeals/register/workflow.py); after the
commit a queue task makes it, and every worker's maintenance round makes any still pending (a task
lost with a killed worker). Rendering runs outside any write transaction; the letter is claimed when
it is stored, so two workers never keep two files for one letter.
"""
from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session

from appeals.auth.models import User
from appeals.core import audit, outbox, storage
from appeals.core.database import is_postgresql, write_transaction
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.i18n import fmt_date
from appeals.core.queue import huey, in_app_context
from appeals.core.timeutil import local_today, utcnow
from appeals.register.models import APPEAL_TYPES, AnswerLetter, Appeal, LetterTemplate  # noqa: F401 (tests)
from appeals.reports import documents
from appeals.reports.documents import PrintedDocument
from appeals.reports.services import org_name

LOCALES = ("kk", "ru", "en")
PLACEHOLDERS = ("number", "date", "name", "office")
TEXT_MAX = 4000

_KK_KIND = {"statement": "арызыңыз", "complaint": "шағымыңыз", "proposal": "ұсынысыңыз", "response": "пікіріңіз",
            "request": "сұрау салуыңыз"}
_RU_KIND = {"statement": "заявление", "complaint": "жалоба", "proposal": "предложение", "response": "отклик",
            "request": "запрос"}
_RU_DONE = {"complaint": "рассмотрена"}
_EN_KIND = {"statement": "statement", "complaint": "complaint", "proposal": "proposal", "response": "response",
            "request": "request"}
_CLOSING = {
    "kk": "Жауаппен келіспеген жағдайда Сіз оған Қазақстан Республикасының Әкімшілік рәсімдік-процестік "
          "кодексінде белгіленген тәртіппен жоғары тұрған органға немесе сотқа шағым жасай аласыз.",
    "ru": "В случае несогласия с ответом вы вправе обжаловать его в вышестоящем органе или в суде в порядке, "
          "установленном Административным процедурно-процессуальным кодексом Республики Казахстан.",
    "en": "If you disagree with this answer, you may appeal it to a higher body or to a court as the "
          "Administrative Procedural Code of the Republic of Kazakhstan provides.",
}
_THANKS = {"kk": " Ұсынысыңыз үшін алғыс білдіреміз.", "ru": " Благодарим вас за предложение.",
           "en": " Thank you for your proposal."}


def default_texts(appeal_type: str, locale: str) -> tuple[str, str]:
    """(opening, closing) of the letter when the admin has not written their own."""
    thanks = _THANKS.get(locale, "") if appeal_type == "proposal" else ""
    if locale == "kk":
        opening = f"Құрметті {{name}}!\nСіздің {{date}} күнгі № {{number}} {_KK_KIND[appeal_type]} қаралды.{thanks}"
    elif locale == "ru":
        done = _RU_DONE.get(appeal_type, "рассмотрено")
        opening = f"Уважаемый(ая) {{name}}!\nВаше {_RU_KIND[appeal_type]} № {{number}} от {{date}} {done}.{thanks}"
        if appeal_type in ("complaint",):
            opening = f"Уважаемый(ая) {{name}}!\nВаша жалоба № {{number}} от {{date}} {done}.{thanks}"
    else:
        opening = f"Dear {{name}},\nyour {_EN_KIND[appeal_type]} № {{number}} of {{date}} has been considered.{thanks}"
    return opening, _CLOSING.get(locale, _CLOSING["en"])


def template_texts(appeal_type: str, locale: str) -> tuple[str, str, bool]:
    """(opening, closing, is_the_admins) for a type and language."""
    row = db.session.get(LetterTemplate, (appeal_type, locale))
    if row is not None:
        return row.opening, row.closing, True
    return (*default_texts(appeal_type, locale), False)


def _check_text(value: str, field: str, errors: dict[str, list[str]]) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if not text:
        errors[field] = [_("Write the text.")]
        return text
    if len(text) > TEXT_MAX:
        errors[field] = [_("At most %(n)d characters.", n=TEXT_MAX)]
        return text
    try:
        names = {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name is not None}
    except ValueError:
        errors[field] = [_("A brace is not closed: write placeholders as {number}.")]
        return text
    unknown = sorted(names - set(PLACEHOLDERS))
    if unknown:
        errors[field] = [_("Unknown placeholder %(names)s; use %(known)s.", names=", ".join("{" + n + "}" for n in unknown),
                           known=", ".join("{" + n + "}" for n in PLACEHOLDERS))]
    return text


def clean_template(appeal_type: str, locale: str, opening: str, closing: str) -> tuple[str, str]:
    if appeal_type not in APPEAL_TYPES or locale not in LOCALES:
        raise DomainError(_("Choose the type of appeal and the language."), "appeal_type")
    errors: dict[str, list[str]] = {}
    opening = _check_text(opening, "opening", errors)
    closing = _check_text(closing, "closing", errors)
    if errors:
        raise DomainError(errors=errors)
    return opening, closing


def save_template(appeal_type: str, locale: str, opening: str, closing: str, actor: User | None) -> LetterTemplate:
    """The admin's wording for one type and language; audited with the old and new texts."""
    opening, closing = clean_template(appeal_type, locale, opening, closing)
    with write_transaction():
        row = db.session.get(LetterTemplate, (appeal_type, locale))
        before = (row.opening, row.closing) if row else default_texts(appeal_type, locale)
        if row is None:
            row = LetterTemplate(appeal_type=appeal_type, locale=locale, opening=opening, closing=closing,
                                 updated_at=utcnow())
            db.session.add(row)
        row.opening, row.closing = opening, closing
        row.updated_at, row.updated_by_id = utcnow(), getattr(actor, "id", None)
        changes = {key: [old, new] for key, old, new in (("opening", before[0], opening), ("closing", before[1], closing))
                   if old != new}
        if changes:
            audit.record("letter_template_updated", object_type="letter_templates", object_id=f"{appeal_type}:{locale}",
                         label=f"{appeal_type} / {locale}", changes=changes, user=actor)
    return row


# --- The document -------------------------------------------------------------------------------

@dataclass
class LetterDocument(PrintedDocument):
    number: str = ""
    received: str = ""
    dated: str = ""
    office_name: str = ""
    office_contact: str = ""
    addressee: list = field(default_factory=list)
    opening: list = field(default_factory=list)
    answer: list = field(default_factory=list)
    closing: list = field(default_factory=list)
    responsible: str = ""

    def footer_left(self):
        # A letter to a citizen names itself, not who printed it.
        return _("Answer to appeal № %(number)s", number=self.number)


def _paragraphs(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split("\n") if part.strip()]


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def build_letter(appeal: Any, locale: str, opening: str | None = None, closing: str | None = None) -> LetterDocument:
    """The letter of `appeal` in `locale` (with the given wording, else the type's template)."""
    if opening is None or closing is None:
        opening, closing, _own = template_texts(appeal.appeal_type, locale)
    with force_locale(locale):
        office = appeal.office
        received = fmt_date(appeal.received_at, "short")
        name = appeal.applicant_name if appeal.applicant_kind != "anonymous" else ""
        values = _Values(number=appeal.number, date=received, name=name or _("applicant"),
                         office=office.localized_name(locale))
        contact = " · ".join(part for part in (office.address, office.phone) if part)
        responsible = appeal.responsible.display_name if appeal.responsible else ""
        doc = LetterDocument(
            lang=locale, title=_("Answer to appeal № %(number)s", number=appeal.number), org=org_name(locale),
            number=appeal.number, received=received, dated=fmt_date(appeal.answered_at or local_today(), "long"),
            office_name=office.localized_name(locale), office_contact=contact,
            addressee=[line for line in (name, appeal.address) if line],
            opening=_paragraphs(opening.format_map(values)), answer=_paragraphs(appeal.answer_text),
            closing=_paragraphs(closing.format_map(values)), responsible=responsible or "—",
            signatures=[_("Head of the office")],
        )
    return doc


def render_letter(doc: LetterDocument) -> bytes:
    return documents.render_simple("reports/pdf/letter.html", doc)


def letter_file_name(appeal: Appeal) -> str:
    return f"answer-{appeal.number}.pdf"


# --- Making the letters -----------------------------------------------------------------------

def make_letter(letter_id: int) -> bool:
    """Render, keep and (by e-mail) send one pending letter; False when it was no longer pending."""
    letter = db.session.get(AnswerLetter, letter_id)
    if letter is None or letter.status != "pending":
        db.session.rollback()
        return False
    data = render_letter(build_letter(letter.appeal, letter.locale))
    with write_transaction():
        statement = sa.select(AnswerLetter).where(AnswerLetter.id == letter_id).execution_options(populate_existing=True)
        if is_postgresql():
            statement = statement.with_for_update()
        letter = db.session.scalars(statement).one()
        if letter.status != "pending":
            return False
        letter.file_key = storage.put(data, "application/pdf")
        letter.status, letter.made_at = "made", utcnow()
        appeal = letter.appeal
        email = getattr(appeal, "email", None)
        if letter.delivery == "email" and email:
            outbox.notify_address("email", email, "answer_letter", {"number": appeal.number}, locale=letter.locale,
                                  attachment_key=letter.file_key, attachment_name=letter_file_name(appeal))
    return True


def make_pending_letters(limit: int = 50) -> int:
    """Every pending letter (the workers' round); returns how many were made."""
    ids = db.session.scalars(sa.select(AnswerLetter.id).where(AnswerLetter.status == "pending")
                             .order_by(AnswerLetter.id).limit(limit)).all()
    db.session.rollback()
    made = 0
    for letter_id in ids:
        try:
            made += make_letter(letter_id)
        except Exception:  # noqa: BLE001 - a broken letter must not stop the others; logged, tried next round
            db.session.rollback()
            current_app.logger.exception("answer letter %s could not be made", letter_id)
    return made


@huey.task(name="make_answer_letters")
@in_app_context
def make_answer_letters() -> None:
    make_pending_letters()


@event.listens_for(Session, "after_commit")
def _kick_after_commit(session: Session) -> None:
    if not session.info.pop("letters_kick", False):
        return
    try:
        if current_app.config.get("OUTBOX_KICK", True):
            make_answer_letters()
    except Exception:  # noqa: BLE001 - the queue being down loses nothing: the workers' round makes it
        current_app.logger.warning("could not queue the answer letter", exc_info=True)


@event.listens_for(Session, "after_rollback")
def _no_kick_after_rollback(session: Session) -> None:
    session.info.pop("letters_kick", None)


def latest_letter(appeal: Appeal) -> AnswerLetter | None:
    return db.session.scalars(sa.select(AnswerLetter).where(AnswerLetter.appeal_id == appeal.id)
                              .order_by(AnswerLetter.id.desc()).limit(1)).first()


def letter_pdf(appeal: Appeal) -> tuple[bytes, str] | None:
    """The appeal's latest answer letter as (PDF bytes, file name), made now if still pending; None
    before the appeal is answered. For the staff's download and the citizen's /track page."""
    letter = latest_letter(appeal)
    if letter is None:
        return None
    if letter.status == "pending":
        make_letter(letter.id)
        letter = db.session.get(AnswerLetter, letter.id)
    if letter is None or not letter.file_key:
        return None
    data = storage.get(letter.file_key)
    return (data, letter_file_name(appeal)) if data is not None else None


@dataclass
class _SampleOffice:
    address: str
    phone: str
    names: Mapping[str, str]

    def localized_name(self, locale: str | None = None) -> str:
        return self.names.get(locale or "kk") or self.names["kk"]


def preview_pdf(appeal_type: str, locale: str, opening: str, closing: str) -> bytes:
    """The letter with this wording for a sample appeal (no real applicant's data)."""
    opening, closing = clean_template(appeal_type, locale, opening, closing)
    with force_locale(locale):
        sample = type("SampleAppeal", (), {})()
        sample.number, sample.appeal_type, sample.applicant_kind = "KRD-2026-00042", appeal_type, "individual"
        sample.received_at = local_today()
        sample.answered_at = local_today()
        sample.applicant_name, sample.address = "Әбілқасымов Ерлан Серікұлы", "Қордай, Абай көшесі, 12"
        sample.answer_text = _("Here the answer given to the applicant is printed: what was done and why.")
        sample.responsible = None
        sample.office = _SampleOffice("Қордай, Жібек жолы 1", "+7 726 362 12 34",
                                      {"kk": "Қордай филиалы", "ru": "Кордайский филиал", "en": "Kordai office"})
    return render_letter(build_letter(sample, locale, opening, closing))
