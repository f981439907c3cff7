"""The one place that answers "may this user do this (to this object)?".

Views, the API, PDF documents and the CLI all ask `can()` or use `require()`; query helpers
here narrow lists to what a role may see, so a list and a direct URL give the same answer.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import abort
from flask_login import current_user

if TYPE_CHECKING:
    import sqlalchemy as sa
    from flask import Flask

from appeals.core.privacy import mask_address, mask_iin, mask_name, mask_phone, redact_personal

# Levels of the branch (README, "Roles"): the central office's roles see every region; coordinators
# and viewers see the region they work for (users.region_id); clerks and hosts their offices only.
NATIONAL = ("admin", "central")
REGION_WIDE = ("coordinator", "viewer")
# Roles whose account names a region (the admin form and create-user ask for it).
REGION_ROLES = REGION_WIDE

# action -> roles that may perform it at all; object-level rules follow in _OBJECT_RULES.
ACTIONS = {
    "admin.users": {"admin"},
    "admin.reference": {"admin"},
    "admin.audit": {"admin"},
    "admin.notices": {"admin"},
    # Who gets the office's overdue appeals and mandates each morning (appeals/notifications/duties.py).
    "notice.escalations": {"coordinator"},
    "notice.inbox": {"admin", "central", "coordinator", "clerk", "host", "viewer"},
    "schedule.view": {"admin", "central", "coordinator", "clerk", "host", "viewer"},
    "schedule.edit": {"admin", "coordinator", "clerk"},
    "schedule.approve": {"coordinator"},
    "schedule.mark_held": {"coordinator", "clerk", "host"},
    "schedule.own": {"host"},
    "host.manage": {"admin", "coordinator"},
    # Citizens' bookings of a session: the day's list, opening slots, arrived / no-show (object: the session's office).
    "booking.view": {"coordinator", "clerk"},
    "booking.manage": {"coordinator", "clerk"},
    "appeal.view": {"central", "coordinator", "clerk", "host", "viewer"},
    "appeal.create": {"coordinator", "clerk"},
    "appeal.edit": {"coordinator", "clerk"},
    "appeal.correct_office": {"coordinator"},
    "appeal.transition": {"coordinator", "clerk"},
    "appeal.extend": {"coordinator", "clerk"},
    # Stop and restart the answer clock while the office waits for the applicant.
    "appeal.suspend": {"coordinator", "clerk"},
    # The table of answer terms per appeal type.
    "admin.deadlines": {"admin"},
    # The wording of the answer letters per appeal type and language.
    "admin.letters": {"admin"},
    "appeal.view_personal": {"coordinator", "clerk"},
    "appeal.export": {"coordinator", "clerk"},
    # Scans and photos of an appeal or its answer carry everything personal: only the roles that may
    # see the applicant's data open them (each opening audited); masked roles do not even see the list.
    "appeal.attachments.view": {"coordinator", "clerk"},
    "appeal.attachments.add": {"coordinator", "clerk"},
    "appeal.attachments.remove": {"coordinator", "clerk"},
    "appeal.import": {"coordinator", "clerk"},
    "directive.view": {"admin", "central", "coordinator", "viewer"},
    "directive.manage": {"admin", "central", "coordinator"},
    "mandate.view": {"admin", "central", "coordinator", "clerk", "host", "viewer"},
    "mandate.flag": {"coordinator"},
    # Register mandates with an earlier date (a paper register typed in later), within the directive's validity.
    "mandate.register_backdated": {"coordinator"},
    "mandate.edit": {"coordinator"},
    "mandate.view_internal": {"coordinator"},
    # Approve a mandate's public text for the public pages (appeals/mandates/publication.py).
    "mandate.publish": {"coordinator"},
    # Post a progress update: a coordinator, or the mandate's responsible person of any role (object rule).
    "mandate.progress": {"admin", "central", "coordinator", "clerk", "host", "viewer"},
    "stats.view": {"admin", "central", "coordinator", "viewer"},
    # Mandate reports up the chain (appeals/reports/chain.py): read (object: the report's office in scope),
    # submit an office's report (its office coordinator, or a regional coordinator), approve or send back
    # (a regional coordinator of its region, not the one who submitted it), the region's report.
    "report.chain": {"central", "coordinator", "viewer"},
    "report.submit": {"coordinator"},
    "report.review": {"coordinator"},
    "report.region": {"central", "coordinator", "viewer"},
    "report.journal": {"central", "coordinator", "clerk", "viewer"},
    "api.use": {"admin", "central", "coordinator", "clerk", "host", "viewer"},
    # May be named responsible for an appeal (of an office: object rule).
    "appeal.responsible": {"coordinator", "clerk"},
    # Filter the register by host (a host sees only the appeals they received anyway).
    "appeal.filter_by_host": {"central", "coordinator", "clerk", "viewer"},
    # Plan sessions at an office (object rule: a clerk only at their own offices).
    "schedule.plan": {"admin", "coordinator", "clerk"},
    # Sees only the mandates formed from appeals they received themselves.
    "mandate.view_received": {"host"},
    # A background job (an import, a document): object rule, its owner only.
    "job.view": {"admin", "central", "coordinator", "clerk", "host", "viewer"},
}


def _office_region_id(office_id: int | None) -> int | None:
    if office_id is None:
        return None
    from appeals.core.extensions import db
    from appeals.reference.models import Office

    office = db.session.get(Office, office_id)  # the identity map answers a list's repeats
    return office.region_id if office is not None else None


def office_in_scope(user: Any, office_id: int | None) -> bool:
    """Whether the office is within the user's level: every office for the central office's roles, the
    offices of their region for coordinators and viewers, their own offices for everyone else."""
    if user.role in NATIONAL:
        return True
    if user.role in REGION_WIDE:
        return user.region_id is not None and _office_region_id(office_id) == user.region_id
    return office_id in user.office_ids


def _office_ok(user: Any, office_id: int | None) -> bool:
    return office_in_scope(user, office_id)


def _appeal_visible(user: Any, appeal: Any) -> bool:
    if user.role in NATIONAL or user.role in REGION_WIDE:
        return office_in_scope(user, appeal.office_id)
    if user.role == "clerk":
        return appeal.office_id in user.office_ids
    if user.role == "host":
        return appeal.host is not None and appeal.host.user_id == user.id
    return False


def _appeal_writable(user: Any, appeal: Any) -> bool:
    if user.role == "coordinator":
        return office_in_scope(user, appeal.office_id)
    return user.role == "clerk" and appeal.office_id in user.office_ids


def _session_editable(user: Any, session: Any) -> bool:
    # Approved sessions change only by a coordinator; clerks prepare drafts for their office.
    if user.role == "coordinator":
        return office_in_scope(user, session.office_id)
    if user.role == "admin":
        return session.status == "draft"
    return user.role == "clerk" and session.status == "draft" and session.office_id in user.office_ids


def _session_mark_held(user: Any, session: Any) -> bool:
    if user.role == "coordinator":
        return office_in_scope(user, session.office_id)
    if user.role == "clerk":
        return session.office_id in user.office_ids
    if user.role == "host":
        return any(host.user_id == user.id for host in session.hosts)
    return False


def _is_responsible(user: Any, mandate: Any) -> bool:
    return mandate.responsible_user_id is not None and mandate.responsible_user_id == user.id


def _mandate_visible(user: Any, mandate: Any) -> bool:
    if user.role in NATIONAL or _is_responsible(user, mandate):
        return True
    if user.role in REGION_WIDE:
        return office_in_scope(user, mandate.office_id)
    if user.role == "clerk":
        return mandate.office_id in user.office_ids
    if user.role == "host":
        return any(
            link.appeal.host is not None and link.appeal.host.user_id == user.id for link in mandate.active_links
        )
    return False


def _works_at(user: Any, office: Any) -> bool:
    offices = own_offices_only(user)
    return offices is None or office.id in offices


def _directive_visible(user: Any, directive: Any) -> bool:
    # The central office's directives (no region) go to every region; a region's own stay in it.
    return user.role in NATIONAL or directive.region_id is None or directive.region_id == user.region_id


def _directive_manageable(user: Any, directive: Any) -> bool:
    # Each level keeps its own directives: the central office those to all, a region's coordinators theirs.
    if user.role == "admin":
        return True
    if user.role == "central":
        return directive.region_id is None
    return user.region_id is not None and directive.region_id == user.region_id


def is_regional_coordinator(user: Any) -> bool:
    """The regional coordinator (README, "Reports up the chain"): a coordinator who works for the whole
    region (no office of their own, or the regional office); a coordinator linked to territorial offices
    only is those offices' coordinator."""
    return user.role == "coordinator" and (not user.offices or any(o.kind == "regional" for o in user.offices))


