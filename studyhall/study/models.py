"""Study (学习): materials, assignments (学习任务) with their expected readers, reading
credit, checkpoint questions and reflections (心得体会).

A material's text or file lives in numbered versions (``MaterialVersion``); editing a
material after it was assigned adds a version, and each reader's record says which
version they read. An assignment gives materials (and quizzes, so that a teacher's to-do
list is one list) to an audience; publishing fixes the expected readers
(``AssignmentRecipient``) with their unit and 政治面貌 of that day. Reading time is
decided by the server from heartbeats (``ReadingProgress``): the client never sends a
duration. Times used in heartbeat arithmetic are whole milliseconds since the epoch, so
the one UPDATE that credits a heartbeat is the same SQL on SQLite and PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import enum_column, utcnow
from studyhall.org.models import Person, PoliticalStatus, Unit
from studyhall.storage import StoredFile


class MaterialKind(enum.Enum):
    TEXT = "text"
    FILE = "file"
    LINK = "link"
    VIDEO = "video"

    @property
    def label(self) -> str:
        return str(LABELS[self])


class AssignmentStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(LABELS[self])


class ReflectionStatus(enum.Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"

    @property
    def label(self) -> str:
        return str(LABELS[self])


class ReadingState(enum.Enum):
    """A reader's state on one assignment (computed, never stored)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    COMPLETED_LATE = "completed_late"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return str(LABELS[self])


LABELS = {
    MaterialKind.TEXT: _l("Text"), MaterialKind.FILE: _l("File"),
    MaterialKind.LINK: _l("Link"), MaterialKind.VIDEO: _l("Video"),
    AssignmentStatus.DRAFT: _l("Draft"), AssignmentStatus.PUBLISHED: _l("Published"),
    AssignmentStatus.CLOSED: _l("Closed"),
    ReflectionStatus.DRAFT: _l("Draft"), ReflectionStatus.SUBMITTED: _l("Awaiting review"),
    ReflectionStatus.RETURNED: _l("Returned for revision"),
    ReflectionStatus.ACCEPTED: _l("Accepted"),
    ReadingState.NOT_STARTED: _l("Not yet started"), ReadingState.IN_PROGRESS: _l("Studying"),
    ReadingState.COMPLETED: _l("Completed"), ReadingState.COMPLETED_LATE: _l("Completed late"),
    ReadingState.OVERDUE: _l("Overdue"),
}


class MaterialCategory(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50), unique=True)
    sort_order: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<MaterialCategory {self.id} {self.name!r}>"


