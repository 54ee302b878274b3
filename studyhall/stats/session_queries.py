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

The subtree is an IN over its unit ids (``model_helpers.in_subtree``). The attendance
rows are read once per page (:func:`get_attendance_rollups`): grouped per session and
unit in SQL, and those few thousand rows summed again in the same statement by kind, by
month and by unit; a table of sub-units adds each unit's row to the child it lies under
(:func:`unit_keys`). Rows are never loaded to be counted.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

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
from studyhall.sessions.queries import AttendanceTally
from studyhall.sessions.queries_record import counted_in_denominator
from studyhall.stats.periods import DatePeriod
from studyhall.stats.queries import without_jit

#: The key of the row for the people and sessions of the unit itself (本级).
OWN = 0


def _seconds(start, end) -> sa.ColumnElement:
    """SQL: whole seconds from one timestamp column to another, on either database."""
    if db.session.get_bind().dialect.name == "sqlite":
        # Unix seconds of each (whole seconds, exact): no float in between.
        return (sa.cast(sa.func.strftime("%s", end), sa.Integer)
                - sa.cast(sa.func.strftime("%s", start), sa.Integer))
    return sa.cast(sa.extract("epoch", end - start), sa.Integer)


@dataclass
class AttendanceFigures(AttendanceTally):
    """Person-times at sessions, and 参学率's terms."""

    #: 参学率's denominator (应到 less approved leave where the session does not keep it).
    denominator: int = 0

    def add(self, other: AttendanceFigures) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class HeldFigures:
    """Sessions organised and their scheduled length."""

    sessions: int = 0
    seconds: int = 0


def _held(period: DatePeriod, now: datetime) -> list:
    return [held_clause(now), period.contains(StudySession.starts_at)]


def subtree_unit_ids(root: Unit) -> sa.Select:
    """The ids of the units of ``root``'s subtree, for an IN: statements then run from the
    period's sessions (index on the start) through their rows' (session, unit) index."""
    return sa.select(Unit.id).where(in_subtree(Unit.path, root.path))


def in_units(unit_column, root: Unit) -> sa.ColumnElement:
    """SQL: a row's unit (fixed at publication) is in ``root``'s subtree. Written on
    ``unit_id + 0`` so that SQLite reads each session's (assignment's) rows by the first
    column of their (session, unit) index and tests the unit, instead of probing that
    index once per unit of the subtree for every session: 2,000 units × 19,000 sessions
    of a city's year. PostgreSQL plans it the same either way."""
    return (unit_column + 0).in_(subtree_unit_ids(root))


def unit_keys(root: Unit) -> dict[int, int]:
    """unit id → the direct child of ``root`` it lies under (OWN for ``root`` itself), for
    every unit of the subtree: one read of the units. The children partition the
    subtree, so per-unit figures rolled up by this add up to the root's."""
    child, below = aliased(Unit, name="child"), aliased(Unit, name="below")
    keys = dict(db.session.execute(
        sa.select(below.id, child.id).select_from(child)
        .join(below, in_subtree(below.path, child.path)).where(child.parent_id == root.id)
        ).all())
    keys[root.id] = OWN
    return keys


_FIELDS = ("expected", "present", "late", "excused", "absent", "denominator")


def _attendance_columns() -> list:
    status = Attendance.status
    count = sa.func.count()
    return [count, count.filter(status == AttendanceStatus.PRESENT),
            count.filter(status == AttendanceStatus.LATE),
            count.filter(status == AttendanceStatus.EXCUSED),
            count.filter(status == AttendanceStatus.ABSENT),
            count.filter(counted_in_denominator())]


def _per_session(root: Unit, period: DatePeriod, now: datetime) -> sa.Select:
    """Each held session of the period and each unit at it with the counts of its rows
    for the subtree's people: one pass over the attendance rows in index order, which
    every roll-up then sums (a few thousand rows, not millions)."""
    counts = [column.label(name) for column, name in zip(_attendance_columns(), _FIELDS,
                                                          strict=True)]
    # Grouped in the order the rows are read (the sessions by their start's index, each
    # session's rows by its (session, unit) index), so that SQLite groups as it reads
    # instead of sorting a year's million rows first (the start adds no group: a session
    # has one).
    return (sa.select(StudySession.id.label("session_id"), Attendance.unit_id, *counts)
            .select_from(StudySession)
            .join(Attendance, Attendance.session_id == StudySession.id)
            .where(in_units(Attendance.unit_id, root), *_held(period, now))
            .group_by(StudySession.starts_at, StudySession.id, Attendance.unit_id))


def _sums(rows) -> list:
    return [sa.func.sum(rows.c[name]) for name in _FIELDS]


def _attendance(values) -> AttendanceFigures:
    return AttendanceFigures(*(int(v or 0) for v in values))


#: What get_attendance_rollups can sum the period's attendance by.
AXES = ("kind", "month", "unit")


@dataclass
class AttendanceRollups:
    """The subtree's attendance over a period summed by the session's kind, by month
    (index into ``period.months``) and by the attendee's unit (each unit alone, not
    rolled up), from one pass over the rows."""

    by_kind: dict[SessionKind, AttendanceFigures]
    by_month: dict[int, AttendanceFigures]
    by_unit: dict[int, AttendanceFigures]


