"""Question types, the Question value object and its validation rules.

A question is stored by the app as a ``type`` discriminator plus a JSON ``config``
(:meth:`Question.to_config` / :meth:`Question.from_config`).

Text fields are stripped of surrounding whitespace when a Question is built, sequences
become tuples, ``points`` becomes a Decimal and a multiple-choice answer is sorted, so
two questions that mean the same compare equal. Every type defaults to
``DEFAULT_POINTS`` (2) points.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from question_bank.errors import QuestionValidationError


class QuestionType(StrEnum):
    """The five question types; values are the identifiers stored in the database."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"
    FILL_BLANK = "fill_blank"
    SHORT_ANSWER = "short_answer"


class Difficulty(StrEnum):
    """How hard a question is; labels in ``DIFFICULTY_LABELS``."""

    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


DIFFICULTY_LABELS: dict[Difficulty, str] = {
    Difficulty.EASY: "易",
    Difficulty.MEDIUM: "中",
    Difficulty.HARD: "难",
}


@dataclass(frozen=True)
class QuestionKind:
    """What the rest of the app needs to know about one question type."""

    type: QuestionType
    label: str
    short_label: str
    has_options: bool
    manually_graded: bool


QUESTION_TYPES: dict[str, QuestionKind] = {
    kind.type.value: kind
    for kind in (
        QuestionKind(QuestionType.SINGLE, "单选题", "单选", True, False),
        QuestionKind(QuestionType.MULTIPLE, "多选题", "多选", True, False),
        QuestionKind(QuestionType.TRUE_FALSE, "判断题", "判断", False, False),
        QuestionKind(QuestionType.FILL_BLANK, "填空题", "填空", False, False),
        QuestionKind(QuestionType.SHORT_ANSWER, "简答题", "简答", False, True),
    )
}

DEFAULT_POINTS = Decimal(2)
MAX_POINTS = Decimal(1000)
MIN_OPTIONS, MAX_OPTIONS = 2, 8
OPTION_LETTERS = "ABCDEFGH"
CONFIG_VERSION = 1

#: single: "A"; multiple: ("A", "C"); true_false: True; fill_blank: (("一", "1"), ("表决权",));
#: short_answer: the reference answer, or "".
Answer = str | bool | tuple[str, ...] | tuple[tuple[str, ...], ...]


@dataclass(frozen=True, kw_only=True)
class Question:
    """One question of the bank. Build it, then call :meth:`validate` (or :meth:`problems`)."""

    type: QuestionType
    stem: str
    options: tuple[str, ...] = ()
    answer: Answer = ""
    explanation: str = ""
    points: Decimal = DEFAULT_POINTS
    difficulty: Difficulty = Difficulty.MEDIUM
    category: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source: str = ""
    keywords: tuple[str, ...] = ()
    case_sensitive: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "type", _coerce_enum(QuestionType, self.type, "题型"))
        set_(self, "difficulty", _coerce_enum(Difficulty, self.difficulty, "难度"))
        set_(self, "points", _coerce_points(self.points))
        for name in ("stem", "explanation", "source"):
            set_(self, name, str(getattr(self, name)).strip())
        for name in ("options", "category", "tags", "keywords"):
            set_(self, name, tuple(str(item).strip() for item in getattr(self, name)))
        set_(self, "answer", _coerce_answer(self.type, self.answer))

    @property
    def kind(self) -> QuestionKind:
        """The registry entry of this question's type."""
        return QUESTION_TYPES[self.type]

    def problems(self) -> list[str]:
        """Return every rule this question breaks, as Chinese messages (empty when valid)."""
        found = _common_problems(self)
        found += _TYPE_RULES[self.type](self)
        return found

    def validate(self) -> None:
        """Raise :class:`QuestionValidationError` listing every problem, if there is any."""
        found = self.problems()
        if found:
            raise QuestionValidationError(found)

    def to_config(self) -> dict[str, Any]:
        """Return a JSON-ready dict of everything but ``type``; ``from_config`` reverses it."""
        return {
            "version": CONFIG_VERSION,
            "stem": self.stem,
            "options": list(self.options),
            "answer": _answer_to_json(self.answer),
            "explanation": self.explanation,
            "points": str(self.points),
            "difficulty": self.difficulty.value,
            "category": list(self.category),
            "tags": list(self.tags),
            "source": self.source,
            "keywords": list(self.keywords),
            "case_sensitive": self.case_sensitive,
        }

    @classmethod
    def from_config(cls, type: str, config: dict[str, Any]) -> Question:
        """Build and validate a question from its type and ``to_config()`` dict.

        :raises QuestionValidationError: for an unknown version or key, or a broken rule.
        """
        data = dict(config)
        version = data.pop("version", None)
        if version != CONFIG_VERSION:
            raise QuestionValidationError([f"不支持的题目配置版本：{version!r}"])
        unknown = sorted(set(data) - _CONFIG_KEYS)
        if unknown:
            raise QuestionValidationError([f"题目配置中有未知字段：{'、'.join(unknown)}"])
        try:
            question = cls(type=type, **data)  # type: ignore[arg-type]
        except TypeError as exc:  # e.g. a number where a list belongs
            raise QuestionValidationError([f"题目配置格式错误：{exc}"]) from None
        question.validate()
        return question


_CONFIG_KEYS = {f.name for f in fields(Question)} - {"type"}


