"""Reflections (心得体会): draft autosave, submission with a minimum in 字数, review with
return and resubmit, 优秀 shared with the unit, the similarity flag, and the attacks: a
stranger's ids, a teacher on staff URLs, a stale tab, a double submit, hostile text."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.figures import rate_value
from studyhall.org.models import Role
from studyhall.study import reflections as ops
from studyhall.study.models import (
    AssignmentStatus,
    Reflection,
    ReflectionStatus,
    ReflectionVersion,
)
from studyhall.study.reflection_targets import AssignmentTarget
from studyhall.study.similarity import FLAG_AT
from studyhall.study.text import count_length
from tests.app.study_fixtures_s3 import *  # noqa: F401,F403  (fixtures)
from tests.factories import PASSWORD
from tests.unit.reflection_samples import COPIED, FROM_MATERIAL, HONEST, HONEST2

TEXT = "通过学习十项准则，我认识到教师要坚定政治方向、潜心教书育人，关心爱护每一名学生。" * 3
REVISED = TEXT + "今后我要每学期走访十户家庭，把师德要求落实到日常工作的每一个细节里。"


@pytest.fixture()
def as_(app):
    """A logged-in client (English) for each person, so tests can switch people."""
    clients = {}

    def get(person):
        if person.id not in clients:
            client = app.test_client()
            client.set_cookie("lang", "en")
            reply = client.post("/login", data={"account": person.account, "password": PASSWORD})
            assert reply.status_code == 302
            clients[person.id] = client
        return clients[person.id]

    return get


def page_url(assignment):
    return f"/study/assignments/{assignment.id}/reflection"


def save_draft(client, assignment, body, based_on=0):
    return client.post(page_url(assignment) + "/draft", json={"body": body, "based_on": based_on})


def submit(client, assignment, body, based_on=0):
    return client.post(page_url(assignment) + "/submit", data={"body": body,
                                                              "based_on": based_on})


def review(client, reflection_id, version, decision, comment="", excellent=False):
    data = {"version": version, "decision": decision, "comment": comment}
    if excellent:
        data["excellent"] = "y"
    return client.post(f"/manage/study/reflections/{reflection_id}/review", data=data)


def reflection_of(person, assignment) -> Reflection | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Reflection).where(
        Reflection.person_id == person.id, Reflection.assignment_id == assignment.id))


def flashes(response) -> str:
    return response.get_data(as_text=True)


# ---- writing ---------------------------------------------------------------------------

def test_an_expected_reader_opens_the_writing_page(as_, org, assignment):
    page = as_(org.teacher).get(page_url(assignment))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "学习十项准则" in text and "at least 50 characters" in text
    assert 'id="body"' in text and "js/reflection.js" in text


def test_others_and_unpublished_or_reflectionless_assignments_are_404(as_, org,
                                                                      make_assignment):
    published = make_assignment()
    draft = make_assignment(status=AssignmentStatus.DRAFT)
    no_reflection = make_assignment(requires_reflection=False)
    outsider = as_(org.outsider)
    assert outsider.get(page_url(published)).status_code == 404
    assert save_draft(outsider, published, TEXT).status_code == 404
    assert submit(outsider, published, TEXT).status_code == 404
    teacher = as_(org.teacher)
    for assignment in (draft, no_reflection):
        assert teacher.get(page_url(assignment)).status_code == 404
        assert save_draft(teacher, assignment, TEXT).status_code == 404
    assert teacher.get("/study/assignments/999999/reflection").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reflection)) == 0


def test_the_draft_is_autosaved_and_counted(as_, org, assignment):
    client = as_(org.teacher)
    reply = save_draft(client, assignment, "学习心得，第一稿。Hello world")
    assert reply.status_code == 200
    data = reply.get_json()
    assert data["ok"] is True and data["count"] == 9 and data["saved_at"].endswith("Z")
    assert re.fullmatch(r"\d\d:\d\d", data["saved_time"])
    reply = save_draft(client, assignment, TEXT)
    assert reply.get_json()["count"] == count_length(TEXT)
    reflection = reflection_of(org.teacher, assignment)
    assert reflection.body == TEXT and reflection.status is ReflectionStatus.DRAFT
    assert reflection.versions == []
    assert TEXT in client.get(page_url(assignment)).get_data(as_text=True)


@pytest.mark.parametrize("payload, status", [
    ({"based_on": 0}, 400),
    ({"body": 5, "based_on": 0}, 400),
    ({"body": "x", "based_on": "0"}, 400),
    ({"body": "x", "based_on": True}, 400),
    ({"body": "x" * (ops.MAX_BODY_CHARS + 1), "based_on": 0}, 422),
])
def test_malformed_drafts_are_refused(as_, org, assignment, payload, status):
    reply = as_(org.teacher).post(page_url(assignment) + "/draft", json=payload)
    assert reply.status_code == status
    assert reflection_of(org.teacher, assignment) is None


def test_a_non_json_draft_is_refused(as_, org, assignment):
    reply = as_(org.teacher).post(page_url(assignment) + "/draft", data="body=x",
                                  content_type="application/x-www-form-urlencoded")
    assert reply.status_code == 400


def test_hostile_text_is_stored_clean_and_shown_escaped(as_, org, assignment):
    client = as_(org.teacher)
    body = "<script>alert(1)</script>学习\x00心得\ud800\r\n第二行" + TEXT
    assert save_draft(client, assignment, body).status_code == 200
    stored = reflection_of(org.teacher, assignment).body
    assert "\x00" not in stored and "\ud800" not in stored and "\r" not in stored
    assert stored.startswith("<script>alert(1)</script>学习心得\n第二行")
    page = client.get(page_url(assignment)).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_below_the_minimum_submission_is_refused_and_the_text_kept(as_, org, make_assignment):
    assignment = make_assignment(min_chars=20)
    client = as_(org.teacher)
    # 19 字 and plenty of punctuation and spaces, which are not counted
    short = "学习十项准则，我认识到：教师要坚定政治方向！！！  ……  “”"
    assert count_length(short) == 19
    reply = submit(client, assignment, short)
    assert reply.status_code == 302
    page = client.get(reply.location).get_data(as_text=True)
    assert "Too short to submit: 19 characters, at least 20 are needed" in page
    assert "punctuation and spaces are not counted" in page
    reflection = reflection_of(org.teacher, assignment)
    assert reflection.status is ReflectionStatus.DRAFT and reflection.versions == []
    assert reflection.body == short  # kept as the draft
    assert submit(client, assignment, short + "。字").status_code == 302
    reflection = reflection_of(org.teacher, assignment)
    assert reflection.status is ReflectionStatus.SUBMITTED
    assert [v.char_count for v in reflection.versions] == [20]


def test_an_empty_reflection_is_never_submitted_even_without_a_minimum(as_, org,
                                                                      make_assignment):
    assignment = make_assignment(min_chars=0)
    submit(as_(org.teacher), assignment, "  。，  ")
    assert reflection_of(org.teacher, assignment).versions == []


def test_submitting_keeps_a_version_and_stops_the_draft(as_, org, assignment):
    client = as_(org.teacher)
    save_draft(client, assignment, "草稿")
    reply = submit(client, assignment, TEXT)
    assert "Submitted. Your reviewer will read it." in flashes(client.get(reply.location))
    reflection = reflection_of(org.teacher, assignment)
    assert reflection.status is ReflectionStatus.SUBMITTED and reflection.body == TEXT
    (version,) = reflection.versions
    assert (version.number, version.body, version.decision) == (1, TEXT, None)
    refused = save_draft(client, assignment, "改一改", based_on=1)
    assert refused.status_code == 409 and refused.get_json()["error"] == "submitted"
    assert reflection_of(org.teacher, assignment).body == TEXT
    assert ops.has_submitted(org.teacher.id, assignment.id)
    assert not ops.has_submitted(org.outsider.id, assignment.id)


def test_a_double_submit_adds_one_version(as_, org, assignment):
    client = as_(org.teacher)
    submit(client, assignment, TEXT)
    second = submit(client, assignment, TEXT)
    assert second.status_code == 302
    assert "already been submitted" in flashes(client.get(second.location))
    assert len(reflection_of(org.teacher, assignment).versions) == 1


def test_a_stale_tab_never_overwrites_the_submitted_version(as_, org, assignment):
    """Tab A was opened on the draft (based_on 0); tab B submitted, the secretary returned
    it, and the writer is revising in tab B. Tab A's late autosave and submit change nothing."""
    teacher = as_(org.teacher)
    submit(teacher, assignment, TEXT)
    stale = save_draft(teacher, assignment, "旧页面里的草稿", based_on=0)
    assert stale.status_code == 409
    reflection = reflection_of(org.teacher, assignment)
    review(as_(org.secretary), reflection.id, 1, "returned", "请结合实际工作")
    save_draft(teacher, assignment, REVISED, based_on=1)
    stale = save_draft(teacher, assignment, "旧页面里的草稿", based_on=0)
    assert stale.status_code == 409 and stale.get_json()["error"] == "stale"
    assert submit(teacher, assignment, "旧页面里的草稿" * 20, based_on=0).status_code == 302
    reflection = reflection_of(org.teacher, assignment)
    assert reflection.body == REVISED and len(reflection.versions) == 1
    assert reflection.versions[0].body == TEXT
    assert reflection.status is ReflectionStatus.RETURNED


