"""Session figures over a period (统计口径, DOMAIN.md), in SQL, the same on SQLite and
PostgreSQL.

- Sessions held (已开展): published sessions that started within the period (and before
  now), organised by the unit or a unit of its subtree (``StudySession.owner_unit``);
  hours are the scheduled start to end of each.
- Attendance is counted over the expected attendees fixed at publication (``Attendance``,
  one row per person and session, with their unit of that day): a unit's figures are
  the rows of the people of its subtree at every held session in the period, whoever
  organised it. 应到 = rows; 实到 = 出席 + 迟到; 请假 (approved leave) and 缺席 are shown
  apart; 参学率 = Σ 实到 ÷ Σ 参学率's denominator, which leaves a session's approved leave
  out unless that session keeps it (``leave_counts_as_expected``).

Each table is one GROUP BY; a unit table maps each unit of the subtree to the child it
lies under (``model_helpers.in_subtree``) and groups by that.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import ColumnElement

from studyhall.extensions import db
from studyhall.model_helpers import in_subtree
from studyhall.org.models import Unit
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    SessionKind,
    StudyPlan,
    StudyPlanItem,
    StudySession,
)
from studyhall.sessions.plans import held_clause
from studyhall.sessions.queries_record import counted_in_denominator
from studyhall.stats.periods import DatePeriod

#: The key of the row for the people and sessions of the unit itself (本级).
OWN = 0


class _Seconds(ColumnElement):
    """Whole seconds from one timestamp column to another (a portable duration)."""

    inherit_cache = True
    type = sa.Integer()

    def __init__(self, start, end):
        self.start, self.end = start, end


@compiles(_Seconds)
def _seconds_default(element, compiler, **kw):
    end, start = compiler.process(element.end, **kw), compiler.process(element.start, **kw)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS INTEGER)"


@compiles(_Seconds, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    end, start = compiler.process(element.end, **kw), compiler.process(element.start, **kw)
    return f"CAST(ROUND((julianday({end}) - julianday({start})) * 86400) AS INTEGER)"


@dataclass
class AttendanceFigures:
    """Person-times at sessions, and 参学率's terms."""

    expected: int = 0
    present: int = 0
    late: int = 0
    excused: int = 0
    absent: int = 0
    #: 参学率's denominator (应到 less approved leave where the session does not keep it).
    denominator: int = 0

    @property
    def attended(self) -> int:
        """实到: 出席 and 迟到."""
        return self.present + self.late

    @property
    def unmarked(self) -> int:
        return self.expected - self.present - self.late - self.excused - self.absent

    def add(self, other: AttendanceFigures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class HeldFigures:
    """Sessions organised and their scheduled length."""

    sessions: int = 0
    seconds: int = 0


def _attendance_columns() -> list:
    status = Attendance.status
    count = sa.func.count()
    return [count, count.filter(status == AttendanceStatus.PRESENT),
            count.filter(status == AttendanceStatus.LATE),
            count.filter(status == AttendanceStatus.EXCUSED),
            count.filter(status == AttendanceStatus.ABSENT),
            count.filter(counted_in_denominator())]


def _held(period: DatePeriod, now: datetime) -> list:
    return [held_clause(now), period.contains(StudySession.starts_at)]


def unit_keys(root: Unit) -> sa.CTE:
    """(unit_id, key) for every unit of ``root``'s subtree: the direct child it lies under,
    or OWN for ``root`` itself. The children partition the subtree, so rows keyed by this
    add up to the root's figures."""
    child, below = aliased(Unit, name="child"), aliased(Unit, name="below")
    children = (sa.select(below.id.label("unit_id"), child.id.label("key"))
                .select_from(child).join(below, in_subtree(below.path, child.path))
                .where(child.parent_id == root.id))
    own = sa.select(sa.literal(root.id).label("unit_id"), sa.literal(OWN).label("key"))
    return sa.union_all(children, own).cte("unit_keys")


def _attendance_by(key, root: Unit, period: DatePeriod, now: datetime,
                   *, keys: sa.CTE | None = None) -> dict:
    query = (sa.select(key, *_attendance_columns())
             .select_from(Attendance)
             .join(StudySession, StudySession.id == Attendance.session_id))
    if keys is not None:
        query = query.join(keys, keys.c.unit_id == Attendance.unit_id)
    else:
        query = query.join(Unit, Unit.id == Attendance.unit_id).where(
            in_subtree(Unit.path, root.path))
    rows = db.session.execute(query.where(*_held(period, now)).group_by(key))
    return {row[0]: AttendanceFigures(*row[1:]) for row in rows}


def _held_by(key, root: Unit, period: DatePeriod, now: datetime,
             *, keys: sa.CTE | None = None) -> dict:
    query = sa.select(key, sa.func.count(),
                      sa.func.sum(_Seconds(StudySession.starts_at, StudySession.ends_at)))
    if keys is not None:
        query = query.select_from(StudySession).join(
            keys, keys.c.unit_id == StudySession.owner_unit_id)
    else:
        query = query.select_from(StudySession).join(
            Unit, Unit.id == StudySession.owner_unit_id).where(in_subtree(Unit.path, root.path))
    rows = db.session.execute(query.where(*_held(period, now)).group_by(key))
    return {row[0]: HeldFigures(row[1], row[2] or 0) for row in rows}


# --- the unit's figures by kind -------------------------------------------------------


@dataclass
class KindLine:
    kind: SessionKind | None  # None: all kinds
    held: HeldFigures
    attendance: AttendanceFigures
    planned: int = 0
    #: Planned items carried out by a held session.
    planned_held: int = 0


def get_sessions_by_kind(root: Unit, period: DatePeriod, now: datetime
                         ) -> tuple[KindLine, list[KindLine]]:
    """Per kind: sessions organised in the subtree and their hours, attendance of the
    subtree's people at sessions of that kind, and the items the subtree's study plans
    put in the period's months with how many were carried out. With the all-kinds total.
    Three GROUP BYs."""
    held = _held_by(StudySession.kind, root, period, now)
    attendance = _attendance_by(StudySession.kind, root, period, now)
    planned = _planned_by_kind(root, period, now)
    lines = []
    total = KindLine(None, HeldFigures(), AttendanceFigures())
    for kind in SessionKind:
        line = KindLine(kind, held.get(kind, HeldFigures()),
                        attendance.get(kind, AttendanceFigures()), *planned.get(kind, (0, 0)))
        if not (line.held.sessions or line.attendance.expected or line.planned):
            continue
        lines.append(line)
        total.held.sessions += line.held.sessions
        total.held.seconds += line.held.seconds
        total.attendance.add(line.attendance)
        total.planned += line.planned
        total.planned_held += line.planned_held
    return total, lines


def _planned_by_kind(root: Unit, period: DatePeriod, now: datetime) -> dict:
    """kind → (items planned for the period's months, of which carried out by a held
    session) over the study plans of the subtree's units."""
    month_key = StudyPlan.year * 100 + StudyPlanItem.month
    first, last = period.months[0], period.months[-1]
    carried = sa.exists().where(StudySession.plan_item_id == StudyPlanItem.id,
                                held_clause(now))
    rows = db.session.execute(
        sa.select(StudyPlanItem.kind, sa.func.count(), sa.func.count().filter(carried))
        .join(StudyPlan, StudyPlan.id == StudyPlanItem.plan_id)
        .join(Unit, Unit.id == StudyPlan.unit_id)
        .where(in_subtree(Unit.path, root.path),
               month_key >= first[0] * 100 + first[1], month_key <= last[0] * 100 + last[1])
        .group_by(StudyPlanItem.kind))
    return {kind: (planned, done) for kind, planned, done in rows}


# --- by sub-unit ---------------------------------------------------------------------


@dataclass
class UnitSessionRow:
    unit: Unit | None  # None: the unit itself (本级)
    held: HeldFigures
    attendance: AttendanceFigures


def get_sessions_by_child(root: Unit, period: DatePeriod, now: datetime
                          ) -> list[UnitSessionRow]:
    """Each direct sub-unit with its subtree, and a 本级 row (sessions the unit organised
    itself, people attached to it): two GROUP BYs, rows that add up to the unit's."""
    keys = unit_keys(root)
    held = _held_by(keys.c.key, root, period, now, keys=keys)
    attendance = _attendance_by(keys.c.key, root, period, now, keys=keys)
    children = db.session.scalars(sa.select(Unit).where(Unit.parent_id == root.id)).all()
    rows = [UnitSessionRow(c, held.get(c.id, HeldFigures()),
                           attendance.get(c.id, AttendanceFigures())) for c in children
            if c.id in held or c.id in attendance]
    if OWN in held or OWN in attendance:
        rows.append(UnitSessionRow(None, held.get(OWN, HeldFigures()),
                                   attendance.get(OWN, AttendanceFigures())))
    return rows


# --- over the months ------------------------------------------------------------------


def get_attendance_by_month(root: Unit, period: DatePeriod, now: datetime
                            ) -> list[AttendanceFigures]:
    """The subtree's attendance in each month of the period (by session start, local
    time): one GROUP BY."""
    found = _attendance_by(period.month_index(StudySession.starts_at).label("month"),
                           root, period, now)
    return [found.get(k, AttendanceFigures()) for k in range(len(period.months))]


# --- people ---------------------------------------------------------------------------


def attendance_by_person(person_ids: list[int], period: DatePeriod, now: datetime,
                         unit_ids: list[int]) -> dict[int, AttendanceFigures]:
    """Each person's totals per status over the held sessions of the period at which they
    were expected as a member of one of ``unit_ids``: one GROUP BY."""
    if not person_ids:
        return {}
    rows = db.session.execute(
        sa.select(Attendance.person_id, *_attendance_columns())
        .join(StudySession, StudySession.id == Attendance.session_id)
        .where(Attendance.person_id.in_(person_ids), Attendance.unit_id.in_(unit_ids),
               *_held(period, now))
        .group_by(Attendance.person_id))
    return {row[0]: AttendanceFigures(*row[1:]) for row in rows}


def expected_people(unit_ids: list[int], period: DatePeriod, now: datetime) -> sa.Select:
    """Ids of the people expected at a held session of the period as members of
    ``unit_ids`` (to be unioned with the study side's)."""
    return (sa.select(Attendance.person_id.label("person_id"))
            .join(StudySession, StudySession.id == Attendance.session_id)
            .where(Attendance.unit_id.in_(unit_ids), *_held(period, now)))

