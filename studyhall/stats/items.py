"""Item analysis of an exam, as Moodle's quiz statistics report defines it (ANCHORS.md).

The answers of the counted attempts come from ONE query, counted by the database by
question, score, the attempt's score and wrong answer (a few hundred rows for a city's
100,000 people), and are spread out again into numpy arrays (numpy is loaded with the
first analysis, not with the app); numpy does the statistics. For a question with marks
x over the attempts that drew it, and y the rest of the paper (the attempt's score minus
x):

- facility (得分率) = mean(x) ÷ the question's mark;
- SD = the standard deviation of x with the n − 1 denominator, as a share of the mark;
- discrimination index = 100 · cov(x, y) ÷ √(var(x) · var(y));
- discriminative efficiency = 100 · cov(x, y) ÷ cov_max, cov_max pairing both lists sorted;
- for the paper (only when every attempt drew the same questions): internal consistency
  (Cronbach's α) = 100 · p/(p − 1) · (1 − Σ var(xᵢ) ÷ var(total)); error ratio =
  100 · √(1 − α/100); standard error = error ratio · SD(total) ÷ 100.

The wrong answer chosen most is tallied from the same rows: each distinct wrong answer
(option order and response) is read once, with how many gave it.
Floats stop here: each statistic leaves as a Decimal of its shortest repr, and pages and
sheets round it half up through studyhall.figures like every other figure. An 简答 still
waiting for a grader counts 0 (the analysis is then marked provisional).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa

import question_bank as qb
from studyhall.extensions import db
from studyhall.org.models import Person, Unit
from studyhall.quizzes import review
from studyhall.quizzes.models import (
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Quiz,
    QuizQuestion,
    QuizRecipient,
)
from studyhall.stats.queries import (
    EVERYONE,
    Filters,
    counted_attempt,
    recipient_conditions,
    without_jit,
)

if TYPE_CHECKING:
    import numpy as np

LETTERS = "ABCDEFGH"
#: Below this facility (a share of the mark) a question is flagged: a wrong key, or too hard.
LOW_FACILITY = Decimal("0.20")
#: Whose wrong answers are tallied: the option (or 对/错, or the text) chosen most.
WRONG_TALLIED = ("single", "multiple", "true_false", "fill_blank")


@dataclass
class WrongChoice:
    """The wrong answer chosen most: an option's letter and text (in the bank's order),
    对/错, or a 填空 answer, and by how many of those who answered."""

    label: str
    text: str
    count: int


@dataclass
class ItemStats:
    number: int
    question_id: int
    type: str
    stem: str
    mark: Decimal
    attempts: int = 0
    #: Shares (0–1) and indices (−100–100) as exact Decimals of the computed values.
    facility: Decimal | None = None
    sd: Decimal | None = None
    discrimination: Decimal | None = None
    efficiency: Decimal | None = None
    wrong: WrongChoice | None = None
    #: Why the wrong answer chosen most is not shown to this viewer ("" when it is): it
    #: tells which option is not the key (quizzes/review.py decides, as for the key).
    withheld: str = ""

    @property
    def type_label(self) -> str:
        kind = qb.QUESTION_TYPES.get(self.type)
        return kind.label if kind else self.type

    @property
    def low_facility(self) -> bool:
        return self.facility is not None and self.facility < LOW_FACILITY

    @property
    def negative_discrimination(self) -> bool:
        return self.discrimination is not None and self.discrimination < 0

    @property
    def flagged(self) -> bool:
        return self.low_facility or self.negative_discrimination


@dataclass
class PaperStats:
    attempts: int = 0
    #: Every counted attempt drew the same questions (α is only defined then).
    same_paper: bool = True
    mean: Decimal | None = None
    sd: Decimal | None = None
    alpha: Decimal | None = None
    error_ratio: Decimal | None = None
    standard_error: Decimal | None = None
    provisional: bool = False
    items: list[ItemStats] = field(default_factory=list)

    @property
    def flagged(self) -> list[ItemStats]:
        return [item for item in self.items if item.flagged]


def _decimal(value) -> Decimal | None:
    """A numpy result as the exact decimal of its shortest repr; None for NaN or inf."""
    import numpy as np

    value = float(value)
    if not np.isfinite(value):
        return None
    return Decimal(repr(value))


def _counted_attempts(quiz: Quiz, viewer: Person, filters: Filters):
    """(counted, select): the counted attempt of each expected participant in the
    filters (an alias of Attempt), and ``select(*columns)`` from them. Picked by the
    per-person probe on both databases: PostgreSQL then hashes the counted attempts and
    streams the answers past them (queries.counted_attempt says why)."""
    counted = counted_attempt(quiz)

    def select(*columns) -> sa.Select:
        return (sa.select(*columns)
                .select_from(QuizRecipient)
                .join(Unit, Unit.id == QuizRecipient.unit_id)
                .join(counted.attempt, counted.on)
                .where(*recipient_conditions(quiz, viewer, filters)))
    return counted.attempt, select


def _wrong_text() -> sa.ColumnElement:
    """"option order#response" (JSON texts) of a 单选/多选/判断/填空 answer given that did
    not earn full marks, else NULL: its wrong choices are read from it, once per distinct
    text."""
    row = AttemptQuestion
    return sa.case((sa.and_(row.type.in_(WRONG_TALLIED), row.response.is_not(None),
                            sa.or_(row.score.is_(None), row.score < row.points)),
                    sa.cast(row.option_order, sa.Text).concat("#")
                    .concat(sa.cast(row.response, sa.Text))))


def _float(column) -> sa.ColumnElement:
    """A score as a float (numpy takes them so); NULL (an 简答 not graded yet) counts 0
    for now, as it does in the attempt's score."""
    return sa.func.coalesce(sa.cast(column, sa.Float), 0.0)


