from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from appeals.auth.models import ROLES
from appeals.core.forms import Form
from appeals.core.labels import ROLE_LABELS


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)], render_kw={"autofocus": True, "autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Log in"))


def _role_choices():
    # No default: an empty first option, so a new account's role is always a deliberate choice.
    return [SelectChoice("", "—")] + [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]


class UserForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("Role"), choices=_role_choices, validators=[DataRequired(message=_l("Choose a role."))])
    offices = SelectMultipleField(_l("Offices"), choices=[], validate_choice=False)
    region_code = SelectField(_l("Region"), choices=[], validate_choice=False)
    main_office = SelectField(_l("Main office"), choices=[], validate_choice=False)
    locale = SelectField(_l("Language"), choices=[
        SelectChoice("", "—"), SelectChoice("kk", "Қазақша"), SelectChoice("ru", "Русский"), SelectChoice("en", "English"),
    ])
    is_active = BooleanField(_l("Active"), default=True)
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=200)], render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("Save"))


class PasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"})
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"), validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))])
    submit = SubmitField(_l("Change password"))


class TotpForm(Form):
    code = StringField(_l("One-time code"), validators=[DataRequired(), Length(max=40)],
                       render_kw={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false",
                                  "autocapitalize": "off"})
    submit = SubmitField(_l("Confirm"))
