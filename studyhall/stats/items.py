"""Item analysis of an exam, as Moodle's quiz statistics report defines it (ANCHORS.md).

The score matrix (counted attempt × question) comes from ONE query, pivoted by the
database to a row per attempt and read straight into numpy arrays (numpy is loaded
with the first analysis, not with the app); numpy does the statistics. For a question
with marks x over the attempts that drew it, and y the rest of the paper (the attempt's
total minus x):

- facility (得分率) = mean(x) ÷ the question's mark;
- SD = the standard deviation of x with the n − 1 denominator, as a share of the mark;
- discrimination index = 100 · cov(x, y) ÷ √(var(x) · var(y));
- discriminative efficiency = 100 · cov(x, y) ÷ cov_max, cov_max pairing both lists sorted;
- for the paper (only when every attempt drew the same questions): internal consistency
  (Cronbach's α) = 100 · p/(p − 1) · (1 − Σ var(xᵢ) ÷ var(total)); error ratio =
  100 · √(1 − α/100); standard error = error ratio · SD(total) ÷ 100.

The wrong answer chosen most is tallied from the same rows (each attempt's wrong answers
come joined in one column of its row).
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


def _counted_answers(quiz: Quiz, viewer: Person, filters: Filters, *columns) -> sa.Select:
    """``columns`` of every answer row of every counted attempt in the filters."""
    counted = counted_attempt(quiz)
    return (sa.select(*columns)
            .select_from(QuizRecipient)
            .join(Unit, Unit.id == QuizRecipient.unit_id)
            .join(counted.attempt, counted.on)
            .join(AttemptQuestion, AttemptQuestion.attempt_id == counted.attempt.id)
            .where(*recipient_conditions(quiz, viewer, filters)))


def _wrong_answer() -> sa.ColumnElement:
    """"option order#response" (JSON texts) of a 单选/多选/判断/填空 answer that did not
    earn full marks, else NULL: the wrong answers are tallied from the matrix's rows."""
    row = AttemptQuestion
    return sa.case((sa.and_(row.type.in_(WRONG_TALLIED), row.response.is_not(None),
                            sa.or_(row.score.is_(None), row.score < row.points)),
                    sa.cast(row.option_order, sa.Text).concat("#")
                    .concat(sa.cast(row.response, sa.Text))))


def _score() -> sa.ColumnElement:
    """The answer's score as a float (numpy takes them so; a million Decimals cost
    seconds); an 简答 not graded yet counts 0 for now."""
    return sa.func.coalesce(sa.cast(AttemptQuestion.score, sa.Float), 0.0)


#: Up to this many questions in the snapshot, the matrix is pulled one row per attempt
#: (a tenth of the rows to hold for a 10-question city exam: 90,000 instead of 900,000);
#: wider, the database's CASE per question and row costs more than the rows it saves
#: (a 50-question paper: 2.5 s pivoted, 1.2 s a row per answer, on a fifth of the city).
PIVOT_MAX = 20
#: Joins the wrong answers of one attempt (JSON text never holds a raw control character).
_SEPARATOR = "\x1f"


def query_score_matrix(quiz: Quiz, viewer: Person, filters: Filters,
                       question_ids: list[int]) -> sa.Select:
    """The one query behind the analysis, already pivoted: ONE row per counted attempt in
    the filters — attempt id, how many of its answers are to questions outside
    ``question_ids`` (then :func:`query_answer_rows` must be used), its wrong answers as
    "question id#option order#response" joined by U+001F, then the score of each of
    ``question_ids`` (NULL where not drawn) and the mark of each.

    Grouped by the recipient, whose primary key the join walks in order (no sort), so
    the database hands over a tenth of the rows a row per answer would be: fetching rows
    into Python, not reading them, was most of the time on a city."""
    row = AttemptQuestion
    wrong = _wrong_answer()
    others = (sa.func.count(sa.case((row.question_id.not_in(question_ids), 1)))
              if question_ids else sa.func.count())
    return (_counted_answers(
        quiz, viewer, filters, sa.func.min(row.attempt_id), others,
        sa.func.aggregate_strings(
            sa.case((wrong.is_not(None),
                     sa.cast(row.question_id, sa.Text).concat("#").concat(wrong))),
            _SEPARATOR),
        *[sa.func.max(sa.case((row.question_id == question_id, _score())))
          for question_id in question_ids],
        *[sa.func.max(sa.case((row.question_id == question_id,
                               sa.cast(row.points, sa.Float))))
          for question_id in question_ids])
        .group_by(QuizRecipient.quiz_id, QuizRecipient.person_id))


