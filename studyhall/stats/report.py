"""汇报数据: the sentences a work report quotes for a unit and a period, built from the
study and session figures (study_queries, session_queries), the exam roll-ups
(queries.get_exam_figures) and the unit's make-up (org.queries.get_composition):

    共97人，其中党员50名，团员6名，民主党派1名，群众40名。
    2026年上半年，共组织集中学习6次，参学率100%；开展党纪党规知识考试1次，应考120人，实考118人，
    参考率98.3%，人均92.4分，及格率100%。

Every number goes through studyhall.figures (half up on the exact value). In a sentence
a rate that is whole at one decimal is written without ".0" (100%, as reports write it);
人均分 has one decimal. The page, the .docx and the ``report`` command share these lines.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import pgettext

from studyhall import figures
from studyhall.extensions import db
from studyhall.model_helpers import in_subtree
from studyhall.org.models import Person, PoliticalStatus, Unit
from studyhall.org.queries import Composition, get_composition
from studyhall.quizzes.models import Quiz, QuizRecipient
from studyhall.stats import queries as exam_queries
from studyhall.stats.periods import DatePeriod
from studyhall.stats.session_queries import KindLine, get_sessions_by_kind
from studyhall.stats.study_queries import StudyFigures, get_study_figures

#: 人均分 in a report sentence: one decimal, as reports quote it.
REPORT_AVERAGE_PLACES = 1


def report_rate(part, whole) -> str:
    """A rate for a sentence: one decimal, half up, "100%" rather than "100.0%"."""
    value = figures.rate_value(part, whole)
    if value is None:
        return figures.MISSING
    places = 0 if value == value.to_integral_value() else figures.RATE_PLACES
    return figures.rate(part, whole, places)


def headcount_line(unit: Unit) -> str:
    """"共97人，其中党员50名，团员6名，民主党派1名，群众40名": the active people of the
    subtree by the reports' 政治面貌 groups (PoliticalGroup), groups with nobody left
    out; 预备党员 are 党员 and counted in that number."""
    composition = get_composition(unit)
    merged = Counter(composition.by_status)
    merged[PoliticalStatus.CPC_MEMBER] += merged.pop(PoliticalStatus.CPC_PROBATIONARY, 0)
    return Composition(+merged).report_line()


@dataclass
class ExamLine:
    quiz: Quiz
    figures: exam_queries.ExamFigures


@dataclass
class Report:
    unit: Unit
    period: DatePeriod
    headcount: str
    sessions: KindLine
    kinds: list[KindLine]
    study: StudyFigures
    exams: list[ExamLine] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        """The report's paragraphs, each one sentence or two, ready to paste."""
        lines = [self.headcount + pgettext("sentence end", ".")]
        lines.append(self._summary())
        kinds = self._kinds()
        if kinds:
            lines.append(kinds)
        study = self._study()
        if study:
            lines.append(study)
        return lines

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def _summary(self) -> str:
        clauses = []
        held, attendance = self.sessions.held, self.sessions.attendance
        if held.sessions:
            clauses.append(_("%(n)d study sessions were held, attendance rate %(rate)s",
                             n=held.sessions,
                             rate=report_rate(attendance.attended, attendance.denominator)))
        for line in self.exams:
            f = line.figures
            if not f.took:
                clauses.append(_(
                    "%(title)s held %(times)d time(s): %(expected)d expected, nobody sat yet",
                    title=line.quiz.title, times=1, expected=f.expected))
                continue
            clauses.append(_(
                "%(title)s held %(times)d time(s): %(expected)d expected, %(took)d sat, "
                "participation rate %(participation)s, average score %(average)s, pass rate "
                "%(pass_rate)s",
                title=line.quiz.title, times=1, expected=f.expected, took=f.took,
                participation=report_rate(f.took, f.expected),
                average=figures.average(f.total, f.took, REPORT_AVERAGE_PLACES),
                pass_rate=report_rate(f.passed, f.took)))
        if not clauses:
            return _("In %(period)s, no study session or exam was recorded.",
                     period=self.period.label)
        return _("In %(period)s, %(clauses)s.", period=self.period.label,
                 clauses=pgettext("clause separator", "; ").join(clauses))

    def _kinds(self) -> str:
        line = self.sessions
        if not line.held.sessions and not line.attendance.expected:
            return ""
        parts = [_("%(kind)s %(n)d", kind=k.kind.label, n=k.held.sessions)
                 for k in self.kinds if k.held.sessions]
        a = line.attendance
        sentence = _("Of these: %(kinds)s; %(hours)s hours in all; %(expected)d expected "
                     "attendances, %(attended)d attended, %(excused)d on approved leave, "
                     "%(absent)d absent.",
                     kinds=pgettext("list separator", ", ").join(parts) or "—",
                     hours=figures.average(line.held.seconds, 3600, 1),
                     expected=a.expected, attended=a.attended, excused=a.excused,
                     absent=a.absent)
        if line.planned:
            sentence += _(" %(planned)d sessions were planned for the period, %(done)d of "
                          "them held.", planned=line.planned, done=line.planned_held)
        return sentence

    def _study(self) -> str:
        s = self.study
        parts = []
        if s.assignments:
            parts.append(_(
                "%(n)d study assignments were given: %(expected)d readers expected, "
                "%(completed)d completed, completion rate %(rate)s, %(hours)s hours of "
                "reading in all, %(minutes)s minutes per person",
                n=s.assignments, expected=s.expected, completed=s.completed,
                rate=report_rate(s.completed, s.expected),
                hours=figures.average(s.reading_ms, 3_600_000, 1),
                minutes=figures.average(s.reading_ms, s.expected * 60_000, 1)))
        if s.reflections_submitted:
            parts.append(_(
                "%(submitted)d reflections were submitted, %(accepted)d accepted, "
                "%(excellent)d of them marked excellent",
                submitted=s.reflections_submitted, accepted=s.reflections_accepted,
                excellent=s.reflections_excellent))
        if not parts:
            return ""
        return pgettext("clause separator", "; ").join(parts) + pgettext("sentence end", ".")


