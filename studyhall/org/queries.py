"""Reads on the organisation, every one limited to the viewer's scope."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import pgettext
from sqlalchemy.orm import aliased

from studyhall.auth.scope import in_scope, query_people_in_scope, unit_in_scope
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree
from studyhall.org.models import Person, PoliticalGroup, PoliticalStatus, Unit
from studyhall.org.sorting import unit_sort_key


@dataclass
class TreeNode:
    unit: Unit
    depth: int
    people: int


def get_unit_tree(viewer: Person, *, include_inactive: bool = True) -> list[TreeNode]:
    """The viewer's units in tree order (depth-first; siblings by sort order, then by name
    with numbers compared by value), each with its own count of active people. Two
    queries however large the tree."""
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
        group.sort(key=unit_sort_key)
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
        """The make-up in a work report's words, naming only the groups that have anyone,
        in the reports' order: "共97人，其中党员50名（含预备党员2名），团员6名，群众41名"."""
        headcount = _("Total %(total)d", total=self.total)
        parts = [self._part(group, n) for group, n in self.by_group if n]
        if not parts:
            return headcount
        listed = parts[0] if len(parts) == 1 else "".join((
            pgettext("list separator", ", ").join(parts[:-1]),
            pgettext("list separator before the last item", " and "), parts[-1]))
        return _("%(headcount)s, of whom %(parts)s", headcount=headcount, parts=listed)

    def _part(self, group: PoliticalGroup, n: int) -> str:
        if group is PoliticalGroup.PARTY_MEMBER:
            if self.probationary:
                return _("party members %(n)d (probationary %(prob)d)", n=n,
                         prob=self.probationary)
            return _("party members %(n)d", n=n)
        if group is PoliticalGroup.LEAGUE_MEMBER:
            return _("league members %(n)d", n=n)
        if group is PoliticalGroup.DEMOCRATIC_PARTY:
            return _("democratic parties %(n)d", n=n)
        if group is PoliticalGroup.NON_PARTISAN:
            return _("non-partisans %(n)d", n=n)
        return _("the masses %(n)d", n=n)


def get_breadcrumb(viewer: Person, unit: Unit) -> list[tuple[Unit, bool]]:
    """The unit's ancestors from the root down, each with whether ``viewer`` may open it:
    a secretary sees the name of the committee above their branch, not a link to a 404."""
    ids = unit.ancestor_ids
    found = {u.id: u for u in db.session.scalars(sa.select(Unit).where(Unit.id.in_(ids)))}
    return [(found[i], unit_in_scope(viewer, found[i])) for i in ids if i in found]


def get_composition(unit: Unit) -> Composition:
    rows = db.session.execute(
        sa.select(Person.political_status, sa.func.count(Person.id))
        .join(Person.unit)
        .where(in_subtree(Unit.path, [unit.path]), Person.is_active)
        .group_by(Person.political_status)
    ).all()
    return Composition(Counter(dict(rows)))


def get_compositions(units: list[Unit]) -> list[tuple[Unit, Composition]]:
    """The make-up of each unit's subtree, in one GROUP BY (a dashboard card per unit a
    secretary manages)."""
    ids = [u.id for u in units]
    counts = _compositions_of(lambda root: root.id.in_(ids)) if ids else {}
    return [(u, counts.get(u.id, Composition(Counter()))) for u in units]


def get_composition_by_child(unit: Unit) -> list[tuple[Unit, Composition]]:
    """The make-up of each direct sub-unit's subtree, in one GROUP BY."""
    counts = _compositions_of(lambda root: root.parent_id == unit.id)
    return [(c, counts.get(c.id, Composition(Counter())))
            for c in sorted(unit.children, key=unit_sort_key)]


def _compositions_of(which) -> dict[int, Composition]:
    """Compositions of the subtrees of the units ``which(root)`` selects (a condition on
    an alias of Unit), keyed by unit id; units with nobody active are left out."""
    root = aliased(Unit)
    rows = db.session.execute(
        sa.select(root.id, Person.political_status, sa.func.count(Person.id))
        .select_from(root)
        .join(Unit, in_subtree(Unit.path, root.path))
        .join(Person, Person.unit_id == Unit.id)
        .where(which(root), Person.is_active)
        .group_by(root.id, Person.political_status)
    ).all()
    counts: dict[int, Counter] = {}
    for root_id, status, n in rows:
        counts.setdefault(root_id, Counter())[status] = n
    return {root_id: Composition(c) for root_id, c in counts.items()}


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
