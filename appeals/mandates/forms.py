from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from appeals.core.forms import Form
from appeals.core.labels import APPEAL_TYPE_LABELS, MANDATE_STATUS_LABELS
from appeals.mandates.models import NUMBERING_SCOPES
from appeals.register.models import APPEAL_TYPES

NUMBERING_LABELS = {
    "directive": _l("Per directive (e.g. A-12-0001)"),
    "year": _l("Per year and prefix (e.g. A-2026-0001)"),
}


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class DirectiveForm(Form):
    issuer = StringField(_l("Issuing body"), validators=[Optional(), Length(max=300)])
    number = StringField(_l("Number"), validators=[DataRequired(), Length(max=50)])
    issued_on = DateField(_l("Date"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=500)])
    text = TextAreaField(_l("Text"), validators=[Optional(), Length(max=20000)])
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    valid_to = DateField(_l("Valid to"), validators=[Optional()])
    numbering = SelectField(_l("Mandate numbering"), choices=[SelectChoice(s, NUMBERING_LABELS[s]) for s in NUMBERING_SCOPES])
    number_prefix = StringField(_l("Number prefix"), default="A", validators=[Optional(), Length(max=20)])
    appeal_types = CheckboxListField(_l("Appeal types"), choices=[SelectChoice(t, APPEAL_TYPE_LABELS[t]) for t in APPEAL_TYPES])
    category_ids = SelectMultipleField(_l("Categories"), coerce=int, choices=[], validate_choice=False)
    district_ids = SelectMultipleField(_l("Districts"), coerce=int, choices=[], validate_choice=False)
    settlement_ids = SelectMultipleField(_l("Settlements"), coerce=int, choices=[], validate_choice=False)
    keywords = TextAreaField(_l("Keywords"), validators=[Optional(), Length(max=1000)])
    min_signatories = IntegerField(_l("Minimum number of signatories"), validators=[Optional()])
    received_from = DateField(_l("Received from"), validators=[Optional()])
    received_to = DateField(_l("Received to"), validators=[Optional()])
    target_count = IntegerField(_l("Target number of mandates"), validators=[Optional()])
    submit = SubmitField(_l("Save"))


class MandateForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=500)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    settlement_id = SelectField(_l("Settlement"), coerce=str, choices=[], validate_choice=False)
    responsible = StringField(_l("Responsible body"), validators=[Optional(), Length(max=300)])
    responsible_user_id = SelectField(_l("Responsible person"), coerce=str, choices=[], validate_choice=False)
    target_date = DateField(_l("Target date"), validators=[Optional()])
    status = SelectField(_l("Status"), choices=[])
    progress_percent = IntegerField(_l("Progress, %"), validators=[Optional(), NumberRange(0, 100)])
    submit = SubmitField(_l("Save"))

    def set_status_choices(self, current, allowed):
        self.status.choices = [SelectChoice(s, MANDATE_STATUS_LABELS[s]) for s in [current, *sorted(allowed)]]


class PublicTextForm(Form):
    public_title = StringField(_l("Public title"), validators=[DataRequired(), Length(max=500)])
    public_description = TextAreaField(_l("Public description"), validators=[Optional(), Length(max=5000)])
    save = SubmitField(_l("Save draft"))
    publish = SubmitField(_l("Approve and publish"))


class ProgressForm(Form):
    noted_on = DateField(_l("Date"), validators=[DataRequired()])
    note = TextAreaField(_l("What was done"), validators=[DataRequired(), Length(max=5000)])
    percent = IntegerField(_l("Progress, %"), validators=[Optional(), NumberRange(0, 100)])
    status = SelectField(_l("Status"), choices=[], validate_choice=False)
    photos = MultipleFileField(_l("Photos"), render_kw={"accept": "image/jpeg,image/png,image/webp"})
    submit = SubmitField(_l("Add update"))

    def set_status_choices(self, current, allowed):
        self.status.choices = [SelectChoice("", _l("Unchanged"))] + [
            SelectChoice(s, MANDATE_STATUS_LABELS[s]) for s in sorted(allowed)]


class UnflagForm(Form):
    link_id = HiddenField(validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=1000)])
    submit = SubmitField(_l("Remove from mandate"))
