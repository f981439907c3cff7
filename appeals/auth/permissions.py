"""The one place that answers "may this user do this (to this object)?".

Views, the API, PDF documents and the CLI all ask `can()` or use `require()`; query helpers
here narrow lists to what a role may see, so a list and a direct URL give the same answer.
"""
from __future__ import annotations

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

REGION_WIDE = ("coordinator", "viewer")

# action -> roles that may perform it at all; object-level rules follow in _OBJECT_RULES.
ACTIONS = {
    "admin.users": {"admin"},
    "admin.reference": {"admin"},
    "admin.audit": {"admin"},
    "admin.notices": {"admin"},
    # Who gets the office's overdue appeals and mandates each morning (appeals/notifications/duties.py).
    "notice.escalations": {"coordinator"},
    "notice.inbox": {"admin", "coordinator", "clerk", "host", "viewer"},
    "schedule.view": {"admin", "coordinator", "clerk", "host", "viewer"},
    "schedule.edit": {"admin", "coordinator", "clerk"},
    "schedule.approve": {"coordinator"},
    "schedule.mark_held": {"coordinator", "clerk", "host"},
    "schedule.own": {"host"},
    "host.manage": {"admin", "coordinator"},
    # Citizens' bookings of a session: the day's list, opening slots, arrived / no-show (object: the session's office).
    "booking.view": {"coordinator", "clerk"},
    "booking.manage": {"coordinator", "clerk"},
    "appeal.view": {"coordinator", "clerk", "host", "viewer"},
    "appeal.create": {"coordinator", "clerk"},
    "appeal.edit": {"coordinator", "clerk"},
    "appeal.correct_office": {"coordinator"},
    "appeal.transition": {"coordinator", "clerk"},
    "appeal.extend": {"coordinator", "clerk"},
    # Stop and restart the answer clock while the office waits for the applicant.
    "appeal.suspend": {"coordinator", "clerk"},
    # The table of answer terms per appeal type.
    "admin.deadlines": {"admin"},
    "appeal.view_personal": {"coordinator", "clerk"},
    "appeal.export": {"coordinator", "clerk"},
    # Scans and photos of an appeal or its answer carry everything personal: only the roles that may
    # see the applicant's data open them (each opening audited); masked roles do not even see the list.
    "appeal.attachments.view": {"coordinator", "clerk"},
    "appeal.attachments.add": {"coordinator", "clerk"},
    "appeal.attachments.remove": {"coordinator", "clerk"},
    "appeal.import": {"coordinator", "clerk"},
    "directive.view": {"admin", "coordinator", "viewer"},
    "directive.manage": {"admin", "coordinator"},
    "mandate.view": {"admin", "coordinator", "clerk", "host", "viewer"},
    "mandate.flag": {"coordinator"},
    # Register mandates with an earlier date (a paper register typed in later), within the directive's validity.
    "mandate.register_backdated": {"coordinator"},
    "mandate.edit": {"coordinator"},
    "mandate.view_internal": {"coordinator"},
    # Approve a mandate's public text for the public pages (appeals/mandates/publication.py).
    "mandate.publish": {"coordinator"},
    # Post a progress update: a coordinator, or the mandate's responsible person of any role (object rule).
    "mandate.progress": {"admin", "coordinator", "clerk", "host", "viewer"},
    "stats.view": {"admin", "coordinator", "viewer"},
    "report.journal": {"coordinator", "clerk", "viewer"},
    "api.use": {"admin", "coordinator", "clerk", "host", "viewer"},
    # May be named responsible for an appeal (of an office: object rule).
    "appeal.responsible": {"coordinator", "clerk"},
    # Filter the register by host (a host sees only the appeals they received anyway).
    "appeal.filter_by_host": {"coordinator", "clerk", "viewer"},
    # Plan sessions at an office (object rule: a clerk only at their own offices).
    "schedule.plan": {"admin", "coordinator", "clerk"},
    # Sees only the mandates formed from appeals they received themselves.
    "mandate.view_received": {"host"},
    # A background job (an import, a document): object rule, its owner only.
    "job.view": {"admin", "coordinator", "clerk", "host", "viewer"},
}


def _office_ok(user: Any, office_id: int | None) -> bool:
    if user.role in REGION_WIDE:
        return True
    return office_id in user.office_ids


def _appeal_visible(user: Any, appeal: Any) -> bool:
    if user.role in REGION_WIDE:
        return True
    if user.role == "clerk":
        return appeal.office_id in user.office_ids
    if user.role == "host":
        return appeal.host is not None and appeal.host.user_id == user.id
    return False


def _appeal_writable(user: Any, appeal: Any) -> bool:
    if user.role == "coordinator":
        return True
    return user.role == "clerk" and appeal.office_id in user.office_ids


