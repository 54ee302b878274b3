"""One form per bank screen. The question form turns its fields into a
``question_bank.Question`` and back; the library's rules validate it."""

from __future__ import annotations

import re
from decimal import Decimal

from flask import current_app
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

import question_bank as qb
from studyhall.bank.importing import DUPLICATE_POLICIES
from studyhall.forms import Form, choices
from studyhall.i18n import lazy_gettext as _l

LETTERS = "ABCDEFGH"
LIST_SPLIT = re.compile(r"[,，、;；\n]+")


def split_list(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in LIST_SPLIT.split(text or "") if part.strip())


def type_choices():
    return [(key, kind.label) for key, kind in qb.QUESTION_TYPES.items()]


def difficulty_choices():
    return [(d.value, label) for d, label in qb.DIFFICULTY_LABELS.items()]


class QuestionForm(Form):
    type = SelectField(_l("Question type"), choices=[])
    category_id = SelectField(_l("Category"), coerce=int, choices=[])
    stem = TextAreaField(_l("Question text"), validators=[DataRequired(), Length(max=5000)],
                         description=_l("For a fill-in question, mark each blank with ____."))
    options = FieldList(StringField(validators=[Length(max=1000)]), min_entries=8,
                        max_entries=8, label=_l("Options"))
    answer_single = RadioField(_l("Correct option"), choices=choices((c, c) for c in LETTERS),
                               validators=[Optional()], validate_choice=False)
    answer_multiple = SelectMultipleField(
        _l("Correct options"), choices=choices((c, c) for c in LETTERS), validate_choice=False,
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    answer_true_false = RadioField(_l("Correct answer"), validators=[Optional()],
                                   choices=choices([("true", _l("True")), ("false", _l("False"))]))
    blanks = TextAreaField(
        _l("Accepted answers"), validators=[Length(max=2000)],
        description=_l("One line per blank; separate alternative answers with /."))
    case_sensitive = BooleanField(_l("Letter case matters"))
    reference = TextAreaField(_l("Reference answer"), validators=[Length(max=5000)])
    keywords = StringField(_l("Keywords for graders"), validators=[Length(max=500)],
                           description=_l("Separated by commas."))
    explanation = TextAreaField(_l("Explanation"), validators=[Length(max=5000)])
    points = DecimalField(_l("Points"), places=2, default=Decimal(2),
                          validators=[DataRequired(), NumberRange(min=Decimal("0.01"),
                                                                  max=Decimal(1000))])
    difficulty = SelectField(_l("Difficulty"), choices=[], default="medium")
    tags = StringField(_l("Tags"), validators=[Length(max=400)],
                       description=_l("Separated by commas."))
    source = StringField(_l("Source"), validators=[Length(max=300)],
                         description=_l("The rule cited, e.g. 《中国共产党纪律处分条例》第八条"))

    def __init__(self, *args, category_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.type.choices = choices(type_choices())
        self.difficulty.choices = choices(difficulty_choices())
        self.category_id.choices = choices(category_choices)

    def answer(self):
        kind = self.type.data
        if kind == "single":
            return self.answer_single.data or ""
        if kind == "multiple":
            return tuple(self.answer_multiple.data or ())
        if kind == "true_false":
            return {"true": True, "false": False}.get(self.answer_true_false.data, "")
        if kind == "fill_blank":
            return tuple(tuple(alt.strip() for alt in line.split("/") if alt.strip())
                         for line in (self.blanks.data or "").splitlines() if line.strip())
        return self.reference.data or ""

    def build_question(self, category: tuple[str, ...]) -> qb.Question:
        """The question the form describes (unvalidated). Options are kept only for the
        types that have them, up to the last one filled in."""
        options = [(o or "").strip() for o in self.options.data]
        while options and not options[-1]:
            options.pop()
        has_options = qb.QUESTION_TYPES[self.type.data].has_options
        return qb.Question(
            type=self.type.data, stem=self.stem.data or "",
            options=tuple(options) if has_options else (), answer=self.answer(),
            explanation=self.explanation.data or "", points=self.points.data or Decimal(2),
            difficulty=self.difficulty.data, category=category,
            tags=split_list(self.tags.data), source=self.source.data or "",
            keywords=split_list(self.keywords.data) if self.type.data == "short_answer" else (),
            case_sensitive=bool(self.case_sensitive.data) if self.type.data == "fill_blank"
            else False,
        )

    def fill_from(self, question: qb.Question) -> None:
        """Show a stored question in the form."""
        self.type.data = question.type.value
        for entry, text in zip(self.options.entries, list(question.options) + [""] * 8,
                               strict=False):
            entry.data = text
        answer = question.answer
        if question.type == qb.QuestionType.SINGLE:
            self.answer_single.data = answer
        elif question.type == qb.QuestionType.MULTIPLE:
            self.answer_multiple.data = list(answer)
        elif question.type == qb.QuestionType.TRUE_FALSE:
            self.answer_true_false.data = "true" if answer else "false"
        elif question.type == qb.QuestionType.FILL_BLANK:
            self.blanks.data = "\n".join("/".join(blank) for blank in answer)
        else:
            self.reference.data = answer
        self.stem.data, self.explanation.data = question.stem, question.explanation
        self.points.data, self.difficulty.data = question.points, question.difficulty.value
        self.tags.data, self.source.data = "，".join(question.tags), question.source
        self.keywords.data = "，".join(question.keywords)
        self.case_sensitive.data = question.case_sensitive


class CategoryForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    parent_id = SelectField(_l("Parent category"), coerce=int, choices=[])
    is_confidential = BooleanField(_l("Confidential (exams only)"))

    def __init__(self, *args, category_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.parent_id.choices = choices([(0, _l("(top level)")), *category_choices])


def format_choices(with_auto: bool):
    names = {"xlsx": "Excel (.xlsx)", "csv": "CSV", "gift": "Moodle GIFT", "aiken": "Aiken",
             "moodle_xml": "Moodle XML"}
    auto = [("", _l("Detect from the file"))] if with_auto else []
    return auto + [(key, names.get(key, key)) for key in qb.FORMATS]


class QuestionImportForm(Form):
    file = FileField(_l("Question file"), validators=[FileRequired(_l("Choose a file."))])
    format = SelectField(_l("Format"), choices=[])
    category_id = SelectField(_l("Import into category"), coerce=int, choices=[],
                              description=_l("The file's own categories are placed under it."))

    def __init__(self, *args, category_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.format.choices = choices(format_choices(with_auto=True))
        self.category_id.choices = choices([(0, _l("(as in the file)")), *category_choices])
        self.file.description = _l(
            "Excel, CSV, GIFT, Aiken or Moodle XML; at most %(mb)d MB and %(rows)d questions; "
            "larger files through the command line.",
            mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
            rows=current_app.config["MAX_QUESTION_ROWS"])


class QuestionImportConfirmForm(Form):
    token = StringField(validators=[DataRequired()])
    duplicates = RadioField(_l("Questions already in the bank"), default="skip", choices=choices([
        ("skip", _l("Skip them")), ("update", _l("Update them from the file"))]))
    valid_only = BooleanField(_l("Import only the valid questions"))

    def validate_duplicates(self, field):
        if field.data not in DUPLICATE_POLICIES:
            field.data = "skip"
