"""Reads on quizzes: the pool and audience a quiz names, the paper check, a person's
quizzes, participants with their results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager

import question_bank as qb
from studyhall import audience
from studyhall.auth.scope import in_scope
from studyhall.bank import mapping
from studyhall.bank.models import Question, QuestionCategory
from studyhall.bank.queries import get_category_names, get_confidential_category_ids
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree, utcnow
from studyhall.org.models import Person, PoliticalStatus, Unit
from studyhall.quizzes import paper as papers
from studyhall.quizzes import review
from studyhall.quizzes.models import (
    Attempt,
    AttemptEvent,
    AttemptQuestion,
    AttemptStatus,
    Counting,
    Quiz,
    QuizMode,
    QuizQuestion,
    QuizRecipient,
    QuizStatus,
)


def query_pool(quiz: Quiz) -> sa.Select:
    """Bank questions a quiz may draw from: its fixed list, or everything under its
    rules' categories."""
    live = sa.select(Question).where(~Question.is_deleted)
    if quiz.paper.get("kind") == "rules":
        paths = db.session.scalars(sa.select(QuestionCategory.path).where(
            QuestionCategory.id.in_([r.get("category_id") for r in quiz.paper["rules"]
                                     if r.get("category_id")]))).all()
        if any(not r.get("category_id") for r in quiz.paper["rules"]):
            return live
        return live.join(Question.category).where(in_subtree(QuestionCategory.path, paths))
    return live.where(Question.id.in_(quiz.paper.get("question_ids", [])))


class PaperError(ValueError):
    """Why publishing could not draw the quiz's paper; the message says what to change."""


def get_pool(quiz: Quiz) -> tuple[list[qb.PoolItem], int]:
    """The quiz's pool as question_bank items, and how many of them are 保密."""
    names = get_category_names()
    confidential = get_confidential_category_ids()
    # In id order, as a published quiz's snapshot is drawn from (paper.pool_items), so
    # that the check's draw (a fixed seed) does not change with the database's row order.
    rows = db.session.scalars(query_pool(quiz).order_by(Question.id)).all()
    return ([qb.PoolItem(row.id, mapping.to_question(row, names[row.category_id]))
             for row in rows], sum(row.category_id in confidential for row in rows))


def check_paper(quiz: Quiz, publisher: Person | None = None, *, pool=None) -> qb.Paper:
    """Assemble a sample paper from the current bank, as publishing would. 保密
    questions serve only in exams an administrator publishes (review.py keeps their keys):
    a practice quiz that could draw one is refused, and so is a publisher (when given)
    who is not an administrator.

    :raises PaperError: with the reason (the library's message when the bank cannot
        satisfy the spec).
    """
    items, confidential = pool or get_pool(quiz)
    if confidential and quiz.is_practice:
        raise PaperError(_("Practice cannot use confidential (exam-only) questions: "
                           "%(n)d of the questions this paper draws from are confidential. "
                           "Choose other categories or questions.", n=confidential))
    if confidential and publisher is not None and not publisher.is_admin:
        raise PaperError(_("Only an administrator can publish a paper with confidential "
                           "(exam-only) questions: %(n)d of the questions it draws from "
                           "are confidential.", n=confidential))
    try:
        return papers.assemble(quiz, items, seed="check")
    except qb.AssemblyError as exc:
        raise PaperError(str(exc)) from exc


def query_audience(quiz: Quiz, viewer: Person | None = None) -> sa.Select:
    """Active people the quiz's audience names (studyhall/audience.py), as (person id,
    unit id, status) rows: within the owner unit's subtree, and within the viewer's scope
    when a viewer is given."""
    return audience.query_audience(quiz.audience, quiz.owner_unit, viewer)


@dataclass
class MyQuiz:
    quiz: Quiz
    attempts: int
    open_attempt_id: int | None
    best: object


