"""The public mandates pages (/public/mandates): no login, kk/ru/en, mobile-first.

Only published mandates and their reviewed public text (appeals/mandates/public.py); e-mail
subscriptions with double opt-in and one-click unsubscribe (appeals/mandates/subscriptions.py).
"""
from datetime import datetime, timezone

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from appeals.core import parsing, storage
from appeals.core.extensions import csrf, db
from appeals.core.i18n import current_language
from appeals.core.pagination import paginate
from appeals.core.web import external_url, safe_redirect_target
from appeals.mandates import public, subscriptions
from appeals.reference.models import Settlement

bp = Blueprint("public_mandates", __name__, url_prefix="/public/mandates")


@bp.after_request
def _cacheable(response):
    # Public pages hold nothing personal; a short shared cache spares the database at busy hours.
    if request.method == "GET" and response.status_code == 200 and request.endpoint != "public_mandates.unsubscribe":
        response.headers.setdefault("Cache-Control", "public, max-age=60")
    return response


def _filters():
    errors = parsing.FieldErrors()
    filters = public.parse_public_filters(request.args, errors)
    if errors:
        flash(" ".join(message for messages in errors.errors.values() for message in messages), "error")
    return filters


@bp.route("")
def index():
    filters = _filters()
    page = paginate(public.public_query(filters), request.args, 20)
    return render_template("mandates/public/list.html", page=page, filters=filters, statuses=public.PUBLIC_STATUSES,
                           feed_args={k: v for k, v in filters.items() if v and k in ("district_id", "settlement_id")},
                           **public.filter_choices())


@bp.route("/summary")
def summary():
    by = request.args.get("by") if request.args.get("by") in ("district", "settlement") else "district"
    return render_template("mandates/public/summary.html", by=by, rows=public.summary(by),
                           statuses=public.PUBLIC_STATUSES)


@bp.route("/<string:number>")
def detail(number):
    mandate = public.public_mandate(number) or abort(404)
    notes = sorted(mandate.notes, key=lambda n: (n.noted_on, n.id), reverse=True)
    return render_template("mandates/public/detail.html", mandate=mandate, notes=notes,
                           note_text=lambda note: public.public_note_text(mandate, note.note))


@bp.route("/photos/<int:photo_id>")
def photo(photo_id):
    found = public.public_photo(photo_id) or abort(404)
    data = storage.get(found.file_key) or abort(404)
    response = Response(data, mimetype=found.content_type)
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/feed")
def feed():
    """Atom feed of progress updates (all, or ?settlement_id=, ?district_id=, ?mandate=NUMBER)."""
    errors = parsing.FieldErrors()
    filters = {key: errors(parsing.parse_id, request.args.get(key), key) for key in ("settlement_id", "district_id")}
    title = _("Mandates: progress updates")
    mandate = None
    if request.args.get("mandate"):
        mandate = public.public_mandate(request.args["mandate"]) or abort(404)
        filters["mandate_id"] = mandate.id
        title = _("Mandate %(number)s: progress updates", number=mandate.number)
    if errors:
        abort(400)
    generator = FeedGenerator()
    generator.id(external_url("public_mandates.feed", **{k: v for k, v in request.args.items() if v}))
    generator.title(title)
    generator.language(current_language())
    generator.link(href=external_url("public_mandates.index"), rel="alternate")
    generator.link(href=external_url("public_mandates.feed", **{k: v for k, v in request.args.items() if v}),
                   rel="self")
    entries = public.feed_entries(filters)
    generator.updated(_aware(entries[0].created_at) if entries else datetime(2026, 1, 1, tzinfo=timezone.utc))
    for note in reversed(entries):  # feedgen prepends: oldest first gives newest on top
        item = generator.add_entry()
        link = external_url("public_mandates.detail", number=note.mandate.number)
        item.id(f"{link}#update-{note.id}")
        heading = f"{note.mandate.number}: {note.mandate.public_title}"
        if note.progress_percent is not None:
            heading += f" — {note.progress_percent}%"
        item.title(heading)
        item.link(href=f"{link}#update-{note.id}")
        item.updated(_aware(note.created_at))
        item.published(_aware(note.created_at))
        item.content(public.public_note_text(note.mandate, note.note), type="text")
    return Response(generator.atom_str(pretty=True), mimetype="application/atom+xml")


def _aware(moment):
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


# --- subscriptions ---------------------------------------------------------------------------


@bp.route("/subscribe", methods=["POST"])
def subscribe():
    mandate = settlement = None
    if request.form.get("mandate"):
        mandate = public.public_mandate(request.form["mandate"]) or abort(404)
        back = url_for("public_mandates.detail", number=mandate.number)
    else:
        settlement_id = parsing.FieldErrors()(parsing.parse_id, request.form.get("settlement_id"), "settlement_id")
        settlement = (db.session.get(Settlement, settlement_id) if settlement_id else None) or abort(404)
        back = url_for("public_mandates.index", settlement_id=settlement.id)
    back = safe_redirect_target(request.form.get("back"), back)
    try:
        subscriptions.subscribe(request.form.get("email"), current_language(), mandate=mandate, settlement=settlement)
    except subscriptions.SubscriptionError as error:
        flash(error.message, "error")
        return redirect(back + "#subscribe")
    # The same answer whether the address was subscribed already or not: the page tells nobody who follows what.
    flash(_("Almost done: we sent a confirmation link to this address. Open it to start getting the news."), "success")
    return redirect(back + "#subscribe")


@bp.route("/subscription/<token>", methods=["GET", "POST"])
def confirm(token):
    """GET shows a button, POST confirms: mail scanners that open links do not subscribe anybody."""
    if request.method == "POST":
        subscription = subscriptions.confirm(token)
        if subscription is None:
            return render_template("mandates/public/subscription.html", state="invalid"), 404
        return render_template("mandates/public/subscription.html", state="confirmed", subscription=subscription)
    return render_template("mandates/public/subscription.html", state="confirm", token=token)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail program POSTs "List-Unsubscribe=One-Click" with no form of ours
def unsubscribe(token):
    if request.method == "POST":
        done = subscriptions.unsubscribe(token)
        if request.form.get("List-Unsubscribe") == "One-Click":
            return ("", 200) if done else ("", 404)
        return render_template("mandates/public/subscription.html", state="unsubscribed" if done else "invalid"), (
            200 if done else 404)
    return render_template("mandates/public/subscription.html", state="unsubscribe", token=token)

