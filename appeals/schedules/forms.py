"""Forms of the schedule pages. They only parse input; the rules live in services.py.

Field names match the keys the services expect, so a ScheduleError's `field` lands on its input.
"""
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from appeals.core.forms import Form
from appeals.core.labels import HOST_KIND_LABELS

WEEKDAY_CHOICES = [
    SelectChoice(0, _l("Monday")), SelectChoice(1, _l("Tuesday")), SelectChoice(2, _l("Wednesday")),
    SelectChoice(3, _l("Thursday")), SelectChoice(4, _l("Friday")), SelectChoice(5, _l("Saturday")),
    SelectChoice(6, _l("Sunday")),
]


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class SessionForm(Form):
    office_id = SelectField(_l("Office"), coerce=_optional_int, validators=[InputRequired()])
    host_ids = SelectMultipleField(_l("Hosts"), coerce=int, validators=[DataRequired(message=_l("Choose at least one host."))])
    date = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter a valid date."))])
    start_time = TimeField(_l("Start"), validators=[InputRequired(message=_l("Enter a valid time (HH:MM)."))])
    end_time = TimeField(_l("End"), validators=[InputRequired(message=_l("Enter a valid time (HH:MM)."))])
    room = StringField(_l("Room"), validators=[Optional(), Length(max=100)])
    capacity = IntegerField(_l("Capacity"), validators=[Optional(), NumberRange(min=0, max=1000)])
    topic = TextAreaField(_l("Topic or note"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Save"))

    def service_data(self):
        return {name: getattr(self, name).data for name in
                ("office_id", "host_ids", "date", "start_time", "end_time", "room", "capacity", "topic")}


class GenerateForm(SessionForm):
    date = None
    weekdays = SelectMultipleField(_l("Days of the week"), coerce=int, choices=WEEKDAY_CHOICES,
                                   validators=[DataRequired(message=_l("Choose at least one day of the week."))])
    date_from = DateField(_l("From"), validators=[InputRequired(message=_l("Enter a valid date."))])
    date_to = DateField(_l("To"), validators=[InputRequired(message=_l("Enter a valid date."))])
    skip_holidays = BooleanField(_l("Skip public holidays"), default=True)
    submit = SubmitField(_l("Generate drafts"))

    def pattern_data(self):
        return {name: getattr(self, name).data for name in (
            "office_id", "host_ids", "weekdays", "start_time", "end_time", "date_from", "date_to",
            "room", "capacity", "topic", "skip_holidays")}


class HeldForm(Form):
    visitors = IntegerField(_l("Number of visitors"), validators=[InputRequired(message=_l("Enter a whole number.")), NumberRange(min=0, max=10000)])
    submit = SubmitField(_l("Mark as held"))


class CancelForm(Form):
    reason = TextAreaField(_l("Reason for the cancellation"), validators=[DataRequired(message=_l("State the reason for the cancellation.")), Length(max=500)])
    submit = SubmitField(_l("Cancel the session"))


class HostForm(Form):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    position = StringField(_l("Position in Kazakh"), validators=[Optional(), Length(max=300)])
    position_ru = StringField(_l("Position in Russian"), validators=[Optional(), Length(max=300)])
    position_en = StringField(_l("Position in English"), validators=[Optional(), Length(max=300)])
    kind = SelectField(_l("Kind"), choices=lambda: [SelectChoice(code, label) for code, label in HOST_KIND_LABELS.items()])
    office_id = SelectField(_l("Office"), coerce=_optional_int, validators=[Optional()])
    user_id = SelectField(_l("User account"), coerce=_optional_int, validators=[Optional()])
    is_active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))

    def service_data(self):
        return {name: getattr(self, name).data for name in
                ("full_name", "position", "position_ru", "position_en", "kind", "office_id", "user_id",
                 "is_active")}


class ActionForm(Form):
    """CSRF-only form for buttons that post (approve, feed token)."""
