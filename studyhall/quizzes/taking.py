"""Taking a quiz: start, save, submit, finish. The server's clock rules (ARCHITECTURE.md
invariants 1–4): the deadline is fixed at start, saves after it are refused, an expired
attempt is finished with its saved answers, and submitting twice grades once."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles

import question_bank as qb
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person
from studyhall.quizzes import paper as papers
from studyhall.quizzes.models import (
    Attempt,
    AttemptEvent,
    AttemptQuestion,
    AttemptStatus,
    Quiz,
    QuizMode,
    QuizQuestion,
    QuizRecipient,
    QuizStatus,
)

MAX_TEXT_ANSWER = 10_000
MAX_OPTIONS = 8  # A to H


class TakingError(ValueError):
    """Why an attempt cannot start or an answer cannot be saved; ``code`` is for JSON."""

    def __init__(self, message, code: str = "refused"):
        super().__init__(message)
        self.code = code


def _core(statement, params=None):
    """Run a Core statement on the session's connection, in the session's transaction,
    flushing pending ORM changes first as session.execute would. It skips the ORM's
    execution path (for DML, bulk persistence), which was about a tenth of the CPU of the
    statements that a start and a submit run under SQLite's write lock."""
    db.session.flush()
    return db.session.connection().execute(statement, params)


def attempts_left(quiz: Quiz, recipient: QuizRecipient) -> int:
    used = _my_attempts(quiz.id, recipient.person_id)[0]
    return quiz.attempts_allowed + recipient.extra_attempts - used


def open_attempt_of(quiz_id: int, person_id: int) -> Attempt | None:
    return db.session.scalar(sa.select(Attempt).where(
        Attempt.quiz_id == quiz_id, Attempt.person_id == person_id,
        Attempt.status == AttemptStatus.IN_PROGRESS))


def _my_attempts(quiz_id: int, person_id: int):
    """(attempts made, highest number, id of the open one) in one query."""
    return db.session.execute(
        sa.select(sa.func.count(Attempt.id), sa.func.max(Attempt.number),
                  sa.func.max(sa.case((Attempt.status == AttemptStatus.IN_PROGRESS,
                                       Attempt.id))))
        .where(Attempt.quiz_id == quiz_id, Attempt.person_id == person_id)).one()


@dataclass
class Draw:
    """A paper drawn for one person and not yet stored. Drawing only reads, so on SQLite
    it needs no write lock; ``store_attempt`` checks again under the lock."""

    quiz_id: int
    person_id: int
    open_id: int | None = None
    allowed: int | None = None  # attempts allowed in all; None for practice
    number: int = 1
    seed: str = ""
    started_at: datetime | None = None
    deadline_at: datetime | None = None
    #: start + time limit + the person's extra minutes; None without a limit.
    limit_ends_at: datetime | None = None
    max_score: Decimal = Decimal(0)
    rows: list[dict] = field(default_factory=list)


class json_from_text(sa.sql.functions.FunctionElement):
    """SQL: the JSON value whose text is given, stored as that text: the text itself on
    SQLite (which keeps JSON as text; ``CAST(… AS JSON)`` there would take NUMERIC
    affinity and store 0), ``CAST(… AS JSON)`` on PostgreSQL."""

    type = sa.JSON()
    name = "json_from_text"
    inherit_cache = True


@compiles(json_from_text, "sqlite")
def _json_from_text_sqlite(element, compiler, **kw):
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(json_from_text)
def _json_from_text_default(element, compiler, **kw):
    return f"CAST({compiler.process(next(iter(element.clauses)), **kw)} AS JSON)"


#: The quiz's snapshot as plain rows (Core): the ORM's 20 objects were a tenth of a start.
#: The configs as their stored JSON text: a start copies them into the paper's rows as
#: they are (decoding and encoding 20 of them again was ~0.3 ms, half under the lock), and
#: parses a question only when its text is not the one parsed before.
_SNAPSHOT_ROWS = (sa.select(QuizQuestion.__table__.c.question_id, QuizQuestion.__table__.c.position,
                            QuizQuestion.__table__.c.type,
                            sa.cast(QuizQuestion.__table__.c.config, sa.Text)
                            .label("config_text"))
                  .where(QuizQuestion.__table__.c.quiz_id == sa.bindparam("quiz_id")))


def draw_attempt(quiz: Quiz, recipient: QuizRecipient, now: datetime | None = None) -> Draw:
    """Check that the person may start, and draw their paper; the clock starts now."""
    used, last_number, open_id = _my_attempts(quiz.id, recipient.person_id)
    return _draw(quiz, recipient.person_id, recipient.extra_attempts, recipient.extra_minutes,
                 used, last_number, open_id, now)


