"""Reads on sessions: lists, counts, rosters, the organiser's reminders and an attendee's
own sessions. Every list for staff goes through the scope helper.

Counts (统计口径, DOMAIN.md): 应到 is the expected attendees fixed at publication; 出席
and 迟到 are 实到; 请假 is approved leave, reported beside 缺席; ``leave_counts_as_expected``
says whether it stays in 参学率's denominator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import to_user_timezone
from sqlalchemy.orm import joinedload

from studyhall.audience import query_audience
from studyhall.audit import AuditEntry
from studyhall.auth.scope import in_scope, query_people_in_scope
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree
from studyhall.org.models import Person, Role, Unit, unit_manager
from studyhall.org.sorting import unit_sort_key
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    LeaveState,
    SessionAttachment,
    SessionKind,
    SessionRecordVersion,
    SessionStatus,
    StudySession,
)

#: Most people offered in a host/recorder picker.
PEOPLE_OPTIONS_LIMIT = 500


@dataclass
class AttendanceTally:
    """Person-times by attendance status: 应到 and each status's count (unmarked rows are
    the rest). A session's counts and the statistics' roll-ups both extend it."""

    expected: int = 0
    present: int = 0
    late: int = 0
    excused: int = 0
    absent: int = 0

    @property
    def attended(self) -> int:
        """实到: present and late."""
        return self.present + self.late

    @property
    def unmarked(self) -> int:
        return self.expected - self.present - self.late - self.excused - self.absent


@dataclass
class SessionCounts(AttendanceTally):
    """A session's figures from its attendance rows."""

    leave_requested: int = 0

    def denominator(self, leave_counts_as_expected: bool) -> int:
        """参学率's denominator: 应到, less approved leave unless the session keeps it."""
        return self.expected if leave_counts_as_expected else self.expected - self.excused


def get_session_counts(session_ids: list[int]) -> dict[int, SessionCounts]:
    """应到/出席/迟到/请假/缺席 and pending leave requests per session, in one GROUP BY.
    Sessions without attendance rows (drafts) are left out."""
    if not session_ids:
        return {}
    status = Attendance.status

    def having(condition):
        return sa.func.count().filter(condition)

    rows = db.session.execute(
        sa.select(Attendance.session_id, sa.func.count(),
                  having(status == AttendanceStatus.PRESENT),
                  having(status == AttendanceStatus.LATE),
                  having(status == AttendanceStatus.EXCUSED),
                  having(status == AttendanceStatus.ABSENT),
                  having(Attendance.leave_state == LeaveState.REQUESTED))
        .where(Attendance.session_id.in_(session_ids))
        .group_by(Attendance.session_id)).all()
    return {row[0]: SessionCounts(*row[1:]) for row in rows}


def get_counts(session: StudySession) -> SessionCounts:
    return get_session_counts([session.id]).get(session.id, SessionCounts())


# --- Lists ----------------------------------------------------------------------------------

def query_managed_sessions(viewer: Person, *, status: SessionStatus | None = None,
                           kind: SessionKind | None = None, when: str = "",
                           now: datetime | None = None) -> sa.Select:
    """Sessions of the units in the viewer's scope; ``when`` is "upcoming" (not ended
    yet, soonest first) or "past" (latest first); otherwise latest first."""
    query = (sa.select(StudySession).join(StudySession.owner_unit)
             .options(joinedload(StudySession.owner_unit)).where(in_scope(viewer)))
    if status is not None:
        query = query.where(StudySession.status == status)
    if kind is not None:
        query = query.where(StudySession.kind == kind)
    if when == "upcoming":
        return query.where(StudySession.ends_at >= now).order_by(
            StudySession.starts_at, StudySession.id)
    if when == "past":
        query = query.where(StudySession.ends_at < now)
    return query.order_by(StudySession.starts_at.desc(), StudySession.id.desc())


@dataclass
class MySession:
    session: StudySession
    attendance: Attendance


