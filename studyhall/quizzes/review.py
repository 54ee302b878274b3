"""Who may see the keys (correct answers) and 解析 of a quiz's questions, and when.

The one place that decides it (ARCHITECTURE.md invariant 4; issue 7 items 1 and 2).
Every page or JSON reply that could show a key — the result page, practice feedback,
a participant's answers, the grading page — asks :func:`key_view` and shows a key only
where ``KeyView.shows(question_id)`` says so. The rules, for one viewer, one quiz, now:

1. While the viewer could still change a counted score on this quiz — an attempt of
   theirs is open, or the window is open and they have attempts left — none of its keys,
   on any page (a retake would copy them).
2. A taker sees keys only when the quiz's review policy allows it (practice: at once).
3. 保密 questions (their category or an ancestor is marked, bank/queries.py): only
   administrators ever see their keys, and nobody else sees their per-question scores
   either (a score next to the answer given is the key).
4. A question of an exam that is open, to a person expected in that exam: withheld until
   the exam closes, whichever quiz shows it (practice feedback, another quiz's review, a
   staff page of a quiz of one's own over the same bank questions).

Administrators on staff pages see every key: the bank is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from studyhall.bank.models import Question
from studyhall.bank.queries import select_confidential_category_ids
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person
from studyhall.quizzes.models import (
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Quiz,
    QuizMode,
    QuizQuestion,
    QuizRecipient,
    QuizStatus,
)
from studyhall.quizzes.paper import item_of

#: Why no key of the quiz is shown, by rule.
NOT_YET = _l("Answers and explanations are not shown yet.")
RETAKE = _l("You may try again. The answers and explanations are shown once you have used "
            "your attempts or the quiz closes.")
IN_PROGRESS = _l("You have an attempt in progress: the answers and explanations are shown "
                 "after it is submitted.")
SITTING = _l("You are expected in this quiz and can still change your score, so its answers "
             "and explanations are hidden from you until then.")
#: Why one question's key is withheld.
CONFIDENTIAL = _l("Confidential question: its answer and explanation are shown to "
                  "administrators only.")
IN_OPEN_EXAM = _l("This question belongs to an exam in progress; its answer and explanation "
                  "can be seen after the exam ends.")


@dataclass(frozen=True)
class KeyView:
    """What of a quiz's keys one viewer may see now."""

    #: Why no key of this quiz is shown at all ("" when keys are shown, but ``withheld``).
    hidden: str = ""
    #: Questions (bank ids) whose key, 解析 and per-question score are withheld anyway.
    withheld: frozenset[int] = frozenset()
    #: Those of ``withheld`` that are 保密 (the others belong to an open exam).
    confidential: frozenset[int] = frozenset()

    def shows(self, question_id: int) -> bool:
        return not self.hidden and question_id not in self.withheld

    def note(self, question_id: int) -> str:
        """Why this question's key is not shown ("" when it is)."""
        if self.hidden:
            return str(self.hidden)
        if question_id in self.confidential:
            return str(CONFIDENTIAL)
        return str(IN_OPEN_EXAM) if question_id in self.withheld else ""


def _could_still_score(person: Person, quiz: Quiz, now: datetime) -> str:
    """Rule 1: why the person could still change their counted score ("" if not)."""
    if quiz.mode is QuizMode.PRACTICE:
        return ""
    recipient = db.session.get(QuizRecipient, (quiz.id, person.id))
    if recipient is None:
        return ""
    used, open_id = db.session.execute(
        sa.select(sa.func.count(Attempt.id),
                  sa.func.max(sa.case((Attempt.status == AttemptStatus.IN_PROGRESS,
                                       Attempt.id))))
        .where(Attempt.quiz_id == quiz.id, Attempt.person_id == person.id)).one()
    if open_id is not None:
        return "open"
    if quiz.is_open(now) and quiz.attempts_allowed + recipient.extra_attempts > used:
        return "retake"
    return ""


