"""Demo study, so that a newcomer sees both sides of an assignment: three materials (a
text on the 十项准则 written only from the checked facts in shared/reference/FACTS.md, a
PDF made here, a link), an assignment for the demo teacher's branch with a checkpoint
question and a required reflection, some readers done and some behind, one reflection
returned and one accepted as 优秀.

Everything goes through the study operations the pages use — materials, the checkpoint,
the assignment, opening a material, heartbeats 15 s apart, the checkpoint answer, 我已学完,
reflections and reviews — with the clock moved through their ``now`` parameters. The demo
teacher (李晓燕) is left with the assignment to do. Idempotent: each material and the
assignment are found by their titles first.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from studyhall.bank.models import Question
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, Unit
from studyhall.study import assignments, checkpoints, materials, reflections
from studyhall.study import reading as reading_ops
from studyhall.study.demo_pdf import make_pdf
from studyhall.study.models import (
    Assignment,
    AssignmentRecipient,
    Material,
    MaterialKind,
    MaterialVersion,
)
from studyhall.study.reflection_targets import AssignmentTarget

BRANCH = "实验小学第一支部"
TEXT_TITLE = "《新时代中小学教师职业行为十项准则》学习要点（示例）"
PDF_TITLE = "《中国共产党支部工作条例（试行）》学习提纲（示例）"
LINK_TITLE = "教育部政府门户网站"
ASSIGNMENT_TITLE = "学习《新时代中小学教师职业行为十项准则》（示例）"
CHECKPOINT_STEM = "《新时代中小学教师职业行为十项准则》每一项的基本结构是（　　）。"
REFLECTION_MIN = 60
DONE, READING = 8, 4

TEXT_BODY = "\n".join([
    '# 《新时代中小学教师职业行为十项准则》学习要点',
    '',
    '本文是示例学习资料，依据已核实的要点整理，不是准则原文。学习时请以教育部公布的正'
    '式文本为准。',
    '',
    '## 一、印发',
    '',
    '2018年11月，教育部印发《新时代中小学教师职业行为十项准则》（教师〔2018'
    '〕16号），同时印发了高校教师和幼儿园教师的职业行为十项准则。',
    '',
    '## 二、结构',
    '',
    '准则共十项。每一项都由一个标题、一项正面倡导的要求和一项以“不得……”开头的禁止'
    '性规定构成。',
    '',
    '## 三、十项的标题',
    '',
    '1. 坚定政治方向',
    '2. 自觉爱国守法',
    '3. 传播优秀文化',
    '4. 潜心教书育人',
    '5. 关心爱护学生',
    '6. 加强安全防范',
    '7. 坚持言行雅正',
    '8. 秉持公平诚信',
    '9. 坚守廉洁自律',
    '10. 规范从教行为',
    '',
    '“积极奉献社会”是高校教师职业行为十项准则的第十项，不属于中小学教师的十项准则，'
    '学习时不要混淆。',
    '',
    '## 四、两条需要牢记的禁止性规定',
    '',
    '- 第九项“坚守廉洁自律”：禁止索要、收受学生及家长的钱物。',
    '- 第十项“规范从教行为”：据新华社对准则印发的报道，禁止组织、参与有偿补课，禁'
    '止将学生及其信息介绍给校外培训机构。',
    '',
    '## 五、与处理办法的关系',
    '',
    '教育部同期修订了《中小学教师违反职业道德行为处理办法》（教师〔2018〕18号）'
    '，其第一条提到十项准则。处理办法第三条规定的处分包括警告、记过、降低岗位等级或撤'
    '职、开除等。',
    '',
])

PDF_PARAGRAPHS = [
    "本提纲是示例学习资料，依据已核实的要点整理，不是条例原文。",
    "一、三会一课。三会一课是指支部党员大会、支部委员会会议、党小组会和党课。",
    "二、支部党员大会。党支部党员大会是党支部的议事决策机构，由全体党员参加，一般每季度召开1次"
    "（条例第十一条）。",
    "三、支部委员会会议。党支部委员会会议一般每月召开1次，根据需要可以随时召开（条例第十二条）。",
    "四、党小组会。党小组会一般每月召开1次（条例第十三条）。",
    "五、主题党日。党支部每月相对固定1天开展主题党日活动。",
    "六、思考题：本支部上一季度是否按要求召开了支部党员大会？每月的支部委员会会议和主题党日"
    "是否都有记录？",
]

OPENINGS = [
    "通过这次学习，我对十项准则的结构有了清楚的认识。",
    "这次集中学习让我重新审视了自己的日常教学工作。",
    "读完学习要点，我最大的体会是师德要落在每天的小事上。",
    "以前我只记得准则的几个标题，这次把十项逐条对照了一遍。",
    "作为班主任，我把准则和自己平时与家长的沟通方式对照起来学习。",
    "学习中我注意到中小学版本和高校版本的第十项并不相同。",
    "这次学习让我明白，正面要求和禁止性规定要一起理解。",
    "结合支部组织的学习，我把准则的要求写进了本学期的工作计划。",
]
MIDDLES = [
    "每一项都有正面倡导，也有不得逾越的底线，既指明了方向，也划清了界限。",
    "关心爱护学生和加强安全防范两项，和我们每天的课堂管理联系最紧密。",
    "坚守廉洁自律要求我们不收受学生和家长的钱物，这一点在节假日前尤其要提醒自己。",
    "规范从教行为中关于有偿补课的规定，是家长最关心的问题，也是我们必须守住的红线。",
    "坚持言行雅正提醒我，在网络和班级群里的一言一行同样代表教师形象。",
    "秉持公平诚信意味着评优评先、座位安排都要一视同仁，不能凭个人好恶。",
    "潜心教书育人要求我们把主要精力放在备课、上课和辅导学生上。",
    "传播优秀文化不是一句口号，可以从每一节课的细节做起。",
]
CLOSINGS = [
    "今后我将把准则作为日常工作的标尺，经常对照检查，做一名让学生和家长信任的老师。",
    "我会在教研组内和同事们交流学习体会，互相提醒、共同进步。",
    "下一步我打算结合本学科特点，把准则的要求融入课堂教学设计之中。",
    "我将认真反思自身不足，特别是在与家长沟通时更加注意分寸和方式。",
    "我会把这份学习要点保存下来，每学期开学前再读一遍，给自己提个醒。",
    "今后遇到拿不准的情况，我会先对照准则，再向支部和学校请示。",
    "我愿意在支部的主题党日活动中分享自己的学习体会，带动身边的同事一起学。",
    "我将以准则为镜，严格要求自己，努力做到学为人师、行为世范。",
]
RETURN_COMMENT = "体会写得比较笼统，请结合自己的教学工作举一两个具体例子后再提交。"


def seed_demo_study() -> int:
    """Create what is missing of the demo study; returns how many things were created."""
    branch = db.session.scalar(sa.select(Unit).where(Unit.name == BRANCH))
    secretary = db.session.scalar(sa.select(Person).where(Person.account == "secretary"))
    if branch is None or secretary is None or branch.parent is None:
        return 0
    owner = branch.parent
    now = utcnow().replace(second=0, microsecond=0)
    created = 0
    found = _material(TEXT_TITLE)
    text = found or _create(secretary, owner, MaterialKind.TEXT, TEXT_TITLE, "师德师风",
                            body=TEXT_BODY, summary="十项准则的印发、结构、标题和两条禁止性规定。")
    if found is None:
        _place_checkpoint(text, secretary)
        created += 1
    pdf = _material(PDF_TITLE)
    if pdf is None:
        pdf = _create(secretary, owner, MaterialKind.FILE, PDF_TITLE, "党建工作",
                      upload=("支部工作条例学习提纲.pdf", make_pdf(PDF_TITLE, PDF_PARAGRAPHS)),
                      summary="三会一课和主题党日的频次要求。", min_reading_minutes=2)
        created += 1
    link = _material(LINK_TITLE)
    if link is None:
        link = _create(secretary, owner, MaterialKind.LINK, LINK_TITLE, "政策文件",
                       url="http://www.moe.gov.cn/",
                       summary="教育部发布的政策文件可在其政府门户网站查阅。",
                       min_reading_minutes=1)
        created += 1
    if db.session.scalar(sa.select(Assignment.id).where(Assignment.title == ASSIGNMENT_TITLE)):
        return created
    _assignment(secretary, owner, branch, [text, pdf, link], now)
    return created + 1


def _material(title: str) -> Material | None:
    return db.session.scalar(sa.select(Material).join(
        MaterialVersion, MaterialVersion.id == Material.current_version_id)
        .where(MaterialVersion.title == title))


def _create(actor, owner: Unit, kind: MaterialKind, title: str, category: str,
            **values) -> Material:
    return materials.save_material(actor, None, materials.MaterialValues(
        kind=kind, title=title, owner_unit_id=owner.id, category=category,
        tags=["示例"], **values))


def _place_checkpoint(material: Material, actor: Person) -> None:
    """The bank's question on the structure of each item, right after the paragraph that
    answers it."""
    question_id = db.session.scalar(sa.select(Question.id).where(
        Question.stem == CHECKPOINT_STEM, ~Question.is_deleted))
    if question_id is None:
        return
    version = material.current_version
    blocks = materials.block_html(version.body_html)
    anchor = next((i + 1 for i, b in enumerate(blocks) if "禁止性规定构成" in b), len(blocks))
    checkpoints.place_checkpoint(version, question_id, anchor, actor.id)


def _assignment(actor, owner: Unit, branch: Unit, items: list[Material], now: datetime) -> None:
    start = now - timedelta(days=10)
    assignment = assignments.create_assignment(actor, {
        "title": ASSIGNMENT_TITLE, "owner_unit_id": owner.id, "starts_at": start,
        "due_at": now + timedelta(days=7), "requires_reflection": True,
        "reflection_min_chars": REFLECTION_MIN,
        "instructions": "请认真学习三份资料，回答文中的检测题，并撰写不少于60字的学习心得。"})
    for material in items:
        assignments.add_material(assignment, material)
    assignments.set_audience(assignment, {"unit_ids": [branch.id], "person_ids": [],
                                          "statuses": []})
    assignments.publish_assignment(actor, assignment, now=start)
    recipients = list(db.session.scalars(
        sa.select(AssignmentRecipient).join(AssignmentRecipient.person)
        .where(AssignmentRecipient.assignment_id == assignment.id, Person.account != "teacher")
        .order_by(Person.account)))
    rng = random.Random(20240103)
    target = AssignmentTarget(assignment)
    done = recipients[:DONE]
    for number, recipient in enumerate(done):
        when = start + timedelta(days=1 + number % 6, hours=12, minutes=5 * number)
        for material in items:
            when = _read(assignment, recipient.person_id, material, when, rng, complete=True)
        body = "".join((OPENINGS[number], MIDDLES[number], CLOSINGS[number]))
        reflections.submit(target, recipient.person, body, 0, when + timedelta(minutes=20))
    for number, recipient in enumerate(recipients[DONE:DONE + READING]):
        when = start + timedelta(days=3 + number, hours=13)
        _read(assignment, recipient.person_id, items[0], when, rng, complete=False)
    _review(actor, target, done, now)
    db.session.flush()


def _read(assignment, person_id: int, material: Material, when: datetime,
          rng: random.Random, *, complete: bool) -> datetime:
    """Open the material, read with a heartbeat every 15 s (to the minimum and a little
    more, or a third of it), answer its checkpoints, and confirm 我已学完; returns when
    the reader finished."""
    reading = reading_ops.find_reading(assignment, material.id, person_id)
    reading_ops.open_reading(reading, person_id, now=when)
    token = reading_ops.new_page_token()
    needed = max(reading.min_seconds, 60)
    beats = (needed + 45) // 15 + 1 if complete else needed // 45 + 1
    for _beat in range(beats):
        when += timedelta(seconds=15)
        reading_ops.heartbeat(assignment.id, material.id, person_id, token, True, now=when)
    if not complete:
        return when
    for checkpoint in reading.version.checkpoints:
        choice = "D" if rng.random() < 0.75 else "B"  # D is right
        checkpoints.answer_checkpoint(assignment.id, person_id, checkpoint, choice, now=when)
    db.session.refresh(reading.progress)  # the beats were credited by UPDATE statements
    reading_ops.complete_reading(reading, person_id, now=when)
    return when + timedelta(minutes=2)


def _review(reviewer: Person, target: AssignmentTarget, done: list[AssignmentRecipient],
            now: datetime) -> None:
    """The first reflection returned with a reason, the second accepted as 优秀, the
    third accepted; the rest wait for review."""
    if len(done) < 3:
        return
    first, second, third = (reflections.get_reflection(target, r.person_id) for r in done[:3])
    reflections.review(first, 1, reviewer, reflections.RETURNED, RETURN_COMMENT,
                       now - timedelta(days=2))
    reflections.review(second, 1, reviewer, reflections.ACCEPTED, "体会真切，联系实际。",
                       now - timedelta(days=2), excellent=True)
    reflections.review(third, 1, reviewer, reflections.ACCEPTED, "",
                       now - timedelta(days=1))
