"""Rules of directives and mandates: criteria, flagging, numbering, progress and statistics.

Flagging an appeal never touches the appeal's own workflow (status, deadlines): a mandate is a
separate promise with its own life. Every write is one transaction with its audit records.
"""
from datetime import date, datetime, time

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from appeals.auth.permissions import may_search_personal, visible_office_ids
from appeals.core import audit
from appeals.core.database import write_transaction
from appeals.core.extensions import db
from appeals.core.numbering import next_number
from appeals.core.privacy import MANDATE_AUDIT_MASKS, mask_changes
from appeals.core.timeutil import local_today, utcnow
from appeals.mandates.models import (
    MANDATE_STATUSES,
    NUMBERING_SCOPES,
    OPEN_MANDATE_STATUSES,
    Directive,
    Mandate,
    MandateAppeal,
    MandateProgressNote,
)
from appeals.mandates.periods import counted, formed_from_appeals_received, registered_between
from appeals.mandates.search import escape_like, fold, folded, split_keywords
from appeals.reference.models import Category, District, Settlement
from appeals.register.districts import appeal_district_id, appeal_in_districts, settlement_in_districts
from appeals.register.models import APPEAL_TYPES, Appeal
from appeals.register.periods import received_between
from appeals.schedules.models import Host

# Criteria names, in the order the interface lists them.
CRITERIA = ("appeal_types", "categories", "place", "keywords", "min_signatories", "received_window")
DIRECTIVE_FIELDS = (
    "issuer", "number", "issued_on", "title", "text", "valid_from", "valid_to", "numbering", "number_prefix",
    "appeal_types", "category_ids", "settlement_ids", "district_ids", "keywords", "min_signatories",
    "received_from", "received_to", "target_count",
)
MANDATE_FIELDS = ("title", "description", "settlement_id", "responsible", "target_date", "status", "progress_percent")
FINAL_STATUSES = ("fulfilled", "partially_fulfilled", "not_fulfilled")
# Where a mandate may go from each status by an edit; "withdrawn" only comes from unflagging.
TRANSITIONS = {
    "registered": {"in_progress", *FINAL_STATUSES},
    "in_progress": set(FINAL_STATUSES),
    "fulfilled": {"in_progress"},
    "partially_fulfilled": {"in_progress", "fulfilled"},
    "not_fulfilled": {"in_progress"},
    "withdrawn": set(),
}
MAX_BULK = 1000
REASON_MAX = 1000


