"""A teacher takes an exam on a phone, loses the network half-way (the page says so),
gets it back, reloads, and submits with every answer intact."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from studyhall.bank.models import Question
from studyhall.demo import DEMO_PASSWORD
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, Unit
from studyhall.quizzes import operations
from studyhall.quizzes.models import Attempt, AttemptQuestion, Quiz

pytestmark = pytest.mark.browser


@pytest.fixture()
def exam(live_app):
    """A fixed paper of one question of each objective type from the sample bank."""
    with live_app.app_context():
        ids = [db.session.scalar(sa.select(Question.id).where(Question.type == kind)
                                 .order_by(Question.id)) for kind in
               ("single", "multiple", "true_false", "fill_blank")]
        branch = db.session.scalar(sa.select(Unit).where(Unit.name == "实验小学第一支部"))
        admin = db.session.scalar(sa.select(Person).where(Person.account == "admin"))
        now = utcnow()
        quiz = Quiz(title="浏览器测试考试", owner_unit_id=branch.id, opens_at=now - timedelta(
            minutes=1), closes_at=now + timedelta(hours=1), time_limit_minutes=20,
            paper={"kind": "fixed", "question_ids": ids}, audience={"unit_ids": [branch.id]},
            shuffle_options=False)
        db.session.add(quiz)
        db.session.flush()
        operations.publish_quiz(admin, quiz)
        quiz_id = quiz.id
        db.session.commit()
        # Leave the app context: a transaction kept open here would hold SQLite's lock.
        db.session.remove()
    return quiz_id


def wait_saved(page):
    expect(page.locator("#save-state")).to_have_text("已保存全部答案", timeout=10_000)


def test_offline_half_way_then_reload_and_submit(browser, live_server, live_app, exam,
                                                 screenshot_dir):
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/login")
    page.get_by_label("账号").fill("teacher")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server}/quizzes/{exam}")
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url("**/attempts/*")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    # Question 1 (one per screen): choose B, saved at once.
    page.locator("#q1 .choice").nth(1).click()
    wait_saved(page)
    page.screenshot(path=str(screenshot_dir / "quiz-phone-question.png"))

    # The network drops: the page says so, answers wait on the device.
    context.set_offline(True)
    page.locator("#q1 [data-next]").click()
    page.locator("#q2 .choice").nth(0).click()
    page.locator("#q2 .choice").nth(2).click()
    page.locator("#q2 [data-next]").click()
    page.locator("#q3 .choice").nth(1).click()
    assert page.locator("#notice").is_visible()
    expect(page.locator("#save-state")).to_have_class(re.compile("failed"))
    expect(page.locator("#save-state")).to_have_text("未保存：网络已断开，恢复后会自动提交。")
    page.screenshot(path=str(screenshot_dir / "quiz-phone-offline.png"))

    # Back online: everything is sent.
    context.set_offline(False)
    wait_saved(page)
    page.locator("#q3 [data-next]").click()
    blanks = page.locator("#q4 input[type=text]")
    for index in range(blanks.count()):
        blanks.nth(index).fill(f"答案{index + 1}")
    wait_saved(page)

    blanks_count = blanks.count()
    page.reload()
    assert page.locator("#q1 input[value=B]").is_checked()
    assert page.locator("#q2 input[value=A]").is_checked()
    assert page.locator("#q2 input[value=C]").is_checked()
    assert page.locator("#q3 input[value=false]").is_checked()
    assert page.locator("#q4 input[type=text]").first.input_value() == "答案1"
    assert page.locator(".q-grid .q-cell.answered").count() == 4

    page.get_by_role("button", name="交卷").first.click()
    assert "每道题都已作答" in page.locator("#unanswered-list").inner_text()
    page.locator("[data-confirm-submit]").click()
    page.wait_for_url("**/result")
    page.screenshot(path=str(screenshot_dir / "quiz-phone-result.png"), full_page=True)
    assert errors == []
    context.close()

    with live_app.app_context():
        attempt = db.session.scalar(sa.select(Attempt).where(Attempt.quiz_id == exam))
        responses = db.session.scalars(sa.select(AttemptQuestion.response).where(
            AttemptQuestion.attempt_id == attempt.id).order_by(AttemptQuestion.position)).all()
        assert attempt.submitted_at is not None
        assert responses[:3] == ["B", ["A", "C"], False]
        assert responses[3][0] == "答案1" and len(responses[3]) == blanks_count
