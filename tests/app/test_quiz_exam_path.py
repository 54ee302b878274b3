"""The exam path at scale (issue 12 item 11): what the paper page, a start and a submit
read and write is pinned here, so that a change which adds a query to every one of a
county's requests shows; and what the faster paths must still do (the snapshot as it is
under the lock, the page's strings as Flask-Babel gives them)."""

import json
import re
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal

import sqlalchemy as sa
from flask import render_template_string
from flask_babel import force_locale, gettext
from sqlalchemy import event

import question_bank as qb
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.quizzes import paper as papers
from studyhall.quizzes import taking
from studyhall.quizzes.models import Attempt, AttemptQuestion, AttemptStatus, QuizQuestion


def start(client, quiz) -> int:
    response = client.post(f"/quizzes/{quiz.id}/start")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/attempts/(\d+)", response.location).group(1))


class Statements(list):
    """Each statement the engine runs: BEGIN … in full, any other by its first word and,
    for a SELECT, the table after its FROM."""

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_args):
        words = statement.split()
        if words[0] in ("SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT"):
            return
        if words[0] == "BEGIN":
            self.append(statement)
        elif words[0] == "SELECT":
            self.append("SELECT " + words[words.index("FROM") + 1])
        else:
            self.append(words[0] + " " + (words[2] if words[0] == "INSERT" else words[1]))


def test_the_paper_page_reads_the_login_the_attempt_with_its_quiz_and_the_rows(
        client, org, login, make_quiz):
    """Three reads: the login session's person, the attempt joined with its quiz, the
    paper's rows. No to-do count for the menu (two COUNT queries) on the paper."""
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    assert client.get(f"/attempts/{attempt_id}").status_code == 200
    db.session.rollback()
    with Statements() as statements:
        page = client.get(f"/attempts/{attempt_id}")
    assert page.status_code == 200
    reads = [s for s in statements if not s.startswith("BEGIN")]
    assert reads == ["SELECT person", "SELECT attempt", "SELECT attempt_question"], statements
    assert 'class="count"' not in page.get_data(as_text=True)
    # Elsewhere the menu still counts what is to do (this quiz, in progress).
    assert 'class="count"' in client.get("/").get_data(as_text=True)


def test_a_submit_grades_before_the_write_lock_and_checks_under_it(client, org, login,
                                                                    make_quiz):
    """The login, the attempt and its answers (with the snapshot's questions) are read,
    and graded, first (on SQLite in a deferred transaction); the write transaction reads
    the attempt's state and its answers' versions once (on PostgreSQL after locking its
    row), then writes the scores, the status with the total, and the event, and reloads
    nothing after: the redirect needs only the id. Builds no ORM object but the login."""
    from studyhall.quizzes.models import Quiz

    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    client.post(f"/attempts/{attempt_id}/answers", json={"position": 1, "response": "A"})
    db.session.rollback()
    with Statements() as statements, orm_objects_built(Attempt, AttemptQuestion,
                                                       Quiz) as loaded:
        reply = client.post(f"/attempts/{attempt_id}/submit")
    assert reply.status_code == 302 and reply.location.endswith(f"/attempts/{attempt_id}/result")
    assert loaded == [], loaded
    data = [s for s in statements if not s.startswith("BEGIN")]
    locked = ["SELECT attempt"] if db.engine.dialect.name == "postgresql" else []
    assert data == [
        "SELECT person", "SELECT attempt",  # before the lock: login; attempt, rows, snapshot
        # Under it: state and versions (the first FROM in the text is the versions' sum).
        *locked, "SELECT attempt_question",
        "UPDATE attempt_question", "UPDATE attempt", "INSERT attempt_event",  # scores; end
    ], statements
    if db.engine.dialect.name == "sqlite":
        begins = [s for s in statements if s.startswith("BEGIN")]
        assert begins == ["BEGIN", "BEGIN IMMEDIATE"], statements
        assert statements.index("BEGIN IMMEDIATE") == 3, statements
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status is AttemptStatus.SUBMITTED and attempt.end_reason == "submitted"
    assert attempt.score == Decimal(20) and not attempt.pending_manual
    assert db.session.scalars(sa.select(AttemptQuestion.score).where(
        AttemptQuestion.attempt_id == attempt_id).order_by(AttemptQuestion.position)
    ).all() == [Decimal(20), 0, 0, 0, 0]  # 简答 unanswered: 0, waits for no one


