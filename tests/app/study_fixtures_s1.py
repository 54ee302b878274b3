"""Study fixtures for materials and assignments (s1)."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from xml.sax.saxutils import escape

import pytest

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.study import assignments as assignment_ops
from studyhall.study import materials as material_ops
from studyhall.study.models import Assignment, MaterialKind

PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
             b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
             b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
             b"trailer<</Root 1 0 R>>\n%%EOF\n")
PNG_BYTES = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
             b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe"
             b"\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")


def make_docx(paragraphs: list[str], document: str | None = None) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    document = document or (
        '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
        'openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        f"{body}</w:body></w:document>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", document)
    return buffer.getvalue()


@pytest.fixture()
def files_dir(app, tmp_path):
    app.config["FILE_STORAGE_DIR"] = str(tmp_path / "files")
    yield tmp_path / "files"
    app.config.pop("FILE_STORAGE_DIR", None)


@pytest.fixture()
def make_material(app, org, files_dir):
    def make(title="十项准则学习", body="# 第一条\n\n坚定政治方向。" * 1, *, kind=MaterialKind.TEXT,
             owner=None, actor=None, **extra):
        values = material_ops.MaterialValues(kind=kind, title=title,
                                             owner_unit_id=(owner or org.top).id, body=body,
                                             **extra)
        material = material_ops.save_material(actor or org.admin, None, values)
        db.session.commit()
        return material

    return make


@pytest.fixture()
def make_assignment(app, org, make_material):
    """A published assignment of one material for 甲校第一支部, due in a day."""

    def make(*, materials=None, audience=None, owner=None, publish=True, actor=None,
             now=None, **settings):
        now = now or utcnow()
        values = {"title": "学习十项准则", "owner_unit_id": (owner or org.gen_a).id,
                  "starts_at": now - timedelta(hours=1), "due_at": now + timedelta(days=1),
                  **settings}
        actor = actor or org.admin
        assignment = assignment_ops.create_assignment(actor, values)
        for material in (materials if materials is not None else [make_material()]):
            assignment_ops.add_material(assignment, material)
        assignment_ops.set_audience(assignment, audience or {"unit_ids": [org.branch_a.id]})
        if publish:
            assignment_ops.publish_assignment(actor, assignment, now=now)
        db.session.commit()
        return db.session.get(Assignment, assignment.id)

    return make


def add_progress(assignment, person, material, *, completed_at=None, credited_ms=60_000):
    """A reading record as s2's reading pages would leave it."""
    from studyhall.study.models import ReadingProgress

    now_ms = int(utcnow().timestamp() * 1000)
    db.session.add(ReadingProgress(
        assignment_id=assignment.id, person_id=person.id, material_id=material.id,
        version_id=material.current_version_id, opened_ms=now_ms, last_beat_ms=now_ms,
        credited_ms=credited_ms, completed_at=completed_at))
    db.session.commit()
