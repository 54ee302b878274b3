"""The question bank's storage: a category tree and questions.

A question is a ``type`` discriminator plus a JSON ``config`` validated by the
``question_bank`` library; the fields the list filters on (stem, points, difficulty,
source, tags, category) are columns of their own.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from question_bank import QUESTION_TYPES, Difficulty
from studyhall.extensions import db
from studyhall.model_helpers import PATH_TYPE, utcnow


class QuestionCategory(db.Model):
    """A node of the bank's category tree, with a materialised path like ``Unit``."""

    __table_args__ = (
        sa.UniqueConstraint("parent_id", "name", name="uq_question_category_parent_id_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("question_category.id"),
                                                  index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    path: Mapped[str] = mapped_column(PATH_TYPE, index=True, default="")
    sort_order: Mapped[int] = mapped_column(default=0)
    #: 保密 / 考试专用, marked by an administrator: the questions here and in every
    #: subcategory serve only in exams published by administrators, never in practice,
    #: and their keys and 解析 are shown to administrators only (quizzes/review.py).
    is_confidential: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[QuestionCategory | None] = relationship(remote_side=[id],
                                                           back_populates="children")
    children: Mapped[list[QuestionCategory]] = relationship(
        back_populates="parent", order_by="(QuestionCategory.sort_order, QuestionCategory.name)")

    def __repr__(self) -> str:
        return f"<QuestionCategory {self.id} {self.name!r}>"


class Question(db.Model):
    __table_args__ = (
        sa.CheckConstraint(
            sa.column("type").in_(list(QUESTION_TYPES)), name="type_known"),
        sa.CheckConstraint(
            sa.column("difficulty").in_([d.value for d in Difficulty]), name="difficulty_known"),
        sa.CheckConstraint("points > 0", name="points_positive"),
        sa.Index("ix_question_category_key", "category_id", "dedup_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by ix_question_category_key, whose first column it is.
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("question_category.id"))
    type: Mapped[str] = mapped_column(sa.String(20), index=True)
    stem: Mapped[str] = mapped_column(sa.Text)
    #: Options, answer, explanation, keywords, case sensitivity: see bank/mapping.py.
    config: Mapped[dict] = mapped_column(sa.JSON)
    points: Mapped[Decimal] = mapped_column(sa.Numeric(7, 2))
    difficulty: Mapped[str] = mapped_column(sa.String(10))
    source: Mapped[str] = mapped_column(sa.String(300), default="")
    #: ",tag1,tag2," so that one tag is found with LIKE '%,tag,%' on every database.
    tags: Mapped[str] = mapped_column(sa.String(500), default="")
    #: question_bank.normalized_key: same normalised stem, type and options.
    dedup_key: Mapped[str] = mapped_column(sa.String(64))
    is_deleted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))

    category: Mapped[QuestionCategory] = relationship()

    @property
    def tag_list(self) -> list[str]:
        return [tag for tag in self.tags.split(",") if tag]

    @property
    def type_label(self) -> str:
        return QUESTION_TYPES[self.type].label

    def __repr__(self) -> str:
        return f"<Question {self.id} {self.type} {self.stem[:20]!r}>"
