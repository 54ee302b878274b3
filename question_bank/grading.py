"""Grading: one pure, deterministic function from (question, response) to a score.

Rules (these are the rules the README quotes):

- A blank response (None, "", spaces, an empty list) scores 0 and is wrong.
- 单选题 (single): the response is one option letter, in any case or width
  ("a", "Ａ"); full points when it is the answer, else 0.
- 多选题 (multiple): the response is letters, as a list or as text such as "ABD",
  "A,B,D", "A、B、D". Policy ``all_or_nothing`` (the default): full points only for
  exactly the right letters. Policy ``partial``: any wrong letter scores 0 (错选不得分);
  some right letters and none wrong score ``partial_fraction`` of the points (少选得部分分,
  default one half); exactly the right letters score full points.
- 判断题 (true_false): the response is a bool or any spelling ``parse_true_false``
  reads (对/错, 正确/错误, √/×, ✓/✗, ✔/✘, T/F, 是/否, true/false, Y/N, 1/0).
  Unrecognised text scores 0.
- 填空题 (fill_blank): the response is one text per blank (a plain string for a
  single blank). Each blank is right when it equals any accepted answer after
  normalising both: NFKC (full-width and half-width match), Chinese and English
  punctuation unified (，, 。. ；; ：: （( “"), whitespace runs collapsed, surrounding
  whitespace stripped and, unless the question is ``case_sensitive``, case ignored.
  The points are shared equally between the blanks; missing blanks are wrong.
- 简答题 (short_answer): never graded automatically: ``needs_manual`` is True and the
  score is 0 until a person grades it. A blank answer needs no one: 0, not manual.
- Scores are Decimals rounded half-up to 0.01; a fully right answer always scores
  exactly the question's points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from question_bank.normalize import normalize_text, parse_letters, parse_true_false
from question_bank.types import Question, QuestionType

MultiplePolicy = Literal["all_or_nothing", "partial"]
Response = str | bool | Sequence[str] | None

_CENT = Decimal("0.01")
_ZERO = Decimal(0)


@dataclass(frozen=True)
class GradeResult:
    """The outcome of grading one response.

    ``detail`` is a short Chinese explanation for the taker, e.g. "少选，得部分分".
    """

    score: Decimal
    max_score: Decimal
    is_correct: bool
    needs_manual: bool
    detail: str


@dataclass(frozen=True)
class _Policy:
    multiple: MultiplePolicy
    partial_fraction: Decimal


def grade(
    question: Question,
    response: Response,
    *,
    multiple_policy: MultiplePolicy = "all_or_nothing",
    partial_fraction: Decimal = Decimal("0.5"),
) -> GradeResult:
    """Grade ``response`` to ``question`` by the rules in this module's docstring.

    :param multiple_policy: how 多选题 score: ``"all_or_nothing"`` or ``"partial"``.
    :param partial_fraction: share of the points for a 少选 answer under ``"partial"``.
    :raises ValueError: for an unknown policy or a fraction outside 0..1.
    """
    if multiple_policy not in ("all_or_nothing", "partial"):
        raise ValueError(f"unknown multiple_policy: {multiple_policy!r}")
    if not _ZERO <= partial_fraction <= 1:
        raise ValueError(f"partial_fraction must be between 0 and 1: {partial_fraction}")
    if _is_blank(response):
        return _result(question, _ZERO, "未作答")
    return _GRADERS[question.type](question, response, _Policy(multiple_policy, partial_fraction))


def _is_blank(response: Response) -> bool:
    if response is None:
        return True
    if isinstance(response, bool):
        return False
    if isinstance(response, str):
        return not response.strip()
    return all(not str(part).strip() for part in response)


def _result(question: Question, score: Decimal, detail: str) -> GradeResult:
    score = score.quantize(_CENT, ROUND_HALF_UP) if score != question.points else score
    return GradeResult(score, question.points, score == question.points, False, detail)


def _letters(response: Response) -> tuple[str, ...] | None:
    if isinstance(response, bool):
        return None
    if isinstance(response, str):
        return parse_letters(response)
    parsed = [parse_letters(str(part)) for part in response]  # type: ignore[union-attr]
    if any(letters is None for letters in parsed):
        return None
    return tuple(sorted({letter for letters in parsed for letter in letters}))  # type: ignore[union-attr]


def _grade_single(question: Question, response: Response, _: _Policy) -> GradeResult:
    letters = _letters(response)
    if letters is None or len(letters) != 1:
        return _result(question, _ZERO, "答案无法识别，应为一个选项字母")
    if letters[0] == question.answer:
        return _result(question, question.points, "正确")
    return _result(question, _ZERO, "错误")


def _grade_multiple(question: Question, response: Response, policy: _Policy) -> GradeResult:
    chosen = _letters(response)
    if not chosen:
        return _result(question, _ZERO, "答案无法识别，应为选项字母")
    right = set(question.answer)  # type: ignore[arg-type]
    if set(chosen) == right:
        return _result(question, question.points, "正确")
    if policy.multiple == "partial" and set(chosen) < right:
        return _result(question, question.points * policy.partial_fraction, "少选，得部分分")
    if set(chosen) < right:
        return _result(question, _ZERO, "少选，不得分")
    return _result(question, _ZERO, "错选，不得分")


def _grade_true_false(question: Question, response: Response, _: _Policy) -> GradeResult:
    value = parse_true_false(response if isinstance(response, str | bool) else None)
    if value is None:
        return _result(question, _ZERO, "答案无法识别，应为“正确”或“错误”")
    if value is question.answer:
        return _result(question, question.points, "正确")
    return _result(question, _ZERO, "错误")


def _grade_fill_blank(question: Question, response: Response, _: _Policy) -> GradeResult:
    blanks: tuple[tuple[str, ...], ...] = question.answer  # type: ignore[assignment]
    given = [response] if isinstance(response, str) else list(response or ())  # type: ignore[arg-type]
    given += [""] * (len(blanks) - len(given))
    right = [
        _blank_matches(str(text), accepted, question.case_sensitive)
        for text, accepted in zip(given, blanks, strict=False)
    ]
    if all(right):
        return _result(question, question.points, "正确")
    score = question.points * sum(right) / len(blanks)
    detail = "，".join(f"第{n}空{'正确' if ok else '错误'}" for n, ok in enumerate(right, 1))
    return _result(question, score, detail)


def _blank_matches(text: str, accepted: tuple[str, ...], case_sensitive: bool) -> bool:
    answer = normalize_text(text, case_sensitive=case_sensitive)
    return bool(answer) and any(
        answer == normalize_text(option, case_sensitive=case_sensitive) for option in accepted
    )


def _grade_short_answer(question: Question, response: Response, _: _Policy) -> GradeResult:
    return GradeResult(_ZERO, question.points, False, True, "简答题需人工阅卷")


_GRADERS: dict[QuestionType, Callable[[Question, Response, _Policy], GradeResult]] = {
    QuestionType.SINGLE: _grade_single,
    QuestionType.MULTIPLE: _grade_multiple,
    QuestionType.TRUE_FALSE: _grade_true_false,
    QuestionType.FILL_BLANK: _grade_fill_blank,
    QuestionType.SHORT_ANSWER: _grade_short_answer,
}