material_tag = sa.Table(
    "material_tag",
    db.metadata,
    sa.Column("material_id", sa.ForeignKey("material.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("tag", sa.String(30), primary_key=True, index=True),
)


class Material(db.Model):
    """学习资料. Admins' materials (owned by a top unit) are visible to everyone; a
    secretary's to the subtree of the unit that owns it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[MaterialKind] = mapped_column(enum_column(MaterialKind, 10))
    owner_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("material_category.id"),
                                                    index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    #: The version new readers get; older versions stay for those who read them.
    current_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("material_version.id", use_alter=True,
                      name="fk_material_current_version_id_material_version"))
    is_archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    owner_unit: Mapped[Unit] = relationship()
    category: Mapped[MaterialCategory | None] = relationship()
    current_version: Mapped[MaterialVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True)
    versions: Mapped[list[MaterialVersion]] = relationship(
        back_populates="material", foreign_keys="MaterialVersion.material_id",
        order_by="MaterialVersion.number", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Material {self.id} {self.kind.value}>"


class MaterialVersion(db.Model):
    """One version of a material as its readers saw it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("material.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    #: Markdown as written (TEXT), and the HTML made from it, sanitised when saved.
    body: Mapped[str] = mapped_column(sa.Text, default="")
    body_html: Mapped[str] = mapped_column(sa.Text, default="")
    #: LINK and VIDEO: the address (http/https only).
    url: Mapped[str | None] = mapped_column(sa.String(1000))
    #: FILE: the uploaded PDF, DOCX or image.
    file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    #: Chinese characters (and words of other scripts) counted for the reading estimate.
    char_count: Mapped[int] = mapped_column(default=0)
    #: Estimated from the length; the default minimum reading time.
    estimated_seconds: Mapped[int] = mapped_column(default=0)
    min_reading_seconds: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    material: Mapped[Material] = relationship(back_populates="versions",
                                              foreign_keys=[material_id])
    file: Mapped[StoredFile | None] = relationship()
    checkpoints: Mapped[list[MaterialCheckpoint]] = relationship(
        back_populates="version", order_by="MaterialCheckpoint.position",
        cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("material_id", "number", name="uq_material_version_number"),
        sa.CheckConstraint("min_reading_seconds >= 0", name="min_reading_nonnegative"),
    )

    def __repr__(self) -> str:
        return f"<MaterialVersion {self.material_id}.{self.number}>"


class MaterialCheckpoint(db.Model):
    """A bank question placed in a version's text: after the block ``anchor`` (0 = before
    the first block), graded at once with its explanation. Never a 保密 question."""

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("material_version.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    anchor: Mapped[int] = mapped_column(default=0)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("question.id"))
    type: Mapped[str] = mapped_column(sa.String(20))
    #: question_bank.Question.to_config() as it was when placed.
    config: Mapped[dict] = mapped_column(sa.JSON)

    version: Mapped[MaterialVersion] = relationship(back_populates="checkpoints")

    def __repr__(self) -> str:
        return f"<MaterialCheckpoint {self.id} v={self.version_id}>"


class Assignment(db.Model):
    """学习任务: materials and quizzes given to an audience, with a start and a due date."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    instructions: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[AssignmentStatus] = mapped_column(enum_column(AssignmentStatus, 10),
                                                     default=AssignmentStatus.DRAFT)
    owner_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    starts_at: Mapped[datetime]
    due_at: Mapped[datetime]
    requires_reflection: Mapped[bool] = mapped_column(default=False)
    #: Counted in Chinese characters (and words of other scripts), punctuation excluded.
    reflection_min_chars: Mapped[int] = mapped_column(default=0)
    #: {"unit_ids": [...], "person_ids": [...], "statuses": ["01", ...]}, as quizzes.
    audience: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner_unit: Mapped[Unit] = relationship()
    items: Mapped[list[AssignmentItem]] = relationship(
        back_populates="assignment", order_by="AssignmentItem.position",
        cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("due_at > starts_at", name="window_order"),
        sa.CheckConstraint("reflection_min_chars >= 0", name="reflection_min_nonnegative"),
    )

    def __repr__(self) -> str:
        return f"<Assignment {self.id} {self.title!r} {self.status.value}>"


class AssignmentItem(db.Model):
    """One material or one quiz of an assignment."""

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    material_id: Mapped[int | None] = mapped_column(sa.ForeignKey("material.id"), index=True)
    quiz_id: Mapped[int | None] = mapped_column(sa.ForeignKey("quiz.id"), index=True)
    #: Overrides the material version's minimum reading time for this assignment.
    min_reading_seconds: Mapped[int | None]

    assignment: Mapped[Assignment] = relationship(back_populates="items")
    material: Mapped[Material | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("(material_id IS NULL) <> (quiz_id IS NULL)",
                           name="material_or_quiz"),
    )

    def __repr__(self) -> str:
        return f"<AssignmentItem {self.id} a={self.assignment_id}>"


class AssignmentRecipient(db.Model):
    """应学人员: fixed at publication with the unit and 政治面貌 of that day."""

    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), primary_key=True,
                                           index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    political_status: Mapped[PoliticalStatus] = mapped_column(enum_column(PoliticalStatus, 2))
    #: When every item (and the reflection, if required, submitted) was done.
    completed_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship()

    __table_args__ = (sa.Index("ix_assignment_recipient_unit", "assignment_id", "unit_id"),)

    def __repr__(self) -> str:
        return f"<AssignmentRecipient {self.assignment_id}:{self.person_id}>"


class AssignmentReminder(db.Model):
    """Who was reminded of an assignment, by whom and when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    reminded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<AssignmentReminder {self.assignment_id}:{self.person_id}>"


class ReadingProgress(db.Model):
    """One reader's time on one material of one assignment. Credited by the server only:
    each heartbeat adds at most min(time since the last credited one, 15 s)."""

    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), primary_key=True,
                                           index=True)
    material_id: Mapped[int] = mapped_column(sa.ForeignKey("material.id"), primary_key=True)
    #: The version this reader read (the current one when they first opened it).
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("material_version.id"))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Milliseconds since the epoch: when the page was opened, and the last heartbeat.
    opened_ms: Mapped[int] = mapped_column(sa.BigInteger)
    last_beat_ms: Mapped[int] = mapped_column(sa.BigInteger)
    credited_ms: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    beats: Mapped[int] = mapped_column(default=0)
    #: The page (tab or device) that holds the reading; another one earns nothing while
    #: this one is alive.
    tab_token: Mapped[str] = mapped_column(sa.String(32), default="")
    completed_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<ReadingProgress {self.assignment_id}:{self.person_id}:{self.material_id}>"


class CheckpointAnswer(db.Model):
    """A reader's answer to a checkpoint, graded at once; the first answer stands."""

    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), primary_key=True,
                                           index=True)
    checkpoint_id: Mapped[int] = mapped_column(
        sa.ForeignKey("material_checkpoint.id", ondelete="CASCADE"), primary_key=True)
    response: Mapped[object] = mapped_column(sa.JSON)
    is_correct: Mapped[bool]
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<CheckpointAnswer {self.assignment_id}:{self.person_id}:{self.checkpoint_id}>"


