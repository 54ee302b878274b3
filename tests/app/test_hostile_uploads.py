"""Uploads that lie (issue 12, item 2), through the pages that take files: the roster and
question imports, a material's file and the images of its text, a session's photos and
attachments. Each file's name says one thing and its bytes another (an .exe named .csv,
HTML or SVG named .png, an .xlsx that is a zip bomb, an XML bomb named .xml or .gift, a
PNG whose header asks for 2.5 billion pixels), or it is larger than the upload limit.
Every one is refused with a message on the page (or a 413), never a 5xx, and nothing is
kept: no pending import (except the preview of a file read as text whose every line is a
problem, kept for the preview's pages), no stored file row, no file on disk, no material
or attachment.
The files' names are hostile too: the corpus's markup payloads as names of valid files
are shown escaped on the previews and the material's page.

The readers themselves are fuzzed in tests/fuzz and tested with the workbooks of
tests/fixtures/hostile_files.py; here the same kinds of file go through the pages."""

from __future__ import annotations

import functools
import io
import math
import re
import struct
import zipfile
import zlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.storage import StoredFile
from studyhall.study.forms import MaterialForm
from studyhall.study.models import Material
from studyhall.uploads import PendingUpload
from tests.app.test_hostile_inputs import FULL, PAGES, valid_values
from tests.fixtures import hostile_files
from tests.fuzz.payloads import MARKER, live_payload, text_payloads

HTML = b"<!doctype html><html><body><script id=hx7331>alert(1)</script></body></html>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b"<script id=\"hx7331\">alert(1)</script></svg>")
EXE = b"MZ\x90\x00\x03" + b"\x00" * 55 + b"\x80\x00\x00\x00" + b"\x00" * 64 + b"PE\x00\x00" \
    + bytes(range(256)) * 8


def billion_laughs(root: str = "quiz") -> bytes:
    """Ten levels of ten references: 10^10 characters if expanded."""
    entities = '<!ENTITY a0 "hahahahaha">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 11))
    return (f'<?xml version="1.0"?><!DOCTYPE {root} [{entities}]><{root}>'
            '<question type="shortanswer"><name><text>&a10;</text></name>'
            '<questiontext format="html"><text>&a10;</text></questiontext>'
            '<answer fraction="100"><text>x</text></answer></question>'
            f"</{root}>").encode()


def quadratic_blowup() -> bytes:
    """One 50,000-character entity used 50,000 times (2.5 GB), no nesting."""
    return (f'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x "{"x" * 50_000}">]><quiz>'
            '<question type="shortanswer"><name><text>n</text></name><questiontext>'
            f'<text>{"&x;" * 50_000}</text></questiontext></question></quiz>').encode()


def external_entity() -> bytes:
    """XXE: an entity that names a file of the server."""
    return (b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<quiz><question type="shortanswer"><name><text>&xxe;</text></name>'
            b'<questiontext format="html"><text>&xxe;</text></questiontext>'
            b'<answer fraction="100"><text>&xxe;</text></answer></question></quiz>')


@functools.cache
def zip_bomb(member: str = "data.csv", megabytes: int = 200) -> bytes:
    """One member of ``megabytes`` of zeros in a ~200 KB zip."""
    buffer = io.BytesIO()
    with (zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
          archive.open(member, "w", force_zip64=True) as part):
        chunk = b"\x00" * (1024 * 1024)
        for _ in range(megabytes):
            part.write(chunk)
    return buffer.getvalue()


@functools.cache
def docx_bomb() -> bytes:
    """What sniffs as a Word document at first sight, whose text unpacks to 200 MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", hostile_files.CONTENT_TYPES)
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(b'<w:document xmlns:w="http://schemas.openxmlformats.org/'
                       b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>')
            chunk = b" " * (1024 * 1024)
            for _ in range(200):
                part.write(chunk)
            part.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return buffer.getvalue()


def xlsx_xml_bomb() -> bytes:
    """A workbook whose sheet declares the billion laughs."""
    entities = '<!ENTITY a0 "hahahahaha">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 11))
    sheet = hostile_files.sheet({1: [hostile_files.cell("A1", "&a10;")]})
    sheet = sheet.replace("?>", f"?><!DOCTYPE worksheet [{entities}]>", 1)
    return hostile_files.workbook(sheet)


def pixel_bomb() -> bytes:
    """A 50,000 × 50,000 grey PNG header over a few bytes of data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))


@functools.cache
def oversized(start: bytes = b"%PDF-1.4\n") -> bytes:
    """Past MAX_CONTENT_LENGTH (10 MB in TestingConfig's default)."""
    return start + b"0" * (11 * 1024 * 1024)


