"""Reads for reflections: the writer's list, the review queue of a target with its counts,
the reviewer's list of targets, and the shared 优秀 reflections."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from studyhall.auth.scope import scope_paths
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree
from studyhall.org.models import Person, Role, Unit
from studyhall.sessions.models import StudySession
from studyhall.study.models import (
    Assignment,
    AssignmentRecipient,
    AssignmentStatus,
    Reflection,
    ReflectionStatus,
    ReflectionVersion,
)
from studyhall.study.reflection_targets import Target, shared_visible_to

#: The review queue's filters, in the order of its tabs.
QUEUE_STATES = {
    "awaiting": ReflectionStatus.SUBMITTED,
    "returned": ReflectionStatus.RETURNED,
    "accepted": ReflectionStatus.ACCEPTED,
}
SUBMITTED_ONCE = (ReflectionStatus.SUBMITTED, ReflectionStatus.RETURNED,
                  ReflectionStatus.ACCEPTED)


def get_my_reflections(person: Person) -> list[sa.Row]:
    """Every published assignment that asks this person for a reflection, with the
    reflection when one was started (Assignment, Reflection | None), latest due first."""
    return db.session.execute(
        sa.select(Assignment, Reflection)
        .join(AssignmentRecipient, sa.and_(AssignmentRecipient.assignment_id == Assignment.id,
                                           AssignmentRecipient.person_id == person.id))
        .outerjoin(Reflection, sa.and_(Reflection.assignment_id == Assignment.id,
                                       Reflection.person_id == person.id))
        .where(Assignment.requires_reflection,
               Assignment.status != AssignmentStatus.DRAFT)
        .order_by(Assignment.due_at.desc(), Assignment.id.desc())).all()


def query_queue(target: Target, state: str) -> sa.Select:
    """Submitted reflections of a target in one state (``QUEUE_STATES``, or "" for all),
    with their writer, the writer's unit and the latest version's number: the oldest
    waiting first, else the newest."""
    latest = (sa.select(sa.func.max(ReflectionVersion.number))
              .where(ReflectionVersion.reflection_id == Reflection.id).scalar_subquery())
    query = (sa.select(Reflection, Person, Unit, latest.label("version"))
             .join(Person, Person.id == Reflection.person_id)
             .join(Unit, Unit.id == Person.unit_id)
             .where(target.where()))
    if state in QUEUE_STATES:
        query = query.where(Reflection.status == QUEUE_STATES[state])
    else:
        query = query.where(Reflection.status.in_(SUBMITTED_ONCE))
    if state == "awaiting":
        return query.order_by(Reflection.submitted_at, Reflection.id)
    return query.order_by(Reflection.submitted_at.desc(), Reflection.id.desc())


def get_queue_counts(target: Target) -> dict[str, int]:
    """How many reflections are in each state, and how many writers have not submitted."""
    rows = db.session.execute(
        sa.select(Reflection.status, sa.func.count()).where(target.where())
        .group_by(Reflection.status)).all()
    by_status = {status: count for status, count in rows}
    counts = {name: by_status.get(status, 0) for name, status in QUEUE_STATES.items()}
    counts["all"] = sum(counts.values())
    writers = db.session.scalar(sa.select(sa.func.count()).select_from(
        target.query_writers().subquery())) or 0
    counts["not_submitted"] = max(writers - counts["all"], 0)
    return counts


def get_reviewable_assignments(viewer: Person) -> list[sa.Row]:
    """Published or closed assignments that ask for reflections, owned in the viewer's
    scope, each with its counts: (Assignment, awaiting, returned, accepted), newest due
    first. Nothing for teachers."""
    if viewer.role is Role.TEACHER:
        return []
    prefixes = scope_paths(viewer)

    def count(status: ReflectionStatus):
        return sa.func.count(Reflection.id).filter(Reflection.status == status)

    query = (sa.select(Assignment, count(ReflectionStatus.SUBMITTED),
                       count(ReflectionStatus.RETURNED), count(ReflectionStatus.ACCEPTED))
             .join(Unit, Unit.id == Assignment.owner_unit_id)
             .outerjoin(Reflection, Reflection.assignment_id == Assignment.id)
             .where(Assignment.requires_reflection,
                    Assignment.status != AssignmentStatus.DRAFT)
             .group_by(Assignment.id)
             .order_by(Assignment.due_at.desc(), Assignment.id.desc()))
    if prefixes is not None:
        query = query.where(in_subtree(Unit.path, prefixes))
    return db.session.execute(query).all()


def query_shared(viewer: Person, assignment_id: int | None = None) -> sa.Select:
    """Shared 优秀 reflections the viewer may read, on assignments and sessions, newest
    shared first: (Reflection, Person, the writer's Unit, the target's title)."""
    owner = aliased(Unit)
    title = sa.func.coalesce(Assignment.title, StudySession.topic).label("title")
    query = (sa.select(Reflection, Person, Unit, title)
             .join(Person, Person.id == Reflection.person_id)
             .join(Unit, Unit.id == Person.unit_id)
             .outerjoin(Assignment, Assignment.id == Reflection.assignment_id)
             .outerjoin(StudySession, StudySession.id == Reflection.session_id)
             .join(owner, owner.id == sa.func.coalesce(Assignment.owner_unit_id,
                                                       StudySession.owner_unit_id))
             .where(Reflection.is_excellent, shared_visible_to(viewer, owner))
             .order_by(Reflection.shared_at.desc(), Reflection.id.desc()))
    if assignment_id is not None:
        query = query.where(Reflection.assignment_id == assignment_id)
    return query


def get_reviewer_names(reflection: Reflection | None) -> dict[int, str]:
    """The names of the people who reviewed the reflection's versions, by id."""
    ids = {v.reviewer_id for v in reflection.versions if v.reviewer_id} if reflection else set()
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Person.id, Person.name)
                                   .where(Person.id.in_(ids))).all())
