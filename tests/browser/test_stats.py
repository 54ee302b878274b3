"""An admin opens the statistics of the demo exam at 1280 and 375 px, drills down from
the committee to a branch and its people, downloads the score sheet, and finds the
sheet's 人均分 equal to the page's. The charts draw (Chart.js, under the strict CSP)
and nothing scrolls sideways on a phone but the wide tables inside their cards."""

import io

import openpyxl
import pytest

from studyhall.demo import DEMO_PASSWORD
from studyhall.quizzes.demo import CLOSED_EXAM

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 740}}
DRILL = ["示例市教育局党委", "示例市实验小学党总支", "实验小学第一支部"]


def log_in(browser, live_server, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server}/login")
    page.get_by_label("账号").fill("admin")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")
    return context, page, problems


def figure(page, name: str) -> str:
    return page.locator(f'[data-figure="{name}"]').inner_text().strip()


def charts_drawn(page) -> int:
    """How many chart canvases Chart.js has drawn (sized to their box)."""
    return page.evaluate("""[...document.querySelectorAll('figure[data-chart] canvas')]
        .filter(c => window.Chart && Chart.getChart(c) && c.width > 0 && c.height > 0).length""")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_drill_down_and_download_the_score_sheet(browser, live_server, screenshot_dir, size,
                                                 tmp_path):
    context, page, problems = log_in(browser, live_server, SIZES[size])
    page.goto(f"{live_server}/manage/stats/exams")
    page.get_by_role("link", name=CLOSED_EXAM).click()
    page.wait_for_selector('[data-figure="expected"]')
    assert figure(page, "expected") == "19" and figure(page, "took") == "16"
    assert charts_drawn(page) == 2
    assert page.get_by_text("统计口径").is_visible()
    page.screenshot(path=str(screenshot_dir / f"stats-exam-{size}.png"), full_page=True)
    for name in DRILL:
        page.locator("#units-table").get_by_role("link", name=name, exact=True).click()
        page.wait_for_selector(f'#scope-crumbs [aria-current="page"]:text-is("{name}")')
    # The branch: its people, every one of the 19 expected, and its figures.
    people = page.locator("#people-table tbody tr")
    assert people.count() == 19
    average = figure(page, "average")
    page.screenshot(path=str(screenshot_dir / f"stats-branch-{size}.png"), full_page=True)
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, (scroll_width, inner_width)

    with page.expect_download() as download:
        page.locator('[data-download="scores-xlsx"]').click()
    assert download.value.suggested_filename.endswith(".xlsx")
    path = tmp_path / "scores.xlsx"
    download.value.save_as(path)
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    rows = list(book["单位汇总"].iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[0] == "单位")
    columns, total = rows[header], rows[header + 1]
    sheet_average = total[columns.index("人均分（按实考人数）")]
    assert f"{sheet_average:.2f}" == average
    assert len([r for r in book["成绩单"].iter_rows(values_only=True)
                if isinstance(r[0], int)]) == 19
    assert not problems, problems
    context.close()


def test_the_item_analysis_page_on_a_phone(browser, live_server, screenshot_dir):
    context, page, problems = log_in(browser, live_server, SIZES["phone"])
    page.goto(f"{live_server}/manage/stats/exams")
    page.get_by_role("link", name=CLOSED_EXAM).click()
    page.get_by_role("link", name="试题分析").first.click()
    page.wait_for_selector("#items-table")
    assert figure(page, "attempts") == "16" and charts_drawn(page) == 1
    page.screenshot(path=str(screenshot_dir / "stats-items-phone.png"), full_page=True)
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width
    # Sorting by a column reorders the rows in the page.
    first = page.locator("#items-table tbody tr").first.inner_text()
    page.locator("#items-table th").nth(4).get_by_role("button").click()
    page.locator("#items-table th").nth(4).get_by_role("button").click()
    assert page.locator("#items-table th").nth(4).get_attribute("aria-sort") == "descending"
    assert page.locator("#items-table tbody tr").count() > 1
    assert not problems, (problems, first)
    context.close()
