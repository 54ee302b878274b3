"""Demo sessions for the demo branch (实验小学第一支部): this year's study plan, three held
sessions — a 支部党员大会 with minutes and attendance, a 党课 and a 主题党日 — linked to
the plan, and a 主题党日 starting later today whose check-in is already open, so the demo
teacher can check in.

Everything goes through the sessions operations the pages use (create, publish, leave,
the roster, the record), with the clock moved through their ``now`` parameters; check-in
times are set on the rows, as a scan would have. Statuses come from a seeded generator.
Idempotent: the plan is found by unit and period, each session by unit and topic.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, Unit
from studyhall.sessions import operations, plans
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    SessionKind,
    StudyPlan,
    StudySession,
)

BRANCH = "实验小学第一支部"
K = SessionKind
#: (kind, month in the plan, topic): the branch's plan for the year.
PLAN_TOPICS = {
    K.BRANCH_MEETING: ["学习《中国共产党章程》", "学习《中国共产党纪律处分条例》",
                       "学习《中国共产党支部工作条例（试行）》", "年度组织生活会准备"],
    K.PARTY_LECTURE: ["专题党课：新时代师德师风建设", "专题党课：党的纪律",
                      "专题党课：做“四有”好老师", "专题党课：回顾与展望"],
    K.BRANCH_COMMITTEE: ["研究部署本月支部工作"],
    K.THEME_DAY: ["学习《新时代中小学教师职业行为十项准则》", "志愿服务进社区", "重温入党誓词",
                  "红色教育基地参观学习"],
}
MEETING = "学习《中国共产党支部工作条例（试行）》（示例）"
LECTURE = "专题党课：新时代师德师风建设（示例）"
THEME_DAY = "主题党日：学习《新时代中小学教师职业行为十项准则》（示例）"
UPCOMING = "主题党日：重温入党誓词（示例）"
MINUTES = """## 会议议程

1. 学习《中国共产党支部工作条例（试行）》有关三会一课的规定
2. 通报本支部上季度学习计划执行情况
3. 讨论本季度主题党日安排

## 会议内容

支部书记带领大家学习了条例的有关规定：支部党员大会一般每季度召开1次，支部委员会会议一般每月召开1次，党小组会一般每月召开1次，党支部每月相对固定1天开展主题党日。

组织委员通报了上季度学习计划的执行情况，并提醒各位党员按时参加学习、按要求请假。

## 会议决定

