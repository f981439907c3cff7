"""Answer letters: the staff's download and the appeal page's box; the admin's templates with a preview."""
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from appeals.auth.permissions import can, permission_required, require
from appeals.core import hooks
from appeals.core.errors import DomainError
from appeals.core.extensions import db
from appeals.register.models import ANSWERED_STATUSES, APPEAL_TYPES, Appeal
from appeals.reports import letters

bp = Blueprint("letters", __name__)


def _pdf(data: bytes, name: str, inline: bool = True) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/appeals/<int:appeal_id>/letter.pdf")
def appeal_letter(appeal_id):
    """The answer letter names the applicant and their address: those who see personal data only."""
    appeal = db.session.get(Appeal, appeal_id) or abort(404)
    require("appeal.view_personal", appeal)
    found = letters.letter_pdf(appeal)
    if found is None:
        abort(404)
    return _pdf(*found)


@bp.route("/track/<token>/letter.pdf")
def track_letter(token):
    """The applicant's own answer letter, for whoever holds the appeal's tracking link (as its files)."""
    from appeals.register import online

    appeal = online.appeal_from_link(token)
    if appeal is None or appeal.status not in ANSWERED_STATUSES:
        abort(404)
    found = letters.letter_pdf(appeal)
    if found is None:
        abort(404)
    response = _pdf(*found, inline=False)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@hooks.track_page_blocks.connect
def _track_letter_block(appeal, token=None, **_kwargs):
    if appeal.status not in ANSWERED_STATUSES or letters.latest_letter(appeal) is None:
        return None
    return hooks.Block("citizen/_answer_letter.html", {"url": url_for("letters.track_letter", token=token)}, order=10)


@hooks.appeal_page_blocks.connect
def _letter_block(appeal, user=None, **_kwargs):
    letter = letters.latest_letter(appeal)
    if letter is None:
        return None
    return hooks.Block("reports/_letter_block.html",
                       {"letter": letter, "appeal": appeal,
                        "may_open": can(user, "appeal.view_personal", appeal)}, order=20)


@bp.route("/admin/letters", methods=["GET", "POST"])
@permission_required("admin.letters")
def templates():
    kind = request.values.get("appeal_type") or APPEAL_TYPES[0]
    locale = request.values.get("locale") or "kk"
    if kind not in APPEAL_TYPES or locale not in letters.LOCALES:
        abort(404)
    opening, closing, own = letters.template_texts(kind, locale)
    errors: dict = {}
    if request.method == "POST":
        opening, closing = request.form.get("opening", ""), request.form.get("closing", "")
        try:
            if request.form.get("action") == "preview":
                return _pdf(letters.preview_pdf(kind, locale, opening, closing), f"preview-{kind}-{locale}.pdf")
            letters.save_template(kind, locale, opening, closing, current_user)
        except DomainError as exc:
            errors = exc.errors or {"opening": [exc.message]}
        else:
            flash(_("The letter template is saved."), "success")
            return redirect(url_for("letters.templates", appeal_type=kind, locale=locale))
    return render_template("admin/letters.html", kind=kind, locale=locale, opening=opening, closing=closing, own=own,
                           errors=errors, placeholders=letters.PLACEHOLDERS, types=APPEAL_TYPES,
                           locales=letters.LOCALES), 400 if errors else 200
