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


#: How much each role may do, to compare two people's rights.
_ROLE_RANK = {Role.TEACHER: 0, Role.SECRETARY: 1, Role.ADMIN: 2}


def _covers(outer: list[str] | None, inner: list[str] | None) -> bool:
    """Every subtree of scope ``inner`` lies within scope ``outer`` (None: the whole tree)."""
    if outer is None:
        return True
    if inner is None:
        return False
    return all(path_in_subtree(path, outer) for path in inner)


def rights_below(viewer: Person, role: Role, scope: list[str] | None) -> bool:
    """Whether ``role`` over ``scope`` (as scope_paths gives it) is strictly less than what
    ``viewer`` holds: within the viewer's scope, a role no higher, and not the very same
    rights. A secretary of the same units, or an administrator of the same units, is a
    peer; so is the viewer themselves."""
    mine = scope_paths(viewer)
    if not _covers(mine, scope) or _ROLE_RANK[role] > _ROLE_RANK[viewer.role]:
        return False
    return _ROLE_RANK[role] < _ROLE_RANK[viewer.role] or not _covers(scope, mine)


def can_manage_person(viewer: Person, person: Person) -> bool:
    """Whether ``viewer`` may edit, move, deactivate or reset ``person`` (already known to
    be in their scope): only someone whose rights are strictly narrower than the viewer's,
    or anyone at all for an administrator of the whole tree. Otherwise a secretary could
    reset a fellow secretary's password and act as them, and a branch secretary could take
    over the account of the 总支书记 who sits in their branch."""
    if scope_paths(viewer) is None:
        return True
    return rights_below(viewer, person.role, scope_paths(person))


def load_manageable_person_or_404(viewer: Person, person_id: int) -> Person:
    person = load_person_or_404(viewer, person_id)
    if not can_manage_person(viewer, person):
        abort(404)
    return person
