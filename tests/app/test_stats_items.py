"""Item analysis against Moodle's formulas (ANCHORS.md), worked by hand on four people
and the five questions of make_quiz (20 points each: 单选, 多选, 判断, 填空, 简答):

    P1  20 20 20 20  0 | 80      totals 80 60 40 20: mean 50, var 2000/3, SD 25.82
    P2  20 20 20  0  0 | 60
    P3  20  0 20  0  0 | 40
    P4   0  0  0  0 20 | 20

Q1: x = 20 20 20 0, y = T − x = 60 40 20 20. cov = 400/3 · … (below); facility 75%.
Q5: x = 0 0 0 20, y = 80 60 40 0: cov = −300, var x = 100, var y = 3500/3,
    discrimination = 100 · −300 / √(100 · 3500/3) = −87.83 (flagged); cov_max pairs
    0 0 0 20 with 0 40 60 80: 700/3, efficiency = −128.57.
α = 100 · 5/4 · (1 − (100 + 400/3 + 100 + 100 + 100) / (2000/3)) = 25.0;
error ratio = 100 · √0.75 = 86.60; standard error = 0.8660 · 25.82 = 22.36.
"""

from __future__ import annotations

import re
from decimal import Decimal

from studyhall.figures import round_half_up
from studyhall.stats import items
from studyhall.stats.items import ItemStats
from studyhall.stats.queries import Filters
from tests.app.stats_fixtures_f1 import sit

MATRIX = {
    "p1": (["20", "20", "20", "20", "0"], {}),
    "p2": (["20", "20", "20", "0", "0"], {}),
    "p3": (["20", "0", "20", "0", "0"], {2: ["C"], 4: ["中央纪委"]}),
    "p4": (["0", "0", "0", "0", "20"], {1: "B", 2: ["A", "C"], 3: True}),
}


def four_people(org, make_person, make_quiz):
    people = {key: make_person(unit=org.branch_a) for key in MATRIX}
    quiz = make_quiz()
    for key, (scores, responses) in MATRIX.items():
        sit(quiz, people[key], str(sum(int(s) for s in scores)), item_scores=scores,
            responses=responses)
    return quiz


def two(value):
    return round_half_up(value, 2)


def test_moodle_figures_by_hand(app, org, make_person, make_quiz):
    quiz = four_people(org, make_person, make_quiz)
    paper = items.get_item_analysis(quiz, org.admin)
    assert paper.attempts == 4 and paper.same_paper and not paper.provisional
    assert (two(paper.mean), two(paper.sd)) == (Decimal("50.00"), Decimal("25.82"))
    assert round_half_up(paper.alpha, 1) == Decimal("25.0")
    assert two(paper.error_ratio) == Decimal("86.60")
    assert two(paper.standard_error) == Decimal("22.36")
    q1, q2, q3, q4, q5 = paper.items
    assert [q.facility for q in paper.items] == [Decimal(x) for x in
                                                 ("0.75", "0.5", "0.75", "0.25", "0.25")]
    assert two(q1.sd) == Decimal("0.50") and two(q2.sd) == Decimal("0.58")
    assert two(q1.discrimination) == Decimal("52.22") and two(q1.efficiency) == 100
    assert two(q5.discrimination) == Decimal("-87.83")
    assert two(q5.efficiency) == Decimal("-128.57")
    assert [q.flagged for q in paper.items] == [False, False, False, False, True]
    # The wrong answers chosen most, in the bank's letters: 两年; 记过 twice; 正确; the 填空.
    assert (q1.wrong.label, q1.wrong.text, q1.wrong.count) == ("B", "两年", 1)
    assert (q2.wrong.label, q2.wrong.text, q2.wrong.count) == ("C", "记过", 2)
    assert (q3.wrong.label, q3.wrong.count) == ("正确", 1)  # 判断: the wrong 对 or 错
    assert (q4.wrong.text, q4.wrong.count) == ("中央纪委", 1)
    assert q5.wrong is None


def test_the_page_shows_and_flags_them(client, org, login, make_person, make_quiz):
    quiz = four_people(org, make_person, make_quiz)
    login(org.admin)
    page = client.get(f"/manage/stats/exams/{quiz.id}/items").get_data(as_text=True)
    figures = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', page))
    assert figures["alpha"] == "25.0%" and figures["error_ratio"] == "86.6%"
    assert figures["standard_error"] == "22.36" and figures["attempts"] == "4"
    assert "1 questions need a look" in page
    rows = re.findall(r'<tr( class="flagged")? data-question="(\d+)">', page)
    assert [bool(flag) for flag, _ in rows] == [False, False, False, False, True]
    assert "B. 两年" in page and "C. 记过" in page


