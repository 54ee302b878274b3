"""Answer keys and 解析 never reach someone who could still use them (issue 7 items 1, 2
and 23), tried from the taker's side on every page and JSON reply they can reach, and
the 保密 (exam-only) mark of bank categories."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import jsonify

from studyhall.bank import operations as bank_ops
from studyhall.bank.models import QuestionCategory
from studyhall.bank.queries import get_confidential_question_ids
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.quizzes import operations, taking
from studyhall.quizzes.models import AttemptQuestion, Quiz, QuizRecipient, QuizStatus
from tests.app.leaks import assert_no_leak
from tests.app.test_quiz_taking import RIGHT, save, start

#: What the taker typed (RIGHT): their own answers may show on their pages.
TYPED = ("中央委员会", "三会是支部党员大会等")
IN_OPEN_EXAM = ("This question belongs to an exam in progress; its answer and explanation "
                "can be seen after the exam ends.")


def text(response) -> str:
    return response.get_data(as_text=True)


def submit(client, attempt_id: int) -> None:
    assert client.post(f"/attempts/{attempt_id}/submit").status_code == 302


def taker_pages(client, quiz, *attempt_ids):
    """Everything a taker's browser gets about this quiz, pages and JSON."""
    yield client.get("/")
    yield client.get("/quizzes/")
    yield client.get(f"/quizzes/{quiz.id}")
    for attempt_id in attempt_ids:
        yield client.get(f"/attempts/{attempt_id}", follow_redirects=True)
        yield client.get(f"/attempts/{attempt_id}/result", follow_redirects=True)


# --- the helper can fail (item 23) -------------------------------------------------------

def test_the_leak_helper_finds_a_key_planted_in_a_json_reply(app):
    with app.test_request_context():
        planted = jsonify(ok=True, feedback={"explanation": "解析甲：预备期为一年"})
        hidden_in_a_value = jsonify(ok=True, notes=["x", {"text": "答案是中央委员会"}])
        clean = jsonify(ok=True, position=1, saved_at="2030-01-01T00:00:00Z")
    # Why searching the body as text could never match: jsonify escapes Chinese.
    assert "解析甲" not in text(planted) and "\\u89e3\\u6790\\u7532" in text(planted)
    with pytest.raises(AssertionError, match="explanation"):
        assert_no_leak(planted)
    with pytest.raises(AssertionError, match="中央委员会"):
        assert_no_leak(hidden_in_a_value)
    assert_no_leak(clean)


# --- retakes (item 1) --------------------------------------------------------------------

def test_no_key_anywhere_while_a_second_attempt_is_open(client, org, login, make_quiz):
    """The reported leak: attempt 1's result page read while attempt 2 is open."""
    quiz = make_quiz(attempts_allowed=2)  # review right after submitting
    login(org.teacher)
    first = start(client, quiz)
    save(client, first, 1, "B")
    submit(client, first)
    second = start(client, quiz)
    for response in taker_pages(client, quiz, first, second):
        assert response.status_code == 200
        assert_no_leak(response)
    assert "You have an attempt in progress" in text(client.get(f"/attempts/{first}/result"))
    for position, response in RIGHT.items():
        assert_no_leak(save(client, second, position, response))
    assert_no_leak(client.post(f"/attempts/{second}/events", json={"kind": "leave"}))
    # Attempts used up, window still open, review "right after submitting": now it shows.
    submit(client, second)
    assert "解析甲" in text(client.get(f"/attempts/{first}/result"))


def test_an_attempt_granted_later_hides_the_keys_again(client, org, login, make_quiz):
    quiz = make_quiz(attempts_allowed=1)
    login(org.teacher)
    first = start(client, quiz)
    submit(client, first)
    assert "解析甲" in text(client.get(f"/attempts/{first}/result"))
    operations.grant(org.admin, db.session.get(QuizRecipient, (quiz.id, org.teacher.id)),
                     attempts=1)
    db.session.commit()
    page = client.get(f"/attempts/{first}/result")
    assert_no_leak(page)
    assert "You may try again" in text(page)


def test_after_the_window_closes_the_keys_show_even_with_attempts_left(client, org, login,
                                                                      make_quiz):
    quiz = make_quiz(attempts_allowed=3)
    login(org.teacher)
    first = start(client, quiz)
    submit(client, first)
    assert_no_leak(client.get(f"/attempts/{first}/result"))
    quiz.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert "解析甲" in text(client.get(f"/attempts/{first}/result"))


