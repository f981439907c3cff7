"""Citizens' e-mail subscriptions to a published mandate or to a settlement's mandates.

Double opt-in: `subscribe` stores an unconfirmed subscription and mails a confirmation link
through the outbox; only a confirmed one gets notices. Every notice carries a one-click
unsubscribe link (also as List-Unsubscribe / List-Unsubscribe-Post headers, RFC 8058); opening
it deletes the subscription, and the address too once nothing else is subscribed with it.

Links are signed with the server's SECRET_KEY (itsdangerous), so nothing secret is stored; a
confirmation link expires after CONFIRM_DAYS and unconfirmed subscriptions are deleted then too.
The address is personal data: kept on the subscription only (with its language), never shown on
any page, not in the audit trail; the answer to a subscription is the same whether the address was
subscribed already or not. Mail goes through the outbox's notices to an address (notify_address).
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Optional

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from appeals.core import outbox
from appeals.core.database import write_transaction
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.core.timeutil import utcnow
from appeals.mandates.models import Mandate, MandateSubscription
from appeals.reference.models import Settlement

if TYPE_CHECKING:
    from appeals.mandates.models import MandateProgressNote

CONFIRM_DAYS = 7
# A repeated subscribe of the same unconfirmed address and target mails again at most this often.
RESEND_AFTER = timedelta(minutes=10)
LOCALES = ("kk", "ru", "en")


class SubscriptionError(DomainError):
    kind = "invalid"


def _confirm_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="mandate-subscription-confirm")


def _unsubscribe_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="mandate-subscription-unsubscribe")


def confirm_token(subscription: MandateSubscription) -> str:
    return _confirm_signer().dumps(subscription.id)


def unsubscribe_token(subscription: MandateSubscription) -> str:
    # The address's digest in the token too: a link of a deleted subscription never removes
    # someone else's that got its id later (SQLite may reuse the highest id).
    return _unsubscribe_signer().dumps([subscription.id, _digest(subscription.email)])


def _digest(address: str) -> str:
    import hashlib

    return hashlib.sha256(address.casefold().encode()).hexdigest()[:16]


def normalise_email(value: Any) -> str:
    """The address as kept (the domain lower-cased), or SubscriptionError with a translated message."""
    text = (value or "").strip()
    if not text:
        raise SubscriptionError(_("Enter your e-mail address."), field="email")
    try:
        # No DNS look-up: a subscription form must answer at once, and the confirmation mail
        # tells whether the address works.
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise SubscriptionError(_("This is not a valid e-mail address."), field="email") from None
    return result.normalized[:254]


def subscribe(email: Any, locale: Optional[str], *, mandate: Optional[Mandate] = None,
              settlement: Optional[Settlement] = None) -> Optional[MandateSubscription]:
    """Ask for notices of a published `mandate` or of a `settlement`'s published mandates; mails the
    confirmation link. Returns the (new or waiting) subscription, or None when it was confirmed
    already (the caller answers the same either way)."""
    address = normalise_email(email)
    if (mandate is None) == (settlement is None):
        raise ValueError("subscribe to a mandate or a settlement")
    if mandate is not None and not mandate.is_published:
        raise SubscriptionError(_("This mandate is not published."), field="mandate")
    locale = locale if locale in LOCALES else current_app.config["BABEL_DEFAULT_LOCALE"]
    with write_transaction():
        target = (MandateSubscription.mandate_id == mandate.id if mandate is not None
                  else MandateSubscription.settlement_id == settlement.id)
        subscription = db.session.scalar(sa.select(MandateSubscription).where(
            MandateSubscription.email == address, target))
        now = utcnow()
        if subscription is not None and subscription.confirmed_at is not None:
            return None
        if subscription is not None and now - subscription.created_at < RESEND_AFTER:
            return subscription
        if subscription is None:
            subscription = MandateSubscription(email=address, locale=locale, created_at=now,
                                               mandate_id=getattr(mandate, "id", None),
                                               settlement_id=getattr(settlement, "id", None))
            db.session.add(subscription)
        else:
            subscription.created_at, subscription.locale = now, locale  # the new link's week starts now
        db.session.flush()
        _mail(subscription, "mandate_subscription_confirm", {
            "token": confirm_token(subscription), **_target_params(mandate, settlement)})
        return subscription


def _mail(subscription: MandateSubscription, template: str, params: dict[str, Any]) -> None:
    outbox.notify_address("email", subscription.email, template,
                          {**params, "unsubscribe_token": unsubscribe_token(subscription)}, locale=subscription.locale)


def _target_params(mandate: Optional[Mandate], settlement: Optional[Settlement]) -> dict[str, Any]:
    if mandate is not None:
        return {"mandate_id": mandate.id, "number": mandate.number, "title": mandate.public_title}
    assert settlement is not None
    return {"settlement_id": settlement.id, "settlement": {lang: settlement.localized_name(lang) for lang in LOCALES}}


def confirm(token: str) -> Optional[MandateSubscription]:
    """Confirm by the mailed link; None when the link is broken, expired or its subscription gone."""
    try:
        subscription_id = _confirm_signer().loads(token, max_age=CONFIRM_DAYS * 86400)
    except (BadSignature, SignatureExpired):
        return None
    with write_transaction():
        subscription = db.session.get(MandateSubscription, subscription_id)
        if subscription is not None and subscription.confirmed_at is None:
            subscription.confirmed_at = utcnow()
        return subscription


def unsubscribe(token: str) -> bool:
    """Delete the subscription of an unsubscribe link. True also when it was gone already: the
    link did what it promised."""
    try:
        subscription_id, digest = _unsubscribe_signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return False
    with write_transaction():
        subscription = db.session.get(MandateSubscription, subscription_id)
        if subscription is not None and _digest(subscription.email) == digest:
            db.session.delete(subscription)
    return True


def queue_progress_notices(mandate: Mandate, note: MandateProgressNote) -> int:
    """Notices to the confirmed subscribers of `mandate` and of its settlement, in the caller's write
    transaction (a progress update that rolls back sends nothing). One per address."""
    if not mandate.is_published:
        return 0
    target = MandateSubscription.mandate_id == mandate.id
    if mandate.settlement_id is not None:
        target = sa.or_(target, MandateSubscription.settlement_id == mandate.settlement_id)
    rows = db.session.scalars(sa.select(MandateSubscription).where(
        target, MandateSubscription.confirmed_at.is_not(None)).order_by(
        MandateSubscription.mandate_id.is_(None), MandateSubscription.id)).all()
    # One notice per address: a citizen following the mandate and its settlement gets one e-mail.
    seen: set[str] = set()
    for subscription in rows:
        if subscription.email in seen:
            continue
        seen.add(subscription.email)
        _mail(subscription, "mandate_progress", {
            "mandate_id": mandate.id, "number": mandate.number, "title": mandate.public_title,
            "percent": mandate.progress_percent, "status": mandate.status, "noted_on": note.noted_on.isoformat()})
    return len(seen)


def purge_unconfirmed(now=None) -> int:
    """Delete subscriptions whose confirmation link expired."""
    cutoff = (now or utcnow()) - timedelta(days=CONFIRM_DAYS)
    with write_transaction():
        stale = db.session.scalars(sa.select(MandateSubscription).where(
            MandateSubscription.confirmed_at.is_(None), MandateSubscription.created_at < cutoff)).all()
        for subscription in stale:
            db.session.delete(subscription)
    return len(stale)
