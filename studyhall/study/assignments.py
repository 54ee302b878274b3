"""Writes on assignments (学习任务): author a draft, choose its items and audience,
publish (which fixes the expected readers with one INSERT ... SELECT), close and record
reminders. Change and flush; the request commits once."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from studyhall import audit
from studyhall.audience import count_audience, query_audience
from studyhall.auth.scope import unit_in_scope
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person
from studyhall.study.models import (
    Assignment,
    AssignmentItem,
    AssignmentRecipient,
    AssignmentReminder,
    AssignmentStatus,
    Material,
)

#: Settings that may change after publication: none of them changes who is expected.
EDITABLE_AFTER_PUBLISH = frozenset({"title", "instructions", "due_at"})
MAX_ITEMS = 30


class AssignmentError(ValueError):
    """A change the assignment's rules forbid; the message says why."""


def _require_draft(assignment: Assignment) -> None:
    if assignment.status is not AssignmentStatus.DRAFT:
        raise AssignmentError(_l("Once published, an assignment keeps its items and its "
                                 "audience."))


def create_assignment(actor: Person, values: dict) -> Assignment:
    assignment = Assignment(**values, created_by_id=actor.id, audience={})
    db.session.add(assignment)
    db.session.flush()
    return assignment


def update_assignment(actor: Person, assignment: Assignment, values: dict) -> None:
    """Apply form values; once published only EDITABLE_AFTER_PUBLISH may change, and a
    new due time leaves an audit entry."""
    if assignment.status is not AssignmentStatus.DRAFT:
        locked = sorted(k for k, v in values.items()
                        if k not in EDITABLE_AFTER_PUBLISH and getattr(assignment, k) != v)
        if locked:
            raise AssignmentError(_l("A published assignment keeps its start, owner and "
                                     "reflection rule; only the title, instructions and due "
                                     "time can change."))
        if values.get("due_at") != assignment.due_at:
            audit.record(actor, "assignment.due_at", assignment,
                         before=assignment.due_at.isoformat(), after=values["due_at"].isoformat())
    if values.get("due_at") and values["due_at"] <= values.get("starts_at", assignment.starts_at):
        raise AssignmentError(_l("The due time must be after the start."))
    for key, value in values.items():
        setattr(assignment, key, value)


def add_material(assignment: Assignment, material: Material,
                 min_reading_seconds: int | None = None) -> None:
    """Append a material (the caller checked the actor may see it)."""
    _require_draft(assignment)
    if material.is_archived:
        raise AssignmentError(_l("This material is archived."))
    if any(i.material_id == material.id for i in assignment.items):
        raise AssignmentError(_l("This material is already in the assignment."))
    _append(assignment, AssignmentItem(material_id=material.id,
                                       min_reading_seconds=min_reading_seconds))


def add_quiz(assignment: Assignment, quiz) -> None:
    """Append a published quiz the actor manages: its readers are added to the quiz's
    participants at publication, so the teacher has one to-do list."""
    from studyhall.quizzes.models import QuizStatus

    _require_draft(assignment)
    if quiz.status is not QuizStatus.PUBLISHED:
        raise AssignmentError(_l("Only a published, open quiz can be assigned."))
    if any(i.quiz_id == quiz.id for i in assignment.items):
        raise AssignmentError(_l("This quiz is already in the assignment."))
    _append(assignment, AssignmentItem(quiz_id=quiz.id))


def _append(assignment: Assignment, item: AssignmentItem) -> None:
    if len(assignment.items) >= MAX_ITEMS:
        raise AssignmentError(_l("An assignment holds at most %(n)d items.", n=MAX_ITEMS))
    item.position = max((i.position for i in assignment.items), default=-1) + 1
    assignment.items.append(item)


def remove_item(assignment: Assignment, item_id: int) -> None:
    _require_draft(assignment)
    for item in list(assignment.items):
        if item.id == item_id:
            assignment.items.remove(item)


