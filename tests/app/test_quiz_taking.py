"""Taking a quiz: starting, saving, the server's clock, submitting once, results, and
that no correct answer reaches the browser before review is allowed."""

import concurrent.futures
import json
import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.quizzes import taking
from studyhall.quizzes.models import Attempt, AttemptEvent, AttemptQuestion, AttemptStatus
from tests.app.leaks import assert_no_leak
from tests.factories import PASSWORD

RIGHT = {1: "A", 2: ["A", "B", "D"], 3: False, 4: ["中央委员会"], 5: "三会是支部党员大会等"}


def start(client, quiz) -> int:
    response = client.post(f"/quizzes/{quiz.id}/start")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/attempts/(\d+)", response.location).group(1))


def save(client, attempt_id, position, response, flagged=None):
    return client.post(f"/attempts/{attempt_id}/answers",
                       json={"position": position, "response": response, "flagged": flagged})


def test_people_outside_the_audience_get_a_404_that_names_nothing(client, org, login,
                                                                 make_quiz):
    quiz = make_quiz()
    login(org.outsider)
    for response in (client.get(f"/quizzes/{quiz.id}"), client.post(f"/quizzes/{quiz.id}/start")):
        assert response.status_code == 404
        assert "党纪党规" not in response.get_data(as_text=True)
    assert "党纪党规" not in client.get("/quizzes/").get_data(as_text=True)


def test_the_teacher_sees_the_open_quiz_on_their_dashboard(client, org, login, make_quiz):
    make_quiz()
    login(org.teacher)
    page = client.get("/").get_data(as_text=True)
    assert "党纪党规知识测试" in page and "Start" in page


def test_a_full_attempt_saves_every_answer_and_grades_on_submit(client, org, login, make_quiz):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    for position, response in RIGHT.items():
        reply = save(client, attempt_id, position, response)
        assert reply.status_code == 200 and reply.get_json()["ok"]
    client.post(f"/attempts/{attempt_id}/submit")
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status is AttemptStatus.SUBMITTED and attempt.end_reason == "submitted"
    assert attempt.score == Decimal(80) and attempt.pending_manual  # 简答 waits for a grader
    page = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "Awaiting grading" in page and "80" in page


def test_the_paper_never_contains_an_answer_or_explanation(client, org, login, make_quiz):
    quiz = make_quiz(review_policy="after_close")
    login(org.teacher)
    attempt_id = start(client, quiz)
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "党员的预备期为几年？" in page
    assert_no_leak(page)
    assert "checked" not in page
    for position, response in RIGHT.items():
        reply = save(client, attempt_id, position, response)
        assert reply.status_code == 200
        assert_no_leak(reply)  # decoded: jsonify writes Chinese as \uXXXX
    assert_no_leak(client.get("/quizzes/").get_data(as_text=True))
    assert_no_leak(client.get(f"/quizzes/{quiz.id}").get_data(as_text=True))
    client.post(f"/attempts/{attempt_id}/submit")
    result = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "Scores and answers are shown after the quiz closes" in result
    assert_no_leak(result)
    # The score (80) is nowhere on the page; the CSRF tokens are random text that may
    # hold those two digits, so the tags carrying them are left out of the check.
    assert "80" not in re.sub(r"<[^>]*csrf[^>]*>", "", result)


def test_review_after_close_shows_answers_once_closed(client, org, login, make_quiz):
    quiz = make_quiz(review_policy="after_close")
    login(org.teacher)
    attempt_id = start(client, quiz)
    save(client, attempt_id, 1, "B")
    client.post(f"/attempts/{attempt_id}/submit")
    quiz.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "解析甲" in result and "支部党员大会、支部委员会会议" in result
    assert "Not passed" in result


def test_saved_answers_come_back_after_a_reload(client, org, login, make_quiz):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    save(client, attempt_id, 2, ["B", "D"], flagged=True)
    save(client, attempt_id, 4, ["全国委员会"])
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert page.count("checked") == 3  # two options and the flag
    assert 'value="全国委员会"' in page


