"""The demo's study and sessions: what seed-demo adds, that a second run changes nothing,
that the generated PDF holds Chinese text, and that `make run`'s steps work on an empty
SQLite database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zlib
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from studyhall import storage
from studyhall.demo import seed_demo
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    SessionKind,
    StudyPlan,
    StudySession,
)
from studyhall.sessions.plans import Period, get_quota_checklist
from studyhall.study.demo import ASSIGNMENT_TITLE, PDF_TITLE
from studyhall.study.demo_pdf import make_pdf
from studyhall.study.models import (
    Assignment,
    AssignmentRecipient,
    Material,
    MaterialKind,
    Reflection,
    ReflectionStatus,
)
from tests.app.study_fixtures_s1 import *  # noqa: F401,F403  (files_dir)

ROOT = Path(__file__).resolve().parents[2]


def _row_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


def test_seed_demo_twice_changes_nothing(app, files_dir):
    seed_demo()
    db.session.commit()
    before = _row_counts()
    assert seed_demo() == 0
    db.session.commit()
    assert _row_counts() == before


def test_demo_study(app, files_dir):
    seed_demo()
    db.session.commit()
    kinds = sorted(m.kind.value for m in db.session.scalars(sa.select(Material)))
    assert kinds == ["file", "link", "text"]
    assignment = db.session.scalar(sa.select(Assignment).where(
        Assignment.title == ASSIGNMENT_TITLE))
    assert assignment.requires_reflection and len(assignment.items) == 3
    text = next(i.material for i in assignment.items
                if i.material.kind is MaterialKind.TEXT)
    assert len(text.current_version.checkpoints) == 1
    recipients = db.session.scalars(sa.select(AssignmentRecipient).where(
        AssignmentRecipient.assignment_id == assignment.id)).all()
    done = [r for r in recipients if r.completed_at]
    assert 0 < len(done) < len(recipients) - 5
    teacher = db.session.scalar(sa.select(Person).where(Person.account == "teacher"))
    assert teacher.id in {r.person_id for r in recipients if not r.completed_at}
    states = [(r.status, r.is_excellent) for r in db.session.scalars(sa.select(Reflection))]
    assert states.count((ReflectionStatus.RETURNED, False)) == 1
    assert states.count((ReflectionStatus.ACCEPTED, True)) == 1


def test_demo_pdf_is_chinese_text(app, files_dir):
    seed_demo()
    db.session.commit()
    pdf = next(m for m in db.session.scalars(sa.select(Material))
               if m.current_version.title == PDF_TITLE)
    data = storage.read_file(pdf.current_version.file)
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    assert b"/UniGB-UCS2-H" in data and b"/ToUnicode" in data
    assert "三会一课" in _pdf_text(data) and "每季度召开1次" in _pdf_text(data)


def _pdf_text(data: bytes) -> str:
    """The text shown by the content streams (UCS-2 hex strings), decompressed."""
    text = []
    for stream in re.findall(rb"/FlateDecode >>\nstream\n(.*?)\nendstream", data, re.S):
        content = zlib.decompress(stream)
        for hexed in re.findall(rb"<([0-9A-F]+)> Tj", content):
            text.append(bytes.fromhex(hexed.decode()).decode("utf-16-be"))
    return "".join(text)


def test_pdf_writer_wraps_onto_pages_and_keeps_offsets_true(app):
    data = make_pdf("标题", ["长段落" * 400, "English words 123"])
    assert data.count(b"/Type /Page ") >= 2
    xref = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    assert data[xref:xref + 4] == b"xref"
    offsets = [int(line[:10]) for line in data[xref:].split(b"\n")[3:]
               if re.fullmatch(rb"\d{10} 00000 n ", line)]
    for number, offset in enumerate(offsets, start=1):
        assert data[offset:].startswith(f"{number} 0 obj".encode())
    assert ("长段落" * 400) in _pdf_text(data).replace("\u3000", "")


def test_demo_sessions(app, files_dir):
    seed_demo()
    db.session.commit()
    now = utcnow()
    plan = db.session.scalar(sa.select(StudyPlan))
    assert plan.unit.name == "实验小学第一支部" and len(plan.items) >= 15
    sessions = db.session.scalars(sa.select(StudySession).order_by(StudySession.starts_at)).all()
    held = [s for s in sessions if s.starts_at <= now]
    assert [s.kind for s in held] == [SessionKind.BRANCH_MEETING, SessionKind.PARTY_LECTURE,
                                      SessionKind.THEME_DAY]
    meeting = held[0]
    assert meeting.minutes and "<h2>" in meeting.minutes_html and meeting.record_locked_at
    marks = db.session.scalars(sa.select(Attendance.status).where(
        Attendance.session_id == meeting.id)).all()
    assert None not in marks and AttendanceStatus.EXCUSED in marks
    assert marks.count(AttendanceStatus.PRESENT) > len(marks) // 2
    upcoming = sessions[-1]
    teacher = db.session.scalar(sa.select(Person).where(Person.account == "teacher"))
    opens = upcoming.starts_at - timedelta(minutes=upcoming.checkin_opens_before)
    assert upcoming.starts_at > now and opens <= now
    assert db.session.get(Attendance, (upcoming.id, teacher.id)).status is None
    checklist = get_quota_checklist(plan.unit, Period.of_plan(plan), now)
    assert any(c.state == "done" for line in checklist for c in line.cycles)


def test_make_run_steps_on_an_empty_sqlite_database(tmp_path):
    """`make run` migrates, seeds the demo when empty, and serves: the same commands
    here, then the pages the demo logins land on."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
           "FILE_STORAGE_DIR": str(tmp_path / "files"), "FLASK_APP": "studyhall",
           "PYTHONPATH": str(ROOT)}
    env.pop("STUDYHALL_CONFIG", None)
    flask = [sys.executable, "-m", "flask"]
    for args in (["db", "upgrade"], ["seed-demo", "--if-empty"]):
        result = subprocess.run(flask + args, cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
    assert "演示账号" in result.stdout
    from config import TestingConfig
    from studyhall import create_app

    config = type("Run", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"],
                                            "FILE_STORAGE_DIR": env["FILE_STORAGE_DIR"]})
    app = create_app(config)
    client = app.test_client()
    for account, pages in [("secretary", ["/", "/manage/sessions/plans/",
                                          "/manage/study/assignments/"]),
                           ("teacher", ["/"])]:
        response = client.post("/login", data={"account": account,
                                               "password": "studyhall-demo"})
        assert response.status_code == 302
        for page in pages:
            assert client.get(page).status_code == 200, (account, page)
        client.post("/logout")
    with app.app_context():
        db.engine.dispose()
