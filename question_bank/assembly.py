"""Paper assembly (组卷): fixed lists or rules, reproducible from a seed.

The same pool (in the same order), spec, seed and flags always give the same paper.
Rules draw in order and never draw a question twice. Options are shuffled per paper
unless the question is 判断题 or an option points at other options (以上都是,
以上均不正确, A和B都对, all of the above, ...): such options only make sense in
their written place. ``PaperItem.option_order`` keeps the mapping, so a response given
in displayed letters is graded against the original answer.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_FLOOR, Decimal

from question_bank.errors import AssemblyError
from question_bank.grading import GradeResult, MultiplePolicy, Response, grade
from question_bank.normalize import parse_letters
from question_bank.types import (
    DIFFICULTY_LABELS,
    OPTION_LETTERS,
    QUESTION_TYPES,
    Answer,
    Difficulty,
    Question,
    QuestionType,
)

_POSITIONAL_OPTION = re.compile(
    r"(以上|上述|前述).{0,6}?(都|均|皆|全|所有|各项|[一二三四五六七八两\d]项)"
    r"|(?<![A-Za-z])[A-H]\s*[和与及、,，+]\s*[A-H](?![A-Za-z])"
    r"|^(都|均|全部?)(是|不是|对|错|正确|不正确|选)$"
    r"|(all|none|both|neither) of the above|both [a-h] and [a-h]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PoolItem:
    """A question the app offers for assembly; ``id`` is the app's primary key."""

    id: Hashable
    question: Question


@dataclass(frozen=True)
class Rule:
    """Draw ``count`` questions from ``category`` (and its subcategories).

    ``points`` overrides each drawn question's own points.
    """

    count: int
    category: tuple[str, ...] = ()
    type: QuestionType | None = None
    difficulty: Difficulty | None = None
    points: Decimal | None = None

    def matches(self, question: Question) -> bool:
        """Whether ``question`` is one this rule may draw."""
        return (
            question.category[: len(self.category)] == tuple(self.category)
            and self.type in (None, question.type)
            and self.difficulty in (None, question.difficulty)
        )

    def describe(self) -> str:
        """The rule in words, e.g. 分类“党纪党规/纪律处分条例”，单选题，难度“易”."""
        parts = [f"分类“{'/'.join(self.category)}”" if self.category else "全部分类"]
        if self.type is not None:
            parts.append(QUESTION_TYPES[self.type].label)
        if self.difficulty is not None:
            parts.append(f"难度“{DIFFICULTY_LABELS[Difficulty(self.difficulty)]}”")
        return "，".join(parts)


@dataclass(frozen=True)
class PaperItem:
    """One question as a paper shows it.

    ``option_order[i]`` is the original index of the option displayed in position i;
    it is ``(0, 1, ...)`` when the options were not shuffled.
    """

    id: Hashable
    question: Question
    points: Decimal
    option_order: tuple[int, ...]

    @property
    def displayed_options(self) -> tuple[str, ...]:
        """The options in the order the taker sees them."""
        return tuple(self.question.options[index] for index in self.option_order)

    @property
    def displayed_answer(self) -> Answer:
        """The answer in displayed letters (other types: the answer unchanged)."""
        to_displayed = {
            OPTION_LETTERS[original]: OPTION_LETTERS[shown]
            for shown, original in enumerate(self.option_order)
        }
        answer = self.question.answer
        if self.question.type is QuestionType.SINGLE:
            return to_displayed[answer]  # type: ignore[index]
        if self.question.type is QuestionType.MULTIPLE:
            return tuple(sorted(to_displayed[letter] for letter in answer))  # type: ignore[union-attr]
        return answer

    def to_original(self, response: Response) -> Response:
        """Translate a choice response from displayed letters to the original letters.

        Responses to other types, and text that is not option letters, pass unchanged.
        """
        if not self.question.kind.has_options or response is None or isinstance(response, bool):
            return response
        text = response if isinstance(response, str) else "".join(response)
        letters = parse_letters(text)
        if not letters or any(OPTION_LETTERS.index(x) >= len(self.option_order) for x in letters):
            return response
        return tuple(
            sorted(OPTION_LETTERS[self.option_order[OPTION_LETTERS.index(x)]] for x in letters)
        )

    def grade(
        self,
        response: Response,
        *,
        multiple_policy: MultiplePolicy = "all_or_nothing",
        partial_fraction: Decimal = Decimal("0.5"),
    ) -> GradeResult:
        """Grade a response given in displayed letters, out of this item's points."""
        question = replace(self.question, points=self.points)
        return grade(
            question,
            self.to_original(response),
            multiple_policy=multiple_policy,
            partial_fraction=partial_fraction,
        )


@dataclass(frozen=True)
class Paper:
    """The questions of one attempt, in display order, and the seed that drew them."""

    items: tuple[PaperItem, ...]
    seed: int | str

    @property
    def total_points(self) -> Decimal:
        """The sum of the items' points."""
        return sum((item.points for item in self.items), Decimal(0))


