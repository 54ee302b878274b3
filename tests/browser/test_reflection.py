"""Reflections on a phone (375 px): the live counter agrees with the server's 字数; a
teacher writes, loses the network, keeps typing, comes back and the draft is saved,
submits; the secretary returns it with a comment; the teacher revises and resubmits; the
secretary accepts it as 优秀 and the unit sees it. A stale tab stops saving."""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from studyhall.demo import DEMO_PASSWORD
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, Unit
from studyhall.study import reflections as ops
from studyhall.study.models import Assignment, AssignmentRecipient, Reflection
from studyhall.study.reflection_targets import AssignmentTarget
from studyhall.study.text import count_length
from tests.app.study_fixtures_s3 import create_assignment
from tests.unit.reflection_samples import COPIED, HONEST
from tests.unit.test_study_text import SAMPLES

pytestmark = pytest.mark.browser

SCRIPT = Path(__file__).resolve().parents[2] / "studyhall" / "static" / "js" / "reflection.js"
PHONE = {"viewport": {"width": 375, "height": 740}, "locale": "zh-CN"}
FIRST = ("通过这次集中学习《新时代中小学教师职业行为十项准则》，我对照自己的教学工作做了认真回顾。"
         "班上有个男生上课总爱走神，我曾经当着全班的面批评他，后来家访才知道他的难处。")
OFFLINE = "\n准则讲严慈相济，我体会到“严”要讲方法，“慈”要落到细处。"
REVISION = "\n今后我每学期至少走访十户家庭，批评学生尽量在课后单独进行，坚决不参与有偿补课。"


def random_texts(count: int) -> list[str]:
    """Mixed Chinese, Latin, digits, joiners, marks, full-width, emoji and arbitrary code
    points: no lone surrogates (no real text holds them), and only characters Python's
    Unicode database knows — the browser's is newer, and a character assigned since (a
    new historic script) is a letter there and unknown here (text.py says so)."""
    pieces = list("学习贯彻〇々あア한𠮷ＡＢ１２abcXYZ0189éß'’-.,") + list(
        "，。、！？；：“”（）《》 \n\t—…·😀") + [
        "\u0301", "\u0308", "e\u0301", "COVID-19", "3.14", "1,000", "don't"]
    rng = random.Random(8)
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(0, 30)):
            if rng.random() < 0.1:
                code = rng.randint(0x20, 0x3134F)
                if unicodedata.category(chr(code)) in ("Cs", "Cn"):
                    continue
                parts.append(chr(code))
            else:
                parts.append(rng.choice(pieces))
        texts.append("".join(parts))
    return texts


def test_the_counter_counts_as_the_server_does(browser):
    page = browser.new_page()
    page.set_content("<!doctype html><html><body></body></html>")
    page.add_script_tag(path=str(SCRIPT))
    texts = [text for text, _ in SAMPLES] + random_texts(3000)
    counted = page.evaluate("texts => texts.map(t => window.StudyHall.countLength(t))", texts)
    disagreements = [(text, mine, count_length(text))
                     for text, mine in zip(texts, counted, strict=True)
                     if mine != count_length(text)]
    assert disagreements == []
    assert counted[:len(SAMPLES)] == [expected for _, expected in SAMPLES]
    page.close()


@pytest.fixture()
def reflection_assignment(live_app):
    """An assignment of 示例市实验小学党总支 for the demo teacher's branch, asking for a
    reflection of at least 60 字, built through the models on the live app's database."""
    with live_app.app_context():
        branch = db.session.scalar(sa.select(Unit).where(Unit.name == "实验小学第一支部"))
        assignment = create_assignment(branch.parent, {"unit_ids": [branch.id]},
                                       title="浏览器测试：学习十项准则", min_chars=60)
        assignment_id = assignment.id
        db.session.commit()
        db.session.remove()
    return assignment_id


def log_in(browser, base, account):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/login")
    page.get_by_label("账号").fill(account)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
    return context, page, errors