def test_a_secretary_analyses_only_their_subtree(app, org, make_person, make_quiz):
    quiz = four_people(org, make_person, make_quiz)
    outside = items.get_item_analysis(quiz, org.admin, Filters(org.branch_b))
    assert outside.attempts == 0 and all(item.facility is None for item in outside.items)
    assert items.get_item_analysis(quiz, org.secretary).attempts == 4


def test_ungraded_short_answers_make_it_provisional(app, org, make_person, make_quiz):
    quiz = make_quiz()
    sit(quiz, org.teacher, "80", pending=True, item_scores=["20", "20", "20", "20", "0"])
    assert items.get_item_analysis(quiz, org.admin).provisional


def test_the_flags():
    item = ItemStats(1, 1, "single", "", Decimal(2), facility=Decimal("0.19"),
                     discrimination=Decimal("10"))
    assert item.low_facility and item.flagged and not item.negative_discrimination
    item.facility = Decimal("0.2")
    assert not item.flagged
    item.discrimination = Decimal("-0.01")
    assert item.flagged


def test_someone_sitting_the_exam_is_not_shown_the_wrong_answer_chosen_most(
        client, app, org, login, make_person, make_quiz):
    """A secretary expected in an open exam could read, on its item analysis, which option
    most people chose wrongly — half a key. Withheld by review.py's rule while they can
    still change their score; shown once the exam closes, and always to administrators."""
    from datetime import timedelta

    from studyhall.extensions import db
    from studyhall.model_helpers import utcnow

    people = {key: make_person(unit=org.branch_a) for key in MATRIX}
    quiz = make_quiz(audience={"unit_ids": [org.gen_a.id]})  # the secretary is expected
    for key, (scores, responses) in MATRIX.items():
        sit(quiz, people[key], str(sum(int(s) for s in scores)), item_scores=scores,
            responses=responses)

    paper = items.get_item_analysis(quiz, org.secretary)
    assert [q.facility for q in paper.items][:2] == [Decimal("0.75"), Decimal("0.5")]
    assert all(q.wrong is None for q in paper.items)
    assert all(q.withheld for q in paper.items[:4])
    login(org.secretary)
    page = client.get(f"/manage/stats/exams/{quiz.id}/items").get_data(as_text=True)
    cells = re.findall(r'<td data-item="wrong">(.*?)</td>', page)
    assert len(cells) == 5 and not any("两年" in c or "记过" in c for c in cells)
    assert "can still change your score" in cells[0]
    sheet = client.get(f"/manage/stats/exams/{quiz.id}/items.csv").get_data(as_text=True)
    assert "两年" not in sheet
    assert items.get_item_analysis(quiz, org.admin).items[0].wrong.text == "两年"

    quiz.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert items.get_item_analysis(quiz, org.secretary).items[0].wrong.text == "两年"


def reference_analysis(quiz):
    """The documented formulas, worked with numpy on the score matrix read answer by
    answer (attempt × question, NaN where not drawn; the total is the row's sum)."""
    import numpy as np

    from studyhall.extensions import db
    from studyhall.quizzes.models import Attempt, AttemptQuestion

    rows = db.session.execute(
        db.select(AttemptQuestion.attempt_id, AttemptQuestion.question_id,
                  AttemptQuestion.score, AttemptQuestion.points)
        .join(Attempt, Attempt.id == AttemptQuestion.attempt_id)
        .where(Attempt.quiz_id == quiz.id)).all()
    attempts = sorted({row[0] for row in rows})
    questions = sorted({row[1] for row in rows})
    matrix = np.full((len(attempts), len(questions)), np.nan)
    marks = dict.fromkeys(questions, 0.0)
    for attempt_id, question_id, score, points in rows:
        matrix[attempts.index(attempt_id), questions.index(question_id)] = float(score or 0)
        marks[question_id] = max(marks[question_id], float(points))
    totals = np.nansum(matrix, axis=1)
    figures = {}
    for column, question_id in enumerate(questions):
        drawn = ~np.isnan(matrix[:, column])
        x = matrix[drawn, column]
        y = totals[drawn] - x
        cov = np.cov(x, y, ddof=1)[0, 1]
        varies = x.var(ddof=1) > 0 and y.var(ddof=1) > 0
        cov_max = np.cov(np.sort(x), np.sort(y), ddof=1)[0, 1]
        figures[question_id] = (
            x.mean() / marks[question_id], x.std(ddof=1) / marks[question_id],
            100 * cov / np.sqrt(x.var(ddof=1) * y.var(ddof=1)) if varies else None,
            100 * cov / cov_max if varies and cov_max > 0 else None, len(x))
    return totals, figures