本季度主题党日安排为学习《新时代中小学教师职业行为十项准则》，由组织委员负责准备学习资料。
"""


def seed_demo_sessions() -> int:
    """Create what is missing of the demo sessions; returns how many things were created."""
    branch = db.session.scalar(sa.select(Unit).where(Unit.name == BRANCH))
    secretary = db.session.scalar(sa.select(Person).where(Person.account == "secretary"))
    teacher = db.session.scalar(sa.select(Person).where(Person.account == "teacher"))
    if branch is None or secretary is None or teacher is None:
        return 0
    now = utcnow().replace(second=0, microsecond=0)
    created = 0
    plan, made = _plan(secretary, branch, now)
    created += made
    rng = random.Random(20240104)
    for kind, topic, days_ago, extra in [
        (K.BRANCH_MEETING, MEETING, 20, {"recorder_id": teacher.id}),
        (K.PARTY_LECTURE, LECTURE, 12, {"speaker": "王建华（支部书记）"}),
        (K.THEME_DAY, THEME_DAY, 5, {}),
    ]:
        if _find(branch, topic) is not None:
            continue
        starts_at = _afternoon(now - timedelta(days=days_ago))
        session = _publish(secretary, branch, kind, topic, starts_at, extra)
        _mark(session, secretary, teacher, rng)
        if kind is K.BRANCH_MEETING:
            operations.save_record(session, MINUTES, "本季度主题党日学习十项准则。")
            operations.confirm_record(teacher, session, now=starts_at + timedelta(days=1))
        _link(plan, session)
        created += 1
    if _find(branch, UPCOMING) is None:
        # Later today; check-in opens early so that the demo teacher can try it at once.
        _publish(secretary, branch, K.THEME_DAY, UPCOMING, now + timedelta(hours=2),
                 {"checkin_opens_before": 180, "place": "学校党员活动室"})
        created += 1
    db.session.flush()
    return created


def _plan(actor: Person, branch: Unit, now: datetime) -> tuple[StudyPlan, int]:
    """The plan of the half-year under way: each quota cycle planned once."""
    year, month = plans.local_month(now)
    half = 1 if month <= 6 else 2
    plan = db.session.scalar(sa.select(StudyPlan).where(
        StudyPlan.unit_id == branch.id, StudyPlan.year == year))
    if plan is not None:
        return plan, 0
    plan = plans.create_plan(actor, branch, year, half)
    months = plans.Period(year, half=half).months
    for kind, every in plans.QUOTAS.items():
        topics = PLAN_TOPICS.get(kind)
        if not topics:
            continue
        for number, first in enumerate(months[::every]):
            plans.add_item(plan, kind, first + (1 if every == 3 else 0),
                           topics[(number + 2 * (half - 1)) % len(topics)])
    return plan, 1


def _find(branch: Unit, topic: str) -> StudySession | None:
    return db.session.scalar(sa.select(StudySession).where(
        StudySession.owner_unit_id == branch.id, StudySession.topic == topic))


def _afternoon(day: datetime) -> datetime:
    """15:00 北京时间 on that day."""
    local = plans.to_local(day)
    return plans.to_utc(datetime(local.year, local.month, local.day, 15))


def _publish(actor: Person, branch: Unit, kind: SessionKind, topic: str, starts_at: datetime,
             extra: dict) -> StudySession:
    values = {"kind": kind, "owner_unit_id": branch.id, "topic": topic,
              "starts_at": starts_at, "ends_at": starts_at + timedelta(hours=1, minutes=30),
              "place": "学校会议室", "host_id": actor.id, **extra}
    session = operations.create_session(actor, values)
    operations.publish_session(actor, session, now=starts_at - timedelta(days=3))
    return session


def _mark(session: StudySession, organiser: Person, teacher: Person,
          rng: random.Random) -> None:
    """One on approved leave (asked the day before), one absent, one or two late, the
    rest present — the demo teacher among them — as the organiser's roster would."""
    rows = list(db.session.scalars(sa.select(Attendance).where(
        Attendance.session_id == session.id).order_by(Attendance.person_id)))
    others = [r.person_id for r in rows if r.person_id != teacher.id]
    rng.shuffle(others)
    on_leave, absent, *late = others[:2 + rng.randint(1, 2)]
    start = session.starts_at
    row = db.session.get(Attendance, (session.id, on_leave))
    operations.request_leave(session, row, "外出参加教研活动", now=start - timedelta(days=1))
    operations.decide_leave(organiser, session, row, True, now=start - timedelta(hours=20))
    for person_id in late:
        operations.mark_attendance(organiser, session, person_id, AttendanceStatus.LATE,
                                   now=start + timedelta(minutes=10))
    operations.mark_attendance(organiser, session, absent, AttendanceStatus.ABSENT,
                               now=start + timedelta(minutes=30))
    operations.mark_all_present(organiser, session, now=start + timedelta(minutes=30))
    db.session.execute(sa.update(Attendance).where(
        Attendance.session_id == session.id, Attendance.status == AttendanceStatus.PRESENT)
        .values(method="qr", checked_in_at=start - timedelta(minutes=5)))


def _link(plan: StudyPlan, session: StudySession) -> None:
    """Link the session to the plan's item of its kind closest to its month."""
    year, month = plans.local_month(session.starts_at)
    if year != plan.year:
        return
    taken = set(db.session.scalars(sa.select(StudySession.plan_item_id).where(
        StudySession.plan_item_id.is_not(None))))
    items = [i for i in plan.items if i.kind is session.kind and i.id not in taken]
    if items:
        item = min(items, key=lambda i: abs(i.month - month))
        plans.link_session(plan, item, session)
