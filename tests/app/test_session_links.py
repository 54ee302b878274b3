"""A session's linked materials and quizzes, and the plan item it carries out (issue 9,
items 1 and 6): picked on the session form among what the organiser may use, checked
again on the server, listed on the staff and the attendee's pages, audited once
published."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from studyhall.audit import AuditEntry
from studyhall.extensions import db
from studyhall.sessions import links, operations, plans
from studyhall.sessions.models import SessionKind, StudySession
from studyhall.sessions.operations import SessionError
from studyhall.study.models import MaterialKind
from tests.app.session_fixtures_e1 import *  # noqa: F403  (fixtures)
from tests.app.session_fixtures_e1 import SESSION_FORM, text
from tests.app.study_fixtures_s1 import *  # noqa: F401,F403  (make_material)


@pytest.fixture()
def library(branch, make_material, make_quiz):
    """A material of 甲校党总支 (above the branch), one of 乙校第一支部 (another unit,
    outside the secretary's scope), one of the branch itself; a quiz for the branch and a
    quiz only 吴老师 is expected to take."""
    quiz_branch = make_quiz(title="支部测试")
    quiz_wu = make_quiz(title="吴老师专项测试", audience={"person_ids": [branch.wu.id]})
    return type("Library", (), {
        "ours": make_material("党章学习", owner=branch.gen_a, actor=branch.secretary),
        "foreign": make_material("乙校资料", owner=branch.branch_b),
        "below": make_material("支部资料", owner=branch.branch_a, actor=branch.secretary),
        "quiz": quiz_branch, "quiz_wu": quiz_wu})


SESSION_START = datetime(2030, 3, 12, 6, 30)


def _form(branch, **extra):
    return {**SESSION_FORM, "owner_unit_id": str(branch.branch_a.id), **extra}


def test_the_form_links_materials_and_quizzes_listed_on_both_pages(
        client, login, branch, library):
    login(branch.secretary)
    page = text(client.get("/manage/sessions/new"))
    assert "党章学习" in page and "支部测试" in page
    assert "乙校资料" not in page  # another unit's material is not offered
    response = client.post("/manage/sessions/new", data=_form(
        branch, material_ids=[str(library.ours.id)],
        quiz_ids=[str(library.quiz.id), str(library.quiz_wu.id)]))
    assert response.status_code == 302, text(response)
    session = db.session.scalar(sa.select(StudySession))
    assert links.get_material_ids(session) == [library.ours.id]
    assert links.get_quiz_ids(session) == sorted([library.quiz.id, library.quiz_wu.id])
    staff = text(client.get(f"/manage/sessions/{session.id}"))
    assert "党章学习" in staff and "支部测试" in staff and "吴老师专项测试" in staff
    operations.publish_session(branch.secretary, session)
    db.session.commit()

    client.post("/logout")
    login(branch.teacher)
    mine = text(client.get(f"/sessions/{session.id}"))
    reader = f"/sessions/{session.id}/materials/{library.ours.id}"
    assert reader in mine
    assert f"/quizzes/{library.quiz.id}" in mine
    # A linked quiz whose audience does not hold the attendee is not listed at all.
    assert "吴老师专项测试" not in mine and f"/quizzes/{library.quiz_wu.id}" not in mine
    read = client.get(reader)
    assert read.status_code == 200 and "坚定政治方向" in text(read)
    # Only linked materials, only for the session's attendees.
    assert client.get(f"/sessions/{session.id}/materials/{library.below.id}").status_code == 404
    client.post("/logout")
    login(branch.wu)
    assert "吴老师专项测试" in text(client.get(f"/sessions/{session.id}"))
    client.post("/logout")
    login(branch.outsider)
    assert client.get(reader).status_code == 404


def test_another_units_material_or_quiz_is_refused(client, login, branch, library,
                                                    make_quiz):
    login(branch.secretary)
    for field, value in (("material_ids", library.foreign.id),
                         # The branch's own material: members of the general branch's
                         # other units could not read it at a general-branch session.
                         ("material_ids", library.below.id)):
        data = _form(branch, owner_unit_id=str(branch.gen_a.id), **{field: [str(value)]})
        response = client.post("/manage/sessions/new", data=data)
        assert response.status_code == 200
        assert 'id="material_ids-error"' in text(response)
    assert db.session.scalar(sa.select(sa.func.count(StudySession.id))) == 0
    # Forged past the form, the operation refuses it as well.
    foreign_quiz = make_quiz(title="乙校测试", owner_unit_id=branch.gen_b.id,
                             audience={"unit_ids": [branch.branch_b.id]})
    values = {"kind": SessionKind.BRANCH_MEETING, "owner_unit_id": branch.branch_a.id,
              "topic": "t", "starts_at": SESSION_START, "ends_at": SESSION_START
              + timedelta(hours=1), "place": "p"}
    for extra in ({"material_ids": [library.foreign.id]}, {"quiz_ids": [foreign_quiz.id]}):
        with pytest.raises(SessionError):
            operations.create_session(branch.secretary, {**values, **extra})
        db.session.rollback()


def test_changing_the_links_of_a_published_session_is_audited(branch, library,
                                                               make_session):
    session = make_session("published", material_ids=[library.ours.id])
    assert links.get_material_ids(session) == [library.ours.id]
    operations.update_session(branch.secretary, session, {
        "material_ids": [], "quiz_ids": [library.quiz.id]})
    db.session.commit()
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "session.update", AuditEntry.target_id == session.id))
    assert entry.details["changes"] == {"material_ids": [[library.ours.id], []],
                                        "quiz_ids": [[], [library.quiz.id]]}
    assert links.get_material_ids(session) == []


def test_the_form_picks_an_item_of_the_units_plan_only(client, login, branch):
    plan = plans.create_plan(branch.secretary, branch.branch_a, 2030, 1)
    item = plans.add_item(plan, SessionKind.BRANCH_MEETING, 3, "一季度党员大会")
    other = plans.create_plan(branch.admin, branch.branch_b, 2030, 1)
    foreign = plans.add_item(other, SessionKind.BRANCH_MEETING, 3, "乙校党员大会")
    db.session.commit()
    login(branch.secretary)
    page = text(client.get(f"/manage/sessions/new?unit={branch.branch_a.id}"))
    assert "一季度党员大会" in page and "乙校党员大会" not in page
    refused = client.post("/manage/sessions/new",
                          data=_form(branch, plan_item_id=str(foreign.id)))
    assert refused.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(StudySession.id))) == 0
    with pytest.raises(SessionError):  # forged past the form
        operations.create_session(branch.secretary, {
            "kind": SessionKind.BRANCH_MEETING, "owner_unit_id": branch.branch_a.id,
            "topic": "t", "starts_at": SESSION_START,
            "ends_at": SESSION_START + timedelta(hours=1), "place": "p",
            "plan_item_id": foreign.id})
    db.session.rollback()
    response = client.post("/manage/sessions/new", data=_form(branch, plan_item_id=str(item.id)))
    assert response.status_code == 302, text(response)
    session = db.session.scalar(sa.select(StudySession))
    assert session.plan_item_id == item.id
    assert "一季度党员大会" in text(client.get(f"/manage/sessions/{session.id}"))


def test_only_a_party_lecture_has_a_recording(branch, make_material, make_session):
    video = make_material("党课录像", kind=MaterialKind.VIDEO, url="https://video.example.cn/1",
        owner=branch.gen_a, actor=branch.secretary, body="")
    with pytest.raises(SessionError):
        make_session("draft", recording_material_id=video.id)
    db.session.rollback()
    session = make_session("draft", kind=SessionKind.PARTY_LECTURE,
                           recording_material_id=video.id)
    assert session.recording_material_id == video.id