#: page → (name, builder) of the lying files sent to it
LIARS = {
    "roster": [
        ("花名册.xlsx", lambda: hostile_files.spaces(lie=True)),   # unpacks to 300 MB
        ("花名册.xlsx", hostile_files.shared_string),              # one 60 MB string
        ("花名册.xlsx", lambda: zip_bomb("xl/worksheets/sheet1.xml")),
        ("花名册.xlsx", xlsx_xml_bomb),
        ("花名册.xlsx", lambda: HTML),
        ("花名册.xls", lambda: HTML),       # the old "HTML saved as .xls"
        ("花名册.xls", hostile_files.big_xls),
        ("花名册.csv", lambda: EXE),
        ("花名册.csv", zip_bomb),
        ("花名册.txt", lambda: b"\xff\xfe" + EXE),
        ("花名册.csv", oversized),
    ],
    "questions": [
        ("题库.xml", billion_laughs),
        ("题库.gift", billion_laughs),
        ("题库.xml", quadratic_blowup),
        ("题库.xml", external_entity),
        ("题库.txt", lambda: billion_laughs("root")),
        ("题库.xlsx", lambda: hostile_files.spaces(lie=True)),
        ("题库.xlsx", lambda: zip_bomb("xl/sharedStrings.xml")),
        ("题库.xlsx", xlsx_xml_bomb),
        ("题库.csv", lambda: EXE),
        ("题库.gift", zip_bomb),
        ("题库.aiken.txt", lambda: EXE),
        ("题库.xml", oversized),
    ],
    "material file": [
        ("通知.pdf", lambda: HTML),
        ("照片.png", lambda: SVG),
        ("照片.jpg", lambda: HTML),
        ("通知.pdf", lambda: EXE),
        ("通知.docx", docx_bomb),
        ("通知.docx", zip_bomb),
        ("通知.pdf", oversized),
    ],
    "material images": [
        ("图.png", lambda: SVG),
        ("图.png", lambda: HTML),
        ("图.jpg", lambda: EXE),
        ("图.png", lambda: b"%PDF-1.4\n%" + HTML),   # a PDF is no image
        ("图.png", lambda: oversized(b"\x89PNG\r\n\x1a\n")),
    ],
    "session photo": [
        ("照片.jpg", lambda: HTML),
        ("照片.png", lambda: SVG),
        ("照片.png", pixel_bomb),
        ("照片.jpg", lambda: b"\xff\xd8\xff\xe0" + HTML),  # a JPEG header over HTML
        ("照片.jpg", lambda: oversized(b"\xff\xd8\xff")),
    ],
    "session attachment": [
        ("签到表.pdf", lambda: HTML),
        ("签到表.png", lambda: SVG),
        ("签到表.pdf", lambda: EXE),
        ("决议.docx", docx_bomb),
        ("签到表.pdf", oversized),
    ],
}


def count_liars() -> int:
    return sum(len(files) for files in LIARS.values())


@pytest.fixture()
def uploads_world(app, org, login, client, tmp_path, monkeypatch):
    """A whole-tree admin signed in, files stored under tmp_path, and a session held an
    hour ago (its record takes photos and attachments)."""
    from studyhall.sessions.models import SessionKind, SessionStatus, StudySession

    monkeypatch.setitem(app.config, "FILE_STORAGE_DIR", str(tmp_path / "files"))
    now = utcnow()
    session = StudySession(kind=SessionKind.THEME_DAY, status=SessionStatus.PUBLISHED,
                           owner_unit_id=org.gen_a.id, topic="主题党日",
                           starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1),
                           checkin_secret="x" * 32, published_at=now,
                           audience={"unit_ids": [org.branch_a.id]})
    db.session.add(session)
    db.session.commit()
    login(org.admin)
    return {"session_id": session.id, "files": tmp_path / "files"}


def multipart(client, url: str, fields: dict):
    """Posted as one multipart body built in memory: the test client would spool a large
    body to a temporary file it never closes."""
    boundary, body = encode_multipart({
        key: FileStorage(io.BytesIO(value[0]), value[1]) if isinstance(value, tuple) else value
        for key, value in fields.items()})
    return client.post(url, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def send(client, page: str, world: dict, name: str, data: bytes):
    upload = (data, name)
    if page == "roster":
        return multipart(client, "/manage/roster", {"file": upload})
    if page == "questions":
        return multipart(client, "/manage/bank/import", {"file": upload, "format": "",
                                                          "category_id": "0"})
    if page.startswith("material"):
        url, form_class, _valid = PAGES["material"]
        if page == "material file":
            values = {**valid_values(client, url, MaterialForm, {"kind": "file"}),
                      "file": upload}
        else:
            values = {**valid_values(client, url, MaterialForm, {"kind": "text"}),
                      "body": f"正文\n\n![图]({name})", "images": upload}
        return multipart(client, url, values)
    kind = "photo" if page == "session photo" else "attachment"
    return multipart(client, f"/manage/sessions/{world['session_id']}/attachments",
                     {"kind": kind, "files": upload, "caption": ""})


def kept(world) -> tuple:
    from studyhall.sessions.models import SessionAttachment

    files = world["files"]
    on_disk = sum(1 for path in files.rglob("*") if path.is_file()) if files.exists() else 0
    return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                 for model in (PendingUpload, StoredFile, Material, SessionAttachment)) \
        + (on_disk,)