def test_starting_again_resumes_the_open_attempt(client, org, login, make_quiz):
    quiz = make_quiz(attempts_allowed=2)
    login(org.teacher)
    first = start(client, quiz)
    assert start(client, quiz) == first
    client.post(f"/attempts/{first}/submit")
    second = start(client, quiz)
    assert second != first
    client.post(f"/attempts/{second}/submit")
    response = client.post(f"/quizzes/{quiz.id}/start", follow_redirects=True)
    assert "You have used all your attempts." in response.get_data(as_text=True)


@pytest.mark.parametrize("response, expected", [
    ("b", "B"), (["d", "a"], ["A", "D"]), ("对", True), ([" 党中央 "], ["党中央"]), ("", None),
])
def test_responses_are_stored_in_a_clean_shape(client, org, login, make_quiz, response,
                                               expected):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    position = {str: 1, list: 2, bool: 3}.get(type(expected), 1)
    if expected == ["党中央"]:
        position = 4
    if response == "对":
        position = 3
    reply = save(client, attempt_id, position, response)
    assert reply.status_code == 200
    row = db.session.get(AttemptQuestion, (attempt_id, position))
    assert row.response == expected


@pytest.mark.parametrize("position, response", [(1, "Z"), (1, "D"), (3, "maybe"),
                                                (5, "x" * 10_001)])
def test_malformed_responses_are_refused(client, org, login, make_quiz, position, response):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    reply = save(client, attempt_id, position, response)
    assert reply.status_code in (413, 422)


def test_the_deadline_is_fixed_at_start_from_the_limit_and_the_window(client, org, login,
                                                                      make_quiz):
    quiz = make_quiz(time_limit_minutes=30)
    login(org.teacher)
    attempt = db.session.get(Attempt, start(client, quiz))
    assert attempt.deadline_at - attempt.started_at == timedelta(minutes=30)
    quiz2 = make_quiz(title="短窗口", time_limit_minutes=120)
    attempt2 = db.session.get(Attempt, start(client, quiz2))
    assert attempt2.deadline_at == quiz2.closes_at


def test_a_save_after_the_deadline_is_refused_and_the_attempt_finished(client, org, login,
                                                                       make_quiz):
    quiz = make_quiz(time_limit_minutes=10)
    login(org.teacher)
    attempt_id = start(client, quiz)
    assert save(client, attempt_id, 1, "A").status_code == 200
    attempt = db.session.get(Attempt, attempt_id)
    attempt.deadline_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    reply = save(client, attempt_id, 3, False)
    assert reply.status_code == 409 and reply.get_json()["error"] == "expired"
    db.session.expire_all()
    assert attempt.status is AttemptStatus.SUBMITTED and attempt.end_reason == "expired"
    assert attempt.score == 20  # the answer saved in time counts; the late one does not
    assert db.session.get(AttemptQuestion, (attempt_id, 3)).response is None


def test_a_save_just_before_the_deadline_is_kept(app, org, make_quiz):
    quiz = make_quiz(time_limit_minutes=10)
    recipient = taking.recipient_of(quiz, org.teacher)
    attempt = taking.start_attempt(quiz, recipient)
    db.session.commit()
    just_before = attempt.deadline_at - timedelta(milliseconds=1)
    taking.save_answer(attempt, 1, "A", None, attempt.session_token, now=just_before)
    with pytest.raises(taking.TakingError):
        taking.save_answer(attempt, 1, "B", None, attempt.session_token,
                           now=attempt.deadline_at)
    assert db.session.get(AttemptQuestion, (attempt.id, 1)).response == "A"