def get_my_quizzes(person: Person, now: datetime) -> list[MyQuiz]:
    """The published quizzes a person is expected in, newest window first, with how many
    attempts they made, their open attempt and best score — two queries."""
    quizzes = db.session.scalars(
        sa.select(Quiz).join(QuizRecipient, QuizRecipient.quiz_id == Quiz.id)
        .where(QuizRecipient.person_id == person.id,
               Quiz.status.in_([QuizStatus.PUBLISHED, QuizStatus.CLOSED]))
        .order_by(Quiz.closes_at.desc())).all()
    stats = {row.quiz_id: row for row in db.session.execute(
        sa.select(Attempt.quiz_id, sa.func.count(Attempt.id).label("n"),
                  sa.func.max(sa.case((Attempt.status == AttemptStatus.IN_PROGRESS,
                                       Attempt.id))).label("open_id"),
                  sa.func.max(Attempt.score).label("best"))
        .where(Attempt.person_id == person.id, Attempt.quiz_id.in_([q.id for q in quizzes]))
        .group_by(Attempt.quiz_id))}
    result = []
    for quiz in quizzes:
        row = stats.get(quiz.id)
        result.append(MyQuiz(quiz, row.n if row else 0, row.open_id if row else None,
                             row.best if row else None))
    return result


def get_finished_attempts(quiz: Quiz, person: Person) -> list[Attempt]:
    """A person's submitted attempts at a quiz, first to last, for links to results."""
    return list(db.session.scalars(sa.select(Attempt).where(
        Attempt.quiz_id == quiz.id, Attempt.person_id == person.id,
        Attempt.status == AttemptStatus.SUBMITTED).order_by(Attempt.number)))


@dataclass
class PracticeRecord:
    done: int
    correct: int


def get_practice_record(person: Person, now: datetime | None = None) -> PracticeRecord:
    """Questions answered in practice quizzes and how many were right (full points).
    Practice never counts in exam statistics; this is the person's own record. Questions
    whose key is withheld from the person now (review.py) are left out: the record would
    tell whether such an answer was right."""
    query = (sa.select(sa.func.count(AttemptQuestion.position),
                       sa.func.count(AttemptQuestion.position).filter(
                           AttemptQuestion.score == AttemptQuestion.points))
             .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
             .join(Quiz, Quiz.id == Attempt.quiz_id)
             .where(Attempt.person_id == person.id, Quiz.mode == QuizMode.PRACTICE,
                    AttemptQuestion.response.is_not(None), AttemptQuestion.score.is_not(None)))
    withheld = review.select_withheld(person, now or utcnow())
    if withheld is not None:
        query = query.where(AttemptQuestion.question_id.not_in(
            sa.select(withheld.c.question_id)))
    done, correct = db.session.execute(query).one()
    return PracticeRecord(done or 0, correct or 0)


def query_managed_quizzes(viewer: Person) -> sa.Select:
    """Quizzes whose owner unit lies in the viewer's scope."""
    return (sa.select(Quiz).join(Quiz.owner_unit).options(contains_eager(Quiz.owner_unit))
            .where(in_scope(viewer)).order_by(Quiz.created_at.desc()))


def counted_scores(quiz: Quiz) -> sa.Subquery:
    """Per person, the score that counts (highest, or last submitted) among submitted
    attempts, and whether any is still waiting for manual grading."""
    submitted = sa.and_(Attempt.quiz_id == quiz.id, Attempt.status == AttemptStatus.SUBMITTED)
    if quiz.counting is Counting.HIGHEST:
        return (sa.select(Attempt.person_id, sa.func.max(Attempt.score).label("score"))
                .where(submitted).group_by(Attempt.person_id).subquery())
    last = (sa.select(Attempt.person_id, sa.func.max(Attempt.number).label("number"))
            .where(submitted).group_by(Attempt.person_id).subquery())
    return (sa.select(Attempt.person_id, Attempt.score.label("score"))
            .join(last, sa.and_(last.c.person_id == Attempt.person_id,
                                last.c.number == Attempt.number))
            .where(Attempt.quiz_id == quiz.id).subquery())


