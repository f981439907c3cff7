"""The start page after login: what each role needs first."""
from flask import Blueprint, render_template
from flask_login import current_user, login_required

from appeals.home.widgets import widgets_for

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    # Importing the domain widget modules registers their blocks.
    from appeals.mandates import widgets as _mandates  # noqa: F401
    from appeals.register import widgets as _register  # noqa: F401
    from appeals.schedules import widgets as _schedules  # noqa: F401

    return render_template("home/index.html", blocks=widgets_for(current_user))
