"""Study and session figures with hand-computed values (f2), over the first half of 2026,
on the people of stats_fixtures_f1's small exam:

    教育局党委 ── 甲校党总支: 王书记 ── 甲校第一支部: 李老师, 钱老师, 孙团员, =HYPERLINK
              └─ 乙校党总支 ────────── 乙校第一支部: 赵老师, 周老师, 吴老师

Sessions held in 2026 H1 (times UTC; Beijing is +8):
  S1 甲校第一支部 支部党员大会 3-10, 75 min, leave NOT in the denominator:
     李 出席, 钱 迟到, 孙 请假 (approved), =HYPERLINK 缺席 → 应到 4, 实到 2, denominator 3
  S2 教育局党委 中心组学习 4-15, 60 min, leave KEPT in the denominator:
     王 出席, 李 请假, 赵 出席 → 应到 3, 实到 2, denominator 3 (2 if leave were left out)
  S3 乙校第一支部 党课 5-20, 60 min: 赵 出席, 周 出席, 吴 缺席 → 应到 3, 实到 2, den. 3
  Outside: a 7-05 session of 甲校第一支部, a cancelled one in May, a draft in June.

  Committee: 3 sessions, 195 min = 3.25 h → "3.3" (half up; half-even would say 3.2);
  应到 10, 实到 6 (出席 5, 迟到 1), 请假 2, 缺席 2, denominator 9 → 参学率 66.7%.
  甲校党总支: 1 session (1.25 h → "1.3"); 应到 6 (S1 ×4, S2 王 李), 实到 3, 请假 2, 缺席 1,
  denominator 5 → 60.0%. 乙校党总支: 1 session (1.0 h); 应到 4, 实到 3, 缺席 1 → 75.0%.
  本级 (the committee itself): S2 organised (1.0 h), nobody attached.
  Plan of 甲校第一支部 for 2026 H1: 支部党员大会 in March (carried out by S1), 主题党日 in May
  (not); a 主题党日 in August is outside → planned 2, carried out 1.

Assignments starting in 2026 H1:
  A1 (甲校第一支部, 3-01): 李 completed, 钱 completed late, 孙 and =HYPERLINK not;
     reading 李 3 min + 钱 2 min → 应学 4, 完成 2 (50.0%), 0.083 h → "0.1",
     per person 5/4 = 1.25 min → "1.3".
  A2 (乙校第一支部, 4-01): 赵 completed → 应学 3, 完成 1.
  Outside: A3 starting 8-01.
  Committee: 2 assignments, 应学 7, 完成 3 → 42.9%, 5 min → per person 0.714 → "0.7".
Reflections: on A1 李 accepted and 优秀, 钱 submitted, 孙 a draft (not submitted); on S3
  赵 accepted → submitted 3, accepted 2, 优秀 1 (甲校 2/1/1, 乙校 1/1/0).
The exam (opened 2026-06-01): 应考 8, 实考 5, 参考率 62.5%, 人均 79.9, 及格率 80%.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from studyhall.extensions import db
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    LeaveState,
    SessionKind,
    SessionStatus,
    StudyPlan,
    StudyPlanItem,
)
from studyhall.study.models import AssignmentRecipient, Reflection, ReflectionStatus
from tests.app.session_fixtures_e2 import add_session
from tests.app.stats_fixtures_f1 import *  # noqa: F401,F403
from tests.app.study_fixtures_s1 import *  # noqa: F401,F403
from tests.app.study_fixtures_s1 import add_progress

H1 = {"from": "2026-01-01", "to": "2026-06-30"}
FIRST_HALF = (date(2026, 1, 1), date(2026, 6, 30))

P = AttendanceStatus.PRESENT
L = AttendanceStatus.LATE
E = AttendanceStatus.EXCUSED
A = AttendanceStatus.ABSENT


def mark(session, statuses: dict) -> None:
    for person, status in statuses.items():
        row = db.session.get(Attendance, (session.id, person.id))
        row.status = status
        if status is AttendanceStatus.EXCUSED:
            row.leave_state = LeaveState.APPROVED
    db.session.commit()


@dataclass
class Activity:
    exam: object
    people: dict
    sessions: dict
    assignments: dict


@pytest.fixture()
def activity(org, small_exam, make_assignment, make_material):
    p = small_exam.people
    branch_a_people = [p["teacher"], p["qian"], p["sun"], p["formula"]]
    branch_b_people = [p["outsider"], p["zhou"], p["wu"]]
    s1 = add_session(org.branch_a.id, branch_a_people, starts_at=datetime(2026, 3, 10, 2),
                     duration=timedelta(minutes=75))
    mark(s1, {p["teacher"]: P, p["qian"]: L, p["sun"]: E, p["formula"]: A})
    s2 = add_session(org.top.id, [p["secretary"], p["teacher"], p["outsider"]],
                     starts_at=datetime(2026, 4, 15, 2), kind=SessionKind.CENTRAL_GROUP,
                     leave_counts_as_expected=True)
    mark(s2, {p["secretary"]: P, p["teacher"]: E, p["outsider"]: P})
    s3 = add_session(org.branch_b.id, branch_b_people, starts_at=datetime(2026, 5, 20, 2),
                     kind=SessionKind.PARTY_LECTURE)
    mark(s3, {p["outsider"]: P, p["zhou"]: P, p["wu"]: A})
    later = add_session(org.branch_a.id, branch_a_people, starts_at=datetime(2026, 7, 5, 2))
    mark(later, {person: P for person in branch_a_people})
    add_session(org.branch_a.id, branch_a_people, starts_at=datetime(2026, 5, 5, 2),
                status=SessionStatus.CANCELLED)
    add_session(org.branch_a.id, branch_a_people, starts_at=datetime(2026, 6, 5, 2),
                status=SessionStatus.DRAFT)

    plan = StudyPlan(unit_id=org.branch_a.id, year=2026, half=1, title="2026年上半年学习计划")
    db.session.add(plan)
    db.session.flush()
    meeting = StudyPlanItem(plan_id=plan.id, kind=SessionKind.BRANCH_MEETING, month=3,
                            topic="学习党章")
    db.session.add_all([meeting,
                        StudyPlanItem(plan_id=plan.id, kind=SessionKind.THEME_DAY, month=5,
                                      topic="主题党日"),
                        StudyPlanItem(plan_id=plan.id, kind=SessionKind.THEME_DAY, month=8,
                                      topic="主题党日")])
    db.session.flush()
    s1.plan_item_id = meeting.id
    db.session.commit()

    material = make_material()
    a1 = make_assignment(materials=[material], now=datetime(2026, 3, 1, 2),
                         audience={"unit_ids": [org.branch_a.id]})
    a2 = make_assignment(materials=[material], now=datetime(2026, 4, 1, 2),
                         audience={"unit_ids": [org.branch_b.id]}, owner=org.top)
    a3 = make_assignment(materials=[material], now=datetime(2026, 8, 1, 2),
                         audience={"unit_ids": [org.branch_a.id]})

    def complete(assignment, person, at):
        db.session.get(AssignmentRecipient, (assignment.id, person.id)).completed_at = at

    complete(a1, p["teacher"], datetime(2026, 3, 1, 12))
    complete(a1, p["qian"], datetime(2026, 3, 5, 12))  # after the due day: late
    complete(a2, p["outsider"], datetime(2026, 4, 1, 12))
    complete(a3, p["teacher"], datetime(2026, 8, 1, 12))
    db.session.commit()
    add_progress(a1, p["teacher"], material, credited_ms=3 * 60_000)
    add_progress(a1, p["qian"], material, credited_ms=2 * 60_000)
    add_progress(a3, p["teacher"], material, credited_ms=60 * 60_000)

    at = datetime(2026, 3, 2)
    db.session.add_all([
        Reflection(person_id=p["teacher"].id, assignment_id=a1.id, body="体会",
                   status=ReflectionStatus.ACCEPTED, submitted_at=at, is_excellent=True),
        Reflection(person_id=p["qian"].id, assignment_id=a1.id, body="体会",
                   status=ReflectionStatus.SUBMITTED, submitted_at=at),
        Reflection(person_id=p["sun"].id, assignment_id=a1.id, body="草稿",
                   status=ReflectionStatus.DRAFT),
        Reflection(person_id=p["outsider"].id, session_id=s3.id, body="体会",
                   status=ReflectionStatus.ACCEPTED, submitted_at=at),
        Reflection(person_id=p["teacher"].id, assignment_id=a3.id, body="体会",
                   status=ReflectionStatus.ACCEPTED, submitted_at=datetime(2026, 8, 2),
                   is_excellent=True),
    ])
    small_exam.quiz.opens_at = datetime(2026, 6, 1)
    db.session.commit()
    return Activity(small_exam.quiz, p, {"s1": s1, "s2": s2, "s3": s3},
                    {"a1": a1, "a2": a2, "a3": a3})
