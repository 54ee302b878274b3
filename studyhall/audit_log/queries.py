"""Reading the audit log: which entries a viewer may see (in SQL), the filters, and the
names and links each shown entry needs (a few queries per page, not one per entry).

A whole-tree admin sees every entry. A unit admin sees an entry whose actor is in their
scope, or whose target resolves to a unit in their scope: a person → their unit, an exam,
assignment or session → its owner unit, an attempt → the exam's owner unit or the
taker's unit, a unit → itself. Entries on other target types only reach whole-tree
admins (unless their actor is in scope)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from flask_babel import to_utc
from sqlalchemy.orm import aliased

from studyhall.audit import NO_TARGET, AuditEntry
from studyhall.audit_log import labels
from studyhall.auth.scope import scope_paths
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree, path_in_subtree
from studyhall.org.models import Person, Unit
from studyhall.quizzes.models import Attempt, Quiz
from studyhall.sessions.models import StudySession
from studyhall.study.models import Assignment

#: Target types resolved to a unit through one column: type → (model, unit id column).
OWNED = {
    "person": (Person, Person.unit_id),
    "quiz": (Quiz, Quiz.owner_unit_id),
    "assignment": (Assignment, Assignment.owner_unit_id),
    "studysession": (StudySession, StudySession.owner_unit_id),
}


@dataclass(frozen=True)
class AuditFilters:
    group: str | None = None
    actor: str = ""
    target: str = ""
    since: date | None = None
    until: date | None = None

    def as_args(self) -> dict:
        args = {"group": self.group, "actor": self.actor, "target": self.target,
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None}
        return {k: v for k, v in args.items() if v}


def _unit_in(unit_id_column, prefixes) -> sa.ColumnElement[bool]:
    """SQL: the unit ``unit_id_column`` names lies in the subtree of ``prefixes``."""
    unit = aliased(Unit)
    return sa.exists(sa.select(1).select_from(unit)
                     .where(unit.id == unit_id_column, in_subtree(unit.path, prefixes)))


def visible_to(viewer: Person) -> sa.ColumnElement[bool]:
    """A WHERE clause on AuditEntry for the entries ``viewer`` (an admin) may read.

    The people, units, exams, assignments and sessions of the scope are each one
    uncorrelated subquery (read once per statement, not once per entry); attempts, far
    more numerous, are looked up per entry of that type only."""
    prefixes = scope_paths(viewer)
    if prefixes is None:
        return sa.true()
    if not prefixes:
        return sa.false()
    target = AuditEntry.target_id
    units = sa.select(Unit.id).where(in_subtree(Unit.path, prefixes))
    people = sa.select(Person.id).where(Person.unit_id.in_(units))
    clauses = [
        AuditEntry.actor_id.in_(people),
        sa.and_(AuditEntry.target_type == "unit", target.in_(units)),
    ]
    for name, (model, unit_column) in OWNED.items():
        clauses.append(sa.and_(AuditEntry.target_type == name, target.in_(
            sa.select(model.id).where(unit_column.in_(units)))))
    taker = aliased(Person)
    clauses.append(sa.and_(AuditEntry.target_type == "attempt", sa.exists(
        sa.select(1).select_from(Attempt).join(Quiz, Quiz.id == Attempt.quiz_id)
        .join(taker, taker.id == Attempt.person_id)
        .where(Attempt.id == target, sa.or_(_unit_in(Quiz.owner_unit_id, prefixes),
                                             _unit_in(taker.unit_id, prefixes))))))
    return sa.or_(*clauses)


def without_jit() -> None:
    """On PostgreSQL, no JIT compilation for the rest of this transaction. The scoped
    count scans the whole log with a filter of several subplans, which the planner costs
    above jit_above_cost once the log holds ~100,000 entries: compiling it then takes
    ~1.1 s for a query that runs in ~0.1 s (bench/bench_audit_log.py)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))


def _people_matching(text: str) -> sa.Select:
    """Ids of people whose 账号 is ``text`` or whose name contains it."""
    return sa.select(Person.id).where(sa.or_(Person.account == text,
                                             Person.name.contains(text, autoescape=True)))


