"""Races with a barrier (issue 12, item 5): many requests of one kind released together
by a ``threading.Barrier``, each from its own logged-in client in its own thread, so each
request has its own app context, its own database session and its own connection (the
app's pool): on PostgreSQL they really run at once, on SQLite they queue on the write
lock (BEGIN IMMEDIATE and the busy timeout). The tests check the invariant, never a time.

Already elsewhere (not repeated here): 8 concurrent starts and 20 concurrent submits of
one attempt (test_quiz_taking.py), 8 concurrent check-ins of one person through the
operation and 6 over HTTP (test_sessions_checkin.py)."""

from __future__ import annotations

import io
import re
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from studyhall.audit import AuditEntry
from studyhall.bank.models import Question
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, Role
from studyhall.quizzes import taking
from studyhall.quizzes.models import Attempt, AttemptEvent, AttemptQuestion, AttemptStatus
from studyhall.study.models import Reflection, ReflectionStatus, ReflectionVersion
from studyhall.uploads import PendingUpload
from tests.app.study_fixtures_s3 import *  # noqa: F401,F403  (fixtures)
from tests.factories import PASSWORD, wait_until_someone_waits_for_a_lock


def race(app, people: list[Person], act: Callable, prepare: Callable | None = None) -> list:
    """Log each of ``people`` in on a client of its own (one person may appear several
    times: several devices), run ``prepare(client, index)`` on each, then release every
    thread's ``act(client, index)`` at once. Returns what each act returned, in order;
    an exception in any thread fails the test."""
    accounts = [person.account for person in people]
    db.session.remove()  # nothing of the test's own transaction is held while they run
    barrier = threading.Barrier(len(accounts), timeout=120)
    results: list = [None] * len(accounts)
    errors: list = []

    def run(index: int) -> None:
        try:
            client = app.test_client()
            client.set_cookie("lang", "en")
            reply = client.post("/login", data={"account": accounts[index],
                                                "password": PASSWORD})
            assert reply.status_code == 302, reply.status_code
            if prepare is not None:
                prepare(client, index)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
            barrier.abort()
            return
        try:
            barrier.wait()
            results[index] = act(client, index)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(accounts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    assert not errors, errors[:3]
    db.session.remove()
    return results


def give_token(client, attempt_id: int, token: str) -> None:
    """The client's browser holds the attempt's device token (as after starting it)."""
    with client.session_transaction() as session:
        session["attempt_tokens"] = {str(attempt_id): token}


def holding_token(attempt_id: int, token: str) -> Callable:
    """A race's ``prepare``: every client holds the attempt's device token."""
    return lambda client, _index: give_token(client, attempt_id, token)


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# --- 50 starts by one person -------------------------------------------------------------

def test_fifty_starts_by_one_person_open_one_attempt(app, org, make_quiz):
    """Fifty devices of one teacher press 开始 at the same instant on a quiz that allows
    three attempts: one attempt is opened (with its paper drawn once) and every device is
    sent to it. The guard is the partial unique index uq_attempt_one_open and the start's
    retry on it (taking.start_attempt): without them, each device that read "no open
    attempt" before the first insert was committed would open attempt 1, 2, 3 (and the
    rest would be refused with 'no attempts left')."""
    quiz_id = make_quiz(attempts_allowed=3).id
    teacher = org.teacher

    def start(client, _index):
        reply = client.post(f"/quizzes/{quiz_id}/start")
        return reply.status_code, reply.location

    answers = race(app, [teacher] * 50, start)
    assert {status for status, _location in answers} == {302}, Counter(answers)
    locations = {location for _status, location in answers}
    assert len(locations) == 1 and re.search(r"/attempts/\d+$", locations.pop()), answers[:3]
    attempts = db.session.scalars(sa.select(Attempt).where(Attempt.quiz_id == quiz_id)).all()
    assert [(a.number, a.status) for a in attempts] == [(1, AttemptStatus.IN_PROGRESS)]
    assert count(AttemptQuestion) == 5
    assert count(AttemptEvent, AttemptEvent.kind == "start") <= 1


# --- submits racing the deadline's own finish ----------------------------------------------

def test_submits_racing_the_expiry_finish_grade_once(app, org, make_quiz, monkeypatch):
    """The concurrent submits of test_quiz_taking.py, past the deadline: ten devices of
    one teacher submit while ten others open the attempt's page, which finishes an expired
    attempt itself (a GET turned writer, database.start_writing). Whichever finishes it,
    the attempt is graded once: one finishing event, one total equal to its answers'
    sum, and no request fails."""
    quiz = make_quiz()
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, org.teacher))
    taking.save_answer(attempt, 1, "A", None, attempt.session_token)
    taking.save_answer(attempt, 3, False, None, attempt.session_token)
    db.session.commit()
    attempt_id, token = attempt.id, attempt.session_token
    # The deadline passes before anyone acts.
    db.session.execute(sa.update(Attempt).where(Attempt.id == attempt_id).values(
        deadline_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    prepare = holding_token(attempt_id, token)

    def act(client, index):
        if index % 2:
            return client.post(f"/attempts/{attempt_id}/submit").status_code
        return client.get(f"/attempts/{attempt_id}").status_code

    codes = race(app, [org.teacher] * 20, act, prepare)
    assert all(code < 500 for code in codes), Counter(codes)
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status is not AttemptStatus.IN_PROGRESS
    events = db.session.scalars(sa.select(AttemptEvent.kind).where(
        AttemptEvent.attempt_id == attempt_id, AttemptEvent.kind != "start")).all()
    assert len(events) == 1, events
    scores = db.session.scalars(sa.select(AttemptQuestion.score).where(
        AttemptQuestion.attempt_id == attempt_id)).all()
    assert attempt.score == sum(s for s in scores if s is not None) == 40


# --- reflection submits ------------------------------------------------------------------

TEXT = "通过学习十项准则，我认识到教师要坚定政治方向、潜心教书育人，关心爱护每一名学生。" * 3


@pytest.mark.parametrize("target", ["assignment", "session"])
def test_concurrent_reflection_submits_keep_one_version(app, org, make_assignment,
                                                        make_session, target):
    """Twelve taps on 提交 of one first version at once (two phones, a slow network): one
    version 1 is submitted, the reflection is 'submitted', the other taps are told it is
    already submitted. The guard: _lock_or_create's FOR UPDATE on the reflection row (and
    the savepoint around its first insert, whose unique key sends a second creator back
    to the lock); without the lock each tap read based_on 0 as current and appended its own
    version 1, which ReflectionVersion's (reflection_id, number) key refuses with a 500."""
    if target == "assignment":
        url = f"/study/assignments/{make_assignment().id}/reflection"
    else:
        url = f"/sessions/{make_session().id}/reflection"
    teacher_id = org.teacher.id

    def act(client, index):
        reply = client.post(url + "/submit", data={"body": f"{TEXT}{index}", "based_on": 0})
        return reply.status_code

    codes = race(app, [org.teacher] * 12, act)
    assert codes == [302] * 12, Counter(codes)
    [reflection] = db.session.scalars(sa.select(Reflection).where(
        Reflection.person_id == teacher_id)).all()
    assert reflection.status is ReflectionStatus.SUBMITTED
    versions = db.session.scalars(sa.select(ReflectionVersion).where(
        ReflectionVersion.reflection_id == reflection.id)).all()
    assert [v.number for v in versions] == [1]
    assert reflection.body == versions[0].body  # the winner's text, whole


# --- two graders, one 简答 answer ----------------------------------------------------------

def test_two_graders_scoring_one_answer_at_once_keep_one_score(app, org, make_quiz,
                                                              make_person):
    """Five tabs of the secretary and five of an admin score the same ungraded 简答
    answer at once, each a different score, each from a page that showed it ungraded:
    one score is kept, the total is the answers' sum with it, one audit entry records it
    (before none, after the kept score), and every other grader is told someone else
    scored it. The guard: grade_answer locks the attempt (FOR UPDATE) and compares the
    score it reads after the lock with the one the grader saw; without the comparison
    the last writer would overwrite the first and leave two audit entries."""
    quiz = make_quiz()
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, org.teacher))
    taking.save_answer(attempt, 1, "A", None, attempt.session_token)
    taking.save_answer(attempt, 5, "三会一课是支部党员大会、支部委员会会议、党小组会和党课",
                       None, attempt.session_token)
    taking.finish_attempt(attempt, utcnow())
    db.session.commit()
    quiz_id, attempt_id = quiz.id, attempt.id
    graders = [org.secretary] * 5 + [org.admin] * 5

    def act(client, index):
        reply = client.post(f"/manage/quizzes/{quiz_id}/grading", data={
            "attempt_id": attempt_id, "position": 5, "score": str(index + 5), "expected": ""})
        flashes = client.get(f"/manage/quizzes/{quiz_id}/grading").get_data(as_text=True)
        return reply.status_code, "Score saved." in flashes

    answers = race(app, graders, act)
    assert {status for status, _saved in answers} == {302}
    winners = [index for index, (_status, saved) in enumerate(answers) if saved]
    assert len(winners) == 1, answers
    row = db.session.get(AttemptQuestion, (attempt_id, 5))
    assert row.score == winners[0] + 5
    assert row.graded_by_id == graders[winners[0]].id
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.score == 20 + row.score
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "attempt.score")).all()
    assert len(entries) == 1
    assert entries[0].details["before"] is None
    assert Decimal(entries[0].details["after"]) == row.score
    assert Decimal(entries[0].details["total_after"]) == attempt.score


