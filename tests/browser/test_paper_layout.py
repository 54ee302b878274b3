"""The paper arrives in the layout it is shown in: on a phone it must not jump as it loads
(cumulative layout shift measured by the browser's own PerformanceObserver)."""

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, start_quiz

pytestmark = pytest.mark.browser

#: Sums every layout shift not caused by input, from the first paint on.
CLS_OBSERVER = """
window.__cls = 0;
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (entry) {
    if (!entry.hadRecentInput) { window.__cls += entry.value; }
  });
}).observe({type: "layout-shift", buffered: true});
"""


@pytest.mark.parametrize("layout", ["one", "all"])
def test_the_paper_does_not_jump_as_it_loads_on_a_phone(browser, live_server, make_live_quiz,
                                                         screenshot_dir, layout):
    quiz_id = make_live_quiz(f"版面测试 {layout}", [("single", 12), ("multiple", 4),
                                                  ("true_false", 4), ("fill_blank", 2)])
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    log_in(page, live_server)
    url = start_quiz(page, live_server, quiz_id)
    page.get_by_label("整卷显示" if layout == "all" else "逐题显示").check()
    # Resume half-way, as after a reload: the paper opens at the first open question.
    for position in range(1, 6):
        page.locator(f"#q{position} input").first.check()
        if layout == "one":
            page.locator(f"#q{position} [data-next]").click()
    expect(page.locator("#save-state")).to_have_text("已保存全部答案")
    page.add_init_script(CLS_OBSERVER)
    # A phone's network: the page is painted before the script arrives.
    page.route("**/static/js/*", lambda route: (time.sleep(0.5), route.continue_()))
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(800)  # let the deferred script and any late shift happen
    cls = page.evaluate("window.__cls")
    page.screenshot(path=str(screenshot_dir / f"paper-load-{layout}.png"))
    context.close()
    print(f"CLS {layout}: {cls:.3f}")
    assert cls < 0.1, cls
