"""心得体会 on a held session (issue 9 with issue 11's reflections): an attendee writes it
from the session's page with study's writing page and operations; the organiser reviews
it in study's review flow, reached from the session's page."""

from __future__ import annotations

import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.study.models import Reflection, ReflectionStatus
from tests.app.session_fixtures_e1 import *  # noqa: F403  (fixtures)
from tests.app.session_fixtures_e1 import text

TEXT = "通过这次支部党员大会，我深刻体会到学习贯彻全会精神必须落实到日常教学工作中。"


def _write(client, session_id, body=TEXT, based_on=0):
    return client.post(f"/sessions/{session_id}/reflection/submit",
                       data={"body": body, "based_on": based_on})


def test_an_attendee_writes_and_the_organiser_reviews(client, login, branch, make_session):
    session = make_session("held")
    login(branch.teacher)
    page = text(client.get(f"/sessions/{session.id}"))
    assert f"/sessions/{session.id}/reflection" in page
    assert client.get(f"/sessions/{session.id}/reflection").status_code == 200
    draft = client.post(f"/sessions/{session.id}/reflection/draft",
                        json={"body": "草稿", "based_on": 0})
    assert draft.status_code == 200 and draft.get_json()["ok"]
    assert _write(client, session.id).status_code == 302
    reflection = db.session.scalar(sa.select(Reflection).where(
        Reflection.session_id == session.id, Reflection.person_id == branch.teacher.id))
    assert reflection.status is ReflectionStatus.SUBMITTED and reflection.body == TEXT

    client.post("/logout")
    login(branch.secretary)
    assert f"/manage/sessions/{session.id}/reflections" in text(
        client.get(f"/manage/sessions/{session.id}"))
    queue = text(client.get(f"/manage/sessions/{session.id}/reflections"))
    assert "李老师" in queue and f"/manage/study/reflections/{reflection.id}" in queue
    review = client.get(f"/manage/study/reflections/{reflection.id}")
    assert review.status_code == 200
    assert f"/manage/sessions/{session.id}/reflections" in text(review)  # back to the queue
    decided = client.post(f"/manage/study/reflections/{reflection.id}/review",
                          data={"version": 1, "decision": "accepted", "comment": "很好"})
    assert decided.status_code == 302
    assert decided.location.endswith(f"/manage/sessions/{session.id}/reflections")
    db.session.expire_all()
    assert db.session.get(Reflection, reflection.id).status is ReflectionStatus.ACCEPTED


def test_someone_not_expected_cannot_write(client, login, branch, make_session):
    session = make_session("held")
    login(branch.outsider)
    assert client.get(f"/sessions/{session.id}/reflection").status_code == 404
    assert _write(client, session.id).status_code == 404
    assert client.post(f"/sessions/{session.id}/reflection/draft",
                       json={"body": TEXT, "based_on": 0}).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Reflection.id))) == 0


def test_nothing_is_written_before_the_session(client, login, branch, make_session):
    session = make_session("published")  # tomorrow
    login(branch.teacher)
    assert f"/sessions/{session.id}/reflection" not in text(client.get(f"/sessions/{session.id}"))
    assert client.get(f"/sessions/{session.id}/reflection").status_code == 404
    assert _write(client, session.id).status_code == 404


def test_the_queue_is_for_the_sessions_managers(client, login, branch, make_session):
    session = make_session("held")
    login(branch.teacher)
    assert client.get(f"/manage/sessions/{session.id}/reflections").status_code in (403, 404)
