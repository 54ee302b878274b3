"""What the save status shows and says: nothing alarming while saves go through, a failure
only when one happens, a refusal shown (not retried forever), a busy server retried."""

import json

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, start_quiz

pytestmark = pytest.mark.browser

#: Every text the save status and the spoken region take, in order.
RECORDER = """
window.__states = []; window.__spoken = [];
document.addEventListener("DOMContentLoaded", function () {
  var state = document.getElementById("save-state");
  var spoken = document.getElementById("announcer");
  if (!state) { return; }
  new MutationObserver(function () { window.__states.push(state.textContent); })
    .observe(state, {childList: true, characterData: true, subtree: true});
  new MutationObserver(function () {
    if (spoken.textContent) { window.__spoken.push(spoken.textContent); }
  })
    .observe(spoken, {childList: true, characterData: true, subtree: true});
});
"""
UNSAVED = "未保存：网络已断开，恢复后会自动提交。"


@pytest.fixture()
def paper(browser, live_server, make_live_quiz):
    """A 24-question paper (the demo exam's mix) open on a phone, with the recorder."""
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    quiz_id = make_live_quiz("保存状态测试", [("single", 12), ("multiple", 6),
                                          ("true_false", 6)])
    log_in(page, live_server)
    url = start_quiz(page, live_server, quiz_id)
    page.add_init_script(RECORDER)
    page.goto(url)
    yield page
    assert errors == []
    context.close()


def test_answering_with_a_good_network_shows_and_says_no_failure(paper):
    page = paper
    page.get_by_label("整卷显示").check()
    for position in range(1, 25):
        page.locator(f"#q{position} .choice").first.click()
    expect(page.locator("#save-state")).to_have_text("已保存全部答案")
    expect(page.locator(".q-grid .answered")).to_have_count(24)
    states = page.evaluate("window.__states")
    spoken = page.evaluate("window.__spoken")
    assert not [s for s in states if s.startswith("未保存")], states
    assert not [s for s in spoken if s.startswith("未保存")], spoken
    # At most "saving…" and "saved" once per answer, and only when a save is slow.
    assert len(states) <= 2 * 24
    assert "正在保存…" not in spoken


def test_a_lost_network_is_shown_and_said_then_the_answers_go(paper, screenshot_dir):
    page = paper
    page.context.set_offline(True)
    page.locator("#q1 .choice").first.click()
    expect(page.locator("#save-state")).to_have_text(UNSAVED)
    page.screenshot(path=str(screenshot_dir / "save-offline.png"))
    page.context.set_offline(False)
    expect(page.locator("#save-state")).to_have_text("已保存全部答案", timeout=15_000)
    for _ in range(50):  # spoken a moment after it shows (wait_for_function needs eval)
        if page.evaluate("window.__spoken.length") > 1:
            break
        page.wait_for_timeout(100)
    assert page.evaluate("window.__spoken") == [UNSAVED, "已保存全部答案"]


def test_a_refused_save_is_shown_kept_and_not_retried(paper, screenshot_dir):
    page = paper
    sent = []

    def refuse(route):
        sent.append(route.request.post_data)
        route.fulfill(status=422, content_type="application/json", body=json.dumps(
            {"ok": False, "error": "bad_response", "message": "这个答案的格式不对。"}))

    page.route("**/answers", refuse)
    page.locator("#q1 .choice").nth(2).click()
    expect(page.locator("#save-state")).to_have_text("未保存：这个答案的格式不对。")
    page.screenshot(path=str(screenshot_dir / "save-refused.png"))
    page.wait_for_timeout(4000)  # a retry loop would have sent it three more times by now
    assert len(sent) == 1
    stored = page.evaluate("Object.entries(localStorage).filter(e => e[0].startsWith("
                           "'studyhall-pending-')).map(e => JSON.parse(e[1]))")
    assert stored[0]["1"]["response"] == "C"
    assert page.evaluate("window.__spoken") == ["未保存：这个答案的格式不对。"]

    # Changing the answer sends it again; accepted, everything is saved.
    page.unroute("**/answers")
    page.locator("#q1 .choice").nth(0).click()
    expect(page.locator("#save-state")).to_have_text("已保存全部答案")
    page.reload()
    assert page.locator("#q1 input[value=A]").is_checked()


def test_a_busy_server_is_retried_with_backoff(paper):
    page = paper
    replies = []

    def busy_twice(route):
        replies.append(route.request.post_data)
        if len(replies) <= 2:
            route.fulfill(status=503, content_type="application/json", headers={
                "Retry-After": "1"}, body=json.dumps({"error": "忙", "message": "服务器繁忙"}))
        else:
            route.continue_()

    page.route("**/answers", busy_twice)
    page.locator("#q1 .choice").first.click()
    expect(page.locator("#save-state")).to_have_text("未保存：服务器繁忙，稍后自动重试。")
    expect(page.locator("#save-state")).to_have_text("已保存全部答案", timeout=15_000)
    assert len(replies) == 3


def test_a_paper_taken_over_elsewhere_stops_saving(paper):
    page = paper
    page.route("**/answers", lambda route: route.fulfill(
        status=409, content_type="application/json", body=json.dumps(
            {"ok": False, "error": "taken_over", "message": "在另一设备上打开了"})))
    page.locator("#q1 .choice").first.click()
    expect(page.locator("#notice")).to_have_text("这份答卷已在其他设备上继续作答，本页面的答案不再保存。")
