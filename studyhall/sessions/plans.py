"""Study plans (学习计划) and what was held against them.

A plan is a unit's list of planned sessions for a year or a half-year: a kind, a month
and a topic each. A held session links to the plan item it carries out
(``StudySession.plan_item_id``), so a plan shows item by item what happened, and
"planned vs held" shows per kind and per unit.

Periods are local (the deployment's time zone, 北京时间): a year, a half-year or a
quarter, cut into months at local midnight and compared with the sessions' UTC start
times through precomputed boundaries, so every count is one portable GROUP BY.

Held (已开展) means published and started: a cancelled or draft session never counts, and
one that is published but still ahead counts as scheduled (已安排).

The quota checklist (三会一课 and 主题党日, 《中国共产党支部工作条例（试行）》): 支部党员大会
and 党课 once a quarter, 支部委员会 and 主题党日 once a month — held by the branch itself —
and 党小组会 once a month in each 党小组 of the branch. It applies to branches (党支部).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, has_app_context

from studyhall.auth.scope import in_scope, unit_in_scope
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import in_subtree, path_in_subtree
from studyhall.org.models import Person, Unit, UnitKind
from studyhall.org.sorting import unit_sort_key
from studyhall.sessions.models import (
    SessionKind,
    SessionStatus,
    StudyPlan,
    StudyPlanItem,
    StudySession,
)

#: Months per cycle of each kind with a quota, in the order the checklist shows them.
QUOTAS: dict[SessionKind, int] = {
    SessionKind.BRANCH_MEETING: 3,
    SessionKind.BRANCH_COMMITTEE: 1,
    SessionKind.GROUP_MEETING: 1,
    SessionKind.PARTY_LECTURE: 3,
    SessionKind.THEME_DAY: 1,
}
#: Kinds held by the groups under a branch rather than by the branch itself.
GROUP_KINDS = frozenset({SessionKind.GROUP_MEETING})
HALF_LABELS = {0: _l("Whole year"), 1: _l("First half"), 2: _l("Second half")}
_PERIOD = re.compile(r"^(\d{4})(?:([HQ])([1-4]))?$")


class PlanError(ValueError):
    """A change the plan's rules forbid; the message says why."""


# --- Periods ----------------------------------------------------------------------------

DEFAULT_ZONE = "Asia/Shanghai"


def local_zone() -> ZoneInfo:
    """The deployment's zone (BABEL_DEFAULT_TIMEZONE), 北京时间 by default."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") if has_app_context() else None
    return ZoneInfo(name or DEFAULT_ZONE)


def to_utc(local: datetime) -> datetime:
    """A local wall-clock time as the naive UTC the database stores."""
    aware = local.replace(tzinfo=local_zone())
    return aware.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def to_local(moment: datetime) -> datetime:
    """A stored naive-UTC time as local wall-clock time (naive)."""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(local_zone()).replace(tzinfo=None)


def local_month(moment: datetime) -> tuple[int, int]:
    """(year, month) of a stored naive-UTC time, in local time."""
    local = to_local(moment)
    return local.year, local.month


@dataclass(frozen=True)
class Period:
    """A year (half 0), a half-year (half 1 or 2) or a quarter (quarter 1–4)."""

    year: int
    half: int = 0
    quarter: int = 0

    @property
    def months(self) -> list[int]:
        if self.quarter:
            return list(range(3 * self.quarter - 2, 3 * self.quarter + 1))
        if self.half:
            return list(range(6 * self.half - 5, 6 * self.half + 1))
        return list(range(1, 13))

    @property
    def key(self) -> str:
        """For URLs: 2026, 2026H1, 2026Q3."""
        if self.quarter:
            return f"{self.year}Q{self.quarter}"
        return f"{self.year}H{self.half}" if self.half else str(self.year)

    @property
    def label(self) -> str:
        if self.quarter:
            return str(_l("Q%(q)d %(year)d", q=self.quarter, year=self.year))
        if self.half:
            return str(_l("%(half)s of %(year)d", half=HALF_LABELS[self.half], year=self.year))
        return str(_l("Year %(year)d", year=self.year))

    def month_start(self, month: int) -> datetime:
        """The start of a local month (month 13 is next January) as naive UTC."""
        year, month = (self.year + 1, 1) if month == 13 else (self.year, month)
        return to_utc(datetime(year, month, 1))

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in naive UTC."""
        return self.month_start(self.months[0]), self.month_start(self.months[-1] + 1)

    def month_of(self, column):
        """SQL: the local month (1–12) a UTC time column falls in, within this period."""
        months = self.months
        return sa.case(*((column < self.month_start(m + 1), m) for m in months[:-1]),
                       else_=months[-1])

    @classmethod
    def parse(cls, text: str | None) -> Period | None:
        found = _PERIOD.match((text or "").strip().upper())
        if not found or not 2000 <= int(found[1]) <= 2100:
            return None
        year, part, number = int(found[1]), found[2], int(found[3] or 0)
        if part == "H" and number in (1, 2):
            return cls(year, half=number)
        if part == "Q":
            return cls(year, quarter=number)
        return cls(year) if part is None else None

    @classmethod
    def of_plan(cls, plan: StudyPlan) -> Period:
        return cls(plan.year, half=plan.half)

    @classmethod
    def current(cls, now: datetime) -> Period:
        return cls(local_month(now)[0])