PARTICIPANT_STATES = ("not_started", "in_progress", "submitted", "passed", "failed")


def query_participants(quiz: Quiz, viewer: Person, *, unit: Unit | None = None,
                       status: PoliticalStatus | None = None, state: str = "") -> sa.Select:
    """Expected participants (as fixed at publication) the viewer may see, with their
    state and counted score. Units and 政治面貌 are those of the publication day."""
    scores = counted_scores(quiz)
    open_attempts = (sa.select(Attempt.person_id).where(
        Attempt.quiz_id == quiz.id, Attempt.status == AttemptStatus.IN_PROGRESS).subquery())
    started = sa.exists().where(Attempt.quiz_id == quiz.id,
                                Attempt.person_id == QuizRecipient.person_id)
    query = (sa.select(QuizRecipient, Person, Unit, scores.c.score,
                       open_attempts.c.person_id.is_not(None).label("in_progress"),
                       started.label("started"))
             .join(Person, Person.id == QuizRecipient.person_id)
             .join(Unit, Unit.id == QuizRecipient.unit_id)
             .outerjoin(scores, scores.c.person_id == QuizRecipient.person_id)
             .outerjoin(open_attempts, open_attempts.c.person_id == QuizRecipient.person_id)
             .where(QuizRecipient.quiz_id == quiz.id, in_scope(viewer)))
    if unit is not None:
        query = query.where(in_subtree(Unit.path, [unit.path]))
    if status is not None:
        query = query.where(QuizRecipient.political_status == status)
    if state == "not_started":
        query = query.where(~started)
    elif state == "in_progress":
        query = query.where(open_attempts.c.person_id.is_not(None))
    elif state == "submitted":
        query = query.where(scores.c.score.is_not(None))
    elif state == "passed":
        query = query.where(scores.c.score >= quiz.pass_mark)
    elif state == "failed":
        query = query.where(scores.c.score < quiz.pass_mark)
    return query.order_by(Unit.path, Person.name, Person.id)


def get_expected_counts(quiz_ids: list[int]) -> dict[int, int]:
    """应参人数 of each quiz, in one GROUP BY over quiz_recipient."""
    if not quiz_ids:
        return {}
    return dict(db.session.execute(
        sa.select(QuizRecipient.quiz_id, sa.func.count(QuizRecipient.person_id))
        .where(QuizRecipient.quiz_id.in_(quiz_ids)).group_by(QuizRecipient.quiz_id)).all())


def count_audience(quiz: Quiz, viewer: Person | None = None) -> int:
    """How many people the audience names now (those the viewer may see, if given)."""
    return audience.count_audience(quiz.audience, quiz.owner_unit, viewer)


@dataclass
class PaperCheck:
    """What publishing would draw: question count, the points before and after scaling,
    or why the bank cannot satisfy the paper."""

    count: int = 0
    raw_total: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    #: Rules without points draw questions whose own points may differ between papers.
    varies: bool = False
    error: str = ""

    @property
    def scaled(self) -> bool:
        return not self.error and self.raw_total != self.total


def get_paper_check(quiz: Quiz, viewer: Person | None = None) -> PaperCheck:
    """Assemble a sample paper as publishing would (by the viewer, if given), and the
    same draw unscaled."""
    if not quiz.paper or not (quiz.paper.get("question_ids") or quiz.paper.get("rules")):
        return PaperCheck(error=_("The paper is empty: choose questions or give rules."))
    pool = get_pool(quiz)
    try:
        sample = check_paper(quiz, viewer, pool=pool)
    except PaperError as exc:
        return PaperCheck(error=str(exc))
    raw = qb.assemble_paper(pool[0], papers.paper_spec(quiz), "check")
    varies = any(not rule.get("points") for rule in quiz.paper.get("rules", []))
    return PaperCheck(len(sample.items), raw.total_points, sample.total_points, varies)