# --- the same import confirmed twice at once -----------------------------------------------

ROSTER = ("工号,姓名,单位,政治面貌\n" + "".join(
    f"{880000 + n},教师{n},甲校第一支部,党员\n" for n in range(30))).encode()
QUESTIONS = "".join(f"::q{n}:: 党员的预备期为几年（{n}）？ {{=一年 ~两年 ~三年}}\n\n"
                    for n in range(20)).encode()
IMPORTS = {
    "roster": ("/manage/roster", "/manage/roster/confirm", {}, ROSTER, "roster.csv"),
    "questions": ("/manage/bank/import", "/manage/bank/import/confirm",
                  {"format": "", "category_id": 0}, QUESTIONS, "questions.gift"),
}


def _upload(client, kind: str) -> str:
    upload_url, _confirm, fields, data, filename = IMPORTS[kind]
    page = client.post(upload_url, data={**fields, "file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data").get_data(as_text=True)
    return re.search(r'name="token"[^>]*value="([^"]+)"', page).group(1)


def _imported(kind: str) -> list[str]:
    if kind == "roster":
        return db.session.scalars(sa.select(Person.account).where(
            Person.account.like("88%"))).all()
    return db.session.scalars(sa.select(Question.stem)).all()


@pytest.mark.parametrize("kind", sorted(IMPORTS))
def test_one_upload_confirmed_from_many_tabs_is_imported_once(app, org, kind):
    """An importer's double and triple clicks (eight at once) on 确认导入 of one
    preview: the file is imported once, with one audit entry, and every other click is
    told it was already done. The guard: the confirmation locks the pending upload
    (FOR UPDATE) before planning, so a second confirmation waits and then finds it
    deleted; without the lock, on PostgreSQL each confirmation read the same upload and
    applied it (duplicate questions, or a 500 on the roster's unique account)."""
    tokens = {}

    def upload_first(client, index):
        # One person's tabs: the first uploads, all confirm its token (a new upload would
        # replace the person's earlier one).
        if index == 0:
            tokens["token"] = _upload(client, kind)

    def act(client, index):
        reply = client.post(IMPORTS[kind][1], data={"token": tokens["token"],
                                                    "duplicates": "skip"})
        return reply.status_code

    codes = race(app, [org.admin] * 8, act, _one_then_rest(upload_first))
    assert all(code < 500 for code in codes), Counter(codes)
    imported = _imported(kind)
    assert len(imported) == len(set(imported)) == (30 if kind == "roster" else 20)
    action = "roster.import" if kind == "roster" else "questions.import"
    assert count(AuditEntry, AuditEntry.action == action) == 1
    assert count(PendingUpload) == 0


def _one_then_rest(prepare: Callable) -> Callable:
    """``prepare`` for the first client before any other's (the token they all share)."""
    first_done = threading.Event()

    def ordered(client, index):
        if index == 0:
            try:
                prepare(client, index)
            finally:
                first_done.set()
        else:
            assert first_done.wait(60)
            prepare(client, index)

    return ordered


@pytest.mark.parametrize("kind", sorted(IMPORTS))
def test_two_importers_confirming_the_same_file_at_once_make_no_duplicates(app, org, kind,
                                                                           make_person):
    """Four admins preview the same file and confirm at
    the same instant, each seeing a plan that creates everything: the rows exist once.
    Imports take turns (a transaction-scoped lock on PostgreSQL; SQLite's write lock)
    and each plans again after it, so the later ones find the rows already there (the
    roster's accounts unchanged, the questions skipped as duplicates)."""
    admins = [org.admin] + [make_person(f"admin{n}", unit=org.top, role=Role.ADMIN,
                                        name=f"管理员{n}") for n in (2, 3, 4)]
    tokens: dict[int, str] = {}

    def prepare(client, index):
        tokens[index] = _upload(client, kind)

    def act(client, index):
        reply = client.post(IMPORTS[kind][1], data={"token": tokens[index],
                                                    "duplicates": "skip"})
        return reply.status_code

    codes = race(app, admins, act, prepare)
    assert all(code < 500 for code in codes), Counter(codes)
    imported = _imported(kind)
    assert len(imported) == len(set(imported)) == (30 if kind == "roster" else 20)


# --- a save or a regrade landing between a submit's grading and its write lock ------------

def _started_with(quiz, person: Person, answers: dict[int, object]) -> tuple[int, str]:
    """An open attempt of ``person`` with ``answers`` (position: response) saved and
    committed: its id and its device token."""
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, person))
    for position, response in answers.items():
        taking.save_answer(attempt, position, response, None, attempt.session_token)
    db.session.commit()
    return attempt.id, attempt.session_token