def set_audience(assignment: Assignment, audience: dict) -> None:
    """{"unit_ids", "person_ids", "statuses"}; who they are is fixed at publication."""
    _require_draft(assignment)
    assignment.audience = audience


def publish_assignment(actor: Person, assignment: Assignment,
                       now: datetime | None = None) -> int:
    """Fix the expected readers — the audience within the publisher's scope, with their
    unit and 政治面貌 of today — in one INSERT ... SELECT, and give them the assignment's
    quizzes. Returns how many are expected. Everything is checked before any write."""
    from studyhall.quizzes.models import Quiz, QuizRecipient, QuizStatus

    # Two publishes at once (a double click) on PostgreSQL: the second waits for the
    # first, then sees it published. SQLite's BEGIN IMMEDIATE already queues them.
    db.session.flush()
    db.session.refresh(assignment, with_for_update=True)
    _require_draft(assignment)
    if not unit_in_scope(actor, assignment.owner_unit):
        raise AssignmentError(_l("You can publish only assignments of units you manage."))
    if not assignment.items:
        raise AssignmentError(_l("Add at least one material or quiz first."))
    quiz_ids = [i.quiz_id for i in assignment.items if i.quiz_id]
    if quiz_ids and db.session.scalar(sa.select(sa.func.count(Quiz.id)).where(
            Quiz.id.in_(quiz_ids), Quiz.status != QuizStatus.PUBLISHED)):
        raise AssignmentError(_l("A quiz of this assignment is no longer open."))
    expected = count_audience(assignment.audience, assignment.owner_unit, actor)
    if not expected:
        raise AssignmentError(_l("Nobody is in the audience: choose units or people."))
    audience = query_audience(assignment.audience, assignment.owner_unit, actor).subquery()
    db.session.execute(sa.insert(AssignmentRecipient).from_select(
        ["assignment_id", "person_id", "unit_id", "political_status"],
        sa.select(sa.literal(assignment.id), audience.c.id, audience.c.unit_id,
                  audience.c.political_status)))
    for quiz_id in quiz_ids:
        ours = AssignmentRecipient
        db.session.execute(sa.insert(QuizRecipient).from_select(
            ["quiz_id", "person_id", "unit_id", "political_status"],
            sa.select(sa.literal(quiz_id), ours.person_id, ours.unit_id, ours.political_status)
            .where(ours.assignment_id == assignment.id, ~sa.exists().where(
                QuizRecipient.quiz_id == quiz_id,
                QuizRecipient.person_id == ours.person_id))))
    assignment.status, assignment.published_at = AssignmentStatus.PUBLISHED, now or utcnow()
    audit.record(actor, "assignment.publish", assignment, expected=expected)
    return expected


def close_assignment(actor: Person, assignment: Assignment, now: datetime | None = None) -> None:
    """No more reading credit; the figures stay as they are."""
    if assignment.status is not AssignmentStatus.PUBLISHED:
        raise AssignmentError(_l("Only a published assignment can be closed."))
    assignment.status, assignment.closed_at = AssignmentStatus.CLOSED, now or utcnow()
    audit.record(actor, "assignment.close", assignment)


def record_reminders(actor: Person, assignment: Assignment, behind: sa.Select,
                     now: datetime | None = None) -> int:
    """Record that the people of ``behind`` (queries.query_behind: those not done, in
    the actor's scope and filters) were reminded now by ``actor``: one INSERT ... SELECT.
    Returns how many."""
    people = behind.with_only_columns(Person.id).order_by(None).subquery()
    at = now or utcnow()
    result = db.session.execute(sa.insert(AssignmentReminder).from_select(
        ["assignment_id", "person_id", "reminded_by_id", "at"],
        sa.select(sa.literal(assignment.id), people.c.id, sa.literal(actor.id),
                  sa.literal(at, sa.DateTime))))
    return result.rowcount or 0
