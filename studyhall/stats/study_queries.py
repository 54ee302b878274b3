"""Study figures over a period (统计口径, DOMAIN.md), in SQL, the same on SQLite and
PostgreSQL.

- The period's assignments: published (or closed) 学习任务 whose start falls within it.
- 应学 are the expected readers fixed at publication (``AssignmentRecipient``, with their
  unit of that day); a unit's figures are those of its subtree's people. 完成 = readers
  who finished (``completed_at`` set, on time or late); 完成率 = 完成 ÷ 应学.
- Reading time is the time the server credited (``ReadingProgress.credited_ms``) to those
  readers on the assignment's materials; per person = total ÷ 应学.
- Reflections (心得体会): on the period's assignments (by their readers) and on the
  period's held sessions (by their expected attendees); submitted = submitted at least
  once; accepted and 优秀 as the reviewer decided.

The readers and their reading time (its own GROUP BY, so that a reader's several
materials never multiply the headcount) are each read once per page
(:func:`get_study_rollups`): grouped per assignment and unit, then summed in the same
statement in all, by unit, by assignment and by month; reflections are a GROUP BY by
unit. Sub-units as for sessions: each unit's row added to the child it lies under.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.org.models import Unit
from studyhall.sessions.models import Attendance, StudySession
from studyhall.sessions.plans import held_clause
from studyhall.stats.periods import DatePeriod
from studyhall.stats.queries import without_jit
from studyhall.stats.session_queries import OWN, in_units, unit_keys
from studyhall.study.models import (
    Assignment,
    AssignmentRecipient,
    AssignmentStatus,
    ReadingProgress,
    Reflection,
    ReflectionStatus,
)

__all__ = ["OWN", "StudyFigures", "StudyRollups", "get_study_by_assignment",
           "get_study_by_child", "get_study_figures", "get_study_rollups",
           "get_completion_by_month", "study_by_person", "expected_readers"]


@dataclass
class StudyFigures:
    assignments: int = 0
    expected: int = 0
    completed: int = 0
    reading_ms: int = 0
    reflections_submitted: int = 0
    reflections_accepted: int = 0
    reflections_excellent: int = 0


def _in_period(period: DatePeriod) -> list:
    return [Assignment.status.in_([AssignmentStatus.PUBLISHED, AssignmentStatus.CLOSED]),
            period.contains(Assignment.starts_at)]


def _where_units(query, unit_column, root: Unit):
    """The rows of people fixed as members of the subtree's units (an IN over the unit
    ids, so the statement runs from the period's assignments or sessions)."""
    return query.where(in_units(unit_column, root))


def _grouped(query, key) -> sa.Select:
    """GROUP BY the key, or one row over everything when it is TOTAL."""
    return query if key is TOTAL else query.group_by(key)


#: The key of a figure over the whole subtree (no grouping).
TOTAL = sa.literal_column("0")


def _reflection_columns() -> list:
    count = sa.func.count()
    return [count.filter(Reflection.submitted_at.is_not(None)),
            count.filter(Reflection.status == ReflectionStatus.ACCEPTED),
            count.filter(sa.and_(Reflection.status == ReflectionStatus.ACCEPTED,
                                 Reflection.is_excellent.is_(True)))]


