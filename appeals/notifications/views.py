"""The bell, the inbox and channel preferences of staff; the admins' log of notices sent (thin)."""
import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from appeals.auth.models import User
from appeals.auth.permissions import can, permission_required
from appeals.core.outbox import Notice, render_notice, unread_count
from appeals.core.pagination import paginate
from appeals.core.privacy import mask_phone
from appeals.notifications import services

bp = Blueprint("notifications", __name__)


@bp.app_template_filter("isodate")
def isodate(value):
    """A notice's date param (ISO text) as the register writes dates."""
    from datetime import date

    from appeals.core.i18n import fmt_date

    return fmt_date(date.fromisoformat(value), "short") if value else ""


@bp.app_context_processor
def bell():
    """The unread count of the bell in the top bar (one indexed count per page)."""
    if not can(current_user, "notice.inbox"):
        return {}
    return {"notices_unread": unread_count(current_user.id)}


@bp.route("/notifications", methods=["GET", "POST"])
@permission_required("notice.inbox")
def inbox():
    if request.method == "POST":
        if request.form.get("action") == "read":
            services.mark_read(current_user)
            flash(_("All notifications are marked as read."), "success")
        else:
            try:
                services.save_preferences(current_user, request.form)
            except services.PreferenceError as exc:
                flash(exc.message, "error")
                return render_template("notifications/inbox.html", page=_page(), prefs=request.form,
                                       errors={exc.field: exc.message}), 400
            flash(_("Your notification settings are saved."), "success")
        return redirect(url_for("notifications.inbox"))
    return render_template("notifications/inbox.html", page=_page(), prefs=services.preferences(current_user),
                           errors={})


def _page():
    query = (sa.select(Notice).where(Notice.user_id == current_user.id, Notice.channel == "inapp")
             .order_by(Notice.id.desc()))
    page = paginate(query, request.args, 30)
    # Shown in the language of the page being read.
    locale = str(get_locale())
    page.rendered = [(notice, render_notice(notice.template, notice.params or {}, locale)) for notice in page.items]
    return page


@bp.route("/admin/notices")
@permission_required("admin.notices")
def log():
    """Who was sent what, when, through which channel and with what result; never the content."""
    query = (sa.select(Notice.id, Notice.channel, Notice.template, Notice.status, Notice.attempts, Notice.created_at,
                       Notice.sent_at, Notice.result, User.username, Notice.address)
             .outerjoin(User, User.id == Notice.user_id).order_by(Notice.id.desc()))
    status = request.args.get("status") or ""
    if status:
        query = query.where(Notice.status == status)
    page = paginate(query, request.args, 50, scalars=False)
    # A citizen's notice shows its address masked (the log is the admins', not the register's).
    return render_template("notifications/log.html", page=page, status=status, mask_phone=mask_phone)
