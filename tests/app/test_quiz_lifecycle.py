"""An exam's lifecycle after publication (issue 7 items 11 and 12): a window extended or
shortened moves the attempts in progress; a grant never revives an attempt whose time
ran out; closing finishes attempts set-based in committed batches; a regrade locks what
it recomputes and sums totals in SQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

import question_bank as qb
from studyhall.audit import AuditEntry
from studyhall.bank import operations as bank_ops
from studyhall.bank.models import Question
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person
from studyhall.quizzes import grading, operations, taking
from studyhall.quizzes.models import (
    Attempt,
    AttemptEvent,
    AttemptQuestion,
    AttemptStatus,
    Quiz,
    QuizRecipient,
    QuizStatus,
)
from tests.factories import wait_until_someone_waits_for_a_lock


def audits(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def begin(quiz: Quiz, person) -> Attempt:
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, person))
    db.session.commit()
    return attempt


def local_form_time(when) -> str:
    """A UTC time as the settings form takes it (Asia/Shanghai, to the minute)."""
    return (when + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")


def settings(quiz: Quiz, closes_at) -> dict:
    return {"title": quiz.title, "instructions": "", "closes_at": local_form_time(closes_at),
            "pass_mark": "60", "excellent_mark": "90", "review_policy": "immediately",
            "max_departures": ""}


# --- moving the close (item 11) -----------------------------------------------------------

def test_extending_the_window_extends_an_untimed_attempt_in_progress(client, org, login,
                                                                    make_quiz):
    quiz = make_quiz()  # no time limit: the deadline is the close
    attempt = begin(quiz, org.teacher)
    assert attempt.deadline_at == quiz.closes_at
    login(org.admin)
    new_close = (quiz.closes_at + timedelta(hours=2)).replace(second=0, microsecond=0)
    response = client.post(f"/manage/quizzes/{quiz.id}/edit", data=settings(quiz, new_close))
    assert response.status_code == 302
    db.session.expire_all()
    assert attempt.deadline_at == new_close == quiz.closes_at
    [entry] = audits("quiz.attempt_deadlines")
    assert entry.target_id == quiz.id and entry.details["attempts"] == 1
    # Past the old close it can still be saved.
    assert taking.save_answer(attempt, 1, "A", None, attempt.session_token,
                              now=new_close - timedelta(minutes=1))


def test_a_timed_attempt_capped_by_the_close_gets_its_full_time_and_extra_minutes(
        app, org, make_quiz):
    """min(start + limit + extra, close), to the microsecond on both databases."""
    quiz = make_quiz(time_limit_minutes=30, closes_at=utcnow() + timedelta(minutes=20))
    db.session.get(QuizRecipient, (quiz.id, org.teacher.id)).extra_minutes = 10
    db.session.commit()
    capped = begin(quiz, org.teacher)
    assert capped.deadline_at == quiz.closes_at
    operations.update_quiz(org.admin, quiz, {"closes_at": quiz.closes_at + timedelta(hours=1)})
    db.session.commit()
    db.session.expire_all()
    assert capped.deadline_at == capped.started_at + timedelta(minutes=40)
    # Earlier again: capped by the new close.
    earlier = capped.started_at + timedelta(minutes=15)
    operations.update_quiz(org.admin, quiz, {"closes_at": earlier})
    db.session.commit()
    db.session.expire_all()
    assert capped.deadline_at == earlier
    assert [e.details["attempts"] for e in audits("quiz.attempt_deadlines")] == [1, 1]


def test_extending_the_window_does_not_revive_an_attempt_whose_time_ran_out(app, org,
                                                                          make_quiz):
    quiz = make_quiz(time_limit_minutes=10)
    attempt = begin(quiz, org.teacher)
    taking.save_answer(attempt, 3, False, None, attempt.session_token)
    attempt.deadline_at = utcnow() - timedelta(seconds=5)  # not yet finished by the cron
    db.session.commit()
    deadline = attempt.deadline_at
    operations.update_quiz(org.admin, quiz, {"closes_at": quiz.closes_at + timedelta(hours=1)})
    db.session.commit()
    db.session.expire_all()
    assert attempt.status is AttemptStatus.SUBMITTED and attempt.end_reason == "expired"
    assert attempt.deadline_at == deadline and attempt.submitted_at == deadline
    assert attempt.score == 20  # its saved answer counts


def test_a_grant_does_not_revive_an_attempt_whose_time_ran_out(client, org, login,
                                                               make_quiz):
    quiz = make_quiz(time_limit_minutes=10)
    attempt = begin(quiz, org.teacher)
    taking.save_answer(attempt, 1, "A", None, attempt.session_token)
    attempt.deadline_at = utcnow() - timedelta(seconds=5)
    db.session.commit()
    deadline = attempt.deadline_at
    login(org.admin)
    client.post(f"/manage/quizzes/{quiz.id}/participants/{org.teacher.id}/grant",
                data={"attempts": "0", "minutes": "10"})
    db.session.expire_all()
    assert attempt.status is AttemptStatus.SUBMITTED and attempt.end_reason == "expired"
    assert attempt.deadline_at == deadline and attempt.score == 20
    assert audits("attempt.deadline") == [] and len(audits("quiz.grant")) == 1


# --- closing (item 12) --------------------------------------------------------------------

@pytest.fixture()
def takers(org, make_person):
    def make(count: int) -> list[Person]:
        return [make_person(f"c{i}", unit=org.branch_a, name=f"考生{i}") for i in range(count)]

    return make


def statements_during(fn) -> list[str]:
    """The SQL statements ``fn`` sends (executemany counts once)."""
    seen = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement.split()[0])

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    return seen


@pytest.mark.parametrize("count", [3, 7])
def test_closing_finishes_every_open_attempt_set_based_in_committed_batches(
        client, org, login, make_quiz, takers, monkeypatch, count):
    monkeypatch.setattr(taking, "FINISH_BATCH", 2)
    monkeypatch.setattr(taking, "SQLITE_BATCH_PAUSE", 0)
    people = takers(count)  # before publication, so that they are expected
    quiz = make_quiz()
    for i, person in enumerate(people):
        attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, person))
        taking.save_answer(attempt, 1, "A" if i % 2 else "B", None, attempt.session_token)
        taking.save_answer(attempt, 5, "三会一课", None, attempt.session_token)
    db.session.commit()
    login(org.admin)
    commits = []

    def committed(conn):
        commits.append(conn)

    sa.event.listen(db.engine, "commit", committed)
    try:
        sent = statements_during(lambda: client.post(f"/manage/quizzes/{quiz.id}/close"))
    finally:
        sa.event.remove(db.engine, "commit", committed)
    db.session.expire_all()
    attempts = db.session.scalars(sa.select(Attempt).order_by(Attempt.person_id)).all()
    assert [a.status for a in attempts] == [AttemptStatus.SUBMITTED] * count
    assert {a.end_reason for a in attempts} == {"closed"}
    assert [a.score for a in attempts] == [Decimal(20 if i % 2 else 0) for i in range(count)]
    assert all(a.pending_manual for a in attempts)  # the 简答 waits for a grader
    assert db.session.scalar(sa.select(sa.func.count(AttemptEvent.id)).where(
        AttemptEvent.kind == "submit")) == count
    assert db.session.get(Quiz, quiz.id).status is QuizStatus.CLOSED
    batches = -(-count // 2)
    assert len(commits) >= batches + 1  # the close itself, then each batch
    # Set-based: a fixed number of statements per batch, none per attempt.
    assert sent.count("UPDATE") == 1 + 3 * batches + 1  # deadlines; status, scores, totals
    # The submit events (one executemany a batch), and the audit of the new close.
    assert sent.count("INSERT") == batches + 1


def test_once_the_close_is_decided_no_answer_is_accepted(app, org, make_quiz, takers):
    """The first statement of a close sets every open deadline to now: a save arriving
    while the batches run is refused, and the attempt is finished with what it had."""
    quiz = make_quiz()
    attempt = begin(quiz, org.teacher)
    now = utcnow()
    db.session.execute(sa.update(Attempt).where(Attempt.id == attempt.id)
                       .values(deadline_at=now))  # what close_quiz does first
    db.session.commit()
    with pytest.raises(taking.TakingError):
        taking.save_answer(attempt, 1, "A", None, attempt.session_token)
    assert operations.close_quiz(org.admin, quiz, now=now) == 0  # already finished
    db.session.refresh(attempt)
    assert attempt.status is AttemptStatus.SUBMITTED


def test_close_expired_finishes_many_attempts_in_a_few_statements(app, org, make_quiz,
                                                                  takers):
    people = takers(6)
    quiz = make_quiz(time_limit_minutes=5)
    for person in people:
        taking.start_attempt(quiz, taking.recipient_of(quiz, person))
    db.session.commit()
    later = utcnow() + timedelta(minutes=10)
    sent = statements_during(lambda: taking.close_expired(now=later))
    assert sent.count("UPDATE") == 3 and sent.count("INSERT") == 1
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Attempt.id)).where(
        Attempt.status == AttemptStatus.SUBMITTED, Attempt.end_reason == "expired")) == 6


# --- regrading (item 12) ------------------------------------------------------------------

def fix_first_question(make_quiz) -> int:
    """Make "B" the key of make_quiz's first question (it was "A")."""
    question_id = make_quiz.question_ids[0]
    row = db.session.get(Question, question_id)
    bank_ops.save_question(row, qb.Question(type="single", stem="党员的预备期为几年？",
                                            options=("一年", "两年", "三年"), answer="B",
                                            points=20), row.category)
    db.session.commit()
    return question_id