def _submit_paused_after_grading(monkeypatch) -> tuple[threading.Event, threading.Event]:
    """Hold every submit between its grading (before the write lock) and its write
    transaction (taking.submit_graded) until ``resume`` is set; ``graded`` is set when
    one got there. Nothing is locked while it waits (start_writing ended the read)."""
    graded, resume = threading.Event(), threading.Event()
    real = taking.submit_graded

    def paused(*args, **kwargs):
        graded.set()
        assert resume.wait(60), "the other request never finished"
        return real(*args, **kwargs)

    monkeypatch.setattr(taking, "submit_graded", paused)
    return graded, resume


def _in_the_window(graded: threading.Event, resume: threading.Event, meanwhile: Callable):
    """The second racer: once the submit has graded, ``meanwhile()`` (its answer is the
    racer's), then the submit goes on, whatever happened."""
    assert graded.wait(60), "the submit never graded"
    try:
        return meanwhile()
    finally:
        resume.set()


def test_a_save_landing_between_the_submits_grading_and_its_lock_is_graded(
        app, org, make_quiz, monkeypatch):
    """A submit reads and grades the answers before it takes the write lock; a save from
    a second tab lands in between, turning a wrong answer right, and is acknowledged.
    The submit's check under the lock (the sum of the answers' versions, which every save
    raises) sees it and grades again there: the attempt's score counts the saved answer.
    Without the check the submit would store the grade of the answer it read (0) while
    the acknowledged answer is "A" (20)."""
    quiz = make_quiz()
    attempt_id, token = _started_with(quiz, org.teacher, {1: "B"})  # wrong: the key is A
    graded, resume = _submit_paused_after_grading(monkeypatch)

    prepare = holding_token(attempt_id, token)

    def act(client, index):
        if index == 0:
            return client.post(f"/attempts/{attempt_id}/submit").status_code

        def save():
            reply = client.post(f"/attempts/{attempt_id}/answers",
                                json={"position": 1, "response": "A"})
            return reply.status_code, reply.get_json()["ok"]
        return _in_the_window(graded, resume, save)

    submitted, saved = race(app, [org.teacher] * 2, act, prepare)
    assert submitted == 302 and saved == (200, True)
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status is AttemptStatus.SUBMITTED
    row = db.session.get(AttemptQuestion, (attempt_id, 1))
    assert row.response == "A" and row.score == 20
    assert attempt.score == 20
    assert count(AttemptEvent, AttemptEvent.attempt_id == attempt_id,
                 AttemptEvent.kind == "submit") == 1