def held_clause(now: datetime):
    """SQL on StudySession: held (published and started)."""
    return sa.and_(StudySession.status == SessionStatus.PUBLISHED, StudySession.starts_at <= now)


# --- Writes -----------------------------------------------------------------------------

def create_plan(actor: Person, unit: Unit, year: int, half: int, title: str = "") -> StudyPlan:
    """A new plan for ``unit``; one plan per unit covers any month.

    :raises PlanError: the unit already has a plan covering part of this period.
    """
    if not unit_in_scope(actor, unit):
        raise PlanError(_l("You can plan only for units you manage."))
    if half not in (0, 1, 2):
        raise PlanError(_l("Choose the whole year or one half of it."))
    overlapping = db.session.scalar(sa.select(StudyPlan.id).where(
        StudyPlan.unit_id == unit.id, StudyPlan.year == year,
        sa.or_(StudyPlan.half == half, StudyPlan.half == 0, sa.literal(half) == 0)))
    if overlapping:
        raise PlanError(_l("This unit already has a study plan covering this period."))
    period = Period(year, half=half)
    plan = StudyPlan(unit_id=unit.id, year=year, half=half, created_by_id=actor.id,
                     title=(title or "").strip()[:200] or str(
                         _l("%(unit)s study plan, %(period)s", unit=unit.name,
                            period=period.label)))
    db.session.add(plan)
    db.session.flush()
    return plan


def add_item(plan: StudyPlan, kind: SessionKind, month: int, topic: str) -> StudyPlanItem:
    if month not in Period.of_plan(plan).months:
        raise PlanError(_l("Choose a month of the plan's period."))
    topic = (topic or "").strip()
    if not topic:
        raise PlanError(_l("Give the topic."))
    item = StudyPlanItem(kind=kind, month=month, topic=topic[:200])
    plan.items.append(item)
    db.session.flush()
    return item


def fill_quotas(plan: StudyPlan, topic: str) -> int:
    """Add an item for each quota cycle of the period that has no planned item of that
    kind yet (支部党员大会 and 党课 in the last month of each quarter...), all with
    ``topic``; returns how many were added. 党小组会 are left to the groups' own plans."""
    period = Period.of_plan(plan)
    planned = {(i.kind, i.month) for i in plan.items}
    added = 0
    for kind, every in QUOTAS.items():
        if kind in GROUP_KINDS:
            continue
        for cycle in _cycles(period, every):
            if not any((kind, m) in planned for m in cycle):
                plan.items.append(StudyPlanItem(kind=kind, month=cycle[0], topic=topic[:200]))
                added += 1
    db.session.flush()
    return added


def remove_item(plan: StudyPlan, item_id: int) -> None:
    """Remove a planned item; a session linked to it keeps its record, unlinked."""
    item = next((i for i in plan.items if i.id == item_id), None)
    if item is None:
        raise PlanError(_l("This item is not in the plan."))
    db.session.execute(sa.update(StudySession).where(StudySession.plan_item_id == item.id)
                       .values(plan_item_id=None))
    plan.items.remove(item)
    db.session.flush()


