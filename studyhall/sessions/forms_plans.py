"""Forms of the study-plan screens: a new plan, a planned item, linking a held session,
and filling in the required meetings."""

from __future__ import annotations

from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange

from studyhall.forms import Form, choices
from studyhall.i18n import lazy_gettext as _l
from studyhall.sessions.models import SessionKind
from studyhall.sessions.plans import HALF_LABELS


class PlanForm(Form):
    unit_id = SelectField(_l("Unit"), coerce=int, choices=[])
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(min=2000, max=2100)])
    half = SelectField(_l("Period"), coerce=int, choices=[])
    title = StringField(_l("Title"), validators=[Length(max=200)],
                        description=_l("Empty: the unit's name and the period."))

    def __init__(self, *args, unit_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id.choices = choices(unit_choices)
        self.half.choices = choices((h, label) for h, label in HALF_LABELS.items())


class PlanItemForm(Form):
    kind = SelectField(_l("Kind"), choices=[])
    month = SelectField(_l("Month"), coerce=int, choices=[])
    topic = StringField(_l("Topic"), validators=[DataRequired(), Length(max=200)])

    def __init__(self, *args, months=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices((k.value, k.label) for k in SessionKind)
        self.month.choices = choices((m, _l("Month %(m)d", m=m)) for m in months)


class FillQuotasForm(Form):
    topic = StringField(_l("Topic for the new items"), default=_l("To be decided"),
                        validators=[DataRequired(), Length(max=200)])


class LinkSessionForm(Form):
    session_id = SelectField(_l("Held as"), coerce=int, choices=[])
