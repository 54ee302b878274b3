"""The study plan on a phone: the demo branch's plan, its checklist and the overview fit
375 px for the secretary; linking a held session to a planned item works by tapping;
the demo's PDF material reads in Chinese."""

import pytest
import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.sessions.models import StudyPlan
from studyhall.study.models import Material, MaterialVersion
from tests.browser.test_unit_page import log_in, widths

pytestmark = pytest.mark.browser


def _plan_id(live_app) -> int:
    with live_app.app_context():
        found = db.session.scalar(sa.select(StudyPlan.id).order_by(StudyPlan.id))
        db.session.remove()
    return found


def test_the_plan_pages_fit_a_phone(browser, live_server, live_app, screenshot_dir):
    context, page = log_in(browser, live_server, "secretary")
    page.goto(f"{live_server}/manage/sessions/plans/")
    page.screenshot(path=str(screenshot_dir / "plans-list-phone.png"), full_page=True)
    assert widths(page)[0] <= widths(page)[1]
    page.get_by_role("link", name="实验小学第一支部").first.click()
    page.wait_for_url("**/manage/sessions/plans/*")
    assert page.locator("#checklist .cycle.done").count() >= 1
    assert page.locator("#items .plan-item").count() >= 15
    scroll_width, inner_width = widths(page)
    page.screenshot(path=str(screenshot_dir / "plan-show-phone.png"), full_page=True)
    page.locator("#checklist").screenshot(path=str(screenshot_dir / "plan-checklist-phone.png"))
    assert scroll_width <= inner_width, (scroll_width, inner_width)
    page.goto(f"{live_server}/manage/sessions/plans/overview")
    page.screenshot(path=str(screenshot_dir / "plans-overview-phone.png"), full_page=True)
    assert widths(page)[0] <= widths(page)[1]
    context.close()


def test_a_held_session_is_linked_by_tapping(browser, live_server, live_app):
    context, page = log_in(browser, live_server, "secretary")
    page.goto(f"{live_server}/manage/sessions/plans/{_plan_id(live_app)}")
    linked = page.locator("#items .plan-item").filter(
        has=page.locator(".badge.ok", has_text="已召开"))
    before = linked.count()
    assert before == 3
    first = linked.first
    first.locator("summary").click()
    first.get_by_role("combobox").select_option("0")
    first.get_by_role("button", name="关联").click()
    page.wait_for_load_state()
    assert page.locator(".flash.success").count() == 1
    assert linked.count() == before - 1
    context.close()


def test_the_demo_pdf_reads_in_chinese(browser, live_server, live_app, screenshot_dir):
    with live_app.app_context():
        material_id = db.session.scalar(sa.select(Material.id).join(
            MaterialVersion, MaterialVersion.id == Material.current_version_id)
            .where(MaterialVersion.title.like("%支部工作条例%")))
        db.session.remove()
    context, page = log_in(browser, live_server, "secretary")
    page.goto(f"{live_server}/manage/study/materials/{material_id}")
    page.locator(".pdf-view canvas").first.wait_for(timeout=15_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot_dir / "demo-pdf-phone.png"), full_page=True)
    context.close()
