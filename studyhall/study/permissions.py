"""Who may see and manage materials and assignments. Everything goes through the scope
helper (auth/scope.py); outside it a material or an assignment answers 404, so its title
is never revealed.

- A material belongs to a unit. It is visible to the people of that unit's subtree (an
  admin's material, owned by the top unit, is visible to all), to staff whose scope
  holds the unit or lies under it, and to the readers of a published assignment that
  gives it out. Staff manage the materials of units in their scope.
- An assignment is managed by staff whose scope holds its owner unit; a reader sees it
  when they are among its expected readers (s2's reading pages load it that way).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from studyhall.auth.scope import in_scope, scope_paths, unit_in_scope
from studyhall.converters import MAX_ID
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree, path_in_subtree
from studyhall.org.models import Person, Role, Unit
from studyhall.study.models import (
    Assignment,
    AssignmentItem,
    AssignmentRecipient,
    AssignmentStatus,
    Material,
    MaterialVersion,
)


def _reader_paths(viewer: Person) -> list[str]:
    """Paths whose owners' materials the viewer may read: their own unit's, and for
    staff each unit they manage (a secretary uses an admin's material for their branch)."""
    paths = [viewer.unit.path]
    if viewer.role is not Role.TEACHER:
        paths += [unit.path for unit in viewer.managed_units]
    return paths


def can_manage_material(viewer: Person, material: Material) -> bool:
    return viewer.role is not Role.TEACHER and unit_in_scope(viewer, material.owner_unit)


def can_view_material(viewer: Person, material: Material) -> bool:
    if can_manage_material(viewer, material):
        return True
    owner_path = material.owner_unit.path
    if any(path_in_subtree(path, owner_path) for path in _reader_paths(viewer)):
        return True
    return is_reader_of(viewer, material)


def is_reader_of(viewer: Person, material: Material) -> bool:
    """Among the expected readers of a published or closed assignment giving it out."""
    return db.session.scalar(sa.select(sa.exists().where(
        AssignmentItem.material_id == material.id,
        AssignmentRecipient.assignment_id == AssignmentItem.assignment_id,
        AssignmentRecipient.person_id == viewer.id,
        Assignment.id == AssignmentItem.assignment_id,
        Assignment.status != AssignmentStatus.DRAFT))) or False


def visible_materials_clause(viewer: Person):
    """SQL on Material (joined to its owner Unit): the materials the library shows this
    staff member — those of units in their scope, and those of the units above it."""
    if scope_paths(viewer) is None:
        return sa.true()
    above = sa.or_(*(in_subtree(sa.literal(path), Unit.path) for path in _reader_paths(viewer)))
    return sa.or_(in_scope(viewer), above)


def load_material_or_404(viewer: Person, material_id: int) -> Material:
    """A material the viewer may see (read, or use in an assignment). The id may come
    from a form (an assignment's add-material), so one past the database's range is 404."""
    material = db.session.get(Material, material_id) if 0 < material_id <= MAX_ID else None
    if material is None or not can_view_material(viewer, material):
        abort(404)
    return material


def load_managed_material_or_404(viewer: Person, material_id: int) -> Material:
    material = db.session.get(Material, material_id)
    if material is None or not can_manage_material(viewer, material):
        abort(404)
    return material


def load_version_or_404(viewer: Person, material_id: int, version_id: int) -> MaterialVersion:
    """A version of a material the viewer may see. Readers of an assignment may see
    every version (theirs may be an older one); others see the material's versions."""
    material = load_material_or_404(viewer, material_id)
    version = db.session.get(MaterialVersion, version_id)
    if version is None or version.material_id != material.id:
        abort(404)
    return version


def can_manage_assignment(viewer: Person, assignment: Assignment) -> bool:
    return viewer.role is not Role.TEACHER and unit_in_scope(viewer, assignment.owner_unit)


def load_assignment_or_404(viewer: Person, assignment_id: int) -> Assignment:
    """An assignment the viewer manages (staff pages)."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or not can_manage_assignment(viewer, assignment):
        abort(404)
    return assignment


def load_assignment_for_reader_or_404(viewer: Person, assignment_id: int
                                      ) -> tuple[Assignment, AssignmentRecipient]:
    """A published or closed assignment the viewer is an expected reader of."""
    assignment = db.session.get(Assignment, assignment_id)
    recipient = (db.session.get(AssignmentRecipient, (assignment_id, viewer.id))
                 if assignment else None)
    if recipient is None or assignment.status is AssignmentStatus.DRAFT:
        abort(404)
    return assignment, recipient
