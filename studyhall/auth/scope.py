"""The one place that decides which units and people a viewer may see.

A secretary's scope is the subtree of each unit they manage; an admin with no managed
units (a bureau admin) sees the whole tree; a teacher manages nothing. Every query for
people or their records is filtered through ``in_scope`` or ``person_in_scope``, and
an object outside the scope answers 404 (ARCHITECTURE.md, invariant 6).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import contains_eager

from studyhall.extensions import db
from studyhall.model_helpers import in_subtree, path_in_subtree
from studyhall.org.models import Person, Role, Unit


def scope_paths(viewer: Person) -> list[str] | None:
    """The path prefixes of the subtrees ``viewer`` manages; None means the whole tree."""
    if viewer.role is Role.TEACHER:
        return []  # without loading managed_units
    return role_scope_paths(viewer.role, viewer.managed_units)


def role_scope_paths(role: Role, managed_units: Iterable[Unit]) -> list[str] | None:
    """The scope someone with ``role`` managing ``managed_units`` has (as scope_paths)."""
    managed_units = list(managed_units)
    if role is Role.ADMIN and not managed_units:
        return None
    if role is Role.TEACHER:
        return []
    paths = sorted(unit.path for unit in managed_units)
    # Drop subtrees already covered by an ancestor in the list.
    return [p for i, p in enumerate(paths) if not path_in_subtree(p, paths[:i])]


def in_scope(viewer: Person):
    """A WHERE clause on ``Unit`` for the units ``viewer`` may see and manage."""
    prefixes = scope_paths(viewer)
    return sa.true() if prefixes is None else in_subtree(Unit.path, prefixes)


def query_units_in_scope(viewer: Person) -> sa.Select:
    return sa.select(Unit).where(in_scope(viewer))


def query_people_in_scope(viewer: Person) -> sa.Select:
    """People in the viewer's scope, joined to (and loaded with) their unit."""
    return (sa.select(Person).join(Person.unit).options(contains_eager(Person.unit))
            .where(in_scope(viewer)))


def unit_in_scope(viewer: Person, unit: Unit) -> bool:
    prefixes = scope_paths(viewer)
    return prefixes is None or path_in_subtree(unit.path, prefixes)


def load_unit_or_404(viewer: Person, unit_id: int) -> Unit:
    unit = db.session.get(Unit, unit_id)
    if unit is None or not unit_in_scope(viewer, unit):
        abort(404)
    return unit


def load_person_or_404(viewer: Person, person_id: int) -> Person:
    person = db.session.scalar(query_people_in_scope(viewer).where(Person.id == person_id))
    if person is None:
        abort(404)
    return person


def scope_roots(viewer: Person) -> list[Unit]:
    """The top units of the viewer's scope, for trees and pickers."""
    prefixes = scope_paths(viewer)
    if prefixes is None:
        return list(db.session.scalars(
            sa.select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.sort_order, Unit.name)
        ))
    return [u for u in viewer.managed_units if u.path in prefixes]
