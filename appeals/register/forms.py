"""Forms of the register. They render fields and carry CSRF; the rules themselves live in services."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TelField,
    TextAreaField,
)
from wtforms.validators import Optional

from appeals.core.forms import Form
from appeals.core.i18n import LANGUAGE_NAMES
from appeals.core.labels import APPEAL_TYPE_LABELS, APPLICANT_KIND_LABELS, CHANNEL_LABELS
from appeals.register.models import SUMMARY_MAX, TEXT_MAX


class Marked:
    """Marks a field as required in the interface; the register service enforces it with its own message."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        return None


def _choices(labels):
    return [SelectChoice(code, label) for code, label in labels.items()]


class AppealForm(Form):
    office_id = SelectField(_l("Office"), choices=[], validate_choice=False, validators=[Marked()])
    # Two plain text fields in one fixed format (dd.mm.yyyy, 24-hour hh:mm) whatever the browser's
    # locale: the native date-time widget took seven Tab stops and accepted a six-digit year.
    received_date = StringField(_l("Date received"), validators=[Marked()], render_kw={
        "maxlength": 10, "inputmode": "numeric", "placeholder": _l("dd.mm.yyyy"), "autocomplete": "off",
        "pattern": r"\d{2}\.\d{2}\.\d{4}", "size": 10})
    received_time = StringField(_l("Time received"), validators=[Marked()], render_kw={
        "maxlength": 5, "inputmode": "numeric", "placeholder": _l("hh:mm"), "autocomplete": "off",
        "pattern": r"\d{1,2}:\d{2}", "size": 5})
    backdate_reason = TextAreaField(_l("Why the appeal is registered so late"), render_kw={"maxlength": 500, "rows": 2})
    channel = SelectField(_l("Channel"), choices=_choices({k: v for k, v in CHANNEL_LABELS.items() if k != "online"}), validate_choice=False, validators=[Marked()])
    session_id = SelectField(_l("Reception session"), choices=[], validate_choice=False)
    host_id = SelectField(_l("Host who received it"), choices=[], validate_choice=False)
    # Not "Applicant": that is the legend of the fieldset this field opens.
    applicant_kind = SelectField(_l("Kind of applicant"), choices=_choices(APPLICANT_KIND_LABELS), validate_choice=False)
    # Required for a person or a group (the service says so); an organisation's letter may come unsigned.
    applicant_name = StringField(_l("Full name"), validators=[Marked()], render_kw={"maxlength": 200, "autocomplete": "off"})
    iin = StringField(_l("IIN"), render_kw={"maxlength": 14, "inputmode": "numeric", "autocomplete": "off"})
    phone = StringField(_l("Phone"), render_kw={"maxlength": 25, "inputmode": "tel", "autocomplete": "off"})
    address = StringField(_l("Address"), render_kw={"maxlength": 300, "autocomplete": "off"})
    settlement_id = SelectField(_l("Settlement"), choices=[], validate_choice=False, validators=[Marked()])
    signatories = IntegerField(_l("Number of signatories"), validators=[Optional()], render_kw={"min": 2})
    # Each language in its own name: the clerk asks the applicant, who reads their own language's name.
    language = SelectField(_l("Language of the answer"), choices=_choices(LANGUAGE_NAMES), default="kk",
                           validate_choice=False)
    appeal_type = SelectField(_l("Type of appeal"), choices=_choices(APPEAL_TYPE_LABELS), validate_choice=False, validators=[Marked()])
    category_id = SelectField(_l("Category"), choices=[], validate_choice=False, validators=[Marked()])
    summary = TextAreaField(_l("Summary"), validators=[Marked()], render_kw={"maxlength": SUMMARY_MAX, "rows": 2})
    text = TextAreaField(_l("Full text"), render_kw={"maxlength": TEXT_MAX, "rows": 6})
    responsible_id = SelectField(_l("Responsible person"), choices=[], validate_choice=False)
    # Set once the clerk has seen the list of possible repeats, so the second submit saves.
    repeats_checked = HiddenField()
    repeat_of = HiddenField()
    save = SubmitField(_l("Save"))
    save_next = SubmitField(_l("Save and register next"))


