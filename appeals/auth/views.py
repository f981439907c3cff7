from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from appeals.auth import services, sessions, throttle
from appeals.auth.forms import LoginForm, PasswordForm
from appeals.core.web import safe_redirect_target

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data, request.remote_addr,
                                         request.cookies.get(throttle.DEVICE_COOKIE))
        except services.LoginThrottled as locked:
            if locked.seconds < 60:
                error = _("Too many failed attempts. Try again in %(seconds)d s.", seconds=locked.seconds)
            else:
                minutes = max(1, (locked.seconds + 59) // 60)
                error = _("Too many failed attempts. Try again in %(minutes)d min.", minutes=minutes)
            status = 429
        else:
            if user is None:
                error = _("Wrong username or password.")
            else:
                locale = session.get("locale")
                # A fresh session on login: nothing planted before authentication survives it.
                session.clear()
                if locale:
                    session["locale"] = locale
                login_user(user)
                session.permanent = True
                sessions.start_session(user)
                response = redirect(safe_redirect_target(request.args.get("next")) or url_for("home.index"))
                _set_device_cookie(response, user)
                return response
    return render_template("auth/login.html", form=form, error=error), status


def _set_device_cookie(response, user):
    """This browser has now proven it knows the password: others' failures will not lock it out."""
    config = current_app.config
    response.set_cookie(
        throttle.DEVICE_COOKIE, throttle.issue_device_cookie(user.username),
        max_age=config["LOGIN_DEVICE_COOKIE_DAYS"] * 86400, path=url_for("auth.login"),
        secure=config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax",
    )


@bp.route("/logout", methods=["POST"])
def logout():
    sessions.end_current_session()
    logout_user()
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/language/<code>", methods=["POST"])
def set_language(code):
    if code in current_app.config["LANGUAGES"]:
        session["locale"] = code
        if current_user.is_authenticated:
            services.set_locale(current_user, code)
    return redirect(safe_redirect_target(request.form.get("next")) or url_for("home.index"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.change_own_password(current_user, form.current_password.data, form.password.data)
        except services.LoginThrottled as locked:
            minutes = max(1, (locked.seconds + 59) // 60)
            form.current_password.errors.append(
                _("Too many wrong passwords. Try again in %(minutes)d min.", minutes=minutes))
            status = 429
        except services.AccountError as exc:
            getattr(form, exc.field if exc.field in ("current_password", "password") else "password").errors.append(exc.message)
        else:
            # Every session of the account ended with the change, this one included: go on in a new one.
            login_user(user)
            sessions.start_session(user)
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("home.index"))
    return render_template("auth/password.html", form=form), status
