"""Importing an exam system's table with numeric type codes on a phone: the guessed
mapping is shown, corrected and confirmed before the import button appears."""

import pytest

from studyhall.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

CODED = ("题型,题干,选项一内容,选项二内容,选项A是否正确,选项B是否正确,正确答案\n"
         "1,手机导入单选题,甲,乙,0,1,\n2,手机导入多选题,甲,乙,1,1,\n3,手机导入判断题,,,,,对\n")


def test_type_codes_are_confirmed_on_a_phone(browser, live_server, tmp_path, screenshot_dir):
    path = tmp_path / "coded.csv"
    path.write_text(CODED, encoding="utf-8")
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/login")
    page.get_by_label("账号").fill("admin")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server}/manage/bank/import")
    page.locator("input[type=file]").set_input_files(str(path))
    page.get_by_role("button", name="预览").click()

    assert page.get_by_label("代码 3").input_value() == "true_false"
    assert page.get_by_role("button", name="导入", exact=True).count() == 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(screenshot_dir / "bank-import-codes-phone.png"), full_page=True)
    page.get_by_label("代码 2").select_option("multiple")
    page.get_by_role("button", name="确认题型代码").click()
    page.get_by_role("button", name="导入", exact=True).click()
    page.wait_for_url("**/manage/bank/**")
    page.goto(f"{live_server}/manage/bank/?q=手机导入")
    assert page.get_by_text("手机导入判断题").count() >= 1
    assert errors == []
    context.close()
