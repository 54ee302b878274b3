"""Assignments: fixed expected readers, the state rule, the owner's view, reminders, the
to-do list, and scope."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import PoliticalStatus, Role
from studyhall.study import assignments as ops
from studyhall.study.models import (
    Assignment,
    AssignmentRecipient,
    AssignmentReminder,
    AssignmentStatus,
    CheckpointAnswer,
    MaterialCheckpoint,
    ReadingState,
    Reflection,
    ReflectionStatus,
)
from studyhall.study.queries import count_todo, get_todo, reading_state
from tests.app.study_fixtures_s1 import *  # noqa: F401,F403
from tests.app.study_fixtures_s1 import add_progress

DUE = datetime(2026, 6, 30, 18, 0)
S, C, LATE, OVER, N = (ReadingState.IN_PROGRESS, ReadingState.COMPLETED,
                 ReadingState.COMPLETED_LATE, ReadingState.OVERDUE, ReadingState.NOT_STARTED)


@pytest.mark.parametrize("started, completed_at, now, closed, expected", [
    (False, None, DUE - timedelta(hours=1), False, N),
    (True, None, DUE - timedelta(hours=1), False, S),
    (True, DUE - timedelta(minutes=1), DUE + timedelta(days=3), False, C),
    (True, DUE, DUE + timedelta(days=3), False, C),  # at the due time is on time
    (True, DUE + timedelta(seconds=1), DUE + timedelta(days=3), False, LATE),
    (True, None, DUE + timedelta(seconds=1), False, OVER),
    (False, None, DUE + timedelta(seconds=1), False, OVER),
    (False, None, DUE, False, N),
    (True, None, DUE - timedelta(days=1), True, OVER),  # closed early: no more chance
    (True, DUE - timedelta(days=2), DUE - timedelta(days=1), True, C),
])
def test_reading_state_rule_is_the_same_in_python_and_sql(app, started, completed_at, now,
                                                          closed, expected):
    assert reading_state(completed_at, started, DUE, now, closed) is expected
    row = sa.select(sa.literal(completed_at, sa.DateTime).label("c"),
                    sa.literal(DUE, sa.DateTime).label("d")).subquery()
    sql = db.session.scalar(sa.select(reading_state(row.c.c, sa.literal(started), row.c.d, now,
                                                    sa.literal(closed))))
    assert ReadingState(sql) is expected


# --- Publication fixes the readers -------------------------------------------------------

def test_publication_fixes_readers_with_their_unit_and_status_of_that_day(
        app, org, make_person, make_assignment):
    member = make_person("m1", unit=org.branch_a, name="党员甲")
    masses = make_person("m2", unit=org.branch_a, name="群众乙", status=PoliticalStatus.MASSES)
    assignment = make_assignment(audience={"unit_ids": [org.gen_a.id],
                                           "statuses": ["01", "02"]})
    readers = {r.person_id: r for r in db.session.scalars(sa.select(AssignmentRecipient))}
    assert member.id in readers and org.teacher.id in readers and masses.id not in readers
    assert org.outsider.id not in readers  # another school: outside the audience
    # A move after publication changes nothing in this assignment's figures.
    member.unit_id = org.branch_b.id
    member.political_status = PoliticalStatus.MASSES
    db.session.commit()
    again = db.session.get(AssignmentRecipient, (assignment.id, member.id))
    assert again.unit_id == org.branch_a.id and again.political_status is PoliticalStatus.CPC_MEMBER


def test_moved_reader_stays_counted_in_the_old_unit(client, org, login, make_person,
                                                    make_assignment):
    member = make_person("m1", unit=org.branch_a, name="调走的老师")
    assignment = make_assignment()
    member.unit_id = org.branch_b.id
    db.session.commit()
    login(org.admin)
    page = client.get(f"/manage/study/assignments/{assignment.id}/readers"
                      f"?unit={org.branch_a.id}").get_data(as_text=True)
    assert "调走的老师" in page
    page = client.get(f"/manage/study/assignments/{assignment.id}/readers"
                      f"?unit={org.branch_b.id}").get_data(as_text=True)
    assert "调走的老师" not in page


def test_publish_refuses_empty_items_or_audience(app, org):
    now = utcnow()
    assignment = ops.create_assignment(org.admin, {
        "title": "空", "owner_unit_id": org.gen_a.id, "starts_at": now,
        "due_at": now + timedelta(days=1)})
    with pytest.raises(ops.AssignmentError):
        ops.publish_assignment(org.admin, assignment)
    db.session.rollback()


def test_secretary_publishes_only_within_their_subtree(app, org, make_assignment, make_person):
    make_person("b1", unit=org.branch_b)
    assignment = make_assignment(actor=org.secretary,
                                 audience={"unit_ids": [org.gen_a.id, org.gen_b.id]})
    people = set(db.session.scalars(sa.select(AssignmentRecipient.person_id).where(
        AssignmentRecipient.assignment_id == assignment.id)))
    assert org.outsider.id not in people and org.teacher.id in people


def test_publishing_twice_publishes_once(client, org, login, make_assignment):
    assignment = make_assignment(publish=False)
    login(org.admin)
    url = f"/manage/study/assignments/{assignment.id}/publish"
    assert client.post(url).status_code == 302
    second = client.post(url, follow_redirects=True)
    assert "Once published" in second.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AssignmentRecipient)) == 1


def test_published_assignment_keeps_items_audience_and_start(client, org, login,
                                                             make_assignment, make_material):
    assignment = make_assignment()
    extra = make_material("另一篇")
    login(org.admin)
    client.post(f"/manage/study/assignments/{assignment.id}/items/material",
                data={"material_id": extra.id})
    assert len(db.session.get(Assignment, assignment.id).items) == 1
    response = client.post(f"/manage/study/assignments/{assignment.id}/audience",
                           data={"unit_ids": [org.gen_b.id]})
    assert response.status_code == 302
    assert db.session.get(Assignment, assignment.id).audience == {"unit_ids": [org.branch_a.id]}


# --- Authoring through the pages -------------------------------------------------------

def test_author_and_publish_through_the_pages(client, org, login, make_material, make_quiz):
    material = make_material("党章学习", body="学" * 1200)
    quiz = make_quiz()
    login(org.secretary)
    response = client.post("/manage/study/assignments/new", data={
        "title": "四月学习", "owner_unit_id": org.gen_a.id,
        "starts_at": "2026-04-01T08:00", "due_at": "2026-04-30T18:00",
        "requires_reflection": "y", "reflection_min_chars": "300"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assignment = db.session.scalar(sa.select(Assignment))
    base = f"/manage/study/assignments/{assignment.id}"
    assert client.get(f"{base}/items").status_code == 200
    assert client.post(f"{base}/items/material", data={
        "material_id": material.id, "min_reading_minutes": "6"}).status_code == 302
    assert client.post(f"{base}/items/quiz", data={"quiz_id": quiz.id}).status_code == 302
    assert client.post(f"{base}/audience", data={"unit_ids": [org.branch_a.id]}).status_code \
        == 302
    assert "1 people will be expected" in client.get(f"{base}/publish").get_data(as_text=True)
    assert client.post(f"{base}/publish").status_code == 302
    assignment = db.session.get(Assignment, assignment.id)
    assert assignment.status is AssignmentStatus.PUBLISHED
    assert assignment.reflection_min_chars == 300
    assert assignment.starts_at == datetime(2026, 4, 1, 0, 0)  # Beijing time, stored UTC
    assert [i.min_reading_seconds for i in assignment.items] == [360, None]


def test_settings_after_publication_only_title_instructions_due(client, org, login,
                                                                make_assignment):
    assignment = make_assignment()
    login(org.admin)
    forged = client.post(f"/manage/study/assignments/{assignment.id}/edit", data={
        "title": "改名", "owner_unit_id": org.gen_a.id, "instructions": "",
        "due_at": "2030-01-01T10:00", "requires_reflection": "y"})
    assert "only the title, instructions and due time" in forged.get_data(as_text=True)
    assert db.session.get(Assignment, assignment.id).title == "学习十项准则"
    response = client.post(f"/manage/study/assignments/{assignment.id}/edit", data={
        "title": "改名", "owner_unit_id": org.gen_a.id, "instructions": "",
        "due_at": "2030-01-01T10:00"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assignment = db.session.get(Assignment, assignment.id)
    assert assignment.title == "改名" and not assignment.requires_reflection
    assert assignment.due_at == datetime(2030, 1, 1, 2, 0)


# --- Scope -----------------------------------------------------------------------------

def _staff_urls(assignment_id):
    base = f"/manage/study/assignments/{assignment_id}"
    return [base, f"{base}/edit", f"{base}/items", f"{base}/audience", f"{base}/publish",
            f"{base}/readers"]


def test_another_units_assignment_answers_404(client, org, login, make_person,
                                              make_assignment):
    assignment = make_assignment(publish=False)
    other = make_person("sec_b", unit=org.gen_b, role=Role.SECRETARY, manages=[org.gen_b])
    login(other)
    for url in _staff_urls(assignment.id):
        assert client.get(url).status_code == 404, url
    for url in ("publish", "close", "remind", "items/remove"):
        assert client.post(f"/manage/study/assignments/{assignment.id}/{url}",
                           data={"item_id": 1}).status_code == 404, url
    assert "学习十项准则" not in client.get("/manage/study/assignments/").get_data(as_text=True)


def test_teacher_on_staff_urls_gets_403(client, org, login, make_assignment):
    assignment = make_assignment()
    login(org.teacher)
    for url in _staff_urls(assignment.id):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/manage/study/assignments/{assignment.id}/remind").status_code == 403


def test_another_units_material_cannot_be_added(client, org, login, make_person,
                                                make_material, make_assignment):
    secret = make_material("乙校内部资料", owner=org.gen_b)
    assignment = make_assignment(publish=False, actor=org.secretary)
    login(org.secretary)
    response = client.post(f"/manage/study/assignments/{assignment.id}/items/material",
                           data={"material_id": secret.id})
    assert response.status_code == 404
    assert len(db.session.get(Assignment, assignment.id).items) == 1


def test_unit_filter_outside_scope_answers_404(client, org, login, make_assignment):
    assignment = make_assignment()
    login(org.secretary)
    url = f"/manage/study/assignments/{assignment.id}/readers?unit={org.gen_b.id}"
    assert client.get(url).status_code == 404


# --- The owner's view ------------------------------------------------------------------

def _setup_states(org, make_person, make_assignment, make_material):
    """Five readers of 甲校第一支部 in each state (two branches for grouping)."""
    now = utcnow()
    material = make_material()
    group = org.branch_a
    people = {name: make_person(name=name, unit=group) for name in
              ("未开始者", "学习中者", "已完成者")}
    late_unit = org.gen_a
    people["逾期完成者"] = make_person(name="逾期完成者", unit=late_unit)
    past = make_assignment(materials=[material], title="过期任务",
                           audience={"unit_ids": [org.gen_a.id]},
                           now=now - timedelta(days=3))
    current = make_assignment(materials=[material], title="当前任务",
                              audience={"unit_ids": [org.gen_a.id]}, now=now)
    return now, material, people, past, current


def test_readers_page_shows_each_state_and_filters_by_it(client, org, login, make_person,
                                                         make_assignment, make_material):
    now, material, people, past, current = _setup_states(org, make_person, make_assignment,
                                                         make_material)
    add_progress(current, people["学习中者"], material, credited_ms=125_000)
    add_progress(current, people["已完成者"], material, completed_at=now)
    db.session.execute(sa.update(AssignmentRecipient).where(
        AssignmentRecipient.assignment_id == current.id,
        AssignmentRecipient.person_id == people["已完成者"].id).values(completed_at=now))
    db.session.commit()
    login(org.secretary)
    page = client.get(f"/manage/study/assignments/{current.id}/readers").get_data(as_text=True)
    assert 'data-state="in_progress"' in page and "2 min 05 s" in page
    assert 'data-state="completed"' in page and 'data-state="not_started"' in page
    assert 'data-figure="rate">16.7%<' in page  # 1 of 6, 四舍五入 (figures.rate)
    done = client.get(f"/manage/study/assignments/{current.id}/readers?state=completed")
    text = done.get_data(as_text=True)
    assert "已完成者" in text and "未开始者" not in text.split("</form>", 1)[1].split(
        "Not completed yet")[0] if "Not completed yet" in text else "未开始者" not in text
    # The past assignment: everyone not done is overdue; a completion after due is late.
    late = people["逾期完成者"]
    db.session.execute(sa.update(AssignmentRecipient).where(
        AssignmentRecipient.assignment_id == past.id,
        AssignmentRecipient.person_id == late.id).values(completed_at=now))
    db.session.commit()
    page = client.get(f"/manage/study/assignments/{past.id}/readers").get_data(as_text=True)
    assert 'data-state="completed_late"' in page and 'data-state="overdue"' in page
    assert 'data-state="not_started"' not in page


def test_behind_list_is_plain_text_grouped_by_unit(client, org, login, make_person,
                                                   make_assignment, make_material):
    now, material, people, past, current = _setup_states(org, make_person, make_assignment,
                                                         make_material)
    db.session.execute(sa.update(AssignmentRecipient).where(
        AssignmentRecipient.assignment_id == current.id,
        AssignmentRecipient.person_id == people["已完成者"].id).values(completed_at=now))
    db.session.commit()
    from studyhall.study.queries import get_behind_text

    text = get_behind_text(current, org.secretary, now)
    lines = text.splitlines()
    assert lines[0].startswith("《当前任务》") and "共 5 人" in lines[0]
    by_unit = dict(line.split("：", 1) for line in lines[1:])  # zh_CN outside a request
    assert set(by_unit) == {"甲校党总支", "甲校第一支部"}
    assert "已完成者" not in text
    assert "未开始者" in by_unit["甲校第一支部"] and "李老师" in by_unit["甲校第一支部"]
    assert by_unit["甲校党总支"].count("逾期完成者") == 1
    login(org.secretary)
    page = client.get(f"/manage/study/assignments/{current.id}/readers").get_data(as_text=True)
    assert "未开始者" in page and 'readonly' in page


def test_behind_list_in_chinese_uses_chinese_punctuation(client, org, login, make_person,
                                                         make_assignment):
    make_person("m9", unit=org.branch_a, name="王五")
    assignment = make_assignment()
    login(org.secretary)
    client.set_cookie("lang", "zh_CN")
    page = client.get(f"/manage/study/assignments/{assignment.id}/readers").get_data(
        as_text=True)
    assert "甲校第一支部：" in page and "、" in page


def test_reminders_record_who_was_reminded_when_and_by_whom(client, org, login, make_person,
                                                            make_assignment, make_material):
    now, material, people, past, current = _setup_states(org, make_person, make_assignment,
                                                         make_material)
    db.session.execute(sa.update(AssignmentRecipient).where(
        AssignmentRecipient.assignment_id == current.id,
        AssignmentRecipient.person_id == people["已完成者"].id).values(completed_at=now))
    db.session.commit()
    login(org.secretary)
    response = client.post(f"/manage/study/assignments/{current.id}/remind"
                           f"?unit={org.branch_a.id}")
    assert response.status_code == 302 and f"unit={org.branch_a.id}" in response.location
    reminded = db.session.scalars(sa.select(AssignmentReminder).where(
        AssignmentReminder.assignment_id == current.id)).all()
    names = {db.session.get(type(org.teacher), r.person_id).name for r in reminded}
    assert names == {"未开始者", "学习中者", "李老师"}  # branch_a only, not the one done
    assert {r.reminded_by_id for r in reminded} == {org.secretary.id}
    page = client.get(f"/manage/study/assignments/{current.id}/readers").get_data(as_text=True)
    assert "Reminders recorded" in page and "王书记" in page and "1 times" in page


def test_checkpoint_and_reflection_columns(client, org, login, make_assignment, make_material,
                                           make_quiz):
    make_quiz()  # a bank question to place
    material = make_material()
    from studyhall.bank.models import Question

    question = db.session.scalar(sa.select(Question))
    checkpoint = MaterialCheckpoint(version_id=material.current_version_id, question_id=question.id,
                                    type=question.type, config={})
    db.session.add(checkpoint)
    db.session.commit()
    assignment = make_assignment(materials=[material], requires_reflection=True,
                                 reflection_min_chars=100)
    db.session.add(CheckpointAnswer(assignment_id=assignment.id, person_id=org.teacher.id,
                                    checkpoint_id=checkpoint.id, response="A", is_correct=True))
    db.session.add(Reflection(assignment_id=assignment.id, person_id=org.teacher.id,
                              status=ReflectionStatus.SUBMITTED, body="心得"))
    db.session.commit()
    login(org.admin)
    page = client.get(f"/manage/study/assignments/{assignment.id}/readers").get_data(
        as_text=True)
    assert "1 / 1" in page and "Awaiting review" in page
    assert 'data-state="in_progress"' in page  # a reflection draft counts as started


def test_readers_page_runs_the_same_queries_for_5_or_50(client, org, login, make_person,
                                                        make_assignment, make_material,
                                                        count_queries):
    """Not N+1: the page of 50 readers (with progress, answers and reminders on half of
    them) runs exactly the statements of the page of 5."""
    material = make_material()
    people = [make_person(name=f"读者{i}", unit=org.branch_a) for i in range(50)]
    counts = {}
    for size in (5, 50):
        chosen = people[:size]
        assignment = make_assignment(materials=[material], title=f"任务{size}",
                                     audience={"person_ids": [p.id for p in chosen]})
        for person in chosen[: size // 2]:
            add_progress(assignment, person, material)
            db.session.add(AssignmentReminder(assignment_id=assignment.id,
                                              person_id=person.id, reminded_by_id=org.admin.id))
        db.session.commit()
        login(org.admin)
        with count_queries() as statements:
            page = client.get(f"/manage/study/assignments/{assignment.id}/readers")
        assert page.get_data(as_text=True).count("data-person=") == size
        counts[size] = len(statements)
        client.post("/logout")
    assert counts[5] == counts[50], counts


# --- The to-do list ----------------------------------------------------------------------

def test_one_todo_list_across_assignments_and_quizzes(client, org, login, make_assignment,
                                                      make_material, make_quiz):
    now = utcnow()
    soon = make_assignment(title="明天到期", now=now - timedelta(hours=20))
    later = make_assignment(title="下周到期", due_at=now + timedelta(days=7))
    overdue = make_assignment(title="已逾期", now=now - timedelta(days=3))
    done = make_assignment(title="已学完")
    db.session.execute(sa.update(AssignmentRecipient).where(
        AssignmentRecipient.assignment_id == done.id).values(completed_at=now))
    make_assignment(title="未开始的任务", now=now + timedelta(days=2))  # starts later
    quiz = make_quiz()  # closes in an hour
    db.session.commit()
    todo = get_todo(org.teacher, now)
    assert [i.title for i in todo.pending] == ["已逾期", quiz.title, "明天到期", "下周到期"]
    assert todo.pending[0].overdue and not todo.pending[2].overdue
    assert [i.title for i in todo.done] == ["已学完"]
    assert count_todo(org.teacher, now) == 4
    login(org.teacher)
    page = client.get("/").get_data(as_text=True)
    assert page.index("已逾期") < page.index(quiz.title) < page.index("明天到期")
    assert "Was due" in page and 'class="count"' in page and ">4</span>" in page
    assert page.index("已学完") > page.index("<details")  # done items are folded
    assert "未开始的任务" not in page
    assert soon.id and later.id and overdue.id


def test_quiz_given_through_an_assignment_is_listed_under_it(app, org, make_assignment,
                                                             make_quiz, make_person):
    from studyhall.quizzes.models import QuizRecipient

    newcomer = make_person("n1", unit=org.branch_a, name="新人")
    quiz = make_quiz(audience={"person_ids": [org.teacher.id]})
    now = utcnow()
    assignment = ops.create_assignment(org.admin, {
        "title": "学习加测试", "owner_unit_id": org.gen_a.id, "starts_at": now - timedelta(hours=1),
        "due_at": now + timedelta(days=1)})
    ops.add_quiz(assignment, quiz)
    ops.set_audience(assignment, {"unit_ids": [org.branch_a.id]})
    ops.publish_assignment(org.admin, assignment, now)
    db.session.commit()
    # The reader not yet in the quiz is added; the one already in it stays once.
    assert db.session.get(QuizRecipient, (quiz.id, newcomer.id)) is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizRecipient).where(
        QuizRecipient.quiz_id == quiz.id, QuizRecipient.person_id == org.teacher.id)) == 1
    todo = get_todo(newcomer, now)
    assert [i.title for i in todo.pending] == ["学习加测试"]
    assert count_todo(newcomer, now) == 1


def test_staff_menu_has_the_study_pages(client, org, login):
    login(org.secretary)
    page = client.get("/").get_data(as_text=True)
    assert "/manage/study/materials/" in page and "/manage/study/assignments/" in page
    assert client.get("/manage/study/assignments/").status_code == 200
