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

Each figure is a GROUP BY (reading time its own, so that a reader's several materials
never multiply the headcount); sub-units as for sessions: by unit, each unit's row added
to the child it lies under.
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
from studyhall.stats.session_queries import OWN, in_units, unit_keys
from studyhall.study.models import (
    Assignment,
    AssignmentRecipient,
    AssignmentStatus,
    ReadingProgress,
    Reflection,
    ReflectionStatus,
)

__all__ = ["OWN", "StudyFigures", "get_study_by_assignment", "get_study_by_child",
           "get_study_figures", "get_completion_by_month", "study_by_person",
           "expected_readers"]


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


def _recipients_by(key, root, period) -> dict:
    query = (sa.select(key, sa.func.count(sa.distinct(AssignmentRecipient.assignment_id)),
                       sa.func.count(), sa.func.count(AssignmentRecipient.completed_at))
             .select_from(AssignmentRecipient)
             .join(Assignment, Assignment.id == AssignmentRecipient.assignment_id))
    query = _where_units(query, AssignmentRecipient.unit_id, root)
    return {row[0]: tuple(row[1:]) for row in db.session.execute(
        _grouped(query.where(*_in_period(period)), key)) if row[2]}


def _reading_by(key, root, period) -> dict:
    query = (sa.select(key, sa.func.sum(ReadingProgress.credited_ms))
             .select_from(ReadingProgress)
             .join(AssignmentRecipient, sa.and_(
                 AssignmentRecipient.assignment_id == ReadingProgress.assignment_id,
                 AssignmentRecipient.person_id == ReadingProgress.person_id))
             .join(Assignment, Assignment.id == AssignmentRecipient.assignment_id))
    query = _where_units(query, AssignmentRecipient.unit_id, root)
    return {row[0]: int(row[1] or 0) for row in db.session.execute(
        _grouped(query.where(*_in_period(period)), key)) if row[1] is not None}


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


def _figures(key, recipients, reading, reflections) -> StudyFigures:
    assignments, expected, completed = recipients.get(key, (0, 0, 0))
    return StudyFigures(assignments, expected, completed, reading.get(key, 0),
                        *reflections.get(key, (0, 0, 0)))


def get_study_figures(root: Unit, period: DatePeriod, now: datetime) -> StudyFigures:
    """The subtree's figures over the period."""
    return _figures(0, _recipients_by(TOTAL, root, period), _reading_by(TOTAL, root, period),
                    _reflections_by(root, period, now))


def get_study_by_child(root: Unit, period: DatePeriod, now: datetime
                       ) -> dict[int, StudyFigures]:
    """Each direct sub-unit's subtree (keyed by its id) and the unit itself (OWN): GROUP
    BYs by unit, rolled up to the children through ``unit_keys``. (The number of
    assignments is not given per sub-unit: one assignment reaches several.)"""
    keys = unit_keys(root)
    found: dict[int, StudyFigures] = {}

    def line(unit_id) -> StudyFigures:
        return found.setdefault(keys[unit_id], StudyFigures())

    unit = AssignmentRecipient.unit_id
    for unit_id, (_assignments, expected, completed) in \
            _recipients_by(unit, root, period).items():
        figures = line(unit_id)
        figures.expected += expected
        figures.completed += completed
    for unit_id, ms in _reading_by(unit, root, period).items():
        line(unit_id).reading_ms += ms
    for unit_id, (submitted, accepted, excellent) in \
            _reflections_by(root, period, now, by_unit=True).items():
        figures = line(unit_id)
        figures.reflections_submitted += submitted
        figures.reflections_accepted += accepted
        figures.reflections_excellent += excellent
    return found


@dataclass
class AssignmentLine:
    assignment: Assignment
    expected: int
    completed: int
    reading_ms: int


def get_study_by_assignment(root: Unit, period: DatePeriod) -> list[AssignmentLine]:
    """Each of the period's assignments with readers in the subtree: 应学, 完成 and
    reading time of those readers, by start date."""
    recipients = _recipients_by(Assignment.id, root, period)
    reading = _reading_by(Assignment.id, root, period)
    if not recipients:
        return []
    found = db.session.scalars(sa.select(Assignment).where(
        Assignment.id.in_(list(recipients))).order_by(Assignment.starts_at, Assignment.id))
    return [AssignmentLine(a, recipients[a.id][1], recipients[a.id][2], reading.get(a.id, 0))
            for a in found]


def get_completion_by_month(root: Unit, period: DatePeriod) -> list[tuple[int, int]]:
    """(应学, 完成) of the assignments starting in each month of the period."""
    found = _recipients_by(period.month_index(Assignment.starts_at).label("month"), root,
                           period)
    return [tuple(found.get(k, (0, 0, 0))[1:]) for k in range(len(period.months))]


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
