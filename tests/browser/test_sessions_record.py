"""A branch secretary on a phone (375 px) organises a 支部党员大会 from notice to locked
record: creates it for next Tuesday, publishes it (attendees fixed), a teacher asks for
leave and the secretary approves it; after the meeting 全部出席 then two exceptions,
minutes, two photos, the dashboard's countdown, confirmation (locked), a correction that
keeps the earlier version, and the printed sign-in sheet and attendance record.

Screenshots land in test-output/screenshots/sessions-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import to_user_timezone
from playwright.sync_api import expect

from studyhall.audit import AuditEntry
from studyhall.demo import DEMO_PASSWORD
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    SessionRecordVersion,
    StudySession,
)
from studyhall.sessions.queries import add_working_days, local_date, working_days_between
from tests.app.session_fixtures_e1 import jpeg_bytes

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 740}
TOPIC = "学习贯彻全国教育大会精神"


def login(context, base: str, account: str):
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # data-confirm asks first
    page.goto(f"{base}/login")
    page.get_by_label("账号").fill(account)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
    return page


def fits(page) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), \
        page.url


def shot(page, folder, name: str, *, full: bool = True) -> None:
    fits(page)
    page.screenshot(path=str(folder / f"sessions-{name}.png"), full_page=full)


def next_tuesday(live_app):
    with live_app.test_request_context():
        today = to_user_timezone(utcnow()).date()
    return today + timedelta(days=(1 - today.weekday()) % 7 or 7)


def move_to_the_past(live_app, session_id: int) -> None:
    """The meeting took place: it started three hours ago and ended one and a half."""
    with live_app.app_context():
        session = db.session.get(StudySession, session_id)
        now = utcnow()
        session.starts_at, session.ends_at = now - timedelta(hours=3), \
            now - timedelta(minutes=90)
        db.session.commit()
        db.session.remove()


def test_a_secretary_runs_a_branch_meeting_from_notice_to_locked_record(
        browser, live_server, live_app, screenshot_dir):
    base, folder = live_server, screenshot_dir
    secretary_ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    teacher_ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    errors: list[str] = []
    sec = login(secretary_ctx, base, "secretary")
    sec.on("pageerror", lambda exc: errors.append(str(exc)))

    # --- The notice: created on the phone for next Tuesday, then published. ---
    sec.get_by_role("button", name="菜单").click()
    sec.get_by_role("link", name="学习会议").click()
    sec.get_by_role("link", name="新建会议").click()
    sec.get_by_label("类型").select_option(label="支部党员大会")
    unit = sec.locator("#owner_unit_id option", has_text="实验小学第一支部")
    sec.get_by_label("单位").select_option(value=unit.get_attribute("value"))
    sec.get_by_label("主题").fill(TOPIC)
    tuesday = next_tuesday(live_app)
    sec.get_by_label("日期").fill(tuesday.isoformat())
    sec.get_by_label("开始时间").fill("14:30")
    sec.get_by_label("结束时间").fill("16:00")
    sec.get_by_label("地点").fill("实验小学三楼党员活动室")
    sec.get_by_label("主持人").fill("王建华")
    sec.get_by_label("记录人").fill("secretary")
    shot(sec, folder, "01-create")
    sec.get_by_role("button", name="保存").click()
    expect(sec.locator(".flash.success")).to_contain_text("已保存为草稿")
    session_id = int(re.search(r"/manage/sessions/(\d+)", sec.url)[1])
    expect(sec.locator(".report-line")).to_contain_text("应到 19 人")
    shot(sec, folder, "02-draft")
    sec.get_by_role("link", name="应到人员").first.click()
    expect(sec.locator(".people-by-unit")).to_contain_text("李晓燕")
    shot(sec, folder, "02-audience")
    sec.go_back()
    sec.get_by_role("link", name="发布…").click()
    expect(sec.locator(".people-by-unit")).to_contain_text("李晓燕")
    sec.get_by_role("button", name="发布", exact=True).click()
    expect(sec.locator(".flash.success")).to_contain_text("应到 19 人")
    shot(sec, folder, "03-published")

    with live_app.app_context():
        expected = db.session.scalar(sa.select(sa.func.count()).where(
            Attendance.session_id == session_id))
        db.session.remove()
    assert expected == 19

    # The printed sign-in sheet, before the meeting.
    sec.goto(f"{base}/manage/sessions/{session_id}/sign-in-sheet")
    expect(sec.locator("table.sheet")).to_contain_text("李晓燕")
    shot(sec, folder, "04-sign-in-sheet-phone")
    sec.emulate_media(media="print")
    sec.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    sec.screenshot(path=str(folder / "sessions-04-sign-in-sheet-print.png"), full_page=True)
    sec.emulate_media(media="screen")
    sec.set_viewport_size(PHONE)

    # --- A teacher sees it in "my sessions" and asks for leave with a reason. ---
    teacher = login(teacher_ctx, base, "teacher")
    teacher.on("pageerror", lambda exc: errors.append(str(exc)))
    expect(teacher.locator("main")).to_contain_text(TOPIC)  # the dashboard says so too
    shot(teacher, folder, "05-teacher-dashboard")
    teacher.goto(f"{base}/sessions/")
    # The demo's own upcoming 主题党日 may come first: find this meeting's card.
    card = teacher.locator(".session-card").filter(has_text=TOPIC)
    expect(card).to_have_count(1)
    shot(teacher, folder, "05-my-sessions")
    card.get_by_role("link", name="详情 · 请假").click()
    teacher.get_by_label("请假事由").fill("当天下午带学生参加区中小学生运动会")
    teacher.get_by_role("button", name="申请请假").click()
    expect(teacher.locator(".flash.success")).to_contain_text("请假申请已提交")
    shot(teacher, folder, "06-leave-requested")

    # --- The secretary approves it from the dashboard. ---
    sec.goto(f"{base}/")
    expect(sec.locator("main")).to_contain_text("待审批的请假")
    sec.get_by_role("link", name=TOPIC).first.click()
    leave = sec.locator("#leave")
    expect(leave).to_contain_text("当天下午带学生参加区中小学生运动会")
    shot(sec, folder, "07-leave-to-decide")
    leave.get_by_role("button", name="批准").click()
    expect(sec.locator(".flash.success")).to_contain_text("已批准李晓燕的请假")
    expect(sec.locator(".figures")).to_contain_text("请假")

    # --- After the meeting: the dashboard counts down the working days left. ---
    move_to_the_past(live_app, session_id)
    sec.goto(f"{base}/")
    reminders = sec.locator("#record-reminders")
    expect(reminders).to_contain_text(TOPIC)
    # Three working days from the day it ended, counted in the users' time zone: near
    # local midnight, or over a weekend, fewer are left today (tests/app cover the count).
    with live_app.app_context():
        ended = local_date(db.session.get(StudySession, session_id).ends_at)
        left = working_days_between(local_date(utcnow()), add_working_days(ended, 3))
        db.session.remove()
    expect(reminders).to_contain_text(f"还剩 {left} 个工作日" if left else "今天截止")
    shot(sec, folder, "08-dashboard-reminder")

    # --- The roster: 全部出席, then one tap per exception. ---
    sec.goto(f"{base}/manage/sessions/{session_id}/roster")
    sec.get_by_role("button", name="全部出席").click()
    expect(sec.locator(".flash.success")).to_contain_text("已将 18 人标记为出席")
    leave_row = sec.locator(".roster-row", has_text="李晓燕")
    expect(leave_row.get_by_role("button", name="请假")).to_have_attribute("aria-pressed",
                                                                          "true")
    rows = sec.locator(".roster-row").filter(has_not_text="李晓燕")
    late, absent = rows.nth(2), rows.nth(5)
    late_name, absent_name = late.locator(".name").inner_text(), \
        absent.locator(".name").inner_text()
    late.get_by_role("button", name="迟到").click()
    expect(late.get_by_role("button", name="迟到")).to_have_attribute("aria-pressed", "true")
    expect(sec.locator('[data-count="late"]')).to_have_text("1")
    absent.get_by_role("button", name="缺席").click()
    expect(sec.locator('[data-count="absent"]')).to_have_text("1")
    expect(sec.locator("#roster-message")).to_contain_text(absent_name)
    expect(sec.locator('[data-count="unmarked"]')).to_have_text("0")
    absent.scroll_into_view_if_needed()
    shot(sec, folder, "09-roster", full=False)
    shot(sec, folder, "09-roster-full")

    # --- Minutes, two photos, confirmation. ---
    sec.get_by_role("link", name="会议记录和照片").click()
    sec.get_by_label("会议记录").fill(
        "# 会议议程\n一、传达学习全国教育大会精神\n二、讨论落实举措\n\n"
        "**主持人**：王建华\n\n- 李老师：结合课堂教学谈体会\n- 全体党员交流发言")
    sec.get_by_label("会议决议").fill("开展“教育强国、我的责任”主题实践活动")
    sec.get_by_role("button", name="保存").click()
    expect(sec.locator(".flash.success")).to_contain_text("会议记录已保存")
    sec.locator("#photo-files").set_input_files([
        {"name": "IMG_2041.JPG", "mimeType": "image/jpeg",
         "buffer": jpeg_bytes(2400, 1600, color=(170, 40, 40))},
        {"name": "IMG_2042.JPG", "mimeType": "image/jpeg",
         "buffer": jpeg_bytes(1600, 2400, color=(40, 90, 160))}])
    sec.get_by_label("说明").first.fill("会议现场")
    sec.get_by_role("button", name="上传照片").click()
    expect(sec.locator(".flash.success")).to_contain_text("已添加 2 个文件")
    expect(sec.locator(".photos img")).to_have_count(2)
    for image in sec.locator(".photos img").all():
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    shot(sec, folder, "10-record")
    sec.get_by_role("button", name="确认记录").click()
    expect(sec.locator(".flash.success")).to_contain_text("已确认并锁定")
    expect(sec.get_by_label("会议记录")).to_have_count(0)  # no editing once locked
    shot(sec, folder, "11-locked")

    # --- A correction: the earlier version stays, the reason is audited. ---
    sec.get_by_role("link", name="更正记录").click()
    sec.get_by_label("更正原因").fill(f"{late_name}实际准时到会，误记为迟到")
    shot(sec, folder, "12-correct")
    sec.get_by_role("button", name="开始更正").click()
    expect(sec.locator(".flash.success")).to_contain_text("第 1 版已保存")
    sec.goto(f"{base}/manage/sessions/{session_id}/roster")
    row = sec.locator(".roster-row", has_text=late_name)
    row.get_by_role("button", name="出席").click()
    expect(sec.locator('[data-count="late"]')).to_have_text("0")
    sec.goto(f"{base}/manage/sessions/{session_id}/record")
    sec.get_by_role("button", name="确认记录").click()
    expect(sec.locator(".flash.success")).to_contain_text("已确认并锁定")
    sec.get_by_role("link", name="历史").first.click()
    expect(sec.locator(".audit")).to_contain_text("误记为迟到")
    expect(sec.locator(".audit")).to_contain_text(f"{late_name}: 迟到 → 出席")
    expect(sec.locator(".version")).to_contain_text("第 1 版")
    shot(sec, folder, "13-history")

    sec.goto(f"{base}/manage/sessions/?when=past")
    expect(sec.locator(".session-list")).to_contain_text(TOPIC)
    shot(sec, folder, "13-list")

    # --- The printed attendance record. ---
    sec.goto(f"{base}/manage/sessions/{session_id}/attendance-record")
    paper = sec.locator(".paper")
    expect(paper).to_contain_text("当天下午带学生参加区中小学生运动会")
    expect(paper).to_contain_text(absent_name)
    # 17 attended of 19 expected, less one on leave: 17/18 = 94.4%.
    expect(paper.locator(".figures-table")).to_contain_text("94.4%")
    shot(sec, folder, "14-attendance-record-phone")
    sec.emulate_media(media="print")
    sec.set_viewport_size({"width": 794, "height": 1123})
    sec.screenshot(path=str(folder / "sessions-14-attendance-record-print.png"),
                   full_page=True)
    assert not sec.locator(".topbar").is_visible()

    with live_app.app_context():
        statuses = dict(db.session.execute(sa.select(Attendance.status, sa.func.count())
                                           .where(Attendance.session_id == session_id)
                                           .group_by(Attendance.status)).all())
        versions = db.session.scalar(sa.select(sa.func.count()).where(
            SessionRecordVersion.session_id == session_id))
        actions = db.session.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.target_type == "studysession", AuditEntry.target_id == session_id)
            .order_by(AuditEntry.id)).all()
        db.session.remove()
    assert statuses == {AttendanceStatus.PRESENT: 17, AttendanceStatus.EXCUSED: 1,
                        AttendanceStatus.ABSENT: 1}
    assert versions == 1
    assert actions == ["session.publish", "session.record_confirm", "session.record_reopen",
                       "session.record_correct"]
    assert errors == []
    secretary_ctx.close()
    teacher_ctx.close()
