"""An admin on a phone (375 px) opens the study and session statistics from the exam
statistics, reads the figures and their charts (Chart.js under the strict CSP), drills
down to a branch's people, and copies the report sentences with one tap; nothing scrolls
sideways but the wide tables inside their cards."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from studyhall.model_helpers import utcnow
from studyhall.sessions.plans import to_local
from tests.browser.test_stats import SIZES, charts_drawn, figure, log_in

pytestmark = pytest.mark.browser


def fits(page) -> bool:
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]")
    return scroll_width <= inner_width


def test_activity_and_report_on_a_phone(browser, live_server, screenshot_dir):
    context, page, problems = log_in(browser, live_server, SIZES["phone"])
    page.goto(f"{live_server}/manage/stats/exams")
    page.get_by_role("link", name="学习与会议统计").click()
    page.wait_for_selector('[data-figure="sessions"]')
    # The demo's sessions and assignment are within the last four months.
    today = to_local(utcnow()).date()
    page.get_by_label("开始日期").fill((today - timedelta(days=120)).isoformat())
    page.get_by_label("结束日期").fill(today.isoformat())
    page.get_by_role("button", name="查询").click()
    page.wait_for_selector('[data-figure="sessions"]')
    assert int(figure(page, "sessions")) > 0
    assert figure(page, "attendance_rate").endswith("%")
    assert figure(page, "completion_rate").endswith("%")
    assert page.get_by_text("统计口径").is_visible()
    assert charts_drawn(page) == 2
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "stats-activity-phone.png"), full_page=True)

    for name in ("示例市实验小学党总支", "实验小学第一支部"):
        page.locator("#units-table").get_by_role("link", name=name, exact=True).click()
        page.wait_for_selector(f'.crumbs [aria-current="page"]:text-is("{name}")')
    assert page.locator("#people-table tbody tr").count() > 0
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "stats-activity-branch-phone.png"),
                    full_page=True)

    page.get_by_role("link", name="汇报数据", exact=True).first.click()
    page.wait_for_selector("[data-report-line]")
    assert page.locator("[data-report-line]").first.inner_text().startswith("共")
    button = page.locator("[data-copy-all]")
    button.click()
    # A locator, not wait_for_function: its string is eval'd, which the CSP refuses.
    expect(button).to_have_text("已复制")
    assert fits(page)
    page.screenshot(path=str(screenshot_dir / "stats-report-phone.png"), full_page=True)
    assert not problems, problems
    context.close()
