"""The main menu: staff see their pages in groups (a dropdown each on a wide screen, a
labelled list in the phone menu); teachers see their four entries flat."""

import pytest

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

GROUPS = {
    "我的学习": ["我的测试", "学习档案", "我的会议"],
    "组织架构": ["单位", "人员", "导入花名册"],
    "学习": ["学习资料", "学习任务", "学习会议", "学习计划"],
    "考试": ["测试管理", "题库"],
    "统计": ["考试统计", "学习与会议统计", "汇报数据", "迎检档案", "操作日志"],
}


def _menu(page):
    return page.get_by_role("navigation", name="主菜单")


def test_wide_screen_groups_open_one_at_a_time_and_close(browser, live_server,
                                                        screenshot_dir):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server, "admin")
    menu = _menu(page)
    # One row: every group's button sits on the same line as the brand.
    buttons = [menu.get_by_role("button", name=name, exact=True) for name in GROUPS]
    tops = {round(button.bounding_box()["y"]) for button in buttons}
    assert len(tops) == 1
    for name, links in GROUPS.items():
        assert not menu.get_by_role("link", name=links[0], exact=True).is_visible()
        button = menu.get_by_role("button", name=name, exact=True)
        button.click()
        assert button.get_attribute("aria-expanded") == "true"
        for link in links:
            assert menu.get_by_role("link", name=link, exact=True).is_visible()
        opened = page.locator(".nav-group.open")
        assert opened.count() == 1  # opening one closed the one before
    page.screenshot(path=str(screenshot_dir / "menu-desktop-statistics.png"))
    page.keyboard.press("Escape")
    assert page.locator(".nav-group.open").count() == 0
    assert page.evaluate("document.activeElement.textContent.trim()") == "统计"
    menu.get_by_role("button", name="学习", exact=True).click()
    page.mouse.click(20, 600)  # a click elsewhere on the page closes it
    assert page.locator(".nav-group.open").count() == 0
    menu.get_by_role("button", name="统计").click()
    menu.get_by_role("link", name="汇报数据").click()
    page.wait_for_url("**/manage/stats/report**")
    current = menu.locator('a[aria-current="page"]')  # in the closed group: hidden
    assert current.count() == 1 and current.text_content() == "汇报数据"
    group = page.locator(".nav-group:has(a[aria-current]) .nav-group-toggle")
    assert group.text_content() == "统计"
    assert errors == []
    context.close()


def test_phone_menu_lists_every_group_open(browser, live_server, screenshot_dir):
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    log_in(page, live_server, "admin")
    menu = _menu(page)
    assert not menu.is_visible()
    page.get_by_role("button", name="菜单").click()
    for name, links in GROUPS.items():
        assert menu.get_by_role("group", name=name, exact=True).is_visible()
        for link in links:
            assert menu.get_by_role("link", name=link, exact=True).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(screenshot_dir / "menu-phone-admin.png"), full_page=True)
    context.close()


def test_a_teacher_sees_a_flat_menu_without_staff_pages(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    page = context.new_page()
    log_in(page, live_server, "teacher")
    menu = _menu(page)
    for link in ["首页", "我的测试", "学习档案", "我的会议"]:
        assert menu.get_by_role("link", name=link).first.is_visible()
    assert menu.locator(".nav-group").count() == 0
    assert menu.get_by_role("link", name="人员", exact=True).count() == 0
    context.close()


def test_without_script_a_group_opens_while_focus_is_in_it(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN",
                                  java_script_enabled=False)
    page = context.new_page()
    log_in(page, live_server, "admin")
    menu = _menu(page)
    menu.get_by_role("button", name="组织架构").focus()
    assert menu.get_by_role("link", name="人员", exact=True).is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "单位"
    context.close()
