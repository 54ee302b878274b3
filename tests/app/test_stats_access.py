"""Who may open the statistics pages and exports: staff only, within their scope; an
exam, unit or person outside it answers 404, as do drafts and practice quizzes."""

from __future__ import annotations

import pytest

from studyhall.quizzes.models import QuizMode
from tests.app.stats_fixtures_f1 import *  # noqa: F401,F403

PAGES = ["", "/items", "/scores.xlsx", "/scores.csv", "/units.csv", "/items.csv"]


def get(client, url):
    reply = client.get(url)
    reply.get_data()
    reply.close()
    return reply


@pytest.mark.parametrize("tail", PAGES)
def test_teachers_and_visitors_are_kept_out(client, org, login, small_exam, tail):
    url = f"/manage/stats/exams/{small_exam.quiz.id}{tail}"
    assert get(client, url).status_code == 302
    login(org.teacher)
    assert get(client, url).status_code == 403
    assert get(client, "/manage/stats/exams").status_code == 403
    assert get(client, "/manage/stats/roster.xlsx").status_code == 403


@pytest.mark.parametrize("tail", PAGES)
def test_staff_open_them_in_scope(client, org, login, small_exam, tail):
    for viewer in (org.admin, org.secretary):
        login(viewer)
        assert get(client, f"/manage/stats/exams/{small_exam.quiz.id}{tail}").status_code == 200
        client.post("/logout")


def test_a_secretary_sees_only_their_subtree(client, org, login, small_exam):
    """The exam belongs to the committee; the secretary of 甲校党总支 sees its figures for
    their own subtree, and nothing of 乙校."""
    login(org.secretary)
    base = f"/manage/stats/exams/{small_exam.quiz.id}"
    page = get(client, base).get_data(as_text=True)
    assert 'data-figure="expected">5<' in page and "乙校" not in page
    for unit in (org.top, org.gen_b, org.branch_b):
        assert get(client, f"{base}?unit={unit.id}").status_code == 404
        assert get(client, f"{base}/scores.xlsx?unit={unit.id}").status_code == 404
    listing = get(client, "/manage/stats/exams").get_data(as_text=True)
    assert small_exam.quiz.title in listing


def test_an_exam_that_never_reached_the_viewer_is_404(client, org, login, make_quiz,
                                                      make_unit, make_person):
    other = make_unit("丙校党总支", org.top)
    make_person(unit=other)
    quiz = make_quiz(owner_unit_id=org.top.id, audience={"unit_ids": [other.id]})
    login(org.secretary)
    assert get(client, f"/manage/stats/exams/{quiz.id}").status_code == 404
    assert f"/manage/stats/exams/{quiz.id}\"" not in get(
        client, "/manage/stats/exams").get_data(as_text=True)
    client.post("/logout")
    login(org.admin)
    assert get(client, f"/manage/stats/exams/{quiz.id}").status_code == 200


def test_practice_and_missing_exams_are_404(client, org, login, make_quiz):
    practice = make_quiz(mode=QuizMode.PRACTICE)
    login(org.admin)
    assert get(client, f"/manage/stats/exams/{practice.id}").status_code == 404
    assert get(client, "/manage/stats/exams/999999").status_code == 404