def _coerce_enum(enum: type[StrEnum], value: object, label: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = "、".join(member.value for member in enum)
        raise QuestionValidationError([f"{label}“{value}”无效，应为：{allowed}"]) from None


def _coerce_points(value: object) -> Decimal:
    """A Decimal without trailing zeros or exponent: 2.0 → 2, 1.50 → 1.5."""
    try:
        points = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise QuestionValidationError([f"分值“{value}”不是数字"]) from None
    if not points.is_finite() or abs(points) > MAX_POINTS:
        return points
    return (
        points.quantize(Decimal(1)) if points == points.to_integral_value() else points.normalize()
    )


def _coerce_answer(type_: QuestionType, answer: Any) -> Answer:
    try:
        return _coerce_answer_shape(type_, answer)
    except TypeError:  # not iterable: leave it for problems() to report
        return answer


def _coerce_answer_shape(type_: QuestionType, answer: Any) -> Answer:
    if type_ is QuestionType.SINGLE and isinstance(answer, str):
        return answer.strip().upper()
    if type_ is QuestionType.MULTIPLE and not isinstance(answer, str | bool):
        return tuple(sorted(str(letter).strip().upper() for letter in answer))
    if type_ is QuestionType.FILL_BLANK and not isinstance(answer, str | bool):
        return tuple(tuple(str(alt).strip() for alt in blank) for blank in answer)
    if type_ is QuestionType.SHORT_ANSWER and isinstance(answer, str):
        return answer.strip()
    return answer


def _answer_to_json(answer: Answer) -> Any:
    if isinstance(answer, tuple):
        return [list(item) if isinstance(item, tuple) else item for item in answer]
    return answer


def _common_problems(q: Question) -> list[str]:
    found = []
    if not q.stem:
        found.append("题干为空，请填写题干")
    if not q.points.is_finite() or not 0 < q.points <= MAX_POINTS:
        found.append(f"分值“{q.points}”无效，应大于0且不超过{MAX_POINTS}")
    elif q.points != q.points.quantize(Decimal("0.01")):
        found.append(f"分值“{q.points}”最多保留两位小数")
    if any(not part for part in q.category):
        found.append("分类路径中有空的层级，请删去多余的“/”")
    if any(not tag for tag in q.tags):
        found.append("标签中有空值，请删去多余的分隔符")
    if q.keywords and q.type is not QuestionType.SHORT_ANSWER:
        found.append("只有简答题可以设置关键词")
    if q.case_sensitive and q.type is not QuestionType.FILL_BLANK:
        found.append("只有填空题可以设置区分大小写")
    return found


def _option_problems(q: Question) -> list[str]:
    label = q.kind.label
    if not MIN_OPTIONS <= len(q.options) <= MAX_OPTIONS:
        return [f"{label}需要{MIN_OPTIONS}到{MAX_OPTIONS}个选项，当前有{len(q.options)}个"]
    found = []
    for index, text in enumerate(q.options):
        letter = OPTION_LETTERS[index]
        if not text:
            found.append(f"选项{letter}为空，请填写选项内容或删去该选项")
        elif text in q.options[:index]:
            found.append(f"选项{letter}与前面的选项重复：“{text}”")
    return found


def _letter_problems(q: Question, letters: Iterable[str]) -> list[str]:
    valid = OPTION_LETTERS[: len(q.options)]
    wrong = [letter for letter in letters if letter not in valid]
    if wrong and valid:  # with no options, _option_problems has said it all
        return [f"答案“{'、'.join(wrong)}”不是选项字母，应为{valid[0]}到{valid[-1]}之间的字母"]
    return []


def _no_options(q: Question) -> list[str]:
    return [f"{q.kind.label}不能有选项，请清空选项"] if q.options else []


def _single_problems(q: Question) -> list[str]:
    found = _option_problems(q)
    if not isinstance(q.answer, str) or len(q.answer) != 1:
        return [*found, "单选题的答案应为一个选项字母，例如“A”"]
    return found + _letter_problems(q, q.answer)


def _multiple_problems(q: Question) -> list[str]:
    found = _option_problems(q)
    answer = q.answer
    if not isinstance(answer, tuple) or not answer:
        return [*found, "多选题的答案应为一个或多个选项字母，例如“ABD”"]
    if len(set(answer)) != len(answer):
        found.append("多选题的答案中有重复的字母")
    return found + _letter_problems(q, answer)  # type: ignore[arg-type]


def _true_false_problems(q: Question) -> list[str]:
    found = _no_options(q)
    if not isinstance(q.answer, bool):
        found.append("判断题的答案应为“正确”或“错误”")
    return found


def _fill_blank_problems(q: Question) -> list[str]:
    found = _no_options(q)
    answer = q.answer
    if not isinstance(answer, tuple) or not answer:
        return [*found, "填空题至少需要一个空的答案"]
    for number, blank in enumerate(answer, start=1):
        if not isinstance(blank, tuple) or not blank or not all(blank):
            found.append(f"填空题第{number}空没有答案，或有空的备选答案")
    return found


def _short_answer_problems(q: Question) -> list[str]:
    found = _no_options(q)
    if not isinstance(q.answer, str):
        found.append("简答题的参考答案应为文字")
    if any(not word for word in q.keywords):
        found.append("关键词中有空值，请删去多余的分隔符")
    return found


_TYPE_RULES: dict[QuestionType, Callable[[Question], list[str]]] = {
    QuestionType.SINGLE: _single_problems,
    QuestionType.MULTIPLE: _multiple_problems,
    QuestionType.TRUE_FALSE: _true_false_problems,
    QuestionType.FILL_BLANK: _fill_blank_problems,
    QuestionType.SHORT_ANSWER: _short_answer_problems,
}
