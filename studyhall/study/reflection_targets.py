"""What a reflection is written on (issue 11): an assignment or a study session, and who
may write, review and read reflections on it.

A target is a small object with the same attributes for each kind, so the drafts,
submissions, reviews, queue and similarity check in reflections.py never ask which kind
they hold:

    kind, id, title, owner_unit, min_chars, due_at   what it is
    accepts_writing()                                 drafts and submissions allowed now
    where()                                           SQL: the target's reflections
    new_reflection(person_id)                         a Reflection row pointing at it
    is_writer(person), query_writers()                who is expected to write
    source_texts()                                    texts a reflection is compared with

``Reflection`` has ``assignment_id`` and ``session_id``, exactly one set (a CHECK);
:func:`target_of` picks the kind from the row. Reviewers are the admins and secretaries
whose scope holds the target's owner unit; 优秀 reflections are shared with the members
of that unit's subtree. Everything outside answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import abort

from studyhall.auth.scope import scope_paths, unit_in_scope
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree, path_in_subtree
from studyhall.org.models import Person, Role, Unit
from studyhall.sessions.models import Attendance, SessionStatus, StudySession
from studyhall.study.models import (
    Assignment,
    AssignmentItem,
    AssignmentRecipient,
    AssignmentStatus,
    MaterialVersion,
    Reflection,
    ReflectionStatus,
)

#: Sessions carry no minimum length yet (their issue may add one): never empty.
SESSION_MIN_CHARS = 1


def _material_texts(material_ids) -> list[tuple[dict, str]]:
    """Each material's text, every version run together (title, summary, body), keyed
    for the similarity flag. Files and links have only their title and summary here."""
    rows = db.session.execute(
        sa.select(MaterialVersion.material_id, MaterialVersion.title,
                  MaterialVersion.summary, MaterialVersion.body)
        .where(MaterialVersion.material_id.in_(material_ids))
        .order_by(MaterialVersion.material_id, MaterialVersion.number)).all()
    texts: dict[int, list[str]] = {}
    titles: dict[int, str] = {}
    for material_id, title, summary, body in rows:
        texts.setdefault(material_id, []).extend((title, summary or "", body or ""))
        titles[material_id] = title  # the latest version's title
    return [({"kind": "material", "material_id": material_id, "title": titles[material_id]},
             "\n".join(parts)) for material_id, parts in texts.items()]


@dataclass(frozen=True)
class AssignmentTarget:
    """An assignment (学习任务) that asks for a reflection."""

    assignment: Assignment
    kind = "assignment"

    @property
    def id(self) -> int:
        return self.assignment.id

    @property
    def title(self) -> str:
        return self.assignment.title

    @property
    def owner_unit(self) -> Unit:
        return self.assignment.owner_unit

    @property
    def min_chars(self) -> int:
        """Submitting needs at least this many 字 (and never nothing at all)."""
        return max(self.assignment.reflection_min_chars, 1)

    @property
    def due_at(self) -> datetime | None:
        return self.assignment.due_at

    def accepts_writing(self) -> bool:
        return self.assignment.status is AssignmentStatus.PUBLISHED

    def where(self):
        return Reflection.assignment_id == self.assignment.id

    def new_reflection(self, person_id: int) -> Reflection:
        return Reflection(person_id=person_id, assignment_id=self.assignment.id)

    def is_writer(self, person: Person) -> bool:
        return db.session.get(AssignmentRecipient, (self.assignment.id, person.id)) is not None

    def query_writers(self) -> sa.Select:
        """The fixed expected readers."""
        return sa.select(AssignmentRecipient.person_id).where(
            AssignmentRecipient.assignment_id == self.assignment.id)

    def source_texts(self) -> list[tuple[dict, str]]:
        return _material_texts(sa.select(AssignmentItem.material_id).where(
            AssignmentItem.assignment_id == self.assignment.id,
            AssignmentItem.material_id.is_not(None)))


@dataclass(frozen=True)
class SessionTarget:
    """A study session (学习活动): its expected attendees write on it."""

    session: StudySession
    kind = "session"

    @property
    def id(self) -> int:
        return self.session.id

    @property
    def title(self) -> str:
        return self.session.topic

    @property
    def owner_unit(self) -> Unit:
        return self.session.owner_unit

    @property
    def min_chars(self) -> int:
        return SESSION_MIN_CHARS

    @property
    def due_at(self) -> datetime | None:
        return None

    def accepts_writing(self) -> bool:
        return self.session.status is SessionStatus.PUBLISHED

    def where(self):
        return Reflection.session_id == self.session.id

    def new_reflection(self, person_id: int) -> Reflection:
        return Reflection(person_id=person_id, session_id=self.session.id)

    def is_writer(self, person: Person) -> bool:
        return db.session.get(Attendance, (self.session.id, person.id)) is not None

    def query_writers(self) -> sa.Select:
        """The fixed expected attendees (应到人员)."""
        return sa.select(Attendance.person_id).where(Attendance.session_id == self.session.id)

    def source_texts(self) -> list[tuple[dict, str]]:
        """The session's own record (topic, minutes, resolutions) and its recording's text."""
        session = self.session
        texts = [({"kind": "session", "session_id": session.id, "title": session.topic},
                  "\n".join((session.topic, session.minutes, session.resolutions)))]
        if session.recording_material_id:
            texts += _material_texts([session.recording_material_id])
        return texts


Target = AssignmentTarget | SessionTarget


def target_of(reflection: Reflection) -> Target:
    if reflection.session_id is not None:
        return SessionTarget(db.session.get(StudySession, reflection.session_id))
    return AssignmentTarget(db.session.get(Assignment, reflection.assignment_id))


# ---- who may do what -------------------------------------------------------------------

def load_target_for_writer_or_404(viewer: Person, assignment_id: int) -> AssignmentTarget:
    """An assignment that asks the viewer for a reflection; anything else answers 404."""
    assignment = db.session.get(Assignment, assignment_id)
    if (assignment is None or assignment.status is AssignmentStatus.DRAFT
            or not assignment.requires_reflection):
        abort(404)
    target = AssignmentTarget(assignment)
    if not target.is_writer(viewer):
        abort(404)
    return target


def load_session_target_for_writer_or_404(viewer: Person, session_id: int) -> SessionTarget:
    """A published (or cancelled) session the viewer was expected at; else 404."""
    session = db.session.get(StudySession, session_id)
    if session is None or session.status is SessionStatus.DRAFT:
        abort(404)
    target = SessionTarget(session)
    if not target.is_writer(viewer):
        abort(404)
    return target


def can_review(viewer: Person, target: Target) -> bool:
    """Admins and secretaries whose scope holds the unit that owns the target."""
    return viewer.role is not Role.TEACHER and unit_in_scope(viewer, target.owner_unit)


def load_target_for_reviewer_or_404(viewer: Person, assignment_id: int) -> AssignmentTarget:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.status is AssignmentStatus.DRAFT:
        abort(404)
    target = AssignmentTarget(assignment)
    if not can_review(viewer, target):
        abort(404)
    return target


def load_reflection_for_reviewer_or_404(viewer: Person, reflection_id: int, *,
                                        lock: bool = False) -> tuple[Reflection, Target]:
    """A submitted reflection on a target the viewer reviews; drafts stay private (404)."""
    query = sa.select(Reflection).where(Reflection.id == reflection_id)
    reflection = db.session.scalar(query.with_for_update() if lock else query)
    if reflection is None or reflection.status is ReflectionStatus.DRAFT:
        abort(404)
    target = target_of(reflection)
    if not can_review(viewer, target):
        abort(404)
    return reflection, target


def can_see_shared(viewer: Person, target: Target) -> bool:
    """Shared 优秀 reflections are for the members of the owner unit's subtree (and for
    whoever reviews there). The Python twin of :func:`shared_visible_to`."""
    return path_in_subtree(viewer.unit.path, target.owner_unit.path) or can_review(viewer, target)


def shared_visible_to(viewer: Person, owner_unit: type[Unit]):
    """SQL on the owner ``Unit`` (or an alias of it) of a shared reflection's target: the
    viewer may read it."""
    member = in_subtree(sa.literal(viewer.unit.path), owner_unit.path)
    if viewer.role is Role.TEACHER:
        return member
    prefixes = scope_paths(viewer)
    scoped = sa.true() if prefixes is None else in_subtree(owner_unit.path, prefixes)
    return sa.or_(member, scoped)


def load_shared_reflection_or_404(viewer: Person, reflection_id: int) -> tuple[Reflection,
                                                                                Target]:
    reflection = db.session.get(Reflection, reflection_id)
    if reflection is None or not reflection.is_excellent:
        abort(404)
    target = target_of(reflection)
    if not can_see_shared(viewer, target):
        abort(404)
    return reflection, target
