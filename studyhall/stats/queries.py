"""Exam figures (统计口径, DOMAIN.md) computed in SQL, the same on SQLite and PostgreSQL.

Every figure is taken over the expected participants fixed at publication
(``QuizRecipient``: their unit and 政治面貌 of that day) that the viewer may see, joined
to the attempt that counts (:func:`counted_attempt`). A unit's figures cover its whole
subtree, by the materialised path (``model_helpers.in_subtree``); a table of units is one
GROUP BY over ``root ⋈ descendants ⋈ recipients``, never rows loaded into Python.

- 应考 expected, 实考 took (a submitted attempt), 缺考 = 应考 − 实考.
- Totals, sums of squares, highest, lowest, 及格/优秀 counts and the score bands are
  aggregates (exact NUMERIC on PostgreSQL; on SQLite the 2-decimal scores are summed as
  REAL and read back at their scale, exact for any realistic count).
- The median is picked in SQL from each set's score histogram (how many people have each
  score; a running count over it in score order finds the middle one or two scores);
  the standard deviation (sample, n − 1, as Excel's STDEV.S) is formed from the SQL sums
  at the edge with Decimal arithmetic.

Rates and averages are rounded only when shown, by ``studyhall.figures``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Context, Decimal
from fractions import Fraction

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased

from studyhall.auth.scope import in_scope, scope_paths
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree
from studyhall.org.models import Person, PoliticalGroup, PoliticalStatus, Unit, UnitKind
from studyhall.quizzes.models import Attempt, AttemptStatus, Counting, Quiz, QuizRecipient

#: The score distribution: ten bands of a tenth of the total each, the last one closed.
BAND_COUNT = 10
#: Ranking orders a unit table offers (the key shown, rounded, decides; equal ones share).
RANK_KEYS = ("average", "average_expected", "participation", "pass_rate")


@dataclass(frozen=True)
class Filters:
    """What a statistics page is taken over: a unit's subtree (None: the viewer's whole
    scope), 政治面貌 at publication (empty: all), and for the unit table either the
    direct sub-units (kind None) or every unit of one kind in the subtree."""

    unit: Unit | None = None
    statuses: tuple[PoliticalStatus, ...] = ()
    kind: UnitKind | None = None


#: No filter: the viewer's whole scope, every 政治面貌, direct sub-units.
EVERYONE = Filters()


def parse_political(value: str | None) -> tuple[PoliticalStatus, ...]:
    """A 政治面貌 filter: a report group ("party_member": 中共党员 and 预备党员) or one
    GB/T 4762 code ("03"). Anything else means no filter."""
    if not value:
        return ()
    for group in PoliticalGroup:
        if group.value == value:
            return tuple(s for s in PoliticalStatus if s.group is group)
    try:
        return (PoliticalStatus(value),)
    except ValueError:
        return ()


@dataclass(frozen=True)
class Counted:
    """The attempt that counts, to be outer-joined to QuizRecipient: ``attempt`` (an
    alias of Attempt), the ``on`` clause, and ``pending`` (1 when any of the person's
    submitted attempts still waits for a 简答 grader: the figures are provisional)."""

    attempt: type
    on: sa.ColumnElement
    pending: sa.ColumnElement


def _mine(quiz: Quiz) -> tuple:
    """The recipient's submitted attempts (correlated to QuizRecipient)."""
    return (Attempt.quiz_id == quiz.id, Attempt.person_id == QuizRecipient.person_id,
            Attempt.status == AttemptStatus.SUBMITTED)


def _pending(quiz: Quiz) -> sa.ColumnElement:
    """1 when any of the recipient's submitted attempts waits for a 简答 grader: an IN
    over the (few) such people, which the database evaluates once, not per person."""
    waiting = sa.select(Attempt.person_id).where(
        Attempt.quiz_id == quiz.id, Attempt.status == AttemptStatus.SUBMITTED,
        Attempt.pending_manual)
    return sa.case((QuizRecipient.person_id.in_(waiting), 1), else_=0)


