"""Forms of the reference administration pages; validation rules live in services.py."""
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Length, Optional

from appeals.core.forms import Form
from appeals.core.labels import OFFICE_KIND_LABELS


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


def _name(label):
    return StringField(label, validators=[DataRequired(), Length(max=200)])


class RegionForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=10)])
    name_kk = _name(_l("Name in Kazakh"))
    name_ru = _name(_l("Name in Russian"))
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)],
                          description=_l("Optional; without it the English pages show the Russian name."))
    submit = SubmitField(_l("Save"))


class DistrictForm(Form):
    region_id = SelectField(_l("Region"), coerce=_optional_int)
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=10)])
    name_kk = _name(_l("Name in Kazakh"))
    name_ru = _name(_l("Name in Russian"))
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)],
                          description=_l("Optional; without it the English pages show the Russian name."))
    submit = SubmitField(_l("Save"))


class SettlementForm(Form):
    district_id = SelectField(_l("District"), coerce=_optional_int)
    kato = StringField(_l("KATO code"), validators=[Optional(), Length(max=12)])
    name_kk = _name(_l("Name in Kazakh"))
    name_ru = _name(_l("Name in Russian"))
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)],
                          description=_l("Optional; without it the English pages show the Russian name."))
    is_active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class OfficeForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=10)])
    name_kk = _name(_l("Name in Kazakh"))
    name_ru = _name(_l("Name in Russian"))
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)],
                          description=_l("Optional; without it the English pages show the Russian name."))
    kind = SelectField(_l("Kind"), choices=lambda: [SelectChoice(code, label) for code, label in OFFICE_KIND_LABELS.items()])
    region_id = SelectField(_l("Region"), coerce=_optional_int)
    parent_id = SelectField(_l("Parent office"), coerce=_optional_int)
    district_id = SelectField(_l("District"), coerce=_optional_int)
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)])
    is_active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class CategoryForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    name_kk = _name(_l("Name in Kazakh"))
    name_ru = _name(_l("Name in Russian"))
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=200)],
                          description=_l("Optional; without it the English pages show the Russian name."))
    sort_order = IntegerField(_l("Order"), default=0, validators=[Optional()])
    is_active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save"))


class ImportForm(Form):
    file = FileField(_l("CSV file"), validators=[FileRequired(message=_l("Choose a file."))])
    submit = SubmitField(_l("Import"))
