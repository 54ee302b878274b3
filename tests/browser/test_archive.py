"""A secretary on a phone (375 px) asks for the inspection archive of their unit from the
statistics list: the form, the progress page that polls and then offers the download,
and a .zip whose index and folders are there. Nothing scrolls sideways."""

import io
import zipfile

import pytest

from studyhall.demo import DEMO_PASSWORD
from studyhall.exports.archive import FOLDERS, INDEX

pytestmark = pytest.mark.browser


def test_a_secretary_builds_and_downloads_the_archive(browser, live_server, screenshot_dir,
                                                      tmp_path):
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN",
                                  accept_downloads=True)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{live_server}/login")
    page.get_by_label("账号").fill("secretary")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/manage/stats/exams")
    page.get_by_role("link", name="迎检档案").click()
    page.wait_for_selector("form select#unit_id")
    assert page.get_by_label("开始日期").input_value().endswith("-01-01")
    page.screenshot(path=str(screenshot_dir / "archive-form-phone.png"), full_page=True)
    scroll_width, inner_width = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll_width <= inner_width, (scroll_width, inner_width)
    page.get_by_role("button", name="生成档案").click()
    page.wait_for_selector("[data-export-job]")
    link = page.locator("[data-export-download]")
    link.wait_for(state="visible", timeout=60_000)
    page.screenshot(path=str(screenshot_dir / "archive-job-phone.png"), full_page=True)
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".zip")
    path = tmp_path / "archive.zip"
    download.value.save_as(path)
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        folders = {name.split("/", 1)[0] for name in archive.namelist()}
    assert INDEX in folders and folders <= {INDEX, *FOLDERS}
    assert not problems, problems
    context.close()
