"""A recorded 党课 (issue 9, item 1: "watched like a material").

The recording is a material (video, link or file). When the session is published, a
study assignment (学习任务) gives that one material to exactly the expected attendees,
from the session's start to :data:`WATCH_DAYS` after its end; so watching is study's
reading — its page, heartbeat, minimum time and 我已学完, unchanged — and it shows in the
attendees' to-do list like any other material.

When study records a completed reading (``study.reading.complete_reading``) it calls
:func:`recording_watched`: the person's attendance at the session becomes 出席, recorded
as self-service (method ``recording``, the time of completion, no marker) like a
check-in — unless it is marked already (by the organiser, a check-in, or approved
leave), a leave request is pending, or the record is confirmed. One UPDATE, so the
session's figures stay plain SQL over ``attendance``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from studyhall.extensions import db
from studyhall.org.models import Person
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    LeaveState,
    SessionKind,
    SessionStatus,
    StudySession,
)

#: How long after the session its recording can be watched for reading credit (the
#: assignment's due time; watching later still completes it, late).
WATCH_DAYS = 14
METHOD = "recording"


def give_recording(actor: Person, session: StudySession) -> int | None:
    """Make and publish the assignment of a published 党课's recording for its expected
    attendees; returns its id (None: nothing to give). Study's operations do the work."""
    from studyhall.study import assignments
    from studyhall.study.models import Material

    if (session.kind is not SessionKind.PARTY_LECTURE or not session.recording_material_id
            or session.recording_assignment_id is not None
            or session.status is not SessionStatus.PUBLISHED):
        return None
    material = db.session.get(Material, session.recording_material_id)
    people = list(db.session.scalars(sa.select(Attendance.person_id).where(
        Attendance.session_id == session.id).order_by(Attendance.person_id)))
    assignment = assignments.create_assignment(actor, {
        "title": _("Recording: %(topic)s", topic=session.topic)[:200],
        "instructions": _("The recording of a party lecture. Completing it counts as "
                              "attending the lecture."),
        "owner_unit_id": session.owner_unit_id, "starts_at": session.starts_at,
        "due_at": session.ends_at + timedelta(days=WATCH_DAYS)})
    try:
        assignments.add_material(assignment, material)
        assignments.set_audience(assignment, {"unit_ids": [], "person_ids": people,
                                              "statuses": []})
        assignments.publish_assignment(actor, assignment)
    except assignments.AssignmentError as exc:
        from studyhall.sessions.operations import SessionError

        raise SessionError(str(exc)) from exc
    session.recording_assignment_id = assignment.id
    db.session.flush()
    return assignment.id


def close_recording(actor: Person, session: StudySession) -> None:
    """A cancelled session's recording gives no more credit."""
    from studyhall.study import assignments
    from studyhall.study.models import Assignment, AssignmentStatus

    assignment = (db.session.get(Assignment, session.recording_assignment_id)
                  if session.recording_assignment_id else None)
    if assignment is not None and assignment.status is AssignmentStatus.PUBLISHED:
        assignments.close_assignment(actor, assignment)


def recording_watched(assignment_id: int, material_id: int, person_id: int,
                      now: datetime) -> int:
    """Study's hook: ``person_id`` completed ``material_id`` in ``assignment_id``. Marks
    them 出席 at each published, unconfirmed session whose recording that is, if they
    are expected and not marked yet; returns how many rows changed."""
    sessions = sa.select(StudySession.id).where(
        StudySession.recording_assignment_id == assignment_id,
        StudySession.recording_material_id == material_id,
        StudySession.status == SessionStatus.PUBLISHED,
        StudySession.record_locked_at.is_(None))
    result = db.session.execute(
        sa.update(Attendance)
        .where(Attendance.session_id.in_(sessions), Attendance.person_id == person_id,
               Attendance.status.is_(None),
               sa.or_(Attendance.leave_state.is_(None),
                      Attendance.leave_state == LeaveState.REFUSED))
        .values(status=AttendanceStatus.PRESENT, method=METHOD, checked_in_at=now,
                marked_by_id=None)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def watch_url(session: StudySession, row: Attendance) -> str | None:
    """Where an attendee watches the recording (study's reader), or None."""
    from flask import url_for

    if not session.recording_assignment_id or session.recording_material_id is None:
        return None
    return url_for("study.read_material", assignment_id=session.recording_assignment_id,
                   material_id=session.recording_material_id)