_q, _r, _a = Quiz.__table__.c, QuizRecipient.__table__.c, Attempt.__table__.c
_theirs = sa.and_(_a.quiz_id == _q.id, _a.person_id == _r.person_id)
#: A start's read before the write lock, in one statement and as a plain row (it was
#: three reads building ORM objects: the quiz, the recipient, the person's attempts):
#: what the draw needs of the quiz, the person's extra attempts and minutes, and their
#: attempts (how many, the highest number, the open one). No row: not their quiz.
START_CONTEXT = (
    sa.select(_q.id, _q.status, _q.mode, _q.opens_at, _q.closes_at, _q.attempts_allowed,
              _q.time_limit_minutes, _q.paper, _q.shuffle_questions, _q.shuffle_options,
              _q.total_points, _r.extra_attempts, _r.extra_minutes,
              sa.select(sa.func.count()).where(_theirs).scalar_subquery().label("used"),
              sa.select(sa.func.max(_a.number)).where(_theirs).scalar_subquery()
              .label("last_number"),
              sa.select(_a.id).where(_theirs, _a.status == AttemptStatus.IN_PROGRESS)
              .scalar_subquery().label("open_id"))
    .join(QuizRecipient.__table__, sa.and_(_r.quiz_id == _q.id,
                                           _r.person_id == sa.bindparam("person_id")))
    .where(_q.id == sa.bindparam("quiz_id")))


def start_context(quiz_id: int, person_id: int) -> sa.Row | None:
    """START_CONTEXT's row for this person and quiz; None when it is not theirs to take
    (no such quiz, not in its audience, or a draft), as load_quiz_for_taker_or_404."""
    row = _core(START_CONTEXT, {"quiz_id": quiz_id, "person_id": person_id}).first()
    return None if row is None or row.status is QuizStatus.DRAFT else row


def draw_from_context(context: sa.Row, person_id: int, now: datetime | None = None) -> Draw:
    """draw_attempt from START_CONTEXT's row (the request's start)."""
    return _draw(context, person_id, context.extra_attempts, context.extra_minutes,
                 context.used, context.last_number, context.open_id, now)


def _draw(quiz: Quiz | sa.Row, person_id: int, extra_attempts: int, extra_minutes: int,
          used: int, last_number: int | None, open_id: int | None,
          now: datetime | None) -> Draw:
    now = now or utcnow()
    draw = Draw(quiz.id, person_id, open_id)
    if draw.open_id is not None:
        return draw
    if not (quiz.status is QuizStatus.PUBLISHED and quiz.opens_at <= now < quiz.closes_at):
        raise TakingError(_l("This quiz is not open now."), "closed")
    if quiz.mode is not QuizMode.PRACTICE:
        draw.allowed = quiz.attempts_allowed + extra_attempts
        if used >= draw.allowed:
            raise TakingError(_l("You have used all your attempts."), "no_attempts")
    draw.number = (last_number or 0) + 1
    draw.seed = f"{quiz.id}-{person_id}-{draw.number}"
    snapshot = _core(_SNAPSHOT_ROWS, {"quiz_id": quiz.id}).all()
    paper = papers.assemble(quiz, papers.pool_items_of_text(snapshot), draw.seed)
    draw.started_at, draw.deadline_at = now, quiz.closes_at
    if quiz.time_limit_minutes:
        limit = timedelta(minutes=quiz.time_limit_minutes + extra_minutes)
        draw.limit_ends_at = now + limit
        draw.deadline_at = min(draw.limit_ends_at, quiz.closes_at)
    draw.max_score = paper.total_points
    # The configs go as the snapshot has them, as its JSON text.
    config_of = {row.question_id: row for row in snapshot}
    draw.rows = [{"position": i, "question_id": item.id, "type": config_of[item.id].type,
                  "config_text": config_of[item.id].config_text,
                  "option_order": list(item.option_order), "points": item.points}
                 for i, item in enumerate(paper.items, start=1)]
    return draw


class Started(NamedTuple):
    """The attempt a start stored or resumed: its id and the device token that holds it."""

    id: int
    session_token: str


_attempt_columns = Attempt.__table__.c
#: Under the write lock, in one read: the quiz's close and state as they are now, and the
#: person's attempts (how many, the highest number, the open one).
_STORE_CHECK = (
    sa.select(
        Quiz.__table__.c.closes_at, Quiz.__table__.c.status,
        sa.select(sa.func.count()).where(
            _attempt_columns.quiz_id == Quiz.__table__.c.id,
            _attempt_columns.person_id == sa.bindparam("person_id")).scalar_subquery(),
        sa.select(sa.func.max(_attempt_columns.number)).where(
            _attempt_columns.quiz_id == Quiz.__table__.c.id,
            _attempt_columns.person_id == sa.bindparam("person_id")).scalar_subquery(),
        sa.select(_attempt_columns.id).where(
            _attempt_columns.quiz_id == Quiz.__table__.c.id,
            _attempt_columns.person_id == sa.bindparam("person_id"),
            _attempt_columns.status == AttemptStatus.IN_PROGRESS).scalar_subquery())
    .where(Quiz.__table__.c.id == sa.bindparam("quiz_id"))
    .with_for_update(read=True, of=Quiz.__table__))
_INSERT_ATTEMPT = sa.insert(Attempt.__table__).returning(_attempt_columns.id)
_INSERT_ROWS = sa.insert(AttemptQuestion.__table__).values(
    config=json_from_text(sa.bindparam("config_text", type_=sa.Text)))


def _open_started(attempt_id: int) -> Started:
    return Started(attempt_id, db.session.scalar(
        sa.select(_attempt_columns.session_token).where(_attempt_columns.id == attempt_id)))