def test_a_closed_assignment_takes_no_more_writing(as_, org, assignment):
    client = as_(org.teacher)
    save_draft(client, assignment, TEXT)
    assignment.status = AssignmentStatus.CLOSED
    db.session.commit()
    reply = save_draft(client, assignment, "补写")
    assert reply.status_code == 409 and reply.get_json()["error"] == "closed"
    submit(client, assignment, TEXT)
    assert reflection_of(org.teacher, assignment).versions == []
    assert "can no longer be changed" in client.get(page_url(assignment)).get_data(as_text=True)


# ---- review ----------------------------------------------------------------------------

def test_return_and_resubmit_keep_every_version_with_its_review(as_, org, assignment):
    teacher, secretary = as_(org.teacher), as_(org.secretary)
    submit(teacher, assignment, TEXT)
    reflection = reflection_of(org.teacher, assignment)
    reply = review(secretary, reflection.id, 1, "returned", "请结合自己的教学实际再谈谈")
    assert reply.status_code == 302
    page = teacher.get(page_url(assignment)).get_data(as_text=True)
    assert "Returned for revision" in page and "请结合自己的教学实际再谈谈" in page
    assert "王书记" in page
    submit(teacher, assignment, REVISED, based_on=1)
    reflection = reflection_of(org.teacher, assignment)
    assert reflection.status is ReflectionStatus.SUBMITTED
    assert [(v.number, v.decision) for v in reflection.versions] == [(1, "returned"), (2, None)]
    review(secretary, reflection.id, 2, "accepted", "很好")
    reflection = reflection_of(org.teacher, assignment)
    assert reflection.status is ReflectionStatus.ACCEPTED
    first, second = reflection.versions
    assert (first.body, first.comment, first.reviewer_id) == (TEXT, "请结合自己的教学实际再谈谈",
                                                               org.secretary.id)
    assert (second.body, second.decision, second.comment) == (REVISED, "accepted", "很好")
    page = teacher.get(page_url(assignment)).get_data(as_text=True)
    assert "Accepted" in page and 'id="body"' not in page and "Version 1" in page


