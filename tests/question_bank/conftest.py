"""Shared builders for question_bank tests (no Flask app here)."""

from __future__ import annotations

import pytest

from question_bank import Question, QuestionType


@pytest.fixture
def make_question():
    """Return a builder of valid questions of each type, overridable by keyword."""
    defaults = {
        QuestionType.SINGLE: {"options": ("警告", "记过", "降级"), "answer": "A"},
        QuestionType.MULTIPLE: {
            "options": ("警告", "严重警告", "降级", "开除党籍"),
            "answer": ("A", "B", "D"),
        },
        QuestionType.TRUE_FALSE: {"answer": True},
        QuestionType.FILL_BLANK: {"answer": (("一", "1"), ("表决权",))},
        QuestionType.SHORT_ANSWER: {"answer": "警告、严重警告、撤销党内职务、留党察看、开除党籍"},
    }

    def build(type_: str, **overrides) -> Question:
        fields = {"stem": "题干", **defaults[QuestionType(type_)], **overrides}
        return Question(type=type_, **fields)

    return build