def _in_scope(user: Any, obj: Any) -> bool:
    """An appeal, a mandate or a session (by its office), or an office itself, within the user's level."""
    office_id = getattr(obj, "office_id", None) if not _is_office(obj) else obj.id
    return office_in_scope(user, office_id)


def _is_office(obj: Any) -> bool:
    from appeals.reference.models import Office

    return isinstance(obj, Office)


_OBJECT_RULES = {
    "appeal.view": _appeal_visible,
    "appeal.view_personal": lambda user, appeal: _appeal_writable(user, appeal),
    "appeal.edit": _appeal_writable,
    # The office decides the number series and the deadline's owners: corrected only before the
    # appeal's first status change, while nobody has acted on it yet.
    "appeal.correct_office": lambda user, appeal: appeal.status == "registered",
    "appeal.transition": _appeal_writable,
    "appeal.extend": _appeal_writable,
    "appeal.suspend": _appeal_writable,
    "appeal.create": lambda user, office: _office_ok(user, office.id),
    "appeal.attachments.view": _appeal_writable,
    "appeal.attachments.add": lambda user, appeal: _appeal_writable(user, appeal) and appeal.status not in (
        "closed", "withdrawn"),
    "appeal.attachments.remove": lambda user, appeal: _appeal_writable(user, appeal) and appeal.status not in (
        "closed", "withdrawn"),
    "appeal.import": lambda user, office: _office_ok(user, office.id),
    "schedule.edit": _session_editable,
    "schedule.mark_held": _session_mark_held,
    "booking.view": lambda user, session: _office_ok(user, session.office_id),
    "booking.manage": lambda user, session: _office_ok(user, session.office_id),
    "mandate.view": _mandate_visible,
    "mandate.progress": lambda user, mandate: mandate.status != "withdrawn" and (
        (user.role == "coordinator" and office_in_scope(user, mandate.office_id)) or _is_responsible(user, mandate)),
    "mandate.flag": _in_scope,
    "mandate.edit": _in_scope,
    "mandate.publish": _in_scope,
    "mandate.view_internal": _in_scope,
    "schedule.approve": _in_scope,
    "directive.view": _directive_visible,
    "directive.manage": _directive_manageable,
    "report.chain": _in_scope,
    "report.submit": lambda user, office: office_in_scope(user, office.id) and (
        office.id in user.office_ids or is_regional_coordinator(user)),
    "report.review": lambda user, report: (office_in_scope(user, report.office_id) and is_regional_coordinator(user)
                                          and report.submitted_by_id != user.id),
    "report.region": lambda user, region: user.role in NATIONAL or user.region_id == region.id,
    "appeal.responsible": lambda user, office: office is not None and _works_at(user, office),
    "schedule.plan": _works_at,
    # One rule for every page that shows a job (the import's page, the documents'): what a job
    # produced was made for its owner's role and scope, so nobody else reads it, not even a coordinator.
    "job.view": lambda user, job: job.user_id == user.id,
}


