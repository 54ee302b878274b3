"""Factories as fixtures that return callables (indico style)."""

from __future__ import annotations

import itertools

import pytest

from studyhall.extensions import db
from studyhall.org import operations
from studyhall.org.models import Person, PoliticalStatus, Role, Unit, UnitKind

PASSWORD = "correct-horse-9"
_numbers = itertools.count(1)


@pytest.fixture()
def make_unit(app):
    def make(name: str | None = None, parent: Unit | None = None,
             kind: UnitKind = UnitKind.BRANCH) -> Unit:
        unit = operations.create_unit(parent, name or f"单位{next(_numbers)}", kind)
        db.session.commit()
        return unit

    return make


@pytest.fixture()
def make_person(app, make_unit):
    def make(account: str | None = None, *, unit: Unit | None = None, role: Role = Role.TEACHER,
             name: str = "张老师", status: PoliticalStatus = PoliticalStatus.CPC_MEMBER,
             manages: list[Unit] | None = None, password: str = PASSWORD,
             must_change: bool = False) -> Person:
        person = Person(account=account or f"u{next(_numbers)}", name=name,
                        unit=unit or make_unit(), role=role, political_status=status)
        # The light hash keeps tests fast; real logins of chosen passwords use scrypt.
        person.set_password(password, initial=True)
        person.must_change_password = must_change
        person.managed_units = list(manages or [])
        db.session.add(person)
        db.session.commit()
        return person

    return make


@pytest.fixture()
def org(make_unit, make_person):
    """A small tree: a committee with two general branches, each with a branch, and an
    admin, a secretary of general branch A, and a teacher in each branch."""
    top = make_unit("教育局党委", kind=UnitKind.COMMITTEE)
    gen_a = make_unit("甲校党总支", top, UnitKind.GENERAL_BRANCH)
    gen_b = make_unit("乙校党总支", top, UnitKind.GENERAL_BRANCH)
    branch_a = make_unit("甲校第一支部", gen_a)
    branch_b = make_unit("乙校第一支部", gen_b)
    people = {
        "admin": make_person("admin", unit=top, role=Role.ADMIN, name="管理员"),
        "secretary": make_person("sec", unit=gen_a, role=Role.SECRETARY, name="王书记",
                                 manages=[gen_a]),
        "teacher": make_person("t1", unit=branch_a, name="李老师"),
        "outsider": make_person("t2", unit=branch_b, name="赵老师",
                                status=PoliticalStatus.MASSES),
    }
    return type("Org", (), {"top": top, "gen_a": gen_a, "gen_b": gen_b, "branch_a": branch_a,
                            "branch_b": branch_b, **people})


@pytest.fixture()
def login(client):
    def do(person: Person, password: str = PASSWORD):
        response = client.post("/login", data={"account": person.account,
                                               "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return do


@pytest.fixture()
def make_quiz(app, org):
    """A published quiz over a small bank: one question of each type, 20 points each
    (100 in all), open now for an hour, for 甲校第一支部 (org.branch_a)."""
    from datetime import timedelta

    import question_bank as qb
    from studyhall.bank import operations as bank_ops
    from studyhall.model_helpers import utcnow
    from studyhall.quizzes import operations as quiz_ops
    from studyhall.quizzes.models import Quiz

    category = bank_ops.create_category(None, "测试题")
    questions = [
        qb.Question(type="single", stem="党员的预备期为几年？", options=("一年", "两年", "三年"),
                    answer="A", points=20, explanation="解析甲：预备期为一年",
                    source="出处甲：党章第七条"),
        qb.Question(type="multiple", stem="属于党纪处分的有？",
                    options=("警告", "严重警告", "记过", "留党察看"), answer=("A", "B", "D"),
                    points=20, explanation="解析乙：记过是政务处分"),
        qb.Question(type="true_false", stem="记过是党纪处分。", answer=False, points=20,
                    explanation="解析丙"),
        qb.Question(type="fill_blank", stem="党的最高领导机关是党的全国代表大会和它所产生的____。",
                    answer=(("中央委员会", "党中央"),), points=20),
        qb.Question(type="short_answer", stem="简述三会一课。",
                    answer="支部党员大会、支部委员会会议、党小组会和党课",
                    keywords=("按时上好党课",), points=20),
    ]
    rows = [bank_ops.save_question(None, q, category) for q in questions]
    db.session.commit()
    ids = [row.id for row in rows]

    def make(**settings) -> Quiz:
        now = utcnow()
        values = {"title": "党纪党规知识测试", "owner_unit_id": org.gen_a.id,
                  "opens_at": now - timedelta(minutes=5), "closes_at": now + timedelta(hours=1),
                  "paper": {"kind": "fixed", "question_ids": ids},
                  "audience": {"unit_ids": [org.branch_a.id]}, "shuffle_options": False,
                  **settings}
        quiz = Quiz(**values)
        db.session.add(quiz)
        db.session.flush()
        quiz_ops.publish_quiz(org.admin, quiz, now=now)
        db.session.commit()
        return quiz

    make.question_ids = ids
    return make


def wait_until_someone_waits_for_a_lock(url, thread, what: str) -> None:
    """PostgreSQL: wait (at most 30 s) until a statement of this database waits for a
    lock, or ``thread`` has ended; fail with ``what`` if none ever did. Watched from a
    connection of its own (``url``)."""
    import time

    import sqlalchemy as sa

    watcher = sa.create_engine(url)
    try:
        waiting = 0
        for _ in range(600):
            with watcher.connect() as conn:
                waiting = conn.scalar(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"))
            if waiting or not thread.is_alive():
                break
            time.sleep(0.05)
        assert waiting, what
    finally:
        watcher.dispose()