def test_a_start_draws_before_the_write_lock_and_inserts_under_it(client, org, login,
                                                                   make_quiz):
    """A burst of starts queues on SQLite's write lock, so a start reads and draws first
    (the login; the quiz, the person's place in its audience and their attempts in one
    plain row; the snapshot) and under the lock reads once (the close as it is now, with
    the person's attempts) and inserts the attempt and its rows, one statement each. No
    ORM object is built but the login's."""
    from studyhall.quizzes.models import Quiz, QuizRecipient

    quiz = make_quiz()
    login(org.teacher)
    quiz_id = quiz.id
    db.session.rollback()
    with Statements() as statements, orm_objects_built(Quiz, QuizRecipient, Attempt,
                                                       QuizQuestion) as loaded:
        reply = client.post(f"/quizzes/{quiz_id}/start")
    assert reply.status_code == 302
    assert loaded == [], loaded
    attempt_id = int(re.search(r"/attempts/(\d+)", reply.location).group(1))
    data = [s for s in statements if not s.startswith("BEGIN")]
    assert data == [
        # Before the lock: the login; the quiz with the recipient and the person's attempts
        # in subqueries (the first FROM in the text is theirs); the snapshot.
        "SELECT person", "SELECT attempt", "SELECT quiz_question",
        # Under it: the quiz's close and state, the person's attempts in subqueries; the
        # attempt; its rows.
        "SELECT attempt", "INSERT attempt", "INSERT attempt_question",
    ], statements
    if db.engine.dialect.name == "sqlite":
        begins = [s for s in statements if s.startswith("BEGIN")]
        assert begins == ["BEGIN", "BEGIN IMMEDIATE"], statements
        assert statements.index("BEGIN IMMEDIATE") == 4, statements
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.is_open and len(attempt.questions) == 5  # one question of each type


def test_start_and_submit_check_the_csrf_token_once_and_refuse_a_missing_one(
        client, org, login, make_quiz, monkeypatch):
    """CSRFProtect checks every POST before the view; the start and submit views no
    longer check the same token again through a form. Without a token both are refused
    and nothing is written."""
    import flask_wtf.csrf

    quiz = make_quiz()
    login(org.teacher)
    monkeypatch.setitem(client.application.config, "WTF_CSRF_ENABLED", True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get(f"/quizzes/{quiz.id}").get_data(as_text=True)).group(1)
    checks = []
    real = flask_wtf.csrf.validate_csrf
    monkeypatch.setattr(flask_wtf.csrf, "validate_csrf",
                        lambda *args, **kw: checks.append(1) or real(*args, **kw))
    assert client.post(f"/quizzes/{quiz.id}/start").status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Attempt.id))) == 0
    checks.clear()
    reply = client.post(f"/quizzes/{quiz.id}/start", data={"csrf_token": token})
    assert reply.status_code == 302 and len(checks) == 1
    attempt_id = int(re.search(r"/attempts/(\d+)", reply.location).group(1))
    assert client.post(f"/attempts/{attempt_id}/submit").status_code == 400
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).is_open
    checks.clear()
    reply = client.post(f"/attempts/{attempt_id}/submit", data={"csrf_token": token})
    assert reply.status_code == 302 and reply.location.endswith("/result")
    assert len(checks) == 1
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).status is AttemptStatus.SUBMITTED


def test_a_question_parsed_before_is_parsed_again_once_its_config_changed(app, org,
                                                                           make_quiz):
    """Starts, pages and submits reuse questions parsed earlier in the process
    (paper.question_of); a regrade that changes a key is graded by the new key, not by
    the question parsed before."""
    quiz = make_quiz()
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, org.teacher))
    taking.save_answer(attempt, 1, "A", None, attempt.session_token)  # right: the key is A
    row = db.session.get(AttemptQuestion, (attempt.id, 1))
    snapshot = db.session.get(QuizQuestion, (quiz.id, row.question_id))
    before = papers.question_of(row.question_id, snapshot.type, snapshot.config)
    assert papers.question_of(row.question_id, snapshot.type, dict(snapshot.config)) is before
    snapshot.config = replace(before, answer="B").to_config()
    db.session.flush()
    assert taking.finish_attempt(attempt, utcnow())
    db.session.expire_all()
    assert db.session.get(AttemptQuestion, (attempt.id, 1)).score == 0
    assert papers.question_of(row.question_id, snapshot.type, snapshot.config).answer == "B"


