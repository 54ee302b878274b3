"""A study plan (学习计划) as .xlsx for the inspection archive: each planned item with
what carried it out, then planned vs held per kind — the numbers of the plan's own page
(sessions/plans.get_item_lines and get_plan_vs_held, read-only here)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import xlsxwriter
from flask_babel import gettext as _

from studyhall.exports.sheets import INT, TEXT, Column, SheetWriter, workbook_options
from studyhall.sessions.models import StudyPlan
from studyhall.sessions.plans import Period, get_item_lines, get_plan_vs_held, to_local


def item_columns() -> list[Column]:
    return [Column(_("Month"), INT), Column(_("Kind"), TEXT), Column(_("Planned topic"), TEXT),
            Column(_("Carried out"), TEXT), Column(_("Sessions held for it"), TEXT)]


def iter_item_values(plan: StudyPlan, now: datetime) -> Iterator[list]:
    lines = sorted(get_item_lines(plan, now), key=lambda line: (line.item.month, line.item.id))
    for line in lines:
        held = [s for s in line.sessions]
        state = _("Held") if line.held else (_("Scheduled") if held else _("Not yet"))
        sessions = _("; ").join(f"{to_local(s.starts_at):%Y-%m-%d} {s.topic}" for s in held)
        yield [line.item.month, line.item.kind.label, line.item.topic, state, sessions]


def kind_columns() -> list[Column]:
    return [Column(_("Kind"), TEXT), Column(_("Planned"), INT),
            Column(_("Planned and held"), INT), Column(_("Held (planned or not)"), INT),
            Column(_("Scheduled"), INT)]


def iter_kind_values(plan: StudyPlan, now: datetime) -> Iterator[list]:
    for line in get_plan_vs_held(plan, now):
        yield [line.kind.label, line.planned, line.planned_held, line.held, line.scheduled]


def write_plan_workbook(target, plan: StudyPlan, now: datetime) -> None:
    period = Period.of_plan(plan)
    notes = [_("%(unit)s, %(period)s.", unit=plan.unit.name, period=period.label),
             _("Held: published and started; scheduled: published, still ahead.")]
    workbook = xlsxwriter.Workbook(target, workbook_options())
    try:
        SheetWriter(workbook, _("Planned items"), item_columns(), title=plan.title,
                    notes=notes).write(iter_item_values(plan, now))
        SheetWriter(workbook, _("Planned vs held"), kind_columns(), title=plan.title,
                    notes=notes).write(iter_kind_values(plan, now))
    finally:
        workbook.close()
