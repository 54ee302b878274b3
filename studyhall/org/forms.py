from flask import current_app
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

from studyhall.extensions import db
from studyhall.forms import Form, choices
from studyhall.i18n import lazy_gettext as _l
from studyhall.org.models import PHONE_PATTERN, Person, PoliticalStatus, Role, UnitKind


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def status_choices():
    return [(s.value, s.label) for s in PoliticalStatus]


class UnitForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)], filters=[_strip])
    kind = SelectField(_l("Kind"), choices=[])
    parent_id = SelectField(_l("Parent unit"), coerce=int, choices=[])
    sort_order = IntegerField(_l("Sort order"), default=0,
                              validators=[Optional(), NumberRange(min=0, max=9999)])

    def __init__(self, *args, parent_choices=(), allow_root=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices((k.value, k.label) for k in UnitKind)
        root = [(0, _l("(top level)"))] if allow_root else []
        self.parent_id.choices = choices([*root, *parent_choices])


class PersonForm(Form):
    account = StringField(
        _l("Account"), filters=[_strip],
        validators=[DataRequired(), Length(max=64),
                    Regexp(r"^[^\s/\\]+$", message=_l("No spaces or slashes."))],
        description=_l("The 工号 or login name; it must be unique."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=50)], filters=[_strip])
    phone = StringField(_l("Mobile"), filters=[_strip],
                        validators=[Optional(), Regexp(PHONE_PATTERN, message=_l(
                            "Not a phone number; write 11 digits, such as 13800138000."))])
    unit_id = SelectField(_l("Unit"), coerce=int, choices=[])
    political_status = SelectField(_l("Political status"), choices=[])
    role = SelectField(_l("Role"), choices=[])
    managed_unit_ids = SelectMultipleField(
        _l("Units managed"), coerce=int, choices=[],
        description=_l("For secretaries and unit administrators: each unit with its sub-units."))

    def __init__(self, *args, unit_choices=(), person=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person
        self.unit_id.choices = choices(unit_choices)
        self.managed_unit_ids.choices = choices(unit_choices)
        self.political_status.choices = choices(status_choices())
        self.role.choices = choices((r.value, r.label) for r in Role)

    def validate_account(self, field):
        other = db.session.scalar(select(Person.id).where(Person.account == field.data))
        if other is not None and (self.person is None or other != self.person.id):
            raise ValidationError(_l("This account is already in use."))

    def validate_managed_unit_ids(self, field):
        if self.role.data == Role.SECRETARY.value and not field.data:
            raise ValidationError(_l("Choose at least one unit for a secretary."))


class RosterUploadForm(Form):
    file = FileField(_l("Roster file"), validators=[FileRequired(_l("Choose a file."))])
    create_units = BooleanField(_l("Create missing units"))
    new_units_parent = SelectField(
        _l("Parent of new single-name units"), coerce=int, choices=[], validators=[Optional()],
        description=_l("With the box ticked, a unit written as a path is created under the "
                       "part of it that exists; a single name, under the unit chosen here. "
                       "The preview lists every unit to be created before anything is saved."))

    def __init__(self, *args, parent_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.new_units_parent.choices = choices(
            [(0, _l("(none: create only units written as paths)")), *parent_choices])
        self.file.description = _l(
            ".xlsx or .csv (UTF-8 or GBK), at most %(mb)d MB and %(rows)d rows; larger "
            "files through the command line.",
            mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
            rows=current_app.config["MAX_ROSTER_ROWS"])
