"""学习档案: a person's materials, quizzes and reflections over a period, for the person
and for staff whose scope holds them (404 otherwise), printable on A4."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.quizzes.models import Attempt, AttemptStatus, ReviewPolicy
from studyhall.stats.periods import DatePeriod
from studyhall.study import record
from studyhall.study.models import ReadingProgress, Reflection, ReflectionStatus
from tests.app.study_fixtures_s2 import *  # noqa: F403  (fixtures)


def completed_reading(assignment, person, material, at: datetime, seconds: int):
    ms = int((at - datetime(1970, 1, 1)).total_seconds() * 1000)
    db.session.add(ReadingProgress(
        assignment_id=assignment.id, person_id=person.id, material_id=material.id,
        version_id=material.current_version_id, opened_at=at - timedelta(hours=1),
        opened_ms=ms - 3_600_000, last_beat_ms=ms, credited_ms=seconds * 1000,
        completed_at=at))
    db.session.commit()


def submitted_attempt(quiz, person, at: datetime, score: str, number: int = 1):
    db.session.add(Attempt(quiz_id=quiz.id, person_id=person.id, number=number,
                           status=AttemptStatus.SUBMITTED, started_at=at - timedelta(minutes=20),
                           deadline_at=at + timedelta(minutes=10), submitted_at=at,
                           score=Decimal(score), max_score=Decimal(100), seed="s"))
    db.session.commit()


@pytest.fixture()
def history(org, make_material, make_assignment, make_quiz):
    """The teacher's year: a material read in March, one in the previous December, an exam
    with two attempts (70, then 85), an accepted excellent reflection."""
    this_year = utcnow().year
    march = datetime(this_year, 3, 10, 2, 0)
    material, older = make_material("十项准则"), make_material("旧资料")
    assignment = make_assignment([material, older], requires_reflection=True)
    completed_reading(assignment, org.teacher, material, march, 754)
    completed_reading(assignment, org.teacher, older, datetime(this_year - 1, 12, 20, 2), 300)
    quiz = make_quiz(opens_at=march - timedelta(days=1), closes_at=march + timedelta(days=1))
    submitted_attempt(quiz, org.teacher, march, "70")
    submitted_attempt(quiz, org.teacher, march + timedelta(hours=1), "85", number=2)
    db.session.add(Reflection(person_id=org.teacher.id, assignment_id=assignment.id,
                              status=ReflectionStatus.ACCEPTED, is_excellent=True,
                              body="心得", char_count=820, submitted_at=march))
    db.session.commit()
    return type("History", (), {"quiz": quiz, "year": this_year})


def test_the_person_sees_their_year(client, login, org, history):
    login(org.teacher)
    html = client.get(f"/study/record?start={history.year}-01-01&end={history.year}-12-31"
                      ).get_data(as_text=True)
    assert "十项准则" in html and "12 min 34 s" in html
    assert "旧资料" not in html                      # last December
    assert "党纪党规知识测试" in html and "85 / 100" in html and "Passed" in html
    assert "820 characters" in html and "Excellent" in html and "Accepted" in html
    assert ("1 materials studied, 12 min 34 s of reading; 1 exams taken; 0 study sessions "
            "attended; 1 reflections submitted, 1 accepted, 1 marked excellent") in html


def test_sessions_attended_by_kind(client, login, org, history):
    from studyhall.sessions.models import (
        Attendance,
        AttendanceStatus,
        SessionKind,
        SessionStatus,
        StudySession,
    )

    def session(kind, day, status=SessionStatus.PUBLISHED, marked=AttendanceStatus.PRESENT):
        held = StudySession(kind=kind, status=status, owner_unit_id=org.branch_a.id,
                            topic="学习", starts_at=datetime(history.year, 4, day, 7),
                            ends_at=datetime(history.year, 4, day, 9), checkin_secret="s")
        db.session.add(held)
        db.session.flush()
        db.session.add(Attendance(session_id=held.id, person_id=org.teacher.id,
                                  unit_id=org.branch_a.id,
                                  political_status=org.teacher.political_status,
                                  status=marked))

    session(SessionKind.BRANCH_MEETING, 1)
    session(SessionKind.BRANCH_MEETING, 8, marked=AttendanceStatus.LATE)
    session(SessionKind.BRANCH_MEETING, 15, marked=AttendanceStatus.EXCUSED)
    session(SessionKind.PARTY_LECTURE, 20, marked=AttendanceStatus.ABSENT)
    session(SessionKind.THEME_DAY, 25, status=SessionStatus.CANCELLED)
    db.session.commit()
    period = DatePeriod(date(history.year, 1, 1), date(history.year, 12, 31))
    found = record.get_learning_record(org.teacher, period, staff_view=False, now=utcnow())
    assert [(line.kind, line.expected, line.attended, line.excused, line.absent)
            for line in found.attendance] == [(SessionKind.BRANCH_MEETING, 3, 2, 1, 0),
                                              (SessionKind.PARTY_LECTURE, 1, 0, 0, 1)]
    assert found.sessions_attended == 2
    login(org.teacher)
    html = client.get(f"/study/record?start={history.year}-01-01&end={history.year}-12-31"
                      ).get_data(as_text=True)
    assert "2 study sessions attended" in html


def test_the_period_is_in_beijing_time(app, org, history, make_material, make_assignment):
    """00:30 on 1 January in Beijing is 16:30 on 31 December in UTC: it is the new year's."""
    material = make_material("元旦")
    assignment = make_assignment([material])
    completed_reading(assignment, org.teacher, material,
                      datetime(history.year - 1, 12, 31, 16, 30), 60)
    period = DatePeriod(date(history.year, 1, 1), date(history.year, 1, 1))
    found = record.get_learning_record(org.teacher, period, staff_view=False, now=utcnow())
    assert [line.material_title for line in found.materials] == ["元旦"]
    last_year = DatePeriod(date(history.year - 1, 12, 31), date(history.year - 1, 12, 31))
    found = record.get_learning_record(org.teacher, last_year, staff_view=False, now=utcnow())
    assert found.materials == []


