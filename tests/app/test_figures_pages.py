"""The participants page shows its figures rounded 四舍五入 from the exact counts and
total, in both languages (studyhall/figures.py)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.quizzes import taking


def sit(quiz, person, score: str) -> None:
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, person))
    taking.finish_attempt(attempt, utcnow())
    attempt.score = Decimal(score)
    db.session.commit()


def figures_on(client, quiz, lang: str) -> dict[str, str]:
    client.set_cookie("lang", lang)
    page = client.get(f"/manage/quizzes/{quiz.id}/participants").get_data(as_text=True)
    return dict(re.findall(r'data-figure="(\w+)">([^<]*)<', page))


@pytest.fixture()
def sixteen(org, make_person, make_quiz):
    """A quiz for 甲校第一支部 with 16 expected: org.teacher and 15 more."""
    people = [org.teacher] + [make_person(unit=org.branch_a) for _ in range(15)]
    return make_quiz(), people


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_one_of_sixteen_is_six_point_three_percent(client, org, login, sixteen, lang):
    quiz, people = sixteen
    sit(quiz, people[0], "100")
    login(org.admin)
    shown = figures_on(client, quiz, lang)
    assert shown["expected"] == "16" and shown["took"] == "1"
    assert shown["participation"] == "6.3%"            # 6.25, not 6.2
    assert shown["average_over_expected"] == "6.25"    # 100 / 16, absentees as 0
    assert shown["pass_rate"] == "100.0%"


def test_an_average_on_a_tie_rounds_up(client, org, login, sixteen):
    quiz, people = sixteen
    sit(quiz, people[0], "100")
    sit(quiz, people[1], "5.05")
    login(org.admin)
    shown = figures_on(client, quiz, "zh_CN")
    assert shown["average"] == "52.53"                 # 105.05 / 2 = 52.525
    assert shown["average_over_expected"] == "6.57"    # 6.565625
    assert shown["participation"] == "12.5%" and shown["pass_rate"] == "50.0%"
    assert shown["excellent_rate"] == "50.0%"


def test_nobody_took_part_shows_dashes(client, org, login, sixteen):
    quiz, _ = sixteen
    login(org.admin)
    shown = figures_on(client, quiz, "zh_CN")
    assert shown["participation"] == "0.0%" and shown["average_over_expected"] == "0.00"
    assert shown["average"] == shown["pass_rate"] == shown["excellent_rate"] == "—"