def store_attempt(draw: Draw) -> Started:
    """Store a drawn paper as the person's attempt, unless an attempt was opened since
    the draw (then that one is returned). A second start racing this one hits the
    one-open-attempt index and gets the attempt this one created.

    This is what a burst of starts queues for on SQLite (the write lock): one read and
    two INSERTs through Core, everything else computed before (bench/profile_quiz_paper.py
    times the lock)."""
    if draw.open_id is not None:
        return _open_started(draw.open_id)
    # The close as it stands now, not as the draw read it (issue 12 item 6: an editor
    # moving the close during a burst of starts). On SQLite this reads inside the write
    # transaction, after any edit committed. On PostgreSQL the share lock on the quiz's
    # row orders this start and an edit of the quiz: the edit waits for this start to
    # commit and its recompute of deadlines then sees this attempt, or this start waits
    # for the edit and reads its close.
    closes_at, status, used, last_number, open_id = _core(
        _STORE_CHECK, {"quiz_id": draw.quiz_id, "person_id": draw.person_id}).one()
    if open_id is not None:
        return _open_started(open_id)
    if draw.allowed is not None and used >= draw.allowed:
        raise TakingError(_l("You have used all your attempts."), "no_attempts")
    if status is not QuizStatus.PUBLISHED or closes_at <= draw.started_at:
        raise TakingError(_l("This quiz is not open now."), "closed")
    deadline_at = closes_at if draw.limit_ends_at is None else min(draw.limit_ends_at,
                                                                   closes_at)
    token = secrets.token_urlsafe(32)
    try:
        with db.session.begin_nested():
            attempt_id = _core(_INSERT_ATTEMPT, {
                "quiz_id": draw.quiz_id, "person_id": draw.person_id,
                "number": (last_number or 0) + 1, "status": AttemptStatus.IN_PROGRESS,
                "started_at": draw.started_at, "deadline_at": deadline_at,
                "seed": draw.seed, "max_score": draw.max_score, "session_token": token,
            }).scalar_one()
            _core(_INSERT_ROWS, [{"attempt_id": attempt_id, **row} for row in draw.rows])
    except IntegrityError:
        # The one-open-attempt index (or the attempt number) says another start won.
        winner = open_attempt_of(draw.quiz_id, draw.person_id)
        if winner is None:
            raise
        return Started(winner.id, winner.session_token)
    return Started(attempt_id, token)


def start_attempt(quiz: Quiz, recipient: QuizRecipient, now: datetime | None = None) -> Attempt:
    """Resume the open attempt or start a new one: the paper is drawn and stored with
    the attempt, and the clock starts now, when it is served."""
    return db.session.get(Attempt, store_attempt(draw_attempt(quiz, recipient, now)).id)


def clean_response(kind: str, option_count: int, response):
    """The response in its stored shape, or TakingError ("bad_response") for one of the
    wrong type or size: a choice is option letters as a string or a list of strings (a
    number, a boolean or an object is refused, never read as a letter), true/false a
    boolean or a word, blanks strings, a short answer a string."""
    if response is None or response == "" or response == []:
        return None
    if kind in ("single", "multiple"):
        if isinstance(response, list) and len(response) <= MAX_OPTIONS \
                and all(isinstance(x, str) for x in response):
            response = "".join(response)
        if not isinstance(response, str) or len(response) > 4 * MAX_OPTIONS:
            raise TakingError(_l("Choose one of the options."), "bad_response")
        letters = qb.parse_letters(response)
        if not letters or any("ABCDEFGH".index(x) >= option_count for x in letters):
            raise TakingError(_l("Choose one of the options."), "bad_response")
        if kind == "single":
            if len(letters) != 1:
                raise TakingError(_l("Choose only one option."), "bad_response")
            return letters[0]
        return list(letters)
    if kind == "true_false":
        value = qb.parse_true_false(response) if isinstance(response, bool) or (
            isinstance(response, str) and len(response) <= 10) else None
        if value is None:
            raise TakingError(_l("Answer true or false."), "bad_response")
        return value
    if kind == "fill_blank":
        blanks = response if isinstance(response, list) else [response]
        if not all(isinstance(b, str) for b in blanks):
            raise TakingError(_l("Write your answer as text."), "bad_response")
        if len(blanks) > 20 or any(len(b) > 500 for b in blanks):
            raise TakingError(_l("The answer is too long."), "bad_response")
        return [b.strip() for b in blanks]
    if not isinstance(response, str):
        raise TakingError(_l("Write your answer as text."), "bad_response")
    if len(response) > MAX_TEXT_ANSWER:
        raise TakingError(_l("The answer is too long."), "bad_response")
    return response


def check_writable(attempt: Attempt | sa.Row, token: str | None, now: datetime) -> None:
    """Refuse a change to an attempt that is over, past its deadline, or held by another
    device. An attempt found past its deadline is finished with its saved answers.

    ``attempt``: the ORM object, or a row with its id, status, deadline_at and
    session_token as the caller read them (an answer save: SAVE_CONTEXT)."""
    if attempt.status is not AttemptStatus.IN_PROGRESS:
        raise TakingError(_l("This attempt has already been submitted."), "submitted")
    if now >= attempt.deadline_at:
        if isinstance(attempt, Attempt):
            finish_attempt(attempt, now, "expired")
        else:
            finish_attempts([attempt.id], now, "expired")
        raise TakingError(_l("Time is up: answers after the deadline cannot be saved. Your "
                             "saved answers have been submitted."), "expired")
    if token != attempt.session_token:
        raise TakingError(_l("This attempt has been opened on another device."), "taken_over")


