"""The citizen's online appeal (issue 16, item 1) and its tracking (item 2).

    submission = start_submission(form_data, uploads, client_address, locale)   # checks, stores, sends the code
    appeal, receipt = confirm_submission(submission.public_id, typed_code)      # registers the appeal
    appeal = find_by_number_and_code(number, code) / appeal_from_link(token)    # tracking

A submission holds the form and its cleaned files until the citizen types back the 6-digit code
sent to their phone or e-mail (appeals/core/verification.py: hashed, expiring, attempts limited);
then, in one transaction, the appeal is registered like any other (the office of its settlement's
district, the office's gapless number, the deadline of its type), with channel "online", the
consent text's version and time, its files, the repeat link, and the receipt notice with the number
and the tracking link. The private tracking code is shown once on the receipt and kept only as its
SHA-256. Abuse is held off by the honeypot and the minimum fill time (the view), and by rate limits
per address and per phone (appeals/core/ratelimit.py, shared by every worker).
"""
from __future__ import annotations

import functools
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Optional

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import contains_eager

from appeals.core import audit, outbox, ratelimit, storage, verification
from appeals.core.database import write_transaction
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.search_fold import search_fold
from appeals.core.timeutil import local_now, utcnow
from appeals.core.tokens import hash_token
from appeals.reference import cache as reference_cache
from appeals.reference.models import District, Office, Settlement
from appeals.register import attachments, repeats, validation
from appeals.register.models import (
    ANSWERED_STATUSES,
    APPEAL_LANGUAGES,
    Appeal,
    AppealAttachment,
    OnlineSubmission,
    applicant_locale,
)
from appeals.register.workflow import insert_appeal

# The consent text's version: a new text gets a new version, so each appeal records what was agreed to.
CONSENT_VERSION = "2026-12-01"
CODE_PURPOSE = "online_appeal"
TRACK_LINK_SALT = "track-link"
# Letters and digits that cannot be mistaken for one another when read from a screen or an SMS.
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TRACKING_LENGTH = 10


class OnlineAppealError(DomainError):
    kind = "invalid"


@dataclass(frozen=True)
class Receipt:
    number: str
    tracking_code: str
    link: str
    office: str


def _config(name: str, default: int) -> int:
    return int(current_app.config.get(name) or default)


# --- Settlements: typed or chosen -----------------------------------------------------------------


def settlement_label(settlement: Settlement) -> str:
    """What the form's list shows and the citizen types: the settlement and its district."""
    return f"{settlement.name} — {settlement.district.name}" if settlement.district else settlement.name


def settlement_options() -> list[tuple[int, str]]:
    """(id, "Settlement — District") of every active settlement, sorted, in the page's language.

    The same for every visitor of one language: built once per process and reference version."""

    def build() -> list[tuple[int, str]]:
        rows = db.session.scalars(sa.select(Settlement).join(District).options(contains_eager(Settlement.district))
                                  .where(Settlement.is_active.is_(True))).all()
        return sorted(((row.id, settlement_label(row)) for row in rows), key=lambda item: item[1])

    return reference_cache.cached("settlement-options", build)


def resolve_settlement(typed: str) -> Optional[int]:
    """The id of the settlement a citizen chose (its list label) or typed (a name in any script, unique), else None."""
    typed = " ".join((typed or "").split())
    if not typed:
        return None
    options = settlement_options()
    for settlement_id, label in options:
        if label == typed:
            return settlement_id
    wanted = search_fold(typed.split(" — ")[0])
    matches = [settlement_id for settlement_id, label in options if search_fold(label.split(" — ")[0]) == wanted]
    return matches[0] if len(matches) == 1 else None


def office_for_settlement(settlement_id: int) -> Optional[int]:
    """The office of the settlement's district, else the regional office (ids; kept with the reference data)."""

    def build() -> dict[int, Optional[int]]:
        offices = db.session.execute(sa.select(Office.id, Office.district_id, Office.kind)
                                     .where(Office.is_active.is_(True)).order_by(Office.id)).all()
        by_district: dict[int, int] = {}
        for office_id, district_id, _kind in offices:
            if district_id is not None:
                by_district.setdefault(district_id, office_id)
        regional = next((office_id for office_id, _district, kind in offices if kind == "regional"), None)
        return {settlement: by_district.get(district, regional) for settlement, district in db.session.execute(
            sa.select(Settlement.id, Settlement.district_id))}

    return reference_cache.cached("settlement-offices", build).get(settlement_id)


