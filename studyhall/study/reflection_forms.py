"""Forms of the reflection pages: writing (submit) and reviewing."""

from __future__ import annotations

from wtforms import BooleanField, HiddenField, IntegerField, RadioField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, ValidationError
from wtforms.widgets import HiddenInput

from studyhall.forms import Form, choices
from studyhall.i18n import lazy_gettext as _l
from studyhall.study.reflections import ACCEPTED, MAX_COMMENT_CHARS, RETURNED


class ReflectionForm(Form):
    """The writing page's form: the text and the version the page was built on."""

    body = TextAreaField(_l("Your reflection"))
    based_on = IntegerField(widget=HiddenInput(), validators=[InputRequired(),
                                                               NumberRange(min=0)])


class ReviewForm(Form):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(),
                                                              NumberRange(min=1)])
    decision = RadioField(_l("Decision"), validators=[InputRequired()], choices=choices([
        (ACCEPTED, _l("Accept")), (RETURNED, _l("Return for revision"))]))
    comment = TextAreaField(_l("Comment"), description=_l(
        "The writer reads this. When returning, say what to revise."))
    excellent = BooleanField(_l("Mark as excellent (优秀) and share with the unit"))

    def validate_comment(self, field):
        text = (field.data or "").strip()
        if len(text) > MAX_COMMENT_CHARS:
            raise ValidationError(_l("At most %(n)d characters.", n=MAX_COMMENT_CHARS))
        if self.decision.data == RETURNED and not text:
            raise ValidationError(_l("Say what to revise when returning a reflection."))

    def validate_excellent(self, field):
        if field.data and self.decision.data != ACCEPTED:
            raise ValidationError(_l("Only an accepted reflection can be marked excellent."))


class ExcellentForm(Form):
    """Mark or unmark 优秀 on an accepted reflection: ``excellent`` is "1" or "0"."""

    excellent = HiddenField(validators=[InputRequired()])