# The statements of an answer save, built once: an exam sends thousands of saves a
# minute, and building the expressions anew cost a fifth of each one (bench/).
_ROW_OF = (sa.select(AttemptQuestion.type, AttemptQuestion.option_order, AttemptQuestion.score)
           .where(AttemptQuestion.attempt_id == sa.bindparam("a_id"),
                  AttemptQuestion.position == sa.bindparam("pos")))
_SAVE = (sa.update(AttemptQuestion.__table__)
         .where(AttemptQuestion.attempt_id == sa.bindparam("a_id"),
                AttemptQuestion.position == sa.bindparam("pos"))
         .values(response=sa.bindparam("new_response", type_=AttemptQuestion.response.type),
                 saved_at=sa.bindparam("new_saved_at"),
                 # What a submit graded before the write lock is checked by this.
                 version=AttemptQuestion.__table__.c.version + 1))
_SAVE_FLAGGED = _SAVE.values(is_flagged=sa.bindparam("new_flagged"))
#: The taker's attempt (the columns that decide a save, as plain values: building the ORM
#: object was a tenth of a save's CPU), its quiz's mode and policy, and the paper row
#: being answered, in one query (the request's only read besides the login session), the
#: attempt locked (PostgreSQL) against a concurrent submit. The row's columns are None
#: for a position the paper does not have. Core only (table columns): the request runs
#: it on the session's connection, without the ORM's execution path (see save_answer).
SAVE_CONTEXT = (
    sa.select(_attempt_columns.id, _attempt_columns.status, _attempt_columns.deadline_at,
              _attempt_columns.session_token, _attempt_columns.quiz_id,
              Quiz.__table__.c.mode, Quiz.__table__.c.multiple_policy,
              AttemptQuestion.__table__.c.type, AttemptQuestion.__table__.c.option_order,
              AttemptQuestion.__table__.c.score)
    .join(Quiz.__table__, Quiz.__table__.c.id == _attempt_columns.quiz_id)
    .outerjoin(AttemptQuestion.__table__, sa.and_(
        AttemptQuestion.__table__.c.attempt_id == _attempt_columns.id,
        AttemptQuestion.__table__.c.position == sa.bindparam("position")))
    .where(_attempt_columns.id == sa.bindparam("attempt_id"),
           _attempt_columns.person_id == sa.bindparam("person_id"))
    .with_for_update(of=Attempt.__table__))
_READ_HERE: Any = object()  # save_answer reads the row itself


def save_answer(attempt: Attempt | sa.Row, position: int, response, flagged: bool | None,
                token: str | None, now: datetime | None = None, *,
                practice: bool = False, row: tuple | None = _READ_HERE) -> datetime:
    """Store one answer (and its flag) server-side: one small read and one UPDATE.
    Returns when it was saved. In practice an answer that was checked is final.
    ``attempt``: the ORM object or SAVE_CONTEXT's row (see check_writable).

    ``row``: the paper row's (type, option_order, score), when the caller read them with
    the attempt (the request does, in one query: SAVE_CONTEXT); None when it has no row
    at that position. Omitted, they are read here."""
    now = now or utcnow()
    check_writable(attempt, token, now)
    key = {"a_id": attempt.id, "pos": position}
    found = db.session.execute(_ROW_OF, key).first() if row is _READ_HERE else row
    if found is None or found[0] is None:
        raise TakingError(_l("No such question in this paper."), "bad_position")
    kind, option_order, score = found
    if practice and score is not None:
        # The feedback showed the answer: changing it now would only flatter the record.
        raise TakingError(_l("In practice an answer is final once it has been checked."),
                          "bad_response")
    params = {**key, "new_saved_at": now,
              "new_response": clean_response(kind, len(option_order), response)}
    if flagged is not None:
        params["new_flagged"] = bool(flagged)
    # Core on the session's connection, in its transaction: the ORM's path for a DML
    # statement was a twentieth of a save. Pending ORM changes are flushed first, as
    # session.execute would (none in a request).
    db.session.flush()
    db.session.connection().execute(_SAVE if flagged is None else _SAVE_FLAGGED, params)
    # A copy of the row loaded earlier in this session (in-process callers such as the
    # demo; never in a request) must not hide the new answer.
    loaded = db.session.identity_map.get(db.session.identity_key(AttemptQuestion,
                                                                 (attempt.id, position)))
    if loaded is not None:
        db.session.expire(loaded)
    return now


def finish_attempt(attempt: Attempt, now: datetime, reason: str = "submitted") -> bool:
    """Submit and grade, once: of two concurrent submits exactly one grades. Returns
    whether this call did. ``attempt`` is reloaded."""
    done = bool(finish_attempts([attempt.id], now, reason))
    db.session.refresh(attempt)
    return done