def test_a_return_needs_a_reason(as_, org, assignment):
    submit(as_(org.teacher), assignment, TEXT)
    reflection = reflection_of(org.teacher, assignment)
    reply = review(as_(org.secretary), reflection.id, 1, "returned", "   ")
    assert reply.status_code == 422
    assert "Say what to revise" in reply.get_data(as_text=True)
    assert reflection_of(org.teacher, assignment).status is ReflectionStatus.SUBMITTED


def test_a_stale_review_is_refused(as_, org, assignment):
    """The secretary's tab shows version 1; meanwhile it was returned (in another tab)
    and version 2 submitted. Accepting "version 1" must not accept version 2."""
    teacher, secretary = as_(org.teacher), as_(org.secretary)
    submit(teacher, assignment, TEXT)
    reflection_id = reflection_of(org.teacher, assignment).id
    review(secretary, reflection_id, 1, "returned", "再具体些")
    again = review(secretary, reflection_id, 1, "accepted")
    assert "already been reviewed" in flashes(secretary.get(again.location))
    submit(teacher, assignment, REVISED, based_on=1)
    stale = review(secretary, reflection_id, 1, "accepted", excellent=True)
    assert "A newer version was submitted" in flashes(secretary.get(stale.location))
    reflection = reflection_of(org.teacher, assignment)
    assert reflection.status is ReflectionStatus.SUBMITTED and not reflection.is_excellent
    assert reflection.versions[-1].decision is None


