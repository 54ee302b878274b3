"""The bank is the bureau's: administrators manage it."""

from __future__ import annotations

from flask import abort

from studyhall.bank.models import Question, QuestionCategory
from studyhall.converters import MAX_ID
from studyhall.extensions import db


def load_question_or_404(question_id: int) -> Question:
    row = db.session.get(Question, question_id)
    if row is None or row.is_deleted:
        abort(404)
    return row


def load_category_or_404(category_id: int) -> QuestionCategory:
    """A category by id (from a URL, a query string or a form); 404 if there is none."""
    category = db.session.get(QuestionCategory, category_id) if 0 < category_id <= MAX_ID \
        else None
    if category is None:
        abort(404)
    return category
