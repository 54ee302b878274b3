"""Audiences: who a quiz, an assignment or a study session is for.

An audience is stored as ``{"unit_ids": [...], "person_ids": [...], "statuses": [...]}``
(units with their subtrees and/or named people, optionally only some 政治面貌). It always
stays under the owner unit (its managers are the ones who follow the results) and, when a
publisher is given, within the publisher's scope. Publishing turns it into fixed
expected participants with one INSERT ... SELECT of these rows."""

from __future__ import annotations

import sqlalchemy as sa

from studyhall.auth.scope import in_scope
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree
from studyhall.org.models import Person, PoliticalStatus, Unit


def query_audience(audience: dict | None, owner_unit: Unit,
                   viewer: Person | None = None) -> sa.Select:
    """Active people the audience names, as (person id, unit id, 政治面貌) rows."""
    audience = audience or {}
    unit_paths = db.session.scalars(sa.select(Unit.path).where(
        Unit.id.in_(audience.get("unit_ids", [])))).all()
    who = sa.or_(in_subtree(Unit.path, list(unit_paths)),
                 Person.id.in_(audience.get("person_ids", [])))
    query = (sa.select(Person.id, Person.unit_id, Person.political_status)
             .join(Person.unit)
             .where(Person.is_active, who, in_subtree(Unit.path, owner_unit.path)))
    if viewer is not None:
        query = query.where(in_scope(viewer))
    statuses = [PoliticalStatus(s) for s in audience.get("statuses", [])]
    if statuses:
        query = query.where(Person.political_status.in_(statuses))
    return query


def count_audience(audience: dict | None, owner_unit: Unit,
                   viewer: Person | None = None) -> int:
    subquery = query_audience(audience, owner_unit, viewer).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(subquery)) or 0
