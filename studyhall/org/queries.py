"""Reads on the organisation, every one limited to the viewer's scope."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from studyhall.auth.scope import in_scope, query_people_in_scope
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree
from studyhall.org.models import Person, PoliticalGroup, PoliticalStatus, Unit


@dataclass
class TreeNode:
    unit: Unit
    depth: int
    people: int


def get_unit_tree(viewer: Person, *, include_inactive: bool = True) -> list[TreeNode]:
    """The viewer's units in tree order (depth-first, by sort order then name), each with
    its own count of active people. Two queries however large the tree."""
    query = sa.select(Unit).where(in_scope(viewer))
    if not include_inactive:
        query = query.where(Unit.is_active)
    units = list(db.session.scalars(query))
    counts = dict(db.session.execute(
        sa.select(Person.unit_id, sa.func.count(Person.id))
        .join(Person.unit).where(in_scope(viewer), Person.is_active)
        .group_by(Person.unit_id)
    ).all())
    ids = {u.id for u in units}
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        parent = unit.parent_id if unit.parent_id in ids else None
        children.setdefault(parent, []).append(unit)
    for group in children.values():
        group.sort(key=lambda u: (u.sort_order, u.name))
    nodes: list[TreeNode] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for unit in children.get(parent_id, []):
            nodes.append(TreeNode(unit, depth, counts.get(unit.id, 0)))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return nodes


@dataclass
class Composition:
    """A unit's make-up by 政治面貌, counted over its whole subtree."""

    by_status: Counter

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    def group_count(self, group: PoliticalGroup) -> int:
        return sum(n for status, n in self.by_status.items() if status.group is group)

    @property
    def probationary(self) -> int:
        return self.by_status.get(PoliticalStatus.CPC_PROBATIONARY, 0)

    @property
    def by_group(self) -> list[tuple[PoliticalGroup, int]]:
        return [(group, self.group_count(group)) for group in PoliticalGroup]

    def report_line(self) -> str:
        """The make-up in a work report's words: "共97人,其中党员50名(含预备党员2名),..."."""
        return _(
            "%(total)d people in all: %(party)d party members (including %(prob)d "
            "probationary members), %(league)d league members, %(dem)d democratic party "
            "members, %(nonp)d non-partisans and %(masses)d of the masses",
            total=self.total, party=self.group_count(PoliticalGroup.PARTY_MEMBER),
            prob=self.probationary, league=self.group_count(PoliticalGroup.LEAGUE_MEMBER),
            dem=self.group_count(PoliticalGroup.DEMOCRATIC_PARTY),
            nonp=self.group_count(PoliticalGroup.NON_PARTISAN),
            masses=self.group_count(PoliticalGroup.MASSES),
        )


def get_composition(unit: Unit) -> Composition:
    rows = db.session.execute(
        sa.select(Person.political_status, sa.func.count(Person.id))
        .join(Person.unit)
        .where(in_subtree(Unit.path, [unit.path]), Person.is_active)
        .group_by(Person.political_status)
    ).all()
    return Composition(Counter(dict(rows)))


def get_composition_by_child(unit: Unit) -> list[tuple[Unit, Composition]]:
    """The make-up of each direct sub-unit's subtree, in one GROUP BY."""
    child = aliased(Unit)
    rows = db.session.execute(
        sa.select(child.id, Person.political_status, sa.func.count(Person.id))
        .select_from(child)
        .join(Unit, in_subtree(Unit.path, child.path))
        .join(Person, Person.unit_id == Unit.id)
        .where(child.parent_id == unit.id, Person.is_active)
        .group_by(child.id, Person.political_status)
    ).all()
    counts: dict[int, Counter] = {}
    for child_id, status, n in rows:
        counts.setdefault(child_id, Counter())[status] = n
    return [(c, Composition(counts.get(c.id, Counter()))) for c in unit.children]


def query_people(viewer: Person, *, search: str = "", unit: Unit | None = None,
                 status: PoliticalStatus | None = None, active: bool | None = True) -> sa.Select:
    """The people list: search by name or account, filter by unit (with its subtree),
    political status and active flag."""
    query = query_people_in_scope(viewer)
    if search:
        # The same on both databases: what is typed is matched literally (no LIKE
        # wildcards), and accounts ignore case.
        text = search.strip()
        query = query.where(sa.or_(
            Person.name.contains(text, autoescape=True),
            sa.func.lower(Person.account).contains(text.lower(), autoescape=True)))
    if unit is not None:
        query = query.where(in_subtree(Unit.path, [unit.path]))
    if status is not None:
        query = query.where(Person.political_status == status)
    if active is not None:
        query = query.where(Person.is_active == active)
    return query.order_by(Unit.path, Person.name, Person.id)


def get_units_for_picker(viewer: Person) -> list[tuple[int, str]]:
    """(id, indented name) of every active unit in scope, in tree order, for select boxes."""
    return [(n.unit.id, "\u3000" * n.depth + n.unit.name)
            for n in get_unit_tree(viewer, include_inactive=False)]


def get_top_units() -> list[Unit]:
    return list(db.session.scalars(sa.select(Unit).where(Unit.parent_id.is_(None))))