def test_the_clients_clock_does_not_matter(client, org, login, make_quiz):
    """Only the server's time decides: a client claiming another time changes nothing.
    The save is stamped with the server's clock and the deadline stays start + limit."""
    from datetime import datetime

    quiz = make_quiz(time_limit_minutes=10)
    login(org.teacher)
    attempt_id = start(client, quiz)
    attempt = db.session.get(Attempt, attempt_id)
    deadline = attempt.deadline_at
    assert deadline == attempt.started_at + timedelta(minutes=10)
    for skew, claimed in (("+1h", "2099-01-01"), ("-1h", "2000-01-01")):
        before = utcnow()
        reply = client.post(f"/attempts/{attempt_id}/answers", json={
            "position": 1, "response": "A", "client_time": skew, "now": claimed},
            headers={"Date": "Thu, 01 Jan 2099 00:00:00 GMT"})
        after = utcnow()
        assert reply.status_code == 200
        saved_at = datetime.fromisoformat(reply.get_json()["saved_at"].removesuffix("Z"))
        assert before <= saved_at <= after
        db.session.expire_all()
        assert db.session.get(AttemptQuestion, (attempt_id, 1)).saved_at == saved_at
        assert db.session.get(Attempt, attempt_id).deadline_at == deadline
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert f'data-deadline="{deadline.isoformat()}Z"' in page


def test_close_expired_finishes_overdue_attempts_with_saved_answers(app, org, make_quiz):
    quiz = make_quiz(time_limit_minutes=10)
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, org.teacher))
    taking.save_answer(attempt, 3, False, None, attempt.session_token)
    db.session.commit()
    assert taking.close_expired(now=attempt.deadline_at - timedelta(seconds=1)) == 0
    runner = app.test_cli_runner()
    attempt.deadline_at = utcnow() - timedelta(seconds=5)
    db.session.commit()
    result = runner.invoke(args=["close-expired"])
    assert result.exit_code == 0
    db.session.expire_all()
    assert attempt.status is AttemptStatus.SUBMITTED and attempt.score == 20
    assert runner.invoke(args=["close-expired"]).exit_code == 0


def test_opening_the_expired_paper_finishes_it(client, org, login, make_quiz):
    quiz = make_quiz(time_limit_minutes=10)
    login(org.teacher)
    attempt_id = start(client, quiz)
    attempt = db.session.get(Attempt, attempt_id)
    attempt.deadline_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.get(f"/attempts/{attempt_id}")
    assert response.location == f"/attempts/{attempt_id}/result"
    db.session.expire_all()
    assert attempt.status is AttemptStatus.SUBMITTED


def test_submitting_twice_gives_one_result(client, org, login, make_quiz):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    save(client, attempt_id, 1, "A")
    client.post(f"/attempts/{attempt_id}/submit")
    attempt = db.session.get(Attempt, attempt_id)
    submitted_at = attempt.submitted_at
    save(client, attempt_id, 3, False)
    client.post(f"/attempts/{attempt_id}/submit")
    db.session.expire_all()
    assert attempt.submitted_at == submitted_at and attempt.score == 20


def test_another_persons_attempt_is_a_404(client, org, login, make_person, make_quiz):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    colleague = make_person("t9", unit=org.branch_a)
    client.post("/logout")
    login(colleague)
    assert client.get(f"/attempts/{attempt_id}").status_code == 404
    assert save(client, attempt_id, 1, "B").status_code == 404
    assert client.post(f"/attempts/{attempt_id}/submit").status_code == 404
    assert client.get(f"/attempts/{attempt_id}/result").status_code == 404


def test_a_second_device_takes_over_only_after_confirming(app, org, make_quiz):
    quiz = make_quiz()
    phone, laptop = app.test_client(), app.test_client()
    for device in (phone, laptop):
        device.set_cookie("lang", "en")
        device.post("/login", data={"account": "t1", "password": PASSWORD})
    attempt_id = start(phone, quiz)
    page = laptop.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "open on another device" in page and "党员的预备期" not in page
    assert save(laptop, attempt_id, 1, "A").status_code == 409
    laptop.post(f"/attempts/{attempt_id}/takeover")
    assert save(laptop, attempt_id, 1, "A").status_code == 200
    refused = save(phone, attempt_id, 1, "B")
    assert refused.status_code == 409 and refused.get_json()["error"] == "taken_over"
    kinds = db.session.scalars(sa.select(AttemptEvent.kind)).all()
    assert kinds == ["takeover"]