def get_attendance_rollups(root: Unit, period: DatePeriod, now: datetime,
                           axes: tuple[str, ...] = AXES) -> AttendanceRollups:
    """The period's attendance of the subtree's people by each of ``axes``, in ONE
    statement: the rows are grouped once per session and unit (a materialised CTE of a
    few thousand rows, the only pass over the attendance), and that is summed by kind,
    month and unit in a UNION ALL, a row of it saying which axis it belongs to."""
    # PostgreSQL would compile this one-off aggregate over a year's rows with its JIT
    # (35-80 ms here, each run).
    without_jit()
    per = (_per_session(root, period, now)
           .cte("per_session").prefix_with("MATERIALIZED"))
    no_kind = sa.cast(sa.null(), StudySession.__table__.c.kind.type)
    no_number = sa.cast(sa.null(), sa.Integer)
    with_session = per.join(StudySession, StudySession.id == per.c.session_id)
    month = period.month_index(StudySession.starts_at)
    parts = {
        "kind": sa.select(sa.literal("kind").label("axis"), StudySession.kind.label("kind"),
                          no_number.label("number"), *_sums(per))
        .select_from(with_session).group_by(StudySession.kind),
        "month": sa.select(sa.literal("month"), no_kind, month, *_sums(per))
        .select_from(with_session).group_by(month),
        "unit": sa.select(sa.literal("unit"), no_kind, per.c.unit_id, *_sums(per))
        .group_by(per.c.unit_id),
    }
    chosen = [parts[axis] for axis in AXES if axis in axes]
    found = AttendanceRollups({}, {}, {})
    statement = chosen[0] if len(chosen) == 1 else sa.union_all(*chosen)
    for axis, kind, number, *values in db.session.execute(statement):
        if axis == "kind":
            found.by_kind[kind] = _attendance(values)
        elif axis == "month":
            found.by_month[number] = _attendance(values)
        else:
            found.by_unit[number] = _attendance(values)
    return found


def _attendance_by_child(by_unit: dict[int, AttendanceFigures], keys: dict[int, int]
                         ) -> dict:
    """Each unit's attendance added to the direct child of the root it lies under."""
    found: dict[int, AttendanceFigures] = {}
    for unit_id, figures in by_unit.items():
        found.setdefault(keys[unit_id], AttendanceFigures()).add(figures)
    return found


def _held_by(key, root: Unit, period: DatePeriod, now: datetime) -> dict:
    """Sessions organised in the subtree and their seconds, by ``key``."""
    rows = db.session.execute(
        sa.select(key, sa.func.count(),
                  sa.func.sum(_seconds(StudySession.starts_at, StudySession.ends_at)))
        .where(in_units(StudySession.owner_unit_id, root), *_held(period, now))
        .group_by(key))
    return {row[0]: HeldFigures(row[1], int(row[2] or 0)) for row in rows}


# --- the unit's figures by kind -------------------------------------------------------


@dataclass
class KindLine:
    kind: SessionKind | None  # None: all kinds
    held: HeldFigures
    attendance: AttendanceFigures
    planned: int = 0
    #: Planned items carried out by a held session.
    planned_held: int = 0


def get_sessions_by_kind(root: Unit, period: DatePeriod, now: datetime,
                         rollups: AttendanceRollups | None = None
                         ) -> tuple[KindLine, list[KindLine]]:
    """Per kind: sessions organised in the subtree and their hours, attendance of the
    subtree's people at sessions of that kind (from ``rollups`` when the page has them),
    and the items the subtree's study plans put in the period's months with how many were
    carried out. With the all-kinds total. Three GROUP BYs."""
    held = _held_by(StudySession.kind, root, period, now)
    if rollups is None:
        rollups = get_attendance_rollups(root, period, now, ("kind",))
    attendance = rollups.by_kind
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


def get_sessions_by_child(root: Unit, period: DatePeriod, now: datetime,
                          rollups: AttendanceRollups | None = None) -> list[UnitSessionRow]:
    """Each direct sub-unit with its subtree, and a 本级 row (sessions the unit organised
    itself, people attached to it): GROUP BYs by unit rolled up to the children through
    :func:`unit_keys`; rows that add up to the unit's."""
    keys = unit_keys(root)
    held: dict[int, HeldFigures] = {}
    for unit_id, figures in _held_by(StudySession.owner_unit_id, root, period, now).items():
        line = held.setdefault(keys[unit_id], HeldFigures())
        line.sessions += figures.sessions
        line.seconds += figures.seconds
    if rollups is None:
        rollups = get_attendance_rollups(root, period, now, ("unit",))
    attendance = _attendance_by_child(rollups.by_unit, keys)
    children = db.session.scalars(sa.select(Unit).where(Unit.parent_id == root.id)).all()
    rows = [UnitSessionRow(c, held.get(c.id, HeldFigures()),
                           attendance.get(c.id, AttendanceFigures())) for c in children
            if c.id in held or c.id in attendance]
    if OWN in held or OWN in attendance:
        rows.append(UnitSessionRow(None, held.get(OWN, HeldFigures()),
                                   attendance.get(OWN, AttendanceFigures())))
    return rows


# --- over the months ------------------------------------------------------------------


def get_attendance_by_month(root: Unit, period: DatePeriod, now: datetime,
                            rollups: AttendanceRollups | None = None
                            ) -> list[AttendanceFigures]:
    """The subtree's attendance in each month of the period (by session start, local
    time)."""
    if rollups is None:
        rollups = get_attendance_rollups(root, period, now, ("month",))
    found = rollups.by_month
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

