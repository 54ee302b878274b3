"""Checkpoint questions: placed in a version's text by its owners, answered by readers
as they read and graded at once with 解析, required before 我已学完, never 保密, never a
leak of an open exam's key; the owner sees how each reader answered."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

import question_bank as qb
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Role
from studyhall.quizzes.models import QuizStatus
from studyhall.study import checkpoints
from studyhall.study.models import CheckpointAnswer, MaterialKind, ReadingProgress
from tests.app.study_fixtures_s2 import *  # noqa: F403  (fixtures)
from tests.app.study_fixtures_s2 import BLOCKS, BODY_HTML, add_version, progress_of


def page_url(study_):
    return f"/study/assignments/{study_.assignment.id}/materials/{study_.material.id}"


def answer_url(study_, checkpoint):
    return f"/study/assignments/{study_.assignment.id}/checkpoints/{checkpoint.id}"


def place(study_, bank, kind="single", anchor=2, version=None):
    checkpoint = checkpoints.place_checkpoint(version or study_.version, bank[kind].id, anchor)
    db.session.commit()
    return checkpoint


def post_answer(client, study_, checkpoint, response):
    values = response if isinstance(response, list) else [response]
    return client.post(answer_url(study_, checkpoint), data={"response": values},
                       headers={"Accept": "application/json"})


# --- blocks -----------------------------------------------------------------------------

def test_checkpoints_use_the_blocks_materials_store():
    assert checkpoints.split_blocks(BODY_HTML) == BLOCKS
    assert checkpoints.split_blocks("") == []


# --- placing ----------------------------------------------------------------------------

def test_objective_questions_are_placed_as_they_are_now(study, bank):
    checkpoint = place(study, bank, "multiple", anchor=4)
    assert checkpoint.anchor == 4 and checkpoint.type == "multiple"
    assert checkpoint.config["stem"] == "属于党的纪律的有？"
    bank["multiple"].stem = "改过的题干"
    db.session.commit()
    assert checkpoints.question_of(checkpoint).stem == "属于党的纪律的有？"


@pytest.mark.parametrize(("case", "code"), [
    ("short_answer", "not_placeable"), ("deleted", "not_placeable"),
    ("duplicate", "duplicate"), ("anchor", "bad_anchor"), ("negative", "bad_anchor"),
])
def test_what_cannot_be_placed(study, bank, case, code):
    kind, anchor = "single", 1
    if case == "short_answer":
        kind = "short_answer"
    elif case == "deleted":
        bank["single"].is_deleted = True
        db.session.commit()
    elif case == "duplicate":
        place(study, bank, "single")
    elif case == "anchor":
        anchor = 5   # four blocks
    elif case == "negative":
        anchor = -1
    with pytest.raises(checkpoints.CheckpointError) as refused:
        checkpoints.place_checkpoint(study.version, bank[kind].id, anchor)
    assert refused.value.code == code


def test_at_most_ten_checkpoints_per_version(study, bank):
    from studyhall.bank import operations as bank_ops

    for n in range(checkpoints.MAX_PER_VERSION):
        row = bank_ops.save_question(None, qb.Question(type="true_false", stem=f"判断题{n}",
                                                       answer=True), bank["single"].category)
        checkpoints.place_checkpoint(study.version, row.id, 1)
    db.session.commit()
    with pytest.raises(checkpoints.CheckpointError) as refused:
        checkpoints.place_checkpoint(study.version, bank["single"].id, 1)
    assert refused.value.code == "too_many"


def _mark_confidential(question):
    """Mark the category above the question's own 保密, so the rule must reach down."""
    category = question.category.parent or question.category
    category.is_confidential = True
    db.session.commit()


def test_a_confidential_question_is_neither_offered_nor_placed(study, bank):
    _mark_confidential(bank["single"])
    offered = db.session.scalars(checkpoints.query_placeable_questions()).all()
    assert bank["single"] not in offered and bank["multiple"] not in offered
    with pytest.raises(checkpoints.CheckpointError) as refused:
        checkpoints.place_checkpoint(study.version, bank["single"].id, 1)
    assert refused.value.code == "not_placeable"


def test_a_question_marked_confidential_after_placing_keeps_its_key(client, login_as, org,
                                                                   study, bank):
    checkpoint = place(study, bank, "single")
    _mark_confidential(bank["single"])
    login_as(org.teacher)
    page = client.get(page_url(study)).get_data(as_text=True)
    reply = post_answer(client, study, checkpoint, "B")
    assert reply.status_code == 200
    body = reply.get_data(as_text=True) + page
    assert "预备期为一年。" not in body and "党章第七条" not in body