def test_teachers_cannot_open_review_urls(as_, org, assignment):
    submit(as_(org.teacher), assignment, TEXT)
    reflection_id = reflection_of(org.teacher, assignment).id
    teacher = as_(org.teacher)
    for url in ("/manage/study/reflections/", f"/manage/study/reflections/{reflection_id}",
                f"/manage/study/assignments/{assignment.id}/reflections"):
        assert teacher.get(url).status_code == 403
    assert review(teacher, reflection_id, 1, "accepted").status_code == 403
    assert teacher.post(f"/manage/study/reflections/{reflection_id}/excellent",
                          data={"excellent": "1"}).status_code == 403
    assert reflection_of(org.teacher, assignment).status is ReflectionStatus.SUBMITTED


def test_a_secretary_of_another_subtree_gets_404(as_, org, make_person, assignment):
    other = make_person("sec-b", unit=org.gen_b, role=Role.SECRETARY, manages=[org.gen_b])
    submit(as_(org.teacher), assignment, TEXT)
    reflection_id = reflection_of(org.teacher, assignment).id
    client = as_(other)
    assert client.get(f"/manage/study/reflections/{reflection_id}").status_code == 404
    assert client.get(f"/manage/study/assignments/{assignment.id}/reflections").status_code == 404
    assert review(client, reflection_id, 1, "accepted").status_code == 404
    assert "学习十项准则" not in client.get("/manage/study/reflections/").get_data(as_text=True)
    assert client.get("/manage/study/reflections/999999").status_code == 404
    admin = as_(org.admin)
    assert admin.get(f"/manage/study/reflections/{reflection_id}").status_code == 200


def test_drafts_stay_private(as_, org, assignment):
    save_draft(as_(org.teacher), assignment, TEXT)
    reflection_id = reflection_of(org.teacher, assignment).id
    secretary = as_(org.secretary)
    assert secretary.get(f"/manage/study/reflections/{reflection_id}").status_code == 404
    queue = secretary.get(f"/manage/study/assignments/{assignment.id}/reflections?state=all")
    assert "李老师" not in queue.get_data(as_text=True)


def test_nobody_reviews_their_own_reflection(as_, org, make_assignment):
    assignment = make_assignment(audience={"unit_ids": [org.branch_a.id],
                                           "person_ids": [org.secretary.id]})
    secretary = as_(org.secretary)
    submit(secretary, assignment, TEXT)
    reflection = reflection_of(org.secretary, assignment)
    page = secretary.get(f"/manage/study/reflections/{reflection.id}").get_data(as_text=True)
    assert "You cannot review your own reflection." in page and "Save review" not in page
    reply = review(secretary, reflection.id, 1, "accepted", excellent=True)
    assert "You cannot review your own reflection." in flashes(secretary.get(reply.location))
    assert reflection_of(org.secretary, assignment).status is ReflectionStatus.SUBMITTED
    assert review(as_(org.admin), reflection.id, 1, "accepted").status_code == 302
    assert reflection_of(org.secretary, assignment).status is ReflectionStatus.ACCEPTED


