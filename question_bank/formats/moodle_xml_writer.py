"""Writes questions in the shape of Moodle's own XML export (see :mod:`.moodle_xml`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from question_bank.formats.base import moodle_category_path, moodle_weight
from question_bank.types import OPTION_LETTERS, Question, QuestionType

_MOODLE_TYPES = {
    QuestionType.SINGLE: "multichoice",
    QuestionType.MULTIPLE: "multichoice",
    QuestionType.TRUE_FALSE: "truefalse",
    QuestionType.FILL_BLANK: "shortanswer",
    QuestionType.SHORT_ANSWER: "essay",
}
_NAME_LENGTH = 40


def write_quiz(questions: Sequence[Question]) -> bytes:
    """A ``<quiz>`` document holding ``questions`` and their categories."""
    quiz = ET.Element("quiz")
    category: tuple[str, ...] | None = None
    for question in questions:
        if question.category != category:
            category = question.category
            element = ET.SubElement(quiz, "question", type="category")
            _text(element, "category", moodle_category_path(category), format_=None)
        _question(quiz, question)
    ET.indent(quiz)
    return ET.tostring(quiz, encoding="UTF-8", xml_declaration=True) + b"\n"


def _text(
    parent: ET.Element, tag: str, text: str, format_: str | None = "plain_text"
) -> ET.Element:
    element = ET.SubElement(parent, tag, {"format": format_} if format_ else {})
    ET.SubElement(element, "text").text = text
    return element


def _question(quiz: ET.Element, question: Question) -> None:
    element = ET.SubElement(quiz, "question", type=_MOODLE_TYPES[question.type])
    _text(element, "name", _name(question), format_=None)
    _text(element, "questiontext", question.stem)
    _text(element, "generalfeedback", question.explanation)
    ET.SubElement(element, "defaultgrade").text = str(question.points)
    ET.SubElement(element, "penalty").text = "0.3333333"
    ET.SubElement(element, "hidden").text = "0"
    _WRITERS[question.type](element, question)
    if question.tags:
        tags = ET.SubElement(element, "tags")
        for tag in question.tags:
            _text(tags, "tag", tag, format_=None)


def _name(question: Question) -> str:
    first_line = question.stem.splitlines()[0] if question.stem else ""
    return question.source or first_line[:_NAME_LENGTH]


def _answer(parent: ET.Element, fraction: str, text: str) -> None:
    answer = _text(parent, "answer", text)
    answer.set("fraction", fraction)
    _text(answer, "feedback", "")


def _write_choice(element: ET.Element, question: Question) -> None:
    single = question.type is QuestionType.SINGLE
    ET.SubElement(element, "single").text = "true" if single else "false"
    ET.SubElement(element, "shuffleanswers").text = "true"
    ET.SubElement(element, "answernumbering").text = "ABCD"
    right = moodle_weight(1 if single else len(question.answer))
    for letter, option in zip(OPTION_LETTERS, question.options, strict=False):
        is_right = letter == question.answer if single else letter in question.answer
        _answer(element, right if is_right else ("0" if single else "-100"), option)


def _write_truefalse(element: ET.Element, question: Question) -> None:
    _answer(element, "100" if question.answer else "0", "true")
    _answer(element, "0" if question.answer else "100", "false")


def _write_shortanswer(element: ET.Element, question: Question) -> None:
    ET.SubElement(element, "usecase").text = "1" if question.case_sensitive else "0"
    for text in question.answer[0]:  # type: ignore[union-attr]
        _answer(element, "100", text)  # type: ignore[arg-type]


def _write_essay(element: ET.Element, question: Question) -> None:
    ET.SubElement(element, "responseformat").text = "editor"
    ET.SubElement(element, "responserequired").text = "1"
    ET.SubElement(element, "responsefieldlines").text = "15"
    ET.SubElement(element, "attachments").text = "0"
    _text(element, "graderinfo", str(question.answer))
    _text(element, "responsetemplate", "")


_WRITERS = {
    QuestionType.SINGLE: _write_choice,
    QuestionType.MULTIPLE: _write_choice,
    QuestionType.TRUE_FALSE: _write_truefalse,
    QuestionType.FILL_BLANK: _write_shortanswer,
    QuestionType.SHORT_ANSWER: _write_essay,
}