def query_answer_counts(quiz: Quiz, viewer: Person, filters: Filters) -> sa.Select:
    """The answers of the counted attempts in the filters, counted by what the statistics
    need of them: (question id, its score x, the attempt's score T, the wrong answer's
    text or NULL, the question's mark, how many answers).

    T is the attempt's stored score, which is always the sum of its answers' scores
    (quizzes/taking.recompute_totals writes it from them), so one pass over the answers
    is enough; and the database hands over a few hundred rows for a city (10 questions ×
    a few scores × a few totals × a few wrong answers) where a row per answer would be
    900,000: fetching rows into Python, not reading them, was most of the analysis's
    time there, and while the database works on a statement other Python threads run
    (the score sheet's rows are written beside it), while a fetch they wait."""
    row = AttemptQuestion
    counted, select = _counted_attempts(quiz, viewer, filters)
    answers = (select(row.question_id.label("question_id"), _float(row.score).label("x"),
                      _float(counted.score).label("total"), _wrong_text().label("wrong"),
                      sa.cast(row.points, sa.Float).label("mark"))
               .join(row, row.attempt_id == counted.id).subquery())
    keys = [answers.c.question_id, answers.c.x, answers.c.total, answers.c.wrong]
    return sa.select(*keys, sa.func.max(answers.c.mark), sa.func.count()).group_by(*keys)


def query_total_counts(quiz: Quiz, viewer: Person, filters: Filters) -> sa.Select:
    """(the attempt's score, how many) of the counted attempts in the filters that hold
    an answer."""
    counted, select = _counted_attempts(quiz, viewer, filters)
    totals = (select(_float(counted.score).label("total"))
              .where(sa.exists().where(AttemptQuestion.attempt_id == counted.id)).subquery())
    return sa.select(totals.c.total, sa.func.count()).group_by(totals.c.total)


def fetch_rows(query: sa.Select) -> list[tuple]:
    """The rows of ``query`` read from the driver's cursor itself (SQLAlchemy binds the
    parameters; its per-row result path, like pandas', costs several times the query on
    a million rows). The columns must need no result processing: ints, floats, text."""
    without_jit()
    result = db.session.connection().execute(query)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


