"""Quizzes and exams, their expected participants, and attempts.

A published quiz keeps a snapshot of its candidate questions (``QuizQuestion``), so
later edits to the bank never change it; each attempt keeps its own paper
(``AttemptQuestion``: the question as served, its option order, its points) and the
taker's answer on the same row, so saving an answer is one UPDATE.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import enum_column, utcnow
from studyhall.org.models import PoliticalStatus, Unit


class QuizMode(enum.Enum):
    EXAM = "exam"
    PRACTICE = "practice"


class QuizStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


class ReviewPolicy(enum.Enum):
    IMMEDIATELY = "immediately"
    AFTER_CLOSE = "after_close"
    NEVER = "never"


class Counting(enum.Enum):
    HIGHEST = "highest"
    LAST = "last"


class AttemptStatus(enum.Enum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


LABELS = {
    QuizMode.EXAM: _l("Exam"), QuizMode.PRACTICE: _l("Practice"),
    QuizStatus.DRAFT: _l("Draft"), QuizStatus.PUBLISHED: _l("Published"),
    QuizStatus.CLOSED: _l("Closed"),
    ReviewPolicy.IMMEDIATELY: _l("Right after submitting"),
    ReviewPolicy.AFTER_CLOSE: _l("After the window closes"), ReviewPolicy.NEVER: _l("Never"),
    Counting.HIGHEST: _l("The highest score"), Counting.LAST: _l("The last attempt"),
}


class Quiz(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    instructions: Mapped[str] = mapped_column(sa.Text, default="")
    mode: Mapped[QuizMode] = mapped_column(enum_column(QuizMode, 10), default=QuizMode.EXAM)
    status: Mapped[QuizStatus] = mapped_column(enum_column(QuizStatus, 10),
                                               default=QuizStatus.DRAFT)
    #: The unit whose managers own the quiz (the scope for managing it).
    owner_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    #: {"kind": "fixed", "question_ids": [...]} or
    #: {"kind": "rules", "rules": [{"category_id", "type", "difficulty", "count", "points"}]}
    paper: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    total_points: Mapped[Decimal] = mapped_column(sa.Numeric(7, 2), default=Decimal(100))
    pass_mark: Mapped[Decimal] = mapped_column(sa.Numeric(7, 2), default=Decimal(60))
    excellent_mark: Mapped[Decimal] = mapped_column(sa.Numeric(7, 2), default=Decimal(90))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    time_limit_minutes: Mapped[int | None]
    attempts_allowed: Mapped[int] = mapped_column(default=1)
    counting: Mapped[Counting] = mapped_column(enum_column(Counting, 10),
                                               default=Counting.HIGHEST)
    shuffle_questions: Mapped[bool] = mapped_column(default=False)
    shuffle_options: Mapped[bool] = mapped_column(default=True)
    multiple_policy: Mapped[str] = mapped_column(sa.String(20), default="all_or_nothing")
    review_policy: Mapped[ReviewPolicy] = mapped_column(enum_column(ReviewPolicy, 12),
                                                        default=ReviewPolicy.IMMEDIATELY)
    #: Leaving the exam page this many times submits the attempt (None: never).
    max_departures: Mapped[int | None]
    #: {"unit_ids": [...], "person_ids": [...], "statuses": ["01", ...]}
    audience: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner_unit: Mapped[Unit] = relationship()

    __table_args__ = (
        sa.CheckConstraint("closes_at > opens_at", name="window_order"),
        sa.CheckConstraint("attempts_allowed >= 1", name="attempts_positive"),
        sa.CheckConstraint("total_points > 0", name="total_positive"),
    )

    @property
    def is_practice(self) -> bool:
        return self.mode is QuizMode.PRACTICE

    def is_open(self, now: datetime) -> bool:
        return (self.status is QuizStatus.PUBLISHED and self.opens_at <= now < self.closes_at)

    def review_allowed(self, now: datetime) -> bool:
        """Whether takers may see correct answers and explanations now."""
        if self.is_practice or self.review_policy is ReviewPolicy.IMMEDIATELY:
            return True
        if self.review_policy is ReviewPolicy.AFTER_CLOSE:
            return now >= self.closes_at or self.status is QuizStatus.CLOSED
        return False

    def __repr__(self) -> str:
        return f"<Quiz {self.id} {self.title!r} {self.status.value}>"


class QuizQuestion(db.Model):
    """The questions a published quiz draws from, as they were when it was published."""

    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz.id", ondelete="CASCADE"),
                                         primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("question.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    type: Mapped[str] = mapped_column(sa.String(20))
    #: question_bank.Question.to_config(), category included.
    config: Mapped[dict] = mapped_column(sa.JSON)

    def __repr__(self) -> str:
        return f"<QuizQuestion {self.quiz_id}:{self.question_id}>"


class QuizRecipient(db.Model):
    """应参人员: fixed when the quiz is published, with the unit and 政治面貌 of that day,
    so statistics stay true when people move later."""

    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz.id", ondelete="CASCADE"),
                                         primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), primary_key=True,
                                           index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    political_status: Mapped[PoliticalStatus] = mapped_column(enum_column(PoliticalStatus, 2))
    extra_attempts: Mapped[int] = mapped_column(default=0)
    extra_minutes: Mapped[int] = mapped_column(default=0)

    # With the person, a unit's expected participants (and their attempts, by person) are
    # found from this index alone, never the rows themselves.
    __table_args__ = (sa.Index("ix_quiz_recipient_quiz_unit_person", "quiz_id", "unit_id",
                               "person_id"),)

    def __repr__(self) -> str:
        return f"<QuizRecipient {self.quiz_id}:{self.person_id}>"


IN_PROGRESS = AttemptStatus.IN_PROGRESS.value


class Attempt(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    status: Mapped[AttemptStatus] = mapped_column(enum_column(AttemptStatus, 12),
                                                  default=AttemptStatus.IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Fixed at start: min(start + limit + extra time, window close). The server's clock.
    deadline_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    #: Why it ended: submitted / expired / departures / closed.
    end_reason: Mapped[str | None] = mapped_column(sa.String(12))
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(7, 2))
    max_score: Mapped[Decimal] = mapped_column(sa.Numeric(7, 2), default=Decimal(0))
    #: Some 简答 answers still wait for a grader.
    pending_manual: Mapped[bool] = mapped_column(default=False)
    seed: Mapped[str] = mapped_column(sa.String(40))
    #: The browser session that holds the attempt; another device must take over.
    session_token: Mapped[str] = mapped_column(sa.String(43), default="")
    departures: Mapped[int] = mapped_column(default=0)

    quiz: Mapped[Quiz] = relationship()
    questions: Mapped[list[AttemptQuestion]] = relationship(
        back_populates="attempt", order_by="AttemptQuestion.position",
        cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("quiz_id", "person_id", "number",
                            name="uq_attempt_quiz_id_person_id_number"),
        # One in-progress attempt per person per quiz, whatever the races.
        sa.Index("uq_attempt_one_open", "quiz_id", "person_id", unique=True,
                 sqlite_where=sa.text(f"status = '{IN_PROGRESS}'"),
                 postgresql_where=sa.text(f"status = '{IN_PROGRESS}'")),
        sa.Index("ix_attempt_quiz_status", "quiz_id", "status"),
        sa.Index("ix_attempt_open_deadline", "status", "deadline_at"),
        # The statistics' counted score (the highest submitted one, stats/queries.py) is
        # found per expected person from this index alone, never the attempt's row.
        sa.Index("ix_attempt_quiz_person_status_score", "quiz_id", "person_id", "status",
                 "score"),
    )

    @property
    def is_open(self) -> bool:
        return self.status is AttemptStatus.IN_PROGRESS

    def __repr__(self) -> str:
        return f"<Attempt {self.id} quiz={self.quiz_id} person={self.person_id}>"


class AttemptQuestion(db.Model):
    """One question of one attempt's paper, and the taker's answer to it."""

    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("attempt.id", ondelete="CASCADE"),
                                            primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("question.id"), index=True)
    type: Mapped[str] = mapped_column(sa.String(20))
    config: Mapped[dict] = mapped_column(sa.JSON)
    #: Original index of the option shown in each place.
    option_order: Mapped[list] = mapped_column(sa.JSON, default=list)
    points: Mapped[Decimal] = mapped_column(sa.Numeric(7, 2))
    #: SQL NULL when unanswered (not JSON null), so "answered" is a plain IS NOT NULL.
    response: Mapped[object | None] = mapped_column(sa.JSON(none_as_null=True))
    is_flagged: Mapped[bool] = mapped_column(default=False)
    saved_at: Mapped[datetime | None]
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(7, 2))
    graded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    graded_at: Mapped[datetime | None]
    #: Raised by every change of what grades the answer: a save of the response, a
    #: regrade's new question. A submit grades before SQLite's write lock and checks
    #: under it that the sum of its rows' versions has not moved (taking.submit_graded).
    version: Mapped[int] = mapped_column(default=0, server_default="0")

    attempt: Mapped[Attempt] = relationship(back_populates="questions")

    def __repr__(self) -> str:
        return f"<AttemptQuestion {self.attempt_id}:{self.position}>"


class AttemptEvent(db.Model):
    """Leaving and coming back to the exam page, and device take-overs."""

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("attempt.id", ondelete="CASCADE"),
                                            index=True)
    kind: Mapped[str] = mapped_column(sa.String(12))  # leave / return / takeover
    at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<AttemptEvent {self.attempt_id} {self.kind}>"