def test_copying_checkpoints_to_a_new_version(study, bank):
    place(study, bank, "single", anchor=4)
    new = add_version(study.material, "修订版", body_html="<p>只有一段</p>")
    assert checkpoints.copy_checkpoints(study.version, new) == 1
    assert [(cp.question_id, cp.anchor) for cp in new.checkpoints] == [(bank["single"].id, 1)]


# --- answering --------------------------------------------------------------------------

def test_the_page_shows_checkpoints_after_their_block(client, login_as, org, study, bank):
    checkpoint = place(study, bank, "single", anchor=2)
    login_as(org.teacher)
    html = client.get(page_url(study)).get_data(as_text=True)
    at = html.index(f'id="cp-{checkpoint.id}"')
    assert html.index("党员必须遵守党的纪律。") < at < html.index("行为规则")
    assert "预备期为一年" not in html    # no key or 解析 before answering
    assert 'value="A"' in html and "disabled" in html


def test_an_answer_is_graded_at_once_with_its_explanation(client, login_as, org, study, bank):
    checkpoint = place(study, bank, "single")
    login_as(org.teacher)
    client.get(page_url(study))
    reply = post_answer(client, study, checkpoint, "B")
    assert reply.status_code == 200
    assert reply.json["correct"] is False and reply.json["unanswered"] == 0
    assert "预备期为一年。" in reply.json["html"] and "党章第七条" in reply.json["html"]
    # The first answer stands: answering again changes nothing.
    again = post_answer(client, study, checkpoint, "A")
    assert again.json["correct"] is False
    stored = db.session.scalars(sa.select(CheckpointAnswer)).all()
    assert [(a.response, a.is_correct) for a in stored] == [("B", False)]


@pytest.mark.parametrize(("kind", "response", "correct"), [
    ("single", "a", True), ("multiple", ["A", "B"], True), ("multiple", ["A"], False),
    ("true_false", "true", True), ("true_false", "false", False),
    ("fill_blank", "全国代表大会", True), ("fill_blank", "中央委员会", False),
])
def test_each_objective_type_is_graded(client, login_as, org, study, bank, kind, response,
                                       correct):
    checkpoint = place(study, bank, kind)
    login_as(org.teacher)
    client.get(page_url(study))
    assert post_answer(client, study, checkpoint, response).json["correct"] is correct


@pytest.mark.parametrize(("kind", "response"), [
    ("single", "D"), ("single", ""), ("single", ["A", "B"]), ("multiple", "Z"),
    ("true_false", "maybe"), ("fill_blank", ""), ("fill_blank", "长" * 201),
])
def test_malformed_answers_are_refused_and_not_kept(client, login_as, org, study, bank, kind,
                                                    response):
    checkpoint = place(study, bank, kind)
    login_as(org.teacher)
    client.get(page_url(study))
    reply = post_answer(client, study, checkpoint, response)
    assert reply.status_code == 422 and reply.json["ok"] is False
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckpointAnswer)) == 0


def test_without_script_the_answer_posts_and_returns_to_the_question(client, login_as, org,
                                                                    study, bank):
    checkpoint = place(study, bank, "true_false")
    login_as(org.teacher)
    client.get(page_url(study))
    response = client.post(answer_url(study, checkpoint), data={"response": "true"})
    assert response.status_code == 302 and response.location.endswith(f"#cp-{checkpoint.id}")
    html = client.get(page_url(study)).get_data(as_text=True)
    assert "党章规定。" in html and "Right" in html


def test_only_the_readers_own_version_and_assignment(client, login_as, org, study, bank,
                                                     make_material, make_assignment):
    checkpoint = place(study, bank, "single")
    login_as(org.teacher)
    # Not opened yet: no version to answer in.
    assert post_answer(client, study, checkpoint, "A").status_code == 404
    client.get(page_url(study))
    # A checkpoint of a newer version than the one this reader reads.
    newer = add_version(study.material, "新版")
    other = place(study, bank, "true_false", version=newer)
    assert post_answer(client, study, other, "true").status_code == 404
    # Another assignment the teacher is not a reader of.
    foreign = make_assignment([study.material], readers=[org.outsider])
    assert client.post(f"/study/assignments/{foreign.id}/checkpoints/{checkpoint.id}",
                       data={"response": "A"}).status_code == 404
    login_as(org.outsider)
    assert post_answer(client, study, checkpoint, "A").status_code == 404