WATCH_STATE = """() => {
  window.stateLog = [];
  const el = document.getElementById("save-state");
  new MutationObserver(() => window.stateLog.push(el.className + " " + el.textContent))
    .observe(el, {attributes: true, childList: true, characterData: true, subtree: true});
}"""


def failures_shown(page) -> list[str]:
    return page.evaluate("window.stateLog.filter(s => s.includes('unsaved'))")


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def stored(live_app, assignment_id):
    with live_app.app_context():
        teacher = db.session.scalar(sa.select(Person).where(Person.account == "teacher"))
        reflection = db.session.scalar(sa.select(Reflection).where(
            Reflection.assignment_id == assignment_id, Reflection.person_id == teacher.id))
        result = (reflection.body, reflection.status.value, reflection.is_excellent,
                  [(v.number, v.decision, v.comment) for v in reflection.versions]) \
            if reflection else None
        db.session.remove()
    return result


def test_write_offline_submit_return_revise_accept(browser, live_server, live_app,
                                                   reflection_assignment, screenshot_dir):
    base, assignment_id = live_server, reflection_assignment
    teacher_context, page, errors = log_in(browser, base, "teacher")
    page.goto(f"{base}/study/reflections/")
    page.get_by_role("link", name="浏览器测试：学习十项准则").click()
    page.wait_for_url(f"**/study/assignments/{assignment_id}/reflection")
    body, state, count = page.locator("#body"), page.locator("#save-state"), page.locator("#count")

    page.evaluate(WATCH_STATE)
    body.press_sequentially(FIRST[:20], delay=20)
    body.fill(FIRST)
    expect(count).to_have_text(f"已写 {count_length(FIRST)} 字，至少 60 字")
    expect(state).to_have_text(re.compile("草稿已于"), timeout=10_000)
    assert stored(live_app, assignment_id)[0] == FIRST
    assert failures_shown(page) == []  # typing online never says "not saved"

    # The network drops; typing goes on. Only the failed save says "not saved".
    teacher_context.set_offline(True)
    body.press("Control+End")
    body.press_sequentially(OFFLINE, delay=5)
    expect(state).to_have_class(re.compile("unsaved"), timeout=10_000)
    expect(state).to_contain_text("未保存")
    kept = page.evaluate("Object.values(localStorage).map(v => JSON.parse(v).body)")
    assert kept == [FIRST + OFFLINE]
    assert fits_the_phone(page)
    page.screenshot(path=str(screenshot_dir / "reflection-phone-offline.png"), full_page=True)

    teacher_context.set_offline(False)
    expect(state).to_have_text(re.compile("草稿已于"), timeout=15_000)
    assert stored(live_app, assignment_id)[0] == FIRST + OFFLINE
    assert page.evaluate("localStorage.length") == 0
    page.screenshot(path=str(screenshot_dir / "reflection-phone-saved.png"), full_page=True)

    page.get_by_role("button", name="提交").click()
    expect(page.locator(".flash.success")).to_contain_text("已提交")
    assert stored(live_app, assignment_id)[1] == "submitted"
    assert page.locator("#body").count() == 0

    # The secretary returns it with a comment.
    secretary_context, desk, desk_errors = log_in(browser, base, "secretary")
    desk.goto(f"{base}/manage/study/reflections/")
    desk.get_by_role("link", name="浏览器测试：学习十项准则").click()
    desk.wait_for_url(f"**/manage/study/assignments/{assignment_id}/reflections")
    assert fits_the_phone(desk)
    desk.screenshot(path=str(screenshot_dir / "reflection-phone-queue.png"), full_page=True)
    desk.get_by_role("link", name="李晓燕").click()
    desk.wait_for_url("**/manage/study/reflections/*")
    assert fits_the_phone(desk)
    desk.get_by_label("退回修改").check()
    desk.get_by_label("评语").fill("请结合自己今后的具体做法再写一段。")
    desk.screenshot(path=str(screenshot_dir / "reflection-phone-review.png"), full_page=True)
    desk.get_by_role("button", name="保存审阅结果").click()
    expect(desk.locator(".flash.success")).to_contain_text("已退回修改")

    # The teacher sees why, revises and submits again.
    page.reload()
    expect(page.locator(".callout.returned")).to_contain_text("请结合自己今后的具体做法再写一段。")
    page.screenshot(path=str(screenshot_dir / "reflection-phone-returned.png"), full_page=True)
    body = page.locator("#body")
    page.evaluate(WATCH_STATE)
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
    assert stored(live_app, assignment_id) == (
        FIRST + OFFLINE + REVISION, "accepted", True,
        [(1, "returned", "请结合自己今后的具体做法再写一段。"), (2, "accepted", "")])

    # The unit sees it, by name.
    page.goto(f"{base}/study/reflections/excellent")
    expect(page.get_by_role("link", name=re.compile("李晓燕"))).to_be_visible()
    assert fits_the_phone(page)
    page.screenshot(path=str(screenshot_dir / "reflection-phone-excellent.png"), full_page=True)
    assert errors == [] and desk_errors == []
    teacher_context.close()
    secretary_context.close()


