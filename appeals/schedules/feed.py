"""A host's reception sessions as an iCalendar (RFC 5545) feed for Google, Outlook or Apple calendars."""
import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy.orm import selectinload

from appeals.core.extensions import db
from appeals.core.timeutil import local_today
from appeals.schedules.models import ReceptionSession, session_hosts

# Subscribers keep a little history so a past reception does not vanish from their calendar at once.
FEED_HISTORY_DAYS = 60
ICAL_STATUS = {"approved": "CONFIRMED", "held": "CONFIRMED", "cancelled": "CANCELLED"}


def feed_sessions(host):
    """Sessions a host should see in their calendar: approved, held and cancelled ones (never drafts)."""
    since = local_today() - dt.timedelta(days=FEED_HISTORY_DAYS)
    query = (
        sa.select(ReceptionSession)
        .options(selectinload(ReceptionSession.office), selectinload(ReceptionSession.hosts))
        .where(
            ReceptionSession.id.in_(sa.select(session_hosts.c.session_id).where(session_hosts.c.host_id == host.id)),
            ReceptionSession.status.in_(tuple(ICAL_STATUS)),
            ReceptionSession.date >= since,
        )
        .order_by(ReceptionSession.date, ReceptionSession.start_time)
    )
    return db.session.scalars(query).all()


def _location(session):
    office = session.office
    parts = [office.name, office.address]
    if session.room:
        parts.append(_("room %(room)s", room=session.room))
    return ", ".join(part for part in parts if part)


def build_feed(host):
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    calendar = Calendar()
    calendar.add("prodid", "-//Qabyldau//Reception schedule//KK")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", _("Receptions: %(name)s", name=host.full_name))
    calendar.add("x-wr-timezone", zone.key)
    # Clients poll subscriptions on their own schedule; this is a hint to refresh hourly.
    calendar.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    host_domain = request.host.split(":")[0] if has_request_context() else "qabyldau"
    for session in feed_sessions(host):
        event = Event()
        event.add("uid", f"session-{session.id}@{host_domain}")
        event.add("dtstamp", session.updated_at.replace(tzinfo=dt.timezone.utc))
        event.add("last-modified", session.updated_at.replace(tzinfo=dt.timezone.utc))
        event.add("dtstart", session.starts_at.replace(tzinfo=zone))
        event.add("dtend", session.ends_at.replace(tzinfo=zone))
        event.add("summary", _("Citizens' reception: %(office)s", office=session.office.code))
        event.add("location", _location(session))
        description = []
        if session.topic:
            description.append(session.topic)
        others = [h.full_name for h in session.hosts if h.id != host.id]
        if others:
            description.append(_("Together with: %(names)s", names=", ".join(others)))
        if session.status == "cancelled" and session.cancel_reason:
            description.append(_("Cancelled: %(reason)s", reason=session.cancel_reason))
        if description:
            event.add("description", "\n".join(description))
        event.add("status", ICAL_STATUS[session.status])
        calendar.add_component(event)
    # Writes a VTIMEZONE for Asia/Almaty so clients without the tz database place events correctly.
    calendar.add_missing_timezones()
    return calendar.to_ical()