def test_leaving_the_page_is_logged_and_can_submit_the_attempt(client, org, login, make_quiz):
    quiz = make_quiz(max_departures=2)
    login(org.teacher)
    attempt_id = start(client, quiz)
    reply = client.post(f"/attempts/{attempt_id}/events", json={"kind": "leave"}).get_json()
    assert reply == {"ok": True, "departures": 1, "submitted": False, "limit": 2}
    client.post(f"/attempts/{attempt_id}/events", json={"kind": "return"})
    reply = client.post(f"/attempts/{attempt_id}/events", json={"kind": "leave"}).get_json()
    assert reply["submitted"] is True
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.end_reason == "departures"
    kinds = db.session.scalars(sa.select(AttemptEvent.kind).order_by(AttemptEvent.id)).all()
    assert kinds == ["leave", "return", "leave", "submit"]


def test_practice_explains_each_answer_at_once(client, org, login, make_quiz):
    quiz = make_quiz(mode="practice", title="每日一练")
    login(org.teacher)
    attempt_id = start(client, quiz)
    feedback = save(client, attempt_id, 1, "B").get_json()["feedback"]
    assert feedback["correct"] is False and feedback["answer"] == "A"
    assert save(client, attempt_id, 3, False).get_json()["feedback"]["correct"] is True


def test_options_are_shuffled_per_person_and_graded_in_the_letters_shown(client, org, login,
                                                                        make_quiz):
    quiz = make_quiz(shuffle_options=True)
    login(org.teacher)
    attempt_id = start(client, quiz)
    row = db.session.get(AttemptQuestion, (attempt_id, 1))
    shown = "ABC"[row.option_order.index(0)]  # where "一年" (the answer) is shown
    save(client, attempt_id, 1, shown)
    client.post(f"/attempts/{attempt_id}/submit")
    assert db.session.get(AttemptQuestion, (attempt_id, 1)).score == 20


def test_answer_bodies_are_small(client, org, login, make_quiz):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    big = json.dumps({"position": 5, "response": "长" * 70_000})
    reply = client.post(f"/attempts/{attempt_id}/answers", data=big,
                        content_type="application/json")
    assert reply.status_code == 413


def _concurrently(app, count, work):
    """Run ``work(client, barrier)`` from ``count`` logged-in clients at once; each calls
    ``barrier.wait()`` just before the request that races, so all of them line up."""
    clients = []
    for _ in range(count):
        client = app.test_client()
        client.post("/login", data={"account": "t1", "password": PASSWORD})
        clients.append(client)
    db.session.remove()
    barrier = threading.Barrier(count, timeout=60)
    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda c: _in_context(app, work, c, barrier), clients))


def _in_context(app, work, client, barrier):
    with app.app_context():
        return work(client, barrier)


def test_twenty_concurrent_submits_grade_once(app, org, make_quiz):
    """Twenty submits of one attempt released together: one of them finishes and grades
    it (one "submit" event), the others find it submitted."""
    quiz = make_quiz()
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, org.teacher))
    db.session.commit()
    token, attempt_id, quiz_id = attempt.session_token, attempt.id, quiz.id

    def submit(client, barrier):
        with client.session_transaction() as session:
            session["attempt_tokens"] = {str(attempt_id): token}
        client.post(f"/attempts/{attempt_id}/answers", json={"position": 1, "response": "A"})
        barrier.wait()
        return client.post(f"/attempts/{attempt_id}/submit").status_code

    codes = _concurrently(app, 20, submit)
    assert set(codes) == {302}
    rows = db.session.scalars(sa.select(Attempt).where(Attempt.quiz_id == quiz_id)).all()
    assert len(rows) == 1 and rows[0].status is AttemptStatus.SUBMITTED
    assert rows[0].score == 20
    gradings = db.session.scalars(sa.select(AttemptEvent.kind).where(
        AttemptEvent.attempt_id == attempt_id)).all()
    assert gradings == ["submit"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttemptQuestion)) == 5


