"""Demo data: a bureau committee, three schools' general branches with two branches each,
about 120 people with a realistic mix of 政治面貌, and three demo logins.

Idempotent: units and people are found by name and account before anything is created.
Names come from a seeded generator, so every installation shows the same people.
"""

from __future__ import annotations

import random
import zlib

import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.org import operations
from studyhall.org.models import Person, PoliticalStatus, Role, Unit, UnitKind

DEMO_PASSWORD = "studyhall-demo"

COMMITTEE = "示例市教育局党委"
SCHOOLS = {
    "示例市实验小学党总支": ["实验小学第一支部", "实验小学第二支部"],
    "示例市第一中学党总支": ["第一中学第一支部", "第一中学第二支部"],
    "示例市育才中学党总支": ["育才中学第一支部", "育才中学第二支部"],
}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
    "彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金"
    "石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    "万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳",
    "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "华", "建华",
    "玉兰", "文", "红", "晓燕", "海燕", "志强", "丹", "萍", "宁", "婷", "雪", "琳",
    "晨", "欣怡", "子涵", "浩然", "俊杰", "思远", "雨萱", "佳怡", "梓轩", "宇航", "一鸣", "晓东",
    "春梅", "秋菊", "建国", "国庆", "卫东", "丽华", "秀兰", "淑珍", "凤英", "玉梅",
)
# Weights of a school staff's 政治面貌: about half party members, a few probationary
# members, league members among the young, a democratic party member or two.
STATUS_WEIGHTS = [
    (PoliticalStatus.CPC_MEMBER, 46), (PoliticalStatus.CPC_PROBATIONARY, 3),
    (PoliticalStatus.CYL_MEMBER, 8), (PoliticalStatus.CDL, 1), (PoliticalStatus.CAPD, 1),
    (PoliticalStatus.JIUSAN, 1), (PoliticalStatus.NON_PARTISAN, 1), (PoliticalStatus.MASSES, 39),
]
PEOPLE_PER_BRANCH = 18
BUREAU_STAFF = 10


def _unit(parent: Unit | None, name: str, kind: UnitKind, order: int) -> tuple[Unit, int]:
    found = db.session.scalar(sa.select(Unit).where(
        Unit.name == name,
        Unit.parent_id.is_(None) if parent is None else Unit.parent_id == parent.id))
    if found:
        return found, 0
    return operations.create_unit(parent, name, kind, order), 1


def _person(account: str, name: str, unit: Unit, status: PoliticalStatus,
            role: Role = Role.TEACHER, password: str | None = None) -> tuple[Person, int]:
    found = db.session.scalar(sa.select(Person).where(Person.account == account))
    if found:
        return found, 0
    person = Person(account=account, name=name, unit=unit, political_status=status, role=role,
                    phone=f"139{zlib.crc32(account.encode()) % 10**8:08d}")
    if password:
        person.set_password(password)
        person.must_change_password = False
    else:
        # No usable password: an administrator resets it when the person needs to log in.
        person.password_hash = ""
    db.session.add(person)
    return person, 1


def seed_demo() -> int:
    """Create what is missing of the demo organisation; return how many rows were added."""
    rng = random.Random(20240101)
    statuses, weights = zip(*STATUS_WEIGHTS, strict=True)
    added = 0
    root, n = _unit(None, COMMITTEE, UnitKind.COMMITTEE, 0)
    added += n
    branches: list[Unit] = []
    for order, (general_name, branch_names) in enumerate(SCHOOLS.items()):
        general, n = _unit(root, general_name, UnitKind.GENERAL_BRANCH, order)
        added += n
        for b_order, branch_name in enumerate(branch_names):
            branch, n = _unit(general, branch_name, UnitKind.BRANCH, b_order)
            branches.append(branch)
            added += n
    db.session.flush()

    def random_name() -> str:
        return rng.choice(SURNAMES) + rng.choice(GIVEN)

    number = 0
    for unit, count in [(root, BUREAU_STAFF)] + [(b, PEOPLE_PER_BRANCH) for b in branches]:
        for _ in range(count):
            number += 1
            status = rng.choices(statuses, weights)[0]
            added += _person(f"T{number:05d}", random_name(), unit, status)[1]

    admin, n1 = _person("admin", "系统管理员", root, PoliticalStatus.CPC_MEMBER, Role.ADMIN,
                        DEMO_PASSWORD)
    general = branches[0].parent
    secretary, n2 = _person("secretary", "王建华", general, PoliticalStatus.CPC_MEMBER,
                            Role.SECRETARY, DEMO_PASSWORD)
    if n2:
        secretary.managed_units = [general]
    teacher, n3 = _person("teacher", "李晓燕", branches[0], PoliticalStatus.CPC_MEMBER,
                          Role.TEACHER, DEMO_PASSWORD)
    db.session.flush()
    from studyhall.quizzes.demo import seed_demo_quizzes
    from studyhall.sessions.demo import seed_demo_sessions
    from studyhall.study.demo import seed_demo_study

    return (added + n1 + n2 + n3 + seed_sample_bank() + seed_demo_quizzes()
            + seed_demo_study() + seed_demo_sessions())


def seed_sample_bank() -> int:
    """Load the shipped sample bank through the importer; questions already there are
    skipped, so this is safe to run again."""
    from importlib.resources import files

    from studyhall.bank.importing import apply_question_import, plan_question_import

    data = files("question_bank").joinpath("data/sample_bank.csv").read_bytes()
    plan = plan_question_import(data, "sample_bank.csv")
    return apply_question_import(plan, duplicates="skip")["created"]


def database_is_empty() -> bool:
    return db.session.scalar(sa.select(sa.func.count(Person.id))) == 0
