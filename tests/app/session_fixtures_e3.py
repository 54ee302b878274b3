"""Sessions built straight through the models (e1 builds the authoring operations in
parallel): a published session with its expected attendees and their statuses."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import pytest

from studyhall.extensions import db
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    SessionKind,
    SessionStatus,
    StudySession,
)
from studyhall.sessions.plans import to_utc

P, L, E, A = (AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.EXCUSED,
              AttendanceStatus.ABSENT)


def local(year: int, month: int, day: int = 10, hour: int = 15) -> datetime:
    """A local (北京时间) wall-clock time as the naive UTC the database stores."""
    return to_utc(datetime(year, month, day, hour))


@pytest.fixture()
def make_session(app, org):
    """make_session(kind, starts_at, people={person: status or None}, unit=...)."""

    def make(kind=SessionKind.BRANCH_MEETING, starts_at=None, people=None, *, unit=None,
             status=SessionStatus.PUBLISHED, topic="学习十项准则", minutes="", **values):
        starts_at = starts_at or local(2026, 3)
        session = StudySession(
            kind=kind, status=status, owner_unit_id=(unit or org.branch_a).id, topic=topic,
            starts_at=starts_at, ends_at=starts_at + timedelta(hours=1), place="三楼会议室",
            checkin_secret=secrets.token_hex(16), audience={}, minutes=minutes,
            published_at=starts_at - timedelta(days=2)
            if status is not SessionStatus.DRAFT else None, **values)
        db.session.add(session)
        db.session.flush()
        for person, state in (people or {}).items():
            db.session.add(Attendance(session_id=session.id, person_id=person.id,
                                      unit_id=person.unit_id,
                                      political_status=person.political_status,
                                      status=state,
                                      leave_reason="外出培训" if state is E else ""))
        db.session.commit()
        return session

    return make


def png(width: int = 8, height: int = 6, rgb=(179, 38, 30)) -> bytes:
    """A valid PNG of one colour, written by hand (no imaging library in the tests)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