def get_my_sessions(viewer: Person, now: datetime, *, past_limit: int = 30,
                    ) -> tuple[list[MySession], list[MySession]]:
    """The sessions ``viewer`` is expected at: (upcoming or in progress, soonest first;
    the latest ``past_limit`` held ones, latest first). Drafts are nobody's yet."""
    base = (sa.select(StudySession, Attendance)
            .join(Attendance, Attendance.session_id == StudySession.id)
            .options(joinedload(StudySession.owner_unit))
            .where(Attendance.person_id == viewer.id,
                   StudySession.status != SessionStatus.DRAFT))
    upcoming = db.session.execute(base.where(StudySession.ends_at >= now).order_by(
        StudySession.starts_at, StudySession.id)).all()
    past = db.session.execute(base.where(StudySession.ends_at < now).order_by(
        StudySession.starts_at.desc(), StudySession.id.desc()).limit(past_limit)).all()
    return ([MySession(*row) for row in upcoming], [MySession(*row) for row in past])


# --- Rosters --------------------------------------------------------------------------------

@dataclass
class RosterGroup:
    """The expected attendees of one unit (as fixed at publication)."""

    unit: Unit
    rows: list[Attendance] = field(default_factory=list)


def get_roster(session: StudySession) -> list[RosterGroup]:
    """Expected attendees by unit (units in the tree's order, people by name), each row
    with its person loaded: two queries."""
    rows = db.session.scalars(
        sa.select(Attendance).options(joinedload(Attendance.person))
        .join(Person, Person.id == Attendance.person_id)
        .where(Attendance.session_id == session.id)
        .order_by(Person.name, Person.id)).all()
    units = {u.id: u for u in db.session.scalars(
        sa.select(Unit).where(Unit.id.in_({row.unit_id for row in rows})))}
    groups: dict[int, RosterGroup] = {}
    for row in rows:
        groups.setdefault(row.unit_id, RosterGroup(units[row.unit_id])).rows.append(row)
    return sorted(groups.values(), key=lambda g: _tree_order(g.unit, units))


def _tree_order(unit: Unit, units: dict[int, Unit]) -> tuple:
    """Sort key placing a unit after its ancestors and among its siblings naturally."""
    chain = [units.get(i) for i in unit.ancestor_ids]
    return tuple(unit_sort_key(u) if u else (0,) for u in [*chain, unit])


def get_audience_preview(session: StudySession, viewer: Person) -> list[tuple[Unit, list]]:
    """Who publishing would fix now, by unit: (unit, [person, ...])."""
    audience = query_audience(session.audience, session.owner_unit, viewer).subquery()
    people = db.session.scalars(
        sa.select(Person).options(joinedload(Person.unit))
        .where(Person.id.in_(sa.select(audience.c.id)))
        .order_by(Person.name, Person.id)).all()
    by_unit: dict[int, list[Person]] = {}
    units: dict[int, Unit] = {}
    for person in people:
        by_unit.setdefault(person.unit_id, []).append(person)
        units[person.unit_id] = person.unit
    return [(units[uid], by_unit[uid]) for uid in
            sorted(by_unit, key=lambda uid: _tree_order(units[uid], units))]


def _of_unit(unit: Unit):
    """People under ``unit``, or who manage it or a unit above it (a general branch's
    secretary hosting a branch meeting)."""
    managers = sa.select(unit_manager.c.person_id).where(
        unit_manager.c.unit_id.in_([*unit.ancestor_ids, unit.id]))
    return sa.or_(in_subtree(Unit.path, unit.path), Person.id.in_(managers))


def get_people_options(viewer: Person, unit: Unit) -> list[tuple[str, str]]:
    """(account, "name · unit") of the active people of ``unit`` (see ``_of_unit``) the
    viewer may see: the host and recorder pickers' suggestions."""
    rows = db.session.execute(
        query_people_in_scope(viewer).with_only_columns(Person.account, Person.name, Unit.name)
        .where(Person.is_active, _of_unit(unit))
        .order_by(Unit.path, Person.name).limit(PEOPLE_OPTIONS_LIMIT)).all()
    return [(account, f"{name} · {unit_name}") for account, name, unit_name in rows]


