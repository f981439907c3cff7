"""Blocks this domain contributes to other pages (see appeals.core.hooks)."""
import datetime as dt

import sqlalchemy as sa
from flask_babel import gettext as _

from appeals.auth.permissions import schedule_home_scope, scope_sessions
from appeals.core import hooks
from appeals.core.extensions import db
from appeals.core.timeutil import local_today
from appeals.schedules import queries as schedule_queries
from appeals.schedules.models import ReceptionSession

HOST_NEXT_SESSIONS = 5


def _reception_block_context(user):
    today = local_today()
    scope = schedule_home_scope(user)
    if scope == "own":
        host = schedule_queries.host_for_user(user)
        if host is None:
            return None
        sessions = [s for s in schedule_queries.host_sessions(host, limit=HOST_NEXT_SESSIONS + 5)
                    if s.status in ("approved", "held")][:HOST_NEXT_SESSIONS]
        return {"title": _("My receptions: today and next"), "sessions": sessions, "today": today,
                "empty": _("No upcoming sessions."), "link": "schedules.my_schedule",
                "link_label": _("My schedule"), "awaiting": 0}
    if scope == "offices":
        sessions = [s for s in schedule_queries.list_sessions(
            schedule_queries.SessionFilters(date_from=today, date_to=today, statuses=["approved", "held"]), user)
            if s.office_id in user.office_ids]
        return {"title": _("Today's receptions at your offices"), "sessions": sessions, "today": today,
                "empty": _("No receptions today."), "link": "schedules.calendar",
                "link_label": _("Reception schedule"), "awaiting": 0}
    if scope == "region":
        horizon = dt.timedelta(days=60)
        awaiting = db.session.scalar(scope_sessions(sa.select(sa.func.count(ReceptionSession.id)), user).where(
            ReceptionSession.status == "draft", ReceptionSession.date >= today,
            ReceptionSession.date <= today + horizon)) or 0
        sessions = schedule_queries.list_sessions(
            schedule_queries.SessionFilters(date_from=today, date_to=today, statuses=["approved", "held"]), user)
        return {"title": _("Today's receptions"), "sessions": sessions, "today": today, "awaiting": awaiting,
                "horizon": horizon, "empty": _("No receptions today."), "link": "schedules.calendar",
                "link_label": _("Reception schedule")}
    return None


@hooks.home_blocks.connect
def reception_block(user):
    context = _reception_block_context(user)
    return None if context is None else hooks.Block("schedules/_widget.html", context, order=20)
