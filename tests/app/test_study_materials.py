"""Materials: Markdown made safe, uploads checked by content, versions, scope, files."""

from __future__ import annotations

import io
from html.parser import HTMLParser

import pytest

from studyhall.extensions import db
from studyhall.study import materials
from studyhall.study.models import Material, MaterialKind, MaterialVersion
from tests.app.study_fixtures_s1 import *  # noqa: F401,F403
from tests.app.study_fixtures_s1 import PDF_BYTES, PNG_BYTES, make_docx


def fetch(client, url):
    """GET a file route and close the response (it holds the file open)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def render(text, images=None, material_id=1):
    return materials.render_markdown(text, material_id, images or {})


class _Elements(HTMLParser):
    """The live elements and attributes of an HTML fragment (text is harmless)."""

    def __init__(self, html):
        super().__init__()
        self.tags, self.attrs = [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, name, value or "") for name, value in attrs]


def assert_harmless(html):
    found = _Elements(html)
    assert not {"script", "style", "svg", "iframe", "object", "embed", "math"} & set(found.tags)
    for tag, name, value in found.attrs:
        assert not name.startswith("on") and name != "style", (tag, name)
        if name in ("href", "src"):
            assert value.startswith(("http://", "https://", "/study/materials/")), value
        if tag == "img":
            assert value.startswith("/study/materials/") or name != "src", value


@pytest.mark.parametrize("hostile", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="#" onclick="alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "![x](data:image/svg+xml;base64,PHN2Zz4=)",
    "<svg onload=alert(1)><circle/></svg>",
    '<p style="position:fixed">x</p>',
    "![outside](https://evil.example/track.png)",
    "<iframe src=https://evil.example></iframe>",
    "[x](vbscript:msgbox)",
    "<https://ok.example/> <javascript:alert(1)>",
])
def test_markdown_is_sanitised(app, hostile):
    html = render(hostile)
    assert_harmless(html)
    assert "evil.example" not in "".join(v for _t, _n, v in _Elements(html).attrs)


def test_sanitiser_itself_drops_what_markdown_would_pass(app):
    """nh3 is a second wall: even raw HTML reaching it loses scripts, handlers, styles."""
    dirty = ('<p style="color:red" onmouseover="x()">a<script>b</script></p>'
             '<svg><a href="javascript:x">c</a></svg><a href="data:x">d</a>'
             '<img src="https://evil.example/x.png">')
    clean = materials.clean_html(dirty)
    for forbidden in ("style", "onmouseover", "script", "<svg", "javascript", "data:",
                      "evil.example"):
        assert forbidden not in clean


def test_markdown_keeps_ordinary_writing(app):
    html = render("# 第一条\n\n**坚定**政治方向，[原文](https://www.gov.cn/x)\n\n- 甲\n- 乙")
    assert "<h1>第一条</h1>" in html and "<strong>坚定</strong>" in html
    assert 'href="https://www.gov.cn/x"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert len(materials.block_html(html)) == 3


def test_images_only_from_our_storage_and_signed_for_this_material(app):
    ours = materials.image_path(7, 3)
    html = render("![图](图1.png)", {"图1.png": 3}, material_id=7)
    assert f'src="{ours}"' in html
    # Another material's signed image, or a forged signature, is refused.
    other = materials.image_path(8, 3)
    assert "<img" not in render(f"![图]({other})", {"图1.png": 3}, material_id=7)
    assert "<img" not in render("![图](/study/materials/7/images/4/0000000000000000)",
                                {}, material_id=7)


def test_reading_estimate_states_its_rate(app, make_material):
    material = make_material(body="学" * 650)
    version = material.current_version
    assert version.char_count == 650
    assert version.estimated_seconds == 3 * 60  # 650 characters at 300 a minute
    assert version.min_reading_seconds == version.estimated_seconds


def test_author_minimum_overrides_the_estimate(app, make_material):
    material = make_material(body="学" * 100, min_reading_minutes=5)
    assert material.current_version.min_reading_seconds == 300


def test_editing_before_assignment_edits_in_place(app, org, make_material):
    material = make_material()
    values = materials.MaterialValues(kind=MaterialKind.TEXT, title="新标题",
                                      owner_unit_id=org.top.id, body="新正文")
    materials.save_material(org.admin, material, values)
    db.session.commit()
    assert db.session.query(MaterialVersion).filter_by(material_id=material.id).count() == 1
    assert material.current_version.title == "新标题"


def test_editing_after_assignment_makes_a_new_version(app, org, make_material,
                                                      make_assignment):
    material = make_material(body="旧正文")
    make_assignment(materials=[material])
    first = material.current_version_id
    values = materials.MaterialValues(kind=MaterialKind.TEXT, title="修订", body="新正文",
                                      owner_unit_id=org.top.id)
    materials.save_material(org.admin, material, values)
    db.session.commit()
    material = db.session.get(Material, material.id)
    assert material.current_version.number == 2 and material.current_version.body == "新正文"
    assert db.session.get(MaterialVersion, first).body == "旧正文"  # readers keep theirs


# --- Uploads ---------------------------------------------------------------------------

def _upload(client, data, name, title="文件资料", **extra):
    return client.post("/manage/study/materials/new?kind=file", data={
        "kind": "file", "title": title, "owner_unit_id": extra.pop("unit"),
        "file": (io.BytesIO(data), name), **extra}, content_type="multipart/form-data")


def test_pdf_upload_is_stored_and_served_with_safe_headers(client, org, login, files_dir):
    login(org.admin)
    response = _upload(client, PDF_BYTES, "../../etc/十项准则.pdf", unit=org.top.id)
    assert response.status_code == 302, response.get_data(as_text=True)
    material = db.session.scalar(db.select(Material))
    version = material.current_version
    assert version.file.content_type == "application/pdf"
    assert version.file.filename == "十项准则.pdf"
    assert not any(p.name.endswith(".pdf") for p in files_dir.rglob("*"))  # stored by hash
    page = client.get(f"/manage/study/materials/{material.id}").get_data(as_text=True)
    assert "pdf-view" in page and "pdf-view.js" in page
    served = fetch(client, f"/study/materials/{material.id}/versions/{version.id}/file")
    assert served.status_code == 200 and served.data == PDF_BYTES
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in served.headers["Content-Security-Policy"]


@pytest.mark.parametrize("data, name", [
    (b"<html><script>alert(1)</script></html>", "讲话.pdf"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "图.png"),
    (b"MZ\x90\x00" + b"\x00" * 100, "文件.docx"),
    (b"PK\x03\x04not really a zip", "文件.docx"),
])
def test_upload_whose_extension_lies_is_refused(client, org, login, files_dir, data, name):
    login(org.admin)
    response = _upload(client, data, name, unit=org.top.id)
    assert response.status_code == 200
    assert "whatever its name says" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Material.id))) == 0


def test_content_decides_the_type_and_the_extension(client, org, login, files_dir):
    login(org.admin)
    response = _upload(client, PNG_BYTES, "照片.pdf.exe", unit=org.top.id)
    assert response.status_code == 302
    stored = db.session.scalar(db.select(Material)).current_version.file
    assert stored.content_type == "image/png" and stored.filename == "照片.pdf.exe.png"


def test_docx_is_checked_and_its_text_counted(client, org, login, files_dir):
    login(org.admin)
    response = _upload(client, make_docx(["第一段内容", "第二段<内容>"]), "通知.docx",
                       unit=org.top.id)
    assert response.status_code == 302
    version = db.session.scalar(db.select(Material)).current_version
    assert version.body == "第一段内容\n\n第二段<内容>"
    assert "&lt;内容&gt;" in version.body_html and version.char_count == 10


@pytest.mark.parametrize("document", [
    "<w:document><w:body>not closed",
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    "<d>&b;&b;&b;</d>",
])
def test_broken_or_hostile_docx_is_refused_with_a_message(client, org, login, files_dir,
                                                         document):
    login(org.admin)
    response = _upload(client, make_docx([], document), "坏.docx", unit=org.top.id)
    assert response.status_code == 200
    assert "could not be read" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Material.id))) == 0


def test_zip_bomb_docx_is_refused_without_unpacking(app, org, files_dir):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\x00" * (50 * 1024 * 1024))
    from studyhall.storage import sniff_type

    assert sniff_type(buffer.getvalue()) is None


def test_oversize_upload_is_refused(client, app, org, login, files_dir):
    app.config["MAX_FILE_MB"] = 0.25
    try:
        login(org.admin)
        response = _upload(client, PDF_BYTES + b"0" * (300 * 1024), "大.pdf", unit=org.top.id)
    finally:
        app.config.pop("MAX_FILE_MB")
    assert response.status_code == 200
    assert "larger than 0.25 MB" in response.get_data(as_text=True)


def test_path_characters_never_reach_the_disk(app, org, files_dir):
    from studyhall.storage import clean_filename, save_file

    assert clean_filename("..\\..\\windows\\报告:1?.pdf", "application/pdf") == "报告_1.pdf"
    assert clean_filename("\x00../", "application/pdf") == "file.pdf"
    stored = save_file(PDF_BYTES, "../../../../tmp/x.pdf", org.admin)
    on_disk = [p for p in files_dir.rglob("*") if p.is_file()]
    assert [p.name for p in on_disk] == [stored.sha256]
    assert files_dir in on_disk[0].parents


# --- Text materials with images --------------------------------------------------------

def test_text_with_uploaded_image(client, org, login, files_dir):
    login(org.admin)
    response = client.post("/manage/study/materials/new?kind=text", data={
        "kind": "text", "title": "图文", "owner_unit_id": org.top.id,
        "body": "看图：\n\n![示意图](图1.png)\n\n![外链](https://evil.example/a.png)",
        "images": (io.BytesIO(PNG_BYTES), "图1.png")}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    material = db.session.scalar(db.select(Material))
    html = material.current_version.body_html
    assert html.count("<img") == 1 and "evil.example" not in html
    src = html.split('src="')[1].split('"')[0]
    assert src.startswith(f"/study/materials/{material.id}/images/")
    assert fetch(client, src).status_code == 200
    forged = src[:-1] + ("0" if src[-1] != "0" else "1")
    assert client.get(forged).status_code == 404


# --- Scope ------------------------------------------------------------------------------

def test_admins_material_is_visible_to_all_a_secretarys_to_their_subtree(
        client, org, login, make_material, make_person):
    shared = make_material("全局资料", owner=org.top)
    own = make_material("甲校资料", owner=org.gen_a, actor=org.secretary)
    other_secretary = make_person("sec_b", unit=org.gen_b, role=org.secretary.role,
                                  manages=[org.gen_b])
    login(org.secretary)
    listing = client.get("/manage/study/materials/").get_data(as_text=True)
    assert "全局资料" in listing and "甲校资料" in listing
    assert client.get(f"/manage/study/materials/{own.id}/edit").status_code == 200
    assert client.get(f"/manage/study/materials/{shared.id}/edit").status_code == 404
    client.post("/logout")
    login(other_secretary)
    listing = client.get("/manage/study/materials/").get_data(as_text=True)
    assert "全局资料" in listing and "甲校资料" not in listing
    assert client.get(f"/manage/study/materials/{own.id}").status_code == 404
    version = own.current_version
    assert client.get(f"/study/materials/{own.id}/versions/{version.id}/file").status_code == 404


def test_files_are_served_only_to_those_who_may_see_the_material(
        client, org, login, make_material, files_dir):
    material = make_material("甲校文件", kind=MaterialKind.FILE, owner=org.gen_a,
                             actor=org.secretary, upload=("a.pdf", PDF_BYTES))
    url = f"/study/materials/{material.id}/versions/{material.current_version_id}/file"
    assert client.get(url).status_code == 302  # anonymous: to the login
    login(org.outsider)  # a teacher of 乙校
    assert client.get(url).status_code == 404
    client.post("/logout")
    login(org.teacher)  # a teacher of 甲校第一支部, in the owner's subtree
    assert fetch(client, url).status_code == 200


@pytest.mark.parametrize("url", ["/manage/study/materials/", "/manage/study/materials/new",
                                 "/manage/study/assignments/", "/manage/study/assignments/new"])
def test_teachers_cannot_open_staff_study_pages(client, org, login, url):
    login(org.teacher)
    assert client.get(url).status_code == 403


def test_material_pages_render_for_each_kind(client, org, login, make_material, files_dir):
    text = make_material("文字", body="学" * 900)
    link = make_material("链接", kind=MaterialKind.LINK, url="https://www.12371.cn/x")
    video = make_material("视频", kind=MaterialKind.VIDEO, url="https://v.example.cn/1")
    image = make_material("图片", kind=MaterialKind.FILE, upload=("a.png", PNG_BYTES))
    login(org.admin)
    page = client.get(f"/manage/study/materials/{text.id}").get_data(as_text=True)
    assert "300 Chinese characters a minute" in page and "3 minutes" in page
    assert "pdf-view.js" not in page  # pdf.js only on pages that show a PDF
    assert "Open the link" in client.get(f"/manage/study/materials/{link.id}").get_data(
        as_text=True)
    assert "Watch the video" in client.get(f"/manage/study/materials/{video.id}").get_data(
        as_text=True)
    assert "<img" in client.get(f"/manage/study/materials/{image.id}").get_data(as_text=True)
    listing = client.get("/manage/study/materials/?kind=link").get_data(as_text=True)
    assert "链接" in listing and "文字" not in listing


def test_link_must_be_http(client, org, login):
    login(org.admin)
    response = client.post("/manage/study/materials/new?kind=link", data={
        "kind": "link", "title": "坏链接", "owner_unit_id": org.top.id,
        "url": "javascript:alert(1)"})
    assert response.status_code == 200 and "http://" in response.get_data(as_text=True)