def test_a_remembered_question_is_not_changed_through_the_callers_config(app):
    config = qb.Question(type="single", stem="党员的预备期为几年？", options=("一年", "两年"),
                         answer="A").to_config()
    first = papers.question_of(-1, "single", config)
    config["answer"] = "B"  # the caller's dict, changed in place
    assert papers.question_of(-1, "single", config).answer == "B"
    assert first.answer == "A"


def test_template_strings_translate_as_flask_babel_does(app):
    """The templates' gettext keeps the catalogue for a render; it must give what
    Flask-Babel gives: the request's language, force_locale's inside it, escaped
    arguments, and "%%" read as a format string."""
    source = ('{{ _("answered") }}|{{ _("Question %(n)d", n=3) }}|{{ _("%(x)s", x="<b>") }}'
              '|{{ _("100%%") }}|{% for i in [1, 2] %}{{ _("Question %(n)d", n=i) }}{% endfor %}')
    with app.test_request_context("/"):
        assert render_template_string(source) == "已答|第 3 题|&lt;b&gt;|100%|第 1 题第 2 题"
        with force_locale("en"):
            assert render_template_string(source) == (
                "answered|Question 3|&lt;b&gt;|100%|Question 1Question 2")
    # A request of its own (the test's app context would keep the first one's locale).
    with app.app_context(), app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert render_template_string('{{ _("answered") }}') == gettext("answered") \
            == "answered"


@contextmanager
def orm_objects_built(*classes):
    """The names of the ORM objects of ``classes`` loaded or refreshed in the block."""
    loaded: list[str] = []

    def seen(instance, *_args):
        loaded.append(type(instance).__name__)

    targets = [(cls, kind) for cls in classes for kind in ("load", "refresh")]
    for cls, kind in targets:
        event.listen(cls, kind, seen)
    try:
        yield loaded
    finally:
        for cls, kind in targets:
            event.remove(cls, kind, seen)


def test_an_answer_save_reads_the_attempt_as_a_row_and_keeps_every_refusal(
        client, org, login, make_quiz):
    """The save's one read gives the attempt's columns, not an ORM object (building it was
    a tenth of a save); the rare paths still refuse as before: a save past the deadline
    finishes the attempt (graded, at its deadline) and is refused, and so is any save
    after that."""
    from datetime import timedelta

    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    db.session.rollback()
    with orm_objects_built(Attempt) as loaded:
        reply = client.post(f"/attempts/{attempt_id}/answers",
                            json={"position": 1, "response": "A"})
    assert reply.status_code == 200 and reply.get_json()["ok"] is True
    assert loaded == [], loaded
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    attempt.deadline_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    reply = client.post(f"/attempts/{attempt_id}/answers", json={"position": 2, "response": "A"})
    assert reply.status_code == 409 and reply.get_json()["error"] == "expired"
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status is AttemptStatus.SUBMITTED and attempt.end_reason == "expired"
    assert attempt.submitted_at == attempt.deadline_at and attempt.score == Decimal(20)
    assert db.session.get(AttemptQuestion, (attempt_id, 2)).response is None
    reply = client.post(f"/attempts/{attempt_id}/answers", json={"position": 2, "response": "A"})
    assert reply.status_code == 409 and reply.get_json()["error"] == "submitted"


def test_the_paper_page_builds_no_orm_object_but_the_login(client, org, login, make_quiz):
    """The page reads its attempt, quiz and rows as plain rows; only the rare paths load
    ORM objects (an expired attempt finished under the lock, the takeover page)."""
    from studyhall.quizzes.models import Quiz

    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    db.session.rollback()
    with orm_objects_built(Attempt, AttemptQuestion, Quiz) as loaded:
        page = client.get(f"/attempts/{attempt_id}")
    assert page.status_code == 200 and 'data-position="5"' in page.get_data(as_text=True)
    assert loaded == [], loaded