def _local_midnight(day: date) -> datetime:
    return to_utc(datetime.combine(day, time.min))


def query_entries(viewer: Person, filters: AuditFilters) -> sa.Select:
    """The entries ``viewer`` may read that match ``filters``, newest first."""
    query = sa.select(AuditEntry).where(visible_to(viewer))
    if filters.group:
        _label, actions = labels.GROUPS[filters.group]
        query = query.where(AuditEntry.action.in_(actions))
    if filters.actor:
        query = query.where(AuditEntry.actor_id.in_(_people_matching(filters.actor)))
    if filters.target:
        people = _people_matching(filters.target)
        query = query.where(sa.or_(
            sa.and_(AuditEntry.target_type == "person", AuditEntry.target_id.in_(people)),
            sa.and_(AuditEntry.target_type == "attempt", AuditEntry.target_id.in_(
                sa.select(Attempt.id).where(Attempt.person_id.in_(people))))))
    if filters.since:
        query = query.where(AuditEntry.created_at >= _local_midnight(filters.since))
    if filters.until:
        query = query.where(
            AuditEntry.created_at < _local_midnight(filters.until + timedelta(days=1)))
    return query.order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())


# --- what each shown entry needs ---------------------------------------------------------


@dataclass
class ShownEntry:
    entry: AuditEntry
    actor: str
    action: str
    target: str
    target_url: str | None
    lines: list[str]


def _ids(entries, target_type: str) -> set[int]:
    return {e.target_id for e in entries if e.target_type == target_type}


def _detail_ids(entries) -> tuple[set, set, set]:
    """Unit, person and quiz ids named inside the details of ``entries``."""
    units, people, quizzes = set(), set(), set()
    for entry in entries:
        d = entry.details if isinstance(entry.details, dict) else {}
        if entry.action == "person.move":
            units.update(v for v in (d.get("before"), d.get("after")) if isinstance(v, int))
        elif entry.action == "person.role":
            for side in (d.get("before"), d.get("after")):
                if isinstance(side, dict):
                    units.update(u for u in side.get("units") or [] if isinstance(u, int))
        elif entry.action == "quiz.grant" and isinstance(d.get("quiz_id"), int):
            quizzes.add(d["quiz_id"])
        elif entry.action == "session.update":
            for key in ("host_id", "recorder_id"):
                pair = (d.get("changes") or {}).get(key) or []
                people.update(v for v in pair if isinstance(v, int))
        elif entry.action == "session.record_correct":
            moved = ((d.get("changes") or {}).get("attendance") or {})
            people.update(int(k) for k in moved if str(k).isdigit())
        if isinstance(d.get("unit_id"), int):
            units.add(d["unit_id"])
        if entry.action == "unit.create" and isinstance(d.get("parent"), int):
            units.add(d["parent"])
    return units, people, quizzes


