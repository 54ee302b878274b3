"""The bank is the bureau's: administrators manage it."""

from __future__ import annotations

from flask import abort

from studyhall.bank.models import Question, QuestionCategory
from studyhall.extensions import db


def load_question_or_404(question_id: int) -> Question:
    row = db.session.get(Question, question_id)
    if row is None or row.is_deleted:
        abort(404)
    return row


def load_category_or_404(category_id: int) -> QuestionCategory:
    category = db.session.get(QuestionCategory, category_id)
    if category is None:
        abort(404)
    return category
