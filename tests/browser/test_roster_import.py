"""The roster import page on a phone: an admin ticks 自动新建不存在的单位, chooses the parent
of new single-name units and sees 将新建单位 in the preview, which fits 375 px. Nothing is
confirmed, so the shared demo data stays as it was."""

import pytest
import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.org.models import Unit
from tests.browser.test_unit_page import log_in, widths

pytestmark = pytest.mark.browser

ROSTER = ("工号*,真实姓名（必填）,所属单位,所属部门,政治面貌\n"
          "r9001,钱新,示例市实验小学党总支,实验小学第三支部,群众\n"
          "r9002,孙新,,实验小学第三支部,01 中共党员\n")


def test_new_units_are_chosen_and_previewed_on_a_phone(browser, live_server, live_app,
                                                      screenshot_dir, tmp_path):
    with live_app.app_context():
        parent = db.session.scalar(sa.select(Unit.id).where(Unit.name == "示例市实验小学党总支"))
        db.session.remove()
    context, page = log_in(browser, live_server, "admin")
    page.goto(f"{live_server}/manage/roster")
    file = tmp_path / "花名册.csv"
    file.write_text(ROSTER, encoding="utf-8")
    page.get_by_label("花名册文件").set_input_files(str(file))
    page.get_by_label("自动新建不存在的单位").check()
    page.get_by_label("只写名称的新单位建在").select_option(str(parent))
    assert widths(page)[0] <= widths(page)[1]
    page.screenshot(path=str(screenshot_dir / "roster-upload-phone.png"), full_page=True)
    page.get_by_role("button", name="预览").click()
    page.wait_for_selector("h1:has-text('花名册导入预览')")
    body = page.locator("main").inner_text()
    assert "将新建单位" in body
    assert "示例市教育局党委 / 示例市实验小学党总支 / 实验小学第三支部" in body
    assert "导入 2 行" in body
    page.screenshot(path=str(screenshot_dir / "roster-preview-new-unit-phone.png"),
                    full_page=True)
    scroll_width, inner_width = widths(page)
    assert scroll_width <= inner_width, (scroll_width, inner_width)
    context.close()
