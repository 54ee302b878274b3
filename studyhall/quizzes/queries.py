"""Reads on quizzes: a person's quizzes, participants with their results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from studyhall.auth.scope import in_scope, subtree_clause
from studyhall.extensions import db
from studyhall.org.models import Person, PoliticalStatus, Unit
from studyhall.quizzes.models import (
    Attempt,
    AttemptStatus,
    Counting,
    Quiz,
    QuizRecipient,
    QuizStatus,
)


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


def query_managed_quizzes(viewer: Person) -> sa.Select:
    """Quizzes whose owner unit lies in the viewer's scope."""
    return (sa.select(Quiz).join(Quiz.owner_unit).where(in_scope(viewer))
            .order_by(Quiz.created_at.desc()))


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
        query = query.where(subtree_clause(Unit.path, [unit.path]))
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
