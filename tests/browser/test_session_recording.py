"""A recorded 党课 on a phone (375 px): the secretary's session form lists the
materials, quizzes, recording and plan pickers; the demo teacher opens the lecture's
page (a linked material and the recording), watches the recording in study's reader
until the (short, for the test) minimum time is credited, confirms 我已学完, and the
session page then shows them present — 出席 in the attendance table."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from studyhall.audit import AuditEntry
from studyhall.demo import DEMO_PASSWORD
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person
from studyhall.sessions import operations
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    SessionKind,
    StudySession,
    session_material,
)
from studyhall.study.models import (
    Assignment,
    Material,
    MaterialKind,
    MaterialVersion,
    ReadingProgress,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def _material(unit_id, kind, title, **version):
    material = Material(kind=kind, owner_unit_id=unit_id)
    db.session.add(material)
    db.session.flush()
    row = MaterialVersion(material_id=material.id, number=1, title=title, **version)
    db.session.add(row)
    db.session.flush()
    material.current_version_id = row.id
    return material


@pytest.fixture()
def lecture(live_app):
    """A 党课 of the demo teacher's branch that started ten minutes ago, published by the
    demo secretary with a video recording (3 s minimum) and a linked text material."""
    with live_app.app_context():
        secretary = db.session.scalar(sa.select(Person).where(Person.account == "secretary"))
        teacher = db.session.scalar(sa.select(Person).where(Person.account == "teacher"))
        video = _material(teacher.unit_id, MaterialKind.VIDEO, "专题党课录像：全面从严治党",
                          url="https://video.example.cn/dangke/2026", min_reading_seconds=3)
        text = _material(teacher.unit_id, MaterialKind.TEXT, "党课讲稿：全面从严治党",
                         body_html="<p>全面从严治党永远在路上。</p>")
        starts = utcnow() - timedelta(minutes=10)
        session = operations.create_session(secretary, {
            "kind": SessionKind.PARTY_LECTURE, "owner_unit_id": teacher.unit_id,
            "topic": "专题党课：全面从严治党", "starts_at": starts,
            "ends_at": starts + timedelta(hours=1), "place": "线上录播",
            "speaker": "王建华", "recording_material_id": video.id,
            "material_ids": [text.id]})
        operations.publish_session(secretary, session)
        db.session.commit()
        found = (session.id, session.recording_assignment_id, video.id, text.id, teacher.id)
        db.session.remove()
    live_app.config["READING_BEAT_SECONDS"] = 1
    yield found
    live_app.config.pop("READING_BEAT_SECONDS")
    # The live app is shared by the browser tests: leave it as it was.
    session_id, assignment_id, video_id, text_id, _teacher = found
    with live_app.app_context():
        db.session.execute(sa.delete(AuditEntry).where(sa.or_(
            sa.and_(AuditEntry.target_type == "studysession",
                    AuditEntry.target_id == session_id),
            sa.and_(AuditEntry.target_type == "assignment",
                    AuditEntry.target_id == assignment_id))))
        db.session.execute(sa.delete(session_material).where(
            session_material.c.session_id == session_id))
        db.session.execute(sa.delete(ReadingProgress).where(
            ReadingProgress.assignment_id == assignment_id))
        db.session.delete(db.session.get(StudySession, session_id))
        db.session.flush()
        db.session.delete(db.session.get(Assignment, assignment_id))
        db.session.flush()
        for material_id in (video_id, text_id):
            material = db.session.get(Material, material_id)
            material.current_version_id = None
            db.session.flush()
            db.session.delete(material)
        db.session.commit()
        db.session.remove()


def log_in(page, live_server, account):
    page.goto(f"{live_server}/login")
    page.get_by_label("账号").fill(account)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_watching_the_recorded_lecture_marks_present(browser, live_server, live_app, lecture,
                                                     screenshot_dir):
    session_id, assignment_id, video_id, text_id, teacher_id = lecture
    errors = []

    # The secretary's form on a phone: the pickers are there and fit.
    organiser = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    organiser.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(organiser, live_server, "secretary")
    organiser.goto(f"{live_server}/manage/sessions/{session_id}/edit")
    expect(organiser.get_by_label("录像")).to_have_value(str(video_id))
    expect(organiser.get_by_label("学习资料")).to_be_visible()
    assert no_sideways_scroll(organiser)
    organiser.screenshot(path=str(screenshot_dir / "session-form-links-375.png"),
                         full_page=True)
    organiser.goto(f"{live_server}/manage/sessions/{session_id}")
    expect(organiser.get_by_role("link", name="党课讲稿：全面从严治党")).to_be_visible()
    assert no_sideways_scroll(organiser)
    organiser.screenshot(path=str(screenshot_dir / "session-staff-links-375.png"),
                         full_page=True)
    organiser.goto(f"{live_server}/manage/sessions/settings")
    expect(organiser.get_by_label("会议记录完成时限（会后工作日数）")).to_be_visible()
    assert no_sideways_scroll(organiser)
    organiser.screenshot(path=str(screenshot_dir / "session-settings-375.png"),
                         full_page=True)

    page = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    log_in(page, live_server, "teacher")
    page.goto(f"{live_server}/sessions/{session_id}")
    expect(page.get_by_role("link", name="党课讲稿：全面从严治党")).to_be_visible()
    watch = page.get_by_role("link", name="观看录像")
    expect(watch).to_be_visible()
    assert no_sideways_scroll(page)
    page.screenshot(path=str(screenshot_dir / "session-recording-phone.png"), full_page=True)

    # The linked material opens in the session's reader.
    page.get_by_role("link", name="党课讲稿：全面从严治党").click()
    expect(page.get_by_text("全面从严治党永远在路上。")).to_be_visible()
    page.go_back()

    watch = page.get_by_role("link", name="观看录像")
    watch.click()
    page.wait_for_url(f"**/study/assignments/{assignment_id}/materials/{video_id}")
    finish = page.get_by_role("button", name="我已学完")
    for _ in range(40):
        if page.locator("#need-time.met").count():
            break
        page.mouse.wheel(0, 60)
        page.wait_for_timeout(500)
    expect(finish).to_be_enabled()
    finish.click()
    page.wait_for_url(f"**/study/assignments/{assignment_id}")

    page.goto(f"{live_server}/sessions/{session_id}")
    expect(page.get_by_text("已观看，记为出席")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "session-recording-watched-phone.png"),
                    full_page=True)
    assert errors == []
    with live_app.app_context():
        row = db.session.get(Attendance, (session_id, teacher_id))
        assert row.status is AttendanceStatus.PRESENT and row.method == "recording"
        db.session.remove()