def _reflections_by(root, period, now, *, by_unit: bool = False) -> dict:
    """Reflections on the period's assignments and held sessions (TOTAL, or with
    ``by_unit`` by the writer's unit as fixed at publication): two GROUP BYs (one per
    target), added up."""
    # The targets are picked by an IN over the period's assignments and sessions, on
    # ``target + 0`` so that SQLite reads the reflections (far fewer than the rows of the
    # period) and looks each one's person up. On the bare column it walked every
    # attendance row of the year and, for each, probed the reflections once per session
    # of the IN: minutes for a district's year.
    key = AssignmentRecipient.unit_id if by_unit else TOTAL
    assignments = sa.select(Assignment.id).where(*_in_period(period))
    on_assignments = (sa.select(key, *_reflection_columns())
                      .select_from(Reflection)
                      .join(AssignmentRecipient, sa.and_(
                          AssignmentRecipient.assignment_id == Reflection.assignment_id,
                          AssignmentRecipient.person_id == Reflection.person_id))
                      .where(Reflection.assignment_id.is_not(None),
                             (Reflection.assignment_id + 0).in_(assignments)))
    on_assignments = _grouped(_where_units(on_assignments, AssignmentRecipient.unit_id, root),
                              key)
    key = Attendance.unit_id if by_unit else TOTAL
    sessions = sa.select(StudySession.id).where(held_clause(now),
                                                 period.contains(StudySession.starts_at))
    on_sessions = (sa.select(key, *_reflection_columns())
                   .select_from(Reflection)
                   .join(Attendance, sa.and_(Attendance.session_id == Reflection.session_id,
                                             Attendance.person_id == Reflection.person_id))
                   .where(Reflection.session_id.is_not(None),
                          (Reflection.session_id + 0).in_(sessions)))
    on_sessions = _grouped(_where_units(on_sessions, Attendance.unit_id, root), key)
    found: dict = {}
    for query in (on_assignments, on_sessions):
        for row_key, *counts in db.session.execute(query):
            if any(counts):
                found[row_key] = [a + b for a, b in
                                  zip(found.get(row_key, [0, 0, 0]), counts, strict=True)]
    return found


def get_study_figures(root: Unit, period: DatePeriod, now: datetime,
                      rollups: StudyRollups | None = None) -> StudyFigures:
    """The subtree's figures over the period (from ``rollups`` when the page has them)."""
    if rollups is None:
        rollups = get_study_rollups(root, period, now, ("total",))
    return rollups.total


def get_study_by_child(root: Unit, period: DatePeriod, now: datetime,
                       rollups: StudyRollups | None = None) -> dict[int, StudyFigures]:
    """Each direct sub-unit's subtree (keyed by its id) and the unit itself (OWN): the
    figures by unit rolled up to the children through ``unit_keys``. (The number of
    assignments is not given per sub-unit: one assignment reaches several.)"""
    keys = unit_keys(root)
    if rollups is None:
        rollups = get_study_rollups(root, period, now, ("unit",))
    found: dict[int, StudyFigures] = {}
    for unit_id, figures in rollups.by_unit.items():
        line = found.setdefault(keys[unit_id], StudyFigures())
        line.expected += figures.expected
        line.completed += figures.completed
        line.reading_ms += figures.reading_ms
        line.reflections_submitted += figures.reflections_submitted
        line.reflections_accepted += figures.reflections_accepted
        line.reflections_excellent += figures.reflections_excellent
    return found


#: What get_study_rollups sums the period's readers by.
AXES = ("total", "unit", "assignment", "month")


@dataclass
class StudyRollups:
    """The subtree's study figures over a period: in all; by the reader's unit (each
    unit alone, not rolled up; no count of assignments); by assignment and by month of
    its start (应学, 完成 and for assignments the reading time)."""

    total: StudyFigures
    by_unit: dict[int, StudyFigures]
    by_assignment: dict[int, tuple[int, int, int]]
    by_month: dict[int, tuple[int, int]]