# --- practice over an open exam's questions (item 2) -------------------------------------

def test_practice_gives_no_feedback_on_questions_of_an_open_exam_to_its_takers(
        client, org, login, make_quiz):
    make_quiz(title="正在进行的考试", review_policy="after_close")  # 甲校第一支部 sits it
    practice = make_quiz(mode="practice", title="每日一练", owner_unit_id=org.top.id,
                         audience={"unit_ids": [org.branch_a.id, org.branch_b.id]})
    login(org.teacher)
    attempt_id = start(client, practice)
    for position, response in RIGHT.items():
        reply = save(client, attempt_id, position, response)
        assert reply.status_code == 200 and reply.get_json()["ok"] is True
        assert "feedback" not in reply.get_json()
        assert reply.get_json()["feedback_withheld"] == IN_OPEN_EXAM
        assert_no_leak(reply)
    # Every answer was saved, none graded (a score would tell right from wrong).
    rows = db.session.scalars(sa.select(AttemptQuestion).where(
        AttemptQuestion.attempt_id == attempt_id)).all()
    assert all(row.response is not None and row.score is None for row in rows)
    submit(client, attempt_id)
    for response in taker_pages(client, practice, attempt_id):
        assert_no_leak(response, allowed=TYPED)
    result = text(client.get(f"/attempts/{attempt_id}/result"))
    assert IN_OPEN_EXAM in result and "result-score" not in result
    assert "Practice record" not in text(client.get("/quizzes/"))  # none counted yet

    # Someone outside the exam's audience gets the feedback of the same practice.
    client.post("/logout")
    login(org.outsider)
    other = start(client, practice)
    feedback = save(client, other, 1, "B").get_json()["feedback"]
    assert feedback["answer"] == "A" and "解析甲" in feedback["explanation"]


def test_practice_feedback_comes_back_once_the_exam_has_closed(client, org, login, make_quiz):
    exam = make_quiz(title="正在进行的考试")
    practice = make_quiz(mode="practice", title="每日一练")
    login(org.teacher)
    attempt_id = start(client, practice)
    assert "feedback" not in save(client, attempt_id, 1, "B").get_json()
    exam.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    reply = save(client, attempt_id, 1, "B").get_json()  # not final: it was never checked
    assert reply["feedback"]["answer"] == "A"


def test_a_secretarys_own_quiz_over_an_exams_questions_shows_them_no_key(
        client, org, login, make_quiz):
    """The secretary must sit an admin's exam and builds a quiz of their own over the
    same bank questions to read the key: nothing shows it, page or JSON."""
    make_quiz(title="全局考试", owner_unit_id=org.top.id,
              audience={"unit_ids": [org.gen_a.id]})  # the secretary sits it
    login(org.secretary)
    own = {}
    for mode in ("exam", "practice"):
        now = utcnow()
        quiz = Quiz(title=f"自己的{mode}", mode=mode, owner_unit_id=org.gen_a.id,
                    opens_at=now - timedelta(minutes=5), closes_at=now + timedelta(hours=1),
                    paper={}, audience={"person_ids": [org.secretary.id]},
                    review_policy="immediately", created_by_id=org.secretary.id)
        db.session.add(quiz)
        db.session.commit()
        client.post(f"/manage/quizzes/{quiz.id}/paper/add",
                    data={"question_ids": make_quiz.question_ids})
        response = client.post(f"/manage/quizzes/{quiz.id}/publish", follow_redirects=True)
        assert "Published: 1 people expected." in text(response)
        own[mode] = quiz
    exam_attempt = start(client, own["exam"])
    for position, response in RIGHT.items():
        assert_no_leak(save(client, exam_attempt, position, response))
    submit(client, exam_attempt)
    practice_attempt = start(client, own["practice"])
    for position, response in RIGHT.items():
        assert_no_leak(save(client, practice_attempt, position, response))
    submit(client, practice_attempt)
    for quiz, attempt_id in ((own["exam"], exam_attempt), (own["practice"], practice_attempt)):
        for response in taker_pages(client, quiz, attempt_id):
            assert_no_leak(response, allowed=TYPED)
        for url in (f"/manage/quizzes/{quiz.id}/participants/{org.secretary.id}",
                    f"/manage/quizzes/{quiz.id}/grading?all=1", f"/manage/quizzes/{quiz.id}"):
            response = client.get(url)
            assert response.status_code == 200, url
            assert_no_leak(response, allowed=TYPED)


