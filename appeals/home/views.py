"""The start page after login: what each role needs first."""
from flask import Blueprint, render_template
from flask_login import current_user, login_required

from appeals.core import hooks

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    # The domains connect their blocks in their own widgets modules (appeals.core.hooks).
    return render_template("home/index.html", blocks=hooks.collect(hooks.home_blocks, current_user._get_current_object()))