def _per_assignment_unit(root: Unit, period: DatePeriod, by_unit: bool
                         ) -> tuple[sa.CTE, sa.CTE]:
    """The period's readers in the subtree grouped per assignment (and with ``by_unit``
    per unit) (应学, 完成), and their credited reading time likewise: the one pass over
    each, materialised."""
    units = [AssignmentRecipient.unit_id] if by_unit else []
    # Grouped by the assignment's own id, so that SQLite runs from the period's
    # assignments through each one's (assignment, unit) index: grouped by the readers'
    # column it walked that whole index (every assignment's readers) in its order and
    # looked each reader's assignment up (a city's year: 0.15 s of CPU against 0.10 s).
    readers = _where_units(
        sa.select(Assignment.id.label("assignment_id"), *units,
                  sa.func.count().label("expected"),
                  sa.func.count(AssignmentRecipient.completed_at).label("completed"))
        .select_from(Assignment)
        .join(AssignmentRecipient, AssignmentRecipient.assignment_id == Assignment.id),
        AssignmentRecipient.unit_id, root).where(*_in_period(period)) \
        .group_by(Assignment.id, *units)
    # The reading records are read in their own (assignment, person) index order, each
    # looking its reader up, and grouped by their own assignment column: grouped by the
    # reader's, SQLite read the readers first and probed the records once each at random
    # (2.1 s for a city's year against 1.2 s).
    credited = [ReadingProgress.assignment_id.label("assignment_id"), *units]
    reading = _where_units(
        sa.select(*credited, sa.func.sum(ReadingProgress.credited_ms).label("ms"))
        .select_from(ReadingProgress)
        .join(AssignmentRecipient, sa.and_(
            AssignmentRecipient.assignment_id == ReadingProgress.assignment_id,
            AssignmentRecipient.person_id == ReadingProgress.person_id))
        .join(Assignment, Assignment.id == AssignmentRecipient.assignment_id),
        AssignmentRecipient.unit_id, root).where(*_in_period(period)).group_by(*credited)
    return (readers.cte("readers").prefix_with("MATERIALIZED"),
            reading.cte("reading").prefix_with("MATERIALIZED"))


def get_study_rollups(root: Unit, period: DatePeriod, now: datetime | None,
                      axes: tuple[str, ...] = AXES) -> StudyRollups:
    """The period's study figures of the subtree's people by each of ``axes``: readers
    and reading time in ONE statement (each grouped once per assignment and unit, then
    summed by each axis in a UNION ALL whose rows say their axis), reflections by unit
    in two (one per target), the total their sum. ``now`` (what is held) matters only
    to the reflections, which the total and the units have."""
    without_jit()  # as for the attendance (session_queries.get_attendance_rollups)
    readers, reading = _per_assignment_unit(root, period, "unit" in axes)
    no_key = sa.cast(sa.null(), sa.Integer)
    zero = sa.cast(sa.literal(0), sa.BigInteger)

    def counts(key, *group, joined=None):
        query = sa.select(key, sa.func.count(sa.distinct(readers.c.assignment_id)),
                          sa.func.sum(readers.c.expected), sa.func.sum(readers.c.completed),
                          zero)
        if joined is not None:
            query = query.select_from(joined)
        return query.group_by(*group) if group else query

    def credited(key, *group):
        query = sa.select(key, zero, zero, zero, sa.func.sum(reading.c.ms))
        return query.group_by(*group) if group else query

    month = period.month_index(Assignment.starts_at)
    parts = {  # built only for the axes asked for (per unit only when grouped so)
        "total": lambda: [counts(no_key), credited(no_key)],
        "unit": lambda: [counts(readers.c.unit_id, readers.c.unit_id),
                         credited(reading.c.unit_id, reading.c.unit_id)],
        "assignment": lambda: [counts(readers.c.assignment_id, readers.c.assignment_id),
                               credited(reading.c.assignment_id, reading.c.assignment_id)],
        "month": lambda: [counts(month, month, joined=readers.join(
            Assignment, Assignment.id == readers.c.assignment_id))],
    }
    statement = sa.union_all(*(part.add_columns(sa.literal(axis).label("axis"))
                               for axis in AXES if axis in axes for part in parts[axis]()))
    found = StudyRollups(StudyFigures(), {}, {}, {})
    for key, assignments, expected, completed, ms, axis in db.session.execute(statement):
        expected, completed, ms = int(expected or 0), int(completed or 0), int(ms or 0)
        if axis == "total":
            found.total.assignments += assignments
            found.total.expected += expected
            found.total.completed += completed
            found.total.reading_ms += ms
        elif axis == "unit":
            line = found.by_unit.setdefault(key, StudyFigures())
            line.expected += expected
            line.completed += completed
            line.reading_ms += ms
        elif axis == "assignment":
            old = found.by_assignment.get(key, (0, 0, 0))
            found.by_assignment[key] = (old[0] + expected, old[1] + completed, old[2] + ms)
        else:
            found.by_month[key] = (expected, completed)
    by_unit, total = "unit" in axes, "total" in axes
    if not (by_unit or total):
        return found
    for key, (submitted, accepted, excellent) in _reflections_by(
            root, period, now, by_unit=by_unit).items():
        lines = [found.by_unit.setdefault(key, StudyFigures())] if by_unit else []
        for line in [*lines, found.total] if total else lines:
            line.reflections_submitted += submitted
            line.reflections_accepted += accepted
            line.reflections_excellent += excellent
    return found