def test_the_queue_filters_by_state(as_, org, make_person, make_assignment, colleague):
    third = make_person("t4", unit=org.branch_a, name="吴老师")
    assignment = make_assignment()
    for person in (org.teacher, colleague, third):
        submit(as_(person), assignment, TEXT + person.name)
    secretary = as_(org.secretary)
    review(secretary, reflection_of(colleague, assignment).id, 1, "returned", "再写写")
    review(secretary, reflection_of(third, assignment).id, 1, "accepted")
    url = f"/manage/study/assignments/{assignment.id}/reflections"
    expected = {"awaiting": "李老师", "returned": "周老师", "accepted": "吴老师"}
    for state, name in expected.items():
        page = secretary.get(f"{url}?state={state}").get_data(as_text=True)
        assert name in page
        assert not any(other in page for other in expected.values() if other != name)
    default = secretary.get(url).get_data(as_text=True)
    assert "李老师" in default and "周老师" not in default
    everyone = secretary.get(f"{url}?state=all").get_data(as_text=True)
    assert all(name in everyone for name in expected.values())
    listing = secretary.get("/manage/study/reflections/").get_data(as_text=True)
    assert "学习十项准则" in listing


# ---- 优秀 and sharing --------------------------------------------------------------------

def test_an_excellent_reflection_is_shared_with_the_unit_by_name(as_, org, assignment,
                                                                 colleague):
    submit(as_(org.teacher), assignment, TEXT)
    reflection_id = reflection_of(org.teacher, assignment).id
    secretary = as_(org.secretary)
    assert as_(colleague).get(f"/study/reflections/excellent/{reflection_id}").status_code == 404
    review(secretary, reflection_id, 1, "accepted", "写得真切", excellent=True)
    reflection = reflection_of(org.teacher, assignment)
    assert reflection.is_excellent and reflection.shared_at is not None
    listing = as_(colleague).get("/study/reflections/excellent").get_data(as_text=True)
    assert "李老师" in listing and "学习十项准则" in listing
    shown = as_(colleague).get(f"/study/reflections/excellent/{reflection_id}")
    assert shown.status_code == 200 and TEXT in shown.get_data(as_text=True)
    # 赵老师 is in 乙校, outside the owner unit's subtree
    outsider = as_(org.outsider)
    assert "李老师" not in outsider.get("/study/reflections/excellent").get_data(as_text=True)
    assert outsider.get(f"/study/reflections/excellent/{reflection_id}").status_code == 404
    secretary.post(f"/manage/study/reflections/{reflection_id}/excellent",
                   data={"excellent": "0"})
    assert not reflection_of(org.teacher, assignment).is_excellent
    assert as_(colleague).get(f"/study/reflections/excellent/{reflection_id}").status_code == 404


def test_only_accepted_reflections_are_marked_excellent(as_, org, assignment):
    submit(as_(org.teacher), assignment, TEXT)
    reflection_id = reflection_of(org.teacher, assignment).id
    secretary = as_(org.secretary)
    reply = review(secretary, reflection_id, 1, "returned", "再改改", excellent=True)
    assert reply.status_code == 422
    secretary.post(f"/manage/study/reflections/{reflection_id}/excellent",
                   data={"excellent": "1"})
    reflection = reflection_of(org.teacher, assignment)
    assert not reflection.is_excellent and reflection.status is ReflectionStatus.SUBMITTED


# ---- near-copies -----------------------------------------------------------------------

def test_a_copied_reflection_is_flagged_on_both_sides(as_, org, assignment, colleague):
    submit(as_(colleague), assignment, HONEST)
    submit(as_(org.teacher), assignment, COPIED)
    copy = reflection_of(org.teacher, assignment)
    original = reflection_of(colleague, assignment)
    assert copy.similarity >= FLAG_AT
    best = copy.similar_to["matches"][0]
    assert (best["kind"], best["name"], best["reflection_id"]) == ("reflection", "周老师",
                                                                   original.id)
    assert original.similarity >= FLAG_AT
    assert original.similar_to["matches"][0]["reflection_id"] == copy.id
    secretary = as_(org.secretary)
    queue = secretary.get(f"/manage/study/assignments/{assignment.id}/reflections")
    best = copy.similar_to["matches"][0]
    shown = rate_value(best["shared"], best["of"])
    assert f"Similar {shown}%" in queue.get_data(as_text=True)
    page = secretary.get(f"/manage/study/reflections/{copy.id}").get_data(as_text=True)
    assert "Possibly copied" in page and "周老师" in page