def close(value, expected):
    if value is None or expected is None:
        return value is None and expected is None
    return abs(float(value) - float(expected)) < 1e-9


def test_fractional_scores_and_a_question_not_drawn_by_everyone(
        app, org, make_person, make_quiz):
    """Fractional scores, and an attempt that did not draw a question (as a random paper
    leaves it: no 内部一致性 then): every figure is what the formulas give on the score
    matrix read answer by answer."""
    from studyhall.extensions import db
    from studyhall.quizzes.models import AttemptQuestion
    from studyhall.quizzes.taking import recompute_totals

    people = {key: make_person(unit=org.branch_a) for key in MATRIX}
    quiz = make_quiz()
    fractions = ["12.5", "7.25", "20", "0.1", "3.3"]
    for number, (key, (scores, responses)) in enumerate(MATRIX.items()):
        scores = [fractions[(number + i) % 5] if s == "20" else s for i, s in enumerate(scores)]
        attempt = sit(quiz, people[key], "0", item_scores=scores, responses=responses)
        recompute_totals([attempt.id])
    db.session.execute(db.delete(AttemptQuestion).where(
        AttemptQuestion.attempt_id == attempt.id, AttemptQuestion.position == 5))
    recompute_totals([attempt.id])
    db.session.commit()

    paper = items.get_item_analysis(quiz, org.admin)
    assert not paper.same_paper and paper.alpha is None
    assert [q.attempts for q in paper.items] == [4, 4, 4, 4, 3]
    assert paper.items[0].facility == Decimal(repr((12.5 + 7.25 + 20 + 0) / 4 / 20))
    totals, figures = reference_analysis(quiz)
    assert sum(f[2] is not None for f in figures.values()) >= 3  # the test compares numbers
    assert close(paper.mean, totals.mean()) and close(paper.sd, totals.std(ddof=1))
    for item in paper.items:
        facility, sd, discrimination, efficiency, attempts = figures[item.question_id]
        assert item.attempts == attempts
        assert close(item.facility, facility) and close(item.sd, sd)
        assert close(item.discrimination, discrimination)
        assert close(item.efficiency, efficiency)


def test_attempts_scored_alike_are_counted_by_the_database(
        app, org, make_person, make_quiz, monkeypatch):
    """The database counts the answers by question, score, the attempt's score and wrong
    answer: people who score alike add no rows to fetch. Twelve people who scored as the
    four of MATRIX did (three each) are fetched as the four were, and the figures are
    theirs, each counted three times."""
    fetched = []
    real = items.fetch_rows

    def counting(query):
        rows = real(query)
        fetched.append(len(rows))
        return rows

    monkeypatch.setattr(items, "fetch_rows", counting)
    four = items.get_item_analysis(four_people(org, make_person, make_quiz), org.admin)
    people = [(make_person(unit=org.branch_a), key) for copy in range(3) for key in MATRIX]
    quiz = make_quiz()
    for person, key in people:
        scores, responses = MATRIX[key]
        sit(quiz, person, str(sum(int(s) for s in scores)), item_scores=scores,
            responses=responses)
    twelve = items.get_item_analysis(quiz, org.admin)
    # Each query fetched as many rows for twelve people as for four: a row per
    # (question, score, the attempt's score, wrong answer), and a row per attempt's score.
    assert fetched[:2] == fetched[2:] == [20, 4]
    assert twelve.attempts == 12 and two(twelve.mean) == Decimal("50.00")
    assert [q.facility for q in twelve.items] == [q.facility for q in four.items]
    assert [(two(q.discrimination), two(q.efficiency)) for q in twelve.items] == \
        [(two(q.discrimination), two(q.efficiency)) for q in four.items]
    q1, q2, *_ = twelve.items
    assert (q1.wrong.count, q2.wrong.label, q2.wrong.count) == (3, "C", 6)
