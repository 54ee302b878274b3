"""The question editor on a phone: only the chosen type's fields show, and the preview
follows what the admin types, as text (never as HTML)."""

import pytest

from studyhall.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_editor_preview_follows_typing_and_escapes_markup(browser, live_server,
                                                          screenshot_dir):
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.goto(f"{live_server}/login")
    page.get_by_label("账号").fill("admin")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server}/manage/bank/new")
    preview = page.locator("#question-preview")

    page.get_by_label("题干").fill("<b>对党员的纪律处分种类有几种？</b>")
    page.get_by_label("选项A").fill("四种")
    page.get_by_label("选项B").fill("五种")
    assert preview.locator("b").count() == 0
    assert "<b>对党员的纪律处分种类有几种？</b>" in preview.inner_text()
    assert preview.locator(".q-options li").count() == 2
    assert page.locator("[data-types='fill_blank']").is_hidden()

    page.get_by_label("题型").select_option("fill_blank")
    assert page.locator("[data-types='fill_blank']").is_visible()
    assert page.locator("[data-types='single multiple']").is_hidden()
    page.get_by_label("参考答案").first.fill("五种\n警告")
    assert preview.locator(".q-blank").count() == 2

    page.get_by_label("题型").select_option("single")
    page.locator("input[name=answer_single][value=B]").check()
    page.get_by_role("button", name="保存").click()
    page.wait_for_url("**/manage/bank/?category=*")
    assert "对党员的纪律处分种类有几种？" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(screenshot_dir / "bank-phone-list.png"), full_page=False)
    assert errors == []
    context.close()
