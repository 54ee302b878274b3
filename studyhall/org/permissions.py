"""Who may do what in the organisation. Templates ask the same predicates to show buttons."""

from __future__ import annotations

from flask import abort

from studyhall.auth.scope import load_person_or_404, scope_paths, unit_in_scope
from studyhall.model_helpers import path_in_subtree
from studyhall.org.models import Person, Role, Unit


def can_change_roles(viewer: Person) -> bool:
    """Only administrators give or take roles."""
    return viewer.role is Role.ADMIN


def can_create_top_units(viewer: Person) -> bool:
    return scope_paths(viewer) is None


def can_move_unit(viewer: Person, unit: Unit) -> bool:
    """A unit can be moved by someone who manages its parent too: a secretary cannot
    move the very unit they were given."""
    if unit.parent is None:
        return can_create_top_units(viewer)
    return unit_in_scope(viewer, unit.parent)


def can_create_units_on_import(viewer: Person) -> bool:
    return viewer.role is Role.ADMIN


def can_manage_person(viewer: Person, person: Person) -> bool:
    """Whether ``viewer`` may edit, move, deactivate or reset ``person``: a person in their
    scope whose own rights lie within the viewer's. A 总支书记 sits in one of the branches
    below; that branch's secretary must not reset their password."""
    if person.role is Role.TEACHER:
        return True
    mine, theirs = scope_paths(viewer), scope_paths(person)
    if mine is None:
        return True
    if theirs is None:
        return False
    return all(path_in_subtree(path, mine) for path in theirs)


def load_manageable_person_or_404(viewer: Person, person_id: int) -> Person:
    person = load_person_or_404(viewer, person_id)
    if not can_manage_person(viewer, person):
        abort(404)
    return person
