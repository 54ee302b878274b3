"""Between database rows and ``question_bank.Question`` values.

The row keeps in columns what lists filter on and the rest in ``config``; a Question is
rebuilt (and validated) from both, so the library's rules hold for what is stored."""

from __future__ import annotations

import question_bank as qb
from studyhall.bank.models import Question

#: Keys of Question.to_config() kept in columns rather than in ``config``.
COLUMN_KEYS = ("stem", "points", "difficulty", "category", "tags", "source")


def join_tags(tags) -> str:
    return f",{','.join(tags)}," if tags else ""


def to_question(row: Question, category_names: tuple[str, ...]) -> qb.Question:
    config = {**row.config, "stem": row.stem, "points": str(row.points),
              "difficulty": row.difficulty, "category": list(category_names),
              "tags": row.tag_list, "source": row.source}
    return qb.Question.from_config(row.type, config)


def fill_row(row: Question, question: qb.Question) -> Question:
    """Copy a validated question's content onto a row (the category is set by the caller)."""
    config = question.to_config()
    for key in COLUMN_KEYS:
        config.pop(key)
    row.type = question.type.value
    row.stem = question.stem
    row.config = config
    row.points = question.points
    row.difficulty = question.difficulty.value
    row.source = question.source
    row.tags = join_tags(question.tags)
    row.dedup_key = qb.normalized_key(question)
    return row