def test_concurrent_starts_give_one_attempt(app, org, make_quiz):
    quiz_id = make_quiz().id

    def start_now(client, barrier):
        barrier.wait()
        return client.post(f"/quizzes/{quiz_id}/start").location

    locations = _concurrently(app, 8, start_now)
    assert len(set(locations)) == 1 and locations[0] is not None
    assert db.session.scalar(sa.select(sa.func.count(Attempt.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttemptQuestion)) == 5


def test_the_database_refuses_a_second_open_attempt(app, org, make_quiz):
    from sqlalchemy.exc import IntegrityError

    quiz = make_quiz(attempts_allowed=3)
    now = utcnow()
    for number in (1, 2):
        db.session.add(Attempt(quiz_id=quiz.id, person_id=org.teacher.id, number=number,
                               deadline_at=now, seed="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_practice_builds_the_persons_own_record(client, org, login, make_quiz):
    quiz = make_quiz(mode="practice", title="每日一练")
    login(org.teacher)
    attempt_id = start(client, quiz)
    save(client, attempt_id, 1, "A")
    save(client, attempt_id, 3, True)
    save(client, attempt_id, 2, None)  # cleared: not counted
    page = client.get("/quizzes/").get_data(as_text=True)
    assert "Practice record: 2 questions answered, 50% right." in page


def test_a_cleared_answer_is_stored_as_unanswered(client, org, login, make_quiz):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    save(client, attempt_id, 5, "草稿")
    save(client, attempt_id, 5, "")
    answered = db.session.scalar(sa.select(sa.func.count()).select_from(AttemptQuestion).where(
        AttemptQuestion.attempt_id == attempt_id, AttemptQuestion.response.is_not(None)))
    assert answered == 0
    client.post(f"/attempts/{attempt_id}/submit")
    assert not db.session.get(Attempt, attempt_id).pending_manual


def test_moving_the_close_earlier_brings_open_deadlines_forward(app, org, make_quiz):
    from studyhall.quizzes import operations

    quiz = make_quiz()
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, org.teacher))
    db.session.commit()
    new_close = utcnow() + timedelta(minutes=10)
    operations.update_quiz(org.admin, quiz, {"closes_at": new_close})
    db.session.commit()
    db.session.expire_all()
    assert attempt.deadline_at == new_close


def test_publishing_keeps_only_people_under_the_owner_and_in_the_publishers_scope(
        app, org, make_quiz):
    """A quiz reaches only people its managers can see: under its owner unit, and in
    the scope of whoever publishes it."""
    from studyhall.quizzes import operations
    from studyhall.quizzes.models import Quiz, QuizRecipient

    bureau = make_quiz(audience={"unit_ids": [org.top.id]}, title="全局",
                       owner_unit_id=org.top.id)
    assert {r.person_id for r in db.session.scalars(
        sa.select(QuizRecipient).where(QuizRecipient.quiz_id == bureau.id))} == {
        org.admin.id, org.secretary.id, org.teacher.id, org.outsider.id}
    branch = make_quiz(audience={"unit_ids": [org.top.id]}, title="总支")  # owned by gen_a
    assert {r.person_id for r in db.session.scalars(
        sa.select(QuizRecipient).where(QuizRecipient.quiz_id == branch.id))} == {
        org.secretary.id, org.teacher.id}
    foreign = Quiz(title="越权", owner_unit_id=org.gen_b.id, opens_at=branch.opens_at,
                   closes_at=branch.closes_at, paper=branch.paper,
                   audience={"unit_ids": [org.gen_b.id]})
    db.session.add(foreign)
    db.session.flush()
    with pytest.raises(operations.QuizError):
        operations.publish_quiz(org.secretary, foreign)


def test_practice_answers_are_final_once_checked(client, org, login, make_quiz):
    quiz = make_quiz(mode="practice", title="每日一练")
    login(org.teacher)
    attempt_id = start(client, quiz)
    assert save(client, attempt_id, 1, "B").status_code == 200
    assert save(client, attempt_id, 1, "A").status_code == 422
    assert db.session.get(AttemptQuestion, (attempt_id, 1)).response == "B"


def test_with_attempts_left_the_key_waits_but_results_stay_reachable(client, org, login,
                                                                   make_quiz):
    quiz = make_quiz(attempts_allowed=2)
    login(org.teacher)
    attempt_id = start(client, quiz)
    save(client, attempt_id, 1, "B")
    client.post(f"/attempts/{attempt_id}/submit")
    result = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "You may try again" in result
    assert_no_leak(result)
    start_page = client.get(f"/quizzes/{quiz.id}").get_data(as_text=True)
    assert f"/attempts/{attempt_id}/result" in start_page


def test_a_submit_after_the_deadline_counts_as_expired(client, org, login, make_quiz):
    quiz = make_quiz(time_limit_minutes=5)
    login(org.teacher)
    attempt_id = start(client, quiz)
    attempt = db.session.get(Attempt, attempt_id)
    attempt.deadline_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    client.post(f"/attempts/{attempt_id}/submit")
    db.session.expire_all()
    assert attempt.end_reason == "expired" and attempt.submitted_at == attempt.deadline_at


def test_on_sqlite_a_start_draws_its_paper_before_taking_the_write_lock(client, org, login,
                                                                      make_quiz):
    """The county-wide 15:00 start: reads begin deferred, the inserts IMMEDIATE."""
    from sqlalchemy import event

    quiz_id = make_quiz().id
    login(org.teacher)
    db.session.rollback()  # no transaction of the test's own left open
    if db.engine.dialect.name != "sqlite":
        # PostgreSQL locks only the rows it writes; the start simply works.
        assert client.post(f"/quizzes/{quiz_id}/start").status_code == 302
        return
    statements = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement if statement.startswith("BEGIN") else statement.split()[0])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        client.post(f"/quizzes/{quiz_id}/start")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins[:2] == ["BEGIN", "BEGIN IMMEDIATE"]
    first_write = next(i for i, s in enumerate(statements) if s in ("INSERT", "UPDATE"))
    assert statements.index("BEGIN IMMEDIATE") < first_write