def test_a_stale_tab_stops_saving_and_keeps_its_text(browser, live_server, live_app,
                                                     reflection_assignment, screenshot_dir):
    base, assignment_id = live_server, reflection_assignment
    context, first, errors = log_in(browser, base, "teacher")
    url = f"{base}/study/assignments/{assignment_id}/reflection"
    first.goto(url)
    second = context.new_page()
    second.goto(url)
    second.locator("#body").fill(FIRST + OFFLINE)
    second.get_by_role("button", name="提交").click()
    expect(second.locator(".flash.success")).to_contain_text("已提交")

    first.locator("#body").fill("旧标签页里后来输入的文字。")
    expect(first.locator("#notice")).to_contain_text("另一个页面", timeout=10_000)
    expect(first.locator("#body")).to_have_attribute("readonly", "")
    first.screenshot(path=str(screenshot_dir / "reflection-phone-stale.png"), full_page=True)
    assert stored(live_app, assignment_id)[:2] == (FIRST + OFFLINE, "submitted")

    # Its text is offered for copying after a reload, never sent.
    first.reload()
    expect(first.locator("#orphan textarea")).to_have_value("旧标签页里后来输入的文字。")
    assert stored(live_app, assignment_id)[0] == FIRST + OFFLINE
    assert errors == []
    context.close()


def test_the_reviewer_sees_a_near_copy_flagged(browser, live_server, live_app,
                                               reflection_assignment, screenshot_dir):
    """Two colleagues' reflections, one copied from the other with edits, submitted
    through the operations; the secretary's queue and review page show the flag."""
    with live_app.app_context():
        target = AssignmentTarget(db.session.get(Assignment, reflection_assignment))
        writers = db.session.scalars(
            sa.select(Person).join(AssignmentRecipient,
                                   AssignmentRecipient.person_id == Person.id)
            .where(AssignmentRecipient.assignment_id == reflection_assignment,
                   Person.account != "teacher").order_by(Person.id).limit(2)).all()
        for writer, text in zip(writers, (HONEST, COPIED), strict=True):
            ops.submit(target, writer, text, 0, utcnow())
        original, copier = (writer.name for writer in writers)
        db.session.commit()
        db.session.remove()
    context, desk, errors = log_in(browser, live_server, "secretary")
    desk.goto(f"{live_server}/manage/study/assignments/{reflection_assignment}/reflections")
    expect(desk.locator(".badge.similar")).to_have_count(2)
    assert fits_the_phone(desk)
    desk.screenshot(path=str(screenshot_dir / "reflection-phone-similar-queue.png"),
                    full_page=True)
    desk.get_by_role("link", name=copier).click()
    desk.wait_for_url("**/manage/study/reflections/*")
    flag = desk.locator(".similarity.flagged")
    expect(flag).to_contain_text("疑似雷同")
    expect(flag.get_by_role("link", name=original)).to_be_visible()
    assert fits_the_phone(desk)
    desk.screenshot(path=str(screenshot_dir / "reflection-phone-similar-review.png"),
                    full_page=True)
    assert errors == []
    context.close()