def test_completion_needs_every_checkpoint_answered(client, login_as, org, study, bank):
    """Reading to the end is not enough: the questions in the text must be answered."""
    checkpoint = place(study, bank, "single")
    login_as(org.teacher)
    client.get(page_url(study))
    db.session.execute(sa.update(ReadingProgress.__table__).values(credited_ms=600_000))
    db.session.commit()
    response = client.post(page_url(study) + "/complete", follow_redirects=True)
    assert "Answer the questions in the text first" in response.get_data(as_text=True)
    assert progress_of(study.assignment, org.teacher, study.material).completed_at is None
    post_answer(client, study, checkpoint, "C")   # a wrong answer still answers it
    client.post(page_url(study) + "/complete")
    assert progress_of(study.assignment, org.teacher, study.material).completed_at is not None


def test_an_open_exams_key_is_not_shown(client, login_as, org, make_quiz, make_material,
                                        make_assignment):
    """The same bank question in an exam the reader has not finished: the checkpoint
    records the answer but shows neither key nor 解析 until the exam closes."""
    quiz = make_quiz()
    material = make_material()
    assignment = make_assignment([material])
    study_ = type("S", (), {"assignment": assignment, "material": material,
                            "version": material.current_version})
    checkpoint = checkpoints.place_checkpoint(study_.version, make_quiz.question_ids[0], 1)
    db.session.commit()
    login_as(org.teacher)
    client.get(page_url(study_))
    reply = post_answer(client, study_, checkpoint, "A")
    assert reply.json["correct"] is None
    assert "解析甲" not in reply.json["html"] and "出处甲" not in reply.json["html"]
    assert "解析甲" not in client.get(page_url(study_)).get_data(as_text=True)
    quiz.status = QuizStatus.CLOSED
    quiz.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert "解析甲" in client.get(page_url(study_)).get_data(as_text=True)


def test_checkpoints_of_a_link_follow_the_material(client, login_as, org, bank, make_material,
                                                   make_assignment):
    material = make_material("视频", body_html="", kind=MaterialKind.VIDEO,
                             url="https://example.org/v")
    assignment = make_assignment([material])
    study_ = type("S", (), {"assignment": assignment, "material": material,
                            "version": material.current_version})
    checkpoint = place(study_, bank, "single", anchor=0)
    login_as(org.teacher)
    html = client.get(page_url(study_)).get_data(as_text=True)
    assert html.index("https://example.org/v") < html.index(f'id="cp-{checkpoint.id}"')


# --- owners -----------------------------------------------------------------------------

def manage_url(study_):
    return f"/manage/study/materials/{study_.material.id}/checkpoints"


def test_the_owner_places_and_removes_checkpoints(client, login_as, org, study, bank):
    login_as(org.secretary)
    page = client.get(manage_url(study) + "?q=预备期")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "党员的预备期为几年" in html
    assert "简述三会一课" not in client.get(manage_url(study) + "?q=三会一课").get_data(
        as_text=True)
    response = client.post(manage_url(study), data={"question_id": bank["single"].id,
                                                    "anchor": 3})
    assert response.status_code == 302
    [checkpoint] = study.version.checkpoints
    assert checkpoint.anchor == 3
    assert "After paragraph 3" in client.get(manage_url(study)).get_data(as_text=True)
    refused = client.post(manage_url(study), data={"question_id": bank["short_answer"].id,
                                                   "anchor": 1}, follow_redirects=True)
    assert "cannot be used as a checkpoint" in refused.get_data(as_text=True)
    client.post(f"{manage_url(study)}/{checkpoint.id}/remove")
    db.session.expire_all()
    assert study.version.checkpoints == []


def test_an_answered_checkpoint_stays(client, login_as, org, study, bank):
    checkpoint = place(study, bank, "single")
    login_as(org.teacher)
    client.get(page_url(study))
    post_answer(client, study, checkpoint, "A")
    login_as(org.secretary)
    response = client.post(f"{manage_url(study)}/{checkpoint.id}/remove",
                           follow_redirects=True)
    assert "Readers have answered this checkpoint" in response.get_data(as_text=True)
    assert db.session.get(type(checkpoint), checkpoint.id) is not None


