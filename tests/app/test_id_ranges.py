"""Ids no database row can have answer 404 on every route, never a 500 (issue 7, item 9)."""

from __future__ import annotations

import re

import pytest

#: Past PostgreSQL's INTEGER (2^31), past SQLite's signed 64-bit (2^63), and far beyond.
HUGE = ["2147483648", "9223372036854775808", "99999999999999999999"]


def _int_routes(app):
    """Every rule with an ``<int:...>`` part, with each of its methods."""
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


@pytest.mark.parametrize("huge", HUGE)
def test_out_of_range_ids_in_urls_are_not_found(client, org, login, huge):
    login(org.admin)
    checked = 0
    for rule, method in _int_routes(client.application):
        url = re.sub(r"<int:\w+>", huge, rule.rule)
        response = client.open(url, method=method, json={} if method == "POST" else None)
        assert response.status_code == 404, (method, url, response.status_code)
        checked += 1
    assert checked >= 20


def test_the_largest_id_is_still_an_id_and_simply_not_found(client, org, login):
    login(org.admin)
    for url in (f"/attempts/{2**31 - 1}/result", f"/manage/quizzes/{2**31 - 1}",
                f"/manage/quizzes/{2**31 - 1}/participants/{2**31 - 1}"):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("huge", HUGE)
def test_out_of_range_ids_in_query_strings_and_forms_are_not_found(client, org, login,
                                                                   make_quiz, huge):
    quiz = make_quiz()
    login(org.admin)
    for url in (f"/manage/quizzes/{quiz.id}/participants?unit={huge}",
                f"/manage/bank/?category={huge}", f"/manage/bank/export?category={huge}",
                f"/manage/quizzes/{quiz.id}/participants/{org.teacher.id}?unit={huge}"):
        assert client.get(url).status_code in (404, 200), url
    assert client.get(f"/manage/quizzes/{quiz.id}/participants?unit={huge}").status_code == 404
    assert client.get(f"/manage/bank/?category={huge}").status_code == 404
    response = client.post(f"/manage/quizzes/{quiz.id}/grading",
                           data={"attempt_id": huge, "position": huge, "score": "1"})
    assert response.status_code == 404