def can(user: Any, action: str, obj: Any = None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    roles = ACTIONS.get(action)
    if roles is None:
        raise KeyError(f"unknown action {action!r}")
    if user.role not in roles:
        return False
    rule = _OBJECT_RULES.get(action)
    if obj is None or rule is None:
        return True
    return bool(rule(user, obj))


def totp_required(user: Any, roles: Iterable[str]) -> bool:
    """Whether `user`'s role must sign in with a second factor (the REQUIRE_TOTP_ROLES setting)."""
    return getattr(user, "role", None) in set(roles or ())


def init_app(app: Flask) -> None:
    """Templates ask `can(action, obj)` of the signed-in user, never compare roles themselves."""

    @app.context_processor
    def permission_helpers() -> dict[str, Any]:
        return {
            "can": lambda action, obj=None: can(current_user, action, obj),
            "mandate_text": lambda mandate, value: mandate_text(current_user, mandate, value),
        }


def require(action: str, obj: Any = None) -> None:
    """Abort with 403 (or send to login) unless the current user may perform `action`."""
    if not current_user.is_authenticated:
        from appeals.core.extensions import login_manager

        abort(login_manager.unauthorized())
    if not can(current_user, action, obj):
        abort(403)


def permission_required(action: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """View decorator for role-level checks; object-level checks call require() with the object."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args, **kwargs):
            require(action)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def region_office_ids(region_id: int | None) -> set[int]:
    """The ids of the offices of a region."""
    from appeals.core.extensions import db

    if region_id is None:
        return set()
    return set(db.session.scalars(sa_select_office_ids(region_id)))


def sa_select_office_ids(region_id: int | None) -> sa.Select:
    import sqlalchemy as sa

    from appeals.reference.models import Office

    return sa.select(Office.id).where(Office.region_id == region_id) if region_id is not None else \
        sa.select(Office.id).where(sa.false())


def visible_office_ids(user: Any) -> set[int] | None:
    """None means every office (the central office's level); otherwise the ids of the offices the user
    sees: their region's for coordinators and viewers, their own for the others."""
    if user.role in NATIONAL:
        return None
    if user.role in REGION_WIDE:
        return region_office_ids(user.region_id)
    return user.office_ids


def stats_office_ids(user: Any) -> list[int] | None:
    """The offices whose figures a user's statistics count (reports.statistics' office_ids): None for
    every office (the central office's level), else visible_office_ids in order."""
    offices = visible_office_ids(user)
    return None if offices is None else sorted(offices)


def user_region_id(user: Any) -> int | None:
    """The region a user works for (None: the central office's level, or no region at all)."""
    return None if user.role in NATIONAL else getattr(user, "region_id", None)


def needs_region(role: str) -> bool:
    """Whether an account of this role must name the region it works for."""
    return role in REGION_ROLES


def is_national(user: Any) -> bool:
    """The central office's level: sees every region."""
    return getattr(user, "role", None) in NATIONAL


def directive_region_for(user: Any) -> int | None:
    """The region a directive `user` issues is for: None (every region) from the central office's level."""
    return None if user is None or user.role in NATIONAL else getattr(user, "region_id", None)


def scope_directives(query: sa.Select, user: Any) -> sa.Select:
    """Narrow a select() of Directive to what `user` may see (the same answer as can('directive.view'))."""
    import sqlalchemy as sa

    from appeals.mandates.models import Directive

    if user.role in NATIONAL:
        return query
    if user.region_id is None:
        return query.where(Directive.region_id.is_(None))
    return query.where(sa.or_(Directive.region_id.is_(None), Directive.region_id == user.region_id))


def _office_condition(column: Any, user: Any) -> Any:
    """SQL: `column` (an office id) within a coordinator's or viewer's region."""
    return column.in_(sa_select_office_ids(user.region_id))


def scope_sessions(query: sa.Select, user: Any) -> sa.Select:
    """Narrow a select() of ReceptionSession to what `user` may see.

    Drafts are internal: coordinators (who approve them) and admins (who may edit them) see every
    draft, a clerk those of their offices, a host those they receive at; viewers and the public see
    approved, held and cancelled sessions only (the API documentation says the same).
    """
    import sqlalchemy as sa

    from appeals.schedules.models import Host, ReceptionSession, session_hosts

    if user is None or not getattr(user, "is_authenticated", False):
        return query.where(ReceptionSession.status == "approved")
    if user.role == "admin":
        return query
    if user.role == "coordinator":
        return query.where(_office_condition(ReceptionSession.office_id, user))
    if user.role == "central":
        return query.where(ReceptionSession.status != "draft")
    if user.role == "clerk":
        return query.where(sa.or_(
            ReceptionSession.status != "draft", ReceptionSession.office_id.in_(user.office_ids or {-1})))
    if user.role == "host":
        own = sa.select(session_hosts.c.session_id).join(Host, Host.id == session_hosts.c.host_id).where(
            Host.user_id == user.id)
        return query.where(sa.or_(ReceptionSession.status != "draft", ReceptionSession.id.in_(own)))
    if user.role == "viewer":
        return query.where(ReceptionSession.status != "draft", _office_condition(ReceptionSession.office_id, user))
    return query.where(sa.false())


def scope_appeals(query: sa.Select, user: Any) -> sa.Select:
    """Narrow a select() of Appeal to what `user` may see."""
    condition = appeal_scope_condition(user)
    return query if condition is None else query.where(condition)


def appeal_scope_condition(user: Any) -> Any:
    """SQL: an appeal is one `user` may see (None: every appeal is), for a query that needs it as a
    value rather than a filter (scope_appeals filters by it)."""
    kind, params = appeal_scope(user)
    return _appeal_scope_sql(kind, params.__getitem__)


def appeal_scope(user: Any) -> tuple[str, dict[str, Any]]:
    """The kind of `user`'s appeal scope and the values of bound_appeal_scope(kind)'s parameters."""
    if user.role == "central":
        return "all", {}
    if user.role in REGION_WIDE and user.region_id is not None:
        return "region", {"scope_region_id": user.region_id}
    if user.role == "clerk":
        return "offices", {"scope_office_ids": sorted(user.office_ids) or [-1]}
    if user.role == "host":
        return "host", {"scope_user_id": user.id}
    return "none", {}


@functools.cache
def bound_appeal_scope(kind: str) -> Any:
    """appeal_scope_condition of a `kind` of scope with bound parameters (named as appeal_scope names them),
    for statements built once per process and kind."""
    import sqlalchemy as sa

    return _appeal_scope_sql(kind, lambda name: sa.bindparam(name, expanding=name == "scope_office_ids"))


def _appeal_scope_sql(kind: str, value: Callable[[str], Any]) -> Any:
    # The one rule of who sees which appeals, with the user's values given by `value`.
    import sqlalchemy as sa

    from appeals.register.models import Appeal
    from appeals.schedules.models import Host

    if kind == "all":
        return None
    if kind == "region":
        return Appeal.office_id.in_(sa_select_office_ids(value("scope_region_id")))
    if kind == "offices":
        return Appeal.office_id.in_(value("scope_office_ids"))
    if kind == "host":
        return Appeal.host_id.in_(sa.select(Host.id).where(Host.user_id == value("scope_user_id")))
    return sa.false()


def appeals_scoped_by_office(user: Any) -> bool:
    """Whether scope_appeals narrows `user`'s appeals by office (or not at all), rather than by the
    host they receive as (or to nothing): what a search's plan may count on (register.queries)."""
    return user.role == "central" or user.role in REGION_WIDE or user.role == "clerk"


# --- Personal data: the one policy -------------------------------------------------------------
#
# Three modes (README, "Roles"):
# - full: the clerks of the appeal's office register and answer it and see everything;
# - on_request: coordinators see the applicant's name, everything else masked, until they ask to see
#   the rest of one appeal ("revealed"), which the register audits;
# - masked: everyone else (viewers, hosts, other offices' clerks): the name reduced to the surname and
#   initials (hosts, who received the citizen in person, see the name), IIN, phone and address masked,
#   IIN-, phone- and e-mail-like text hidden in free text, and no search by personal data or free text.
# Every door asks here: pages, API, PDFs, exports, search, the history timeline.

PERSONAL_FULL = "full"
PERSONAL_ON_REQUEST = "on_request"
PERSONAL_MASKED = "masked"


@dataclass(frozen=True)
class PersonalView:
    """The applicant's details and the appeal's free text as one user may read them."""

    name: str
    iin: str
    phone: str
    address: str
    masked: bool
    can_reveal: bool
    _hide: tuple = ()

    def text(self, value: str | None) -> str:
        """A free-text field (the letter, the answer, the summary) with personal data hidden if masked."""
        return (value or "") if not self.masked else redact_personal(value, self._hide)


def personal_data_mode(user: Any, appeal: Any = None) -> str:
    """'full', 'on_request' or 'masked' for `user` (and `appeal`: clerks see their own offices' in full)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return PERSONAL_MASKED
    if user.role == "clerk" and (appeal is None or can(user, "appeal.view_personal", appeal)):
        return PERSONAL_FULL
    if user.role == "coordinator" and (appeal is None or _appeal_writable(user, appeal)):
        return PERSONAL_ON_REQUEST
    return PERSONAL_MASKED


def may_reveal_personal(user: Any, appeal: Any) -> bool:
    return personal_data_mode(user, appeal) == PERSONAL_ON_REQUEST and bool(appeal.iin or appeal.phone or appeal.address)


def may_search_personal(user: Any) -> bool:
    """IIN, phone, name and free-text search: only for roles that may see personal data."""
    return can(user, "appeal.view_personal")


def _sees_name(user: Any) -> bool:
    return user is not None and getattr(user, "role", None) in ("coordinator", "host")


def _address_parts(address: str | None) -> tuple[str, ...]:
    # A letter quotes the address in pieces ("Абай көшесі 12", "пәтер 7"): hide each piece.
    address = address or ""
    return (address, *(part for part in re.split(r"[,;\n]", address) if len(part.strip()) >= 4))


def personal_view(appeal: Any, user: Any, revealed: bool = False, mode: str | None = None, *,
                  offer_reveal: bool = True) -> PersonalView:
    """What `user` reads of the applicant. `revealed` only counts for a coordinator's audited reveal
    (register.personal_data.reveal_personal_data writes that audit record); this function writes nothing.
    `offer_reveal=False` (lists, which never reveal) skips working out whether the page may offer it."""
    mode = mode or personal_data_mode(user, appeal)
    if mode == PERSONAL_FULL and appeal.office_id is not None and not can(user, "appeal.view_personal", appeal):
        mode = PERSONAL_MASKED  # a list-wide 'full' never covers another office's appeal
    if mode == PERSONAL_FULL or (mode == PERSONAL_ON_REQUEST and revealed):
        return PersonalView(appeal.applicant_name or "", appeal.iin or "", appeal.phone or "", appeal.address or "",
                            masked=False, can_reveal=False)
    full_name = appeal.applicant_name or ""
    name = full_name if _sees_name(user) else mask_name(full_name)
    # Free text is usually signed with the applicant's name and address: hide the parts not shown.
    hidden_name_parts = () if _sees_name(user) else tuple(full_name.split()[1:])
    return PersonalView(
        name, mask_iin(appeal.iin), mask_phone(appeal.phone), mask_address(appeal.address),
        masked=True, can_reveal=offer_reveal and mode == PERSONAL_ON_REQUEST and may_reveal_personal(user, appeal),
        _hide=(appeal.iin or "", appeal.phone or "", *_address_parts(appeal.address), *hidden_name_parts),
    )


def personal_row(appeal: Any, user: Any, mode: str | None = None) -> tuple[str, str, str]:
    """Name, IIN and phone for a list, export or PDF row (lists never reveal: coordinators get them masked)."""
    view = personal_view(appeal, user, mode=mode, offer_reveal=False)
    return view.name, view.iin, view.phone


def contacts_view(appeal: Any, user: Any) -> PersonalView:
    """The internal mandate list with contact details: coordinators call the applicants, so they get
    the name and phone in full (the report audits every print); anyone else what personal_view gives."""
    return personal_view(appeal, user, revealed=can(user, "mandate.view_internal", appeal))


def mandate_text(user: Any, mandate: Any, value: str | None) -> str:
    """A mandate's title or description, which start as copies of its appeal's summary and letter:
    in full for coordinators and the mandate's office's clerks, IIN-, phone- and e-mail-like text
    hidden for everyone else."""
    if can(user, "mandate.view_internal", mandate):
        return value or ""
    if getattr(user, "role", None) == "clerk" and mandate.office_id in user.office_ids:
        return value or ""
    hide = [term for link in mandate.active_links for term in personal_view(link.appeal, user)._hide]
    return redact_personal(value, hide)


# --- Scopes the domains ask for (they compare no role themselves) -----------------------------------

def own_offices_only(user: Any) -> set[int] | None:
    """The offices to which lists and forms that offer offices are narrowed: a clerk's own, a
    coordinator's or viewer's region's; None (every office) for the central office's level."""
    if user.role == "clerk":
        return set(user.office_ids)
    if user.role in REGION_WIDE:
        return region_office_ids(user.region_id)
    return None


def own_region_ids(user: Any) -> set[int] | None:
    """The regions of own_offices_only(user): the districts and settlements that lists offer as filters
    are those of the user's region(s); None (every region) for the central office's level."""
    offices = own_offices_only(user)
    if offices is None:
        return None
    import sqlalchemy as sa

    from appeals.core.extensions import db
    from appeals.reference.models import Office

    return set(db.session.scalars(sa.select(Office.region_id).where(Office.id.in_(offices or [-1]))))


def works_at_offices(user: Any) -> bool:
    """Whether the account registers appeals at offices of its own (a clerk), not for a whole region."""
    return user.role == "clerk"


def schedule_home_scope(user: Any) -> str | None:
    """Which receptions the start page shows: "own" (a host's), "offices" (a clerk's offices today),
    "region" (a coordinator's: today's everywhere, and the drafts awaiting approval), or None."""
    return {"host": "own", "clerk": "offices", "coordinator": "region"}.get(user.role)


def users_who_may(action: str) -> sa.Select:
    """A select() of the active accounts whose role may perform `action` (object rules aside)."""
    import sqlalchemy as sa

    from appeals.auth.models import User

    return sa.select(User).where(User.role.in_(sorted(ACTIONS[action])), User.is_active_account.is_(True))


def scope_mandates(query: sa.Select, user: Any) -> sa.Select:
    """Narrow a select() of Mandate to what `user` may see (the same answer as can('mandate.view'))."""
    import sqlalchemy as sa

    from appeals.mandates.models import Mandate, MandateAppeal
    from appeals.register.models import Appeal
    from appeals.schedules.models import Host

    responsible = Mandate.responsible_user_id == user.id
    if can(user, "mandate.view_received"):
        received = sa.select(MandateAppeal.mandate_id).join(Appeal, Appeal.id == MandateAppeal.appeal_id).where(
            MandateAppeal.removed_at.is_(None),
            Appeal.host_id.in_(sa.select(Host.id).where(Host.user_id == user.id)),
        )
        return query.where(sa.or_(Mandate.id.in_(received), responsible))
    if user.role in NATIONAL:
        return query
    if user.role in REGION_WIDE:
        return query.where(sa.or_(_office_condition(Mandate.office_id, user), responsible))
    return query.where(sa.or_(Mandate.office_id.in_(user.office_ids or {-1}), responsible))