def test_who_may_manage_checkpoints(client, login_as, org, study, make_person, make_material):
    other_secretary = make_person("sec-b", unit=org.gen_b, role=Role.SECRETARY,
                                  manages=[org.gen_b])
    admins_material = make_material("管理员的资料", owner=org.top)
    login_as(org.teacher)
    assert client.get(manage_url(study)).status_code == 403
    assert client.get(f"/manage/study/assignments/{study.assignment.id}/checkpoints"
                      ).status_code == 403
    login_as(other_secretary)
    assert client.get(manage_url(study)).status_code == 404
    assert client.post(manage_url(study), data={"question_id": 1, "anchor": 0}
                       ).status_code == 404
    assert client.get(f"/manage/study/assignments/{study.assignment.id}/checkpoints"
                      ).status_code == 404
    login_as(org.secretary)
    assert client.get(f"/manage/study/materials/{admins_material.id}/checkpoints"
                      ).status_code == 404
    login_as(org.admin)
    assert client.get(manage_url(study)).status_code == 200


def test_owners_find_the_checkpoint_pages(client, login, org, study):
    login(org.secretary)
    assert manage_url(study) in client.get(f"/manage/study/materials/{study.material.id}"
                                           ).get_data(as_text=True)
    page = client.get(f"/manage/study/assignments/{study.assignment.id}").get_data(
        as_text=True)
    assert f"/manage/study/assignments/{study.assignment.id}/checkpoints" in page


def test_the_owner_sees_how_each_reader_answered(client, login_as, org, bank, make_person,
                                                 make_material, make_assignment):
    colleague = make_person("t3", unit=org.branch_a, name="钱老师")
    material = make_material()
    assignment = make_assignment([material], readers=[org.teacher, colleague, org.outsider])
    study_ = type("S", (), {"assignment": assignment, "material": material,
                            "version": material.current_version})
    checkpoint = place(study_, bank, "single")
    for person, response in ((org.teacher, "A"), (colleague, "C"), (org.outsider, "B")):
        login_as(person)
        client.get(page_url(study_))
        post_answer(client, study_, checkpoint, response)
    login_as(org.secretary)
    html = client.get(f"/manage/study/assignments/{assignment.id}/checkpoints").get_data(
        as_text=True)
    assert "李老师" in html and "钱老师" in html
    assert "赵老师" not in html   # outside the secretary's subtree
    assert "2 answered, 1 right" in html
    login_as(org.admin)
    html = client.get(f"/manage/study/assignments/{assignment.id}/checkpoints").get_data(
        as_text=True)
    assert "赵老师" in html and "3 answered, 1 right" in html


def test_pages_do_not_query_per_checkpoint_or_reader(client, login_as, org, bank, make_person,
                                                     make_material, make_assignment,
                                                     count_queries):
    few = make_material("一")
    many = make_material("多")
    checkpoints.place_checkpoint(few.current_version, bank["single"].id, 1)
    for kind in ("single", "multiple", "true_false", "fill_blank"):
        checkpoints.place_checkpoint(many.current_version, bank[kind].id, 2)
    db.session.commit()
    readers = [org.teacher] + [make_person(f"r{n}", unit=org.branch_a) for n in range(4)]
    small = make_assignment([few], readers=readers[:1])
    large = make_assignment([many], readers=readers)
    for person in readers:
        login_as(person)
        for assignment, material in ((small, few), (large, many)):
            if person is org.teacher or assignment is large:
                client.get(f"/study/assignments/{assignment.id}/materials/{material.id}")
                for cp in material.current_version.checkpoints:
                    client.post(f"/study/assignments/{assignment.id}/checkpoints/{cp.id}",
                                data={"response": "A"})
    login_as(org.teacher)
    with count_queries() as one:
        client.get(f"/study/assignments/{small.id}/materials/{few.id}")
    with count_queries() as four:
        client.get(f"/study/assignments/{large.id}/materials/{many.id}")
    assert len(four) == len(one), four
    login_as(org.secretary)
    with count_queries() as one:
        client.get(f"/manage/study/assignments/{small.id}/checkpoints")
    with count_queries() as five:
        html = client.get(f"/manage/study/assignments/{large.id}/checkpoints").get_data(
            as_text=True)
    assert len(five) == len(one), five
    assert "5 answered" in html
