"""Reads behind the session exports: a session's record sheet (会议记录/纪实表) and a
unit's attendance sheet for a period. Rows in, for studyhall/exports/ to turn into bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from studyhall import storage
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree
from studyhall.org.models import Person, Unit
from studyhall.org.sorting import natural_key
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    SessionAttachment,
    StudySession,
)
from studyhall.sessions.plans import Period, held_clause, sort_in_tree_order
from studyhall.sessions.queries_record import counted_in_denominator

#: People whose statuses are read in one query while the sheet is written.
PEOPLE_PER_CHUNK = 500
_STATUS_OF = {None: None, **{s.value: s for s in AttendanceStatus}}


@dataclass
class RecordSheet:
    """What a session's record sheet shows."""

    session: StudySession
    host: str
    recorder: str
    #: status (None: not marked) → [(name, unit name, leave reason)] in roster order
    names: dict[AttendanceStatus | None, list[tuple[str, str, str]]]
    #: (caption, bytes) of each photo: the page-sized copy, or the original
    photos: list[tuple[str, bytes]] = field(default_factory=list)
    #: Photos whose file could not be read (named on the sheet, not silently dropped).
    missing_photos: list[str] = field(default_factory=list)

    def count(self, status: AttendanceStatus | None) -> int:
        return len(self.names.get(status, []))

    @property
    def expected(self) -> int:
        return sum(len(v) for v in self.names.values())

    @property
    def attended(self) -> int:
        return self.count(AttendanceStatus.PRESENT) + self.count(AttendanceStatus.LATE)

    @property
    def denominator(self) -> int:
        if self.session.leave_counts_as_expected:
            return self.expected
        return self.expected - self.count(AttendanceStatus.EXCUSED)


def get_record_sheet(session: StudySession) -> RecordSheet:
    """The session with its people by status and its photos (three queries)."""
    rows = db.session.execute(
        sa.select(Attendance.status, Person.name, Unit.name, Unit.sort_order,
                  Attendance.leave_reason)
        .join(Person, Person.id == Attendance.person_id)
        .join(Unit, Unit.id == Attendance.unit_id)
        .where(Attendance.session_id == session.id)).all()
    rows.sort(key=lambda r: (r[3], natural_key(r[2]), natural_key(r[1])))
    names: dict = {}
    for status, name, unit_name, _, reason in rows:
        names.setdefault(status, []).append((name, unit_name, reason or ""))
    attachments = db.session.scalars(
        sa.select(SessionAttachment)
        .options(joinedload(SessionAttachment.file), joinedload(SessionAttachment.preview_file))
        .where(SessionAttachment.session_id == session.id, SessionAttachment.kind == "photo")
        .order_by(SessionAttachment.position, SessionAttachment.id)).all()
    sheet = RecordSheet(session, session.host.name if session.host else "",
                        session.recorder.name if session.recorder else "", names)
    for photo in attachments:
        stored = photo.preview_file or photo.file
        try:
            sheet.photos.append((photo.caption, storage.read_file(stored)))
        except OSError:
            sheet.missing_photos.append(photo.caption or stored.filename)
    return sheet


@dataclass
class SheetSession:
    """One column of the attendance sheet, with its totals."""

    session: StudySession
    expected: int = 0
    attended: int = 0
    excused: int = 0
    absent: int = 0
    late: int = 0
    denominator: int = 0


@dataclass
class SheetPerson:
    person_id: int
    name: str
    account: str
    unit: str
    #: session id → status (None: expected, not marked); absent keys: not expected
    statuses: dict[int, AttendanceStatus | None] = field(default_factory=dict)


@dataclass
class AttendanceSheet:
    unit: Unit
    period: Period
    sessions: list[SheetSession]
    people: list[SheetPerson]

    def rows(self) -> Iterator[SheetPerson]:
        """The people with their statuses, read PEOPLE_PER_CHUNK at a time."""
        ids = [s.session.id for s in self.sessions]
        for start in range(0, len(self.people), PEOPLE_PER_CHUNK):
            chunk = self.people[start:start + PEOPLE_PER_CHUNK]
            by_id = {p.person_id: p for p in chunk}
            # The stored value, turned into the enum through a dict: the column's own
            # conversion, row by row, was a third of the reading time.
            for person_id, session_id, value in db.session.execute(
                    sa.select(Attendance.person_id, Attendance.session_id,
                              sa.type_coerce(Attendance.status, sa.String))
                    .where(Attendance.session_id.in_(ids),
                           Attendance.person_id.in_(list(by_id)))):
                by_id[person_id].statuses[session_id] = _STATUS_OF[value]
            yield from chunk
            for person in chunk:  # written: let the statuses go
                person.statuses = {}


def get_attendance_sheet(unit: Unit, period: Period, now: datetime) -> AttendanceSheet:
    """The held sessions of the unit and its sub-units in the period (by start time)
    with their totals (one GROUP BY), and everyone expected at any of them, by unit in
    tree order and then by name."""
    start, end = period.bounds()
    sessions = db.session.scalars(
        sa.select(StudySession).join(StudySession.owner_unit)
        .options(joinedload(StudySession.owner_unit))
        .where(in_subtree(Unit.path, unit.path), held_clause(now),
               StudySession.starts_at >= start, StudySession.starts_at < end)
        .order_by(StudySession.starts_at, StudySession.id)).all()
    columns = {s.id: SheetSession(s) for s in sessions}
    status = Attendance.status
    count = sa.func.count()
    for session_id, expected, attended, late, excused, absent, denominator in db.session.execute(
            sa.select(Attendance.session_id, count,
                      count.filter(status.in_([AttendanceStatus.PRESENT, AttendanceStatus.LATE])),
                      count.filter(status == AttendanceStatus.LATE),
                      count.filter(status == AttendanceStatus.EXCUSED),
                      count.filter(status == AttendanceStatus.ABSENT),
                      count.filter(counted_in_denominator()))
            .join(StudySession, StudySession.id == Attendance.session_id)
            .where(Attendance.session_id.in_(list(columns)))
            .group_by(Attendance.session_id)):
        column = columns[session_id]
        column.expected, column.attended, column.late = expected, attended, late
        column.excused, column.absent, column.denominator = excused, absent, denominator
    expected = sa.select(Attendance.person_id).where(
        Attendance.session_id.in_(list(columns))).distinct().subquery()
    people = db.session.execute(
        sa.select(Person.id, Person.name, Person.account, Unit)
        .join(expected, expected.c.person_id == Person.id)
        .join(Unit, Unit.id == Person.unit_id)).all()
    units = list({u.id: u for *_, u in people}.values())
    sort_in_tree_order(units)
    order = {u.id: i for i, u in enumerate(units)}
    people.sort(key=lambda r: (order[r[3].id], natural_key(r[1]), r[2]))
    return AttendanceSheet(unit, period, list(columns.values()),
                           [SheetPerson(pid, name, account, u.name)
                            for pid, name, account, u in people])