def link_session(plan: StudyPlan, item: StudyPlanItem, session: StudySession | None) -> None:
    """Say which session carries out ``item`` (None: none). The session must be one of
    the plan unit's (or, for 党小组会, of a unit under it), of the item's kind, not
    cancelled, and not already carrying out another item."""
    if item.plan_id != plan.id:
        raise PlanError(_l("This item is not in the plan."))
    current = db.session.scalars(sa.select(StudySession)
                                 .where(StudySession.plan_item_id == item.id)).all()
    for other in current:
        if session is None or other.id != session.id:
            other.plan_item_id = None
    if session is None:
        db.session.flush()
        return
    if not _may_carry_out(plan, item, session):
        raise PlanError(_l("Choose a session of this unit and of the planned kind."))
    if session.plan_item_id not in (None, item.id):
        raise PlanError(_l("This session already carries out another planned item."))
    session.plan_item_id = item.id
    db.session.flush()


def _may_carry_out(plan: StudyPlan, item: StudyPlanItem, session: StudySession) -> bool:
    if session.kind is not item.kind or session.status is SessionStatus.CANCELLED:
        return False
    if item.kind in GROUP_KINDS:
        return path_in_subtree(session.owner_unit.path, plan.unit.path)
    return session.owner_unit_id == plan.unit_id


# --- Reads ------------------------------------------------------------------------------

def query_plans(viewer: Person, year: int | None = None) -> sa.Select:
    """Plans of units in the viewer's scope, newest period first."""
    query = (sa.select(StudyPlan).join(StudyPlan.unit).where(in_scope(viewer))
             .order_by(StudyPlan.year.desc(), StudyPlan.half, Unit.path))
    return query if year is None else query.where(StudyPlan.year == year)


def load_plan_or_404(viewer: Person, plan_id: int) -> StudyPlan:
    from flask import abort

    plan = db.session.get(StudyPlan, plan_id)
    if plan is None or not viewer.is_staff or not unit_in_scope(viewer, plan.unit):
        abort(404)
    return plan


def get_plan_counts(plan_ids: list[int], now: datetime) -> dict[int, tuple[int, int]]:
    """(planned items, items carried out by a held session) per plan, in one GROUP BY."""
    if not plan_ids:
        return {}
    held = sa.exists().where(StudySession.plan_item_id == StudyPlanItem.id, held_clause(now))
    rows = db.session.execute(
        sa.select(StudyPlanItem.plan_id, sa.func.count(),
                  sa.func.count().filter(held))
        .where(StudyPlanItem.plan_id.in_(plan_ids)).group_by(StudyPlanItem.plan_id))
    return {plan_id: (planned, done) for plan_id, planned, done in rows}


@dataclass
class ItemLine:
    item: StudyPlanItem
    #: The sessions carrying it out (normally one), earliest first.
    sessions: list[StudySession] = field(default_factory=list)
    held: bool = False


def get_item_lines(plan: StudyPlan, now: datetime) -> list[ItemLine]:
    """Each planned item with the sessions linked to it, in month order."""
    lines = {item.id: ItemLine(item) for item in plan.items}
    sessions = db.session.scalars(
        sa.select(StudySession).where(StudySession.plan_item_id.in_(list(lines)))
        .order_by(StudySession.starts_at)).all() if lines else []
    for session in sessions:
        line = lines[session.plan_item_id]
        line.sessions.append(session)
        if session.status is SessionStatus.PUBLISHED and session.starts_at <= now:
            line.held = True
    return list(lines.values())


def get_link_candidates(plan: StudyPlan) -> dict[SessionKind, list[StudySession]]:
    """Sessions that may carry out an item of the plan, by kind: the plan unit's (党小组会:
    its subtree's) sessions in the period, not cancelled."""
    start, end = Period.of_plan(plan).bounds()
    rows = db.session.scalars(
        sa.select(StudySession).join(StudySession.owner_unit)
        .where(StudySession.starts_at >= start, StudySession.starts_at < end,
               StudySession.status != SessionStatus.CANCELLED,
               _owned_by(plan.unit))
        .order_by(StudySession.starts_at)).all()
    by_kind: dict[SessionKind, list[StudySession]] = defaultdict(list)
    for session in rows:
        by_kind[session.kind].append(session)
    return by_kind


