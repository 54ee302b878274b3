"""Fixtures for the check-in tests (e2): published sessions with their expected
attendees written straight through the models, and a clock the check-in routes read."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import pytest

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person
from studyhall.sessions.models import (
    Attendance,
    SessionKind,
    SessionStatus,
    StudySession,
)

__all__ = ["TOPIC", "add_session", "clock", "make_session"]

TOPIC = "学习贯彻党的二十届三中全会精神"


def add_session(owner_unit_id: int, people: list[Person], *, starts_at: datetime,
                duration: timedelta = timedelta(hours=1),
                status: SessionStatus = SessionStatus.PUBLISHED, **values) -> StudySession:
    """A session of ``owner_unit_id`` with an Attendance row (unmarked) per person, as
    publishing leaves it; committed."""
    session = StudySession(
        kind=values.pop("kind", SessionKind.BRANCH_MEETING), owner_unit_id=owner_unit_id,
        topic=values.pop("topic", TOPIC), starts_at=starts_at, ends_at=starts_at + duration,
        place=values.pop("place", "第一会议室"), checkin_secret=secrets.token_hex(32),
        status=status, audience={"unit_ids": [owner_unit_id]},
        published_at=None if status is SessionStatus.DRAFT else utcnow(), **values)
    db.session.add(session)
    db.session.flush()
    db.session.add_all(Attendance(session_id=session.id, person_id=p.id, unit_id=p.unit_id,
                                  political_status=p.political_status) for p in people)
    db.session.commit()
    return session


@pytest.fixture()
def clock(monkeypatch):
    """The server's clock as the check-in routes see it: ``clock.now`` (naive UTC), set
    by the test; starts at a whole step."""
    from studyhall.sessions import routes_checkin

    class Clock:
        now = datetime(2026, 6, 1, 6, 0, 0)  # 14:00 in Asia/Shanghai

        def advance(self, **delta) -> datetime:
            self.now += timedelta(**delta)
            return self.now

    clock = Clock()
    monkeypatch.setattr(routes_checkin, "utcnow", lambda: clock.now)
    return clock


@pytest.fixture()
def make_session(app, org, clock):
    """``make(people=[...], starts_in=timedelta, **values)``: a published session of
    甲校第一支部 (org.branch_a) starting ``starts_in`` after the clock (10 minutes by
    default: check-in is open, 30 minutes before to 60 after, late after 5)."""

    def make(people: list[Person] | None = None, *, starts_in: timedelta = timedelta(
            minutes=10), owner=None, **values) -> StudySession:
        return add_session((owner or org.branch_a).id,
                           [org.teacher] if people is None else people,
                           starts_at=clock.now + starts_in, **values)

    return make
