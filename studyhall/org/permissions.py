"""Who may do what in the organisation. Templates ask the same predicates to show buttons."""

from __future__ import annotations

from studyhall.auth.scope import scope_paths, unit_in_scope
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
