"""A teacher reads a material on a phone: the page counts time only while it is in front
and used, the checkpoint in the text is answered and explained at once, and 我已学完
completes the material once the (short, for the test) minimum time is reached."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from studyhall.bank.models import Question
from studyhall.demo import DEMO_PASSWORD
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person
from studyhall.study import checkpoints
from studyhall.study.materials import BLOCK_SEP
from studyhall.study.models import (
    Assignment,
    AssignmentItem,
    AssignmentRecipient,
    AssignmentStatus,
    Material,
    MaterialKind,
    MaterialVersion,
    ReadingProgress,
)

pytestmark = pytest.mark.browser

BODY = BLOCK_SEP.join([
    "<h2>一、严明政治纪律</h2>",
    "<p>党员必须坚定理想信念，自觉在思想上政治上行动上同党中央保持高度一致，"
    "不得散布违背党的理论和路线方针政策的言论。</p>",
    "<p>严格遵守组织纪律，如实向组织报告个人有关事项，按照规定参加组织生活，"
    "不得违反民主集中制原则。</p>",
    "<h2>二、坚守廉洁底线</h2>",
    "<p>不得利用职务上的便利为本人或者他人谋取利益，不得收受可能影响公正执行公务的礼品礼金。</p>",
])


@pytest.fixture()
def reading_assignment(live_app):
    """A text material with a checkpoint after its second block, assigned to the demo
    teacher with a minimum of 3 s; the page beats every second."""
    with live_app.app_context():
        teacher = db.session.scalar(sa.select(Person).where(Person.account == "teacher"))
        # Not a question of an exam the teacher is in (the other browser tests make some):
        # its key and 解析 would rightly stay hidden until that exam closes.
        singles = db.session.scalars(sa.select(Question.id).where(
            Question.type == "single").order_by(Question.id)).all()
        withheld = checkpoints.withheld_question_ids(singles, teacher.id, utcnow())
        question = db.session.get(Question, next(q for q in singles if q not in withheld))
        material = Material(kind=MaterialKind.TEXT, owner_unit_id=teacher.unit_id)
        db.session.add(material)
        db.session.flush()
        version = MaterialVersion(material_id=material.id, number=1, title="廉洁自律准则学习",
                                  body_html=BODY, min_reading_seconds=600)
        db.session.add(version)
        db.session.flush()
        material.current_version_id = version.id
        checkpoints.place_checkpoint(version, question.id, 2)
        now = utcnow()
        assignment = Assignment(title="六月专题学习", owner_unit_id=teacher.unit_id,
                                starts_at=now - timedelta(hours=1),
                                due_at=now + timedelta(days=3),
                                status=AssignmentStatus.PUBLISHED, published_at=now)
        db.session.add(assignment)
        db.session.flush()
        db.session.add(AssignmentItem(assignment_id=assignment.id, position=1,
                                      material_id=material.id, min_reading_seconds=3))
        db.session.add(AssignmentRecipient(assignment_id=assignment.id, person_id=teacher.id,
                                           unit_id=teacher.unit_id,
                                           political_status=teacher.political_status))
        db.session.commit()
        ids = assignment.id, material.id, question.config.get("answer")
        db.session.remove()
    live_app.config["READING_BEAT_SECONDS"] = 1
    yield ids
    live_app.config.pop("READING_BEAT_SECONDS")


def test_read_answer_the_checkpoint_and_finish(browser, live_server, live_app,
                                               reading_assignment, screenshot_dir):
    assignment_id, material_id, answer = reading_assignment
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.goto(f"{live_server}/login")
    page.get_by_label("账号").fill("teacher")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server}/study/assignments/{assignment_id}")
    expect(page.locator(".study-item").get_by_text("未开始")).to_be_visible()
    page.get_by_role("link", name="廉洁自律准则学习").click()
    page.wait_for_url(f"**/materials/{material_id}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    finish = page.get_by_role("button", name="我已学完")
    expect(finish).to_be_disabled()

    # Read: the page is in front and used (scrolling now and then) until the server has
    # credited the 3 s minimum.
    expect(page.locator("#reading-state")).to_have_text("计时中", timeout=5_000)
    for _ in range(40):
        if page.locator("#need-time.met").count():
            break
        page.mouse.wheel(0, 120)
        page.wait_for_timeout(500)
    expect(page.locator("#need-time")).to_have_class(re.compile("met"))
    expect(finish).to_be_disabled()     # the checkpoint is still unanswered
    page.screenshot(path=str(screenshot_dir / "reading-phone-checkpoint.png"), full_page=True)

    # The checkpoint sits after the second block; answering shows the verdict and 解析.
    checkpoint = page.locator("section.checkpoint")
    checkpoint.scroll_into_view_if_needed()
    checkpoint.locator(".choice").nth("ABCDEFGH".index(answer)).click()
    checkpoint.get_by_role("button", name="提交答案").click()
    expect(page.locator("section.checkpoint .feedback.right")).to_be_visible()
    expect(page.locator("section.checkpoint")).to_contain_text("回答正确")
    expect(finish).to_be_enabled()
    page.screenshot(path=str(screenshot_dir / "reading-phone-answered.png"), full_page=True)

    finish.click()
    page.wait_for_url(f"**/study/assignments/{assignment_id}")
    expect(page.get_by_text("已完成").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "reading-phone-done.png"), full_page=True)
    assert errors == []
    with live_app.app_context():
        progress = db.session.scalar(sa.select(ReadingProgress).where(
            ReadingProgress.assignment_id == assignment_id))
        assert progress.completed_at is not None and progress.credited_ms >= 3000
        db.session.remove()
    context.close()
