"""Test data for reflections, built directly through the models (assignment authoring is
built in parallel): a published assignment of 甲校党总支 (org.gen_a) for 甲校第一支部
(org.branch_a) with one text material, asking for a reflection."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from studyhall.audience import query_audience
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Unit
from studyhall.study.models import (
    Assignment,
    AssignmentItem,
    AssignmentRecipient,
    AssignmentStatus,
    Material,
    MaterialKind,
    MaterialVersion,
)
from tests.unit.reflection_samples import MATERIAL


def create_assignment(owner: Unit, audience: dict, *, title: str = "学习十项准则",
                      min_chars: int = 50, material_text: str = MATERIAL,
                      status: AssignmentStatus = AssignmentStatus.PUBLISHED,
                      requires_reflection: bool = True,
                      now: datetime | None = None) -> Assignment:
    """A material with one text version and an assignment of it, published with its
    expected readers fixed by one INSERT ... SELECT (as publishing does). No commit."""
    now = now or utcnow()
    material = Material(kind=MaterialKind.TEXT, owner_unit_id=owner.id)
    version = MaterialVersion(material=material, number=1, title="新时代中小学教师职业行为十项准则",
                              body=material_text, body_html="")
    db.session.add_all([material, version])
    db.session.flush()
    material.current_version_id = version.id
    assignment = Assignment(title=title, owner_unit_id=owner.id, starts_at=now - timedelta(days=1),
                            due_at=now + timedelta(days=7), requires_reflection=requires_reflection,
                            reflection_min_chars=min_chars, audience=audience, status=status,
                            published_at=None if status is AssignmentStatus.DRAFT else now)
    assignment.items.append(AssignmentItem(position=1, material_id=material.id))
    db.session.add(assignment)
    db.session.flush()
    if status is not AssignmentStatus.DRAFT:
        readers = query_audience(audience, owner).subquery()
        db.session.execute(sa.insert(AssignmentRecipient).from_select(
            ["assignment_id", "person_id", "unit_id", "political_status"],
            sa.select(sa.literal(assignment.id), readers.c.id, readers.c.unit_id,
                      readers.c.political_status)))
    return assignment


@pytest.fixture(autouse=True)
def break_material_cycle(app):
    """material.current_version_id and material_version.material_id point at each other,
    so the app fixture's emptying of tables (child tables first) would fail on the cycle:
    cut it first."""
    yield
    db.session.rollback()
    db.session.execute(sa.update(Material).values(current_version_id=None))
    db.session.commit()


@pytest.fixture()
def colleague(org, make_person):
    """A second teacher of 甲校第一支部, writing on the same assignment."""
    return make_person("t3", unit=org.branch_a, name="周老师")


@pytest.fixture()
def make_assignment(org, colleague):
    def make(**settings) -> Assignment:
        owner = settings.pop("owner", org.gen_a)
        audience = settings.pop("audience", {"unit_ids": [org.branch_a.id]})
        assignment = create_assignment(owner, audience, **settings)
        db.session.commit()
        return assignment

    return make


@pytest.fixture()
def assignment(make_assignment):
    return make_assignment()


@pytest.fixture()
def make_session(org, colleague):
    """A published study session of 甲校党总支 with its expected attendees fixed (the
    teacher and the colleague of 甲校第一支部), built through the models."""
    from studyhall.sessions.models import Attendance, SessionKind, SessionStatus, StudySession

    def make(minutes: str = "") -> StudySession:
        now = utcnow()
        session = StudySession(kind=SessionKind.THEME_DAY, status=SessionStatus.PUBLISHED,
                               owner_unit_id=org.gen_a.id, topic="主题党日：学习十项准则",
                               starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1),
                               checkin_secret="x" * 32, minutes=minutes, published_at=now,
                               audience={"unit_ids": [org.branch_a.id]})
        db.session.add(session)
        db.session.flush()
        db.session.add_all(Attendance(session_id=session.id, person_id=person.id,
                                      unit_id=person.unit_id,
                                      political_status=person.political_status)
                           for person in (org.teacher, colleague))
        db.session.commit()
        return session

    return make