def test_an_answer_save_reads_once_and_writes_once(client, org, login, make_quiz):
    """The exam's hot path: the login session, then the attempt with its quiz and the row
    answered in one read, then one UPDATE (bench/bench_quiz_load.py measures it)."""
    from sqlalchemy import event

    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    save(client, attempt_id, 1, "B")  # the login session's last-seen touch happens once
    db.session.rollback()
    statements = []

    def listener(conn, cursor, statement, *args):
        if not statement.startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            statements.append(statement.split()[0])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert save(client, attempt_id, 1, "A").get_json()["ok"] is True
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert statements == ["SELECT", "SELECT", "UPDATE"], statements
    db.session.expire_all()
    assert db.session.get(AttemptQuestion, (attempt_id, 1)).response == "A"


# --- refusals the page's script can rely on (issue 7 items 9 and 10) ---------------------

def refusal(reply, status: int, code: str) -> None:
    """A refusal in the JSON contract: the status, {"ok": false, "error", "message"}."""
    assert reply.status_code == status, reply.get_data(as_text=True)
    body = reply.get_json()
    assert body["ok"] is False and body["error"] == code and body["message"]


@pytest.mark.parametrize("position, response", [
    (1, 1), (1, True), (1, {"a": 1}), (1, ["A", 1]), (1, "AB"), (1, 2.5), (1, "A" * 100),
    (2, {"A": True}), (2, 3), (2, [["A"]]), (2, ["A"] * 9), (3, 1), (3, {"x": 1}),
    (3, [True]), (3, "对" * 50), (4, {"a": "b"}), (4, [1]), (5, ["文本"]), (5, 12),
])
def test_responses_of_the_wrong_type_are_refused_with_a_message(client, org, login, make_quiz,
                                                                position, response):
    """A number, a boolean or an object as a choice gave a 500, and {"a": 1} was read as
    "A": each is refused and nothing is stored."""
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    refusal(save(client, attempt_id, position, response), 422, "bad_response")
    assert db.session.get(AttemptQuestion, (attempt_id, position)).response is None


