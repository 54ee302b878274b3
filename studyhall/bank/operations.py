"""Writes on the bank: change and flush; the request or command commits once."""

from __future__ import annotations

import sqlalchemy as sa

import question_bank as qb
from studyhall.bank import mapping
from studyhall.bank.models import Question, QuestionCategory
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l


class BankError(ValueError):
    """A change the bank's rules forbid; the message says why."""


def create_category(parent: QuestionCategory | None, name: str, *,
                    confidential: bool = False) -> QuestionCategory:
    name = name.strip()
    siblings = parent.children if parent else db.session.scalars(
        sa.select(QuestionCategory).where(QuestionCategory.parent_id.is_(None)))
    if any(s.name == name for s in siblings):
        raise BankError(_l("A category with this name already exists there."))
    category = QuestionCategory(parent=parent, name=name, is_confidential=confidential)
    db.session.add(category)
    db.session.flush()
    category.path = f"{parent.path if parent else '/'}{category.id}/"
    return category


def rename_category(category: QuestionCategory, name: str, *,
                    confidential: bool | None = None) -> None:
    """A new name and, when given, the 保密 mark (which its subcategories inherit)."""
    name = name.strip()
    siblings = category.parent.children if category.parent else db.session.scalars(
        sa.select(QuestionCategory).where(QuestionCategory.parent_id.is_(None)))
    if any(s.name == name and s is not category for s in siblings):
        raise BankError(_l("A category with this name already exists there."))
    category.name = name
    if confidential is not None:
        category.is_confidential = confidential


def delete_category(category: QuestionCategory) -> None:
    """Only a category with no subcategories and no questions (even deleted ones, which
    past quizzes may still cite) can go."""
    used = db.session.scalar(sa.select(sa.exists().where(Question.category_id == category.id)))
    if category.children or used:
        raise BankError(_l("Only an empty category with no subcategories can be deleted."))
    db.session.delete(category)


class CategoryCache:
    """Finds categories by their path of names, creating the missing ones."""

    def __init__(self):
        from studyhall.bank.queries import get_category_names

        self.ids = {names: cid for cid, names in get_category_names().items()}
        self.made: dict[tuple[str, ...], QuestionCategory] = {}

    def exists(self, names: tuple[str, ...]) -> bool:
        return names in self.ids or names in self.made

    def get(self, names: tuple[str, ...]) -> QuestionCategory:
        if names in self.made:
            return self.made[names]
        if names in self.ids:
            category = db.session.get(QuestionCategory, self.ids[names])
        else:
            parent = self.get(names[:-1]) if len(names) > 1 else None
            category = create_category(parent, names[-1])
        self.made[names] = category
        return category


def save_question(row: Question | None, question: qb.Question, category: QuestionCategory,
                  actor=None, *, flush: bool = True) -> Question:
    """Create (``row`` None) or overwrite a question from a validated ``question``. An
    import of thousands passes ``flush=False`` and flushes once (one flush per question
    made a 10,000-question import take minutes)."""
    question.validate()
    if row is None:
        row = Question(created_by_id=getattr(actor, "id", None))
        db.session.add(row)
    mapping.fill_row(row, question)
    row.category = category
    if flush:
        db.session.flush()
    return row


def delete_question(row: Question) -> None:
    """Soft delete: quizzes built from the question keep their history."""
    row.is_deleted = True
