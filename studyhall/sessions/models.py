"""Study sessions (学习活动) and attendance (签到): 三会一课, 主题党日, 中心组学习 and other
collective study, with their expected attendees, check-in, leave, minutes and evidence;
and study plans (学习计划) that held sessions are checked against.

Publishing a session fixes its expected attendees (``Attendance`` rows with the unit and
政治面貌 of that day, status still unmarked), so a later move between units never
changes a past session's figures. Check-in codes are derived, not stored: an HMAC of
(the session's secret, the 10-second step), so reloading the screen cannot break them.
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


class SessionKind(enum.Enum):
    CENTRAL_GROUP = "central_group"
    BRANCH_MEETING = "branch_meeting"
    BRANCH_COMMITTEE = "branch_committee"
    GROUP_MEETING = "group_meeting"
    PARTY_LECTURE = "party_lecture"
    THEME_DAY = "theme_day"
    GROUP_STUDY = "group_study"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(LABELS[self])


class SessionStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(LABELS[self])


class AttendanceStatus(enum.Enum):
    PRESENT = "present"
    LATE = "late"
    EXCUSED = "excused"
    ABSENT = "absent"

    @property
    def label(self) -> str:
        return str(LABELS[self])

    @property
    def attended(self) -> bool:
        """出席 and 迟到 count as 实到."""
        return self in (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


class LeaveState(enum.Enum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"

    @property
    def label(self) -> str:
        return str(LABELS[self])


LABELS = {
    SessionKind.CENTRAL_GROUP: _l("Central group study"),
    SessionKind.BRANCH_MEETING: _l("Branch general meeting"),
    SessionKind.BRANCH_COMMITTEE: _l("Branch committee meeting"),
    SessionKind.GROUP_MEETING: _l("Party group meeting"),
    SessionKind.PARTY_LECTURE: _l("Party lecture"),
    SessionKind.THEME_DAY: _l("Theme party day"),
    SessionKind.GROUP_STUDY: _l("Collective study"),
    SessionKind.OTHER: _l("Other"),
    SessionStatus.DRAFT: _l("Draft"), SessionStatus.PUBLISHED: _l("Published"),
    SessionStatus.CANCELLED: _l("Cancelled"),
    AttendanceStatus.PRESENT: _l("Present"), AttendanceStatus.LATE: _l("Late"),
    AttendanceStatus.EXCUSED: _l("On leave"), AttendanceStatus.ABSENT: _l("Absent"),
    LeaveState.REQUESTED: _l("Leave requested"), LeaveState.APPROVED: _l("Leave approved"),
    LeaveState.REFUSED: _l("Leave refused"),
}

session_material = sa.Table(
    "session_material",
    db.metadata,
    sa.Column("session_id", sa.ForeignKey("study_session.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("material_id", sa.ForeignKey("material.id"), primary_key=True, index=True),
)

session_quiz = sa.Table(
    "session_quiz",
    db.metadata,
    sa.Column("session_id", sa.ForeignKey("study_session.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("quiz_id", sa.ForeignKey("quiz.id"), primary_key=True, index=True),
)


class StudyPlan(db.Model):
    """学习计划: a unit's planned sessions for a year (half = 0) or a half-year (1, 2)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    year: Mapped[int]
    half: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(200))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship()
    items: Mapped[list[StudyPlanItem]] = relationship(
        back_populates="plan", order_by="(StudyPlanItem.month, StudyPlanItem.id)",
        cascade="all, delete-orphan")

    __table_args__ = (
        sa.UniqueConstraint("unit_id", "year", "half", name="uq_study_plan_unit_period"),
        sa.CheckConstraint("half IN (0, 1, 2)", name="half_valid"),
    )

    def __repr__(self) -> str:
        return f"<StudyPlan {self.id} unit={self.unit_id} {self.year}/{self.half}>"


class StudyPlanItem(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("study_plan.id", ondelete="CASCADE"),
                                         index=True)
    kind: Mapped[SessionKind] = mapped_column(enum_column(SessionKind, 20))
    month: Mapped[int]
    topic: Mapped[str] = mapped_column(sa.String(200))

    plan: Mapped[StudyPlan] = relationship(back_populates="items")

    __table_args__ = (sa.CheckConstraint("month BETWEEN 1 AND 12", name="month_valid"),)

    def __repr__(self) -> str:
        return f"<StudyPlanItem {self.id} {self.kind.value} {self.month}>"