def assemble_paper(
    pool: Iterable[PoolItem],
    spec: Sequence[Hashable] | Sequence[Rule],
    seed: int | str,
    *,
    shuffle_questions: bool = False,
    shuffle_options: bool = True,
) -> Paper:
    """Build a paper from ``pool`` by a fixed list of ids or by a list of :class:`Rule`.

    :param spec: question ids in display order, or rules drawn in order.
    :param seed: seeds ``random.Random``; the same inputs give the same paper.
    :param shuffle_questions: shuffle the order of the drawn questions.
    :param shuffle_options: shuffle options where allowed (see module docstring).
    :raises AssemblyError: when the spec is empty, an id is missing or repeated, or a
        rule asks for more questions than the pool has left.
    """
    pool = list(pool)
    rng = random.Random(seed)
    if not spec:
        raise AssemblyError("组卷规则为空：请至少指定一道题或一条抽题规则")
    if all(isinstance(entry, Rule) for entry in spec):
        drawn = _draw_by_rules(pool, spec, rng)  # type: ignore[arg-type]
    else:
        drawn = _pick_fixed(pool, spec)
    if shuffle_questions:
        rng.shuffle(drawn)
    items = tuple(
        PaperItem(
            pool_item.id, pool_item.question, points, _option_order(pool_item, rng, shuffle_options)
        )
        for pool_item, points in drawn
    )
    return Paper(items, seed)


def can_shuffle_options(question: Question) -> bool:
    """Whether the options of ``question`` may be shown in another order."""
    return question.kind.has_options and not any(
        _POSITIONAL_OPTION.search(option) for option in question.options
    )


def _option_order(item: PoolItem, rng: random.Random, shuffle: bool) -> tuple[int, ...]:
    order = list(range(len(item.question.options)))
    if shuffle and can_shuffle_options(item.question):
        rng.shuffle(order)
    return tuple(order)


def _pick_fixed(pool: list[PoolItem], ids: Sequence[Hashable]) -> list[tuple[PoolItem, Decimal]]:
    by_id = {item.id: item for item in pool}
    repeated = sorted(str(i) for i, times in Counter(ids).items() if times > 1)
    if repeated:
        raise AssemblyError(f"试卷中有重复的题目：{'、'.join(repeated)}")
    missing = [str(i) for i in ids if i not in by_id]
    if missing:
        raise AssemblyError(f"题库中找不到这些题目：{'、'.join(missing)}")
    return [(by_id[i], by_id[i].question.points) for i in ids]


def _draw_by_rules(
    pool: list[PoolItem], rules: Sequence[Rule], rng: random.Random
) -> list[tuple[PoolItem, Decimal]]:
    used: set[int] = set()
    drawn: list[tuple[PoolItem, Decimal]] = []
    for number, rule in enumerate(rules, start=1):
        matching = [i for i, item in enumerate(pool) if rule.matches(item.question)]
        free = [i for i in matching if i not in used]
        if rule.count < 1 or len(free) < rule.count:
            raise AssemblyError(_shortage_message(number, rule, len(matching), len(free)))
        for index in rng.sample(free, rule.count):
            used.add(index)
            item = pool[index]
            drawn.append((item, rule.points if rule.points is not None else item.question.points))
    return drawn


def _shortage_message(number: int, rule: Rule, matching: int, free: int) -> str:
    if rule.count < 1:
        return f"第{number}条规则（{rule.describe()}）的抽题数量应至少为1，当前为{rule.count}"
    message = (
        f"第{number}条规则（{rule.describe()}）要抽{rule.count}题，题库中符合条件的共{matching}题"
    )
    if matching > free:
        message += f"，其中{matching - free}题已被前面的规则抽走，只剩{free}题"
    return message + "，请减少抽题数量或向题库补充题目"


def scale_points(
    items: Sequence[PaperItem], total: Decimal | int = 100, *, step: Decimal = Decimal("0.5")
) -> tuple[PaperItem, ...]:
    """Scale the items' points in proportion so that they sum exactly to ``total``.

    Each item gets a whole number of ``step`` (0.5 by default; pass ``Decimal("0.1")``
    for finer marks). Points are first rounded down to a step; the steps still missing
    go one each to the items that lost the most in rounding (the earlier item on a
    tie), so the sum is exactly ``total`` (the largest-remainder method).

    :raises AssemblyError: if ``total`` is not a multiple of ``step``, or so small
        that an item would get 0 points.
    """
    total = Decimal(total)
    units = total / step
    if units != units.to_integral_value() or not items:
        raise AssemblyError(f"总分{total}不是{step}的整数倍，或试卷没有题目")
    weights = [item.points for item in items]
    exact = [weight * units / sum(weights) for weight in weights]
    shares = [share.to_integral_value(ROUND_FLOOR) for share in exact]
    by_loss = sorted(range(len(items)), key=lambda i: (shares[i] - exact[i], i))
    for index in by_loss[: int(units - sum(shares))]:
        shares[index] += 1
    if any(share == 0 for share in shares):
        raise AssemblyError(f"总分{total}太小：按{step}分一档，有题目会得0分")
    return tuple(
        replace(item, points=share * step) for item, share in zip(items, shares, strict=True)
    )