def test_an_administrator_sees_every_key_on_staff_pages(client, org, login, make_quiz):
    make_quiz(title="全局考试", owner_unit_id=org.top.id, audience={"unit_ids": [org.top.id]})
    quiz = make_quiz(title="另一测试")
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, org.teacher))
    taking.finish_attempt(attempt, utcnow())
    db.session.commit()
    login(org.admin)
    page = text(client.get(f"/manage/quizzes/{quiz.id}/participants/{org.teacher.id}"))
    assert "解析甲" in page and 'class="correct"' in page


# --- 保密 categories (item 2) ------------------------------------------------------------

@pytest.fixture()
def confidential(make_quiz):
    """make_quiz's bank category (all five questions) marked 保密."""
    category = db.session.scalar(sa.select(QuestionCategory).where(
        QuestionCategory.name == "测试题"))
    category.is_confidential = True
    db.session.commit()
    return category


def test_an_admin_marks_a_category_confidential_and_the_bank_says_so(client, org, login,
                                                                     make_quiz):
    category = db.session.scalar(sa.select(QuestionCategory))
    login(org.admin)
    response = client.post(f"/manage/bank/categories/{category.id}/edit",
                           data={"name": category.name, "is_confidential": "y"})
    assert response.status_code == 302
    db.session.refresh(category)
    assert category.is_confidential
    client.post("/manage/bank/categories", data={"name": "子类", "parent_id": category.id})
    tree = text(client.get("/manage/bank/categories"))
    assert tree.count(">Confidential<") == 1 and "Confidential (inherited)" in tree
    assert text(client.get("/manage/bank/")).count(">Confidential<") == 5
    client.post(f"/manage/bank/categories/{category.id}/edit", data={"name": category.name})
    db.session.refresh(category)
    assert not category.is_confidential


def test_confidentiality_is_inherited_by_the_whole_subtree_and_only_it(app):
    import question_bank as qb

    marked = bank_ops.create_category(None, "保密题库", confidential=True)
    child = bank_ops.create_category(marked, "子类")
    grandchild = bank_ops.create_category(child, "孙类")
    db.session.flush()
    # A sibling whose path starts with the marked one's digits ("/1/" and "/10/").
    siblings = [bank_ops.create_category(None, f"公开{i}") for i in range(12)]
    question = qb.Question(type="true_false", stem="判断", answer=True, points=1)
    inside = bank_ops.save_question(None, question, grandchild)
    outside = [bank_ops.save_question(None, question, s) for s in siblings]
    db.session.commit()
    ids = [inside.id, *(row.id for row in outside)]
    assert get_confidential_question_ids(ids) == {inside.id}


def test_a_practice_quiz_with_a_confidential_question_is_not_published(client, org, login,
                                                                       make_quiz,
                                                                       confidential):
    now = utcnow()
    quiz = Quiz(title="练习", mode="practice", owner_unit_id=org.gen_a.id,
                opens_at=now, closes_at=now + timedelta(hours=1),
                paper={"kind": "fixed", "question_ids": make_quiz.question_ids[:1]},
                audience={"unit_ids": [org.branch_a.id]})
    db.session.add(quiz)
    db.session.commit()
    login(org.admin)
    response = client.post(f"/manage/quizzes/{quiz.id}/publish", follow_redirects=True)
    assert "Practice cannot use confidential (exam-only) questions" in text(response)
    db.session.refresh(quiz)
    assert quiz.status is QuizStatus.DRAFT


def test_a_secretary_draws_confidential_questions_only_by_rules_and_cannot_publish_them(
        client, org, login, make_quiz, confidential):
    ids = make_quiz.question_ids
    now = utcnow()
    quiz = Quiz(title="书记的考试", owner_unit_id=org.gen_a.id, opens_at=now,
                closes_at=now + timedelta(hours=1), paper={},
                audience={"unit_ids": [org.branch_a.id]})
    db.session.add(quiz)
    db.session.commit()
    login(org.secretary)
    picker = text(client.get(f"/manage/quizzes/{quiz.id}/paper?kind=fixed"))
    assert not any(f'name="question_ids" value="{qid}"' in picker for qid in ids)
    client.post(f"/manage/quizzes/{quiz.id}/paper/add", data={"question_ids": ids})
    db.session.refresh(quiz)
    assert quiz.paper.get("question_ids", []) == []  # a forged pick adds nothing
    rules = text(client.get(f"/manage/quizzes/{quiz.id}/paper?kind=rules"))
    assert "测试题(confidential)" in rules
    client.post(f"/manage/quizzes/{quiz.id}/paper", data={
        "rules-0-category_id": confidential.id, "rules-0-count": "2"})
    db.session.refresh(quiz)
    assert quiz.paper["kind"] == "rules"
    message = "Only an administrator can publish a paper with confidential"
    assert message in text(client.get(f"/manage/quizzes/{quiz.id}/paper"))
    assert message in text(client.post(f"/manage/quizzes/{quiz.id}/publish",
                                       follow_redirects=True))
    db.session.refresh(quiz)
    assert quiz.status is QuizStatus.DRAFT
    # An administrator picks them one by one, and publishes the same draft.
    client.post("/logout")
    login(org.admin)
    picker = text(client.get(f"/manage/quizzes/{quiz.id}/paper?kind=fixed"))
    assert all(f'name="question_ids" value="{qid}"' in picker for qid in ids)
    response = client.post(f"/manage/quizzes/{quiz.id}/publish", follow_redirects=True)
    assert "Published" in text(response)


