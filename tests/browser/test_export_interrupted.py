"""A background export whose host died, on a phone (375 px): the progress page says
导出中断，请重新导出 instead of spinning for ever, offers 重新导出 (a form with its CSRF
token), and after the tap polls the new run to its download. Nothing scrolls sideways."""

import json
import time

import pytest

from studyhall.exports import jobs
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_an_interrupted_archive_is_said_so_and_starts_again(browser, live_server, live_app,
                                                            screenshot_dir):
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    log_in(page, live_server, "secretary")
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/manage/stats/archive")
    page.get_by_role("button", name="生成档案").click()
    page.wait_for_selector("[data-export-job]")
    page.locator("[data-export-download]").wait_for(state="visible", timeout=60_000)

    # Its host killed mid-build: the status as it was left, its last beat long ago.
    job_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    path = jobs._status_path(live_app, job_id)
    status = json.loads(path.read_text(encoding="utf-8"))
    status.update(state="running", done=1, beat=time.time() - 600)
    path.write_text(json.dumps(status), encoding="utf-8")
    (path.parent / f"{job_id}.bin").unlink()

    page.reload()
    state = page.locator("[data-export-state]")
    assert "导出中断，请重新导出" in state.inner_text()
    again = page.get_by_role("button", name="重新导出")
    assert again.is_visible() and not page.locator("[data-export-download]").is_visible()
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, (scroll_width, inner_width)
    page.screenshot(path=str(screenshot_dir / "export-interrupted-phone.png"), full_page=True)

    again.click()
    page.locator("[data-export-download]").wait_for(state="visible", timeout=60_000)
    assert json.loads(path.read_text(encoding="utf-8"))["run"] == 2
    assert not page.get_by_role("button", name="重新导出").count()
    assert not problems, problems
    context.close()
