"""学习档案: one person's study over a period — materials completed with their reading
time, quizzes with their scores, reflections with their review state, study sessions
attended by kind — in a few queries, for the person and for staff whose scope holds them.

A period is given in local dates (the deployment's time zone, 北京时间), both ends
included, and compared in UTC as every timestamp is stored. A quiz appears when one of
its attempts was submitted in the period, with the score that counts (its highest, or its
last, as the quiz says); the person sees it only once the quiz shows scores, as on the
result page; staff see it always. Practice quizzes are listed apart: they never count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.org.models import Person
from studyhall.quizzes.models import Attempt, AttemptStatus, Counting, Quiz, QuizMode
from studyhall.stats.periods import DatePeriod
from studyhall.study.models import (
    Assignment,
    MaterialVersion,
    ReadingProgress,
    ReadingState,
    Reflection,
    ReflectionStatus,
)
from studyhall.study.queries import reading_state

#: The longest period one record covers.
MAX_DAYS = 3 * 366


def parse_period(start: str | None, end: str | None, today: date) -> DatePeriod:
    """The period asked for (ISO dates), else this year up to today. Ends in the wrong
    order are swapped; a period longer than MAX_DAYS is cut to end MAX_DAYS after start."""
    def read(text: str | None, default: date) -> date:
        try:
            return date.fromisoformat((text or "").strip()[:10])
        except ValueError:
            return default

    first = read(start, date(today.year, 1, 1))
    last = read(end, today)
    if last < first:
        first, last = last, first
    if (last - first).days > MAX_DAYS:
        last = first + timedelta(days=MAX_DAYS)
    return DatePeriod(first, last)


@dataclass
class MaterialLine:
    assignment_title: str
    material_title: str
    version_number: int
    seconds: int
    completed_at: datetime
    state: ReadingState


@dataclass
class QuizLine:
    quiz: Quiz
    attempts: int
    score: Decimal | None
    max_score: Decimal | None
    submitted_at: datetime
    shown: bool

    @property
    def passed(self) -> bool | None:
        if self.score is None or self.quiz.mode is QuizMode.PRACTICE or not self.shown:
            return None
        return self.score >= self.quiz.pass_mark


@dataclass
class ReflectionLine:
    assignment_title: str
    status: ReflectionStatus
    is_excellent: bool
    char_count: int
    submitted_at: datetime | None


@dataclass
class LearningRecord:
    person: Person
    period: DatePeriod
    materials: list[MaterialLine] = field(default_factory=list)
    exams: list[QuizLine] = field(default_factory=list)
    practice: list[QuizLine] = field(default_factory=list)
    reflections: list[ReflectionLine] = field(default_factory=list)
    #: sessions.queries_record.KindAttendance per kind of session held in the period
    attendance: list = field(default_factory=list)

    @property
    def reading_seconds(self) -> int:
        return sum(line.seconds for line in self.materials)

    @property
    def sessions_attended(self) -> int:
        return sum(line.attended for line in self.attendance)

    @property
    def accepted_reflections(self) -> int:
        return sum(1 for r in self.reflections if r.status is ReflectionStatus.ACCEPTED)

    @property
    def excellent_reflections(self) -> int:
        return sum(1 for r in self.reflections if r.is_excellent)


def get_learning_record(person: Person, period: DatePeriod, *, staff_view: bool,
                        now: datetime) -> LearningRecord:
    record = LearningRecord(person, period)
    start, end = period.bounds()
    record.materials = _materials(person.id, start, end)
    for line in _quizzes(person.id, start, end, staff_view, now):
        (record.practice if line.quiz.mode is QuizMode.PRACTICE else record.exams).append(line)
    record.reflections = _reflections(person.id, start, end)
    record.attendance = _attendance(person.id, start, end, now)
    return record


def _attendance(person_id: int, start: datetime, end: datetime, now: datetime) -> list:
    """Per kind of session held in the period (published and begun by ``now``): the
    times the person was expected, how they were marked, and 参学率's terms."""
    from studyhall.sessions.queries_record import get_attendance_record

    return get_attendance_record(person_id, start, end, now).by_kind


def _materials(person_id: int, start: datetime, end: datetime) -> list[MaterialLine]:
    rows = db.session.execute(
        sa.select(ReadingProgress, Assignment.title, Assignment.due_at, MaterialVersion.title,
                  MaterialVersion.number)
        .join(Assignment, Assignment.id == ReadingProgress.assignment_id)
        .join(MaterialVersion, MaterialVersion.id == ReadingProgress.version_id)
        .where(ReadingProgress.person_id == person_id,
               ReadingProgress.completed_at >= start, ReadingProgress.completed_at < end)
        .order_by(ReadingProgress.completed_at)).all()
    return [MaterialLine(a_title, m_title, number, progress.credited_ms // 1000,
                         progress.completed_at,
                         reading_state(progress.completed_at, True, due_at, progress.completed_at))
            for progress, a_title, due_at, m_title, number in rows]


def _quizzes(person_id: int, start: datetime, end: datetime, staff_view: bool,
             now: datetime) -> list[QuizLine]:
    """Per quiz with an attempt submitted in the period: attempts, the counted score."""
    attempts = db.session.execute(
        sa.select(Attempt, Quiz).join(Quiz, Quiz.id == Attempt.quiz_id)
        .where(Attempt.person_id == person_id, Attempt.status == AttemptStatus.SUBMITTED,
               Attempt.submitted_at >= start, Attempt.submitted_at < end)
        .order_by(Attempt.submitted_at, Attempt.number)).all()
    by_quiz: dict[int, list[Attempt]] = {}
    quizzes: dict[int, Quiz] = {}
    for attempt, quiz in attempts:
        by_quiz.setdefault(quiz.id, []).append(attempt)
        quizzes[quiz.id] = quiz
    lines = []
    for quiz_id, done in by_quiz.items():
        quiz = quizzes[quiz_id]
        graded = [a for a in done if a.score is not None]
        if quiz.counting is Counting.LAST:
            counted = graded[-1] if graded else None
        else:
            counted = max(graded, key=lambda a: a.score, default=None)
        shown = staff_view or quiz.review_allowed(now)
        lines.append(QuizLine(quiz, len(done), counted.score if counted else None,
                              counted.max_score if counted else None,
                              done[-1].submitted_at, shown))
    return lines


def _reflections(person_id: int, start: datetime, end: datetime) -> list[ReflectionLine]:
    rows = db.session.execute(
        sa.select(Reflection, Assignment.title)
        .join(Assignment, Assignment.id == Reflection.assignment_id)
        .where(Reflection.person_id == person_id, Reflection.status != ReflectionStatus.DRAFT,
               Reflection.submitted_at >= start, Reflection.submitted_at < end)
        .order_by(Reflection.submitted_at)).all()
    return [ReflectionLine(title, r.status, r.is_excellent, r.char_count, r.submitted_at)
            for r, title in rows]
