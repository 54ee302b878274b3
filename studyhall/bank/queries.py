"""Reads on the bank: the category tree with counts, the filtered question list, which
questions are 保密."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _

import question_bank as qb
from studyhall.bank.models import Question, QuestionCategory
from studyhall.bank.permissions import load_category_or_404
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree, path_in_subtree


@dataclass
class CategoryNode:
    category: QuestionCategory
    depth: int
    own: int  # questions directly in it
    total: int  # with its subcategories
    #: 保密 by its own mark or an ancestor's.
    confidential: bool = False


def get_category_tree() -> list[CategoryNode]:
    """Every category in tree order, with question counts from one GROUP BY."""
    categories = list(db.session.scalars(sa.select(QuestionCategory)))
    marked = [c.path for c in categories if c.is_confidential]
    own = dict(db.session.execute(
        sa.select(Question.category_id, sa.func.count(Question.id))
        .where(~Question.is_deleted).group_by(Question.category_id)).all())
    children: dict[int | None, list[QuestionCategory]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    nodes: list[CategoryNode] = []

    def walk(parent_id: int | None, depth: int) -> int:
        subtotal = 0
        for category in sorted(children.get(parent_id, []), key=lambda c: (c.sort_order, c.name)):
            node = CategoryNode(category, depth, own.get(category.id, 0), 0,
                                path_in_subtree(category.path, marked))
            nodes.append(node)
            node.total = node.own + walk(category.id, depth + 1)
            subtotal += node.total
        return subtotal

    walk(None, 0)
    return nodes


def get_category_names() -> dict[int, tuple[str, ...]]:
    """id → the names along its path, for every category (one query)."""
    rows = db.session.execute(sa.select(QuestionCategory.id, QuestionCategory.name,
                                        QuestionCategory.path)).all()
    name_of = {row.id: row.name for row in rows}
    return {row.id: tuple(name_of[int(i)] for i in row.path.strip("/").split("/"))
            for row in rows}


def get_category_choices() -> list[tuple[int, str]]:
    """(id, indented name) in tree order; 保密 categories say so, for the quiz rules."""
    return [(n.category.id, "\u3000" * n.depth + n.category.name
             + (_("(confidential)") if n.confidential else ""))
            for n in get_category_tree()]


def select_confidential_category_ids() -> sa.Select:
    """Ids of the 保密 categories: marked themselves, or under a marked one."""
    marked = sa.orm.aliased(QuestionCategory)
    return (sa.select(QuestionCategory.id)
            .join(marked, in_subtree(QuestionCategory.path, marked.path))
            .where(marked.is_confidential))


def get_confidential_category_ids() -> set[int]:
    return set(db.session.scalars(select_confidential_category_ids()))


def get_confidential_question_ids(question_ids) -> set[int]:
    """Which of these questions are 保密 (their category or an ancestor is marked)."""
    ids = list(set(question_ids))
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(Question.id).where(
        Question.id.in_(ids),
        Question.category_id.in_(select_confidential_category_ids()))))


@dataclass
class QuestionFilters:
    search: str = ""
    type: str = ""
    category: QuestionCategory | None = None
    difficulty: str = ""
    tag: str = ""
    source: str = ""
    #: Leave out 保密 questions (the fixed-paper picker of anyone but an administrator).
    exclude_confidential: bool = False


def filters_from_request() -> QuestionFilters:
    """The list's filters from the query string (the bank's list, its export, and the
    quiz paper picker share them). An unknown category answers 404."""
    args = request.args
    category_id = args.get("category", type=int)
    return QuestionFilters(
        search=args.get("q", "")[:100],
        type=args.get("type", "") if args.get("type") in qb.QUESTION_TYPES else "",
        category=load_category_or_404(category_id) if category_id else None,
        difficulty=args.get("difficulty", "") if args.get("difficulty") in {
            d.value for d in qb.Difficulty} else "",
        tag=args.get("tag", "")[:50], source=args.get("source", "")[:100])


def query_questions(filters: QuestionFilters) -> sa.Select:
    """The bank's list: live questions matching every filter given, by category then age.
    A category includes its subcategories."""
    query = sa.select(Question).join(Question.category).where(~Question.is_deleted)
    if filters.search:
        query = query.where(Question.stem.contains(filters.search.strip(), autoescape=True))
    if filters.type:
        query = query.where(Question.type == filters.type)
    if filters.category is not None:
        query = query.where(in_subtree(QuestionCategory.path, [filters.category.path]))
    if filters.difficulty:
        query = query.where(Question.difficulty == filters.difficulty)
    if filters.tag:
        query = query.where(Question.tags.contains(f",{filters.tag.strip()},", autoescape=True))
    if filters.source:
        query = query.where(Question.source.contains(filters.source.strip(), autoescape=True))
    if filters.exclude_confidential:
        query = query.where(Question.category_id.not_in(select_confidential_category_ids()))
    return query.order_by(QuestionCategory.path, Question.id)


def find_duplicates(keys_by_category: dict[int, set[str]]) -> dict[tuple[int, str], Question]:
    """Live questions whose (category, dedup key) is among those given."""
    found: dict[tuple[int, str], Question] = {}
    for category_id, keys in keys_by_category.items():
        key_list = sorted(keys)
        for start in range(0, len(key_list), 500):
            rows = db.session.scalars(sa.select(Question).where(
                Question.category_id == category_id, ~Question.is_deleted,
                Question.dedup_key.in_(key_list[start:start + 500])))
            found.update(((row.category_id, row.dedup_key), row) for row in rows)
    return found
