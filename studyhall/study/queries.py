"""Reads on study: the material library, assignments, the owner's per-person status view,
the list of those behind, and a person's to-do list.

The reading state of a reader (未开始 / 学习中 / 已完成 / 逾期完成 / 逾期未完成) is decided by
one function, :func:`reading_state`, in SQL or in Python; every page and export that
shows a state uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy.orm import contains_eager
from sqlalchemy.sql.elements import ClauseElement
from werkzeug.routing import BuildError

from studyhall.auth.scope import in_scope
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree
from studyhall.org.models import Person, PoliticalStatus, Unit
from studyhall.study.models import (
    Assignment,
    AssignmentItem,
    AssignmentRecipient,
    AssignmentReminder,
    AssignmentStatus,
    CheckpointAnswer,
    Material,
    MaterialCategory,
    MaterialKind,
    MaterialVersion,
    ReadingProgress,
    ReadingState,
    Reflection,
    material_tag,
)
from studyhall.study.permissions import visible_materials_clause

#: States of readers who have not finished: the list to remind.
BEHIND_STATES = (ReadingState.NOT_STARTED, ReadingState.IN_PROGRESS, ReadingState.OVERDUE)


# --- The reading state rule -------------------------------------------------------------

def reading_state(completed_at, started, due_at, now, closed=False):
    """THE rule for a reader's state, on one assignment (``completed_at`` of the
    AssignmentRecipient) or one material (of the ReadingProgress):

    - completed by the due time (at it included): 已完成 COMPLETED;
    - completed after it: 逾期完成 COMPLETED_LATE;
    - not completed once the due time has passed or the assignment was closed:
      逾期未完成 OVERDUE;
    - some progress (opened, answered, a draft): 学习中 IN_PROGRESS;
    - nothing yet: 未开始 NOT_STARTED.

    Given SQL expressions (``completed_at`` and ``due_at`` columns, ``started`` and
    ``closed`` boolean expressions) it returns a CASE giving the state's value, to
    select, filter and group by; given Python values it returns the ReadingState."""
    if any(isinstance(arg, ClauseElement) for arg in (completed_at, started, due_at, closed)):
        return sa.case(
            (sa.and_(completed_at.is_not(None), completed_at <= due_at),
             ReadingState.COMPLETED.value),
            (completed_at.is_not(None), ReadingState.COMPLETED_LATE.value),
            (sa.or_(sa.literal(now, sa.DateTime) > due_at, sa.literal(closed)
                    if not isinstance(closed, ClauseElement) else closed),
             ReadingState.OVERDUE.value),
            (started, ReadingState.IN_PROGRESS.value),
            else_=ReadingState.NOT_STARTED.value)
    if completed_at is not None:
        return ReadingState.COMPLETED if completed_at <= due_at else ReadingState.COMPLETED_LATE
    if closed or now > due_at:
        return ReadingState.OVERDUE
    return ReadingState.IN_PROGRESS if started else ReadingState.NOT_STARTED


# --- Materials --------------------------------------------------------------------------

@dataclass
class MaterialFilters:
    q: str = ""
    kind: str = ""
    category_id: int | None = None
    tag: str = ""
    archived: bool = False


def query_materials(viewer: Person, filters: MaterialFilters) -> sa.Select:
    """The library a staff member may use, newest first, with the current version."""
    query = (sa.select(Material).join(Material.owner_unit)
             .options(contains_eager(Material.owner_unit))
             .where(visible_materials_clause(viewer),
                    Material.is_archived.is_(filters.archived))
             .order_by(Material.updated_at.desc(), Material.id.desc()))
    if filters.q:
        query = query.join(MaterialVersion, MaterialVersion.id == Material.current_version_id) \
            .where(MaterialVersion.title.contains(filters.q, autoescape=True))
    if filters.kind in {k.value for k in MaterialKind}:
        query = query.where(Material.kind == MaterialKind(filters.kind))
    if filters.category_id:
        query = query.where(Material.category_id == filters.category_id)
    if filters.tag:
        query = query.where(sa.exists().where(material_tag.c.material_id == Material.id,
                                              material_tag.c.tag == filters.tag))
    return query


def get_tags(material_ids: list[int]) -> dict[int, list[str]]:
    """Each material's tags, in one query."""
    tags: dict[int, list[str]] = {}
    if material_ids:
        for mid, tag in db.session.execute(
                sa.select(material_tag.c.material_id, material_tag.c.tag)
                .where(material_tag.c.material_id.in_(material_ids))
                .order_by(material_tag.c.tag)):
            tags.setdefault(mid, []).append(tag)
    return tags


def get_categories() -> list[MaterialCategory]:
    return list(db.session.scalars(sa.select(MaterialCategory)
                                   .order_by(MaterialCategory.sort_order, MaterialCategory.name)))