@dataclass
class AssignmentLine:
    assignment: Assignment
    expected: int
    completed: int
    reading_ms: int


def get_study_by_assignment(root: Unit, period: DatePeriod,
                            rollups: StudyRollups | None = None) -> list[AssignmentLine]:
    """Each of the period's assignments with readers in the subtree: 应学, 完成 and
    reading time of those readers, by start date."""
    if rollups is None:
        rollups = get_study_rollups(root, period, None, ("assignment",))
    lines = rollups.by_assignment
    if not lines:
        return []
    found = db.session.scalars(sa.select(Assignment).where(
        Assignment.id.in_(list(lines))).order_by(Assignment.starts_at, Assignment.id))
    return [AssignmentLine(a, *lines[a.id]) for a in found]


def get_completion_by_month(root: Unit, period: DatePeriod,
                            rollups: StudyRollups | None = None) -> list[tuple[int, int]]:
    """(应学, 完成) of the assignments starting in each month of the period."""
    if rollups is None:
        rollups = get_study_rollups(root, period, None, ("month",))
    return [rollups.by_month.get(k, (0, 0)) for k in range(len(period.months))]


# --- people ---------------------------------------------------------------------------


def expected_readers(unit_ids: list[int], period: DatePeriod) -> sa.Select:
    """Ids of the readers of the period's assignments fixed as members of ``unit_ids``."""
    return (sa.select(AssignmentRecipient.person_id.label("person_id"))
            .join(Assignment, Assignment.id == AssignmentRecipient.assignment_id)
            .where(AssignmentRecipient.unit_id.in_(unit_ids), *_in_period(period)))


def study_by_person(person_ids: list[int], period: DatePeriod, unit_ids: list[int]
                    ) -> dict[int, StudyFigures]:
    """Each person's 应学, 完成 and reading time on the period's assignments: two GROUP BYs."""
    if not person_ids:
        return {}
    where = (AssignmentRecipient.person_id.in_(person_ids),
             AssignmentRecipient.unit_id.in_(unit_ids), *_in_period(period))
    found = {pid: StudyFigures(n, n, done) for pid, n, done in db.session.execute(
        sa.select(AssignmentRecipient.person_id, sa.func.count(),
                  sa.func.count(AssignmentRecipient.completed_at))
        .join(Assignment, Assignment.id == AssignmentRecipient.assignment_id)
        .where(*where).group_by(AssignmentRecipient.person_id))}
    for pid, ms in db.session.execute(
            sa.select(AssignmentRecipient.person_id, sa.func.sum(ReadingProgress.credited_ms))
            .join(ReadingProgress, sa.and_(
                AssignmentRecipient.assignment_id == ReadingProgress.assignment_id,
                AssignmentRecipient.person_id == ReadingProgress.person_id))
            .join(Assignment, Assignment.id == AssignmentRecipient.assignment_id)
            .where(*where).group_by(AssignmentRecipient.person_id)):
        found[pid].reading_ms = int(ms or 0)
    return found