@dataclass
class Answers:
    """The counted attempts' answers as the statistics read them: per question (by id)
    its mark and the scores x with the attempt's score T beside each; every attempt's
    score; and how often each wrong answer ("question id#option order#response") was
    given."""

    marks: dict[int, float]
    scores: dict[int, tuple[np.ndarray, np.ndarray]]
    totals: np.ndarray
    wrong: Counter


def get_answers(quiz: Quiz, viewer: Person, filters: Filters) -> Answers:
    """The counted attempts' answers in the filters, counted by the database and spread
    out again here (sorted, so the sums below always add in one order)."""
    import numpy as np

    rows = sorted(fetch_rows(query_answer_counts(quiz, viewer, filters)),
                  key=lambda row: (row[0], row[1], row[2]))
    marks: dict[int, float] = {}
    counts: dict[int, tuple[list, list, list]] = {}
    wrong: Counter = Counter()
    for question_id, x, total, text, mark, count in rows:
        marks[question_id] = max(marks.get(question_id, mark), mark)
        xs, ts, ns = counts.setdefault(question_id, ([], [], []))
        xs.append(x)
        ts.append(total)
        ns.append(count)
        if text is not None:
            wrong[f"{question_id}#{text}"] += count
    scores = {question_id: (np.repeat(np.array(xs, dtype=float), ns),
                            np.repeat(np.array(ts, dtype=float), ns))
              for question_id, (xs, ts, ns) in counts.items()}
    totals = sorted(fetch_rows(query_total_counts(quiz, viewer, filters)))
    return Answers(marks, scores, np.repeat(np.array([t for t, _ in totals], dtype=float),
                                            [n for _, n in totals]), wrong)


def _provisional(quiz: Quiz, viewer: Person, filters: Filters) -> bool:
    """Whether anyone in the filters has a submitted attempt waiting for a grader."""
    waiting = sa.exists().where(Attempt.quiz_id == quiz.id,
                                Attempt.person_id == QuizRecipient.person_id,
                                Attempt.status == AttemptStatus.SUBMITTED,
                                Attempt.pending_manual)
    return db.session.scalar(
        sa.select(QuizRecipient.person_id).join(Unit, Unit.id == QuizRecipient.unit_id)
        .where(*recipient_conditions(quiz, viewer, filters), waiting).limit(1)) is not None


def get_item_analysis(quiz: Quiz, viewer: Person, filters: Filters = EVERYONE) -> PaperStats:
    """Each question's statistics over the counted attempts of the expected participants
    in the filters that the viewer may see, and the paper's."""
    snapshot = list(db.session.scalars(
        sa.select(QuizQuestion).where(QuizQuestion.quiz_id == quiz.id)
        .order_by(QuizQuestion.position, QuizQuestion.question_id)))
    answers = get_answers(quiz, viewer, filters)
    paper = PaperStats(provisional=_provisional(quiz, viewer, filters))
    items = {row.question_id: ItemStats(number, row.question_id, row.type,
                                        str(row.config.get("stem", "")), Decimal(0))
             for number, row in enumerate(snapshot, start=1)}
    if len(answers.totals):
        _compute(answers, items, paper)
    wrong = _most_chosen_wrong(answers.wrong, {row.question_id: row for row in snapshot})
    keys = review.key_view(viewer, quiz, list(items), staff=True)
    for question_id, choice in wrong.items():
        if question_id in items:
            if keys.shows(question_id):
                items[question_id].wrong = choice
            else:
                items[question_id].withheld = keys.note(question_id)
    paper.items = [item for item in items.values() if item.attempts] + \
        [item for item in items.values() if not item.attempts]
    return paper