def test_confidential_keys_reach_administrators_only(client, org, login, make_quiz,
                                                    confidential):
    """An admin's exam over 保密 questions, owned by the secretary's 总支: after it
    closes the taker sees the total but no key; the secretary who manages it sees no
    key and no per-question score; the administrator sees everything."""
    quiz = make_quiz(review_policy="after_close")
    login(org.teacher)
    attempt_id = start(client, quiz)
    for position, response in RIGHT.items():
        save(client, attempt_id, position, response)
    submit(client, attempt_id)
    quiz.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = client.get(f"/attempts/{attempt_id}/result")
    assert "result-score" in text(result) and "Confidential question" in text(result)
    assert_no_leak(result, allowed=TYPED)
    client.post("/logout")
    login(org.secretary)
    for url in (f"/manage/quizzes/{quiz.id}/participants/{org.teacher.id}",
                f"/manage/quizzes/{quiz.id}/grading?all=1"):
        page = client.get(url)
        assert "Confidential question" in text(page)
        assert_no_leak(page, allowed=TYPED)
        assert "of 20 points" not in text(page)
    client.post("/logout")
    login(org.admin)
    page = text(client.get(f"/manage/quizzes/{quiz.id}/participants/{org.teacher.id}"))
    assert "解析甲" in page and "20 of 20 points" in page


def test_feedback_kept_for_a_reload_goes_through_the_same_rule(client, org, login, make_quiz):
    """review.checked_feedback, for the practice paper after a reload: an answer checked
    before an exam over the same question opened is withheld while the exam runs."""
    from studyhall.quizzes import review

    practice = make_quiz(mode="practice", title="每日一练")
    login(org.teacher)
    attempt_id = start(client, practice)
    save(client, attempt_id, 1, "B")  # checked: feedback given, score kept
    save(client, attempt_id, 3, False)
    now = utcnow()
    exam = Quiz(title="考试", owner_unit_id=org.gen_a.id, opens_at=now - timedelta(minutes=1),
                closes_at=now + timedelta(hours=1),
                paper={"kind": "fixed", "question_ids": make_quiz.question_ids[:1]},
                audience={"unit_ids": [org.branch_a.id]})
    db.session.add(exam)
    db.session.flush()
    operations.publish_quiz(org.admin, exam)
    db.session.commit()
    rows = db.session.scalars(sa.select(AttemptQuestion).where(
        AttemptQuestion.attempt_id == attempt_id)).all()
    shown = review.checked_feedback(org.teacher, practice, rows)
    assert set(shown) == {1, 3}  # the unchecked ones are left out
    assert shown[1] == {"withheld": IN_OPEN_EXAM}
    assert shown[3]["correct"] is True and shown[3]["explanation"] == "解析丙"


def test_the_practice_paper_reloaded_during_an_exam_shows_no_key(client, org, login,
                                                                 make_quiz):
    """The paper keeps checked answers' feedback after a reload, through the same rule:
    an answer checked before an exam over the question opened shows the message instead."""
    practice = make_quiz(mode="practice", title="每日一练")
    login(org.teacher)
    attempt_id = start(client, practice)
    save(client, attempt_id, 1, "B")
    assert "解析甲" in text(client.get(f"/attempts/{attempt_id}"))  # before the exam
    make_quiz(title="正在进行的考试")
    page = client.get(f"/attempts/{attempt_id}")
    assert IN_OPEN_EXAM in text(page)
    assert_no_leak(page)
