"""Exam figures against hand-computed values (stats_fixtures_f1.py says how), on SQLite
and PostgreSQL alike: the page shows them, the queries give them exactly, the two 人均
definitions differ, a tie rounds half up, provisional figures are marked, and the
attempt that counts agrees with the quiz pages' own rule."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import pytest

from studyhall.extensions import db
from studyhall.org.models import PoliticalStatus, UnitKind
from studyhall.quizzes import queries as quiz_queries
from studyhall.quizzes.models import Counting
from studyhall.stats import queries
from studyhall.stats.queries import Filters
from tests.app.stats_fixtures_f1 import *  # noqa: F401,F403
from tests.app.stats_fixtures_f1 import attempt_of, sit


def shown(client, url: str) -> dict[str, str]:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return dict(re.findall(r'data-figure="(\w+)">([^<]*)<', page.get_data(as_text=True)))


def unit_rows(client, url: str) -> dict[str, list[str]]:
    """The units table: row key (unit id or "own") → its cells' text."""
    page = client.get(url).get_data(as_text=True)
    body = page.split('id="units-table"', 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for key, row in re.findall(r'<tr data-unit="(\w+)">(.*?)</tr>', body, re.S):
        rows[key] = [re.sub(r"<[^>]+>|\s+", " ", cell).strip()
                     for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    return rows


def test_the_whole_exam_by_hand(client, org, login, small_exam):
    login(org.admin)
    figures = shown(client, f"/manage/stats/exams/{small_exam.quiz.id}")
    assert figures == {
        "expected": "8", "took": "5", "absent": "3", "participation": "62.5%",
        "average": "79.90", "average_over_expected": "49.94",  # the two 人均 differ
        "pass_rate": "80.0%", "excellent_rate": "40.0%", "highest": "100.00",
        "lowest": "59.50", "median": "80.00", "sd": "15.97"}


def test_exact_values_behind_the_page(app, org, small_exam):
    f = queries.get_exam_figures(small_exam.quiz, org.admin)
    assert (f.expected, f.took, f.passed, f.excellent, f.pending) == (8, 5, 4, 2, 0)
    assert f.total == Decimal("399.5") and f.squares == Decimal("32940.25")
    assert f.median == Fraction(80) and (f.highest, f.lowest) == (100, Decimal("59.5"))
    # 59.5 in [50, 60), 70, 80, and 90 and 100 in the closed last band.
    assert f.bands == [0, 0, 0, 0, 0, 1, 0, 1, 1, 2]
    assert str(f.sd)[:10] == "15.9702849"  # √255.05 = 15.97028490…


def test_a_unit_table_rolls_up_subtrees_and_ranks(client, org, login, small_exam):
    login(org.admin)
    base = f"/manage/stats/exams/{small_exam.quiz.id}"
    rows = unit_rows(client, f"{base}?unit={org.top.id}")
    assert set(rows) == {str(org.gen_a.id), str(org.gen_b.id)}
    gen_a, gen_b = rows[str(org.gen_a.id)], rows[str(org.gen_b.id)]
    # unit, rank, 应考, 实考, 缺考, 参考率, 人均, 人均(应考), 及格率, 优秀率, 最高, 最低, 中位数
    assert gen_a[1:13] == ["1", "5", "4", "1", "80.0%", "82.38", "65.90", "75.0%", "50.0%",
                           "100.00", "59.50", "85.00"]
    assert gen_b[1:10] == ["2", "3", "1", "2", "33.3%", "70.00", "23.33", "100.0%", "0.0%"]
    # By participation, and by the average over all expected: the same order here.
    by_rate = unit_rows(client, f"{base}?unit={org.top.id}&rank=participation")
    assert by_rate[str(org.gen_b.id)][1] == "2"


def test_drilling_down_to_a_branch_and_its_people(client, org, login, small_exam):
    login(org.admin)
    base = f"/manage/stats/exams/{small_exam.quiz.id}"
    rows = unit_rows(client, f"{base}?unit={org.gen_a.id}")
    # The branch, and the secretary attached to the general branch itself: they add up.
    assert set(rows) == {str(org.branch_a.id), "own"}
    assert rows[str(org.branch_a.id)][2:4] == ["4", "3"] and rows["own"][2:4] == ["1", "1"]
    assert rows[str(org.branch_a.id)][6] == "79.83"  # 239.5 / 3
    page = client.get(f"{base}?unit={org.branch_a.id}").get_data(as_text=True)
    people = page.split('id="people-table"', 1)[1]
    for name in ("李老师", "钱老师", "孙团员", "=HYPERLINK"):
        assert name in people
    assert "0:18:05" in people and "Did not take part" in people
    assert "王书记" not in people  # attached to the general branch, not the branch
    own = client.get(f"{base}?unit={org.gen_a.id}&direct=1").get_data(as_text=True)
    assert "王书记" in own.split('id="people-table"', 1)[1]


def test_political_status_filter_uses_the_status_at_publication(client, org, login,
                                                                small_exam):
    login(org.admin)
    base = f"/manage/stats/exams/{small_exam.quiz.id}"
    party = shown(client, f"{base}?pol=party_member")
    # 8 less 孙团员 (团员) and 赵老师 (群众): 6 expected, 王 90, 李 100, 钱 80 sat.
    assert (party["expected"], party["took"], party["average"]) == ("6", "3", "90.00")
    league = shown(client, f"{base}?pol=03")
    assert (league["expected"], league["took"], league["average"]) == ("1", "1", "59.50")
    # Changing someone's status now does not move them: publication fixed it.
    small_exam.people["sun"].political_status = PoliticalStatus.CPC_MEMBER
    db.session.commit()
    assert shown(client, f"{base}?pol=03")["expected"] == "1"


def test_unit_kind_filter_lists_every_unit_of_that_kind(client, org, login, small_exam):
    login(org.admin)
    rows = unit_rows(client, f"/manage/stats/exams/{small_exam.quiz.id}?kind=branch")
    assert set(rows) == {str(org.branch_a.id), str(org.branch_b.id)}
    assert rows[str(org.branch_a.id)][1] == "1"  # 79.83 before 70.00


def test_one_of_sixteen_is_six_point_three_percent(client, org, login, make_person,
                                                   make_quiz):
    for _ in range(15):
        make_person(unit=org.branch_a)
    quiz = make_quiz()
    sit(quiz, org.teacher, "100")
    login(org.admin)
    figures = shown(client, f"/manage/stats/exams/{quiz.id}")
    assert figures["expected"] == "16" and figures["participation"] == "6.3%"
    assert figures["average_over_expected"] == "6.25" and figures["sd"] == "—"


def test_provisional_figures_are_marked(client, org, login, small_exam):
    attempt = attempt_of(small_exam.quiz, small_exam.people["qian"])
    attempt.pending_manual = True
    db.session.commit()
    login(org.admin)
    page = client.get(f"/manage/stats/exams/{small_exam.quiz.id}").get_data(as_text=True)
    assert 'data-figure="provisional"' in page and "1 people have short answers" in page
    assert queries.get_exam_figures(small_exam.quiz, org.admin).pending == 1
    people = client.get(f"/manage/stats/exams/{small_exam.quiz.id}?unit={org.branch_a.id}")
    assert "Awaiting grading" in people.get_data(as_text=True)


@pytest.mark.parametrize("counting, counted", [(Counting.HIGHEST, "80"),
                                               (Counting.LAST, "50")])
def test_the_counted_attempt_agrees_with_the_quiz_pages(org, make_quiz, counting, counted):
    """80 then 50: the highest counts 80, the last 50; quizzes/queries.py says the same."""
    quiz = make_quiz(attempts_allowed=2, counting=counting)
    sit(quiz, org.teacher, "80")
    sit(quiz, org.teacher, "50")
    mine = queries.get_exam_figures(quiz, org.admin)
    assert mine.total == Decimal(counted)
    theirs = quiz_queries.get_participant_figures(quiz, org.admin)
    assert (theirs.expected, theirs.took, theirs.total, theirs.passed) == (
        mine.expected, mine.took, mine.total, mine.passed)
    rows = queries.get_score_rows(quiz, org.admin, Filters(), limit=10)
    assert [r.score for r in rows if r.person_id == org.teacher.id] == [Decimal(counted)]
    # The whole sheet (picked in one pass on PostgreSQL) counts the same attempt.
    sheet = list(queries.iter_score_sheet(quiz, org.admin, Filters()))
    assert sheet == queries.get_score_rows(quiz, org.admin, Filters(), limit=len(sheet))


def test_only_the_whole_sheet_picks_the_counted_attempts_in_one_pass(org, small_exam):
    """On PostgreSQL the export's stream picks every counted attempt in one sorted pass;
    a page of a branch's people probes per person, since the pass could not be narrowed
    to the page or the viewer's scope (a city's 90,000 attempts sorted for 50 rows)."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"

    def sql(query) -> str:
        return str(query.compile(db.session.get_bind()))
    page = queries.query_score_sheet(small_exam.quiz, org.secretary, Filters())
    whole = queries.query_score_sheet(small_exam.quiz, org.admin, Filters(), every_person=True)
    assert "DISTINCT ON" not in sql(page)
    assert ("DISTINCT ON" in sql(whole)) is postgresql


def test_every_unit_summary_row_matches_its_own_page(client, org, login, small_exam):
    """The export's roll-up of every unit gives the same figures as each unit's page."""
    login(org.admin)
    total, units = queries.get_all_unit_figures(small_exam.quiz, org.admin)
    assert total.expected == 8 and total.median == 80
    for row in units:
        page = shown(client, f"/manage/stats/exams/{small_exam.quiz.id}?unit={row.unit.id}")
        assert page["expected"] == str(row.figures.expected)
        assert page["took"] == str(row.figures.took)
    kinds = {r.unit.kind for r in units}
    assert UnitKind.COMMITTEE in kinds and UnitKind.BRANCH in kinds


def test_each_unit_row_has_its_own_median_and_bands_by_hand(app, org, small_exam):
    """Per unit, from its subtree's scores: 甲校党总支 59.5, 80, 90, 100 (an even count:
    the mean of the middle two, 85); 甲校第一支部 59.5, 80, 100 (80); 乙校党总支 and its
    branch 70 alone; the committee all five (80). Bands of a tenth of 100 each."""
    total, units = queries.get_all_unit_figures(small_exam.quiz, org.admin)
    got = {row.unit.id: (row.figures.median, row.figures.bands, row.figures.highest,
                         row.figures.lowest) for row in units}
    assert got[org.gen_a.id] == (Fraction(85), [0, 0, 0, 0, 0, 1, 0, 0, 1, 2], 100,
                                 Decimal("59.5"))
    assert got[org.branch_a.id] == (Fraction(80), [0, 0, 0, 0, 0, 1, 0, 0, 1, 1], 100,
                                    Decimal("59.5"))
    assert got[org.gen_b.id] == got[org.branch_b.id] == (
        Fraction(70), [0, 0, 0, 0, 0, 0, 0, 1, 0, 0], 70, 70)
    assert got[org.top.id][0] == total.median == Fraction(80)


@pytest.mark.parametrize("scores, median", [
    (["80", "80", "80", "90"], Fraction(80)),  # the middle two are equal
    (["60", "60", "90", "90"], Fraction(75)),  # the middle two straddle a tie
    (["60", "60", "60"], Fraction(60)),  # everyone equal
    (["55.5", "70.25", "70.25", "99", "99"], Fraction("70.25")),
])
def test_medians_with_equal_scores(org, make_person, make_quiz, scores, median):
    """Equal scores (most of a big exam's scores are equal to others') keep the median
    where sorting every score would put it, on the page's unit rows as on the total."""
    people = [org.teacher] + [make_person(f"m{n}", unit=org.branch_a)
                              for n in range(len(scores) - 1)]
    quiz = make_quiz(owner_unit_id=org.top.id, audience={"unit_ids": [org.branch_a.id]})
    for person, score in zip(people, scores, strict=True):
        sit(quiz, person, score)
    assert queries.get_exam_figures(quiz, org.admin).median == median
    rows = queries.get_unit_figures(quiz, org.admin, Filters(org.gen_a))
    assert [r.figures.median for r in rows if r.unit is not None] == [median]
    assert queries.get_exam_figures(quiz, org.admin).took == len(scores)


def test_the_page_runs_as_many_queries_for_many_units_as_for_few(
        client, org, login, make_unit, make_person, make_quiz, count_queries):
    few = make_quiz(owner_unit_id=org.top.id, audience={"unit_ids": [org.gen_a.id]})
    sit(few, org.teacher, "90")
    branches = [make_unit(f"甲校第{n}支部", org.gen_a) for n in range(2, 8)]
    sitting = [[make_person(unit=branch) for _ in range(3)][0] for branch in branches]
    many = make_quiz(owner_unit_id=org.top.id, audience={"unit_ids": [org.gen_a.id]})
    for person in sitting:
        sit(many, person, "75")
    login(org.admin)


    def figures_queries(url) -> list[str]:
        """The statements that read the exam (the page's own; not the menu's counts)."""
        with count_queries() as log:
            client.get(url)
        return [s for s in log if "quiz_recipient" in s or "attempt" in s]

    small = figures_queries(f"/manage/stats/exams/{few.id}?unit={org.gen_a.id}")
    large = figures_queries(f"/manage/stats/exams/{many.id}?unit={org.gen_a.id}")
    assert len(large) == len(small) and len(small) <= 10, "\n".join(large)
    people = figures_queries(f"/manage/stats/exams/{many.id}?unit={branches[0].id}")
    assert len(people) <= len(small) + 2, "\n".join(people)


def test_a_long_unit_table_is_paged_but_ranked_whole(client, org, login, small_exam,
                                                     monkeypatch):
    from studyhall.stats import routes

    monkeypatch.setattr(routes, "UNITS_PER_PAGE", 1)
    login(org.admin)
    base = f"/manage/stats/exams/{small_exam.quiz.id}?kind=branch"
    first, second = unit_rows(client, base), unit_rows(client, base + "&upage=2")
    assert list(first) == [str(org.branch_a.id)] and first[str(org.branch_a.id)][1] == "1"
    assert list(second) == [str(org.branch_b.id)] and second[str(org.branch_b.id)][1] == "2"
    assert "Units 1–1 of 2" in client.get(base).get_data(as_text=True)