@dataclass
class Figures:
    """统计口径 (DOMAIN.md) of a set of expected participants: the counts and the exact
    score total. Rates and averages are formed from these by studyhall.figures."""

    expected: int
    took: int
    total: Decimal
    passed: int
    excellent: int
    pending: int


def get_participant_figures(quiz: Quiz, viewer: Person, *, unit: Unit | None = None,
                            status: PoliticalStatus | None = None) -> Figures:
    """应参, 实参, score total, 及格 and 优秀 counts of the participants shown (unit and
    政治面貌 filters), in one aggregate over query_participants."""
    query = query_participants(quiz, viewer, unit=unit, status=status)
    rows = query.with_only_columns(QuizRecipient.person_id, query.selected_columns.score) \
        .order_by(None).subquery()
    pending = sa.exists().where(Attempt.quiz_id == quiz.id,
                                Attempt.person_id == rows.c.person_id,
                                Attempt.status == AttemptStatus.SUBMITTED,
                                Attempt.pending_manual)
    score = rows.c.score
    result = db.session.execute(sa.select(
        sa.func.count(), sa.func.count(score), sa.func.sum(score),
        sa.func.sum(sa.case((score >= quiz.pass_mark, 1), else_=0)),
        sa.func.sum(sa.case((score >= quiz.excellent_mark, 1), else_=0)),
        sa.func.sum(sa.case((pending, 1), else_=0)))).one()
    return Figures(result[0], result[1], Decimal(result[2] or 0), result[3] or 0,
                   result[4] or 0, result[5] or 0)


def get_attempt_counts(quiz: Quiz, person_ids: list[int]) -> dict[int, int]:
    """Attempts made by each of these people, in one GROUP BY."""
    if not person_ids:
        return {}
    return dict(db.session.execute(
        sa.select(Attempt.person_id, sa.func.count(Attempt.id))
        .where(Attempt.quiz_id == quiz.id, Attempt.person_id.in_(person_ids))
        .group_by(Attempt.person_id)).all())


def get_participant(quiz: Quiz, viewer: Person, person_id: int):
    """One row of query_participants, or None outside the list the viewer may see."""
    return db.session.execute(query_participants(quiz, viewer)
                              .where(QuizRecipient.person_id == person_id)).first()


def get_person_attempts(quiz: Quiz, person_id: int) -> list[tuple[Attempt, list]]:
    """A person's attempts at a quiz, each with its leave/return/takeover events."""
    attempts = db.session.scalars(sa.select(Attempt).where(
        Attempt.quiz_id == quiz.id, Attempt.person_id == person_id)
        .order_by(Attempt.number)).all()
    events: dict[int, list] = {}
    for event in db.session.scalars(sa.select(AttemptEvent).where(
            AttemptEvent.attempt_id.in_([a.id for a in attempts]))
            .order_by(AttemptEvent.at, AttemptEvent.id)):
        events.setdefault(event.attempt_id, []).append(event)
    return [(attempt, events.get(attempt.id, [])) for attempt in attempts]


def count_to_grade(quiz: Quiz, viewer: Person) -> int:
    from studyhall.quizzes.grading import query_to_grade

    return db.session.scalar(sa.select(sa.func.count()).select_from(
        query_to_grade(quiz, viewer).order_by(None).subquery())) or 0


def get_snapshot_questions(quiz: Quiz) -> list[QuizQuestion]:
    return list(db.session.scalars(sa.select(QuizQuestion).where(QuizQuestion.quiz_id == quiz.id)
                                   .order_by(QuizQuestion.position, QuizQuestion.question_id)))


def count_in_progress(quiz: Quiz) -> int:
    return db.session.scalar(sa.select(sa.func.count(Attempt.id)).where(
        Attempt.quiz_id == quiz.id, Attempt.status == AttemptStatus.IN_PROGRESS)) or 0
