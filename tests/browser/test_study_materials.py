"""Materials on a phone (375 px): a PDF drawn in the page by the vendored pdf.js under
the strict CSP, a long text and an image, with nothing wider than the screen."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from studyhall.demo import DEMO_PASSWORD
from studyhall.extensions import db
from studyhall.org.models import Person, Unit
from studyhall.study import materials
from studyhall.study.models import MaterialKind

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}


def make_pdf(lines: list[str], pages: int = 2) -> bytes:
    """A small valid PDF with a line of text on each page."""
    objects = ["<</Type/Catalog/Pages 2 0 R>>",
               "<</Type/Pages/Kids[{}]/Count {}>>".format(
                   " ".join(f"{4 + 2 * i} 0 R" for i in range(pages)), pages),
               "<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>"]
    for i in range(pages):
        text = lines[i % len(lines)]
        stream = f"BT /F1 24 Tf 40 700 Td ({text}) Tj ET"
        objects.append(f"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]"
                       f"/Resources<</Font<</F1 3 0 R>>>>/Contents {5 + 2 * i} 0 R>>")
        objects.append(f"<</Length {len(stream)}>>stream\n{stream}\nendstream")
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj{body}endobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer<</Size {len(objects) + 1}/Root 1 0 R>>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


@pytest.fixture()
def study_materials(live_app, tmp_path):
    live_app.config["FILE_STORAGE_DIR"] = str(tmp_path / "files")
    with live_app.app_context():
        admin = db.session.scalar(sa.select(Person).where(Person.account == "admin"))
        top = db.session.scalar(sa.select(Unit).where(Unit.parent_id.is_(None)))
        made = {}
        for key, values in {
            "pdf": dict(kind=MaterialKind.FILE, title="PDF material",
                        upload=("讲话.pdf", make_pdf(["Page one", "Page two"]))),
            "text": dict(kind=MaterialKind.TEXT, title="十项准则（节选）", body=(
                "# 一、坚定政治方向\n\n" + "坚持以习近平新时代中国特色社会主义思想为指导。" * 20
                + "\n\n| 条目 | 内容 | 说明 | 备注 |\n|---|---|---|---|\n| 一 | "
                + "很长的表格内容" * 10 + " | 说明 | 备注 |\n\n"
                "长链接：https://www.example.cn/" + "a" * 120 + "\n\n```\n" + "x" * 200
                + "\n```\n")),
        }.items():
            material = materials.save_material(admin, None, materials.MaterialValues(
                owner_unit_id=top.id, **values))
            made[key] = material.id
        db.session.commit()
    yield made
    with live_app.app_context():
        from studyhall.study.models import Material

        db.session.execute(sa.update(Material).values(current_version_id=None))
        db.session.commit()
    live_app.config.pop("FILE_STORAGE_DIR", None)


def test_materials_read_well_on_a_phone(browser, live_server, screenshot_dir, study_materials):
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.goto(f"{live_server}/login")
    page.get_by_label("账号").fill("admin")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/manage/study/materials/{study_materials['pdf']}")
    page.wait_for_selector(".pdf-page.drawn canvas", timeout=15000)
    assert page.locator(".pdf-page").count() == 2
    width = page.evaluate("document.querySelector('.pdf-page canvas').getBoundingClientRect()"
                          ".width")
    assert 250 < width <= 375
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(screenshot_dir / "material-pdf-phone.png"), full_page=True)

    page.goto(f"{live_server}/manage/study/materials/{study_materials['text']}")
    assert "每分钟 300 字" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector("
                         "'.material-text p')).fontSize)")
    assert size >= 16
    assert "pdf.min.mjs" not in " ".join(page.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name)"))
    page.screenshot(path=str(screenshot_dir / "material-text-phone.png"), full_page=True)
    assert not errors, errors
    context.close()
