"""Study test data for reading, checkpoints and the learning record (s2's fixtures):
materials and published assignments written straight into the tables, so these tests do
not depend on the authoring screens."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

import question_bank as qb
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person
from studyhall.study.materials import BLOCK_SEP
from studyhall.study.models import (
    Assignment,
    AssignmentItem,
    AssignmentRecipient,
    AssignmentStatus,
    Material,
    MaterialKind,
    MaterialVersion,
)

#: Four top-level blocks, stored as materials.py stores a text: a heading, two
#: paragraphs, a list.
BLOCKS = ["<h2>第一章 总则</h2>", "<p>党员必须遵守党的纪律。</p>",
          "<p>党的纪律是党的各级组织和全体党员必须遵守的<strong>行为规则</strong>。</p>",
          "<ul>\n<li>政治纪律</li>\n<li>组织纪律</li>\n</ul>"]
BODY_HTML = BLOCK_SEP.join(BLOCKS)


@pytest.fixture()
def bank(app):
    """One bank question of each type, by type name."""
    from studyhall.bank import operations as bank_ops

    category = bank_ops.create_category(None, "检查题库")
    questions = {
        "single": qb.Question(type="single", stem="党员的预备期为几年？",
                              options=("一年", "两年", "三年"), answer="A",
                              explanation="预备期为一年。", source="党章第七条"),
        "multiple": qb.Question(type="multiple", stem="属于党的纪律的有？",
                                options=("政治纪律", "组织纪律", "体育纪律"), answer=("A", "B"),
                                explanation="六项纪律。"),
        "true_false": qb.Question(type="true_false", stem="党员必须遵守党的纪律。",
                                  answer=True, explanation="党章规定。"),
        "fill_blank": qb.Question(type="fill_blank", stem="党的最高领导机关是____。",
                                  answer=(("全国代表大会", "党的全国代表大会"),)),
        "short_answer": qb.Question(type="short_answer", stem="简述三会一课。", answer="略"),
    }
    rows = {kind: bank_ops.save_question(None, q, category) for kind, q in questions.items()}
    db.session.commit()
    return rows


@pytest.fixture()
def make_material(app, org):
    def make(title: str = "中国共产党纪律处分条例（节选）", *, body_html: str = BODY_HTML,
             kind: MaterialKind = MaterialKind.TEXT, min_seconds: int = 60,
             owner=None, url: str | None = None) -> Material:
        material = Material(kind=kind, owner_unit_id=(owner or org.gen_a).id)
        db.session.add(material)
        db.session.flush()
        version = MaterialVersion(material_id=material.id, number=1, title=title,
                                  body_html=body_html, min_reading_seconds=min_seconds,
                                  estimated_seconds=min_seconds, url=url)
        db.session.add(version)
        db.session.flush()
        material.current_version_id = version.id
        db.session.commit()
        return material

    return make


def add_version(material: Material, title: str, body_html: str = BODY_HTML,
                min_seconds: int = 60) -> MaterialVersion:
    number = 1 + max(v.number for v in material.versions)
    version = MaterialVersion(material_id=material.id, number=number, title=title,
                              body_html=body_html, min_reading_seconds=min_seconds)
    db.session.add(version)
    db.session.flush()
    material.current_version_id = version.id
    db.session.commit()
    return version


@pytest.fixture()
def make_assignment(app, org):
    def make(materials=(), readers: list[Person] | None = None, *, quizzes=(),
             title: str = "学习《条例》", starts_at: datetime | None = None,
             due_at: datetime | None = None, requires_reflection: bool = False,
             status: AssignmentStatus = AssignmentStatus.PUBLISHED, owner=None,
             min_seconds: int | None = None) -> Assignment:
        now = utcnow()
        assignment = Assignment(
            title=title, owner_unit_id=(owner or org.gen_a).id, created_by_id=org.secretary.id,
            starts_at=starts_at or now - timedelta(hours=1),
            due_at=due_at or now + timedelta(days=7), requires_reflection=requires_reflection,
            reflection_min_chars=300 if requires_reflection else 0, status=status,
            published_at=now if status is not AssignmentStatus.DRAFT else None)
        db.session.add(assignment)
        db.session.flush()
        position = 0
        for material in materials:
            position += 1
            db.session.add(AssignmentItem(assignment_id=assignment.id, position=position,
                                          material_id=material.id,
                                          min_reading_seconds=min_seconds))
        for quiz in quizzes:
            position += 1
            db.session.add(AssignmentItem(assignment_id=assignment.id, position=position,
                                          quiz_id=quiz.id))
        for person in readers if readers is not None else [org.teacher]:
            db.session.add(AssignmentRecipient(assignment_id=assignment.id,
                                               person_id=person.id, unit_id=person.unit_id,
                                               political_status=person.political_status))
        db.session.commit()
        return assignment

    return make


@pytest.fixture()
def study(org, make_material, make_assignment):
    """A text material (four blocks, 60 s minimum) assigned to org.teacher."""
    material = make_material()
    assignment = make_assignment([material])
    return type("Study", (), {"material": material, "assignment": assignment,
                              "version": material.current_version})


def progress_of(assignment, person, material):
    from studyhall.study.models import ReadingProgress

    db.session.expire_all()
    return db.session.scalar(sa.select(ReadingProgress).where(
        ReadingProgress.assignment_id == assignment.id, ReadingProgress.person_id == person.id,
        ReadingProgress.material_id == material.id))


@pytest.fixture()
def login_as(client, login):
    """Sign out whoever is signed in, then sign ``person`` in."""
    def do(person):
        client.post("/logout")
        return login(person)

    return do
