"""The unit page on a phone: it fits 375 px for a secretary and an admin (no sideways
scrolling, the by-sub-unit table included), and its breadcrumb never links a secretary
to a unit outside their scope."""

import pytest
import sqlalchemy as sa

from studyhall.demo import DEMO_PASSWORD
from studyhall.extensions import db
from studyhall.org.models import Unit

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def unit_id(live_app, name: str) -> int:
    with live_app.app_context():
        found = db.session.scalar(sa.select(Unit.id).where(Unit.name == name))
        db.session.remove()
    return found


def log_in(browser, live_server, account: str):
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("账号").fill(account)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")
    return context, page


def widths(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize(("account", "units"), [
    ("secretary", ["示例市实验小学党总支", "实验小学第一支部"]),
    ("admin", ["示例市教育局党委", "示例市实验小学党总支", "实验小学第二支部"]),
])
def test_the_unit_page_fits_a_phone(browser, live_server, live_app, screenshot_dir, account,
                                    units):
    context, page = log_in(browser, live_server, account)
    for name in units:
        page.goto(f"{live_server}/units/{unit_id(live_app, name)}")
        assert page.locator("h1").inner_text().startswith(name)
        scroll_width, inner_width = widths(page)
        page.screenshot(path=str(screenshot_dir / f"unit-{account}-{name}-phone.png"),
                        full_page=True)
        assert scroll_width <= inner_width, (name, scroll_width, inner_width)
    context.close()


def test_the_by_sub_unit_table_reads_as_cards_on_a_phone(browser, live_server, live_app):
    context, page = log_in(browser, live_server, "admin")
    page.goto(f"{live_server}/units/{unit_id(live_app, '示例市教育局党委')}")
    table = page.locator('[data-table="by-child"]')
    assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
    assert table.locator("thead").bounding_box()["height"] <= 1  # labels move into the cells
    cell = table.locator("tbody tr").first.locator("td").nth(1)
    assert cell.get_attribute("data-label") == "党员"
    assert cell.evaluate("td => getComputedStyle(td, '::before').content") == '"党员"'
    context.close()


def test_a_secretary_sees_the_unit_above_their_scope_as_text(browser, live_server, live_app):
    context, page = log_in(browser, live_server, "secretary")
    page.goto(f"{live_server}/units/{unit_id(live_app, '实验小学第一支部')}")
    crumbs = page.get_by_role("navigation", name="上级单位")
    assert crumbs.get_by_text("示例市教育局党委").count() == 1
    assert crumbs.get_by_role("link", name="示例市教育局党委").count() == 0
    crumbs.get_by_role("link", name="示例市实验小学党总支").click()
    page.wait_for_url("**/units/*")
    assert page.locator("h1").inner_text().startswith("示例市实验小学党总支")
    context.close()