# --- Step 1: the form ---------------------------------------------------------------------------


def clean_form(form: dict[str, Any]) -> dict[str, Any]:
    """Check what the citizen typed; OnlineAppealError with every problem at once, or the values."""
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    kind = form.get("applicant_kind") or "individual"
    if kind not in ("individual", "collective"):
        fail("applicant_kind", _("Choose who the applicant is."))
    phone = (form.get("phone") or "").strip()
    email = (form.get("email") or "").strip()
    if phone:
        try:
            phone = validation.normalize_phone(phone)
        except validation.AppealError as exc:
            fail("phone", exc.message)
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            fail("email", _("Enter an e-mail address such as name@example.kz."))
    if not phone and not email:
        fail("phone", _("Give a phone number or an e-mail address: the code and the answer come there."))
    settlement = resolve_settlement(form.get("settlement") or "")
    if settlement is None:
        fail("settlement", _("Choose your settlement from the list (start typing its name)."))
    if form.get("consent") not in ("y", "1", "on", True):
        fail("consent", _("Your consent is needed to register the appeal."))
    office = office_for_settlement(settlement) if settlement is not None else None
    if settlement is not None and office is None:
        fail("settlement", _("No office takes appeals for this settlement yet; please call the reception room."))
    channel = form.get("code_channel") or ("sms" if phone else "email")
    if channel == "sms" and not phone or channel == "email" and not email or channel not in ("sms", "email"):
        channel = "sms" if phone else "email"
    data = {
        "office_id": office, "received_at": local_now().replace(second=0, microsecond=0),
        "channel": "online", "applicant_kind": kind, "applicant_name": form.get("applicant_name") or "",
        "iin": form.get("iin") or "", "phone": phone, "address": form.get("address") or "",
        "signatories": form.get("signatories") if kind == "collective" else None,
        "settlement_id": settlement, "appeal_type": form.get("appeal_type") or "",
        "category_id": form.get("category_id"), "summary": form.get("summary") or "", "text": form.get("text") or "",
    }
    try:
        values = validation.clean_appeal_data(data, None)
    except validation.AppealError as exc:
        for field, messages in (exc.errors or {exc.field or "summary": [exc.message]}).items():
            name = {"settlement_id": "settlement", "office": "settlement"}.get(field, field)
            if name == "settlement" and settlement is None:
                continue  # already said: choose the settlement
            if name == "category_id":
                # The citizen's form calls the category the appeal's topic, chosen from its list.
                messages = [_("Choose the topic of your appeal from the list.")]
            for message in messages:
                if name not in errors or message not in errors[name]:
                    fail(name, message)
        values = {}
    if errors:
        raise OnlineAppealError(errors=errors)
    values["email"] = email
    values["_code_channel"] = channel
    return values


def _json_ready(values: dict[str, Any]) -> dict[str, Any]:
    ready = dict(values)
    ready["received_at"] = values["received_at"].isoformat()
    return ready


def rate_limit_contact(channel: str, phone: Optional[str], email: Optional[str]) -> str:
    """Whom a submission's code is sent to, as the per-contact limit counts it: the phone (E.164) for
    an SMS, else the e-mail address in lower case (Name@ and name@ reach one mailbox)."""
    return (phone or "") if channel == "sms" else (email or "").lower()


