"""The paper, the review and a form in error, checked with axe-core (vendored for the
tests only) at 375 px, and the paper taken with the keyboard alone."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, start_quiz

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
PHONE = {"width": 375, "height": 740}


def violations(page) -> list[str]:
    """axe-core's findings, one line each. The bar is no serious or critical one; these
    pages meet a higher one, none at all (the paper's missing h1 was "moderate")."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:5])
            for v in result["violations"]]


@pytest.fixture()
def phone(browser):
    # The page allows no inline script; axe is injected as one, so the test lifts the CSP.
    context = browser.new_context(viewport=PHONE, locale="zh-CN", bypass_csp=True)
    yield context.new_page()
    context.close()


def test_paper_and_review_have_no_serious_accessibility_violations(phone, live_server,
                                                                   make_live_quiz,
                                                                   screenshot_dir):
    page = phone
    quiz_id = make_live_quiz("无障碍检查", [("single", 2), ("multiple", 1), ("true_false", 1),
                                        ("fill_blank", 1), ("short_answer", 1)])
    log_in(page, live_server)
    url = start_quiz(page, live_server, quiz_id)
    page.locator("#q1 .choice").nth(1).click()
    page.locator("#q1 [data-flag]").check()
    expect(page.locator("#save-state")).to_have_text("已保存全部答案")
    assert violations(page) == []

    page.get_by_label("整卷显示").check()
    page.reload()
    assert page.locator("section.q:visible").count() == 6
    assert violations(page) == []
    page.screenshot(path=str(screenshot_dir / "a11y-paper-all.png"))

    page.get_by_label("逐题显示").check()
    page.goto(url)
    page.get_by_role("button", name="交卷").click()
    dialog = page.get_by_role("dialog", name="确定交卷吗？")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="交卷").click()
    page.wait_for_url("**/result")
    assert violations(page) == []
    page.screenshot(path=str(screenshot_dir / "a11y-result.png"), full_page=True)


def test_a_form_in_error_has_no_serious_violations_and_focuses_the_first_error(
        phone, live_server, screenshot_dir):
    page = phone
    log_in(page, live_server, "secretary")
    page.goto(f"{live_server}/account/password")
    page.get_by_label("新密码", exact=True).fill("short")
    page.get_by_role("button", name="修改密码").click()
    first = page.locator('[aria-invalid="true"]').first
    expect(first).to_be_focused()
    described = first.get_attribute("aria-describedby").split()
    assert any(page.locator(f"#{id_}").inner_text() for id_ in described)
    assert violations(page) == []
    page.screenshot(path=str(screenshot_dir / "a11y-form-errors.png"), full_page=True)


def test_the_paper_with_the_keyboard_alone(phone, live_server, make_live_quiz):
    page = phone
    quiz_id = make_live_quiz("键盘答题", [("single", 3)])
    log_in(page, live_server)
    url = start_quiz(page, live_server, quiz_id)
    page.goto(url)

    # The skip link is reached within three Tabs and lands on question 1's heading.
    for _ in range(3):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('a[data-skip]')"):
            break
    assert page.evaluate("document.activeElement.textContent") == "跳到当前题"
    page.keyboard.press("Enter")
    expect(page.locator("#q1-title")).to_be_focused()

    # Into the choices: the group is named by the question.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "r1"
    group = page.get_by_role("group", name="第 1 题")
    expect(group).to_have_count(1)
    page.keyboard.press("Space")
    expect(page.locator("#save-state")).to_have_text("已保存全部答案")
    assert page.locator("#q1 input[value=A]").is_checked()

    # Next question: the focus moves to its heading, not to the page.
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.hasAttribute('data-next')"):
            break
    page.keyboard.press("Enter")
    expect(page.locator("#q2-title")).to_be_focused()
    assert page.locator("#q1").is_hidden()

    # The grid says what each number is, and a jump from it lands on the heading too.
    cell = page.get_by_role("button", name="第 1 题，已答")
    expect(cell).to_have_count(1)
    expect(page.get_by_role("button", name="第 2 题，未答，当前题")).to_have_count(1)
    page.get_by_role("button", name="第 3 题，未答").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#q3-title")).to_be_focused()


def test_a_spoken_warning_five_minutes_before_the_deadline(browser, live_server, make_live_quiz):
    from datetime import timedelta

    quiz_id = make_live_quiz("即将截止", [("single", 1)], closes_in=timedelta(minutes=6),
                             time_limit_minutes=None)
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.clock.install()
    log_in(page, live_server)
    start_quiz(page, live_server, quiz_id)
    # No time limit: the close is shown, not a countdown, and nothing is said yet.
    expect(page.locator("#countdown")).to_have_text(re.compile(r"截止 \d"))
    assert page.locator("#alarm").inner_text() == ""
    page.clock.run_for("01:30")
    expect(page.locator("#alarm")).to_have_attribute("aria-live", "assertive")
    expect(page.locator("#alarm")).to_contain_text("分钟。时间一到，将按已保存的答案自动交卷")
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^0\d:\d\d$"))
    context.close()