def _session_editable(user: Any, session: Any) -> bool:
    # Approved sessions change only by a coordinator; clerks prepare drafts for their office.
    if user.role in ("coordinator", "admin"):
        return user.role == "coordinator" or session.status == "draft"
    return user.role == "clerk" and session.status == "draft" and session.office_id in user.office_ids


def _session_mark_held(user: Any, session: Any) -> bool:
    if user.role == "coordinator":
        return True
    if user.role == "clerk":
        return session.office_id in user.office_ids
    if user.role == "host":
        return any(host.user_id == user.id for host in session.hosts)
    return False


def _is_responsible(user: Any, mandate: Any) -> bool:
    return mandate.responsible_user_id is not None and mandate.responsible_user_id == user.id


def _mandate_visible(user: Any, mandate: Any) -> bool:
    if user.role in REGION_WIDE or user.role == "admin" or _is_responsible(user, mandate):
        return True
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
    "mandate.progress": lambda user, mandate: (
        mandate.status != "withdrawn" and (user.role == "coordinator" or _is_responsible(user, mandate))),
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


def visible_office_ids(user: Any) -> set[int] | None:
    """None means the whole region; otherwise the set of office ids the user works for."""
    if user.role in REGION_WIDE or user.role == "admin":
        return None
    return user.office_ids


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
    if user.role in ("admin", "coordinator"):
        return query
    if user.role == "clerk":
        return query.where(sa.or_(
            ReceptionSession.status != "draft", ReceptionSession.office_id.in_(user.office_ids or {-1})))
    if user.role == "host":
        own = sa.select(session_hosts.c.session_id).join(Host, Host.id == session_hosts.c.host_id).where(
            Host.user_id == user.id)
        return query.where(sa.or_(ReceptionSession.status != "draft", ReceptionSession.id.in_(own)))
    if user.role == "viewer":
        return query.where(ReceptionSession.status != "draft")
    return query.where(sa.false())


def scope_appeals(query: sa.Select, user: Any) -> sa.Select:
    """Narrow a select() of Appeal to what `user` may see."""
    import sqlalchemy as sa

    from appeals.register.models import Appeal
    from appeals.schedules.models import Host

    if user.role in REGION_WIDE:
        return query
    if user.role == "clerk":
        return query.where(Appeal.office_id.in_(user.office_ids or {-1}))
    if user.role == "host":
        return query.where(Appeal.host_id.in_(sa.select(Host.id).where(Host.user_id == user.id)))
    return query.where(sa.false())


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
    if user.role == "coordinator":
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


def personal_view(appeal: Any, user: Any, revealed: bool = False, mode: str | None = None) -> PersonalView:
    """What `user` reads of the applicant. `revealed` only counts for a coordinator's audited reveal
    (register.personal_data.reveal_personal_data writes that audit record); this function writes nothing."""
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
        masked=True, can_reveal=mode == PERSONAL_ON_REQUEST and may_reveal_personal(user, appeal),
        _hide=(appeal.iin or "", appeal.phone or "", *_address_parts(appeal.address), *hidden_name_parts),
    )


def personal_row(appeal: Any, user: Any, mode: str | None = None) -> tuple[str, str, str]:
    """Name, IIN and phone for a list, export or PDF row (lists never reveal: coordinators get them masked)."""
    view = personal_view(appeal, user, mode=mode)
    return view.name, view.iin, view.phone


def contacts_view(appeal: Any, user: Any) -> PersonalView:
    """The internal mandate list with contact details: coordinators call the applicants, so they get
    the name and phone in full (the report audits every print); anyone else what personal_view gives."""
    return personal_view(appeal, user, revealed=can(user, "mandate.view_internal"))


def mandate_text(user: Any, mandate: Any, value: str | None) -> str:
    """A mandate's title or description, which start as copies of its appeal's summary and letter:
    in full for coordinators and the mandate's office's clerks, IIN-, phone- and e-mail-like text
    hidden for everyone else."""
    if can(user, "mandate.view_internal"):
        return value or ""
    if getattr(user, "role", None) == "clerk" and mandate.office_id in user.office_ids:
        return value or ""
    hide = [term for link in mandate.active_links for term in personal_view(link.appeal, user)._hide]
    return redact_personal(value, hide)


# --- Scopes the domains ask for (they compare no role themselves) -----------------------------------

def own_offices_only(user: Any) -> set[int] | None:
    """The offices a clerk works at, to which lists and forms that offer offices are narrowed;
    None (every office) for the other roles."""
    return set(user.office_ids) if user.role == "clerk" else None


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
    offices = visible_office_ids(user)
    if offices is None:
        return query
    return query.where(sa.or_(Mandate.office_id.in_(offices or {-1}), responsible))