def test_a_score_not_yet_published_stays_hidden_from_the_person(client, login, login_as, org,
                                                                history):
    history.quiz.review_policy = ReviewPolicy.AFTER_CLOSE
    history.quiz.closes_at = utcnow() + timedelta(days=1)
    db.session.commit()
    login(org.teacher)
    url = f"/study/record?start={history.year}-01-01&end={history.year}-12-31"
    html = client.get(url).get_data(as_text=True)
    assert "Not published yet" in html and "85 / 100" not in html
    login_as(org.secretary)
    html = client.get(f"/study/record/{org.teacher.id}?start={history.year}-01-01"
                      f"&end={history.year}-12-31").get_data(as_text=True)
    assert "85 / 100" in html


def test_the_last_attempt_counts_when_the_quiz_says_so(app, org, history):
    from studyhall.quizzes.models import Counting

    history.quiz.counting = Counting.LAST
    submitted_attempt(history.quiz, org.teacher,
                      datetime(history.year, 3, 10, 5), "60", number=3)
    period = DatePeriod(date(history.year, 1, 1), date(history.year, 12, 31))
    found = record.get_learning_record(org.teacher, period, staff_view=True, now=utcnow())
    [line] = found.exams
    assert line.attempts == 3 and line.score == Decimal(60) and line.passed is True


def test_who_may_see_a_record(client, login_as, org, history, make_person):
    from studyhall.org.models import Role

    other = make_person("sec-b", unit=org.gen_b, role=Role.SECRETARY, manages=[org.gen_b])
    teacher_url = f"/study/record/{org.teacher.id}"
    assert client.get("/study/record").status_code == 302      # to the login page
    login_as(org.teacher)
    assert client.get(teacher_url).status_code == 200
    assert client.get(f"/study/record/{org.outsider.id}").status_code == 404
    assert client.get(f"/study/record/{org.secretary.id}").status_code == 404
    login_as(org.secretary)
    assert client.get(teacher_url).status_code == 200
    assert client.get(f"/study/record/{org.outsider.id}").status_code == 404
    assert client.get("/study/record/999999").status_code == 404
    login_as(other)
    assert client.get(teacher_url).status_code == 404
    assert client.get(f"/study/record/{org.outsider.id}").status_code == 200
    login_as(org.admin)
    assert client.get(teacher_url).status_code == 200


def test_the_record_is_in_the_menu_and_behind_each_reader(client, login, org, study):
    login(org.teacher)
    assert "/study/record" in client.get("/").get_data(as_text=True)
    login_page = client.get(f"/manage/study/assignments/{study.assignment.id}/readers")
    assert login_page.status_code == 403
    client.post("/logout")
    login(org.secretary)
    readers = client.get(f"/manage/study/assignments/{study.assignment.id}/readers")
    assert f"/study/record/{org.teacher.id}" in readers.get_data(as_text=True)


def test_the_print_stylesheet_is_linked_on_the_record_only(client, login, org, study):
    login(org.teacher)
    html = client.get("/study/record").get_data(as_text=True)
    assert re.search(r'css/print.css(\?v=\w+)?" media="print"', html) and "data-print" in html
    page = client.get(f"/study/assignments/{study.assignment.id}/materials/"
                      f"{study.material.id}").get_data(as_text=True)
    assert "print.css" not in page


@pytest.mark.parametrize(("start", "end", "expected"), [
    (None, None, (date(2026, 1, 1), date(2026, 5, 20))),
    ("2025-07-01", "2025-12-31", (date(2025, 7, 1), date(2025, 12, 31))),
    ("2025-12-31", "2025-07-01", (date(2025, 7, 1), date(2025, 12, 31))),
    ("garbage", "2026-13-40", (date(2026, 1, 1), date(2026, 5, 20))),
    ("2000-01-01", "2026-01-01", (date(2000, 1, 1), date(2000, 1, 1) + timedelta(
        days=record.MAX_DAYS))),
])
def test_periods(start, end, expected):
    period = record.parse_period(start, end, date(2026, 5, 20))
    assert (period.start, period.end) == expected


def test_the_record_does_not_query_per_line(client, login, org, history, make_material,
                                            make_assignment, make_quiz, count_queries):
    url = f"/study/record?start={history.year}-01-01&end={history.year}-12-31"
    login(org.teacher)
    with count_queries() as few:
        client.get(url)
    more = [make_material(f"资料{n}") for n in range(4)]
    assignment = make_assignment(more)
    for n, material in enumerate(more):
        completed_reading(assignment, org.teacher, material,
                          datetime(history.year, 4, 1 + n, 2), 100)
    with count_queries() as many:
        html = client.get(url).get_data(as_text=True)
    assert len(many) == len(few), many
    assert html.count("资料3") == 1