def find_people(viewer: Person, unit: Unit, text: str) -> list[Person]:
    """Active people of ``unit`` (see ``_of_unit``) in the viewer's scope whose account
    is ``text``, or else whose name is: a picker's typed value."""
    text = (text or "").strip()
    if not text:
        return []
    base = query_people_in_scope(viewer).where(Person.is_active, _of_unit(unit))
    by_account = db.session.scalars(base.where(Person.account == text)).all()
    return list(by_account or db.session.scalars(base.where(Person.name == text).limit(5)))


def get_unit_managers(unit: Unit) -> list[int]:
    """Ids of the active people who manage ``unit`` (its committee, for 支部委员会)."""
    return list(db.session.scalars(
        sa.select(Person.id).join(Person.managed_units)
        .where(Unit.id == unit.id, Person.is_active).order_by(Person.id)))


def get_leave_requests(session: StudySession) -> list[Attendance]:
    """Rows with a leave request (pending first, then by when it was asked)."""
    pending = sa.case((Attendance.leave_state == LeaveState.REQUESTED, 0), else_=1)
    return list(db.session.scalars(
        sa.select(Attendance).options(joinedload(Attendance.person))
        .where(Attendance.session_id == session.id, Attendance.leave_state.is_not(None))
        .order_by(pending, Attendance.leave_requested_at)))


# --- The record -----------------------------------------------------------------------------

def get_attachments(session: StudySession) -> tuple[list, list]:
    """(photos, other attachments), in upload order, with their files."""
    rows = db.session.scalars(
        sa.select(SessionAttachment).options(joinedload(SessionAttachment.file))
        .where(SessionAttachment.session_id == session.id)
        .order_by(SessionAttachment.position, SessionAttachment.id)).all()
    return [r for r in rows if r.kind == "photo"], [r for r in rows if r.kind != "photo"]


def get_versions(session: StudySession) -> list[SessionRecordVersion]:
    return list(db.session.scalars(
        sa.select(SessionRecordVersion).where(SessionRecordVersion.session_id == session.id)
        .order_by(SessionRecordVersion.number.desc())))


def get_audit_entries(session: StudySession) -> list[tuple[AuditEntry, str]]:
    """The session's audit trail, newest first, with each actor's name."""
    return [(entry, name or "") for entry, name in db.session.execute(
        sa.select(AuditEntry, Person.name)
        .outerjoin(Person, Person.id == AuditEntry.actor_id)
        .where(AuditEntry.target_type == "studysession", AuditEntry.target_id == session.id)
        .order_by(AuditEntry.id.desc())).all()]


def get_names(person_ids) -> dict[int, str]:
    ids = {int(i) for i in person_ids}
    if not ids:
        return {}
    return dict(db.session.execute(
        sa.select(Person.id, Person.name).where(Person.id.in_(ids))).all())


def record_is_complete(session: StudySession, counts: SessionCounts) -> bool:
    """Minutes written and everyone expected marked."""
    return bool(session.minutes.strip()) and counts.expected > 0 and counts.unmarked == 0


# --- Working days and reminders -------------------------------------------------------------

def _dates(key: str) -> frozenset[date]:
    return frozenset(d if isinstance(d, date) else date.fromisoformat(d)
                     for d in current_app.config.get(key, ()))


def is_working_day(day: date, holidays=frozenset(), workdays=frozenset()) -> bool:
    """Monday to Friday, except public holidays; weekend days made working (调休) count."""
    if day in workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def add_working_days(day: date, n: int, holidays=frozenset(), workdays=frozenset()) -> date:
    """The ``n``-th working day after ``day``."""
    while n > 0:
        day += timedelta(days=1)
        n -= is_working_day(day, holidays, workdays)
    return day