def counted_score(quiz: Quiz) -> sa.ColumnElement:
    """The recipient's counted score (None without a submitted attempt), one index probe
    per person: the highest score (MAX, no sort; read from the (quiz, person, status,
    score) index alone) or the last submitted attempt's (the unique (quiz, person,
    number) index's order)."""
    if quiz.counting is Counting.HIGHEST:
        return sa.select(sa.func.max(Attempt.score)).where(*_mine(quiz)).scalar_subquery()
    return (sa.select(Attempt.score).where(*_mine(quiz)).order_by(Attempt.number.desc())
            .limit(1).scalar_subquery())


def counted_people(quiz: Quiz, columns: list, conditions: list) -> sa.Select:
    """``columns`` of each expected participant (QuizRecipient joined to their Unit) that
    meets ``conditions``, and their counted score labelled "score" (None without a
    submitted attempt): the index probe of :func:`counted_score`, except for the highest
    score on PostgreSQL, where it is the MAX over an outer join of the recipient's
    submitted attempts grouped per recipient — the same score, which PostgreSQL
    hash-joins once instead of running a sub-plan per person (100,000 for a city: the
    year's exams 3.2 s → 1.8 s), while SQLite runs the probe faster than the grouping's
    sort (1.8 s against 2.2 s for the city exam)."""
    base = (sa.select(*columns).select_from(QuizRecipient)
            .join(Unit, Unit.id == QuizRecipient.unit_id).where(*conditions))
    if quiz.counting is Counting.HIGHEST and \
            db.session.get_bind().dialect.name == "postgresql":
        return (base.add_columns(sa.func.max(Attempt.score).label("score"))
                .outerjoin(Attempt, sa.and_(*_mine(quiz)))
                .group_by(QuizRecipient.quiz_id, QuizRecipient.person_id))
    return base.add_columns(counted_score(quiz).label("score"))


def counted_attempt(quiz: Quiz, *, every_person: bool = False) -> Counted:
    """Per expected participant, the attempt that counts (``Quiz.counting``): the highest
    score — of equal ones the earliest — or the last submitted. Agrees with
    quizzes.queries.counted_scores, which gives the score alone (a test checks it).

    It is picked per recipient by a correlated ``ORDER BY … LIMIT 1`` on the attempt's
    unique (quiz, person, number) index: one index probe per person on both databases.
    (A window-function subquery outer-joined instead made SQLite scan it once per
    recipient: seconds for 2,000 people, hours for a city.) Figures that need only the
    score use :func:`counted_score`, which needs no sort.

    With ``every_person`` (a whole sheet streamed: the export) the pick on PostgreSQL is
    one sorted pass over the exam's submitted attempts instead (see below). Not for a
    page of a branch's people: the pass cannot be narrowed to the page or the viewer's
    scope, so it would sort a city's 90,000 attempts for 50 rows (26 ms and a spill to
    disk, against 0.1 ms of probes). Nor for the item analysis: joined to the answers,
    the pass's estimate makes PostgreSQL hash the two million answers rather than the
    counted attempts (a city: 4.2 s against 2.5 s)."""
    if quiz.counting is Counting.HIGHEST:
        order = (Attempt.score.is_(None), Attempt.score.desc(), Attempt.number)
    else:
        order = (Attempt.number.desc(),)
    if every_person and db.session.get_bind().dialect.name == "postgresql":
        # PostgreSQL evaluates the correlated probe below twice per person inside its
        # hash join (190,000 probes for a city's 100,000 people): DISTINCT ON picks every
        # person's counted attempt from one sorted pass over the exam's submitted ones
        # (the city's score sheet: 1.2–1.5 s → 0.7 s).
        picked = (sa.select(Attempt)
                  .where(Attempt.quiz_id == quiz.id, Attempt.status == AttemptStatus.SUBMITTED)
                  .order_by(Attempt.person_id, *order)
                  .ext(postgresql.distinct_on(Attempt.person_id)).subquery("counted"))
        counted = aliased(Attempt, picked, name="counted")
        return Counted(counted, counted.person_id == QuizRecipient.person_id, _pending(quiz))
    counted = aliased(Attempt, name="counted")
    chosen = (sa.select(Attempt.id).where(*_mine(quiz)).order_by(*order).limit(1)
              .scalar_subquery())
    return Counted(counted, counted.id == chosen, _pending(quiz))


def _in_progress(quiz: Quiz) -> sa.ColumnElement:
    """Whether the recipient has an attempt open now (the partial unique index)."""
    return sa.exists().where(Attempt.quiz_id == quiz.id,
                             Attempt.person_id == QuizRecipient.person_id,
                             Attempt.status == AttemptStatus.IN_PROGRESS)


