"""Fixtures for the sessions tests of e1 (sessions, leave, the record): a branch with a
few members on top of the shared ``org``, and sessions in each state.

Import with ``from tests.app.session_fixtures_e1 import *`` in a test module."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import PoliticalStatus
from studyhall.sessions import operations
from studyhall.sessions.models import SessionKind, StudySession

__all__ = ["branch", "make_session", "file_storage", "jpeg_bytes", "text",
           "SESSION_FORM"]


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture()
def branch(org, make_person):
    """org.branch_a (甲校第一支部, in the secretary's scope) with its teacher 李老师 and
    three more members: 周老师 (the recorder, a teacher), 吴老师 and 郑老师 (群众)."""
    people = {
        "recorder": make_person("rec", unit=org.branch_a, name="周老师"),
        "wu": make_person("wu", unit=org.branch_a, name="吴老师"),
        "zheng": make_person("zheng", unit=org.branch_a, name="郑老师",
                             status=PoliticalStatus.MASSES),
    }
    for key, person in people.items():
        setattr(org, key, person)
    return org


@pytest.fixture()
def make_session(app, branch):
    """make_session(state="draft"|"published"|"held", **values) -> StudySession.

    Owned by 甲校第一支部, a branch meeting; "published" starts tomorrow, "held" started
    two hours ago and ended an hour ago (the secretary publishes it)."""

    def make(state: str = "published", *, actor=None, **values) -> StudySession:
        now = utcnow()
        starts = now + timedelta(days=1) if state in ("draft", "published") \
            else now - timedelta(hours=2)
        settings = {"kind": SessionKind.BRANCH_MEETING, "owner_unit_id": branch.branch_a.id,
                    "topic": "学习贯彻党的二十届三中全会精神", "starts_at": starts,
                    "ends_at": starts + timedelta(hours=1), "place": "党员活动室",
                    "recorder_id": branch.recorder.id, **values}
        session = operations.create_session(actor or branch.secretary, settings)
        if state != "draft":
            operations.publish_session(actor or branch.secretary, session, now=now)
        db.session.commit()
        return session

    return make


@pytest.fixture()
def file_storage(app, tmp_path, monkeypatch):
    """Uploaded files go to a temporary directory."""
    monkeypatch.setitem(app.config, "FILE_STORAGE_DIR", str(tmp_path / "files"))
    return tmp_path / "files"


def jpeg_bytes(width: int = 2400, height: int = 1600, *, orientation: int | None = None,
               color=(200, 30, 30)) -> bytes:
    """A JPEG photo as a phone takes it (optionally with an EXIF orientation tag)."""
    image = Image.new("RGB", (width, height), color)
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0132] = "2026:12:08 15:00:00"  # DateTime, to check EXIF is dropped
    if orientation:
        exif[0x0112] = orientation
    image.save(out, "JPEG", exif=exif.tobytes(), quality=85)
    return out.getvalue()


SESSION_FORM = {"kind": "branch_meeting", "topic": "学习《中国共产党纪律处分条例》",
                "day": "2030-03-12", "start_time": "14:30", "end_time": "16:00",
                "place": "三楼会议室", "online_url": "", "host": "", "speaker": "",
                "recorder": "", "checkin_opens_before": "30", "checkin_closes_after": "60",
                "late_after_minutes": "5"}