@pytest.mark.parametrize("count", [2, 6])
def test_a_regrade_recomputes_totals_in_sql_not_attempt_by_attempt(app, org, make_quiz,
                                                                   takers, count):
    people = takers(count)
    quiz = make_quiz()
    attempts = []
    for person in people:
        attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, person))
        taking.save_answer(attempt, 1, "B", None, attempt.session_token)
        taking.finish_attempt(attempt, utcnow())
        attempts.append(attempt.id)
    db.session.commit()
    question_id = fix_first_question(make_quiz)
    sent = statements_during(lambda: grading.regrade_question(org.admin, quiz, question_id))
    db.session.commit()
    # Copy the fix to the quiz and to the papers, store the scores, the totals: four
    # UPDATEs and a handful of reads, whatever the number of attempts.
    assert sent.count("UPDATE") == 4 and sent.count("SELECT") <= 8
    scores = db.session.scalars(sa.select(Attempt.score).where(Attempt.id.in_(attempts)))
    assert set(scores) == {Decimal(20)}
    assert len([e for e in db.session.scalars(sa.select(AuditEntry))
                if e.action == "attempt.regrade"]) == count


def test_a_regrade_waits_for_a_grader_and_keeps_their_score(app, org, make_quiz):
    """A grader scores a 简答 answer while a regrade of another question of the same
    attempt runs: the regrade waits for the grader's lock and its total includes the
    grader's score (it used to overwrite the total with one computed from rows read
    before). PostgreSQL only: SQLite lets one writer at a time into the whole database."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite serialises writers on the database")
    quiz = make_quiz()
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, org.teacher))
    taking.save_answer(attempt, 1, "B", None, attempt.session_token)  # right once fixed
    taking.save_answer(attempt, 5, "三会一课", None, attempt.session_token)
    taking.finish_attempt(attempt, utcnow())
    db.session.commit()
    question_id = fix_first_question(make_quiz)
    attempt_id, quiz_id, admin_id = attempt.id, quiz.id, org.admin.id

    # The grader's transaction: the attempt is locked and its total updated, uncommitted.
    row = db.session.get(AttemptQuestion, (attempt_id, 5))
    grading.grade_answer(org.admin, row, Decimal(15), None)
    db.session.flush()

    failures = []

    def regrade():
        with app.app_context():
            try:
                grading.regrade_question(db.session.get(Person, admin_id),
                                         db.session.get(Quiz, quiz_id), question_id)
                db.session.commit()
            except Exception as exc:  # reported below
                failures.append(exc)

    thread = threading.Thread(target=regrade)
    thread.start()
    try:
        wait_until_someone_waits_for_a_lock(db.engine.url, thread,
                                            "the regrade never waited for the grader")
    finally:
        db.session.commit()  # the grader saves
        thread.join(60)
    assert not failures
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.score == Decimal(35) and not attempt.pending_manual
