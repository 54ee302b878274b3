"""Practice on a phone: each answer checked and explained, and still so after a reload;
a year-long window shows its close, not a countdown. Then 我的测试 with a score."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, start_quiz

pytestmark = pytest.mark.browser


@pytest.fixture()
def phone(browser):
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    assert errors == []
    context.close()


def test_practice_feedback_stays_after_a_reload(phone, live_server, make_live_quiz,
                                                screenshot_dir):
    page = phone
    quiz_id = make_live_quiz("练习测试", [("single", 1), ("multiple", 1), ("true_false", 1)],
                             mode="practice", time_limit_minutes=None,
                             closes_in=timedelta(days=365))
    log_in(page, live_server)
    start_quiz(page, live_server, quiz_id)
    expect(page.locator("#countdown")).to_have_text(
        re.compile(r"^截止 \d{4}年\d+月\d+日 \d\d:\d\d$"))
    assert page.get_by_role("timer").count() == 0

    # A single choice is checked as soon as it is chosen, explained, and said.
    page.locator("#q1 .choice").nth(1).click()
    feedback = page.locator("#q1-feedback")
    expect(feedback).to_be_visible()
    expect(page.locator("#q1 input[value=A]")).to_be_disabled()
    expect(page.locator("#announcer")).to_contain_text("第 1 题")

    # Several letters: nothing is final until the taker asks for the check.
    page.locator("#q1 [data-next]").click()
    page.locator("#q2 .choice").nth(0).click()
    page.locator("#q2 .choice").nth(1).click()
    expect(page.locator("#q2-feedback")).to_be_hidden()
    page.locator("#q2").get_by_role("button", name=re.compile("核对答案")).click()
    expect(page.locator("#q2-feedback")).to_be_visible()
    assert page.locator("#q2 input[value=A]").is_checked()
    assert page.locator("#q2 input[value=B]").is_checked()
    expect(page.locator("#save-state")).to_have_text("已保存全部答案")
    texts = [page.locator(f"#q{p}-feedback").text_content() for p in (1, 2)]
    assert texts[0].startswith("回答错误答案：") or texts[0].startswith("回答正确答案：")

    page.reload()
    # The paper opens at the first open question; the checked ones keep everything.
    expect(page.locator("#q3")).to_be_visible()
    page.get_by_role("button", name=re.compile("^第 1 题")).click()
    expect(page.locator("#q1-feedback")).to_be_visible()
    assert [page.locator(f"#q{p}-feedback").text_content() for p in (1, 2)] == texts
    assert page.locator("#q1 input[value=B]").is_checked()
    expect(page.locator("#q1 input[value=A]")).to_be_disabled()
    expect(page.locator("#q1 input[value=A]")).to_be_disabled()
    expect(page.locator("#save-state")).to_have_text("已保存全部答案")
    page.screenshot(path=str(screenshot_dir / "practice-after-reload.png"), full_page=True)


def test_my_quizzes_shows_the_score(phone, live_server, make_live_quiz, screenshot_dir):
    page = phone
    quiz_id = make_live_quiz("得分展示测试", [("single", 2), ("true_false", 2)])
    log_in(page, live_server)
    start_quiz(page, live_server, quiz_id)
    page.locator("#q1 .choice").nth(0).click()
    expect(page.locator("#save-state")).to_have_text("已保存全部答案")
    page.get_by_role("button", name="交卷").click()
    page.get_by_role("dialog").get_by_role("button", name="交卷").click()
    page.wait_for_url("**/result")
    score = page.locator(".result-score").inner_text().split("/")[0].strip()
    page.goto(f"{live_server}/quizzes/")
    card = page.locator("article.quiz-card", has_text="得分展示测试")
    expect(card.locator(".card-score")).to_have_text(re.compile(rf"^得分：{score} / 100$"))
    card.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "my-quizzes-score.png"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