def _owned_by(unit: Unit):
    """SQL (StudySession joined to its owner Unit): the unit's own sessions, and for the
    kinds groups hold, those of units under it."""
    return sa.or_(StudySession.owner_unit_id == unit.id,
                  sa.and_(StudySession.kind.in_(GROUP_KINDS), in_subtree(Unit.path, unit.path)))


@dataclass
class KindLine:
    kind: SessionKind
    planned: int = 0
    #: Planned items carried out by a held session.
    planned_held: int = 0
    #: All held sessions of the kind in the period, planned or not.
    held: int = 0
    scheduled: int = 0


def get_plan_vs_held(plan: StudyPlan, now: datetime) -> list[KindLine]:
    """Per kind: items planned, of which carried out, and sessions held and scheduled in
    the period (planned or not). Two GROUP BYs."""
    lines = {kind: KindLine(kind) for kind in SessionKind}
    held_link = sa.exists().where(StudySession.plan_item_id == StudyPlanItem.id,
                                  held_clause(now))
    for kind, planned, done in db.session.execute(
            sa.select(StudyPlanItem.kind, sa.func.count(), sa.func.count().filter(held_link))
            .where(StudyPlanItem.plan_id == plan.id).group_by(StudyPlanItem.kind)):
        lines[kind].planned, lines[kind].planned_held = planned, done
    start, end = Period.of_plan(plan).bounds()
    for kind, held, scheduled in db.session.execute(
            sa.select(StudySession.kind, sa.func.count().filter(held_clause(now)),
                      sa.func.count().filter(StudySession.starts_at > now))
            .join(StudySession.owner_unit)
            .where(StudySession.status == SessionStatus.PUBLISHED, _owned_by(plan.unit),
                   StudySession.starts_at >= start, StudySession.starts_at < end)
            .group_by(StudySession.kind)):
        lines[kind].held, lines[kind].scheduled = held, scheduled
    return [line for line in lines.values()
            if line.planned or line.held or line.scheduled or line.kind in QUOTAS]


@dataclass
class UnitLine:
    unit: Unit
    #: kind → (held, planned)
    by_kind: dict[SessionKind, tuple[int, int]] = field(default_factory=dict)

    def cell(self, kind: SessionKind) -> tuple[int, int]:
        return self.by_kind.get(kind, (0, 0))


def get_units_plan_vs_held(root: Unit, period: Period, now: datetime,
                           kinds=tuple(QUOTAS)) -> list[UnitLine]:
    """Held and planned sessions by kind for each unit under ``root`` (its branches
    always, other units when they planned or held something), in tree order. Each unit
    counts its own sessions only. Two GROUP BYs and one list of units."""
    start, end = period.bounds()
    planned = db.session.execute(
        sa.select(StudyPlan.unit_id, StudyPlanItem.kind, sa.func.count())
        .join(StudyPlanItem.plan).join(StudyPlan.unit)
        .where(in_subtree(Unit.path, root.path), StudyPlan.year == period.year,
               StudyPlanItem.month.in_(period.months))
        .group_by(StudyPlan.unit_id, StudyPlanItem.kind)).all()
    held = db.session.execute(
        sa.select(StudySession.owner_unit_id, StudySession.kind, sa.func.count())
        .join(StudySession.owner_unit)
        .where(in_subtree(Unit.path, root.path), held_clause(now),
               StudySession.starts_at >= start, StudySession.starts_at < end)
        .group_by(StudySession.owner_unit_id, StudySession.kind)).all()
    counts: dict[int, dict[SessionKind, list[int]]] = defaultdict(lambda: defaultdict(
        lambda: [0, 0]))
    for unit_id, kind, n in held:
        counts[unit_id][kind][0] = n
    for unit_id, kind, n in planned:
        counts[unit_id][kind][1] = n
    units = list(db.session.scalars(sa.select(Unit).where(
        in_subtree(Unit.path, root.path),
        sa.or_(Unit.id.in_(list(counts)), sa.and_(Unit.kind == UnitKind.BRANCH, Unit.is_active))
    )))
    sort_in_tree_order(units)
    return [UnitLine(u, {k: tuple(v) for k, v in counts[u.id].items() if k in kinds})
            for u in units]