@pytest.mark.parametrize("position", [2**63, 2**31, 10**20, 0, -1, 6, True, "1", 1.5, None])
def test_positions_out_of_range_or_of_the_wrong_type_are_refused(client, org, login,
                                                                  make_quiz, position):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    refusal(save(client, attempt_id, position, "A"), 422, "bad_position")
    assert db.session.get(AttemptQuestion, (attempt_id, 1)).response is None


def test_bodies_that_are_not_a_json_object_and_bad_flags_and_events_are_refused(
        client, org, login, make_quiz):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    url = f"/attempts/{attempt_id}/answers"
    for body in ("[1, 2]", "not json", '"A"'):
        refusal(client.post(url, data=body, content_type="application/json"), 400,
                "bad_request")
    refusal(client.post(url, data="position=1", content_type="text/plain"), 400,
            "bad_request")
    refusal(save(client, attempt_id, 1, "A", flagged="yes"), 422, "bad_flag")
    refusal(client.post(f"/attempts/{attempt_id}/events", json={"kind": "dance"}), 422,
            "bad_kind")
    refusal(client.post(f"/attempts/{attempt_id}/events", json=[]), 400, "bad_request")


def test_a_large_body_is_refused_as_json(client, org, login, make_quiz):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    big = json.dumps({"position": 5, "response": "长" * 70_000})
    refusal(client.post(f"/attempts/{attempt_id}/answers", data=big,
                        content_type="application/json"), 413, "too_large")


def test_a_chunked_body_is_held_to_the_json_limit_too(client, org, login, make_quiz,
                                                      monkeypatch):
    """Sent chunked (no Content-Length; the server marks the input terminated), a 5 MB
    body was read in full. With CSRF on, as in production, whose check reads the form
    (and so opens the input stream) before the view runs."""
    import io

    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    monkeypatch.setitem(client.application.config, "WTF_CSRF_ENABLED", True)
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    headers = {"X-CSRFToken": re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)}
    url = f"/attempts/{attempt_id}/answers"

    class Counted(io.BytesIO):
        """The client's body, counting what the server reads of it."""
        taken = 0

        def read(self, size=-1):
            data = super().read(size)
            self.taken += len(data)
            return data

        def readinto(self, buffer):
            size = super().readinto(buffer)
            self.taken += size
            return size

    def chunked(body: Counted):
        environ = EnvironBuilder(path=url, method="POST", input_stream=body,
                                 content_type="application/json", headers=headers).get_environ()
        del environ["CONTENT_LENGTH"]
        environ["wsgi.input_terminated"] = True  # what a server does for a chunked body
        return client.open(Request(environ))

    small = chunked(Counted(json.dumps({"position": 1, "response": "A"}).encode()))
    assert small.status_code == 200 and small.get_json()["ok"] is True  # the control
    five_mb = Counted(json.dumps({"position": 5, "response": "长" * 1_700_000}).encode())
    assert len(five_mb.getvalue()) > 5_000_000
    refusal(chunked(five_mb), 413, "too_large")
    assert five_mb.taken <= 64 * 1024  # never read past the limit
    assert db.session.get(AttemptQuestion, (attempt_id, 5)).response is None