def test_independent_reflections_are_not_flagged(as_, org, assignment, colleague):
    submit(as_(colleague), assignment, HONEST)
    submit(as_(org.teacher), assignment, HONEST2)
    assert reflection_of(org.teacher, assignment).similarity < 0.2
    assert reflection_of(colleague, assignment).similarity < 0.2
    page = as_(org.secretary).get(
        f"/manage/study/reflections/{reflection_of(org.teacher, assignment).id}")
    assert "Possibly copied" not in page.get_data(as_text=True)


def test_text_taken_from_the_material_is_flagged(as_, org, assignment):
    submit(as_(org.teacher), assignment, FROM_MATERIAL)
    reflection = reflection_of(org.teacher, assignment)
    assert reflection.similarity >= FLAG_AT
    best = reflection.similar_to["matches"][0]
    assert best["kind"] == "material" and "十项准则" in best["title"]
    page = as_(org.secretary).get(f"/manage/study/reflections/{reflection.id}")
    assert "of this text is also in the material" in page.get_data(as_text=True)


def test_a_resubmission_is_compared_again(as_, org, assignment, colleague):
    teacher = as_(org.teacher)
    submit(as_(colleague), assignment, HONEST)
    submit(teacher, assignment, COPIED)
    review(as_(org.secretary), reflection_of(org.teacher, assignment).id, 1, "returned",
           "请用自己的话写")
    submit(teacher, assignment, HONEST2, based_on=1)
    assert reflection_of(org.teacher, assignment).similarity < 0.2


# ---- the writer's list -----------------------------------------------------------------

def test_my_reflections_lists_what_is_asked_of_me(as_, org, make_assignment):
    asked = make_assignment(title="学习处理办法")
    make_assignment(title="不需要心得的任务", requires_reflection=False)
    client = as_(org.teacher)
    submit(client, asked, TEXT)
    review(as_(org.secretary), reflection_of(org.teacher, asked).id, 1, "returned", "补充")
    page = client.get("/study/reflections/").get_data(as_text=True)
    assert "学习处理办法" in page and "不需要心得的任务" not in page
    assert "Returned for revision" in page
    assert "学习处理办法" not in as_(org.outsider).get("/study/reflections/").get_data(
        as_text=True)


def test_versions_are_numbered_per_reflection(as_, org, assignment, colleague):
    submit(as_(org.teacher), assignment, TEXT)
    submit(as_(colleague), assignment, REVISED)
    numbers = db.session.scalars(sa.select(ReflectionVersion.number)).all()
    assert sorted(numbers) == [1, 1]


# ---- no N+1 queries on the lists --------------------------------------------------------

FEW, MANY = 2, 8


@pytest.fixture()
def two_queues(app, org, make_unit, make_person, make_assignment, monkeypatch):
    """An assignment with FEW writers and one with MANY, each writer in a group of their
    own; every writer submitted, one in two was returned, the rest accepted as 优秀, each
    by a different reviewer."""
    from datetime import timedelta

    from studyhall.model_helpers import utcnow

    monkeypatch.setitem(app.config, "PEOPLE_PER_PAGE", 4 * MANY)
    now = utcnow()
    assignments = {}
    for n in (FEW, MANY):
        people = [make_person(unit=make_unit(f"{n}组{i}", org.branch_a), name=f"写{n}-{i}")
                  for i in range(n)]
        assignment = make_assignment(title=f"任务{n}", audience={"person_ids": [
            p.id for p in people]})
        target = AssignmentTarget(assignment)
        for i, person in enumerate(people):
            ops.submit(target, person, TEXT + person.name, 0, now)
            reviewer = make_person(f"rev{n}-{i}", unit=org.gen_a, role=Role.SECRETARY,
                                   manages=[org.gen_a])
            reflection = ops.get_reflection(target, person.id)
            ops.review(reflection, 1, reviewer, "returned" if i % 2 else "accepted", "评语",
                       now + timedelta(minutes=i), excellent=not i % 2)
        db.session.commit()
        assignments[n] = assignment
    return assignments