def get_period_exams(viewer: Person, unit: Unit, period: DatePeriod) -> list[Quiz]:
    """Published or closed exams opening within the period with expected participants in
    the unit's subtree (and the viewer's scope), by opening time."""
    reached = (sa.select(QuizRecipient.quiz_id).join(Unit, Unit.id == QuizRecipient.unit_id)
               .where(QuizRecipient.quiz_id == Quiz.id, in_subtree(Unit.path, unit.path))
               .exists())
    query = exam_queries.query_exams(viewer).where(period.contains(Quiz.opens_at), reached)
    return sorted(db.session.scalars(query), key=lambda q: (q.opens_at, q.id))


def get_exams_counts(quizzes: list[Quiz], viewer: Person, unit: Unit
                     ) -> dict[int, exam_queries.ExamFigures]:
    """应考, 实考, the total of counted scores and 及格 of each exam over the unit's subtree
    (in the viewer's scope): what a report sentence prints, with the exam statistics'
    own expected participants and counted score (queries.recipient_conditions,
    queries.counted_people) but without the median, deviation and bands. One statement
    for all the exams: a UNION ALL of one aggregate row per exam, each over its people
    with their counted score (an index probe per person), compared with its own pass
    mark. Exams without expected participants are left out.

    Each exam's people are a subquery behind ``OFFSET 0``, which keeps both databases
    from merging it into the aggregate: merged, SQLite evaluates the score's probe once
    for each of the three aggregates that read it. Aggregated per exam in its own part,
    nobody's row is stored, sorted or joined back to the exam (a city's year: 200,000
    people in 20 exams)."""
    if not quizzes:
        return {}
    filters = exam_queries.Filters(unit)
    parts = []
    for quiz in quizzes:
        people = exam_queries.counted_people(
            quiz, [], exam_queries.recipient_conditions(quiz, viewer, filters)) \
            .offset(0).subquery(f"people_{len(parts)}")
        score = people.c.score
        parts.append(sa.select(
            sa.literal(quiz.id).label("quiz_id"), sa.func.count().label("expected"),
            sa.func.count(score).label("took"), sa.func.sum(score).label("total"),
            sa.func.sum(sa.case((score >= quiz.pass_mark, 1), else_=0)).label("passed"))
            .select_from(people))
    exam_queries.without_jit()
    rows = db.session.execute(sa.union_all(*parts) if len(parts) > 1 else parts[0])
    return {quiz_id: exam_queries.ExamFigures(expected=expected, took=took,
                                              total=Decimal(total or 0),
                                              passed=int(passed or 0))
            for quiz_id, expected, took, total, passed in rows if expected}


def get_exam_counts(quiz: Quiz, viewer: Person, unit: Unit) -> exam_queries.ExamFigures:
    """One exam's counts (see get_exams_counts)."""
    return get_exams_counts([quiz], viewer, unit).get(quiz.id, exam_queries.ExamFigures())


def build_report(viewer: Person, unit: Unit, period: DatePeriod, now: datetime) -> Report:
    """The report's figures: a few GROUP BYs, and one statement for the period's exams."""
    total, kinds = get_sessions_by_kind(unit, period, now)
    quizzes = get_period_exams(viewer, unit, period)
    counts = get_exams_counts(quizzes, viewer, unit)
    exams = [ExamLine(quiz, counts[quiz.id]) for quiz in quizzes
             if quiz.id in counts and counts[quiz.id].expected]
    return Report(unit, period, headcount_line(unit), total, kinds,
                  get_study_figures(unit, period, now), exams)


def report_docx(report: Report, unit_name: str) -> bytes:
    """The report's lines as a Word document: a title, the unit and period, the
    sentences, and the 统计口径 in small print."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    style = document.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    document.add_heading(_("Report figures"), level=1)
    document.add_paragraph(_("%(unit)s · %(period)s", unit=unit_name,
                             period=report.period.label))
    for line in report.lines:
        document.add_paragraph(line)
    notes = document.add_paragraph()
    for note in report_notes():
        run = notes.add_run(note + "\n")
        run.font.size = Pt(9)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def report_notes() -> list[str]:
    """The 统计口径 behind the sentences, printed under them on the page and the .docx."""
    return [
        _("Headcount: active people of the unit and its sub-units today; probationary "
          "members are counted among party members; groups with nobody are left out."),
        _("Study sessions: published sessions of the unit and its sub-units that started "
          "in the period. Attendance rate = attended (present or late) ÷ expected, less "
          "approved leave unless the session keeps it in the denominator; counted over "
          "the people of the unit and its sub-units at every session of the period."),
        _("Exams: exams opening in the period, over the expected participants in the unit "
          "and its sub-units. Participation rate = sat ÷ expected; average score over "
          "those who sat, to one decimal; pass rate = passed ÷ sat."),
        _("Assignments: those starting in the period. Completion rate = completed ÷ "
          "expected readers; reading time is the time the server credited."),
        _("Rates are rounded half up to one decimal from the exact values (a whole rate "
          "is written without the decimal)."),
    ]
