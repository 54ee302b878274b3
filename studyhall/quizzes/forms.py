"""One form per staff screen of quizzes: settings, paper (fixed list or rules), audience,
grants and grading. Times are entered and shown in the configured time zone and stored
as naive UTC."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import wtforms
from flask_babel import gettext as _
from flask_babel import to_user_timezone, to_utc
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from studyhall.bank.forms import difficulty_choices, type_choices
from studyhall.converters import MAX_ID
from studyhall.forms import Form, choices, lock_fields
from studyhall.i18n import lazy_gettext as _l
from studyhall.org.forms import status_choices
from studyhall.quizzes.models import LABELS, Counting, Quiz, QuizMode, ReviewPolicy

#: datetime-local inputs send minutes; seconds are accepted too.
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
ACCOUNT_SPLIT = re.compile(r"[\s,，、;；]+")
MULTIPLE_POLICIES = {"all_or_nothing": _l("All or nothing: every correct option, no wrong one"),
                     "partial": _l("Partial: half the points when some correct options are "
                                   "chosen and no wrong one")}
POINT_STEP = Decimal("0.5")


def to_local(value: datetime | None) -> datetime | None:
    """Stored UTC → naive wall-clock time of the configured zone, for an input."""
    return to_user_timezone(value).replace(tzinfo=None) if value else None


def split_accounts(text: str | None) -> list[str]:
    return [a for a in ACCOUNT_SPLIT.split(text or "") if a]


def _comparable(*values: Decimal | None) -> bool:
    """All given and finite: NaN ("NaN" is a Decimal) raises when compared; NaN and
    infinite values are refused by the fields' NumberRange."""
    return all(value is not None and value.is_finite() for value in values)


class QuizForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    instructions = TextAreaField(_l("Instructions"), validators=[Length(max=5000)],
                                 description=_l("Shown on the start page."))
    mode = SelectField(_l("Mode"), choices=[],
                       description=_l("Practice gives feedback after each answer and never "
                                      "counts in exam statistics."))
    owner_unit_id = SelectField(_l("Owner unit"), coerce=int, choices=[],
                                description=_l("Its managers manage the quiz."))
    opens_at = DateTimeLocalField(_l("Opens at"), format=LOCAL_FORMATS,
                                  validators=[DataRequired(_l("Give the opening time."))])
    closes_at = DateTimeLocalField(_l("Closes at"), format=LOCAL_FORMATS,
                                   validators=[DataRequired(_l("Give the closing time."))])
    time_limit_minutes = IntegerField(
        _l("Time limit (minutes)"), validators=[Optional(), NumberRange(min=1, max=1440)],
        description=_l("Empty: until the window closes."))
    total_points = DecimalField(_l("Total points"), places=2, default=Decimal(100),
                                validators=[InputRequired(), NumberRange(min=Decimal("0.5"),
                                                                        max=Decimal(1000))],
                                description=_l("Question points are scaled to this total "
                                               "when they add up to something else."))
    # The marks are at most the total; the bound also refuses "Infinity" (a Decimal,
    # which PostgreSQL's NUMERIC(7, 2) cannot hold: a 500).
    pass_mark = DecimalField(_l("Pass mark"), places=2, default=Decimal(60),
                             validators=[InputRequired(), NumberRange(min=Decimal("0.01"),
                                                                      max=Decimal(1000))])
    excellent_mark = DecimalField(_l("Excellent mark"), places=2, default=Decimal(90),
                                  validators=[InputRequired(), NumberRange(
                                      min=Decimal("0.01"), max=Decimal(1000))])
    attempts_allowed = IntegerField(_l("Attempts allowed"), default=1,
                                    validators=[InputRequired(), NumberRange(min=1, max=100)])
    counting = SelectField(_l("Score that counts"), choices=[])
    shuffle_questions = BooleanField(_l("Shuffle the questions"))
    shuffle_options = BooleanField(_l("Shuffle the options"), default=True)
    multiple_policy = SelectField(_l("Multiple-choice scoring"), choices=[])
    review_policy = SelectField(_l("Answers and scores shown"), choices=[])
    max_departures = IntegerField(
        _l("Departures allowed"), validators=[Optional(), NumberRange(min=1, max=100)],
        description=_l("Leaving the exam page this many times submits the paper. Empty: "
                       "departures are only recorded."))

    def __init__(self, *args, unit_choices=(), locked=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.mode.choices = choices((m.value, LABELS[m]) for m in QuizMode)
        self.owner_unit_id.choices = choices(unit_choices)
        self.counting.choices = choices((c.value, LABELS[c]) for c in Counting)
        self.multiple_policy.choices = choices(MULTIPLE_POLICIES.items())
        self.review_policy.choices = choices((r.value, LABELS[r]) for r in ReviewPolicy)
        self.locked = locked
        lock_fields(self, locked, kwargs.get("data") or {})

    @staticmethod
    def data_of(quiz: Quiz) -> dict:
        """A quiz's settings as the form shows them (local times, enum values)."""
        return {
            "title": quiz.title, "instructions": quiz.instructions, "mode": quiz.mode.value,
            "owner_unit_id": quiz.owner_unit_id, "opens_at": to_local(quiz.opens_at),
            "closes_at": to_local(quiz.closes_at),
            "time_limit_minutes": quiz.time_limit_minutes, "total_points": quiz.total_points,
            "pass_mark": quiz.pass_mark, "excellent_mark": quiz.excellent_mark,
            "attempts_allowed": quiz.attempts_allowed, "counting": quiz.counting.value,
            "shuffle_questions": quiz.shuffle_questions,
            "shuffle_options": quiz.shuffle_options, "multiple_policy": quiz.multiple_policy,
            "review_policy": quiz.review_policy.value, "max_departures": quiz.max_departures,
        }

    def values(self, quiz: Quiz | None = None) -> dict:
        """The settings for the model: UTC times, enums. A time left as shown keeps the
        stored seconds, which the input cannot carry."""
        values = {
            "title": self.title.data.strip(), "instructions": self.instructions.data or "",
            "mode": QuizMode(self.mode.data), "owner_unit_id": self.owner_unit_id.data,
            "time_limit_minutes": self.time_limit_minutes.data,
            "total_points": self.total_points.data, "pass_mark": self.pass_mark.data,
            "excellent_mark": self.excellent_mark.data,
            "attempts_allowed": self.attempts_allowed.data,
            "counting": Counting(self.counting.data),
            "shuffle_questions": bool(self.shuffle_questions.data),
            "shuffle_options": bool(self.shuffle_options.data),
            "multiple_policy": self.multiple_policy.data,
            "review_policy": ReviewPolicy(self.review_policy.data),
            "max_departures": self.max_departures.data,
        }
        for name in ("opens_at", "closes_at"):
            local = getattr(self, name).data
            stored = getattr(quiz, name) if quiz else None
            shown = to_local(stored)
            same = shown is not None and local in (shown, shown.replace(second=0, microsecond=0))
            values[name] = stored if same else to_utc(local)
        return values

    def validate_closes_at(self, field):
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The closing time must be after the opening time."))

    def validate_total_points(self, field):
        # Out of range (already an error) a Decimal can be too big to divide, or NaN.
        if _comparable(field.data) and not field.errors and field.data % POINT_STEP:
            raise ValidationError(_l("Write the total in whole or half points."))

    def validate_pass_mark(self, field):
        if _comparable(field.data, self.excellent_mark.data) \
                and field.data > self.excellent_mark.data:
            raise ValidationError(_l("The pass mark cannot be above the excellent mark."))

    def validate_excellent_mark(self, field):
        if _comparable(field.data, self.total_points.data) \
                and field.data > self.total_points.data:
            raise ValidationError(_l("The excellent mark cannot be above the total."))


class RuleForm(wtforms.Form):
    """One assembly rule; a row with no count is left out."""

    category_id = SelectField(_l("Category"), coerce=int, choices=[], validate_choice=False)
    # Unknown values (or rows the browser did not send) are read as "any".
    type = SelectField(_l("Question type"), choices=[], validate_choice=False)
    difficulty = SelectField(_l("Difficulty"), choices=[], validate_choice=False)
    count = IntegerField(_l("Questions"), validators=[Optional(), NumberRange(min=1, max=500)])
    points = DecimalField(_l("Points each"), places=2,
                          validators=[Optional(), NumberRange(min=Decimal("0.5"),
                                                              max=Decimal(1000))])


class RulesForm(Form):
    rules = FieldList(FormField(RuleForm), min_entries=1, max_entries=30)

    def __init__(self, *args, category_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        for entry in self.rules:  # entry.form: FormField has a "type" of its own
            entry.form.category_id.choices = choices(category_choices)
            entry.form.type.choices = choices([("", _l("Any type")), *type_choices()])
            entry.form.difficulty.choices = choices([("", _l("Any difficulty")),
                                                     *difficulty_choices()])
        self.category_ids = {cid for cid, _label in category_choices}

    def validate_rules(self, field):
        if not self.values():
            raise ValidationError(_l("Give at least one rule with a number of questions."))
        for entry in field:
            if entry.form.count.data and entry.form.category_id.data not in self.category_ids:
                raise ValidationError(_l("Choose a category for each rule."))

    def values(self) -> list[dict]:
        """The filled rows as stored rule dicts (before the category names are added)."""
        rows = [entry.form for entry in self.rules]
        types, levels = dict(type_choices()), dict(difficulty_choices())
        return [{"category_id": r.category_id.data,
                 "type": r.type.data if r.type.data in types else None,
                 "difficulty": r.difficulty.data if r.difficulty.data in levels else None,
                 "count": r.count.data,
                 "points": str(r.points.data) if r.points.data else None}
                for r in rows if r.count.data]


class PickQuestionsForm(Form):
    question_ids = SelectMultipleField(coerce=int, choices=[], validate_choice=False,
                                       validators=[DataRequired(_l("Tick some questions."))])

    def validate_question_ids(self, field):
        # Ticked boxes carry bank ids; one past the database's range is refused here, not
        # looked up (a 500 on PostgreSQL).
        if any(not 0 < qid <= MAX_ID for qid in field.data):
            raise ValidationError(_l("Tick some questions."))


class RemoveQuestionForm(Form):
    question_id = IntegerField(validators=[DataRequired()])


class AudienceForm(Form):
    unit_ids = SelectMultipleField(_l("Units"), coerce=int, choices=[],
                                   description=_l("Each unit with all its sub-units."))
    accounts = TextAreaField(_l("Named people"), validators=[Length(max=20000)],
                             description=_l("Accounts (工号), one per line or separated by "
                                            "commas."))
    statuses = SelectMultipleField(
        _l("Only these political statuses"), choices=[],
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description=_l("None ticked: everyone. Party members: tick 01 and 02."))

    def __init__(self, *args, unit_choices=(), find_people=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_ids.choices = choices(unit_choices)
        self.statuses.choices = choices((value, f"{value} {label}")
                                        for value, label in status_choices())
        self.find_people = find_people
        self.person_ids: list[int] = []

    @classmethod
    def for_audience(cls, audience: dict | None, viewer) -> AudienceForm:
        """The form for a stored audience (a quiz's, an assignment's or a session's):
        filled in from it, the named people by account; the units to choose from and the
        accounts typed looked up within ``viewer``'s scope."""
        from studyhall.auth.scope import query_people_in_scope
        from studyhall.extensions import db
        from studyhall.org.models import Person
        from studyhall.org.queries import get_units_for_picker

        audience = audience or {}
        accounts = db.session.scalars(db.select(Person.account).where(
            Person.id.in_(audience.get("person_ids", []))).order_by(Person.account)).all()

        def find_people(typed: list[str]) -> dict[str, int]:
            return dict(db.session.execute(
                query_people_in_scope(viewer).with_only_columns(Person.account, Person.id)
                .where(Person.account.in_(typed))).all())

        return cls(data={"unit_ids": audience.get("unit_ids", []),
                         "accounts": "\n".join(accounts),
                         "statuses": audience.get("statuses", [])},
                   unit_choices=get_units_for_picker(viewer), find_people=find_people)

    def validate_accounts(self, field):
        """Every account must name someone in the viewer's units; say which do not."""
        accounts = split_accounts(field.data)
        found = self.find_people(accounts) if accounts else {}
        unknown = [a for a in accounts if a not in found]
        if unknown:
            # gettext: a lazy string is printed as safe HTML, the typed accounts unescaped.
            raise ValidationError(_("Not found in your units: %(accounts)s",
                                    accounts="、".join(unknown)))
        self.person_ids = list(dict.fromkeys(found[a] for a in accounts))

    def validate_unit_ids(self, field):
        if not field.data and not split_accounts(self.accounts.data):
            raise ValidationError(_l("Choose units or name people."))

    def values(self) -> dict:
        return {"unit_ids": list(self.unit_ids.data), "person_ids": self.person_ids,
                "statuses": sorted(self.statuses.data)}


class GrantForm(Form):
    attempts = IntegerField(_l("Extra attempts"), default=0,
                            validators=[Optional(), NumberRange(min=0, max=20)])
    minutes = IntegerField(_l("Extra minutes"), default=0,
                           validators=[Optional(), NumberRange(min=0, max=600)])


class GradeForm(Form):
    score = StringField(_l("Score"), validators=[DataRequired(_l("Give a score."))])
    #: The score the grader saw ("" when ungraded): another grader's change is not
    #: overwritten.
    expected = HiddenField()

    def expected_score(self) -> Decimal | None:
        try:
            return Decimal(self.expected.data) if self.expected.data else None
        except ArithmeticError as exc:
            raise ValidationError(_l("The form expired. Reload the page.")) from exc