def query_answer_rows(quiz: Quiz, viewer: Person, filters: Filters) -> sa.Select:
    """(attempt id, question id, mark, score, wrong answer) of every answer of every
    counted attempt in the filters: the matrix unpivoted, for a snapshot too wide to
    pivot in the query (a paper drawn from a large pool)."""
    return _counted_answers(quiz, viewer, filters, AttemptQuestion.attempt_id,
                            AttemptQuestion.question_id,
                            sa.cast(AttemptQuestion.points, sa.Float), _score(),
                            _wrong_answer())


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
class ScoreMatrix:
    """Counted attempts (rows, by id) × questions (columns, by id): the score, NaN where
    the attempt did not draw the question; each question's mark; and how often each
    wrong answer ("option order#response") was given to each question."""

    questions: list[int]
    scores: np.ndarray
    marks: list[float]
    wrong: Counter


def get_score_matrix(quiz: Quiz, viewer: Person, filters: Filters,
                     question_ids: list[int]) -> ScoreMatrix:
    """The matrix of the counted attempts in the filters; ``question_ids`` are the
    snapshot's (the columns, when every answer is to one of them)."""
    question_ids = sorted(question_ids)
    if len(question_ids) <= PIVOT_MAX:
        rows = fetch_rows(query_score_matrix(quiz, viewer, filters, question_ids))
        if not any(row[1] for row in rows):
            return _pivoted(rows, question_ids)
    return _unpivoted(fetch_rows(query_answer_rows(quiz, viewer, filters)))


def _pivoted(rows: list[tuple], question_ids: list[int]) -> ScoreMatrix:
    import numpy as np

    n = len(question_ids)
    rows.sort(key=lambda row: row[0])
    scores = np.array([row[3:3 + n] for row in rows], dtype=float).reshape(len(rows), n)
    marks = np.array([row[3 + n:] for row in rows], dtype=float).reshape(len(rows), n)
    drawn = ~np.isnan(scores).all(axis=0)  # a question nobody drew is no column
    wrong = Counter(_SEPARATOR.join(row[2] for row in rows if row[2]).split(_SEPARATOR)
                    if any(row[2] for row in rows) else ())
    return ScoreMatrix([q for q, keep in zip(question_ids, drawn, strict=True) if keep],
                       scores[:, drawn],
                       [float(m) for m in np.nanmax(marks[:, drawn], axis=0)]
                       if len(rows) else [], wrong)


def _unpivoted(rows: list[tuple]) -> ScoreMatrix:
    import numpy as np

    wrong = Counter(f"{row[1]}#{row[4]}" for row in rows if row[4] is not None)
    values = np.array([row[:4] for row in rows], dtype=float).reshape(len(rows), 4)
    attempts, row_of = np.unique(values[:, 0], return_inverse=True)
    questions, column_of = np.unique(values[:, 1], return_inverse=True)
    scores = np.full((len(attempts), len(questions)), np.nan)
    scores[row_of, column_of] = values[:, 3]
    marks = np.full(len(questions), -np.inf)
    np.maximum.at(marks, column_of, values[:, 2])
    return ScoreMatrix([int(q) for q in questions], scores, [float(m) for m in marks], wrong)


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
    matrix = get_score_matrix(quiz, viewer, filters, [row.question_id for row in snapshot])
    paper = PaperStats(provisional=_provisional(quiz, viewer, filters))
    items = {row.question_id: ItemStats(number, row.question_id, row.type,
                                        str(row.config.get("stem", "")), Decimal(0))
             for number, row in enumerate(snapshot, start=1)}
    if len(matrix.scores):
        _compute(matrix, items, paper)
    wrong = _most_chosen_wrong(matrix.wrong, {row.question_id: row for row in snapshot})
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


def _compute(scores: ScoreMatrix, items: dict[int, ItemStats], paper: PaperStats) -> None:
    import numpy as np

    matrix = scores.scores
    totals = np.nansum(matrix, axis=1)
    paper.attempts = len(totals)
    paper.same_paper = not np.isnan(matrix).any()
    if paper.attempts:
        paper.mean = _decimal(totals.mean())
    if paper.attempts > 1:
        paper.sd = _decimal(totals.std(ddof=1))
    variances = []
    for column, question_id in enumerate(scores.questions):
        x_all = matrix[:, column]
        drawn = ~np.isnan(x_all)
        x = x_all[drawn]
        y = totals[drawn] - x
        item = items.get(int(question_id))
        if item is None:  # a question no longer in the snapshot: not analysed
            continue
        mark = scores.marks[column]
        item.mark = Decimal(repr(mark))
        item.attempts = len(x)
        if mark > 0 and len(x):
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