def check_rate_limits_recording(address: Optional[str], contact: str) -> None:
    """Count one submission against the client's address and the contact its code goes to (see
    rate_limit_contact: the code's phone or e-mail, not whichever was typed first); OnlineAppealError
    when over."""
    hour = 3600
    wait = ratelimit.hit_all(
        ratelimit.Hit("online-address", address or "", _config("ONLINE_APPEALS_PER_ADDRESS_PER_HOUR", 10), hour),
        ratelimit.Hit("online-contact", contact, _config("ONLINE_APPEALS_PER_PHONE_PER_DAY", 5), 24 * hour),
    )
    if wait:
        minutes = max(1, (wait + 59) // 60)
        raise OnlineAppealError(_("Too many appeals were sent from here or with this phone or e-mail address. Please "
                                  "try again in %(minutes)s min or call the reception room.", minutes=minutes), kind="conflict")


def start_submission(form: dict[str, Any], uploads: list[attachments.Upload], address: Optional[str],
                     locale: str) -> OnlineSubmission:
    """Check the form and files, count the limits, keep the submission and send the code (writes a notice)."""
    values = clean_form(form)
    prepared = attachments.prepare_uploads(None, uploads, online=True)
    channel = values.pop("_code_channel")
    check_rate_limits_recording(address, rate_limit_contact(channel, values.get("phone"), values.get("email")))
    now = utcnow()
    with write_transaction():
        files = []
        for upload, clean in prepared:
            files.append({"key": storage.put(clean.data, clean.content_type), "name": upload.name,
                          "content_type": clean.content_type, "size": clean.size, "pages": clean.pages,
                          "width": clean.width, "height": clean.height})
        submission = OnlineSubmission(
            public_id=secrets.token_urlsafe(24), state="pending", data=_json_ready(values), files=files,
            code_channel=channel, locale=locale, created_at=now,
            expires_at=now + timedelta(hours=_config("ONLINE_SUBMISSION_HOURS", 2)))
        db.session.add(submission)
        db.session.flush()
        _send_code(submission, first=True)
    return submission


def _contact(submission: OnlineSubmission) -> str:
    data = submission.data or {}
    return data.get("phone") if submission.code_channel == "sms" else data.get("email")


def _send_code(submission: OnlineSubmission, first: bool = False) -> None:
    verification.issue_code(CODE_PURPOSE, f"online:{submission.id}", submission.code_channel,
                            _contact(submission), locale=submission.locale, first=first)


def resend_code(submission: OnlineSubmission, address: Optional[str]) -> None:
    """A new code for a pending submission (the old one stops working); limited like submissions."""
    if submission.state != "pending" or submission.expires_at < utcnow():
        raise OnlineAppealError(_("This appeal form has expired; please fill it in again."), kind="conflict")
    wait = ratelimit.hit("online-resend", submission.public_id, 3, 3600)
    if wait:
        raise OnlineAppealError(_("A new code can be asked for at most three times; please fill the form in again "
                                  "later."), kind="conflict")
    with write_transaction():
        _send_code(submission)


@functools.cache
def _submission_statement(locked: bool) -> sa.Select:
    # Built once per process: every confirmation page and code asks it, binding the public id.
    query = sa.select(OnlineSubmission).where(OnlineSubmission.public_id == sa.bindparam("public_id"))
    return query.with_for_update().execution_options(populate_existing=True) if locked else query


def find_pending(public_id: str) -> Optional[OnlineSubmission]:
    submission = db.session.scalar(_submission_statement(False), {"public_id": public_id})
    if submission is None or submission.state != "pending" or submission.expires_at < utcnow():
        return None
    return submission


def masked_contact(submission: OnlineSubmission) -> str:
    """Where the code went, as the confirmation page may show it: +770******67, a***@mail.kz."""
    from appeals.core.privacy import mask_phone

    contact = _contact(submission) or ""
    if submission.code_channel == "sms":
        return mask_phone(contact)
    local, _at, domain = contact.partition("@")
    return f"{local[:1]}***@{domain}"


# --- Step 2: the code, and the registration ------------------------------------------------------


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))


def format_tracking_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def _normalise_tracking_code(typed: str) -> str:
    return "".join(ch for ch in (typed or "").upper() if ch.isalnum())


def tracking_link_token(appeal: Appeal) -> str:
    """The signed part of the tracking link: the appeal and its code's digest (a new code ends old links)."""
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TRACK_LINK_SALT)
    return serializer.dumps([appeal.id, (appeal.tracking_code_hash or "")[:16]])