def same_count(count_queries, client, few_url, many_url):
    client.get(few_url)
    with count_queries() as few:
        assert client.get(few_url).status_code == 200
    with count_queries() as many:
        assert client.get(many_url).status_code == 200
    assert len(many) == len(few), f"{few}\n\n{many}"


def test_the_review_queue_and_shared_list_query_the_same_for_more_rows(
        as_, org, two_queues, count_queries):
    few, many = (two_queues[n].id for n in (FEW, MANY))
    secretary = as_(org.secretary)
    same_count(count_queries, secretary,
               f"/manage/study/assignments/{few}/reflections?state=all",
               f"/manage/study/assignments/{many}/reflections?state=all")
    page = secretary.get(f"/manage/study/assignments/{many}/reflections?state=all")
    assert page.get_data(as_text=True).count("写8-") == MANY
    same_count(count_queries, as_(org.teacher), f"/study/reflections/excellent?assignment={few}",
               f"/study/reflections/excellent?assignment={many}")


def test_my_reflections_query_the_same_for_more_assignments(as_, org, make_person,
                                                            make_assignment, count_queries,
                                                            app, monkeypatch):
    monkeypatch.setitem(app.config, "PEOPLE_PER_PAGE", 4 * MANY)
    writers = {n: make_person(f"w{n}", unit=org.branch_a) for n in (FEW, MANY)}
    for n, writer in writers.items():
        for i in range(n):
            assignment = make_assignment(title=f"任务{n}-{i}",
                                         audience={"person_ids": [writer.id]})
            if i % 2:
                save_draft(as_(writer), assignment, TEXT)
    client_few, client_many = as_(writers[FEW]), as_(writers[MANY])
    client_few.get("/study/reflections/")
    client_many.get("/study/reflections/")
    with count_queries() as few:
        client_few.get("/study/reflections/")
    with count_queries() as many:
        client_many.get("/study/reflections/")
    assert len(many) == len(few), f"{few}\n\n{many}"


# ---- the same reflections on a study session (issue 11) --------------------------------

def test_a_session_is_a_target_like_an_assignment(as_, org, colleague, make_session,
                                                  make_assignment):
    """Drafts, submission, the stale guard, review, similarity and sharing run unchanged
    on a session; its reflections never mix with an assignment's."""
    from datetime import timedelta

    from studyhall.model_helpers import utcnow
    from studyhall.study.reflection_targets import SessionTarget, target_of

    session = make_session(minutes=FROM_MATERIAL)
    assignment = make_assignment()
    target, now = SessionTarget(session), utcnow()
    assert target.is_writer(org.teacher) and not target.is_writer(org.outsider)
    ops.save_draft(target, org.teacher, "草稿", 0, now)
    ops.submit(target, org.teacher, FROM_MATERIAL, 0, now)
    ops.submit(AssignmentTarget(assignment), org.teacher, HONEST, 0, now)
    db.session.commit()
    on_session = ops.get_reflection(target, org.teacher.id)
    assert (on_session.session_id, on_session.assignment_id) == (session.id, None)
    assert isinstance(target_of(on_session), SessionTarget)
    # copied from the session's own minutes
    assert on_session.similar_to["matches"][0]["kind"] == "session"
    assert reflection_of(org.teacher, assignment).similarity < 0.2
    with pytest.raises(ops.ReflectionError) as stale:
        ops.save_draft(target, org.teacher, "旧页面", 0, now)
    assert stale.value.code == "submitted"
    ops.review(on_session, 1, org.secretary, "accepted", "好", now + timedelta(minutes=1),
               excellent=True)
    db.session.commit()
    secretary = as_(org.secretary)
    page = secretary.get(f"/manage/study/reflections/{on_session.id}")
    assert page.status_code == 200 and "主题党日：学习十项准则" in page.get_data(as_text=True)
    listing = as_(colleague).get("/study/reflections/excellent").get_data(as_text=True)
    assert "主题党日：学习十项准则" in listing and "李老师" in listing
    assert as_(org.outsider).get(f"/study/reflections/excellent/{on_session.id}").status_code \
        == 404
