"""A secretary puts the check-in screen on the meeting-room projector (1280 px) while two
teachers check in on phones (375 px): one scans the URL the QR code encodes while logged
out and lands checked in after the login, the other types the 6-digit code. The screen's
count follows. A third member is on approved leave; the secretary marks the rest present
on the roster, writes the minutes, confirms the record and prints the attendance record.
The session and its expected attendees are written through the models."""

import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from studyhall.audit import AuditEntry
from studyhall.demo import DEMO_PASSWORD
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, Unit
from studyhall.sessions import checkin
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    LeaveState,
    SessionKind,
    SessionStatus,
    StudySession,
)
from tests.app.session_fixtures_e2 import add_session

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
PROJECTOR = {"width": 1280, "height": 800}


@pytest.fixture()
def meeting(live_app):
    """A 支部党员大会 of the demo teacher's branch that started a minute ago (check-in
    open, not late yet), every active member expected; a second teacher of the branch
    gets the demo password, a third has approved leave."""
    with live_app.app_context():
        branch = db.session.scalar(sa.select(Unit).where(Unit.name == "实验小学第一支部"))
        people = list(db.session.scalars(sa.select(Person).where(
            Person.unit_id == branch.id, Person.is_active).order_by(Person.account)))
        second, third = [p for p in people if p.account.startswith("T")][:2]
        kept = (second.password_hash, second.must_change_password)
        second.set_password(DEMO_PASSWORD)
        second.must_change_password = False
        session = add_session(branch.id, people, starts_at=utcnow() - timedelta(minutes=1),
                              kind=SessionKind.BRANCH_MEETING, place="学校三楼会议室",
                              topic="学习《中国共产党纪律处分条例》")
        leave = db.session.get(Attendance, (session.id, third.id))
        leave.leave_state, leave.leave_reason = LeaveState.APPROVED, "外出培训"
        leave.status, leave.method = AttendanceStatus.EXCUSED, "leave"
        db.session.commit()
        found = (session.id, second.account, second.id, len(people), third.name)
        db.session.remove()
    yield found
    # The live app is shared by the browser tests: leave it as it was.
    with live_app.app_context():
        # Its audit entries too: SQLite may give the next session the same id.
        db.session.execute(sa.delete(AuditEntry).where(
            AuditEntry.target_type == "studysession", AuditEntry.target_id == found[0]))
        db.session.delete(db.session.get(StudySession, found[0]))
        second = db.session.get(Person, found[2])
        second.password_hash, second.must_change_password = kept
        db.session.commit()
        db.session.remove()