def tracking_url(appeal: Appeal) -> str:
    from appeals.core.web import external_url

    return external_url("citizen.track_link", token=tracking_link_token(appeal))


def confirm_submission(public_id: str, typed_code: str) -> tuple[Appeal, Receipt]:
    """Check the typed code and register the appeal from the submission `public_id`, in one transaction.

    Writes the appeal, its files, the audit records and the receipt notice. A wrong code raises
    OnlineAppealError after its try is counted and committed (verification.take_code: nothing else is
    written then); an expired submission, or a second confirmation of the same one (a double click),
    finds it past "pending" under its row lock and raises a conflict instead of a second appeal.
    """
    code = "".join(ch for ch in (typed_code or "") if ch.isdigit())
    error = None
    with write_transaction():
        submission = db.session.scalar(_submission_statement(True), {"public_id": public_id})
        if submission is None or submission.state != "pending" or submission.expires_at < utcnow():
            raise _expired()
        # A right code is spent here, with the appeal: a second submit of it gets no second appeal.
        error = verification.take_code(CODE_PURPOSE, f"online:{submission.id}", code)
        if error is None:
            appeal, receipt = _register(submission)
    if error is not None:
        raise error
    return appeal, receipt


def _expired() -> OnlineAppealError:
    return OnlineAppealError(_("This appeal form has expired or was already sent; please fill it in again."),
                             kind="conflict")


def _register(submission: OnlineSubmission) -> tuple[Appeal, Receipt]:
    data = dict(submission.data or {})
    values = {key: data[key] for key in (
        "office_id", "channel", "session_id", "host_id", "applicant_kind", "applicant_name", "iin", "phone",
        "address", "signatories", "settlement_id", "appeal_type", "category_id", "summary", "text",
        "responsible_id") if key in data}
    # The appeal is received when the citizen confirms it (the code proves it was sent by them).
    values["received_at"] = local_now().replace(second=0, microsecond=0)
    # The citizen is written to in the language they used on the form.
    values["language"] = submission.locale if submission.locale in APPEAL_LANGUAGES else APPEAL_LANGUAGES[0]
    code = new_tracking_code()
    repeat_of_id = _repeat_of(values)
    # Held here, so that insert_appeal's look-up and the receipt's are one read (the session keeps
    # only objects someone refers to).
    office = db.session.get(Office, values["office_id"])
    # Written with the appeal's INSERT (not an UPDATE after it); none of them is an audited field.
    values.update(email=data.get("email") or "", consent_version=CONSENT_VERSION, consent_at=submission.created_at,
                  tracking_code_hash=hash_token(code))
    appeal = insert_appeal(values, None, repeat_of_id)
    for file in submission.files or []:
        db.session.add(AppealAttachment(
            appeal_id=appeal.id, file_key=file["key"], kind="appeal", source="citizen",
            name=attachments.stored_name(file["name"], storage.UPLOAD_TYPES[file["content_type"]]),
            content_type=file["content_type"], size=file["size"], pages=file["pages"], width=file["width"],
            height=file["height"], added_by_id=None, added_at=utcnow()))
    # (Written at the commit with the registration's own audit record: one INSERT for both.)
    audit.record("online_appeal_confirmed", appeal, user=None, changes={
        "consent_version": [None, CONSENT_VERSION], "code_channel": [None, submission.code_channel],
        "files": [None, len(submission.files or [])], "repeat_of_id": [None, repeat_of_id]})
    submission.state, submission.appeal_id = "registered", appeal.id
    # What the citizen typed now lives in the appeal; the submission keeps no personal data.
    submission.data, submission.files = None, None
    receipt = Receipt(appeal.number, format_tracking_code(code), tracking_url(appeal), office.name if office else "")
    _notify_receipt(appeal, submission, receipt)
    return appeal, receipt


def _repeat_of(values: dict[str, Any]) -> Optional[int]:
    """The repeat check without a clerk: an earlier appeal in 90 days from the same IIN or phone about the same
    category is linked (the clerk sees the link and may correct it); anything looser is left to the clerk."""
    return repeats.latest_of_same_person(values, values["received_at"] - timedelta(days=repeats.REPEAT_WINDOW_DAYS))