#: An error shown on the page: a flash, a field's errors, an invalid field.
REFUSAL = re.compile(r'class="flash error|role="alert"|aria-invalid="true"|id="problems"')


@pytest.mark.parametrize("page", sorted(LIARS))
def test_uploads_whose_name_lies_are_refused_and_nothing_is_kept(page, client, uploads_world):
    before = kept(uploads_world)
    wrong = []
    for name, build in LIARS[page]:
        response = send(client, page, uploads_world, name, build())
        text = response.get_data(as_text=True)
        where = (page, name, build.__name__)
        if response.status_code >= 500 or "Traceback" in text:
            wrong.append((*where, response.status_code))
        elif response.status_code == 413:
            pass  # refused before it was read: the error page says the file is too large
        elif response.status_code in (200, 400, 422):
            if not REFUSAL.search(text):
                wrong.append((*where, "no refusal shown"))
            if 'name="token"' in text:
                wrong.append((*where, "offered for import"))
        else:
            wrong.append((*where, f"answered {response.status_code}"))
        if "root:x:0:0" in text or "/bin/bash" in text:
            wrong.append((*where, "the server's /etc/passwd was read"))
        db.session.expire_all()
        now = kept(uploads_world)
        if 'id="problems"' in text and now[1:] == before[1:] and now[0] == 1:
            # A preview that lists the file's problems and offers no import keeps the
            # upload (for its next pages of problems) until the next upload or 6 hours:
            # an XML bomb named .gift is read as GIFT text, never expanded.
            before = now
        if now != before:
            wrong.append((*where, "kept", before, kept(uploads_world)))
            before = kept(uploads_world)
    assert not wrong, wrong


# --- the names of valid files -----------------------------------------------------------

ROSTER = "工号,姓名,单位,政治面貌\n770001,孙丽,甲校第一支部,党员\n".encode()
QUESTIONS = "::q1:: 党员的预备期为几年？ {=一年 ~两年 ~三年}\n".encode()
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
NAMED = {"roster": (ROSTER, ".csv"), "questions": (QUESTIONS, ".gift"),
         "material file": (PNG, ".png")}


@pytest.mark.parametrize("page", sorted(NAMED))
def test_hostile_names_of_valid_files_are_shown_escaped(page, client, uploads_world):
    """The preview shows the uploaded file's name, the material's page its stored name:
    each markup payload of the corpus as a name comes out as text."""
    data, suffix = NAMED[page]
    names = [payload for payload in text_payloads()
             if isinstance(payload, str) and (MARKER in payload or "7331" in payload)]
    if not FULL:
        names = names[len(page) % 4::math.ceil(len(names) / 12)]
    live, errors = [], []
    for name in names:
        response = send(client, page, uploads_world, name + suffix, data)
        shown = [response]
        if response.status_code == 302:
            shown.append(client.get(response.headers["Location"]))
        for answer in shown:
            if answer.status_code >= 500:
                errors.append((name[:60], answer.status_code))
            found = live_payload(answer.get_data(as_text=True))
            if found:
                live.append((name[:60], found[:2]))
    assert not errors, errors[:5]
    assert not live, live[:5]


# --- what the uploads found ----------------------------------------------------------------

@pytest.mark.parametrize("name, build", [
    ("题库.xml", billion_laughs), ("题库.xml", external_entity),
    ("题库.xlsx", lambda: hostile_files.spaces(lie=True))])
def test_a_question_file_refused_as_a_whole_is_not_kept(client, uploads_world, name, build):
    """Found by the uploads: an unsafe XML (entities, a DTD) or a damaged workbook was
    listed as one problem of the file, and the file was kept as a pending import for six
    hours. It is now refused as a file: the message, nothing kept."""
    text = send(client, "questions", uploads_world, name, build()).get_data(as_text=True)
    assert 'class="flash error' in text and 'id="problems"' not in text
    assert db.session.scalar(sa.select(sa.func.count(PendingUpload.id))) == 0
