"""Each demo role logs in on a phone and on a PC, lands on its dashboard, and every page
fits the screen. Screenshots go to test-output/screenshots/ for a person to look at."""

import re

import pytest

from studyhall.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": {"width": 375, "height": 740}, "desktop": {"width": 1280, "height": 800}}
LANDING_TEXT = {"admin": "组织架构", "secretary": "示例市实验小学党总支", "teacher": "待办"}


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("role", ["admin", "secretary", "teacher"])
def test_demo_role_logs_in_and_finds_their_way(browser, live_server, screenshot_dir, role,
                                               viewport):
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.goto(f"{live_server}/")
    assert "/login" in page.url
    page.get_by_label("账号").fill(role)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")
    assert LANDING_TEXT[role] in page.content()
    assert _fits_the_screen(page)
    page.screenshot(path=str(screenshot_dir / f"{role}-{viewport}-dashboard.png"),
                    full_page=True)

    if role != "teacher":
        if viewport == "phone":
            page.get_by_role("button", name="菜单").click()
        else:
            page.get_by_role("button", name="组织架构").click()
        page.get_by_role("link", name="人员", exact=True).first.click()
        page.wait_for_url("**/manage/people")
        found = int(re.search(r"共 (\d+) 人", page.content()).group(1))
        assert found == (121 if role == "admin" else 38)
        assert _fits_the_screen(page)
        page.screenshot(path=str(screenshot_dir / f"{role}-{viewport}-people.png"),
                        full_page=True)
        page.goto(f"{live_server}/units/1" if role == "admin" else f"{live_server}/")
        page.screenshot(path=str(screenshot_dir / f"{role}-{viewport}-unit.png"),
                        full_page=True)
    assert errors == []  # no script errors, no CSP violations
    context.close()