#: Attempts finished per statement set (and per commit when closing a quiz): a batch
#: holds SQLite's write lock for about a tenth of a second on an idle machine.
FINISH_BATCH = 200
#: Seconds between committed batches on SQLite, for the writers waiting on its lock.
SQLITE_BATCH_PAUSE = 0.12


_IDS = sa.bindparam("ids", expanding=True)
_NOW = sa.bindparam("now", type_=sa.DateTime())
_open_attempts = sa.and_(_attempt_columns.id.in_(_IDS),
                         _attempt_columns.status == AttemptStatus.IN_PROGRESS)
# The statements of a submit, built once (as the save's are): a county's submits queue on
# SQLite's write lock, and building these anew was a third of the time each held it.
_CLAIM = (sa.select(_attempt_columns.id).where(_open_attempts).order_by(_attempt_columns.id)
          .with_for_update())
_MARK_SUBMITTED = (sa.update(Attempt.__table__).where(_open_attempts)
                   .values(status=AttemptStatus.SUBMITTED, submitted_at=_NOW,
                           end_reason=sa.bindparam("reason")))
#: An attempt that ran out of time is submitted at its deadline, not later.
_MARK_EXPIRED = _MARK_SUBMITTED.values(submitted_at=sa.case(
    (_attempt_columns.deadline_at < _NOW, _attempt_columns.deadline_at), else_=_NOW))
_INSERT_EVENTS = sa.insert(AttemptEvent.__table__)


def finish_attempts(attempt_ids: list[int], now: datetime, reason: str) -> list[int]:
    """Submit and grade those of these attempts that are still open, set-based: one
    locking read that claims them, one UPDATE of their status, one read of their answers,
    one executemany of the objective scores (graded by question_bank), one UPDATE of the
    totals in SQL, and a "submit" event each. Returns the ids this call finished.

    The claim reads only attempts still in progress and locks them (FOR UPDATE on
    PostgreSQL; on SQLite the write transaction already holds the database), and the
    UPDATE repeats the condition: an attempt finished by a concurrent call is neither
    finished nor graded again. An attempt that ran out of time is submitted at its
    deadline (``reason`` "expired"), any other at ``now``."""
    if not attempt_ids:
        return []
    claimed = list(_core(_CLAIM, {"ids": list(attempt_ids)}).scalars())
    if not claimed:
        return []
    _core(_MARK_EXPIRED if reason == "expired" else _MARK_SUBMITTED,
          {"ids": claimed, "now": now, "reason": reason})
    _grade(claimed)
    recompute_totals(claimed)
    _core(_INSERT_EVENTS, [
        {"attempt_id": attempt_id, "kind": "submit", "at": now} for attempt_id in claimed])
    _forget_loaded(claimed)
    return claimed


# Core statements (table columns): rows come back as plain tuples, without the ORM's
# per-row work, which was most of the cost of grading a batch. What grading reads
# (_ROWS_TO_GRADE with _SNAPSHOTS_OF) is read again, in one statement, by one taker's
# submit (_SUBMIT_READ): a grading input added to one must be added to the other, and
# to what raises an answer's version (the submit trusts its grade while no version
# has moved).
_answer, _attempt, _quiz = (AttemptQuestion.__table__.c, Attempt.__table__.c,
                            Quiz.__table__.c)
_ROWS_TO_GRADE = (
    sa.select(_answer.attempt_id, _answer.position, _answer.question_id, _answer.type,
              _answer.option_order, _answer.points, _answer.response, _answer.graded_at,
              _attempt.quiz_id, _quiz.multiple_policy)
    .join(Attempt.__table__, _attempt.id == _answer.attempt_id)
    .join(Quiz.__table__, _quiz.id == _attempt.quiz_id))
_ROWS_OF_ATTEMPTS = _ROWS_TO_GRADE.where(_answer.attempt_id.in_(_IDS))
_SNAPSHOT = QuizQuestion.__table__.c
_SNAPSHOTS_OF = (
    sa.select(_SNAPSHOT.quiz_id, _SNAPSHOT.question_id, _SNAPSHOT.type, _SNAPSHOT.config)
    .where(_SNAPSHOT.quiz_id.in_(sa.bindparam("quiz_ids", expanding=True)),
           _SNAPSHOT.question_id.in_(sa.bindparam("question_ids", expanding=True))))
_SET_SCORE = (sa.update(AttemptQuestion.__table__)
              .where(AttemptQuestion.attempt_id == sa.bindparam("a_id"),
                     AttemptQuestion.position == sa.bindparam("pos"))
              .values(score=sa.bindparam("new_score")))


def _grade(attempt_ids: list[int]) -> None:
    """Score every objective answer of these attempts in one executemany; a 简答 answer
    waits for a grader (score None) unless one has graded it already.

    A row's question is its quiz's snapshot of it (drawing copies the snapshot, a
    regrade rewrites both), so each question is read and parsed once per quiz, not once
    per answer: closing a county's exam grades hundreds of thousands of answers."""
    rows = _core(_ROWS_OF_ATTEMPTS, {"ids": list(attempt_ids)}).all()
    if not rows:
        return
    snapshots = _core(_SNAPSHOTS_OF, {
        "quiz_ids": sorted({row.quiz_id for row in rows}),
        "question_ids": sorted({row.question_id for row in rows})})
    # Parsed once per process while the config stays the same (paper.question_of): a
    # submit holds SQLite's write lock while it grades.
    questions = {(s.quiz_id, s.question_id): papers.question_of(s.question_id, s.type,
                                                                s.config)
                 for s in snapshots}
    store_scores(_scores_of(rows, questions))


