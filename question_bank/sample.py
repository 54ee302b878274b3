"""The sample bank shipped in ``question_bank/data/``."""

from __future__ import annotations

from importlib import resources

from question_bank.errors import QuestionValidationError
from question_bank.formats import load_questions
from question_bank.types import Question

SAMPLE_BANK = "sample_bank.csv"


def load_sample_bank() -> list[Question]:
    """Read the shipped sample bank (UTF-8 CSV with BOM).

    :raises FileNotFoundError: if the file is not installed.
    :raises QuestionValidationError: if any row of it cannot be read; the sample must
        be clean.
    """
    data = resources.files("question_bank").joinpath("data", SAMPLE_BANK).read_bytes()
    result = load_questions(data, "csv")
    problems = [str(issue) for issue in (*result.errors, *result.unsupported)]
    if problems:
        raise QuestionValidationError(problems)
    return [parsed.question for parsed in result.questions]
