"""Grading by people (简答题) and regrading after a question is fixed. Every change of a
score leaves an audit entry (ARCHITECTURE.md, invariant 9)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

import question_bank as qb
from studyhall import audit
from studyhall.auth.scope import in_scope
from studyhall.bank import mapping
from studyhall.bank.models import Question
from studyhall.bank.queries import get_category_names
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, Unit
from studyhall.quizzes.models import (
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Quiz,
    QuizQuestion,
    QuizRecipient,
)
from studyhall.quizzes.taking import recompute_totals, store_scores


class GradingError(ValueError):
    """Why a score cannot be recorded; the message says what to do."""


def query_to_grade(quiz: Quiz, viewer: Person, *, only_pending: bool = True) -> sa.Select:
    """简答 answers of submitted attempts of this quiz by people the viewer may see (by
    their unit at publication), oldest first."""
    query = (sa.select(AttemptQuestion, Attempt)
             .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
             .join(QuizRecipient, sa.and_(QuizRecipient.quiz_id == Attempt.quiz_id,
                                          QuizRecipient.person_id == Attempt.person_id))
             .join(Unit, Unit.id == QuizRecipient.unit_id)
             .where(Attempt.quiz_id == quiz.id, Attempt.status == AttemptStatus.SUBMITTED,
                    AttemptQuestion.type == "short_answer",
                    AttemptQuestion.response.is_not(None), in_scope(viewer)))
    if only_pending:
        query = query.where(AttemptQuestion.score.is_(None))
    return query.order_by(Attempt.submitted_at, Attempt.id, AttemptQuestion.position)


def parse_score(text: str, maximum: Decimal) -> Decimal:
    try:
        score = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise GradingError(_l("Write the score as a number.")) from exc
    if not score.is_finite() or score < 0 or score > maximum or score != score.quantize(
            Decimal("0.01")):
        raise GradingError(_l("The score must be between 0 and %(max)s, in hundredths at most.",
                              max=maximum))
    return score


def grade_answer(grader: Person, row: AttemptQuestion, score: Decimal,
                 expected: Decimal | None) -> None:
    """Record a grader's score for one answer. ``expected`` is the score the grader saw
    (None: ungraded); if another grader changed it meanwhile, nothing is overwritten.
    The attempt row is locked first so its total is recomputed from every answer."""
    # PostgreSQL: the row lock queues graders of one attempt. SQLite: the request's write
    # transaction began IMMEDIATE, so it already holds the database's write lock here.
    attempt = db.session.scalar(sa.select(Attempt).where(Attempt.id == row.attempt_id)
                                .with_for_update())
    if row.type != "short_answer" or attempt.status is not AttemptStatus.SUBMITTED:
        raise GradingError(_l("Only submitted short answers are graded by hand."))
    db.session.refresh(row)
    if row.score != expected:
        raise GradingError(_l("Another grader has just scored this answer (%(score)s). "
                              "Reload to see it.", score=row.score))
    before = row.score
    row.score, row.graded_by_id, row.graded_at = score, grader.id, utcnow()
    db.session.flush()
    previous_total = attempt.score
    recompute_totals([attempt.id])
    db.session.refresh(attempt)
    audit.record(grader, "attempt.score", attempt, position=row.position,
                 before=None if before is None else str(before), after=str(score),
                 total_before=str(previous_total), total_after=str(attempt.score))


def regrade_question(actor: Person, quiz: Quiz, question_id: int) -> int:
    """After a bank question was fixed, copy its new version into the quiz and into every
    attempt that drew it, and regrade the submitted ones. Returns how many attempts'
    scores changed. Refused when the fix changes the number of options, which would
    break the option order the takers saw.

    The attempts that drew the question are locked first (FOR UPDATE on PostgreSQL, in
    id order; on SQLite the request's write transaction holds the database), as a grader
    locks one before scoring: a grader saving at the same moment waits, and then finds
    the regraded total; scores are read after the lock, and the totals are recomputed
    in SQL for all changed attempts at once."""
    row = db.session.get(Question, question_id)
    snapshot = db.session.get(QuizQuestion, (quiz.id, question_id))
    if row is None or snapshot is None:
        raise GradingError(_l("This question is not part of the quiz."))
    fixed = mapping.to_question(row, get_category_names()[row.category_id])
    old = qb.Question.from_config(snapshot.type, snapshot.config)
    if fixed.type != old.type or len(fixed.options) != len(old.options):
        raise GradingError(_l("The fix changes the type or the number of options; attempts "
                              "cannot be regraded against it."))
    config = fixed.to_config()
    snapshot.config = config
    drew = sa.select(AttemptQuestion.attempt_id).where(
        AttemptQuestion.question_id == question_id)
    locked = db.session.execute(
        sa.select(Attempt.id, Attempt.status, Attempt.score)
        .where(Attempt.quiz_id == quiz.id, Attempt.id.in_(drew))
        .order_by(Attempt.id).with_for_update()).all()
    db.session.execute(
        sa.update(AttemptQuestion)
        .where(AttemptQuestion.question_id == question_id,
               AttemptQuestion.attempt_id.in_([a.id for a in locked]))
        # The version tells a submit graded before its write lock that the key changed.
        .values(config=config, version=AttemptQuestion.version + 1)
        .execution_options(synchronize_session=False))
    if fixed.type.value == "short_answer":
        return 0  # graded by people; their scores stand
    submitted = [a.id for a in locked if a.status is AttemptStatus.SUBMITTED]
    rows = db.session.execute(
        sa.select(AttemptQuestion.attempt_id, AttemptQuestion.position,
                  AttemptQuestion.option_order, AttemptQuestion.points,
                  AttemptQuestion.response, AttemptQuestion.score)
        .where(AttemptQuestion.question_id == question_id,
               AttemptQuestion.attempt_id.in_(submitted))).all()
    changes = []
    for answer in rows:
        item = qb.PaperItem(question_id, fixed, answer.points, tuple(answer.option_order))
        new_score = item.grade(answer.response, multiple_policy=quiz.multiple_policy).score
        if new_score != answer.score:
            changes.append({"a_id": answer.attempt_id, "pos": answer.position,
                            "new_score": new_score})
    if not changes:
        return 0
    store_scores(changes)
    changed = sorted({c["a_id"] for c in changes})
    recompute_totals(changed)
    before = {a.id: a.score for a in locked}
    after = dict(db.session.execute(sa.select(Attempt.id, Attempt.score)
                                    .where(Attempt.id.in_(changed))).all())
    for attempt in db.session.scalars(sa.select(Attempt).where(Attempt.id.in_(changed))):
        audit.record(actor, "attempt.regrade", attempt, question_id=question_id,
                     total_before=str(before[attempt.id]), total_after=str(after[attempt.id]))
    return len(changed)
