"""Who may see an exam's statistics: staff with expected participants of it in their
scope (an admin of the whole tree sees every exam; a secretary the exams that reached
their subtree, even one a committee above them set). Figures are always limited to the
viewer's scope; anything else answers 404."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from studyhall.auth.scope import in_scope
from studyhall.extensions import db
from studyhall.org.models import Person, Unit
from studyhall.quizzes.models import Quiz, QuizMode, QuizRecipient, QuizStatus


def can_see_exam(viewer: Person, quiz: Quiz) -> bool:
    if not viewer.is_staff or quiz.mode is not QuizMode.EXAM \
            or quiz.status is QuizStatus.DRAFT:
        return False
    return db.session.scalar(
        sa.select(sa.literal(True)).select_from(QuizRecipient)
        .join(Unit, Unit.id == QuizRecipient.unit_id)
        .where(QuizRecipient.quiz_id == quiz.id, in_scope(viewer)).limit(1)) is not None


def load_exam_or_404(viewer: Person, quiz_id: int) -> Quiz:
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None or not can_see_exam(viewer, quiz):
        abort(404)
    return quiz
