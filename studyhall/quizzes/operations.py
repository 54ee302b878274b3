"""Writes on quizzes: authoring, publishing (which fixes the expected participants and
the question snapshot), closing, grants. Change and flush; the request commits once."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from studyhall import audit
from studyhall.auth.scope import unit_in_scope
from studyhall.bank import mapping
from studyhall.bank.models import Question
from studyhall.bank.queries import get_category_names, select_confidential_category_ids
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person
from studyhall.quizzes import queries
from studyhall.quizzes.models import (
    Attempt,
    AttemptStatus,
    Quiz,
    QuizQuestion,
    QuizRecipient,
    QuizStatus,
)
from studyhall.quizzes.taking import finish_open_attempts, finish_overdue, recompute_deadlines


class QuizError(ValueError):
    """A change the quiz's rules forbid; the message says why."""


#: Settings that may change after publication: none of them invalidates an attempt.
EDITABLE_AFTER_PUBLISH = frozenset({
    "title", "instructions", "closes_at", "pass_mark", "excellent_mark", "review_policy",
    "max_departures",
})


def update_quiz(actor: Person, quiz: Quiz, values: dict) -> None:
    """Apply form values. Once published only EDITABLE_AFTER_PUBLISH may change; a new
    deadline leaves an audit entry."""
    if quiz.status is not QuizStatus.DRAFT:
        locked = sorted(k for k, v in values.items()
                        if k not in EDITABLE_AFTER_PUBLISH and getattr(quiz, k) != v)
        if locked:
            raise QuizError(_l("A published quiz keeps its paper, audience and timing rules; "
                               "only the title, instructions, closing time, marks, review and "
                               "departures allowed can change."))
    if "closes_at" in values and quiz.closes_at and values["closes_at"] != quiz.closes_at \
            and quiz.status is not QuizStatus.DRAFT:
        audit.record(actor, "quiz.closes_at", quiz, before=quiz.closes_at.isoformat(),
                     after=values["closes_at"].isoformat())
    moved = (quiz.status is QuizStatus.PUBLISHED and "closes_at" in values
             and values["closes_at"] != quiz.closes_at)
    for key, value in values.items():
        setattr(quiz, key, value)
    if moved:
        # Attempts in progress follow the new close, earlier or later: each deadline is
        # recomputed by the rule fixed at start (min(start + limit + extra, close)). One
        # whose time already ran out is finished with its saved answers, never revived;
        # so is one whose new deadline (a close moved into the past) has passed.
        now = utcnow()
        finish_overdue(quiz.id, now)
        changed = recompute_deadlines(quiz)
        finish_overdue(quiz.id, now)
        if changed:
            audit.record(actor, "quiz.attempt_deadlines", quiz, attempts=changed,
                         closes_at=quiz.closes_at.isoformat(),
                         rule="min(started_at + time limit + extra minutes, closes_at)")


def rule_category_names(rules: list[dict]) -> list[dict]:
    """Rules as stored on the quiz: the category as its path of names as well as its id,
    since assembly matches on names."""
    names = get_category_names()
    return [{**rule, "category": list(names.get(rule.get("category_id") or 0, ()))}
            for rule in rules]


def publish_quiz(actor: Person, quiz: Quiz, now: datetime | None = None) -> int:
    """Fix the expected participants (those of the audience in the publisher's scope)
    and the question snapshot; returns how many people are expected. Everything is
    checked before anything is written; the recipients are one INSERT ... SELECT."""
    if quiz.status is not QuizStatus.DRAFT:
        raise QuizError(_l("This quiz is already published."))
    if not unit_in_scope(actor, quiz.owner_unit):
        raise QuizError(_l("You can publish only quizzes of units you manage."))
    try:
        queries.check_paper(quiz, actor)
    except queries.PaperError as exc:
        raise QuizError(str(exc)) from exc
    audience = queries.query_audience(quiz, actor).subquery()
    expected = db.session.scalar(sa.select(sa.func.count()).select_from(audience))
    if not expected:
        raise QuizError(_l("Nobody is in the audience: choose units or people."))
    names = get_category_names()
    order = {qid: i for i, qid in enumerate(quiz.paper.get("question_ids", []))}
    db.session.add_all(
        QuizQuestion(quiz_id=quiz.id, question_id=row.id, position=order.get(row.id, 0),
                     type=row.type,
                     config=mapping.to_question(row, names[row.category_id]).to_config())
        for row in db.session.scalars(queries.query_pool(quiz)))
    db.session.execute(sa.insert(QuizRecipient).from_select(
        ["quiz_id", "person_id", "unit_id", "political_status"],
        sa.select(sa.literal(quiz.id), audience.c.id, audience.c.unit_id,
                  audience.c.political_status)))
    quiz.status, quiz.published_at = QuizStatus.PUBLISHED, now or utcnow()
    audit.record(actor, "quiz.publish", quiz, expected=expected)
    return expected