def working_days_between(start: date, end: date, holidays=frozenset(),
                         workdays=frozenset()) -> int:
    """Working days d with start < d ≤ end (0 when end ≤ start)."""
    return sum(is_working_day(start + timedelta(days=i), holidays, workdays)
               for i in range(1, (end - start).days + 1))


@dataclass
class RecordReminder:
    session: StudySession
    counts: SessionCounts
    due: date
    #: Working days left after today (0: due today); negative: that many overdue.
    days_left: int

    @property
    def missing_minutes(self) -> bool:
        return not self.session.minutes.strip()

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def local_date(value: datetime) -> date:
    return to_user_timezone(value).date()


def get_record_reminders(viewer: Person, now: datetime, *, limit: int = 20,
                         ) -> list[RecordReminder]:
    """Held sessions whose record is not confirmed yet, for their managers and recorder,
    each with its due date (the owner unit's working days after the meeting day:
    settings.py) and the working days left; the most urgent first."""
    mine = StudySession.recorder_id == viewer.id
    whose = mine if viewer.role is Role.TEACHER else sa.or_(in_scope(viewer), mine)
    sessions = db.session.scalars(
        sa.select(StudySession).join(StudySession.owner_unit)
        .options(joinedload(StudySession.owner_unit))
        .where(whose, StudySession.status == SessionStatus.PUBLISHED,
               StudySession.ends_at <= now, StudySession.record_locked_at.is_(None))
        .order_by(StudySession.ends_at).limit(limit)).all()
    from studyhall.sessions.settings import get_record_days_for

    counts = get_session_counts([s.id for s in sessions])
    days = get_record_days_for(list({s.owner_unit_id: s.owner_unit for s in sessions}.values()))
    holidays, workdays = _dates("PUBLIC_HOLIDAYS"), _dates("ADJUSTED_WORKDAYS")
    today = local_date(now)
    reminders = []
    for session in sessions:
        due = add_working_days(local_date(session.ends_at), days[session.owner_unit_id],
                               holidays, workdays)
        left = (working_days_between(today, due, holidays, workdays) if today <= due
                else -working_days_between(due, today, holidays, workdays))
        reminders.append(RecordReminder(session, counts.get(session.id, SessionCounts()),
                                        due, left))
    return reminders


def get_pending_leave(viewer: Person, now: datetime) -> list[tuple[StudySession, int]]:
    """Sessions in the viewer's scope, not yet locked, with leave requests waiting for a
    decision, and how many."""
    if viewer.role is Role.TEACHER:
        return []
    rows = db.session.execute(
        sa.select(StudySession, sa.func.count())
        .join(Attendance, Attendance.session_id == StudySession.id)
        .join(StudySession.owner_unit)
        .where(in_scope(viewer), StudySession.status == SessionStatus.PUBLISHED,
               StudySession.record_locked_at.is_(None),
               Attendance.leave_state == LeaveState.REQUESTED)
        .group_by(StudySession.id).order_by(StudySession.starts_at)).all()
    return [(session, n) for session, n in rows]


@dataclass
class DashboardSessions:
    """The sessions block of a dashboard: records to finish, leave to decide, and the
    viewer's own sessions coming up."""

    reminders: list[RecordReminder]
    pending_leave: list[tuple[StudySession, int]]
    upcoming: list[MySession]

    def __bool__(self) -> bool:
        return bool(self.reminders or self.pending_leave or self.upcoming)


def get_dashboard_sessions(viewer: Person, now: datetime, *, days_ahead: int = 14,
                           ) -> DashboardSessions:
    upcoming, _past = get_my_sessions(viewer, now, past_limit=0)
    soon = [item for item in upcoming if item.session.starts_at <= now + timedelta(
        days=days_ahead) and item.session.status is SessionStatus.PUBLISHED]
    return DashboardSessions(get_record_reminders(viewer, now),
                             get_pending_leave(viewer, now), soon[:5])
