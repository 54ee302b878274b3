"""An assignment's reading-completion sheet (学习完成情况) as .xlsx or CSV: one row per
expected reader the viewer may see — 单位 (full path), 姓名, 账号, 政治面貌, 状态, 阅读时长
(minutes, a number), 完成时间 (a date cell), checkpoints answered and right — and a
summary sheet with 完成率.

The rows and the counts are the readers page's own (study/queries.query_recipient_status
and get_state_counts, with study/queries.reading_state deciding each state), and 完成率 is
rounded by studyhall/figures.py as the page rounds it, so the sheet and the page agree.
Written by exports/sheets.py (XlsxWriter row by row, constant memory; every text cell
through exports/safety.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction

import sqlalchemy as sa
import xlsxwriter
from flask_babel import get_timezone
from flask_babel import gettext as _

from studyhall.exports.scores import local
from studyhall.exports.sheets import (
    DATETIME,
    DECIMAL,
    INT,
    RATE,
    TEXT,
    Column,
    SheetWriter,
    iter_csv,
    workbook_options,
)
from studyhall.extensions import db
from studyhall.figures import rate_value, round_half_up
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, PoliticalStatus, Unit
from studyhall.study import queries
from studyhall.study.models import LABELS, Assignment, AssignmentRecipient, ReadingState

DONE = (ReadingState.COMPLETED, ReadingState.COMPLETED_LATE)


@dataclass
class ReadingExport:
    """What one sheet covers: the assignment, the viewer whose scope limits it, and the
    unit (its subtree) and 政治面貌 chosen, as on the readers page."""

    assignment: Assignment
    viewer: Person
    unit: Unit | None = None
    status: PoliticalStatus | None = None
    #: "示例市教育局党委/…/实验小学第一支部", or "" for the viewer's whole scope.
    scope_name: str = ""
    now: datetime | None = None
    _counts: dict | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.now = self.now or utcnow()

    def query(self) -> sa.Select:
        return queries.query_recipient_status(self.assignment, self.viewer, self.now,
                                              unit=self.unit, status=self.status)

    def counts(self) -> dict[ReadingState, int]:
        """Readers per state (one GROUP BY, read once per export)."""
        if self._counts is None:
            self._counts = queries.get_state_counts(self.assignment, self.viewer, self.now,
                                                    unit=self.unit, status=self.status)
        return self._counts

    def count(self) -> int:
        return sum(self.counts().values())

    def title(self) -> str:
        return _("%(title)s: reading completion", title=self.assignment.title)

    def notes(self) -> list[str]:
        made = local(utcnow()).strftime("%Y-%m-%d %H:%M")
        scope = self.scope_name or _("All units in your scope")
        status = self.status.label if self.status else _("Any")
        due = local(self.assignment.due_at).strftime("%Y-%m-%d %H:%M")
        return [_("Scope: %(scope)s; political status: %(status)s; exported %(time)s.",
                  scope=scope, status=status, time=made),
                _("Due %(due)s. Completion rate = completed (on time and late) ÷ expected "
                  "readers.", due=due),
                summary_line(self.counts())]


def summary_line(counts: dict[ReadingState, int]) -> str:
    """"应学 12 人，已完成 9 人（其中逾期完成 1 人），完成率 75.0%。" """
    expected = sum(counts.values())
    done = sum(counts[s] for s in DONE)
    value = rate_value(done, expected)
    return _("Expected %(expected)d, completed %(done)d (of whom late %(late)d); "
             "completion rate %(rate)s.", expected=expected, done=done,
             late=counts[ReadingState.COMPLETED_LATE],
             rate="—" if value is None else f"{value}%")


def reading_columns() -> list[Column]:
    return [Column(_("No."), INT), Column(_("Unit"), TEXT), Column(_("Name"), TEXT),
            Column(_("Account"), TEXT), Column(_("Political status"), TEXT),
            Column(_("State"), TEXT), Column(_("Reading time (minutes)"), DECIMAL),
            Column(_("Completed at"), DATETIME), Column(_("Checkpoints answered"), INT),
            Column(_("Checkpoints right"), INT)]


def minutes(ms: int) -> object:
    """Credited milliseconds as minutes, two decimals, rounded half up."""
    return round_half_up(Fraction(int(ms or 0), 60000), 2)


def iter_reading_values(export: ReadingExport) -> Iterator[list]:
    from studyhall.stats.queries import get_unit_names

    names = get_unit_names()
    states = {s.value: str(LABELS[s]) for s in ReadingState}
    zone = get_timezone()
    full = export.query()
    query = full.with_only_columns(
        AssignmentRecipient.unit_id, AssignmentRecipient.political_status,
        AssignmentRecipient.completed_at, Person.name, Person.account,
        *[c for c in full.selected_columns
          if c.name in ("state", "reading_ms", "answered", "correct")])
    result = db.session.execute(query.execution_options(yield_per=2000))
    for number, row in enumerate(result, start=1):
        answered = row.answered or 0
        yield [number, names.get(row.unit_id, ""), row.name, row.account,
               row.political_status.label, states[row.state], minutes(row.reading_ms),
               local(row.completed_at, zone), answered if answered else None,
               row.correct if answered else None]


def summary_columns() -> list[Column]:
    return [Column(_("Scope"), TEXT), Column(_("Expected readers"), INT),
            *[Column(str(LABELS[s]), INT) for s in ReadingState],
            Column(_("Completed (on time and late)"), INT),
            Column(_("Completion rate"), RATE)]


def iter_summary_values(export: ReadingExport) -> Iterator[list]:
    counts = export.counts()
    expected = sum(counts.values())
    done = sum(counts[s] for s in DONE)
    yield [export.scope_name or _("All units in your scope"), expected,
           *[counts[s] for s in ReadingState], done, rate_value(done, expected)]


def write_reading_workbook(target, export: ReadingExport,
                           progress: Callable[[int], None] | None = None) -> None:
    """The readers sheet and the summary sheet into ``target`` (a path or a binary file);
    ``progress(n)`` is told of every 1,000 readers written."""
    workbook = xlsxwriter.Workbook(target, workbook_options())
    try:
        SheetWriter(workbook, _("Reading completion"), reading_columns(),
                    title=export.title(), notes=export.notes()
                    ).write(iter_reading_values(export), progress)
        SheetWriter(workbook, _("Completion summary"), summary_columns(),
                    title=export.title(), notes=export.notes()[:2]
                    ).write(iter_summary_values(export))
    finally:
        workbook.close()


def iter_reading_csv(export: ReadingExport) -> Iterator[bytes]:
    """The readers sheet as CSV, its header lines carrying the summary with 完成率."""
    return iter_csv(reading_columns(), iter_reading_values(export), title=export.title(),
                    notes=export.notes())