def sort_in_tree_order(units: list[Unit]) -> None:
    """Depth first, siblings in their natural order (ancestors missing from the list are
    loaded in one query, for their names)."""
    by_id = {u.id: u for u in units}
    missing = {a for u in units for a in u.ancestor_ids} - set(by_id)
    if missing:
        by_id.update((u.id, u) for u in db.session.scalars(
            sa.select(Unit).where(Unit.id.in_(missing))))
    units.sort(key=lambda u: [unit_sort_key(by_id[a]) for a in u.ancestor_ids + [u.id]])


@dataclass
class Cycle:
    """One month or quarter of a quota: what is due and what happened."""

    label: str
    months: list[int]
    due: int
    held: int = 0
    scheduled: int = 0
    #: done / missing / open (under way, not yet held) / ahead (not begun)
    state: str = "ahead"


@dataclass
class QuotaLine:
    kind: SessionKind
    every: int
    cycles: list[Cycle]
    #: False for 党小组会 in a branch without 党小组.
    applies: bool = True

    @property
    def due(self) -> int:
        return sum(c.due for c in self.cycles if c.state != "ahead")

    @property
    def missing(self) -> list[Cycle]:
        return [c for c in self.cycles if c.state == "missing"]

    @property
    def done(self) -> int:
        return sum(1 for c in self.cycles if c.state == "done")


def _cycles(period: Period, every: int) -> list[list[int]]:
    months = period.months
    if every == 1:
        return [[m] for m in months]
    return [[m for m in months if (m - 1) // every == q] for q in
            sorted({(m - 1) // every for m in months})]


def get_quota_checklist(unit: Unit, period: Period, now: datetime) -> list[QuotaLine] | None:
    """The 三会一课 and 主题党日 checklist of a branch for the period: per kind and cycle,
    what is due, held, scheduled or missing. None for units that are not branches."""
    if unit.kind is not UnitKind.BRANCH:
        return None
    groups = db.session.scalar(sa.select(sa.func.count(Unit.id)).where(
        in_subtree(Unit.path, unit.path), Unit.kind == UnitKind.GROUP, Unit.is_active)) or 0
    start, end = period.bounds()
    held = held_clause(now)
    sessions = (
        sa.select(StudySession.kind.label("kind"),
                  period.month_of(StudySession.starts_at).label("month"),
                  sa.case((held, StudySession.owner_unit_id)).label("held_by"),
                  sa.case((StudySession.starts_at > now, StudySession.owner_unit_id))
                  .label("scheduled_by"))
        .join(StudySession.owner_unit)
        .where(StudySession.status == SessionStatus.PUBLISHED, _owned_by(unit),
               StudySession.kind.in_(list(QUOTAS)),
               StudySession.starts_at >= start, StudySession.starts_at < end)
        .subquery())
    # Grouped outside the subquery: PostgreSQL would not match a CASE with bound
    # parameters in the GROUP BY to the same CASE in the SELECT.
    rows = db.session.execute(
        sa.select(sessions.c.kind, sessions.c.month,
                  sa.func.count(sa.distinct(sessions.c.held_by)),
                  sa.func.count(sa.distinct(sessions.c.scheduled_by)))
        .group_by(sessions.c.kind, sessions.c.month)).all()
    found = {(kind, m): (h, s) for kind, m, h, s in rows}
    this_year, this_month = local_month(now)
    lines = []
    for kind, every in QUOTAS.items():
        due = groups if kind in GROUP_KINDS else 1
        cycles = []
        for months in _cycles(period, every):
            cycle = Cycle(_cycle_label(months, every), months, due)
            cycle.held = sum(found.get((kind, m), (0, 0))[0] for m in months)
            cycle.scheduled = sum(found.get((kind, m), (0, 0))[1] for m in months)
            cycle.state = _state(cycle, period.year, this_year, this_month)
            cycles.append(cycle)
        lines.append(QuotaLine(kind, every, cycles, applies=due > 0))
    return lines


def _cycle_label(months: list[int], every: int) -> str:
    if every == 1:
        return str(_l("Month %(m)d", m=months[0]))
    return str(_l("Q%(q)d", q=(months[0] - 1) // 3 + 1))


def _state(cycle: Cycle, year: int, this_year: int, this_month: int) -> str:
    if cycle.held >= cycle.due:
        return "done"
    first, last = (year, cycle.months[0]), (year, cycle.months[-1])
    now = (this_year, this_month)
    if now > last:
        return "missing"
    return "open" if now >= first else "ahead"
