"""An exam's score sheet (成绩单) as .xlsx: the people, the units rolled up, the item
analysis — or any one of the three as CSV. The rows come from studyhall/stats; this
module only lays them out (sheets.py writes them).

The figures are the page's: the same queries, rounded by studyhall.figures the same way,
so a person checking the page against the sheet by hand gets the same numbers. The
header lines say what the sheet covers, which attempt counts and when it was made.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import product

import xlsxwriter
from flask_babel import get_timezone, to_user_timezone
from flask_babel import gettext as _

from studyhall.exports import snapshot
from studyhall.exports.sheets import (
    DATETIME,
    DECIMAL,
    DURATION,
    INT,
    RATE,
    TEXT,
    Column,
    SheetWriter,
    iter_csv,
    workbook_options,
)
from studyhall.extensions import db
from studyhall.figures import average_value, rate_value, round_half_up
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, PoliticalStatus
from studyhall.quizzes.models import Quiz
from studyhall.stats import items as item_stats
from studyhall.stats import labels, queries
from studyhall.stats.queries import ExamFigures, Filters

SHEETS = ("scores", "units", "items")


@dataclass
class ScoreExport:
    """What one export covers: the exam, the viewer whose scope limits it, the filters."""

    quiz: Quiz
    viewer: Person
    filters: Filters
    #: "示例市教育局党委/…/实验小学第一支部", or "" for the viewer's whole scope.
    scope_name: str = ""
    political_name: str = ""

    def notes(self, sheet_name: str) -> list[str]:
        made = to_user_timezone(utcnow()).strftime("%Y-%m-%d %H:%M")
        scope = self.scope_name or _("All units in your scope")
        line = _("Scope: %(scope)s; political status: %(status)s; exported %(time)s.",
                 scope=scope, status=self.political_name or _("Any"), time=made)
        return [line, labels.counting_rule(self.quiz)]


def local(moment: datetime | None, zone=None) -> datetime | None:
    """A stored UTC time in the configured zone, without tzinfo (as a sheet holds it).
    ``zone`` (flask_babel.get_timezone()) saves looking the zone up for every row."""
    if moment is None:
        return None
    if zone is None:
        return to_user_timezone(moment).replace(tzinfo=None)
    return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


# --- 成绩单: one row per expected participant ---------------------------------------


def score_columns() -> list[Column]:
    return [Column(_("No."), INT), Column(_("Unit"), TEXT), Column(_("Name"), TEXT),
            Column(_("Account"), TEXT), Column(_("Political status"), TEXT),
            Column(_("State"), TEXT), Column(_("Score"), DECIMAL),
            Column(_("Passed?"), TEXT), Column(_("Time taken"), DURATION),
            Column(_("Submitted at"), DATETIME)]


def iter_score_values(export: ScoreExport) -> Iterator[list]:
    """The people's rows, each as the sheet's ten values. Per row only what differs
    between people is computed: labels are looked up once, the zone's offset once a day
    (a city has 100,000 rows); the rows come from the driver in batches."""
    quiz = export.quiz
    unit_names = queries.get_unit_names()
    yes, no, pass_mark = _("Yes"), _("No"), quiz.pass_mark
    to_local = LocalTimes(get_timezone())
    statuses = {status: status.label for status in PoliticalStatus}
    states = _state_labels()
    for number, (_person, unit_id, name, account, status, score, pending, in_progress,
                 started, submitted) in enumerate(_score_rows(export), start=1):
        if score is None:
            yield [number, unit_names.get(unit_id, ""), name, account, statuses[status],
                   states[False, bool(pending), bool(in_progress)], None, None, None, None]
        else:
            # The time taken as ScoreRow.seconds gives it: whole seconds, never negative.
            yield [number, unit_names.get(unit_id, ""), name, account, statuses[status],
                   states[True, bool(pending), bool(in_progress)], score,
                   yes if score >= pass_mark else no,
                   max(0, int((submitted - started).total_seconds())), to_local(submitted)]


class LocalTimes:
    """:func:`local` for many times: the zone's offset is looked up once per UTC day.
    Where it is the same at the day's first and last microsecond it holds all day (a
    zone changes its offset at most once a day); a day whose two ends disagree (a
    daylight-saving change) is converted time by time."""

    def __init__(self, zone):
        self.zone, self.offsets = zone, {}

    def __call__(self, moment: datetime | None) -> datetime | None:
        if moment is None or moment.tzinfo is not None:
            return local(moment, self.zone)
        day = moment.toordinal()
        offset = self.offsets.get(day)
        if offset is None:
            start = datetime.fromordinal(day)
            end = start + timedelta(days=1, microseconds=-1)
            offset = local(start, self.zone) - start
            if local(end, self.zone) - end != offset:
                offset = False
            self.offsets[day] = offset
        return local(moment, self.zone) if offset is False else moment + offset


def _score_rows(export: ScoreExport, batch: int = 2000):
    """queries.iter_score_sheet's rows as they come from the Core connection, without a
    ScoreRow made for each."""
    queries.without_jit()
    result = db.session.connection().execute(
        queries.query_score_sheet(export.quiz, export.viewer, export.filters,
                                  every_person=True)
        .execution_options(yield_per=batch))
    for rows in result.partitions():
        yield from rows


def _state_labels() -> dict[tuple[bool, bool, bool], str]:
    """The state's label for (took the exam, pending, in progress), as ScoreRow.state
    decides it."""
    table = {}
    for took, pending, going in product((False, True), repeat=3):
        probe = queries.ScoreRow(0, 0, "", "", PoliticalStatus.MASSES,
                                 Decimal(0) if took else None, pending, going, None, None)
        table[took, pending, going] = labels.state_label(probe.state)
    return table


# --- 单位汇总: the roll-up of every unit ---------------------------------------------


def unit_columns() -> list[Column]:
    return [Column(_("Unit"), TEXT), Column(_("Kind"), TEXT),
            Column(labels.exam_word("expected"), INT), Column(labels.exam_word("sat"), INT),
            Column(labels.exam_word("absent"), INT), Column(_("Participation rate"), RATE),
            Column(_("Average score (of those who sat)"), DECIMAL),
            Column(_("Average score (of all expected, absentees as 0)"), DECIMAL),
            Column(_("Highest"), DECIMAL), Column(_("Lowest"), DECIMAL),
            Column(_("Median"), DECIMAL), Column(_("Standard deviation"), DECIMAL),
            Column(_("Passed"), INT), Column(_("Pass rate"), RATE),
            Column(_("Excellent"), INT), Column(_("Excellent rate"), RATE),
            Column(_("Awaiting grading"), INT)]


def figure_values(f: ExamFigures) -> list:
    """The figures of one row, rounded exactly as the page shows them."""
    return [f.expected, f.took, f.absent, rate_value(f.took, f.expected),
            average_value(f.total, f.took), average_value(f.total, f.expected),
            f.highest, f.lowest,
            None if f.median is None else round_half_up(f.median, 2),
            None if f.sd is None else round_half_up(f.sd, 2),
            f.passed, rate_value(f.passed, f.took), f.excellent,
            rate_value(f.excellent, f.took), f.pending]


def iter_unit_values(export: ScoreExport) -> Iterator[list]:
    """The whole scope first (合计, the page's top figures), then every unit with
    participants in tree order, each over its subtree."""
    total, units = queries.get_all_unit_figures(export.quiz, export.viewer, export.filters)
    yield [_("Total: %(scope)s", scope=export.scope_name or _("All units in your scope")),
           "", *figure_values(total)]
    names = queries.get_unit_names()
    for row in units:
        yield [names.get(row.unit.id, row.unit.name), row.unit.kind.label,
               *figure_values(row.figures)]


# --- 试题分析: item analysis ----------------------------------------------------------


def item_columns() -> list[Column]:
    return [Column(_("No."), INT), Column(_("Type"), TEXT), Column(_("Question"), TEXT),
            Column(_("Mark"), DECIMAL), Column(_("Answered by"), INT),
            Column(_("Facility"), RATE), Column(_("SD (share of the mark)"), RATE),
            Column(_("Discrimination index"), DECIMAL),
            Column(_("Discriminative efficiency"), DECIMAL),
            Column(_("Wrong answer chosen most"), TEXT), Column(_("Chosen by"), INT),
            Column(_("Check"), TEXT)]


def _percent(share):
    return None if share is None else round_half_up(share * 100, 1)


def _two(value):
    return None if value is None else round_half_up(value, 2)


def item_flags(item) -> str:
    found = []
    if item.low_facility:
        found.append(_("facility under 20%"))
    if item.negative_discrimination:
        found.append(_("negative discrimination: check the key"))
    return _("; ").join(found) if found else ""


def wrong_text(item) -> str:
    wrong = item.wrong
    if wrong is None:
        return item.withheld  # why it is not shown to this viewer, or ""
    if wrong.label and wrong.text:
        return f"{wrong.label}. {wrong.text}"
    return wrong.label or wrong.text


def iter_item_values(paper: item_stats.PaperStats) -> Iterator[list]:
    for item in paper.items:
        yield [item.number, item.type_label, item.stem[:200], item.mark, item.attempts,
               _percent(item.facility), _percent(item.sd), _two(item.discrimination),
               _two(item.efficiency), wrong_text(item),
               item.wrong.count if item.wrong else None, item_flags(item)]


def paper_lines(paper: item_stats.PaperStats) -> list[str]:
    """The paper's figures as sentences for the sheet's header."""
    from studyhall.figures import score

    parts = [_("Counted attempts analysed: %(n)d.", n=paper.attempts)]
    if paper.alpha is not None:
        parts.append(_("Internal consistency (alpha) %(alpha)s%%, error ratio %(ratio)s%%, "
                       "standard error %(se)s.", alpha=score(paper.alpha, 1),
                       ratio=score(paper.error_ratio, 1) if paper.error_ratio is not None
                       else "—", se=score(paper.standard_error)
                       if paper.standard_error is not None else "—"))
    elif not paper.same_paper:
        parts.append(_("Papers were drawn at random, so people answered different questions: "
                       "internal consistency is not computed."))
    if paper.provisional:
        parts.append(_("Provisional: some short answers are not graded yet and count 0."))
    return parts


# --- the files -----------------------------------------------------------------------


def write_score_workbook(target, export: ScoreExport,
                         progress: Callable[[int], None] | None = None, *,
                         figures_beside: bool = False) -> None:
    """The three sheets into ``target`` (a path or a binary file). ``progress(n)`` is told
    of every 1,000 people written.

    With ``figures_beside`` (the command line) the units' figures and the item analysis
    are computed in a thread of their own while the people are written, on the same
    snapshot of the database (exports/snapshot.py), so every sheet reads the same data.
    They are mostly the database's work (SQLite and the drivers release the GIL while a
    statement runs) and the people mostly Python's, so with a second core free the
    figures cost little wall time (BENCHMARKS.md, city export), provided Python hands the
    GIL back to the figures thread promptly: meanwhile it switches threads every
    BESIDE_SWITCH_INTERVAL."""
    quiz = export.quiz
    beside = FiguresBeside.launch(export) if figures_beside and snapshot.shareable() else None
    paper = None
    workbook = xlsxwriter.Workbook(target, workbook_options())
    with switching_often(beside is not None):
        try:
            # The sheets are added in their order first; each is written to its own
            # temporary file (constant memory), so the people can be written before the rest.
            people = SheetWriter(workbook, _("Score sheet"), score_columns(),
                                 title=_("%(title)s: score sheet", title=quiz.title),
                                 notes=export.notes("scores"))
            units = SheetWriter(workbook, _("Figures by unit"), unit_columns(),
                                title=_("%(title)s: figures by unit", title=quiz.title),
                                notes=export.notes("units") + labels.method_notes(quiz)[:-1])
            item_sheet = SheetWriter(workbook, _("Item analysis"), item_columns(),
                                     title=_("%(title)s: item analysis", title=quiz.title),
                                     notes=export.notes("items"))
            if beside is None:
                paper = item_stats.get_item_analysis(quiz, export.viewer, export.filters)
            people.write(iter_score_values(export), progress)
            if beside is None:
                unit_rows = iter_unit_values(export)
            else:
                unit_rows, paper = beside.result()
            units.write(unit_rows)
            item_sheet.notes += paper_lines(paper)
            item_sheet.write(iter_item_values(paper))
        finally:
            if beside is not None:
                beside.join()
            workbook.close()


#: Python's thread switch interval while the figures run beside the people (the default
#: is 5 ms). The figures thread gives the GIL up at every row SQLite steps to and every
#: numpy call, and each time it wants it back it waited up to the full interval behind
#: the people's writer, which never waits: beside it the city's roll-up took 1.7 s
#: instead of 0.5 and the item analysis 4.6 s instead of 2.1, and the command waited
#: for them. At 0.5 ms the writer is not slowed (BENCHMARKS.md, the city's export).
BESIDE_SWITCH_INTERVAL = 0.0005
_switching_lock = threading.Lock()
_switching_users = 0
_switching_before = 0.0


@contextlib.contextmanager
def switching_often(wanted: bool = True) -> Iterator[None]:
    """Switch threads every BESIDE_SWITCH_INTERVAL while this block runs. Only the
    command line runs the figures beside the people, so no web worker's interval (its
    takers' requests) is changed; the interval is the process's all the same, so
    overlapping exports in one process share it: the first in lowers it and the last
    out puts it back."""
    global _switching_users, _switching_before
    if not wanted:
        yield
        return
    with _switching_lock:
        if _switching_users == 0:
            _switching_before = sys.getswitchinterval()
            sys.setswitchinterval(BESIDE_SWITCH_INTERVAL)
        _switching_users += 1
    try:
        yield
    finally:
        with _switching_lock:
            _switching_users -= 1
            if _switching_users == 0:
                sys.setswitchinterval(_switching_before)


class FiguresBeside(threading.Thread):
    """The figures-by-unit rows and the item analysis of ``export``, computed in this
    thread with its own app context, session and connection on the caller's snapshot
    (the export's objects are read again there by id: a session is not shared between
    threads), in the caller's locale, reading only."""

    def __init__(self, export: ScoreExport, join: Callable[[], None]):
        super().__init__(name="score-sheet-figures", daemon=True)
        from flask import current_app
        from flask_babel import get_locale

        self.app = current_app._get_current_object()
        self.locale = str(get_locale())
        self.export, self.join_snapshot = export, join
        self.ids = (export.quiz.id, getattr(export.viewer, "id", None),
                    export.filters.unit.id if export.filters.unit is not None else None)
        self.rows: list[list] = []
        self.paper: item_stats.PaperStats | None = None
        self.error: BaseException | None = None

    @classmethod
    def launch(cls, export: ScoreExport) -> FiguresBeside:
        """The thread, started on the caller's snapshot."""
        def begin(join):
            thread = cls(export, join)
            thread.start()
            return thread
        return snapshot.run_beside(begin)

    def run(self) -> None:
        from flask_babel import force_locale

        from studyhall.database import read_only
        from studyhall.org.models import Unit

        quiz_id, viewer_id, unit_id = self.ids
        _lower_priority()
        with self.app.app_context(), force_locale(self.locale):
            read_only()
            try:
                self.join_snapshot()
                viewer = self.export.viewer
                if isinstance(viewer, Person):
                    viewer = db.session.get(Person, viewer_id)
                filters = self.export.filters
                again = ScoreExport(db.session.get(Quiz, quiz_id), viewer, Filters(
                    db.session.get(Unit, unit_id) if unit_id is not None else None,
                    filters.statuses, filters.kind), self.export.scope_name,
                    self.export.political_name)
                self.rows = list(iter_unit_values(again))
                self.paper = item_stats.get_item_analysis(again.quiz, viewer, again.filters)
            except BaseException as error:  # raised again in the caller's thread
                self.error = error
            finally:
                db.session.remove()

    def result(self) -> tuple[list[list], item_stats.PaperStats]:
        self.join()
        if self.error is not None:
            raise self.error
        return self.rows, self.paper


def _lower_priority() -> None:
    """Give the calling thread a lower CPU priority (nice +10; on Linux a thread has its
    own): the figures are batch work, and a running exam's requests come first when no
    core is free. Where that is not possible the thread runs as it is."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def iter_sheet_csv(export: ScoreExport, sheet: str) -> Iterator[bytes]:
    """One of the three sheets as CSV, in chunks."""
    quiz = export.quiz
    if sheet == "units":
        return iter_csv(unit_columns(), iter_unit_values(export),
                        title=_("%(title)s: figures by unit", title=quiz.title),
                        notes=export.notes("units"))
    if sheet == "items":
        paper = item_stats.get_item_analysis(quiz, export.viewer, export.filters)
        return iter_csv(item_columns(), iter_item_values(paper),
                        title=_("%(title)s: item analysis", title=quiz.title),
                        notes=export.notes("items") + paper_lines(paper))
    return iter_csv(score_columns(), iter_score_values(export),
                    title=_("%(title)s: score sheet", title=quiz.title),
                    notes=export.notes("scores"))