class StudySession(db.Model):
    """学习活动: one meeting of a unit, from notice to locked record."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SessionKind] = mapped_column(enum_column(SessionKind, 20))
    status: Mapped[SessionStatus] = mapped_column(enum_column(SessionStatus, 10),
                                                  default=SessionStatus.DRAFT)
    owner_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"), index=True)
    plan_item_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("study_plan_item.id", ondelete="SET NULL"), index=True)
    topic: Mapped[str] = mapped_column(sa.String(200))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Held online: the meeting's address (http/https).
    online_url: Mapped[str | None] = mapped_column(sa.String(1000))
    #: A recorded 党课: watched like a material.
    recording_material_id: Mapped[int | None] = mapped_column(sa.ForeignKey("material.id"))
    #: The study assignment that gives the recording to the expected attendees (made at
    #: publication, recording.py): its reading credit and completion are study's.
    recording_assignment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="SET NULL"), index=True)
    host_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    #: 党课's speaker, who may come from outside the roster.
    speaker: Mapped[str] = mapped_column(sa.String(100), default="")
    recorder_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    #: {"unit_ids": [...], "person_ids": [...], "statuses": [...]}, as quizzes; by default
    #: the owner unit with its subtree.
    audience: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: Check-in opens this many minutes before the start and closes this many after it;
    #: after late_after_minutes past the start a check-in is 迟到.
    checkin_opens_before: Mapped[int] = mapped_column(default=30)
    checkin_closes_after: Mapped[int] = mapped_column(default=60)
    late_after_minutes: Mapped[int] = mapped_column(default=5)
    #: The key of the rotating check-in codes (random per session, never shown).
    checkin_secret: Mapped[str] = mapped_column(sa.String(64))
    #: Whether approved leave stays in 参学率's denominator for this session.
    leave_counts_as_expected: Mapped[bool] = mapped_column(default=False)
    minutes: Mapped[str] = mapped_column(sa.Text, default="")
    minutes_html: Mapped[str] = mapped_column(sa.Text, default="")
    resolutions: Mapped[str] = mapped_column(sa.Text, default="")
    record_locked_at: Mapped[datetime | None]
    record_locked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    published_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner_unit: Mapped[Unit] = relationship()
    host: Mapped[Person | None] = relationship(foreign_keys=[host_id])
    recorder: Mapped[Person | None] = relationship(foreign_keys=[recorder_id])
    plan_item: Mapped[StudyPlanItem | None] = relationship()
    attachments: Mapped[list[SessionAttachment]] = relationship(
        back_populates="session", order_by="SessionAttachment.position",
        cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="time_order"),
        sa.CheckConstraint("checkin_opens_before >= 0 AND checkin_closes_after >= 0 "
                           "AND late_after_minutes >= 0", name="checkin_window_valid"),
        sa.Index("ix_study_session_unit_start", "owner_unit_id", "starts_at"),
    )

    def __repr__(self) -> str:
        return f"<StudySession {self.id} {self.kind.value} {self.topic!r}>"


class Attendance(db.Model):
    """应到人员 and their attendance: one row per expected person, fixed at publication
    with the unit and 政治面貌 of that day; ``status`` is NULL until marked."""

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("study_session.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), primary_key=True,
                                           index=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id"))
    political_status: Mapped[PoliticalStatus] = mapped_column(enum_column(PoliticalStatus, 2))
    status: Mapped[AttendanceStatus | None] = mapped_column(enum_column(AttendanceStatus, 10))
    checked_in_at: Mapped[datetime | None]
    #: How it was recorded: qr / code / roster.
    method: Mapped[str | None] = mapped_column(sa.String(10))
    #: A hash of the checking-in device's cookie, to flag one phone checking in several.
    device_hash: Mapped[str | None] = mapped_column(sa.String(64))
    marked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    leave_state: Mapped[LeaveState | None] = mapped_column(enum_column(LeaveState, 10))
    leave_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    leave_requested_at: Mapped[datetime | None]
    leave_decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    leave_decided_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(foreign_keys=[person_id])

    __table_args__ = (
        # With the status, the figures' pass over a period's rows (per session, unit and
        # status) reads this index alone, never the rows themselves.
        sa.Index("ix_attendance_session_unit_status", "session_id", "unit_id", "status"),
        sa.Index("ix_attendance_session_device", "session_id", "device_hash"),
    )

    def __repr__(self) -> str:
        return f"<Attendance {self.session_id}:{self.person_id} {self.status}>"


class SessionAttachment(db.Model):
    """Evidence of a session: photos (with a page-sized copy), the notice, the sign-in
    sheet, resolutions and other attachments."""

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("study_session.id", ondelete="CASCADE"), index=True)
    #: photo / attachment
    kind: Mapped[str] = mapped_column(sa.String(12))
    file_id: Mapped[int] = mapped_column(sa.ForeignKey("stored_file.id"))
    #: Photos: the copy sized for the page; the original stays in file_id.
    preview_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stored_file.id"))
    caption: Mapped[str] = mapped_column(sa.String(200), default="")
    position: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[StudySession] = relationship(back_populates="attachments")
    file: Mapped[StoredFile] = relationship(foreign_keys=[file_id])
    preview_file: Mapped[StoredFile | None] = relationship(foreign_keys=[preview_file_id])

    def __repr__(self) -> str:
        return f"<SessionAttachment {self.id} {self.kind}>"


class SessionUnitSettings(db.Model):
    """A unit's own rules for its sessions; a unit without a row (or a NULL) inherits
    from the nearest ancestor that sets it, then from the configuration."""

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("unit.id", ondelete="CASCADE"),
                                         primary_key=True)
    #: Working days after the meeting within which its record is due.
    record_working_days: Mapped[int | None]
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("record_working_days BETWEEN 1 AND 30",
                           name="record_working_days_valid"),
    )

    def __repr__(self) -> str:
        return f"<SessionUnitSettings {self.unit_id} days={self.record_working_days}>"


class SessionRecordVersion(db.Model):
    """The record as it stood before a change made after it was locked."""

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("study_session.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    minutes: Mapped[str] = mapped_column(sa.Text)
    resolutions: Mapped[str] = mapped_column(sa.Text)
    #: Attendance as it stood: {person_id: status}.
    attendance: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    saved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"))
    saved_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("session_id", "number", name="uq_session_record_version_number"),
    )

    def __repr__(self) -> str:
        return f"<SessionRecordVersion {self.session_id}.{self.number}>"