def shown_entries(viewer: Person, entries: list[AuditEntry]) -> list[ShownEntry]:
    """Each entry with its actor's name, its target's name and link (when the viewer may
    open it) and its details as lines; a fixed number of queries for any page size."""
    prefixes = scope_paths(viewer)
    units_named, people_named, quizzes_named = _detail_ids(entries)
    person_ids = ({e.actor_id for e in entries if e.actor_id} | _ids(entries, "person")
                  | people_named)
    attempts = {row.id: row for row in db.session.execute(
        sa.select(Attempt.id, Attempt.quiz_id, Attempt.person_id)
        .where(Attempt.id.in_(_ids(entries, "attempt"))))} if _ids(entries, "attempt") else {}
    person_ids |= {a.person_id for a in attempts.values()}
    quiz_ids = _ids(entries, "quiz") | quizzes_named | {a.quiz_id for a in attempts.values()}
    people = {row.id: row for row in db.session.execute(
        sa.select(Person.id, Person.name, Person.account, Unit.path)
        .join(Unit, Unit.id == Person.unit_id).where(Person.id.in_(person_ids)))} \
        if person_ids else {}
    owned = {}
    for name, model, title in (("quiz", Quiz, Quiz.title), ("assignment", Assignment,
                                                             Assignment.title),
                               ("studysession", StudySession, StudySession.topic)):
        ids = quiz_ids if name == "quiz" else _ids(entries, name)
        owned[name] = {row.id: row for row in db.session.execute(
            sa.select(model.id, title.label("title"), Unit.path)
            .join(Unit, Unit.id == model.owner_unit_id).where(model.id.in_(ids)))} \
            if ids else {}
    unit_ids = _ids(entries, "unit") | units_named
    units = {row.id: row for row in db.session.execute(
        sa.select(Unit.id, Unit.name, Unit.path).where(Unit.id.in_(unit_ids)))} \
        if unit_ids else {}
    names = labels.Names(units={i: u.name for i, u in units.items()},
                         people={i: p.name for i, p in people.items()},
                         quizzes={i: q.title for i, q in owned["quiz"].items()})

    def may_open(path: str) -> bool:
        return prefixes is None or path_in_subtree(path, prefixes)

    def person_label(row) -> str:
        return f"{row.name}（{row.account}）"

    def target_of(entry: AuditEntry) -> tuple[str, str | None]:
        kind, target_id = entry.target_type, entry.target_id
        if kind == NO_TARGET:
            return "—", None
        if kind == "person" and target_id in people:
            row = people[target_id]
            return person_label(row), (url_for("org.edit_person", person_id=target_id)
                                       if may_open(row.path) else None)
        if kind == "unit" and target_id in units:
            row = units[target_id]
            return row.name, (url_for("org.show_unit", unit_id=target_id)
                              if may_open(row.path) else None)
        if kind == "attempt" and target_id in attempts:
            attempt = attempts[target_id]
            quiz, taker = owned["quiz"].get(attempt.quiz_id), people.get(attempt.person_id)
            text = "{} · {}".format(quiz.title if quiz else "?",
                                    person_label(taker) if taker else "?")
            url = url_for("quizzes.show_managed_quiz", quiz_id=attempt.quiz_id) \
                if quiz and may_open(quiz.path) else None
            return text, url
        if kind in owned and target_id in owned[kind]:
            row = owned[kind][target_id]
            endpoint, arg = {"quiz": ("quizzes.show_managed_quiz", "quiz_id"),
                             "assignment": ("study.show_managed_assignment", "assignment_id"),
                             "studysession": ("sessions.show_managed_session",
                                              "session_id")}[kind]
            return row.title, (url_for(endpoint, **{arg: target_id})
                               if may_open(row.path) else None)
        return f"{labels.target_type_label(kind)} #{target_id}", None

    shown = []
    for entry in entries:
        actor = people.get(entry.actor_id)
        target, url = target_of(entry)
        shown.append(ShownEntry(
            entry=entry, actor=person_label(actor) if actor else _actor_missing(entry),
            action=labels.action_label(entry.action), target=target, target_url=url,
            lines=labels.details_lines(entry.action, entry.details, names)))
    return shown


def _actor_missing(entry: AuditEntry) -> str:
    """No actor: a command run on the server (flask --app studyhall …)."""
    return _("System (command line)") if entry.actor_id is None else f"#{entry.actor_id}"


def iter_shown(viewer: Person, filters: AuditFilters, chunk: int = 500) -> Iterator[ShownEntry]:
    """Every matching entry, shown, read in chunks (for exports). Each chunk starts after
    the last entry of the previous one (not at an offset), so entries recorded while the
    file is written neither shift nor repeat its rows."""
    without_jit()  # a streamed CSV reads after the request's commit, in a new transaction
    query = query_entries(viewer, filters).limit(chunk)
    after = None
    while True:
        page = query if after is None else query.where(sa.or_(
            AuditEntry.created_at < after.created_at,
            sa.and_(AuditEntry.created_at == after.created_at, AuditEntry.id < after.id)))
        entries = list(db.session.scalars(page))
        if not entries:
            return
        yield from shown_entries(viewer, entries)
        after = entries[-1]


def count_entries(viewer: Person, filters: AuditFilters) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(
        query_entries(viewer, filters).order_by(None).subquery())) or 0
