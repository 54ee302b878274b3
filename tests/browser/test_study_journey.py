"""The whole study journey on a phone (375 px), issue 8 item 15: the demo teacher opens
the assignment from the dashboard's to-do list, reads its material (the test's short
minimum), answers the checkpoint, clicks 我已学完, writes a reflection partly offline,
submits; the secretary returns it with a comment; the teacher revises and resubmits; the
secretary accepts it as 优秀; the assignment shows 已完成.

The assignment is the reading test's own (a fresh one per test, fixture imported), made
to require a reflection of 60 字; the fixture restores the app's beat interval."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from studyhall.extensions import db
from studyhall.study.models import Assignment
from tests.browser.test_reading import reading_assignment  # noqa: F401  (fixture)
from tests.browser.test_reflection import (
    FIRST,
    OFFLINE,
    REVISION,
    WATCH_STATE,
    failures_shown,
    fits_the_phone,
    log_in,
    stored,
)

pytestmark = pytest.mark.browser


@pytest.fixture()
def journey(live_app, reading_assignment):  # noqa: F811
    assignment_id, material_id, answer = reading_assignment
    with live_app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        assignment.requires_reflection, assignment.reflection_min_chars = True, 60
        db.session.commit()
        db.session.remove()
    return assignment_id, material_id, answer


def test_from_the_to_do_list_to_an_excellent_completed_assignment(
        browser, live_server, live_app, journey, screenshot_dir):
    base, (assignment_id, material_id, answer) = live_server, journey
    shot = lambda page, name: page.screenshot(  # noqa: E731
        path=str(screenshot_dir / f"journey-{name}.png"), full_page=True)
    teacher_context, page, errors = log_in(browser, base, "teacher")

    # The dashboard's to-do list leads to the assignment, the assignment to its material.
    todo = page.locator(f'ul.todo a[href$="/study/assignments/{assignment_id}"]').first
    expect(todo).to_be_visible()
    assert fits_the_phone(page)
    shot(page, "1-todo")
    todo.click()
    page.wait_for_url(f"**/study/assignments/{assignment_id}")
    expect(page.locator(".study-item").get_by_text("未开始")).to_be_visible()
    page.get_by_role("link", name="廉洁自律准则学习").click()
    page.wait_for_url(f"**/materials/{material_id}")
    finish = page.get_by_role("button", name="我已学完")
    expect(finish).to_be_disabled()

    # Read, in front and used, until the server credits the minimum.
    expect(page.locator("#reading-state")).to_have_text("计时中", timeout=5_000)
    for _ in range(40):
        if page.locator("#need-time.met").count():
            break
        page.mouse.wheel(0, 120)
        page.wait_for_timeout(500)
    expect(page.locator("#need-time")).to_have_class(re.compile("met"))
    assert fits_the_phone(page)
    shot(page, "2-reading")

    checkpoint = page.locator("section.checkpoint")
    checkpoint.scroll_into_view_if_needed()
    checkpoint.locator(".choice").nth("ABCDEFGH".index(answer)).click()
    checkpoint.get_by_role("button", name="提交答案").click()
    expect(page.locator("section.checkpoint")).to_contain_text("回答正确")
    expect(finish).to_be_enabled()
    shot(page, "3-checkpoint")
    finish.click()
    page.wait_for_url(f"**/study/assignments/{assignment_id}")
    # The material is done, the assignment is not: the reflection is still missing.
    expect(page.locator(".study-item").get_by_text("已完成").first).to_be_visible()
    shot(page, "4-material-done")

    # The reflection: written, partly offline, saved on reconnection, submitted.
    page.get_by_role("link", name="心得体会").click()
    page.wait_for_url(f"**/study/assignments/{assignment_id}/reflection")
    body, state = page.locator("#body"), page.locator("#save-state")
    page.evaluate(WATCH_STATE)
    body.fill(FIRST)
    expect(state).to_have_text(re.compile("草稿已于"), timeout=10_000)
    teacher_context.set_offline(True)
    body.press("Control+End")
    body.press_sequentially(OFFLINE, delay=5)
    expect(state).to_contain_text("未保存", timeout=10_000)
    shot(page, "5-offline")
    teacher_context.set_offline(False)
    expect(state).to_have_text(re.compile("草稿已于"), timeout=15_000)
    assert stored(live_app, assignment_id)[0] == FIRST + OFFLINE
    page.get_by_role("button", name="提交").click()
    expect(page.locator(".flash.success")).to_contain_text("已提交")
    shot(page, "6-submitted")

    # The secretary returns it with a comment.
    secretary_context, desk, desk_errors = log_in(browser, base, "secretary")
    desk.goto(f"{base}/manage/study/assignments/{assignment_id}/reflections")
    desk.get_by_role("link", name="李晓燕").click()
    desk.wait_for_url("**/manage/study/reflections/*")
    desk.get_by_label("退回修改").check()
    desk.get_by_label("评语").fill("请结合自己今后的具体做法再写一段。")
    shot(desk, "7-return")
    desk.get_by_role("button", name="保存审阅结果").click()
    expect(desk.locator(".flash.success")).to_contain_text("已退回修改")

    # The teacher revises and resubmits.
    page.reload()
    expect(page.locator(".callout.returned")).to_contain_text("请结合自己今后的具体做法再写一段。")
    page.evaluate(WATCH_STATE)
    body = page.locator("#body")
    body.press("Control+End")
    body.press_sequentially(REVISION, delay=5)
    expect(state).to_have_text(re.compile("草稿已于"), timeout=10_000)
    assert failures_shown(page) == []
    page.get_by_role("button", name="重新提交").click()
    expect(page.locator(".flash.success")).to_contain_text("第 2 版已提交")

    # The secretary accepts version 2 as 优秀.
    desk.reload()
    desk.get_by_role("link", name="李晓燕").click()
    expect(desk.locator("h2", has_text="第 2 版")).to_be_visible()
    desk.get_by_label("通过").check()
    desk.get_by_label("评为优秀并在本单位分享").check()
    desk.get_by_role("button", name="保存审阅结果").click()
    expect(desk.locator(".flash.success")).to_contain_text("已通过")
    shot(desk, "8-accepted")
    assert stored(live_app, assignment_id)[1:3] == ("accepted", True)

    # The teacher's assignment is 已完成, and so is its line in the to-do list.
    page.goto(f"{base}/study/assignments/{assignment_id}")
    expect(page.locator("main p").first.locator(".badge")).to_have_text("已完成")
    assert fits_the_phone(page)
    shot(page, "9-completed")
    page.goto(f"{base}/")
    expect(page.locator(f'.done-items a[href$="/study/assignments/{assignment_id}"]')
           ).to_have_count(1)
    assert errors == [] and desk_errors == []
    teacher_context.close()
    secretary_context.close()
