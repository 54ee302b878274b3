"""Who may take, see and manage a quiz. Outside the audience a quiz answers 404, so its
title is never revealed."""

from __future__ import annotations

from flask import abort

from studyhall.auth.scope import unit_in_scope
from studyhall.extensions import db
from studyhall.org.models import Person, Role
from studyhall.quizzes.models import Attempt, Quiz, QuizRecipient, QuizStatus


def can_manage(viewer: Person, quiz: Quiz) -> bool:
    return viewer.role is not Role.TEACHER and unit_in_scope(viewer, quiz.owner_unit)


def load_quiz_for_taker_or_404(viewer: Person, quiz_id: int) -> tuple[Quiz, QuizRecipient]:
    quiz = db.session.get(Quiz, quiz_id)
    recipient = db.session.get(QuizRecipient, (quiz_id, viewer.id)) if quiz else None
    if quiz is None or recipient is None or quiz.status is QuizStatus.DRAFT:
        abort(404)
    return quiz, recipient


def load_own_attempt_or_404(viewer: Person, attempt_id: int, *, lock: bool = False,
                            options: tuple = ()) -> Attempt:
    """The viewer's own attempt; someone else's answers 404 like a missing one. ``lock``
    takes the row lock (PostgreSQL) so concurrent writes on one attempt queue;
    ``options``: loader options (its quiz joined, say)."""
    query = db.select(Attempt).where(Attempt.id == attempt_id, Attempt.person_id == viewer.id)
    if options:
        query = query.options(*options)
    if lock:
        query = query.with_for_update()
    attempt = db.session.scalar(query)
    if attempt is None:
        abort(404)
    return attempt


def load_managed_quiz_or_404(viewer: Person, quiz_id: int) -> Quiz:
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None or not can_manage(viewer, quiz):
        abort(404)
    return quiz