class Reflection(db.Model):
    """心得体会 / 学习笔记 on an assignment or on a study session (exactly one of the two).
    ``body`` is the working text (the autosaved draft); each submission is kept as a
    ``ReflectionVersion`` with its review."""

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("study_session.id", ondelete="CASCADE"), index=True)
    status: Mapped[ReflectionStatus] = mapped_column(enum_column(ReflectionStatus, 10),
                                                     default=ReflectionStatus.DRAFT)
    body: Mapped[str] = mapped_column(sa.Text, default="")
    char_count: Mapped[int] = mapped_column(default=0)
    draft_saved_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    #: 优秀: marked by a reviewer on an accepted reflection; shared with the unit.
    is_excellent: Mapped[bool] = mapped_column(default=False)
    shared_at: Mapped[datetime | None]
    #: The highest similarity found at the last submission (0–1), and with what.
    similarity: Mapped[float | None]
    similar_to: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship()
    versions: Mapped[list[ReflectionVersion]] = relationship(
        back_populates="reflection", order_by="ReflectionVersion.number",
        cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("person_id", "assignment_id", name="uq_reflection_person_assignment"),
        sa.UniqueConstraint("person_id", "session_id", name="uq_reflection_person_session"),
        sa.CheckConstraint("(assignment_id IS NULL) <> (session_id IS NULL)", name="has_target"),
    )

    def __repr__(self) -> str:
        return f"<Reflection {self.id} {self.status.value}>"


class ReflectionVersion(db.Model):
    """One submitted version of a reflection, and what its reviewer said."""

    id: Mapped[int] = mapped_column(primary_key=True)
    reflection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("reflection.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    body: Mapped[str] = mapped_column(sa.Text)
    char_count: Mapped[int]
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: accepted / returned, or None while it waits.
    decision: Mapped[str | None] = mapped_column(sa.String(10))
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    reviewed_at: Mapped[datetime | None]

    reflection: Mapped[Reflection] = relationship(back_populates="versions")

    __table_args__ = (
        sa.UniqueConstraint("reflection_id", "number", name="uq_reflection_version_number"),
    )

    def __repr__(self) -> str:
        return f"<ReflectionVersion {self.reflection_id}.{self.number}>"