def _scores_of(rows, questions: dict[tuple, qb.Question]) -> list[dict]:
    """The scores of these answer rows (attempt_id, position, question_id, type,
    option_order, points, response, graded_at, quiz_id, multiple_policy), each question
    ``questions[(quiz_id, question_id)]``, as store_scores takes them: an objective
    answer by question_bank, a 简答 answer None (a grader's), unless a grader has scored
    it already (then it is left out and keeps that score). Pure computation."""
    scores = []
    for row in rows:
        if row.type == "short_answer" and row.response is not None:
            if row.graded_at is None:
                scores.append({"a_id": row.attempt_id, "pos": row.position, "new_score": None})
            continue
        question = papers.with_points(row.question_id,
                                      questions[(row.quiz_id, row.question_id)], row.points)
        item = qb.PaperItem(row.question_id, question, row.points, tuple(row.option_order))
        # PaperItem.grade, without rebuilding the question for every answer.
        score = qb.grade(item.question, item.to_original(row.response),
                         multiple_policy=row.multiple_policy).score
        scores.append({"a_id": row.attempt_id, "pos": row.position, "new_score": score})
    return scores


def store_scores(scores: list[dict]) -> None:
    """Write answers' scores in one executemany: [{"a_id", "pos", "new_score"}, ...]."""
    if scores:
        _core(_SET_SCORE, scores)
        _forget_loaded({row["a_id"] for row in scores})


#: An attempt's total, and whether a 简答 answer of it waits for a grader, from its rows.
_TOTAL = (sa.select(sa.func.coalesce(sa.func.sum(_answer.score), 0))
          .where(_answer.attempt_id == _attempt_columns.id).scalar_subquery())
_PENDING_MANUAL = sa.exists().where(
    _answer.attempt_id == _attempt_columns.id, _answer.type == "short_answer",
    _answer.response.is_not(None), _answer.score.is_(None))
_RECOMPUTE_TOTALS = (sa.update(Attempt.__table__).where(_attempt_columns.id.in_(_IDS))
                     .values(score=_TOTAL, pending_manual=_PENDING_MANUAL))


def recompute_totals(attempt_ids: list[int]) -> None:
    """Each attempt's score (the sum of its answers' scores) and whether a 简答 answer
    still waits for a grader, in one UPDATE with correlated subqueries: computed by the
    database from the rows as they are, never from copies loaded earlier."""
    if not attempt_ids:
        return
    _core(_RECOMPUTE_TOTALS, {"ids": list(attempt_ids)})
    _forget_loaded(attempt_ids)


# --- One taker's submit: graded before the write lock, checked and written under it ------

#: The taker's attempt, what decides its submit, and everything its grading reads, in one
#: read before the write lock: a row per answer (the attempt's columns repeated), each
#: with its question as the quiz's snapshot has it (as _grade reads it) and its version.
#: An attempt without answer rows gives one row with position None. It reads what
#: _ROWS_TO_GRADE and _SNAPSHOTS_OF read (keep the three in step); every input that can
#: change while the attempt is open raises an answer's version (a save, a regrade) or is
#: read again under the lock (the 多选 policy).
_SUBMIT_READ = (
    sa.select(_attempt.status, _attempt.session_token, _attempt.quiz_id,
              _quiz.multiple_policy, _answer.attempt_id, _answer.position,
              _answer.question_id, _answer.type, _answer.option_order, _answer.points,
              _answer.response, _answer.graded_at, _answer.version,
              _SNAPSHOT.type.label("snapshot_type"), _SNAPSHOT.config)
    .select_from(Attempt.__table__)
    .join(Quiz.__table__, _quiz.id == _attempt.quiz_id)
    .outerjoin(AttemptQuestion.__table__, _answer.attempt_id == _attempt.id)
    .outerjoin(QuizQuestion.__table__, sa.and_(_SNAPSHOT.quiz_id == _attempt.quiz_id,
                                               _SNAPSHOT.question_id == _answer.question_id))
    .where(_attempt.id == sa.bindparam("attempt_id"),
           _attempt.person_id == sa.bindparam("person_id")))
_VERSIONS = (sa.select(sa.func.coalesce(sa.func.sum(_answer.version), 0))
             .where(_answer.attempt_id == _attempt.id).scalar_subquery())
#: Under the write lock, in one read: the attempt's state as the write transaction sees
#: it, its quiz's policy, and the sum of its answers' versions. On PostgreSQL the
#: attempt's row is locked by _SUBMIT_LOCK first: a statement that waited for a row
#: lock reads its subqueries as of its own start, so the versions are read by the next.
_SUBMIT_STATE = (sa.select(_attempt.status, _attempt.session_token, _attempt.deadline_at,
                           _quiz.multiple_policy, _VERSIONS)
                 .join(Quiz.__table__, _quiz.id == _attempt.quiz_id)
                 .where(_attempt.id == sa.bindparam("attempt_id")))
