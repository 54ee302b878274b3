"""Demo quizzes over the sample bank, so that a newcomer sees both sides: an open exam and
a practice quiz for the demo teacher's branch, and a closed exam with results.

Everything goes through the same operations as the pages (publishing, taking, grading),
with the clock moved through their ``now`` parameters. Idempotent: each quiz is found by
its title first. Answers come from a seeded generator, so every installation shows the
same results.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from studyhall.bank.models import QuestionCategory
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, Unit
from studyhall.quizzes import grading, operations, taking
from studyhall.quizzes.models import AttemptQuestion, Quiz, QuizMode, QuizRecipient
from studyhall.quizzes.paper import item_of

BRANCH = "实验小学第一支部"
OPEN_EXAM = "党章党规知识测试（示例）"
PRACTICE = "每日一练（示例）"
CLOSED_EXAM = "师德师风知识考试（示例）"
#: (type, count) of an exam paper: 24 questions, scaled to 100 points.
EXAM_MIX = [("single", 10), ("multiple", 5), ("true_false", 5), ("fill_blank", 3),
            ("short_answer", 1)]
RIGHT_SHARE = 0.88
ABSENT = 3


def seed_demo_quizzes() -> int:
    """Create the demo quizzes that are missing; returns how many were created. Needs the
    demo organisation and the sample bank (studyhall.demo.seed_demo) first."""
    branch = db.session.scalar(sa.select(Unit).where(Unit.name == BRANCH))
    admin = db.session.scalar(sa.select(Person).where(Person.account == "admin"))
    if branch is None or admin is None:
        return 0
    owner = branch.parent or branch
    existing = set(db.session.scalars(sa.select(Quiz.title).where(
        Quiz.title.in_([OPEN_EXAM, PRACTICE, CLOSED_EXAM]))))
    now = utcnow().replace(second=0, microsecond=0)
    created = 0
    if OPEN_EXAM not in existing:
        quiz = _quiz(admin, owner, branch, OPEN_EXAM, "党章党规", EXAM_MIX, now,
                     now + timedelta(days=30), time_limit_minutes=30)
        operations.publish_quiz(admin, quiz, now=now)
        created += 1
    if PRACTICE not in existing:
        quiz = _quiz(admin, owner, branch, PRACTICE, "党建工作",
                     [("single", 5), ("true_false", 5)], now, now + timedelta(days=365),
                     mode=QuizMode.PRACTICE, attempts_allowed=1)
        operations.publish_quiz(admin, quiz, now=now)
        created += 1
    if CLOSED_EXAM not in existing:
        _closed_exam_with_results(admin, owner, branch, now)
        created += 1
    db.session.flush()
    return created


def _quiz(actor, owner: Unit, branch: Unit, title: str, category: str, mix, opens_at,
          closes_at, **settings) -> Quiz:
    category_id = db.session.scalar(sa.select(QuestionCategory.id).where(
        QuestionCategory.name == category, QuestionCategory.parent_id.is_(None)))
    values = {"title": title, "owner_unit_id": owner.id, "opens_at": opens_at,
              "closes_at": closes_at, "mode": QuizMode.EXAM,
              "instructions": "本测试为示例数据，题目来自示例题库。", **settings}
    quiz = operations.create_quiz(actor, values)
    operations.set_paper_rules(quiz, [{"category_id": category_id, "type": kind,
                                       "difficulty": None, "count": count, "points": None}
                                      for kind, count in mix])
    operations.set_audience(quiz, {"unit_ids": [branch.id], "person_ids": [], "statuses": []})
    return quiz


def _closed_exam_with_results(actor, owner: Unit, branch: Unit, now) -> Quiz:
    """Published with a window in the past, sat by most of the branch inside it (the
    clock moved through ``now``), one 简答 graded, then closed."""
    rng = random.Random(20240102)
    opens_at, closes_at = now - timedelta(days=20), now - timedelta(days=10)
    quiz = _quiz(actor, owner, branch, CLOSED_EXAM, "师德师风", EXAM_MIX, opens_at, closes_at,
                 time_limit_minutes=30)
    operations.publish_quiz(actor, quiz, now=opens_at)
    recipients = list(db.session.scalars(sa.select(QuizRecipient).where(
        QuizRecipient.quiz_id == quiz.id).order_by(QuizRecipient.person_id)))
    absent = {r.person_id for r in rng.sample(recipients, min(ABSENT, len(recipients) - 1))}
    graded = False
    for number, recipient in enumerate(r for r in recipients if r.person_id not in absent):
        start = opens_at + timedelta(days=1 + number % 5, minutes=7 * number)
        attempt = taking.start_attempt(quiz, recipient, now=start)
        for row in attempt.questions:
            taking.save_answer(attempt, row.position, _plausible_answer(row, rng), None,
                               attempt.session_token, now=start + timedelta(minutes=1))
        taking.finish_attempt(attempt, start + timedelta(minutes=18))
        if not graded:
            graded = _grade_short_answer(actor, attempt)
    operations.close_quiz(actor, quiz, now=closes_at)
    return quiz


def _plausible_answer(row: AttemptQuestion, rng: random.Random):
    """Mostly right, in the letters the taker saw."""
    item = item_of(row)
    answer, right = item.displayed_answer, rng.random() < RIGHT_SHARE
    letters = "ABCDEFGH"[:len(item.option_order)]
    if row.type == "single":
        return answer if right else rng.choice([x for x in letters if x != answer] or [answer])
    if row.type == "multiple":
        return list(answer) if right else list(answer[:-1] or letters[:1])
    if row.type == "true_false":
        return answer if right else not answer
    if row.type == "fill_blank":
        return [alternatives[0] for alternatives in answer] if right else ["不清楚"]
    return answer if right else "按照要求认真学习，严格遵守。"


def _grade_short_answer(actor, attempt) -> bool:
    rows = [r for r in attempt.questions if r.type == "short_answer" and r.response]
    if not rows:
        return False
    row = rows[0]
    score = (row.points * Decimal("0.8")).quantize(Decimal("0.5"))
    grading.grade_answer(actor, row, score, None)
    return True