def close_quiz(actor: Person, quiz: Quiz, now: datetime | None = None, *,
               commit_batches: bool = False) -> int:
    """Close now: open attempts are submitted with their saved answers. Returns how many.

    First one UPDATE sets every open attempt's deadline to now, so from then on no answer
    is accepted; then the attempts are finished set-based in batches (taking.py). With
    ``commit_batches`` (the close page) the close and each batch are committed as they
    are done, so SQLite's write lock is held one batch at a time and not for a whole
    county's attempts; should the request die midway, the attempts left are past their
    deadline and close-expired (or the taker's next request) finishes them."""
    now = now or utcnow()
    if quiz.status is not QuizStatus.PUBLISHED:
        raise QuizError(_l("Only a published quiz can be closed."))
    db.session.execute(
        sa.update(Attempt)
        .where(Attempt.quiz_id == quiz.id, Attempt.status == AttemptStatus.IN_PROGRESS,
               Attempt.deadline_at > now)
        .values(deadline_at=now).execution_options(synchronize_session=False))
    quiz.status, quiz.closed_at = QuizStatus.CLOSED, now
    if quiz.closes_at > now:
        audit.record(actor, "quiz.closes_at", quiz, before=quiz.closes_at.isoformat(),
                     after=now.isoformat())
        quiz.closes_at = max(now, quiz.opens_at + timedelta(seconds=1))
    if commit_batches:
        db.session.commit()
    return finish_open_attempts(quiz.id, now, "closed", commit_batches=commit_batches)


def grant(actor: Person, recipient: QuizRecipient, *, attempts: int = 0,
          minutes: int = 0) -> None:
    """Give one person an extra attempt or extra time (audited). Extra time also moves
    the deadline of their attempt in progress, never past the window's close."""
    if attempts < 0 or minutes < 0 or not (attempts or minutes):
        raise QuizError(_l("Give at least one extra attempt or one extra minute."))
    recipient.extra_attempts += attempts
    recipient.extra_minutes += minutes
    audit.record(actor, "quiz.grant", db.session.get(Person, recipient.person_id),
                 quiz_id=recipient.quiz_id, attempts=attempts, minutes=minutes)
    if minutes:
        quiz = db.session.get(Quiz, recipient.quiz_id)
        now = utcnow()
        # An attempt whose time already ran out is finished first, never revived.
        finish_overdue(quiz.id, now, recipient.person_id)
        for attempt in db.session.scalars(sa.select(Attempt).where(
                Attempt.quiz_id == quiz.id, Attempt.person_id == recipient.person_id,
                Attempt.status == AttemptStatus.IN_PROGRESS)):
            before = attempt.deadline_at
            attempt.deadline_at = min(before + timedelta(minutes=minutes), quiz.closes_at)
            if attempt.deadline_at != before:
                audit.record(actor, "attempt.deadline", attempt, before=before.isoformat(),
                             after=attempt.deadline_at.isoformat())


def _require_draft(quiz: Quiz) -> None:
    if quiz.status is not QuizStatus.DRAFT:
        raise QuizError(_l("Once published, a quiz keeps its paper and its audience."))


def create_quiz(actor: Person, values: dict) -> Quiz:
    """A new draft with the given settings; the paper and the audience come next."""
    quiz = Quiz(**values, created_by_id=actor.id, paper={}, audience={})
    db.session.add(quiz)
    db.session.flush()
    return quiz


def add_paper_questions(quiz: Quiz, question_ids: list[int], actor: Person | None = None) -> int:
    """Append bank questions to a fixed paper (a rules paper becomes a fixed one); ids
    already on it are skipped, and so are 保密 ones unless the actor is an administrator
    (others draw them only by rules). Returns how many were added."""
    _require_draft(quiz)
    current = list(quiz.paper.get("question_ids", [])) if quiz.paper.get("kind") == "fixed" \
        else []
    query = sa.select(Question.id).where(Question.id.in_(question_ids), ~Question.is_deleted)
    if actor is not None and not actor.is_admin:
        query = query.where(Question.category_id.not_in(select_confidential_category_ids()))
    live = set(db.session.scalars(query))
    new = [qid for qid in dict.fromkeys(question_ids) if qid in live and qid not in current]
    quiz.paper = {"kind": "fixed", "question_ids": current + new}
    return len(new)


def remove_paper_question(quiz: Quiz, question_id: int) -> None:
    _require_draft(quiz)
    ids = [qid for qid in quiz.paper.get("question_ids", []) if qid != question_id]
    quiz.paper = {"kind": "fixed", "question_ids": ids}


def set_paper_rules(quiz: Quiz, rules: list[dict]) -> None:
    """Replace the paper by assembly rules (category ids; names are added here)."""
    _require_draft(quiz)
    quiz.paper = {"kind": "rules", "rules": rule_category_names(rules)}


def set_audience(quiz: Quiz, audience: dict) -> None:
    """{"unit_ids", "person_ids", "statuses"}; who they are is fixed at publication."""
    _require_draft(quiz)
    quiz.audience = audience
