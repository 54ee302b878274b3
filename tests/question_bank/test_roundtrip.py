"""Export then import gives back the same questions, for what each format can hold."""

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from question_bank import (
    FORMATS,
    Question,
    QuestionType,
    dump_questions,
    export_problems,
    load_questions,
)

# Chinese text, Chinese and ASCII punctuation, GIFT's special characters, HTML's.
RICH = "党纪规章中国共产员预备期一年警告处分的是否ABCabcxyz0129 ，。；：（）“”‘’、？！—…"
RICH += "~=#{}:\\/|;,-+@'%[]<>&\"_*$\n"
PLAIN = "党纪规章中国共产员预备期一年警告处分abcXYZ0129（）"

rich = st.text(alphabet=RICH, min_size=1, max_size=30).map(str.strip).filter(bool)
plain = st.text(alphabet=PLAIN, min_size=1, max_size=8).map(str.strip).filter(bool)
one_line = rich.map(lambda text: text.replace("\n", " ").strip()).filter(bool)
points = st.sampled_from([Decimal(p) for p in ("0.5", "1", "2", "2.5", "10", "1.25")])
common = {
    "explanation": st.one_of(st.just(""), rich),
    "points": points,
    "difficulty": st.sampled_from(["easy", "medium", "hard"]),
    "category": st.lists(plain, max_size=3).map(tuple),
    "tags": st.lists(plain, max_size=3, unique=True).map(tuple),
    "source": st.one_of(st.just(""), rich),
}


@st.composite
def choice_questions(draw, type_: QuestionType, text=rich) -> Question:
    options = draw(st.lists(text, min_size=2, max_size=8, unique=True))
    letters = "ABCDEFGH"[: len(options)]
    if type_ is QuestionType.SINGLE:
        answer = draw(st.sampled_from(letters))
    else:
        answer = tuple(draw(st.lists(st.sampled_from(letters), min_size=1, unique=True)))
    fields = {name: draw(strategy) for name, strategy in common.items()}
    return Question(type=type_, stem=draw(text), options=tuple(options), answer=answer, **fields)


@st.composite
def other_questions(draw, type_: QuestionType, alternatives=plain, max_blanks=3) -> Question:
    fields = {name: draw(strategy) for name, strategy in common.items()}
    if type_ is QuestionType.TRUE_FALSE:
        fields["answer"] = draw(st.booleans())
    elif type_ is QuestionType.FILL_BLANK:
        blank = st.lists(alternatives, min_size=1, max_size=3).map(tuple)
        fields["answer"] = tuple(draw(st.lists(blank, min_size=1, max_size=max_blanks)))
        fields["case_sensitive"] = draw(st.booleans())
    else:
        fields["answer"] = draw(st.one_of(st.just(""), rich))
        fields["keywords"] = tuple(draw(st.lists(plain, max_size=3)))
    return Question(type=type_, stem=draw(rich), **fields)


def any_question(alternatives=plain, max_blanks=3):
    return st.one_of(
        choice_questions(QuestionType.SINGLE),
        choice_questions(QuestionType.MULTIPLE),
        other_questions(QuestionType.TRUE_FALSE),
        other_questions(QuestionType.FILL_BLANK, alternatives, max_blanks),
        other_questions(QuestionType.SHORT_ANSWER),
    )


def holdable(fmt: str, questions: list[Question]) -> list[Question]:
    skipped = {problem.index for problem in export_problems(questions, fmt)}
    return [q for i, q in enumerate(questions) if i not in skipped]


def round_trip(questions: list[Question], fmt: str) -> list[Question]:
    result = load_questions(dump_questions(questions, fmt), fmt)
    assert result.errors == [] and result.unsupported == [] and result.warnings == []
    return [parsed.question for parsed in result.questions]


def lossy(question: Question, fmt: str) -> Question:
    """What a format cannot carry, reset to the defaults the importer gives."""
    if fmt == "gift":
        return replace(question, points=Decimal(2), difficulty="medium", source="")
    if fmt == "moodle_xml":
        return replace(question, difficulty="medium", source="")
    return Question(
        type=question.type, stem=question.stem, options=question.options, answer=question.answer
    )


SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@SETTINGS
@given(questions=st.lists(any_question(), min_size=1, max_size=6))
def test_tables_hold_every_type(fmt, questions):
    assert export_problems(questions, fmt) == []
    assert round_trip(questions, fmt) == questions


@SETTINGS
@given(questions=st.lists(any_question(alternatives=rich, max_blanks=1), min_size=1, max_size=6))
def test_gift_round_trip(questions):
    questions = holdable("gift", questions)
    assert round_trip(questions, "gift") == [lossy(q, "gift") for q in questions]


@SETTINGS
@given(questions=st.lists(any_question(alternatives=rich, max_blanks=1), min_size=1, max_size=6))
def test_moodle_xml_round_trip(questions):
    questions = holdable("moodle_xml", questions)
    assert round_trip(questions, "moodle_xml") == [lossy(q, "moodle_xml") for q in questions]


@SETTINGS
@given(questions=st.lists(choice_questions(QuestionType.SINGLE, one_line), min_size=1, max_size=6))
def test_aiken_round_trip(questions):
    questions = holdable("aiken", questions)
    assert round_trip(questions, "aiken") == [lossy(q, "aiken") for q in questions]


def test_every_format_is_round_tripped():
    assert set(FORMATS) == {"xlsx", "csv", "gift", "moodle_xml", "aiken"}