def recipient_conditions(quiz: Quiz, viewer: Person, filters: Filters) -> list:
    """Conditions on QuizRecipient and Unit (the recipient's unit at publication)."""
    conditions = [QuizRecipient.quiz_id == quiz.id, in_scope(viewer)]
    if filters.unit is not None:
        conditions.append(in_subtree(Unit.path, [filters.unit.path]))
    if filters.statuses:
        conditions.append(QuizRecipient.political_status.in_(filters.statuses))
    return conditions


# --- the figures of a set of expected participants ----------------------------------


@dataclass
class ExamFigures:
    """The counts and exact sums of a set of expected participants; rates and averages
    are formed from them by studyhall.figures when shown."""

    expected: int = 0
    took: int = 0
    total: Decimal = Decimal(0)
    squares: Decimal = Decimal(0)
    highest: Decimal | None = None
    lowest: Decimal | None = None
    passed: int = 0
    excellent: int = 0
    #: People whose figures may still change: a submitted attempt waits for a grader.
    pending: int = 0
    bands: list[int] = field(default_factory=lambda: [0] * BAND_COUNT)
    median: Fraction | None = None

    @property
    def absent(self) -> int:
        return self.expected - self.took

    @property
    def provisional(self) -> bool:
        return self.pending > 0

    @property
    def sd(self) -> Decimal | None:
        """Sample standard deviation (n − 1) of the counted scores; None under two."""
        n = self.took
        if n < 2:
            return None
        total, squares = Fraction(self.total), Fraction(self.squares)
        variance = (n * squares - total * total) / (n * (n - 1))
        if variance <= 0:
            return Decimal(0)
        context = Context(prec=30)
        return context.divide(Decimal(variance.numerator), Decimal(variance.denominator)) \
            .sqrt(context)

    def ratio_key(self, key: str):
        """The exact value a ranking compares (before rounding), or None."""
        if key == "average":
            return Fraction(self.total) / self.took if self.took else None
        if key == "average_expected":
            return Fraction(self.total) / self.expected if self.expected else None
        if key == "participation":
            return Fraction(self.took, self.expected) if self.expected else None
        return Fraction(self.passed, self.took) if self.took else None


def band_edges(quiz: Quiz) -> list[Decimal]:
    """The 11 edges of the score bands: 0, a tenth of the total, …, the total."""
    return [quiz.total_points * k / BAND_COUNT for k in range(BAND_COUNT + 1)]


#: Keys of the rows of a figures statement besides unit ids: the whole set, and the people
#: attached to the filters' unit itself (本级).
TOTAL, OWN = -1, 0


def _aggregates(quiz: Quiz, rows) -> list:
    """The aggregates of one figures row over ``rows``, the histogram of a key's counted
    scores (key, score, people, pending, upto, size: how many people have that score, how
    many of them wait for a grader, how many scores up to this one, how many in all):
    counts, exact sums, extremes, 及格/优秀 counts, the bands, and the median's middle one
    or two scores (positions (size + 1) // 2 and (size + 2) // 2 of the scores in order:
    the histogram row whose range upto − people < position ≤ upto holds it)."""
    score, people, upto, size = rows.c.score, rows.c.people, rows.c.upto, rows.c.size
    scored = score.is_not(None)
    edges = band_edges(quiz)

    def count(condition) -> sa.ColumnElement:
        return sa.func.sum(sa.case((condition, people), else_=0))

    bands = []
    for k in range(BAND_COUNT):
        upper = score <= edges[k + 1] if k == BAND_COUNT - 1 else score < edges[k + 1]
        bands.append(count(sa.and_(score >= edges[k], upper)))
    # Integer division (``//`` renders "/" on integers on both databases).
    first, second = (size + 1) // 2, (size + 2) // 2

    def holds(position) -> sa.ColumnElement:
        return sa.and_(scored, upto - people < position, position <= upto)

    # The second middle position only when there are two (an even number of scores).
    middle = (holds(first), sa.and_(second != first, holds(second)))
    score_type = Attempt.__table__.c.score.type
    square_type = sa.Numeric(24, 4)
    return [
        sa.func.sum(people), count(scored),
        sa.type_coerce(sa.func.sum(score * people), score_type),
        # The square keeps four decimals: NUMERIC on PostgreSQL, REAL read back at scale 4
        # on SQLite.
        sa.type_coerce(sa.func.sum(sa.cast(score * score, square_type) * people), square_type),
        sa.func.max(score), sa.func.min(score),
        count(score >= quiz.pass_mark), count(score >= quiz.excellent_mark),
        sa.func.sum(rows.c.pending),
        sa.type_coerce(sa.func.sum(sa.case((middle[0], score), else_=0))
                       + sa.func.sum(sa.case((middle[1], score), else_=0)), score_type),
        sa.func.sum(sa.case((middle[0], 1), else_=0))
        + sa.func.sum(sa.case((middle[1], 1), else_=0)),
        *bands,
    ]