_SUBMIT_LOCK = (sa.select(_attempt.id).where(_attempt.id == sa.bindparam("attempt_id"))
                .with_for_update())
#: Submitted (at its deadline if that has passed: "expired") with its total and whether a
#: 简答 answer waits for a grader, as recompute_totals computes them, in one UPDATE.
_FINISH_ONE = (sa.update(Attempt.__table__)
               .where(_attempt_columns.id == sa.bindparam("attempt_id"),
                      _attempt_columns.status == AttemptStatus.IN_PROGRESS)
               .values(status=AttemptStatus.SUBMITTED, end_reason=sa.bindparam("reason"),
                       submitted_at=sa.case((_attempt_columns.deadline_at < _NOW,
                                             _attempt_columns.deadline_at), else_=_NOW),
                       score=_TOTAL, pending_manual=_PENDING_MANUAL))


class Graded(NamedTuple):
    """A taker's attempt as read and graded before the write lock (grade_ahead)."""

    attempt_id: int
    status: AttemptStatus
    session_token: str
    multiple_policy: str
    #: The sum of the answers' versions that were graded.
    version: int
    #: The answers' scores, as store_scores takes them.
    scores: list[dict]


def grade_ahead(attempt_id: int, person_id: int) -> Graded | None:
    """Read the person's attempt and its answers and grade them, outside any write lock
    (one read; grading is pure computation). None when the attempt is not theirs. An
    attempt that is no longer open is returned ungraded."""
    rows = _core(_SUBMIT_READ, {"attempt_id": attempt_id, "person_id": person_id}).all()
    if not rows:
        return None
    first = rows[0]
    scores: list[dict] = []
    if first.status is AttemptStatus.IN_PROGRESS:
        answers = [row for row in rows if row.position is not None]
        questions = {(first.quiz_id, row.question_id): papers.question_of(
            row.question_id, row.snapshot_type, row.config)
            for row in answers if row.snapshot_type is not None}
        scores = _scores_of(answers, questions)
    return Graded(attempt_id, first.status, first.session_token, first.multiple_policy,
                  sum(row.version or 0 for row in rows), scores)


def submit_graded(graded: Graded, token: str | None, now: datetime | None = None) -> bool:
    """Submit an attempt graded by grade_ahead, in the write transaction: the attempt's
    state, policy and answers' versions read in one statement; if it is still open, held
    by this device, and nothing that grades it changed since it was graded (no save, no
    regrade, the same 多选 policy), the scores, the attempt's status and total, and the
    event are written in three statements. If something changed, it is graded again here,
    under the lock (finish_attempts: the rare path). Returns whether this call finished
    it (False: another submit or the deadline's finish did, and it is graded once).

    The server's clock decides, as in finish_attempts: ``now`` is taken under the lock
    and an attempt past its deadline is submitted at its deadline ("expired")."""
    params = {"attempt_id": graded.attempt_id}
    if db.session.get_bind().dialect.name != "sqlite":
        _core(_SUBMIT_LOCK, params)  # SQLite: the write transaction holds the database
    status, session_token, deadline_at, policy, version = _core(_SUBMIT_STATE, params).one()
    if status is not AttemptStatus.IN_PROGRESS:
        return False
    if token != session_token:
        raise TakingError(_l("This attempt has been opened on another device."), "taken_over")
    now = now or utcnow()
    reason = "expired" if now >= deadline_at else "submitted"
    if version != graded.version or policy != graded.multiple_policy \
            or graded.status is not AttemptStatus.IN_PROGRESS:
        return bool(finish_attempts([graded.attempt_id], now, reason))
    if graded.scores:
        _core(_SET_SCORE, graded.scores)
    if _core(_FINISH_ONE, {**params, "now": now, "reason": reason}).rowcount != 1:
        raise RuntimeError(f"attempt {graded.attempt_id} changed under the write lock")
    _core(_INSERT_EVENTS, [{"attempt_id": graded.attempt_id, "kind": "submit", "at": now}])
    _forget_loaded([graded.attempt_id])
    return True


def _forget_loaded(attempt_ids) -> None:
    """Expire copies of these attempts and their rows loaded earlier in the session: the
    statements above went around them. Read from the identity keys, not the objects: an
    object expired already would be loaded again just to be expired (two SELECTs per
    submit)."""
    wanted = set(attempt_ids)
    for (cls, key, _token), obj in list(db.session.identity_map.items()):
        if (cls is Attempt and key[0] in wanted) or (
                cls is AttemptQuestion and key[0] in wanted):
            db.session.expire(obj)


def record_event(attempt: Attempt, kind: str, token: str | None,
                 now: datetime | None = None) -> bool:
    """Log leaving or returning to the exam page. Leaving counts as a departure; past the
    quiz's limit the attempt is submitted. Returns whether it was."""
    now = now or utcnow()
    check_writable(attempt, token, now)
    db.session.add(AttemptEvent(attempt_id=attempt.id, kind=kind, at=now))
    if kind != "leave":
        return False
    attempt.departures += 1
    limit = attempt.quiz.max_departures
    if limit and attempt.departures >= limit:
        return finish_attempt(attempt, now, "departures")
    return False