def select_withheld(viewer: Person, now: datetime, *, except_quiz_id: int | None = None):
    """Rules 3 and 4 as SQL: (question id, why) of every question withheld from the
    viewer now, why being "confidential" or "exam". Nothing for administrators."""
    if viewer.is_admin:
        return None
    confidential = sa.select(Question.id.label("question_id"),
                             sa.literal("confidential").label("why")).where(
        Question.category_id.in_(select_confidential_category_ids()))
    in_exam = (sa.select(QuizQuestion.question_id, sa.literal("exam").label("why"))
               .join(Quiz, Quiz.id == QuizQuestion.quiz_id)
               .join(QuizRecipient, sa.and_(QuizRecipient.quiz_id == Quiz.id,
                                            QuizRecipient.person_id == viewer.id))
               .where(Quiz.mode == QuizMode.EXAM, Quiz.status == QuizStatus.PUBLISHED,
                      Quiz.opens_at <= now, Quiz.closes_at > now))
    if except_quiz_id is not None:
        in_exam = in_exam.where(Quiz.id != except_quiz_id)
    return sa.union_all(confidential, in_exam).subquery()


def _withheld(viewer: Person, question_ids, now: datetime, except_quiz_id: int | None):
    ids = list(set(question_ids))
    withheld = select_withheld(viewer, now, except_quiz_id=except_quiz_id)
    if withheld is None or not ids:
        return frozenset(), frozenset()
    rows = db.session.execute(sa.select(withheld.c.question_id, withheld.c.why)
                              .where(withheld.c.question_id.in_(ids))).all()
    return (frozenset(r.question_id for r in rows),
            frozenset(r.question_id for r in rows if r.why == "confidential"))


def key_view(viewer: Person, quiz: Quiz, question_ids, now: datetime | None = None, *,
             staff: bool = False) -> KeyView:
    """Which keys and 解析 of ``quiz``'s questions (``question_ids``, bank ids) ``viewer``
    may see now: as its taker (``staff`` False: the review policy applies) or on a staff
    page of it (``staff`` True: administrators see everything there)."""
    now = now or utcnow()
    if staff and viewer.is_admin:
        return KeyView()
    hidden = ""
    if not staff and not quiz.review_allowed(now):
        hidden = NOT_YET
    elif why := _could_still_score(viewer, quiz, now):
        hidden = SITTING if staff else (IN_PROGRESS if why == "open" else RETAKE)
    withheld, confidential = _withheld(viewer, question_ids, now, quiz.id)
    return KeyView(str(hidden), withheld, confidential)


def feedback(row: AttemptQuestion, policy: str) -> tuple[dict, object]:
    """Practice feedback on one answer — right or wrong, the answer in the letters shown,
    解析 and source — and the score it earns (None for a 简答, which a person reads).
    Only for a row whose key ``key_view`` shows."""
    item = item_of(row)
    result = item.grade(row.response, multiple_policy=policy)
    answer = item.displayed_answer
    if isinstance(answer, bool):
        answer = _("True") if answer else _("False")
    elif isinstance(answer, tuple):
        answer = "；".join("/".join(a) if isinstance(a, tuple) else a for a in answer)
    reply = {"correct": result.is_correct, "manual": result.needs_manual, "answer": answer,
             "explanation": item.question.explanation, "source": item.question.source}
    return reply, None if result.needs_manual else result.score


def checked_feedback(viewer: Person, quiz: Quiz, rows, now: datetime | None = None) -> dict:
    """For the paper of a practice attempt after a reload: position → the feedback of each
    saved answer, or {"withheld": message} where its key is withheld now (an exam in
    progress, 保密). Unanswered questions are left out. Nothing for an exam."""
    rows = [row for row in rows if row.response is not None]
    if not quiz.is_practice or not rows:
        return {}
    keys = key_view(viewer, quiz, [row.question_id for row in rows], now)
    return {row.position: feedback(row, quiz.multiple_policy)[0]
            if keys.shows(row.question_id) else {"withheld": keys.note(row.question_id)}
            for row in rows}