def _figures_from(row) -> ExamFigures:
    (expected, took, total, squares, highest, lowest, passed, excellent, pending,
     middle_total, middle_count, *bands) = row
    figures = ExamFigures(int(expected or 0), int(took or 0), Decimal(total or 0),
                          Decimal(squares or 0), highest, lowest, int(passed or 0),
                          int(excellent or 0), int(pending or 0), [int(b or 0) for b in bands])
    if middle_count:
        figures.median = Fraction(Decimal(middle_total)) / int(middle_count)
    return figures


def _people(quiz: Quiz, viewer: Person, filters: Filters) -> sa.CTE:
    """Each expected participant in the filters: unit, counted score, pending — computed
    once (a materialised CTE) however many rows of the statement read it."""
    return (counted_people(quiz, [QuizRecipient.unit_id, _pending(quiz).label("pending")],
                           recipient_conditions(quiz, viewer, filters))
            .cte("people").prefix_with("MATERIALIZED"))


def without_jit() -> None:
    """PostgreSQL compiles large one-off aggregates with its JIT (150 ms and more here)
    for statements that run in less: statistics switch it off for their transaction."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))


def _figures_by_key(quiz: Quiz, viewer: Person, filters: Filters, *, total: bool = True,
                    own: bool = False, which=None) -> dict[int, ExamFigures]:
    """Figures of several sets of people in ONE statement (one index probe per person):
    TOTAL, everyone in the filters; OWN, those attached to ``filters.unit`` itself; and
    each root unit ``which(root)`` selects, over its subtree (a person counts in every
    selected root above them). The figures and medians are read from each key's score
    histogram in the same statement."""
    people = _people(quiz, viewer, filters)
    parts = []
    if total:
        parts.append(sa.select(sa.literal(TOTAL).label("key"), people.c.score,
                               people.c.pending))
    if own:
        parts.append(sa.select(sa.literal(OWN), people.c.score, people.c.pending)
                     .where(people.c.unit_id == filters.unit.id))
    if which is not None:
        # Which selected roots each unit lies under: a few thousand (unit, root) pairs,
        # joined to the people by unit id (the database indexes this small table itself)
        # rather than testing every root's path range for every person.
        root, unit = aliased(Unit, name="root"), aliased(Unit, name="below")
        keys = (sa.select(unit.id.label("unit_id"), root.id.label("key"))
                .select_from(root).join(unit, in_subtree(unit.path, root.path))
                .where(which(root)).cte("unit_keys").prefix_with("MATERIALIZED"))
        parts.append(sa.select(keys.c.key, people.c.score, people.c.pending)
                     .select_from(people).join(keys, keys.c.unit_id == people.c.unit_id))
    rows = sa.union_all(*parts).subquery("rows") if len(parts) > 1 else \
        parts[0].subquery("rows")
    # Each key's histogram: how many people have each score (a city exam of 10 questions
    # has 11 different scores), which one GROUP BY makes; every figure, the median too, is
    # then read from these few rows instead of sorting and aggregating every person.
    histogram = (sa.select(rows.c.key, rows.c.score, sa.func.count().label("people"),
                           sa.func.sum(rows.c.pending).label("pending"))
                 .group_by(rows.c.key, rows.c.score).subquery("histogram"))
    scored = sa.case((histogram.c.score.is_not(None), histogram.c.people), else_=0)
    # The scores in order, those without a score last on both databases.
    in_order = (histogram.c.score.is_(None), histogram.c.score)
    # Integers (PostgreSQL's SUM of counts is NUMERIC), so that the middle positions are
    # whole numbers.
    ranked = sa.select(
        histogram,
        sa.cast(sa.func.sum(scored).over(partition_by=histogram.c.key, order_by=in_order,
                                         rows=(None, 0)), sa.Integer).label("upto"),
        sa.cast(sa.func.sum(scored).over(partition_by=histogram.c.key), sa.Integer)
        .label("size"),
    ).subquery("ranked")
    without_jit()
    result = db.session.execute(sa.select(ranked.c.key, *_aggregates(quiz, ranked))
                                .group_by(ranked.c.key))
    return {row[0]: _figures_from(row[1:]) for row in result}


def get_exam_figures(quiz: Quiz, viewer: Person, filters: Filters = EVERYONE) -> ExamFigures:
    """The figures of the expected participants in the filters' subtree and 政治面貌 that
    the viewer may see: one statement."""
    return _figures_by_key(quiz, viewer, filters).get(TOTAL, ExamFigures())


# --- units rolled up ----------------------------------------------------------------


@dataclass
class UnitFigures:
    unit: Unit | None  # None: the people attached to the parent unit itself (本级)
    figures: ExamFigures
    rank: int | None = None
    #: The unit has sub-units with participants (its row links to a deeper table).
    has_children: bool = False


def _selected_roots(viewer: Person, filters: Filters):
    """The condition on the root alias for the unit table of ``filters``."""
    unit, kind = filters.unit, filters.kind
    if kind is not None:
        base = [unit.path] if unit is not None else scope_paths(viewer)

        def which(root):
            inside = sa.true() if base is None else in_subtree(root.path, base)
            return sa.and_(root.kind == kind, inside)
        return which
    if unit is not None:
        return lambda root: root.parent_id == unit.id
    prefixes = scope_paths(viewer)
    if prefixes is None:
        return lambda root: root.parent_id.is_(None)
    return lambda root: root.path.in_(prefixes)


def get_exam_table(quiz: Quiz, viewer: Person, filters: Filters = EVERYONE,
                   rank_by: str = "average") -> tuple[ExamFigures, list[UnitFigures]]:
    """A statistics page's figures and its unit table, from one statement: each direct
    sub-unit of ``filters.unit`` (or each top unit of the viewer's scope), or with
    ``filters.kind`` every unit of that kind in the subtree, with its subtree's figures;
    units without expected participants are left out. Direct sub-units (if any) come with
    a 本级 row for people attached to the unit itself, so that the rows add up to the
    unit's figures. Ranked by ``rank_by`` as shown (rounded half up), equal values
    sharing a rank (1, 1, 3)."""
    with_own = filters.kind is None and filters.unit is not None
    figures = _figures_by_key(quiz, viewer, filters, own=with_own,
                              which=_selected_roots(viewer, filters))
    total = figures.pop(TOTAL, ExamFigures())
    own = figures.pop(OWN, None)
    units = {u.id: u for u in db.session.scalars(sa.select(Unit).where(
        Unit.id.in_(list(figures))))} if figures else {}
    with_children = _units_with_child_participants(quiz, list(units.values()))
    rows = [UnitFigures(units[key], value, has_children=key in with_children)
            for key, value in figures.items()]
    if rows and own is not None and own.expected:
        # At a unit without sub-units the people are listed instead (no 本级 row alone).
        rows.append(UnitFigures(None, own))
    _rank(rows, rank_by)
    return total, rows


def get_unit_figures(quiz: Quiz, viewer: Person, filters: Filters = EVERYONE,
                     rank_by: str = "average") -> list[UnitFigures]:
    """The unit table alone (see get_exam_table)."""
    return get_exam_table(quiz, viewer, filters, rank_by)[1]


def _units_with_child_participants(quiz: Quiz, units: list[Unit]) -> set[int]:
    """Which of ``units`` have expected participants below them (in a sub-unit)."""
    if not units:
        return set()
    root = aliased(Unit, name="root")
    return set(db.session.scalars(
        sa.select(root.id).distinct()
        .join(Unit, sa.and_(in_subtree(Unit.path, root.path), Unit.id != root.id))
        .join(QuizRecipient, sa.and_(QuizRecipient.unit_id == Unit.id,
                                     QuizRecipient.quiz_id == quiz.id))
        .where(root.id.in_([u.id for u in units]))))


def _rank(rows: list[UnitFigures], key: str) -> None:
    """Sort best first by the figure as shown and number the rows; equal shown values
    share a rank. Rows without the figure (nobody took part) come last, unranked."""
    from studyhall.figures import average_value, rate_value

    def shown(row: UnitFigures):
        f = row.figures
        if key == "average_expected":
            return average_value(f.total, f.expected)
        if key == "participation":
            return rate_value(f.took, f.expected)
        if key == "pass_rate":
            return rate_value(f.passed, f.took)
        return average_value(f.total, f.took)

    values = {id(row): shown(row) for row in rows}
    rows.sort(key=lambda r: (values[id(r)] is None, -(values[id(r)] or 0),
                             r.unit is None, r.unit.path if r.unit else ""))
    previous, rank = None, 0
    for position, row in enumerate(rows, start=1):
        value = values[id(row)]
        if value is None:
            row.rank = None
            continue
        if value != previous:
            rank, previous = position, value
        row.rank = rank


def get_all_unit_figures(quiz: Quiz, viewer: Person, filters: Filters = EVERYONE
                         ) -> tuple[ExamFigures, list[UnitFigures]]:
    """The figures of the whole filters and of every unit of the subtree (or scope) with
    participants, each over its subtree, in path order: the unit-summary sheet of an
    export. One statement."""
    unit = filters.unit
    prefixes = [unit.path] if unit is not None else scope_paths(viewer)

    def which(root):
        return sa.true() if prefixes is None else in_subtree(root.path, prefixes)

    figures = _figures_by_key(quiz, viewer, Filters(unit, filters.statuses), which=which)
    total = figures.pop(TOTAL, ExamFigures())
    units = sorted(db.session.scalars(sa.select(Unit).where(Unit.id.in_(list(figures)))),
                   key=lambda u: [int(i) for i in u.path.strip("/").split("/")])
    return total, [UnitFigures(u, figures[u.id]) for u in units]


# --- people: the score sheet --------------------------------------------------------


STATES = ("submitted", "pending", "in_progress", "absent")


@dataclass
class ScoreRow:
    person_id: int
    unit_id: int
    name: str
    account: str
    political_status: PoliticalStatus
    score: Decimal | None
    pending: bool
    in_progress: bool
    started_at: datetime | None
    submitted_at: datetime | None

    @property
    def state(self) -> str:
        """已交卷 / 待阅卷 (a 简答 waits for a grader) / 答题中 / 未参加."""
        if self.score is not None:
            return "pending" if self.pending else "submitted"
        return "in_progress" if self.in_progress else "absent"

    @property
    def seconds(self) -> int | None:
        """Time taken by the counted attempt, in whole seconds."""
        if self.started_at is None or self.submitted_at is None:
            return None
        return max(0, int((self.submitted_at - self.started_at).total_seconds()))


def query_score_sheet(quiz: Quiz, viewer: Person, filters: Filters = EVERYONE, *,
                      every_person: bool = False) -> sa.Select:
    """One row per expected participant in the filters that the viewer may see, with the
    counted attempt; ordered by unit (tree order of ids), name, id. ``every_person``:
    the caller reads every row, not a page (counted_attempt)."""
    counted = counted_attempt(quiz, every_person=every_person)
    attempt = counted.attempt
    # "In progress" only matters for someone without a submitted attempt.
    in_progress = sa.case((attempt.id.is_(None), _in_progress(quiz)), else_=sa.false())
    return (sa.select(QuizRecipient.person_id, QuizRecipient.unit_id, Person.name,
                      Person.account, QuizRecipient.political_status, attempt.score,
                      counted.pending.label("pending"), in_progress.label("in_progress"),
                      attempt.started_at, attempt.submitted_at)
            .select_from(QuizRecipient)
            .join(Unit, Unit.id == QuizRecipient.unit_id)
            .join(Person, Person.id == QuizRecipient.person_id)
            .outerjoin(attempt, counted.on)
            .where(*recipient_conditions(quiz, viewer, filters))
            .order_by(Unit.path, Person.name, Person.id))


def _score_row(row) -> ScoreRow:
    return ScoreRow(row.person_id, row.unit_id, row.name, row.account, row.political_status,
                    row.score, bool(row.pending), bool(row.in_progress), row.started_at,
                    row.submitted_at)


def iter_score_sheet(quiz: Quiz, viewer: Person, filters: Filters = EVERYONE,
                     batch: int = 2000) -> Iterator[ScoreRow]:
    """The score sheet's rows, fetched ``batch`` at a time so that a city's 100,000 rows
    are never all in memory."""
    without_jit()
    # The Core connection: the ORM's per-row loading would double the export's time.
    result = db.session.connection().execute(
        query_score_sheet(quiz, viewer, filters, every_person=True)
        .execution_options(yield_per=batch))
    for row in result:
        yield _score_row(row)


def get_score_rows(quiz: Quiz, viewer: Person, filters: Filters, *, limit: int,
                   offset: int = 0, direct_only: bool = False) -> list[ScoreRow]:
    """One page of the score sheet (a branch's people on the statistics page)."""
    query = query_score_sheet(quiz, viewer, filters)
    if direct_only and filters.unit is not None:
        query = query.where(QuizRecipient.unit_id == filters.unit.id)
    return [_score_row(r) for r in db.session.execute(query.limit(limit).offset(offset))]


def count_score_rows(quiz: Quiz, viewer: Person, filters: Filters,
                     direct_only: bool = False) -> int:
    query = (sa.select(sa.func.count()).select_from(QuizRecipient)
             .join(Unit, Unit.id == QuizRecipient.unit_id)
             .where(*recipient_conditions(quiz, viewer, filters)))
    if direct_only and filters.unit is not None:
        query = query.where(QuizRecipient.unit_id == filters.unit.id)
    return db.session.scalar(query) or 0


def get_unit_names(unit_ids=None) -> dict[int, str]:
    """Each unit's full path of names ("示例市教育局党委/示例市实验小学党总支/实验小学第一支部"),
    from one read of the unit table (units number in the thousands, people in the
    hundreds of thousands)."""
    units = db.session.execute(sa.select(Unit.id, Unit.name, Unit.path)).all()
    names = {u.id: u.name for u in units}
    wanted = set(unit_ids) if unit_ids is not None else None
    return {u.id: "/".join(names.get(int(i), "?") for i in u.path.strip("/").split("/"))
            for u in units if wanted is None or u.id in wanted}


# --- which exams --------------------------------------------------------------------


def query_exams(viewer: Person) -> sa.Select:
    """Published or closed exams (practice never counts) with expected participants in
    the viewer's scope, newest window first."""
    from studyhall.quizzes.models import QuizMode, QuizStatus

    visible = (sa.select(QuizRecipient.quiz_id).join(Unit, Unit.id == QuizRecipient.unit_id)
               .where(QuizRecipient.quiz_id == Quiz.id, in_scope(viewer)).exists())
    return (sa.select(Quiz).where(Quiz.mode == QuizMode.EXAM,
                                  Quiz.status.in_([QuizStatus.PUBLISHED, QuizStatus.CLOSED]),
                                  visible)
            .order_by(Quiz.opens_at.desc(), Quiz.id.desc()))


def get_exam_counts(quiz_ids: list[int], viewer: Person) -> dict[int, tuple[int, int]]:
    """(应考, 实考) of each exam within the viewer's scope, in one GROUP BY: 实考 does not
    depend on which attempt counts, only on whether one was submitted."""
    if not quiz_ids:
        return {}
    took = (sa.select(Attempt.quiz_id, Attempt.person_id).distinct()
            .where(Attempt.quiz_id.in_(quiz_ids), Attempt.status == AttemptStatus.SUBMITTED)
            .subquery("took"))
    rows = db.session.execute(
        sa.select(QuizRecipient.quiz_id, sa.func.count(), sa.func.count(took.c.person_id))
        .join(Unit, Unit.id == QuizRecipient.unit_id)
        .outerjoin(took, sa.and_(took.c.quiz_id == QuizRecipient.quiz_id,
                                 took.c.person_id == QuizRecipient.person_id))
        .where(QuizRecipient.quiz_id.in_(quiz_ids), in_scope(viewer))
        .group_by(QuizRecipient.quiz_id))
    return {quiz_id: (expected, n) for quiz_id, expected, n in rows}