def log_in(page, live_server, account):
    page.get_by_label("账号").fill(account)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def scan_url_shown(screen, session_id) -> str:
    """The URL of the QR code on the screen right now: the state's QR matches the image."""
    for _ in range(5):
        state = screen.request.get(
            f"{screen.url.rsplit('/', 1)[0]}/screen.json").json()
        if screen.locator("#screen-qr").get_attribute("src") == state["qr"]:
            assert f"/checkin/{session_id}/" in state["url"]
            return state["url"]
        time.sleep(1)
    raise AssertionError("the screen never showed the current QR code")


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_projector_screen_and_two_phones_check_in(browser, live_server, live_app, meeting,
                                                    screenshot_dir):
    session_id, second_account, second_id, expected, on_leave = meeting
    errors = []

    # The secretary opens the screen on the projector.
    projector = browser.new_context(viewport=PROJECTOR, locale="zh-CN")
    screen = projector.new_page()
    screen.on("pageerror", lambda exc: errors.append(str(exc)))
    screen.goto(f"{live_server}/login")
    log_in(screen, live_server, "secretary")
    screen.goto(f"{live_server}/manage/sessions/{session_id}/checkin/screen")
    expect(screen.locator("#screen-qr")).to_be_visible()
    expect(screen.locator(".screen-topic")).to_have_text("学习《中国共产党纪律处分条例》")
    expect(screen.locator("#screen-code")).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    expect(screen.locator("#screen-checked-in")).to_have_text("0")
    expect(screen.locator("#screen-expected")).to_have_text(str(expected))
    box = screen.locator("#screen-qr").bounding_box()
    assert box["width"] >= 480 and box["height"] >= 480, box  # readable across a room
    assert screen.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")
    screen.screenshot(path=str(screenshot_dir / "checkin-screen-1280.png"))

    # Teacher one, logged out, scans the QR code: the login, then checked in.
    phone_one = browser.new_context(viewport=PHONE, locale="zh-CN")
    one = phone_one.new_page()
    one.on("pageerror", lambda exc: errors.append(str(exc)))
    one.goto(scan_url_shown(screen, session_id))
    expect(one.locator(".flash.info")).to_contain_text("登录后即完成签到")
    one.screenshot(path=str(screenshot_dir / "checkin-phone-login.png"))
    log_in(one, live_server, "teacher")
    expect(one.locator("#checkin-title")).to_have_text("签到成功")
    expect(one.locator(".checkin-status")).to_contain_text("出席")
    assert no_sideways_scroll(one)
    one.screenshot(path=str(screenshot_dir / "checkin-phone-success.png"))

    # Teacher two has no camera: types the code the screen shows.
    phone_two = browser.new_context(viewport=PHONE, locale="zh-CN")
    two = phone_two.new_page()
    two.on("pageerror", lambda exc: errors.append(str(exc)))
    two.goto(f"{live_server}/login?next=/checkin")
    log_in(two, live_server, second_account)
    expect(two.get_by_label("签到码")).to_be_visible()
    assert no_sideways_scroll(two)
    two.screenshot(path=str(screenshot_dir / "checkin-phone-code.png"))
    two.get_by_label("签到码").fill(screen.locator("#screen-code").inner_text())
    two.get_by_role("button", name="签到", exact=True).click()
    expect(two.locator("#checkin-title")).to_have_text("签到成功")

    # The screen's count follows within one poll.
    expect(screen.locator("#screen-checked-in")).to_have_text("2", timeout=8000)
    screen.screenshot(path=str(screenshot_dir / "checkin-screen-1280-counted.png"))

    # A photo of an old code, sent on: expired, said plainly.
    with live_app.app_context():
        session = db.session.get(StudySession, session_id)
        stale = checkin.token_for(session, checkin.step_of(utcnow()) - 2)
        db.session.remove()
    one.goto(f"{live_server}/checkin/{session_id}/{stale}")
    expect(one.locator("#checkin-title")).to_have_text("二维码已过期，请重新扫描")
    assert no_sideways_scroll(one)
    one.screenshot(path=str(screenshot_dir / "checkin-phone-expired.png"))

    # After the meeting: the rest present on the roster, the minutes, confirmed, printed.
    screen.goto(f"{live_server}/manage/sessions/{session_id}/roster")
    teacher_row = screen.locator(".roster-row", has_text="李晓燕")
    expect(teacher_row.locator(".badge")).to_have_text("已签到")
    expect(screen.locator(".roster-row", has_text=on_leave).locator(".badge")).to_contain_text(
        "请假")
    screen.once("dialog", lambda dialog: dialog.accept())
    screen.get_by_role("button", name="全部出席").click()
    screen.wait_for_load_state()
    screen.goto(f"{live_server}/manage/sessions/{session_id}/record")
    screen.get_by_label("会议记录").fill("支部书记领学《条例》第二编，全体党员逐条讨论。")
    screen.get_by_role("button", name="保存").click()
    screen.wait_for_load_state()
    screen.once("dialog", lambda dialog: dialog.accept())
    screen.get_by_role("button", name="确认记录").click()
    expect(screen.locator(".record-state")).to_contain_text("记录已确认")
    screen.goto(f"{live_server}/manage/sessions/{session_id}/attendance-record")
    screen.emulate_media(media="print")
    expect(screen.locator("body")).to_contain_text(f"{on_leave}（外出培训）")
    screen.screenshot(path=str(screenshot_dir / "checkin-attendance-record-print.png"),
                      full_page=True)

    with live_app.app_context():
        rows = {row.person_id: row for row in db.session.scalars(
            sa.select(Attendance).where(Attendance.session_id == session_id))}
        teacher = db.session.scalar(sa.select(Person).where(Person.account == "teacher"))
        assert (rows[teacher.id].status, rows[teacher.id].method) == (
            AttendanceStatus.PRESENT, "qr")
        assert (rows[second_id].status, rows[second_id].method) == (
            AttendanceStatus.PRESENT, "code")
        statuses = [row.status for row in rows.values()]
        assert statuses.count(AttendanceStatus.EXCUSED) == 1
        assert statuses.count(AttendanceStatus.PRESENT) == expected - 1
        stored = db.session.get(StudySession, session_id)
        assert stored.status is SessionStatus.PUBLISHED and stored.record_locked_at
        assert {rows[teacher.id].method, rows[second_id].method} == {"qr", "code"}
        db.session.remove()
    assert not errors, errors
    for context in (projector, phone_one, phone_two):
        context.close()
