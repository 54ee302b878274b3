"""Who may manage a session, keep its record, or see it as an attendee.

Managers are the staff whose scope holds the owner unit. The recorder (记录人) may be a
teacher: they mark the roster and write the record of that one session, nothing else.
An attendee sees a published session they are expected at. Anything else answers 404,
so a session's topic is never revealed outside its audience."""

from __future__ import annotations

from flask import abort

from studyhall.auth.scope import unit_in_scope
from studyhall.extensions import db
from studyhall.org.models import Person, Role
from studyhall.sessions.models import Attendance, SessionStatus, StudySession


def can_manage(viewer: Person, session: StudySession) -> bool:
    """Edit, publish, cancel, decide leave: staff whose scope holds the owner unit."""
    return viewer.role is not Role.TEACHER and unit_in_scope(viewer, session.owner_unit)


def can_record(viewer: Person, session: StudySession) -> bool:
    """Mark the roster and keep the record: managers, and the session's recorder once
    it is published."""
    if can_manage(viewer, session):
        return True
    return session.recorder_id == viewer.id and session.status is SessionStatus.PUBLISHED


def load_session_or_404(viewer: Person, session_id: int) -> StudySession:
    """A session the viewer manages (staff, owner unit in scope), else 404."""
    session = db.session.get(StudySession, session_id)
    if session is None or not can_manage(viewer, session):
        abort(404)
    return session


def load_record_session_or_404(viewer: Person, session_id: int) -> StudySession:
    """A session whose roster and record the viewer keeps (a manager or its recorder)."""
    session = db.session.get(StudySession, session_id)
    if session is None or not can_record(viewer, session):
        abort(404)
    return session


def load_my_session_or_404(viewer: Person, session_id: int,
                           ) -> tuple[StudySession, Attendance]:
    """A published (or cancelled) session the viewer is expected at, with their row."""
    session = db.session.get(StudySession, session_id)
    attendance = db.session.get(Attendance, (session_id, viewer.id)) if session else None
    if session is None or attendance is None or session.status is SessionStatus.DRAFT:
        abort(404)
    return session, attendance
