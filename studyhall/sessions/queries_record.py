"""Attendance figures for a person's learning record (学习档案) and for a unit's page.

Counts follow DOMAIN.md: 应到 is the expected attendees fixed at publication; 出席 and 迟到
are 实到; approved leave (请假) is reported beside 缺席 and stays in 参学率's denominator
only where the session says so (``leave_counts_as_expected``). Only held sessions count:
published, and started before ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.model_helpers import in_subtree
from studyhall.org.models import Unit
from studyhall.sessions.models import Attendance, AttendanceStatus, SessionKind, StudySession
from studyhall.sessions.plans import Period, held_clause
from studyhall.sessions.queries import AttendanceTally

ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


def counted_in_denominator():
    """SQL on Attendance joined to StudySession: the row counts in 参学率's denominator
    (everyone expected, less approved leave unless the session keeps it)."""
    return sa.or_(Attendance.status.is_(None), Attendance.status != AttendanceStatus.EXCUSED,
                  StudySession.leave_counts_as_expected.is_(True))


@dataclass
class KindAttendance(AttendanceTally):
    """One kind's figures over a period: sessions, 应到, statuses and 参学率's terms."""

    kind: SessionKind | None = None
    sessions: int = 0
    #: 参学率's denominator (expected less approved leave where it does not count).
    denominator: int = 0


def _status_columns():
    status = Attendance.status
    count = sa.func.count(Attendance.person_id)
    return (count, count.filter(status == AttendanceStatus.PRESENT),
            count.filter(status == AttendanceStatus.LATE),
            count.filter(status == AttendanceStatus.EXCUSED),
            count.filter(status == AttendanceStatus.ABSENT),
            count.filter(counted_in_denominator()))


def _kind_line(kind: SessionKind, sessions: int, expected: int, present: int, late: int,
               excused: int, absent: int, denominator: int) -> KindAttendance:
    """A kind's line from a row of ``(kind, sessions, *_status_columns())``."""
    return KindAttendance(expected, present, late, excused, absent, kind=kind,
                          sessions=sessions, denominator=denominator)


def _total(lines: list[KindAttendance]) -> KindAttendance | None:
    if not lines:
        return None
    total = KindAttendance()
    for line in lines:
        for name in ("sessions", "expected", "present", "late", "excused", "absent",
                     "denominator"):
            setattr(total, name, getattr(total, name) + getattr(line, name))
    return total


@dataclass
class AttendanceRecord:
    """A person's attendance over a period: by kind, and session by session."""

    by_kind: list[KindAttendance] = field(default_factory=list)
    #: (session, the person's status or None: not marked), by start time.
    sessions: list[tuple[StudySession, AttendanceStatus | None]] = field(default_factory=list)

    @property
    def total(self) -> KindAttendance | None:
        return _total(self.by_kind)


def get_attendance_record(person_id: int, start: datetime, end: datetime,
                          now: datetime) -> AttendanceRecord:
    """The learning record's attendance section: the held sessions in [start, end) the
    person was expected at, by kind (one GROUP BY) and one by one (one query)."""
    where = (Attendance.person_id == person_id, held_clause(now),
             StudySession.starts_at >= start, StudySession.starts_at < end)
    rows = db.session.execute(
        sa.select(StudySession.kind, sa.func.count(StudySession.id), *_status_columns()[1:])
        .join(Attendance, Attendance.session_id == StudySession.id)
        .where(*where).group_by(StudySession.kind)).all()
    # One row a session for one person: sessions and 应到 are the same count.
    by_kind = {kind: _kind_line(kind, n, n, *counts) for kind, n, *counts in rows}
    sessions = db.session.execute(
        sa.select(StudySession, Attendance.status)
        .join(Attendance, Attendance.session_id == StudySession.id)
        .where(*where).order_by(StudySession.starts_at)).all()
    return AttendanceRecord([by_kind[k] for k in SessionKind if k in by_kind],
                            [(s, status) for s, status in sessions])


def get_unit_sessions_by_kind(unit: Unit, period: Period, now: datetime) -> list[KindAttendance]:
    """Sessions held by the unit and its sub-units in the period, by kind, with 应到/实到
    person-times and 参学率's terms: one GROUP BY (sessions without expected attendees,
    such as recorded lectures, still count as held)."""
    start, end = period.bounds()
    rows = db.session.execute(
        sa.select(StudySession.kind, sa.func.count(sa.distinct(StudySession.id)),
                  *_status_columns())
        .join(StudySession.owner_unit)
        .outerjoin(Attendance, Attendance.session_id == StudySession.id)
        .where(in_subtree(Unit.path, unit.path), held_clause(now),
               StudySession.starts_at >= start, StudySession.starts_at < end)
        .group_by(StudySession.kind)).all()
    found = {kind: _kind_line(kind, n, *counts) for kind, n, *counts in rows}
    return [found[k] for k in SessionKind if k in found]


__all__ = ["AttendanceRecord", "KindAttendance", "counted_in_denominator",
           "get_attendance_record", "get_unit_sessions_by_kind"]
