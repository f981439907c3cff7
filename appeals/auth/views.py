import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from appeals.auth import services, sessions, throttle, totp
from appeals.auth.forms import LoginForm, PasswordForm, TotpForm
from appeals.auth.models import User
from appeals.auth.permissions import totp_required
from appeals.core.extensions import db
from appeals.core.i18n import current_language
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
            elif user.has_totp:
                # The password was right; the session is not yet signed in until the second step.
                _fresh_session()
                session[PENDING_KEY] = {"uid": user.id, "at": int(time.time()),
                                        "next": safe_redirect_target(request.args.get("next"))}
                return redirect(url_for("auth.login_totp"))
            else:
                return _complete_login(user, safe_redirect_target(request.args.get("next")))
    return render_template("auth/login.html", form=form, error=error), status


PENDING_KEY = "totp_pending"
# The second step must follow the password within this many seconds.
PENDING_SECONDS = 300


def _fresh_session():
    locale = session.get("locale")
    # A fresh session on login: nothing planted before authentication survives it.
    session.clear()
    if locale:
        session["locale"] = locale


def _complete_login(user, next_url):
    _fresh_session()
    login_user(user)
    session.permanent = True
    sessions.start_session(user)
    response = redirect(next_url or url_for("home.index"))
    _set_device_cookie(response, user)
    return response


def _pending_user():
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or int(time.time()) - int(pending.get("at", 0)) > PENDING_SECONDS:
        return None, None
    user = db.session.get(User, pending.get("uid"))
    if user is None or not user.is_active or not user.has_totp:
        return None, None
    return user, pending.get("next")


@bp.route("/login/totp", methods=["GET", "POST"])
def login_totp():
    """The second step of a login with TOTP: a code from the authenticator, or a recovery code."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    user, next_url = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(_("Log in again: the sign-in was not finished in time."), "info")
        return redirect(url_for("auth.login"))
    form = TotpForm()
    status = 200
    if form.validate_on_submit():
        accepted, status = _checked_code(form, lambda code: totp.verify(user, code))
        if accepted:
            return _complete_login(user, next_url)
    return render_template("auth/login_totp.html", form=form), status


def _checked_code(form, check):
    """`check(code)` for the form's TOTP or recovery code, with the form's error and the status to
    answer when it fails: 429 while wrong codes are throttled, 422 for a wrong or used code."""
    try:
        result = check(form.code.data)
    except totp.TotpThrottled as locked:
        minutes = max(1, (locked.seconds + 59) // 60)
        form.code.errors.append(_("Too many wrong codes. Try again in %(minutes)d min.", minutes=minutes))
        return None, 429
    if not result:
        form.code.errors.append(_("The code is wrong or has already been used."))
        return result, 422
    return result, 200


@bp.route("/account/totp", methods=["GET", "POST"])
@login_required
def totp_setup():
    """Enrolment: scan the QR code, confirm with a first code, keep the recovery codes."""
    user = current_user._get_current_object()
    form = TotpForm()
    status, recovery_codes = 200, None
    if not user.has_totp:
        totp.begin_enrolment(user)
        db.session.refresh(user)
        if form.validate_on_submit():
            recovery_codes, status = _checked_code(form, lambda code: totp.confirm_enrolment(user, code))
            if recovery_codes:
                db.session.refresh(user)
    uri = totp.provisioning_uri(user) if not user.has_totp else None
    return render_template(
        "auth/totp_setup.html", form=form, user=user, recovery_codes=recovery_codes,
        qr=totp.qr_svg(uri) if uri else None, secret=user.totp_secret if uri else None,
        remaining=totp.remaining_recovery_codes(user) if user.has_totp else None,
        required=totp.must_enrol(user) or totp_required(user, current_app.config["REQUIRE_TOTP_ROLES"]),
    ), status


# Pages a user who must enrol may still open: enrolment itself, logout, language, static files.
_ENROLMENT_OPEN = {"auth.totp_setup", "auth.logout", "auth.set_language", "static", "auth.login", "auth.login_totp"}


@bp.before_app_request
def _require_enrolment():
    """REQUIRE_TOTP_ROLES: such a user works only after setting up two-factor authentication."""
    if request.blueprint == "api":
        return None  # the JSON API authenticates with tokens, never the cookie
    if request.endpoint in _ENROLMENT_OPEN or not current_user.is_authenticated:
        return None
    if totp.must_enrol(current_user):
        flash(_("Your role requires two-factor authentication: set it up to continue."), "info")
        return redirect(url_for("auth.totp_setup"))
    return None


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
        previous = current_language()
        session["locale"] = code
        if current_user.is_authenticated:
            services.set_locale(current_user, code)
        if previous != code and not request.form.get("undo"):
            # A stray key press must not change the account's language unnoticed: say so, with an
            # undo button (base.html renders this flash category as a small form).
            flash(previous, "language-undo")
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