class DirectiveError(ValueError):
    """Bad directive input; `field` is the first bad field, `errors` maps every bad field to its message."""

    def __init__(self, message, field=None, errors=None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        self.errors = errors or ({field: self.message} if field else {})


class MandateError(ValueError):
    """A mandate rule was broken; `field` names the form field to show it on."""

    def __init__(self, message, field=None, details=None):
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        self.details = details or []


# --- Input parsing ---------------------------------------------------------------------------


def _date(value, field, errors):
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None


def _int(value, field, errors):
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        errors[field] = _("Enter a whole number.")
        return None


def _id_list(value, field, errors, model):
    if not value:
        return []
    try:
        ids = sorted({int(v) for v in value})
    except (TypeError, ValueError):
        errors[field] = _("Unknown value selected.")
        return []
    found = set(db.session.scalars(sa.select(model.id).where(model.id.in_(ids))))
    if found != set(ids):
        errors[field] = _("Unknown value selected.")
    return ids


def _text(value, limit, field, errors, required=False):
    text = (value or "").strip()
    if required and not text:
        errors[field] = _("This field is required.")
    elif len(text) > limit:
        errors[field] = _("At most %(n)d characters.", n=limit)
    return text


def _clean_directive(data):
    """Validate every field at once so the form shows all mistakes together."""
    errors = {}
    clean = {
        "issuer": _text(data.get("issuer") or _("Central office"), 300, "issuer", errors),
        "number": _text(data.get("number"), 50, "number", errors, required=True),
        "title": _text(data.get("title"), 500, "title", errors, required=True),
        "text": _text(data.get("text"), 20000, "text", errors),
        "issued_on": _date(data.get("issued_on"), "issued_on", errors),
        "valid_from": _date(data.get("valid_from"), "valid_from", errors),
        "valid_to": _date(data.get("valid_to"), "valid_to", errors),
        "received_from": _date(data.get("received_from"), "received_from", errors),
        "received_to": _date(data.get("received_to"), "received_to", errors),
        "min_signatories": _int(data.get("min_signatories"), "min_signatories", errors),
        "target_count": _int(data.get("target_count"), "target_count", errors),
        "numbering": data.get("numbering") or "directive",
        "number_prefix": _text(data.get("number_prefix") or "A", 20, "number_prefix", errors),
        "appeal_types": sorted(set(data.get("appeal_types") or [])),
        "category_ids": _id_list(data.get("category_ids"), "category_ids", errors, Category),
        "settlement_ids": _id_list(data.get("settlement_ids"), "settlement_ids", errors, Settlement),
        "district_ids": _id_list(data.get("district_ids"), "district_ids", errors, District),
        "keywords": ", ".join(split_keywords(data.get("keywords"))),
    }
    if "issued_on" not in errors and clean["issued_on"] is None:
        errors["issued_on"] = _("This field is required.")
    if clean["numbering"] not in NUMBERING_SCOPES:
        errors["numbering"] = _("Unknown value selected.")
    if any(t not in APPEAL_TYPES for t in clean["appeal_types"]):
        errors["appeal_types"] = _("Unknown value selected.")
    prefix = clean["number_prefix"]
    if prefix and not all(c.isalnum() or c in "-." for c in prefix):
        errors["number_prefix"] = _("Use letters, digits, dots and hyphens only.")
    if len(clean["keywords"]) > 1000:
        errors["keywords"] = _("At most %(n)d characters.", n=1000)
    if clean["valid_from"] and clean["valid_to"] and clean["valid_to"] < clean["valid_from"]:
        errors["valid_to"] = _("The end of the validity period is before its start.")
    if clean["received_from"] and clean["received_to"] and clean["received_to"] < clean["received_from"]:
        errors["received_to"] = _("The end of the date window is before its start.")
    if clean["min_signatories"] is not None and clean["min_signatories"] < 1:
        errors["min_signatories"] = _("The minimum number of signatories must be at least 1.")
    if clean["target_count"] is not None and clean["target_count"] < 0:
        errors["target_count"] = _("The target count cannot be negative.")
    if errors:
        field = next(iter(errors))
        raise DirectiveError(errors[field], field, errors)
    return clean


# --- Directives ------------------------------------------------------------------------------


def create_directive(data, actor):
    clean = _clean_directive(data)
    with write_transaction():
        directive = Directive(**clean, created_by_id=getattr(actor, "id", None))
        db.session.add(directive)
        db.session.flush()
        audit.record("directive.create", directive, changes=audit.snapshot(directive, DIRECTIVE_FIELDS), user=actor)
    return directive


def update_directive(directive, data, actor):
    clean = _clean_directive({**audit.snapshot(directive, DIRECTIVE_FIELDS), **data})
    with write_transaction():
        directive = db.session.get(Directive, directive.id)
        has_mandates = db.session.scalar(sa.select(sa.func.count(Mandate.id)).where(Mandate.directive_id == directive.id))
        if has_mandates and (clean["numbering"], clean["number_prefix"]) != (directive.numbering, directive.number_prefix):
            # Numbers already given must stay meaningful: the scheme is fixed once a mandate exists.
            raise DirectiveError(_("The numbering cannot change once mandates are registered."), "numbering")
        before = audit.snapshot(directive, DIRECTIVE_FIELDS)
        for field, value in clean.items():
            setattr(directive, field, value)
        changes = audit.diff(before, audit.snapshot(directive, DIRECTIVE_FIELDS))
        if changes:
            audit.record("directive.update", directive, changes=changes, user=actor)
    return directive


def directive_is_open(directive, today=None):
    today = today or local_today()
    return directive.valid_to is None or directive.valid_to >= today


# --- Criteria --------------------------------------------------------------------------------


def _criteria_results(directive, appeal):
    """{criterion: True/False} for every criterion the directive sets."""
    results = {}
    if directive.appeal_types:
        results["appeal_types"] = appeal.appeal_type in directive.appeal_types
    if directive.category_ids:
        results["categories"] = appeal.category_id in directive.category_ids
    if directive.settlement_ids or directive.district_ids:
        results["place"] = appeal.settlement_id in (directive.settlement_ids or []) or (
            appeal_district_id(appeal) in (directive.district_ids or [])
        )
    words = split_keywords(directive.keywords)
    if words:
        haystack = fold(f"{appeal.summary} {appeal.text}")
        results["keywords"] = any(word in haystack for word in words)
    if directive.min_signatories:
        results["min_signatories"] = (appeal.signatories or 1) >= directive.min_signatories
    if directive.received_from or directive.received_to:
        day = appeal.received_at.date()
        results["received_window"] = (directive.received_from is None or day >= directive.received_from) and (
            directive.received_to is None or day <= directive.received_to
        )
    return results


def matches(directive, appeal):
    """Names of the directive's criteria the appeal meets."""
    return [name for name, ok in _criteria_results(directive, appeal).items() if ok]


def unmet_criteria(directive, appeal):
    """Names of the directive's criteria the appeal does not meet (empty: it qualifies)."""
    return [name for name, ok in _criteria_results(directive, appeal).items() if not ok]


def matched_keywords(directive, appeal):
    haystack = fold(f"{appeal.summary} {appeal.text}")
    return [word for word in split_keywords(directive.keywords) if word in haystack]


def _day_start(day):
    return datetime.combine(day, time.min)


def criteria_conditions(directive):
    """SQL conditions on Appeal equivalent to matches() being complete."""
    conditions = []
    if directive.appeal_types:
        conditions.append(Appeal.appeal_type.in_(directive.appeal_types))
    if directive.category_ids:
        conditions.append(Appeal.category_id.in_(directive.category_ids))
    if directive.settlement_ids or directive.district_ids:
        place = []
        if directive.settlement_ids:
            place.append(Appeal.settlement_id.in_(directive.settlement_ids))
        if directive.district_ids:
            place.append(appeal_in_districts(directive.district_ids))
        conditions.append(sa.or_(*place))
    words = split_keywords(directive.keywords)
    if words:
        dialect = db.session.get_bind().dialect.name
        haystack = folded(Appeal.summary + " " + sa.func.coalesce(Appeal.text, ""), dialect)
        conditions.append(sa.or_(*[haystack.like(f"%{escape_like(w)}%", escape="\\") for w in words]))
    if directive.min_signatories:
        conditions.append(sa.func.coalesce(Appeal.signatories, 1) >= directive.min_signatories)
    if directive.received_from or directive.received_to:
        conditions.append(received_between(directive.received_from, directive.received_to))
    return conditions


def _flagged_under(directive_id):
    return sa.select(MandateAppeal.appeal_id).where(
        MandateAppeal.directive_id == directive_id, MandateAppeal.removed_at.is_(None)
    )


def candidate_query(directive, filters=None):
    """Appeals not yet flagged under the directive, meeting its criteria (unless filters['all']).

    filters: q (number or words of the summary), office_id, settlement_id, district_id,
    appeal_type, category_id, all (also show appeals that miss criteria, for an override).
    """
    filters = filters or {}
    query = sa.select(Appeal).where(
        Appeal.status != "withdrawn", Appeal.id.not_in(_flagged_under(directive.id))
    )
    if not filters.get("all"):
        query = query.where(*criteria_conditions(directive))
    q = (filters.get("q") or "").strip()
    if q:
        dialect = db.session.get_bind().dialect.name
        pattern = f"%{escape_like(fold(q))}%"
        query = query.where(sa.or_(
            Appeal.number == q,
            folded(Appeal.summary, dialect).like(pattern, escape="\\"),
        ))
    for key, column in (("office_id", Appeal.office_id), ("settlement_id", Appeal.settlement_id),
                        ("category_id", Appeal.category_id), ("appeal_type", Appeal.appeal_type)):
        if filters.get(key):
            query = query.where(column == filters[key])
    if filters.get("district_id"):
        query = query.where(appeal_in_districts([filters["district_id"]]))
    return query.order_by(Appeal.received_at.desc(), Appeal.id.desc())


# --- Flagging --------------------------------------------------------------------------------


def _mandate_number(directive):
    if directive.numbering == "year":
        year = local_today().year
        seq = next_number(f"mandate:{directive.number_prefix}", year)
        return seq, f"{directive.number_prefix}-{year}-{seq:04d}"
    seq = next_number(f"mandate:directive:{directive.id}", 0)
    return seq, f"{directive.number_prefix}-{directive.id}-{seq:04d}"


def _new_mandate(directive, appeal, actor):
    seq, number = _mandate_number(directive)
    mandate = Mandate(
        directive_id=directive.id,
        number=number,
        seq=seq,
        title=appeal.summary[:500],
        description=appeal.text or "",
        office_id=appeal.office_id,
        settlement_id=appeal.settlement_id,
        category_id=appeal.category_id,
        target_date=directive.valid_to,
        status="registered",
        progress_percent=0,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(mandate)
    return mandate


def flag_appeals(directive, appeal_ids, actor, override_reason=None, merge_into=None, as_one=False):
    """Register appeals as mandates under the directive; returns the mandates created or extended.

    One mandate per appeal by default; `as_one` joins them in one new mandate; `merge_into` adds
    them to an existing mandate of this directive. Appeals that miss a criterion need an
    `override_reason`. All or nothing: one bad appeal refuses the whole batch.
    """
    ids = list(dict.fromkeys(int(i) for i in appeal_ids or []))
    if not ids:
        raise MandateError(_("Select at least one appeal."), "appeal_ids")
    if len(ids) > MAX_BULK:
        raise MandateError(_("At most %(n)d appeals can be flagged at once.", n=MAX_BULK), "appeal_ids")
    reason = (override_reason or "").strip()
    if len(reason) > REASON_MAX:
        raise MandateError(_("At most %(n)d characters.", n=REASON_MAX), "override_reason")
    try:
        with write_transaction():
            directive = db.session.get(Directive, directive.id)
            if not directive_is_open(directive):
                raise MandateError(_("The directive is no longer in force; no new mandates can be registered."), "directive")
            target = None
            if merge_into is not None:
                target = db.session.get(Mandate, getattr(merge_into, "id", merge_into))
                if target is None or target.directive_id != directive.id:
                    raise MandateError(_("The mandate belongs to another directive."), "merge_into")
                if target.status == "withdrawn":
                    raise MandateError(_("Appeals cannot be added to a withdrawn mandate."), "merge_into")
            appeals = db.session.scalars(
                sa.select(Appeal).where(Appeal.id.in_(ids)).options(
                    selectinload(Appeal.settlement), selectinload(Appeal.office)
                )
            ).all()
            by_id = {a.id: a for a in appeals}
            missing = [i for i in ids if i not in by_id]
            if missing:
                raise MandateError(_("Some selected appeals no longer exist."), "appeal_ids")
            ordered = [by_id[i] for i in ids]
            withdrawn = [a.number for a in ordered if a.status == "withdrawn"]
            if withdrawn:
                raise MandateError(
                    _("Withdrawn appeals cannot become mandates: %(numbers)s.", numbers=", ".join(withdrawn)),
                    "appeal_ids", withdrawn,
                )
            existing = db.session.execute(
                sa.select(Appeal.number, Mandate.number)
                .join(MandateAppeal, MandateAppeal.appeal_id == Appeal.id)
                .join(Mandate, Mandate.id == MandateAppeal.mandate_id)
                .where(MandateAppeal.directive_id == directive.id, MandateAppeal.removed_at.is_(None),
                       Appeal.id.in_(ids))
            ).all()
            if existing:
                raise MandateError(
                    _("Already registered under this directive: %(items)s.",
                      items=", ".join(f"{a} → {m}" for a, m in existing)),
                    "appeal_ids", [a for a, _m in existing],
                )
            unmet = {a.id: unmet_criteria(directive, a) for a in ordered}
            off_criteria = [a for a in ordered if unmet[a.id]]
            if off_criteria and not reason:
                raise MandateError(
                    _("%(count)d appeal(s) do not meet the directive's criteria (%(numbers)s). "
                      "Give a reason to register them anyway.",
                      count=len(off_criteria), numbers=", ".join(a.number for a in off_criteria[:20])),
                    "override_reason", [a.number for a in off_criteria],
                )
            now = utcnow()
            touched = []
            for appeal in ordered:
                if target is not None:
                    mandate = target
                elif as_one and touched:
                    mandate = touched[0]
                else:
                    mandate = _new_mandate(directive, appeal, actor)
                    db.session.flush()
                if mandate not in touched:
                    touched.append(mandate)
                link = MandateAppeal(
                    mandate=mandate,
                    directive_id=directive.id,
                    appeal_id=appeal.id,
                    added_by_id=getattr(actor, "id", None),
                    added_at=now,
                    override_reason=reason if unmet[appeal.id] else "",
                )
                db.session.add(link)
                changes = {"appeal": appeal.number, "directive": directive.number}
                if unmet[appeal.id]:
                    changes.update(override_reason=reason, unmet=unmet[appeal.id])
                action = "mandate.flag_override" if unmet[appeal.id] else "mandate.flag"
                audit.record(action, mandate, changes=mask_changes(changes, MANDATE_AUDIT_MASKS), user=actor)
            db.session.flush()
    except IntegrityError as exc:
        # Two coordinators flagging the same appeal at the same moment: the partial unique index decides.
        raise MandateError(_("One of the appeals was just registered under this directive by someone else."),
                           "appeal_ids") from exc
    return touched


def find_active_link(appeal, directive=None):
    query = sa.select(MandateAppeal).where(MandateAppeal.appeal_id == appeal.id, MandateAppeal.removed_at.is_(None))
    if directive is not None:
        query = query.where(MandateAppeal.directive_id == directive.id)
    return db.session.scalars(query).all()


def unflag(link_or_appeal, reason, actor):
    """Take an appeal out of its mandate. The link stays, marked removed; numbers are never reused.

    A mandate left without appeals becomes "withdrawn" with the same reason.
    """
    reason = (reason or "").strip()
    if not reason:
        raise MandateError(_("Give a reason for removing the appeal from the mandate."), "reason")
    if len(reason) > REASON_MAX:
        raise MandateError(_("At most %(n)d characters.", n=REASON_MAX), "reason")
    if isinstance(link_or_appeal, Appeal):
        links = find_active_link(link_or_appeal)
        if not links:
            raise MandateError(_("The appeal is not registered as a mandate."), "link_id")
        if len(links) > 1:
            raise MandateError(_("The appeal is registered under several directives; choose the mandate."), "link_id")
        link_id = links[0].id
    else:
        link_id = link_or_appeal.id
    with write_transaction():
        link = db.session.get(MandateAppeal, link_id)
        if link is None or link.removed_at is not None:
            raise MandateError(_("The appeal was already removed from this mandate."), "link_id")
        link.removed_at = utcnow()
        link.removed_by_id = getattr(actor, "id", None)
        link.removed_reason = reason
        mandate = link.mandate
        audit.record("mandate.unflag", mandate, changes=mask_changes({"appeal": link.appeal.number, "reason": reason},
                                                                       MANDATE_AUDIT_MASKS), user=actor)
        db.session.flush()
        if not mandate.active_links:
            before = mandate.status
            mandate.status = "withdrawn"
            mandate.withdrawn_reason = reason
            audit.record("mandate.withdraw", mandate, changes=mask_changes({"status": [before, "withdrawn"], "reason": reason},
                                                                         MANDATE_AUDIT_MASKS),
                         user=actor)
    return link


# --- Mandate life ----------------------------------------------------------------------------


def _clean_mandate(mandate, data):
    errors = {}
    clean = {}
    if "title" in data:
        clean["title"] = _text(data["title"], 500, "title", errors, required=True)
    if "description" in data:
        clean["description"] = _text(data["description"], 20000, "description", errors)
    if "responsible" in data:
        clean["responsible"] = _text(data["responsible"], 300, "responsible", errors)
    if "target_date" in data:
        clean["target_date"] = _date(data["target_date"], "target_date", errors)
    if "settlement_id" in data:
        value = _int(data["settlement_id"], "settlement_id", errors)
        if value is not None and db.session.get(Settlement, value) is None:
            errors["settlement_id"] = _("Unknown value selected.")
        clean["settlement_id"] = value
    if "progress_percent" in data:
        value = _int(data["progress_percent"], "progress_percent", errors)
        if value is not None and not 0 <= value <= 100:
            errors["progress_percent"] = _("Progress is a percentage from 0 to 100.")
        clean["progress_percent"] = value if value is not None else mandate.progress_percent
    if "status" in data and data["status"] and data["status"] != mandate.status:
        status = data["status"]
        if status not in MANDATE_STATUSES:
            errors["status"] = _("Unknown value selected.")
        elif status not in TRANSITIONS[mandate.status]:
            errors["status"] = _("A mandate cannot go from “%(old)s” to “%(new)s”.",
                                 old=_status_label(mandate.status), new=_status_label(status))
        else:
            clean["status"] = status
    return clean, errors


def _status_label(status):
    from appeals.core.labels import MANDATE_STATUS_LABELS

    return str(MANDATE_STATUS_LABELS.get(status, status))


def _apply_status_rules(mandate):
    if mandate.status == "fulfilled":
        mandate.progress_percent = 100
    elif mandate.status == "registered" and mandate.progress_percent > 0:
        mandate.status = "in_progress"


def update_mandate(mandate, data, actor):
    with write_transaction():
        return apply_mandate_update(db.session.get(Mandate, mandate.id), data, actor)


def apply_mandate_update(mandate, data, actor):
    """update_mandate's rules inside the caller's open write transaction (batch jobs, the demo)."""
    if mandate.status == "withdrawn":
        raise MandateError(_("A withdrawn mandate cannot be changed."), "status")
    clean, errors = _clean_mandate(mandate, data)
    if errors:
        field = next(iter(errors))
        raise MandateError(errors[field], field, errors)
    before = audit.snapshot(mandate, MANDATE_FIELDS)
    for field, value in clean.items():
        setattr(mandate, field, value)
    _apply_status_rules(mandate)
    changes = audit.diff(before, audit.snapshot(mandate, MANDATE_FIELDS))
    if changes:
        audit.record("mandate.update", mandate, changes=mask_changes(changes, MANDATE_AUDIT_MASKS), user=actor)
    return mandate


def _clean_note(noted_on, note, percent):
    errors = {}
    noted_on = _date(noted_on, "noted_on", errors) or (None if errors else local_today())
    note = _text(note, 5000, "note", errors, required=True)
    percent = _int(percent, "percent", errors)
    if percent is not None and not 0 <= percent <= 100:
        errors["percent"] = _("Progress is a percentage from 0 to 100.")
    if noted_on and noted_on > local_today():
        errors["noted_on"] = _("The date cannot be in the future.")
    if errors:
        field = next(iter(errors))
        raise MandateError(errors[field], field, errors)
    return noted_on, note, percent


def add_progress_note(mandate, noted_on, note, percent, actor):
    """A dated report on the mandate; a percentage also moves the mandate's progress."""
    _clean_note(noted_on, note, percent)
    with write_transaction():
        return record_progress_note(db.session.get(Mandate, mandate.id), noted_on, note, percent, actor)


def record_progress_note(mandate, noted_on, note, percent, actor):
    """add_progress_note's rules inside the caller's open write transaction (batch jobs, the demo)."""
    noted_on, note, percent = _clean_note(noted_on, note, percent)
    if mandate.status == "withdrawn":
        raise MandateError(_("A withdrawn mandate cannot be changed."), "note")
    entry = MandateProgressNote(
        mandate=mandate, noted_on=noted_on, note=note, progress_percent=percent,
        user_id=getattr(actor, "id", None), created_at=utcnow(),
    )
    db.session.add(entry)
    changes = {"noted_on": noted_on, "note": note}
    if percent is not None and percent != mandate.progress_percent:
        changes["progress_percent"] = [mandate.progress_percent, percent]
        mandate.progress_percent = percent
        before = mandate.status
        _apply_status_rules(mandate)
        if mandate.status != before:
            changes["status"] = [before, mandate.status]
    audit.record("mandate.progress", mandate, changes=changes, user=actor)
    return entry


# --- Queries ---------------------------------------------------------------------------------


def _host_mandates(user):
    return sa.select(MandateAppeal.mandate_id).join(Appeal, Appeal.id == MandateAppeal.appeal_id).where(
        MandateAppeal.removed_at.is_(None),
        Appeal.host_id.in_(sa.select(Host.id).where(Host.user_id == user.id)),
    )


def scope_mandates(query, user):
    """Narrow a select() of Mandate to what `user` may see (same answer as can('mandate.view'))."""
    if user.role == "host":
        return query.where(Mandate.id.in_(_host_mandates(user)))
    offices = visible_office_ids(user)
    if offices is None:
        return query
    return query.where(Mandate.office_id.in_(offices or {-1}))


MANDATE_FILTER_IDS = ("directive_id", "office_id", "district_id", "settlement_id", "category_id")
MANDATE_FILTER_DAYS = ("date_from", "date_to", "received_from", "received_to")
# Days outside these are no period a register holds: dropped, as any malformed filter value is.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def parse_mandate_filters(args) -> dict:
    """Query-string arguments of the mandates list (and its printed list) to typed filters."""
    from appeals.register.validation import parse_date

    def ident(name):
        try:
            return int(args.get(name) or 0) or None
        except (TypeError, ValueError):
            return None

    def day(name):
        value = parse_date(args.get(name)) if args.get(name) else None
        return value if value is not None and FIRST_DAY <= value <= LAST_DAY else None

    status = args.get("status") or ""
    filters = {key: ident(key) for key in MANDATE_FILTER_IDS}
    filters.update({key: day(key) for key in MANDATE_FILTER_DAYS})
    filters.update({
        "q": (args.get("q") or "").strip()[:100],
        "status": status if status in ("open", "counted") or status in MANDATE_STATUSES else "",
        "overdue": args.get("overdue") == "1",
    })
    return filters


def build_mandate_query(filters, user):
    """Mandates visible to `user`, filtered by directive_id, office_id, settlement_id, district_id,
    status ('open': registered or in progress; 'counted': all but withdrawn), overdue, q (number or
    title), date_from/date_to (registered on those days), received_from/received_to (formed from
    appeals received on those days; see mandates.periods)."""
    filters = filters or {}
    query = scope_mandates(sa.select(Mandate), user)
    for key, column in (("directive_id", Mandate.directive_id), ("office_id", Mandate.office_id),
                        ("settlement_id", Mandate.settlement_id), ("category_id", Mandate.category_id)):
        if filters.get(key):
            query = query.where(column == filters[key])
    if filters.get("district_id"):
        query = query.where(settlement_in_districts(Mandate.settlement_id, [filters["district_id"]]))
    if filters.get("date_from") or filters.get("date_to"):
        query = query.where(registered_between(filters.get("date_from"), filters.get("date_to")))
    if filters.get("received_from") or filters.get("received_to"):
        query = query.where(formed_from_appeals_received(filters.get("received_from"), filters.get("received_to")))
    status = filters.get("status")
    if status == "counted":
        query = query.where(counted())
    elif status == "open":
        query = query.where(Mandate.status.in_(OPEN_MANDATE_STATUSES))
    elif status in MANDATE_STATUSES:
        query = query.where(Mandate.status == status)
    if filters.get("overdue"):
        query = query.where(overdue_condition())
    q = (filters.get("q") or "").strip()
    if q and not may_search_personal(user) and (sum(c.isdigit() for c in q) >= 6 or "@" in q):
        # Titles start as appeals' summaries: an IIN, phone or e-mail finds nothing by title for masked roles.
        query = query.where(Mandate.number == q)
    elif q:
        dialect = db.session.get_bind().dialect.name
        query = query.where(sa.or_(
            Mandate.number == q, folded(Mandate.title, dialect).like(f"%{escape_like(fold(q))}%", escape="\\"),
        ))
    return query.order_by(Mandate.directive_id.desc(), Mandate.seq.desc())


def overdue_condition(today=None):
    return sa.and_(Mandate.status.in_(OPEN_MANDATE_STATUSES), Mandate.target_date < (today or local_today()))


def is_overdue(mandate, today=None):
    return (mandate.status in OPEN_MANDATE_STATUSES and mandate.target_date is not None
            and mandate.target_date < (today or local_today()))


def mandates_for_appeal(appeal):
    """Active links of the appeal to mandates (with mandate and directive), for the appeal page."""
    return db.session.scalars(
        sa.select(MandateAppeal)
        .where(MandateAppeal.appeal_id == appeal.id, MandateAppeal.removed_at.is_(None))
        .options(selectinload(MandateAppeal.mandate).selectinload(Mandate.directive))
        .order_by(MandateAppeal.id)
    ).all()


def directive_progress(directive):
    """Counts of the directive's mandates by status and the number of flagged appeals."""
    rows = db.session.execute(
        sa.select(Mandate.status, sa.func.count(Mandate.id)).where(Mandate.directive_id == directive.id)
        .group_by(Mandate.status)
    ).all()
    by_status = {status: count for status, count in rows}
    appeals = db.session.scalar(
        sa.select(sa.func.count(MandateAppeal.id)).where(
            MandateAppeal.directive_id == directive.id, MandateAppeal.removed_at.is_(None)
        )
    )
    active = sum(count for status, count in by_status.items() if status != "withdrawn")
    overdue = db.session.scalar(
        sa.select(sa.func.count(Mandate.id)).where(Mandate.directive_id == directive.id, overdue_condition())
    )
    fulfilled = by_status.get("fulfilled", 0)
    return {
        "by_status": by_status,
        "mandates": active,
        "appeals": appeals or 0,
        "fulfilled": fulfilled,
        "overdue": overdue or 0,
        "fulfilled_share": (fulfilled / active) if active else 0.0,
        "target_share": (min(active / directive.target_count, 1.0) if directive.target_count else None),
    }
