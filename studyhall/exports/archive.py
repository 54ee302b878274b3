"""The inspection archive (档案): for a unit and a period, one .zip with what an inspection
asks for ("计划周密、考勤规范、记录清晰、档案完整"), in folders by kind:

- 00_目录: the index (.docx) listing every file with counts;
- 01_学习计划: each study plan of the unit's subtree covering part of the period, with
  planned vs held (exports/plan_sheet.py);
- 02_会议记录: each held session's record sheet with its photos (exports/session_docx.py);
- 03_考勤: the attendance sheet of the period (exports/attendance_xlsx.py; split by
  sub-unit when more sessions were held than one sheet shows side by side);
- 04_考试成绩: the score sheet of each exam that opened in the period and reached the
  unit, with its unit summary and item analysis (exports/scores.py);
- 05_学习完成情况: the reading-completion sheet of each assignment running in the period
  (exports/reading.py);
- 06_心得体会: the accepted reflections (exports/reflections_docx.py).

Never more than the requester's scope: everything is limited to the unit's subtree (a
unit the requester may see) and to their scope; exams and assignments set from above
count only their people in it. :meth:`Archive.plan` lists the files (cheap queries);
:meth:`Archive.write` builds each into a temporary file and adds it to the zip, so a
large unit's archive never sits in memory; ``progress(1)`` is told after each file.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from studyhall.auth.scope import in_scope
from studyhall.exports import plan_sheet, reading, scores
from studyhall.exports.attendance_xlsx import build_attendance_xlsx
from studyhall.exports.naming import file_name
from studyhall.exports.reflections_docx import AcceptedReflection, build_reflections_docx
from studyhall.exports.session_docx import build_session_docx
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree
from studyhall.org.models import Person, Unit
from studyhall.sessions.models import StudyPlan, StudySession
from studyhall.sessions.plans import Period, held_clause, sort_in_tree_order, to_local
from studyhall.sessions.queries_exports import get_attendance_sheet, get_record_sheet
from studyhall.stats.periods import DatePeriod

PLANS, RECORDS, ATTENDANCE, EXAMS, READING, REFLECTIONS = (
    "01_学习计划", "02_会议记录", "03_考勤", "04_考试成绩", "05_学习完成情况", "06_心得体会")
FOLDERS = (PLANS, RECORDS, ATTENDANCE, EXAMS, READING, REFLECTIONS)
INDEX = "00_目录"
#: One attendance sheet shows at most this many sessions side by side (as the session
#: pages' own download); a unit with more gets one sheet per sub-unit.
MAX_SESSION_COLUMNS = 300
#: The longest period one archive covers.
MAX_DAYS = 366 * 2


@dataclass
class Entry:
    folder: str
    name: str
    #: write(path): builds the file at ``path``.
    write: Callable[[str], None]


@dataclass
class Archive:
    viewer: Person
    unit: Unit
    span: DatePeriod
    now: datetime
    #: "示例市教育局党委/…/实验小学第一支部"
    unit_name: str = ""
    entries: list[Entry] = field(default_factory=list)

    # --- what goes in ----------------------------------------------------------------

    def _under(self):
        """SQL on Unit: the unit's subtree within the viewer's scope."""
        return sa.and_(in_subtree(Unit.path, [self.unit.path]), in_scope(self.viewer))

    def plan(self) -> list[Entry]:
        """Every file of the archive (but the index), in folder order."""
        self.entries = []
        self._plans()
        sessions = self._sessions()
        self._attendance(bool(sessions))
        self._exams()
        self._reading()
        self._reflections()
        used: set[str] = set()
        for entry in self.entries:  # a name appears once per folder
            stem, dot, suffix = entry.name.rpartition(".")
            candidate, n = entry.name, 1
            while f"{entry.folder}/{candidate}" in used:
                n += 1
                candidate = f"{stem}-{n}{dot}{suffix}"
            entry.name = candidate
            used.add(f"{entry.folder}/{candidate}")
        return self.entries

    def _add(self, folder: str, name: str, write: Callable[[str], None]) -> None:
        self.entries.append(Entry(folder, name, write))

    def _plans(self) -> None:
        plans = db.session.scalars(
            sa.select(StudyPlan).join(StudyPlan.unit).where(
                self._under(), StudyPlan.year.between(self.span.start.year, self.span.end.year))
            .order_by(Unit.path, StudyPlan.year, StudyPlan.half)).all()
        for plan in plans:
            period = Period.of_plan(plan)
            if not self.span.overlaps(*period.bounds()):
                continue
            first = date(plan.year, period.months[0], 1)
            self._add(PLANS, file_name(plan.unit.name, "学习计划", period.label, day=first,
                                       suffix="xlsx"),
                      lambda path, plan=plan: plan_sheet.write_plan_workbook(path, plan, self.now))

    def _sessions(self) -> list[StudySession]:
        start, end = self.span.bounds()
        sessions = db.session.scalars(
            sa.select(StudySession).join(StudySession.owner_unit)
            .where(self._under(), held_clause(self.now), StudySession.starts_at >= start,
                   StudySession.starts_at < end)
            .order_by(StudySession.starts_at, StudySession.id)).all()
        for session in sessions:
            self._add(RECORDS, file_name(session.owner_unit.name, session.kind.label,
                                         session.topic[:30], day=to_local(session.starts_at).date(),
                                         suffix="docx"),
                      lambda path, s=session: _save(path, build_session_docx(get_record_sheet(s))))
        return sessions

    def _attendance(self, any_held: bool) -> None:
        if any_held:
            self._attendance_of(self.unit)

    def _attendance_of(self, unit: Unit) -> None:
        """The unit's sheet, or its sub-units' when it would be too wide."""
        start, end = self.span.bounds()
        held = db.session.scalar(
            sa.select(sa.func.count()).select_from(StudySession).join(StudySession.owner_unit)
            .where(in_subtree(Unit.path, [unit.path]), held_clause(self.now),
                   StudySession.starts_at >= start, StudySession.starts_at < end)) or 0
        if not held:
            return
        children = list(db.session.scalars(sa.select(Unit).where(Unit.parent_id == unit.id)))
        if held > MAX_SESSION_COLUMNS and children:
            own = db.session.scalar(
                sa.select(sa.func.count()).select_from(StudySession)
                .where(StudySession.owner_unit_id == unit.id, held_clause(self.now),
                       StudySession.starts_at >= start, StudySession.starts_at < end)) or 0
            if own:  # the unit's own sessions cannot be split further: say so in a sheet
                self._attendance_sheet(unit)
            sort_in_tree_order(children)
            for child in children:
                self._attendance_of(child)
            return
        self._attendance_sheet(unit)

    def _attendance_sheet(self, unit: Unit) -> None:
        def write(path: str, unit=unit) -> None:
            sheet = get_attendance_sheet(unit, self.span, self.now)
            _save(path, build_attendance_xlsx(sheet))

        self._add(ATTENDANCE, file_name(unit.name, "考勤汇总表", self.span.label,
                                        day=self.span.end, suffix="xlsx"), write)

    def _exams(self) -> None:
        from studyhall.quizzes.models import Quiz, QuizRecipient
        from studyhall.stats.queries import Filters, query_exams

        start, end = self.span.bounds()
        reached = (sa.select(QuizRecipient.quiz_id).join(Unit, Unit.id == QuizRecipient.unit_id)
                   .where(QuizRecipient.quiz_id == Quiz.id, self._under()).exists())
        exams = db.session.scalars(
            query_exams(self.viewer).where(reached, Quiz.opens_at >= start, Quiz.opens_at < end)
            .order_by(None).order_by(Quiz.opens_at, Quiz.id)).all()
        for quiz in exams:
            export = scores.ScoreExport(quiz, self.viewer, Filters(self.unit), self.unit_name)
            self._add(EXAMS, file_name(quiz.title, "成绩单", self.unit.name,
                                       day=to_local(quiz.opens_at).date(), suffix="xlsx"),
                      lambda path, e=export: scores.write_score_workbook(path, e))

    def _reading(self) -> None:
        from studyhall.study.models import Assignment, AssignmentRecipient, AssignmentStatus

        start, end = self.span.bounds()
        reached = (sa.select(AssignmentRecipient.assignment_id)
                   .join(Unit, Unit.id == AssignmentRecipient.unit_id)
                   .where(AssignmentRecipient.assignment_id == Assignment.id, self._under())
                   .exists())
        assignments = db.session.scalars(
            sa.select(Assignment).where(Assignment.status != AssignmentStatus.DRAFT, reached,
                                        Assignment.starts_at < end, Assignment.due_at >= start)
            .order_by(Assignment.starts_at, Assignment.id)).all()
        for assignment in assignments:
            export = reading.ReadingExport(assignment, self.viewer, self.unit,
                                           scope_name=self.unit_name, now=self.now)
            self._add(READING, file_name(assignment.title, "学习完成情况", self.unit.name,
                                         day=to_local(assignment.starts_at).date(),
                                         suffix="xlsx"),
                      lambda path, e=export: reading.write_reading_workbook(path, e))

    def accepted_reflections(self) -> list[AcceptedReflection]:
        """Accepted reflections of people in the unit's subtree, accepted in the period,
        with the text as accepted; by acceptance time."""
        from studyhall.stats.queries import get_unit_names
        from studyhall.study.models import Assignment, Reflection, ReflectionVersion
        from studyhall.study.reflections import ACCEPTED

        start, end = self.span.bounds()
        rows = db.session.execute(
            sa.select(Person.name, Person.unit_id, Assignment.title, StudySession.topic,
                      StudySession.kind, ReflectionVersion.reviewed_at,
                      Reflection.is_excellent, ReflectionVersion.body)
            .select_from(Reflection)
            .join(ReflectionVersion, sa.and_(ReflectionVersion.reflection_id == Reflection.id,
                                             ReflectionVersion.decision == ACCEPTED))
            .join(Person, Person.id == Reflection.person_id)
            .join(Unit, Unit.id == Person.unit_id)
            .outerjoin(Assignment, Assignment.id == Reflection.assignment_id)
            .outerjoin(StudySession, StudySession.id == Reflection.session_id)
            .where(self._under(), ReflectionVersion.reviewed_at >= start,
                   ReflectionVersion.reviewed_at < end)
            .order_by(ReflectionVersion.reviewed_at, Reflection.id)).all()
        names = get_unit_names({row.unit_id for row in rows}) if rows else {}
        return [AcceptedReflection(
            row.name, names.get(row.unit_id, ""),
            row.title or (f"{row.kind.label}：{row.topic}" if row.topic else ""),
            to_local(row.reviewed_at), row.is_excellent, row.body) for row in rows]

    def _reflections(self) -> None:
        items = self.accepted_reflections()
        if not items:
            return
        title = _("%(unit)s: accepted reflections", unit=self.unit.name)

        def write(path: str) -> None:
            build_reflections_docx(title, self.span.label, items, path)

        self._add(REFLECTIONS, file_name(self.unit.name, "心得体会汇编", day=self.span.end,
                                         suffix="docx"), write)

    # --- the zip -------------------------------------------------------------------------

    def index_name(self) -> str:
        return file_name(self.unit.name, "档案目录", day=self.span.end, suffix="docx")

    def write(self, target, progress: Callable[[int], None] | None = None) -> None:
        """The zip into ``target`` (a path or a binary file); call :meth:`plan` first."""
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
            self._add_file(archive, INDEX, self.index_name(), self._write_index)
            if progress:
                progress(1)
            for entry in self.entries:
                self._add_file(archive, entry.folder, entry.name, entry.write)
                if progress:
                    progress(1)

    def _add_file(self, archive: zipfile.ZipFile, folder: str, name: str, write) -> None:
        # .docx and .xlsx are zips already: stored, not squeezed twice.
        handle, path = tempfile.mkstemp(suffix="." + name.rpartition(".")[2])
        os.close(handle)
        try:
            write(path)
            archive.write(path, f"{folder}/{name}")
        finally:
            os.unlink(path)

    def counts(self) -> dict[str, int]:
        return {folder: sum(1 for e in self.entries if e.folder == folder)
                for folder in FOLDERS}

    def _write_index(self, path: str) -> None:
        from docx import Document
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        from studyhall.exports.session_docx import _set_fonts

        document = Document()
        _set_fonts(document)
        heading = document.add_paragraph()
        heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = heading.add_run(_("%(unit)s: study archive", unit=self.unit.name))
        run.bold, run.font.size = True, Pt(18)
        document.add_paragraph(_("Unit: %(unit)s", unit=self.unit_name or self.unit.name))
        document.add_paragraph(_("Period: %(period)s", period=self.span.label))
        document.add_paragraph(_("Made %(when)s.", when=to_local(self.now).strftime(
            "%Y-%m-%d %H:%M")))
        counts = self.counts()
        table = document.add_table(rows=len(FOLDERS) + 1, cols=2)
        table.style = "Table Grid"
        table.rows[0].cells[0].text = _("Folder")
        table.rows[0].cells[1].text = _("Number of files")
        for row, folder in zip(table.rows[1:], FOLDERS, strict=True):
            row.cells[0].text = folder
            row.cells[1].text = str(counts[folder])
        for folder in FOLDERS:
            document.add_heading(_("%(folder)s (%(n)d files)", folder=folder,
                                   n=counts[folder]), level=2)
            names = [e.name for e in self.entries if e.folder == folder]
            if not names:
                document.add_paragraph(_("(none in this period)"))
            for number, name in enumerate(names, start=1):
                document.add_paragraph(f"{number}. {name}")
        document.save(path)


def _save(path: str, buffer) -> None:
    with open(path, "wb") as handle:
        handle.write(buffer.getvalue())