def take_over(attempt: Attempt, now: datetime | None = None) -> str:
    """Move the attempt to this device: a new token; the other device is refused next."""
    now = now or utcnow()
    if not attempt.is_open:
        raise TakingError(_l("This attempt has already been submitted."), "submitted")
    attempt.session_token = secrets.token_urlsafe(32)
    db.session.add(AttemptEvent(attempt_id=attempt.id, kind="takeover", at=now))
    return attempt.session_token


class plus_minutes(sa.sql.functions.FunctionElement):
    """SQL: ``plus_minutes(datetime_column, minutes)`` — the time that many minutes later
    (``minutes`` an SQL integer expression), to the microsecond, on PostgreSQL and on
    SQLite (where a datetime is the text 'YYYY-MM-DD HH:MM:SS.ffffff')."""

    type = sa.DateTime()
    name = "plus_minutes"
    inherit_cache = True


@compiles(plus_minutes, "postgresql")
def _plus_minutes_postgresql(element, compiler, **kw):
    when, minutes = (compiler.process(c, **kw) for c in element.clauses)
    return f"({when} + ({minutes}) * INTERVAL '1 minute')"


@compiles(plus_minutes, "sqlite")
def _plus_minutes_sqlite(element, compiler, **kw):
    when, minutes = (compiler.process(c, **kw) for c in element.clauses)
    # datetime() drops the fraction of a second; whole minutes do not change it.
    return f"(datetime({when}, '+' || ({minutes}) || ' minutes') || substr({when}, 20))"


def recompute_deadlines(quiz: Quiz) -> int:
    """Set every open attempt's deadline by the rule fixed at start, for the quiz's close
    as it is now: min(start + limit + the person's extra minutes, close), or the close
    when there is no limit. One UPDATE; returns how many deadlines changed. Attempts past
    their deadline must be finished first (they are not revived)."""
    close = sa.literal(quiz.closes_at, sa.DateTime())
    deadline = close
    if quiz.time_limit_minutes:
        extra = (sa.select(QuizRecipient.extra_minutes)
                 .where(QuizRecipient.quiz_id == Attempt.quiz_id,
                        QuizRecipient.person_id == Attempt.person_id).scalar_subquery())
        end = plus_minutes(Attempt.started_at, quiz.time_limit_minutes + extra)
        deadline = sa.case((end < close, end), else_=close)
    result = db.session.execute(
        sa.update(Attempt)
        .where(Attempt.quiz_id == quiz.id, Attempt.status == AttemptStatus.IN_PROGRESS,
               Attempt.deadline_at != deadline)
        .values(deadline_at=deadline).execution_options(synchronize_session=False))
    _forget_loaded(db.session.scalars(sa.select(Attempt.id).where(
        Attempt.quiz_id == quiz.id, Attempt.status == AttemptStatus.IN_PROGRESS)).all()
                   if result.rowcount else [])
    return result.rowcount


def finish_overdue(quiz_id: int, now: datetime, person_id: int | None = None) -> int:
    """Finish a quiz's open attempts (of one person, if given) whose deadline has passed,
    with their saved answers. Returns how many."""
    query = sa.select(Attempt.id).where(Attempt.quiz_id == quiz_id,
                                        Attempt.status == AttemptStatus.IN_PROGRESS,
                                        Attempt.deadline_at <= now)
    if person_id is not None:
        query = query.where(Attempt.person_id == person_id)
    return len(finish_attempts(list(db.session.scalars(query)), now, "expired"))


def close_expired(now: datetime | None = None, limit: int = FINISH_BATCH) -> int:
    """Finish up to ``limit`` open attempts past their deadline, set-based (cron, every
    minute; the command repeats it in committed batches). Returns how many."""
    now = now or utcnow()
    ids = db.session.scalars(sa.select(Attempt.id).where(
        Attempt.status == AttemptStatus.IN_PROGRESS, Attempt.deadline_at <= now)
        .order_by(Attempt.id).limit(limit)).all()
    return len(finish_attempts(list(ids), now, "expired"))


def finish_open_attempts(quiz_id: int, now: datetime, reason: str, *,
                         commit_batches: bool = False) -> int:
    """Finish every open attempt of a quiz in batches of FINISH_BATCH. With
    ``commit_batches`` each batch is committed (closing a county-sized exam must not
    hold SQLite's write lock for the whole quiz), and on SQLite the loop pauses between
    batches: a save waiting for the lock polls every 100 ms or so and would otherwise
    find it taken again each time. Returns how many were finished."""
    done = 0
    pause = commit_batches and db.session.get_bind().dialect.name == "sqlite"
    while True:
        ids = db.session.scalars(sa.select(Attempt.id).where(
            Attempt.quiz_id == quiz_id, Attempt.status == AttemptStatus.IN_PROGRESS)
            .order_by(Attempt.id).limit(FINISH_BATCH)).all()
        if not ids:
            return done
        done += len(finish_attempts(list(ids), now, reason))
        if commit_batches:
            db.session.commit()
            if pause:
                time.sleep(SQLITE_BATCH_PAUSE)


def recipient_of(quiz: Quiz, person: Person) -> QuizRecipient | None:
    return db.session.get(QuizRecipient, (quiz.id, person.id))