def test_a_start_from_its_one_plain_row_keeps_every_refusal(client, org, login, make_quiz):
    """The start reads the quiz, the person's place in its audience and their attempts
    as one row (taking.START_CONTEXT): outside the audience and for a draft 404; before
    the window opens and once the quiz is closed "not open"; attempts counted with the
    person's extra ones; a practice quiz without limit."""
    from datetime import timedelta

    from studyhall.quizzes.models import Quiz, QuizMode, QuizRecipient, QuizStatus

    def starting(quiz_id):
        reply = client.post(f"/quizzes/{quiz_id}/start")
        if reply.status_code != 302 or "/attempts/" in reply.location:
            return reply.status_code
        flashed = client.get(reply.location).get_data(as_text=True)
        return next(m for m in ("This quiz is not open now.", "You have used all your attempts.")
                    if m in flashed)

    def submit_open(quiz_id):
        attempt = db.session.scalar(sa.select(Attempt).where(
            Attempt.quiz_id == quiz_id, Attempt.status == AttemptStatus.IN_PROGRESS))
        assert client.post(f"/attempts/{attempt.id}/submit").status_code == 302

    now = utcnow()
    later = make_quiz(opens_at=now + timedelta(minutes=10), closes_at=now + timedelta(hours=1))
    closed, draft, limited, practice = make_quiz(), make_quiz(), make_quiz(), make_quiz(
        mode=QuizMode.PRACTICE)
    closed.status, draft.status = QuizStatus.CLOSED, QuizStatus.DRAFT
    db.session.get(QuizRecipient, (limited.id, org.teacher.id)).extra_attempts = 1
    ids = {name: quiz.id for name, quiz in (("later", later), ("closed", closed),
                                            ("draft", draft), ("limited", limited),
                                            ("practice", practice))}
    db.session.commit()
    login(org.outsider)
    assert starting(ids["limited"]) == 404
    client.post("/logout")
    login(org.teacher)
    assert starting(ids["draft"]) == 404
    assert starting(987654) == 404
    assert starting(ids["later"]) == starting(ids["closed"]) == "This quiz is not open now."
    for _ in range(2):  # one attempt allowed, one more granted
        assert starting(ids["limited"]) == 302
        submit_open(ids["limited"])
    assert starting(ids["limited"]) == "You have used all your attempts."
    for _ in range(3):
        assert starting(ids["practice"]) == 302
        submit_open(ids["practice"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Quiz)) == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 5


def test_a_question_with_the_papers_points_is_remembered_only_for_that_question():
    """Grading reuses a question rebuilt at a paper's points (paper.with_points) while it
    is given the same question object; a regraded question (a new object from
    question_of) at the same points is rebuilt, and so are other points."""
    first = qb.Question(type="single", stem="党员的预备期为几年？", options=("一年", "两年"),
                        answer="A", points=Decimal(2))
    at_five = papers.with_points(-2, first, Decimal("5.00"))
    assert at_five.points == Decimal(5) and at_five.answer == "A"
    assert papers.with_points(-2, first, Decimal("5.00")) is at_five
    fixed = replace(first, answer="B")
    assert papers.with_points(-2, fixed, Decimal("5.00")).answer == "B"
    assert papers.with_points(-2, fixed, Decimal("2.50")).points == Decimal("2.5")


def test_a_start_copies_the_snapshots_json_text_into_the_paper_as_it_is(client, org, login,
                                                                        make_quiz):
    """A start reads the snapshot's configs as their JSON text and stores that text in the
    paper's rows (taking.json_from_text: the text itself on SQLite, a cast on
    PostgreSQL): each row's config is the snapshot's, read back as JSON, and a question
    is parsed again once its text changes."""
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    db.session.expire_all()
    snapshot = {row.question_id: row.config for row in db.session.scalars(
        sa.select(QuizQuestion).where(QuizQuestion.quiz_id == quiz.id))}
    rows = db.session.scalars(sa.select(AttemptQuestion).where(
        AttemptQuestion.attempt_id == attempt_id).order_by(AttemptQuestion.position)).all()
    assert len(rows) == 5 and all(isinstance(row.config, dict) for row in rows)
    assert {row.question_id: row.config for row in rows} == snapshot
    stored = db.session.execute(sa.select(sa.cast(AttemptQuestion.config, sa.Text)).where(
        AttemptQuestion.attempt_id == attempt_id, AttemptQuestion.position == 1)).scalar()
    assert stored == db.session.execute(sa.select(sa.cast(QuizQuestion.config, sa.Text)).where(
        QuizQuestion.quiz_id == quiz.id,
        QuizQuestion.question_id == rows[0].question_id)).scalar()
    text = db.session.execute(sa.select(sa.cast(QuizQuestion.config, sa.Text)).where(
        QuizQuestion.quiz_id == quiz.id, QuizQuestion.question_id == rows[0].question_id)
    ).scalar()
    first = papers.question_of_text(rows[0].question_id, rows[0].type, text)
    assert papers.question_of_text(rows[0].question_id, rows[0].type, text) is first
    changed = json.dumps({**json.loads(text), "stem": first.stem + "（改）"})
    assert papers.question_of_text(rows[0].question_id, rows[0].type, changed).stem == (
        first.stem + "（改）")