def test_a_regrade_landing_between_the_submits_grading_and_its_lock_is_graded(
        app, org, make_quiz, monkeypatch):
    """The same window, with an admin's regrade of the first question (its key fixed
    from A to B) committed in it: the regrade rewrites the open attempt's question but
    grades only submitted attempts, so the submit must see the change (the regrade
    raises the rows' versions) and grade by the new key under the lock."""
    import question_bank as qb
    from studyhall.bank import operations as bank_ops
    from studyhall.quizzes import grading
    from studyhall.quizzes.models import Quiz

    quiz = make_quiz()
    attempt_id, token = _started_with(quiz, org.teacher, {1: "B"})  # right once fixed
    quiz_id = quiz.id
    question_id, admin_id = make_quiz.question_ids[0], org.admin.id
    graded, resume = _submit_paused_after_grading(monkeypatch)

    prepare = holding_token(attempt_id, token)

    def act(client, index):
        if index == 0:
            return client.post(f"/attempts/{attempt_id}/submit").status_code

        def fix_the_key_and_regrade():
            with app.app_context():
                row = db.session.get(Question, question_id)
                bank_ops.save_question(row, qb.Question(
                    type="single", stem="党员的预备期为几年？", options=("一年", "两年", "三年"),
                    answer="B", points=20), row.category)
                db.session.commit()
                grading.regrade_question(db.session.get(Person, admin_id),
                                         db.session.get(Quiz, quiz_id), question_id)
                db.session.commit()
            return "regraded"
        return _in_the_window(graded, resume, fix_the_key_and_regrade)

    assert race(app, [org.teacher] * 2, act, prepare) == [302, "regraded"]
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status is AttemptStatus.SUBMITTED
    assert db.session.get(AttemptQuestion, (attempt_id, 1)).score == 20
    assert attempt.score == 20