def _notify_receipt(appeal: Appeal, submission: OnlineSubmission, receipt: Receipt) -> None:
    """The receipt notice: the number and the tracking link (never the code itself, never the letter)."""
    locale = applicant_locale(appeal)
    office = db.session.get(Office, appeal.office_id)
    params = {"number": appeal.number, "link": receipt.link, "due_date": appeal.due_date.isoformat(),
              "office": office.localized_name(locale) if office else receipt.office}
    address = appeal.phone if submission.code_channel == "sms" else appeal.email
    outbox.notify_address(submission.code_channel, address, "online_appeal_received", params, locale=locale)
    # An e-mail too when both were given: the link is easier to keep there.
    if submission.code_channel == "sms" and appeal.email:
        outbox.notify_address("email", appeal.email, "online_appeal_received", params, locale=locale)


def purge_submissions(now: Optional[datetime] = None) -> int:
    """Delete unconfirmed submissions past their time with their files, and the traces of confirmed ones."""
    now = now or utcnow()
    with write_transaction():
        expired = db.session.scalars(sa.select(OnlineSubmission).where(OnlineSubmission.expires_at < now)).all()
        for submission in expired:
            for file in submission.files or []:
                storage.delete(file["key"])
            db.session.delete(submission)
    return len(expired)


# --- Tracking ----------------------------------------------------------------------------------------


def appeal_from_link(token: str) -> Optional[Appeal]:
    serializer = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TRACK_LINK_SALT)
    try:
        appeal_id, digest = serializer.loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    appeal = db.session.get(Appeal, appeal_id) if isinstance(appeal_id, int) else None
    if appeal is None or not appeal.tracking_code_hash or not hmac.compare_digest(
            str(digest), appeal.tracking_code_hash[:16]):
        return None
    return appeal


def find_by_number_and_code(number: str, code: str, address: Optional[str]) -> Appeal:
    """The appeal whose number and tracking code were typed; wrong tries are throttled per address and
    per number (so neither one address nor many can guess a number's code)."""
    number = " ".join((number or "").split()).upper()
    hour = 3600
    per_address = _config("TRACK_FAILURES_PER_ADDRESS_PER_HOUR", 10)
    per_number = _config("TRACK_FAILURES_PER_NUMBER_PER_HOUR", 5)
    wait = max(ratelimit.peek("track-address", address, per_address, hour),
               ratelimit.peek("track-number", number, per_number, hour))
    if wait:
        raise OnlineAppealError(_("Too many wrong tries. Please try again in %(minutes)s min.",
                                  minutes=max(1, (wait + 59) // 60)), kind="conflict")
    appeal = db.session.scalar(sa.select(Appeal).where(Appeal.number == number)) if number else None
    typed = _normalise_tracking_code(code)
    if appeal is None or not appeal.tracking_code_hash or not typed or not hmac.compare_digest(
            hash_token(typed), appeal.tracking_code_hash):
        ratelimit.hit_all(ratelimit.Hit("track-address", address or "", per_address, hour),
                          ratelimit.Hit("track-number", number, per_number, hour))
        raise OnlineAppealError(errors={"code": [_("No appeal has this number and tracking code. Check both and "
                                                   "try again.")]})
    return appeal


@dataclass(frozen=True)
class TrackView:
    """What the tracking page shows: nothing personal beyond the appeal's own facts."""

    number: str
    received_at: datetime
    status: str
    due_date: Any
    office_name: str
    office_address: str
    answered_at: Any
    files: list[AppealAttachment]

    @property
    def answered(self) -> bool:
        return self.status in ANSWERED_STATUSES


def track_view(appeal: Appeal) -> TrackView:
    office = db.session.get(Office, appeal.office_id)
    return TrackView(appeal.number, appeal.received_at, appeal.status, appeal.due_date,
                     office.name if office else "", office.address if office else "", appeal.answered_at,
                     attachments.citizen_attachments(appeal))