def _compute(answers: Answers, items: dict[int, ItemStats], paper: PaperStats) -> None:
    import numpy as np

    totals = answers.totals
    paper.attempts = len(totals)
    # Every attempt drew every question anyone drew.
    paper.same_paper = all(len(x) == len(totals) for x, _ in answers.scores.values())
    paper.mean = _decimal(totals.mean())
    if paper.attempts > 1:
        paper.sd = _decimal(totals.std(ddof=1))
    variances = []
    for question_id in sorted(answers.scores):
        x, total = answers.scores[question_id]
        y = total - x
        item = items.get(question_id)
        if item is None:  # a question no longer in the snapshot: not analysed
            continue
        mark = answers.marks[question_id]
        item.mark = Decimal(repr(mark))
        item.attempts = len(x)
        if mark > 0:
            item.facility = _decimal(x.mean() / mark)
        if len(x) > 1:
            variances.append(x.var(ddof=1))
            if mark > 0:
                item.sd = _decimal(x.std(ddof=1) / mark)
            item.discrimination, item.efficiency = _discrimination(x, y)
    p = len(variances)
    if paper.same_paper and p > 1 and paper.attempts > 1:
        total_variance = totals.var(ddof=1)
        if total_variance > 0:
            alpha = 100 * p / (p - 1) * (1 - sum(variances) / total_variance)
            paper.alpha = _decimal(alpha)
            if alpha <= 100:
                error_ratio = 100 * np.sqrt(max(0.0, 1 - alpha / 100))
                paper.error_ratio = _decimal(error_ratio)
                paper.standard_error = _decimal(error_ratio * totals.std(ddof=1) / 100)


def _discrimination(x: np.ndarray, y: np.ndarray) -> tuple[Decimal | None, Decimal | None]:
    """Moodle's discrimination index and discriminative efficiency (percent); None when
    either list does not vary (everyone scored alike)."""
    import numpy as np

    cov = np.cov(x, y, ddof=1)[0, 1]
    var_x, var_y = x.var(ddof=1), y.var(ddof=1)
    if var_x <= 0 or var_y <= 0:
        return None, None
    index = 100 * cov / np.sqrt(var_x * var_y)
    cov_max = np.cov(np.sort(x), np.sort(y), ddof=1)[0, 1]
    efficiency = 100 * cov / cov_max if cov_max > 0 else np.nan
    return _decimal(index), _decimal(efficiency)


def _most_chosen_wrong(given: Counter, snapshot: dict[int, QuizQuestion]
                       ) -> dict[int, WrongChoice]:
    """For 单选/多选/判断 the wrong option (or 对/错) chosen most, and for 填空 the wrong
    answer given most: ``given`` counts each "question id#option order#response", each
    distinct one read once (in the bank's option order)."""
    tallies: dict[int, Counter] = {}
    for text, count in given.items():
        question_text, _, rest = text.partition("#")
        question = snapshot.get(int(question_text))
        if question is None:
            continue
        order_text, _, response_text = rest.partition("#")
        for choice in _wrong_choices(question.type, question.config,
                                     json.loads(order_text or "[]"), json.loads(response_text)):
            tallies.setdefault(question.question_id, Counter())[choice] += count
    result = {}
    for question_id, tally in tallies.items():
        (label, text), count = min(tally.items(), key=lambda kv: (-kv[1], kv[0]))
        result[question_id] = WrongChoice(label, text, count)
    return result


def _wrong_choices(kind: str, config: dict, order: list, response) -> list[tuple[str, str]]:
    """The wrong choices in one answer, as (label, text) in the bank's option order."""
    from flask_babel import gettext as _

    answer = config.get("answer")
    if kind == "true_false":
        if isinstance(response, bool) and response != answer:
            return [(_("True") if response else _("False"), "")]
        return []
    if kind == "fill_blank":
        text = "；".join(str(b) for b in response) if isinstance(response, list) else str(response)
        return [("", text)] if text.strip() else []
    options = config.get("options", [])
    right = set(answer if isinstance(answer, list) else [answer])
    chosen = response if isinstance(response, list) else [response]
    found = []
    for letter in chosen:
        if not isinstance(letter, str) or letter not in LETTERS[:len(order)]:
            continue
        original = order[LETTERS.index(letter)] if order else LETTERS.index(letter)
        original_letter = LETTERS[original]
        if original_letter not in right and original < len(options):
            found.append((original_letter, str(options[original])))
    return found