def get_all_tags() -> list[str]:
    return list(db.session.scalars(sa.select(material_tag.c.tag).distinct()
                                   .order_by(material_tag.c.tag)))


def get_material_assignments(material: Material, viewer: Person) -> list[Assignment]:
    """Assignments the viewer manages that give this material out."""
    return list(db.session.scalars(
        sa.select(Assignment).join(Assignment.owner_unit)
        .join(AssignmentItem, AssignmentItem.assignment_id == Assignment.id)
        .where(AssignmentItem.material_id == material.id, in_scope(viewer))
        .order_by(Assignment.created_at.desc())))


# --- Assignments ------------------------------------------------------------------------

def query_managed_assignments(viewer: Person) -> sa.Select:
    return (sa.select(Assignment).join(Assignment.owner_unit)
            .options(contains_eager(Assignment.owner_unit))
            .where(in_scope(viewer)).order_by(Assignment.created_at.desc()))


def get_expected_counts(assignment_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(应学人数, completed) of each assignment, in one GROUP BY."""
    if not assignment_ids:
        return {}
    rows = db.session.execute(
        sa.select(AssignmentRecipient.assignment_id, sa.func.count(),
                  sa.func.count(AssignmentRecipient.completed_at))
        .where(AssignmentRecipient.assignment_id.in_(assignment_ids))
        .group_by(AssignmentRecipient.assignment_id)).all()
    return {aid: (expected, done) for aid, expected, done in rows}


def get_items(assignment: Assignment) -> list[tuple[AssignmentItem, object]]:
    """The items in order, each with its material or quiz (two queries)."""
    from studyhall.quizzes.models import Quiz

    items = list(assignment.items)
    materials = {m.id: m for m in db.session.scalars(sa.select(Material).where(
        Material.id.in_([i.material_id for i in items if i.material_id])))}
    quizzes = {q.id: q for q in db.session.scalars(sa.select(Quiz).where(
        Quiz.id.in_([i.quiz_id for i in items if i.quiz_id])))}
    return [(i, materials.get(i.material_id) if i.material_id else quizzes.get(i.quiz_id))
            for i in items]


def _quiz_ids(assignment: Assignment) -> list[int]:
    return [item.quiz_id for item in assignment.items if item.quiz_id]


def _status_parts(assignment: Assignment, now: datetime):
    """The per-person aggregates of one assignment, as subqueries keyed by person_id."""
    from studyhall.quizzes.models import Attempt

    progress = (sa.select(ReadingProgress.person_id,
                          sa.func.sum(ReadingProgress.credited_ms).label("reading_ms"),
                          sa.func.count(ReadingProgress.completed_at).label("materials_done"))
                .where(ReadingProgress.assignment_id == assignment.id)
                .group_by(ReadingProgress.person_id).subquery())
    answers = (sa.select(CheckpointAnswer.person_id,
                         sa.func.count().label("answered"),
                         sa.func.sum(sa.case((CheckpointAnswer.is_correct, 1), else_=0))
                         .label("correct"))
               .where(CheckpointAnswer.assignment_id == assignment.id)
               .group_by(CheckpointAnswer.person_id).subquery())
    reflection = (sa.select(Reflection.person_id, Reflection.status.label("reflection"))
                  .where(Reflection.assignment_id == assignment.id).subquery())
    reminders = (sa.select(AssignmentReminder.person_id,
                           sa.func.count().label("reminders"),
                           sa.func.max(AssignmentReminder.at).label("last_reminded_at"))
                 .where(AssignmentReminder.assignment_id == assignment.id)
                 .group_by(AssignmentReminder.person_id).subquery())
    attempted = sa.exists().where(Attempt.person_id == AssignmentRecipient.person_id,
                                  Attempt.quiz_id.in_(_quiz_ids(assignment)))
    started = sa.or_(progress.c.person_id.is_not(None), reflection.c.person_id.is_not(None),
                     attempted)
    state = reading_state(AssignmentRecipient.completed_at, started, assignment.due_at, now,
                          closed=assignment.status is AssignmentStatus.CLOSED)
    return progress, answers, reflection, reminders, state


def query_recipient_status(assignment: Assignment, viewer: Person, now: datetime, *,
                           unit: Unit | None = None, status: PoliticalStatus | None = None,
                           states: tuple[ReadingState, ...] = ()) -> sa.Select:
    """The owner's view: each expected reader the viewer may see, with the unit and
    政治面貌 of the publication day, the state, reading time, materials done, checkpoint
    answers, the reflection's state and reminders — one SELECT, whatever the page size."""
    progress, answers, reflection, reminders, state = _status_parts(assignment, now)
    query = (sa.select(AssignmentRecipient, Person, Unit, state.label("state"),
                       sa.func.coalesce(progress.c.reading_ms, 0).label("reading_ms"),
                       sa.func.coalesce(progress.c.materials_done, 0).label("materials_done"),
                       sa.func.coalesce(answers.c.answered, 0).label("answered"),
                       sa.func.coalesce(answers.c.correct, 0).label("correct"),
                       reflection.c.reflection,
                       sa.func.coalesce(reminders.c.reminders, 0).label("reminders"),
                       reminders.c.last_reminded_at)
             .join(Person, Person.id == AssignmentRecipient.person_id)
             .join(Unit, Unit.id == AssignmentRecipient.unit_id)
             .outerjoin(progress, progress.c.person_id == AssignmentRecipient.person_id)
             .outerjoin(answers, answers.c.person_id == AssignmentRecipient.person_id)
             .outerjoin(reflection, reflection.c.person_id == AssignmentRecipient.person_id)
             .outerjoin(reminders, reminders.c.person_id == AssignmentRecipient.person_id)
             .where(AssignmentRecipient.assignment_id == assignment.id, in_scope(viewer)))
    if unit is not None:
        query = query.where(in_subtree(Unit.path, unit.path))
    if status is not None:
        query = query.where(AssignmentRecipient.political_status == status)
    if states:
        query = query.where(state.in_([s.value for s in states]))
    return query.order_by(Unit.path, Person.name, Person.id)


def get_state_counts(assignment: Assignment, viewer: Person, now: datetime, *,
                     unit: Unit | None = None, status: PoliticalStatus | None = None
                     ) -> dict[ReadingState, int]:
    """How many readers are in each state (over the unit and 政治面貌 chosen)."""
    rows = query_recipient_status(assignment, viewer, now, unit=unit, status=status) \
        .order_by(None).subquery()
    counts = dict(db.session.execute(
        sa.select(rows.c.state, sa.func.count()).group_by(rows.c.state)).all())
    return {s: counts.get(s.value, 0) for s in ReadingState}


def query_behind(assignment: Assignment, viewer: Person, now: datetime, *,
                 unit: Unit | None = None, status: PoliticalStatus | None = None
                 ) -> sa.Select:
    """(person id, name, unit name) of readers not done yet, by unit then name."""
    rows = query_recipient_status(assignment, viewer, now, unit=unit, status=status,
                                  states=BEHIND_STATES)
    return rows.with_only_columns(Person.id, Person.name, Unit.name.label("unit_name"))


def get_behind_text(assignment: Assignment, viewer: Person, now: datetime, **filters) -> str:
    """Those behind as plain text for a group chat: a heading line, then one line per
    unit (of the publication day) with its names."""
    by_unit: dict[str, list[str]] = {}
    for row in db.session.execute(query_behind(assignment, viewer, now, **filters)):
        by_unit.setdefault(row.unit_name, []).append(row.name)
    total = sum(len(names) for names in by_unit.values())
    if not total:
        return ""
    from studyhall.templating import localtime

    lines = [_("%(title)s: not completed yet, %(n)d people (due %(due)s)",
               title=assignment.title, n=total, due=localtime(assignment.due_at))]
    lines += [_("%(unit)s: %(names)s", unit=unit, names=pgettext("names", ", ").join(names))
              for unit, names in by_unit.items()]
    return "\n".join(lines)


def get_reminder_batches(assignment: Assignment, viewer: Person, limit: int = 20) -> list:
    """Reminders recorded, grouped by when and by whom: (at, reminder name, count)."""
    reminder = sa.orm.aliased(Person)
    return db.session.execute(
        sa.select(AssignmentReminder.at, reminder.name.label("by"),
                  sa.func.count().label("people"))
        .join(Person, Person.id == AssignmentReminder.person_id)
        .join(Unit, Unit.id == Person.unit_id)
        .outerjoin(reminder, reminder.id == AssignmentReminder.reminded_by_id)
        .where(AssignmentReminder.assignment_id == assignment.id, in_scope(viewer))
        .group_by(AssignmentReminder.at, reminder.name)
        .order_by(AssignmentReminder.at.desc()).limit(limit)).all()


# --- A person's to-do list --------------------------------------------------------------

@dataclass
class TodoItem:
    kind: str  # "assignment" or "quiz"
    id: int
    title: str
    due_at: datetime
    #: ReadingState for assignments; "not_started"/"in_progress"/"submitted" for quizzes.
    state: object
    overdue: bool = False
    done_at: datetime | None = None

    @property
    def url(self) -> str:
        if self.kind == "quiz":
            return url_for("quizzes.show_quiz", quiz_id=self.id)
        return reader_url(self.id)


@dataclass
class TodoList:
    pending: list[TodoItem]
    done: list[TodoItem]


def reader_url(assignment_id: int) -> str:
    """The reader's page of an assignment (routes_reading)."""
    try:
        return url_for("study.show_assignment", assignment_id=assignment_id)
    except BuildError:  # the reading pages are registered by another module
        return f"/study/assignments/{assignment_id}"


def _my_assignments(person: Person, now: datetime):
    started = sa.or_(
        sa.exists().where(ReadingProgress.assignment_id == Assignment.id,
                          ReadingProgress.person_id == person.id),
        sa.exists().where(Reflection.assignment_id == Assignment.id,
                          Reflection.person_id == person.id))
    state = reading_state(AssignmentRecipient.completed_at, started, Assignment.due_at, now,
                          closed=Assignment.status == AssignmentStatus.CLOSED)
    return db.session.execute(
        sa.select(Assignment, AssignmentRecipient.completed_at, state.label("state"))
        .join(AssignmentRecipient, AssignmentRecipient.assignment_id == Assignment.id)
        .where(AssignmentRecipient.person_id == person.id, Assignment.starts_at <= now,
               sa.or_(Assignment.status == AssignmentStatus.PUBLISHED,
                      AssignmentRecipient.completed_at.is_not(None)))
        .order_by(Assignment.due_at)).all()


def _assigned_quiz_ids(person: Person) -> sa.Select:
    """Quizzes given through one of the person's assignments: listed under it."""
    return (sa.select(AssignmentItem.quiz_id)
            .join(AssignmentRecipient,
                  AssignmentRecipient.assignment_id == AssignmentItem.assignment_id)
            .join(Assignment, Assignment.id == AssignmentItem.assignment_id)
            .where(AssignmentRecipient.person_id == person.id, AssignmentItem.quiz_id.is_not(None),
                   Assignment.status != AssignmentStatus.DRAFT))


def get_todo(person: Person, now: datetime, done_limit: int = 20) -> TodoList:
    """One list across assignments and quizzes: what is left, by due time (overdue
    marked), and what is done, latest first."""
    from studyhall.quizzes.queries import get_my_quizzes

    pending, done = [], []
    for assignment, completed_at, state in _my_assignments(person, now):
        item = TodoItem("assignment", assignment.id, assignment.title, assignment.due_at,
                        ReadingState(state),
                        overdue=state == ReadingState.OVERDUE.value, done_at=completed_at)
        (done if completed_at else pending).append(item)
    folded = set(db.session.scalars(_assigned_quiz_ids(person)))
    for mine in get_my_quizzes(person, now):
        quiz = mine.quiz
        if quiz.id in folded:
            continue
        if mine.open_attempt_id or (quiz.is_open(now) and not mine.attempts):
            state = "in_progress" if mine.open_attempt_id else "not_started"
            pending.append(TodoItem("quiz", quiz.id, quiz.title, quiz.closes_at, state))
        elif mine.attempts:
            done.append(TodoItem("quiz", quiz.id, quiz.title, quiz.closes_at, "submitted",
                                 done_at=quiz.closes_at))
    pending.sort(key=lambda i: i.due_at)
    done.sort(key=lambda i: i.done_at or i.due_at, reverse=True)
    return TodoList(pending, done[:done_limit])


def count_todo(person: Person, now: datetime) -> int:
    """len(get_todo(...).pending), in two COUNT queries (for the menu on every page)."""
    from studyhall.quizzes.models import Attempt, AttemptStatus, Quiz, QuizRecipient, QuizStatus

    assignments = db.session.scalar(
        sa.select(sa.func.count()).select_from(AssignmentRecipient)
        .join(Assignment, Assignment.id == AssignmentRecipient.assignment_id)
        .where(AssignmentRecipient.person_id == person.id,
               AssignmentRecipient.completed_at.is_(None), Assignment.starts_at <= now,
               Assignment.status == AssignmentStatus.PUBLISHED)) or 0
    mine = sa.and_(Attempt.quiz_id == Quiz.id, Attempt.person_id == person.id)
    quizzes = db.session.scalar(
        sa.select(sa.func.count()).select_from(QuizRecipient)
        .join(Quiz, Quiz.id == QuizRecipient.quiz_id)
        .where(QuizRecipient.person_id == person.id, Quiz.id.not_in(_assigned_quiz_ids(person)),
               sa.or_(
                   sa.exists().where(mine, Attempt.status == AttemptStatus.IN_PROGRESS),
                   sa.and_(Quiz.status == QuizStatus.PUBLISHED, Quiz.opens_at <= now,
                           Quiz.closes_at > now, ~sa.exists().where(mine))))) or 0
    return assignments + quizzes