def test_a_save_committing_while_the_submit_waits_for_the_attempts_lock_is_graded(
        app, org, make_quiz, monkeypatch):
    """PostgreSQL: a save holds the attempt's row lock (taking.SAVE_CONTEXT) and has
    written a right answer, uncommitted, when the submit that graded the wrong one asks
    for the lock; the save commits while the submit waits. A statement that waited on a
    row lock reads its subqueries as of its own start, so the submit reads its answers'
    versions in a statement after the one that locks (taking.submit_graded): it sees the
    save and grades again. Read in the locking statement, the versions would miss it and
    the stale grade (0) would be stored. SQLite has one writer: no such interleaving."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite serialises writers on the database")

    quiz = make_quiz()
    attempt_id, token = _started_with(quiz, org.teacher, {1: "B"})  # wrong: the key is A
    graded, resume = _submit_paused_after_grading(monkeypatch)
    codes: list = []

    def submit():
        client = app.test_client()
        client.post("/login", data={"account": org.teacher.account, "password": PASSWORD})
        give_token(client, attempt_id, token)
        codes.append(client.post(f"/attempts/{attempt_id}/submit").status_code)

    db.session.remove()
    thread = threading.Thread(target=submit)
    thread.start()
    try:
        assert graded.wait(60), "the submit never graded"
        # The save's transaction, as the request runs it: the attempt locked, the answer
        # written; not committed yet.
        row = db.session.connection().execute(taking.SAVE_CONTEXT, {
            "attempt_id": attempt_id, "person_id": org.teacher.id, "position": 1}).one()
        taking.save_answer(row, 1, "A", None, token, row=(row.type, row.option_order,
                                                          row.score))
        resume.set()
        wait_until_someone_waits_for_a_lock(db.engine.url, thread,
                                            "the submit never waited for the save's lock")
    finally:
        resume.set()
        db.session.commit()  # the save is acknowledged
        thread.join(60)
    assert codes == [302]
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status is AttemptStatus.SUBMITTED
    assert db.session.get(AttemptQuestion, (attempt_id, 1)).score == 20
    assert attempt.score == 20


def test_a_takeover_landing_between_the_submits_grading_and_its_lock_refuses_the_submit(
        app, org, make_quiz, monkeypatch):
    """The phone submits; while its submit is between grading and the write lock, the
    laptop takes the attempt over. Under the lock the submit finds another device's token
    and is refused as a stale tab is (sent back to the paper, nothing written); the
    phone's next submit is refused before the lock; the laptop goes on and submits."""
    quiz = make_quiz()
    attempt_id, token = _started_with(quiz, org.teacher, {})
    graded, resume = _submit_paused_after_grading(monkeypatch)

    def prepare(client, index):
        if index == 0:
            give_token(client, attempt_id, token)

    def act(client, index):
        if index == 0:
            reply = client.post(f"/attempts/{attempt_id}/submit")
            again = client.post(f"/attempts/{attempt_id}/submit")
            return reply.status_code, reply.location, again.location
        taken = _in_the_window(
            graded, resume, lambda: client.post(f"/attempts/{attempt_id}/takeover").status_code)
        assert taken == 302
        return client

    (status, location, again), laptop = race(app, [org.teacher] * 2, act, prepare)
    assert status == 302 and location.endswith(f"/attempts/{attempt_id}")
    assert again.endswith(f"/attempts/{attempt_id}")
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status is AttemptStatus.IN_PROGRESS and attempt.session_token != token
    assert count(AttemptEvent, AttemptEvent.kind == "submit") == 0
    db.session.remove()
    monkeypatch.undo()
    assert laptop.post(f"/attempts/{attempt_id}/answers",
                       json={"position": 1, "response": "A"}).status_code == 200
    reply = laptop.post(f"/attempts/{attempt_id}/submit")
    assert reply.location.endswith(f"/attempts/{attempt_id}/result")
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status is AttemptStatus.SUBMITTED and attempt.score == 20
