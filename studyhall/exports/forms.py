"""The form that asks for an inspection archive: a unit and a period (local dates)."""

from __future__ import annotations

from wtforms import DateField, SelectField
from wtforms.validators import DataRequired, ValidationError

from studyhall.forms import Form, choices
from studyhall.i18n import lazy_gettext as _l


class ArchiveForm(Form):
    unit_id = SelectField(_l("Unit"), coerce=int, choices=[],
                          description=_l("The archive covers this unit and everything under "
                                         "it that you manage."))
    start = DateField(_l("From"), validators=[DataRequired()])
    end = DateField(_l("To (included)"), validators=[DataRequired()])

    def __init__(self, *args, unit_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = choices(unit_choices)

    def validate_end(self, field) -> None:
        from studyhall.exports.archive import MAX_DAYS

        if self.start.data and field.data:
            if field.data < self.start.data:
                raise ValidationError(_l("The end comes before the start."))
            if (field.data - self.start.data).days > MAX_DAYS:
                raise ValidationError(_l("Choose two years at most."))