class ExtendForm(Form):
    new_due = DateField(_l("New deadline"), validators=[Optional()])
    reason = TextAreaField(_l("Reasons for the extension"), validators=[Marked()], render_kw={"maxlength": 1000, "rows": 3})
    submit = SubmitField(_l("Extend the deadline"))


class SuspendForm(Form):
    reason = TextAreaField(_l("What the office is waiting for"), validators=[Marked()],
                           render_kw={"maxlength": 1000, "rows": 3})
    submit = SubmitField(_l("Stop the clock"))


class ForwardForm(Form):
    recipient = StringField(_l("Competent body"), validators=[Marked()], render_kw={"maxlength": 300})
    date = DateField(_l("Date forwarded"), validators=[Optional()])
    submit = SubmitField(_l("Forward"))


class ImportForm(Form):
    office_id = SelectField(_l("Office"), choices=[], validate_choice=False, validators=[Marked()])
    file = FileField(_l("File (CSV or XLSX)"), validators=[Marked()], render_kw={"accept": ".csv,.xlsx"})
    submit = SubmitField(_l("Check and import"))


class OnlineAppealForm(Form):
    """The citizen's online appeal (/appeal): the rules are in appeals/register/online.py."""

    applicant_kind = RadioField(_l("I write"), choices=[SelectChoice("individual", _l("on my own behalf")),
                                                      SelectChoice("collective", _l("on behalf of a group"))],
                                default="individual", validate_choice=False)
    applicant_name = StringField(_l("Full name"), validators=[Marked()], render_kw={
        "maxlength": 200, "autocomplete": "name"})
    signatories = IntegerField(_l("How many people sign it"), validators=[Optional()], render_kw={
        "min": 2, "inputmode": "numeric"})
    iin = StringField(_l("IIN (optional)"), render_kw={"maxlength": 12, "inputmode": "numeric", "autocomplete": "off",
                                                      "pattern": r"\d{12}"})
    phone = TelField(_l("Mobile phone"), render_kw={"maxlength": 20, "autocomplete": "tel",
                                                    "placeholder": "+7 701 123 45 67"})
    email = EmailField(_l("E-mail"), render_kw={"maxlength": 254, "autocomplete": "email"})
    code_channel = RadioField(_l("Send the code by"), choices=[SelectChoice("sms", _l("SMS")),
                                                              SelectChoice("email", _l("e-mail"))],
                              default="sms", validate_choice=False)
    settlement = StringField(_l("Settlement"), validators=[Marked()], render_kw={
        "list": "settlements", "autocomplete": "off", "maxlength": 200})
    address = StringField(_l("Address (optional)"), render_kw={"maxlength": 300, "autocomplete": "address-line1"})
    appeal_type = SelectField(_l("Type of appeal"), choices=[], validate_choice=False, validators=[Marked()])
    category_id = SelectField(_l("Topic"), choices=[], validate_choice=False, validators=[Marked()])
    summary = StringField(_l("In a few words, what is it about"), validators=[Marked()], render_kw={
        "maxlength": SUMMARY_MAX})
    text = TextAreaField(_l("Your appeal"), render_kw={"maxlength": TEXT_MAX, "rows": 8})
    files = MultipleFileField(_l("Photos or scans (optional)"), render_kw={
        "accept": "image/jpeg,image/png,image/webp,application/pdf"})
    consent = BooleanField(_l("I agree to the processing of my personal data for the consideration of this appeal."))
    # Not for people: hidden from view and from screen readers; a robot that fills every field fills it.
    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"})
    started = HiddenField()


class CodeForm(Form):
    code = StringField(_l("Code from the SMS or e-mail"), validators=[Marked()], render_kw={
        "maxlength": 6, "inputmode": "numeric", "autocomplete": "one-time-code", "pattern": r"\d{6}", "autofocus": True})


class TrackForm(Form):
    number = StringField(_l("Appeal number"), validators=[Marked()], render_kw={
        "maxlength": 32, "autocomplete": "off", "placeholder": "KRD-2026-15"})
    code = StringField(_l("Tracking code"), validators=[Marked()], render_kw={
        "maxlength": 20, "autocomplete": "off", "placeholder": "ABCDE-12345", "autocapitalize": "characters"})
