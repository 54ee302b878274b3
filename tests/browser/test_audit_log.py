"""The audit log on a phone (375 px): the demo admin reads entries, long details wrap
instead of widening the page, and the filters fit."""

from __future__ import annotations

from studyhall import audit
from studyhall.extensions import db
from tests.browser.conftest import log_in

PHONE = {"width": 375, "height": 740}


def test_the_audit_log_reads_on_a_phone(browser, live_app, live_server, screenshot_dir):
    import sqlalchemy as sa

    from studyhall.org.models import Person

    with live_app.app_context():
        admin = db.session.scalar(sa.select(Person).where(Person.account == "admin"))
        teacher = db.session.scalar(sa.select(Person).where(Person.account == "teacher"))
        audit.record(admin, "person.password_reset", teacher)
        audit.record(admin, "session.record_reopen", teacher, version=3,
                     reason="补充遗漏的决议事项" * 12 + "https://example.org/" + "x" * 120)
        audit.record(admin, "roster.import", None, file="教职工花名册" * 10 + ".xlsx", new=3)
        db.session.commit()
        db.session.remove()
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    try:
        log_in(page, live_server, "admin")
        page.goto(f"{live_server}/manage/audit")
        assert page.get_by_role("heading", name="操作日志").is_visible()
        assert page.locator("td[data-label='操作']", has_text="密码已重置").first.is_visible()
        assert page.locator("td[data-label='对象'] a[href*='/manage/people/']").first.is_visible()
        page.screenshot(path=str(screenshot_dir / "audit-log-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.get_by_label("操作", exact=True).select_option("passwords")
        page.get_by_role("button", name="搜索").click()
        page.wait_for_load_state()
        assert "group=passwords" in page.url
        assert page.locator("td[data-label='操作']").all_inner_texts() == ["密码已重置"]
    finally:
        context.close()
