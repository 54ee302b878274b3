"""A small exam with hand-computed figures, for the statistics and export tests.

    教育局党委 (committee)
    ├── 甲校党总支: 王书记 (the secretary, attached to the general branch itself) 90
    │   └── 甲校第一支部: 李老师 100 · 钱老师 80 · 孙团员 59.5 (团员) · =HYPERLINK 缺考
    └── 乙校党总支
        └── 乙校第一支部: 赵老师 70 (群众) · 周老师 缺考 · 吴老师 缺考

应考 8, 实考 5, 缺考 3, 参考率 5/8 = 62.5%; total 399.5: 人均分 79.90 over those who sat,
49.94 over all expected (49.9375, absentees as 0); 及格 4 (80.0%), 优秀 2 (40.0%);
highest 100, lowest 59.5, median 80; SD √(1020.2 / 4) = 15.97.
甲校党总支: 应考 5, 实考 4, total 329.5, 人均 82.375 → 82.38 (a tie, rounded up).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import PoliticalStatus
from studyhall.quizzes import taking
from studyhall.quizzes.models import Attempt, AttemptQuestion

#: Seconds the fixture's attempts take: 18 min 5 s.
TAKES = 18 * 60 + 5


def sit(quiz, person, score: str, *, pending: bool = False, item_scores=None,
        responses=None, now=None):
    """Start and submit an attempt, then give it ``score`` (and, when given, these item
    scores and responses, position by position)."""
    now = now or utcnow() - timedelta(minutes=1)
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, person), now=now)
    taking.finish_attempt(attempt, now + timedelta(seconds=TAKES))
    attempt.score = Decimal(score)
    attempt.pending_manual = pending
    rows = {row.position: row for row in db.session.scalars(
        db.select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id))}
    for position, value in enumerate(item_scores or [], start=1):
        rows[position].score = Decimal(value)
    for position, response in (responses or {}).items():
        rows[position].response = response
    db.session.commit()
    return attempt


@dataclass
class SmallExam:
    quiz: object
    people: dict


@pytest.fixture()
def small_exam(org, make_person, make_quiz):
    people = {
        "secretary": org.secretary, "teacher": org.teacher,
        "qian": make_person("a2", unit=org.branch_a, name="钱老师"),
        "sun": make_person("a3", unit=org.branch_a, name="孙团员",
                           status=PoliticalStatus.CYL_MEMBER),
        "formula": make_person("a4", unit=org.branch_a, name="=HYPERLINK(\"x\")"),
        "outsider": org.outsider,
        "zhou": make_person("b2", unit=org.branch_b, name="周老师"),
        "wu": make_person("b3", unit=org.branch_b, name="吴老师"),
    }
    quiz = make_quiz(owner_unit_id=org.top.id,
                     audience={"unit_ids": [org.gen_a.id, org.gen_b.id]})
    sit(quiz, people["secretary"], "90")
    sit(quiz, people["teacher"], "100")
    sit(quiz, people["qian"], "80")
    sit(quiz, people["sun"], "59.5")
    sit(quiz, people["outsider"], "70")
    return SmallExam(quiz, people)


def attempt_of(quiz, person) -> Attempt:
    return db.session.scalar(db.select(Attempt).where(Attempt.quiz_id == quiz.id,
                                                      Attempt.person_id == person.id))
