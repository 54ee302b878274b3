"""No N+1 queries on list and statistics pages: each is rendered with N rows and with 10 N
rows, every row on one page, and must run the same number of statements."""

from __future__ import annotations

import pytest

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import PoliticalStatus, Role, UnitKind
from studyhall.quizzes import routes_manage_results, taking

FEW, MANY = 5, 50


@pytest.fixture()
def big_pages(app, monkeypatch):
    """Page sizes that show all MANY rows at once."""
    monkeypatch.setitem(app.config, "PEOPLE_PER_PAGE", 2 * MANY)
    monkeypatch.setattr(routes_manage_results, "GRADING_PER_PAGE", 2 * MANY)


def assert_same_count(count_queries, client, few_url, many_url):
    client.get(few_url)  # warm up: what a first request loads once (the login's person)
    with count_queries() as few:
        assert client.get(few_url).status_code == 200
    with count_queries() as many:
        assert client.get(many_url).status_code == 200
    assert len(many) == len(few), f"{len(few)} statements for {FEW} rows:\n{few}\n\n" \
                                  f"{len(many)} for {MANY}:\n{many}"


@pytest.fixture()
def two_units(org, make_unit, make_person):
    """A branch of FEW people and one of MANY, under 乙校党总支, each person in a group of
    their own (so that loading units per row would show), with mixed 政治面貌."""
    statuses = list(PoliticalStatus)
    units = {}
    for n in (FEW, MANY):
        branch = make_unit(f"{n}人支部", org.gen_b)
        people = []
        for i in range(n):
            group = make_unit(f"{n}人支部第{i + 1}小组", branch, UnitKind.GROUP)
            people.append(make_person(unit=group, name=f"成员{i}", status=statuses[i % 13]))
        units[n] = (branch, people)
    return units


def test_the_people_list(client, org, login, big_pages, two_units, count_queries):
    login(org.admin)
    few, many = (two_units[n][0].id for n in (FEW, MANY))
    assert_same_count(count_queries, client, f"/manage/people?unit={few}&state=all",
                      f"/manage/people?unit={many}&state=all")


@pytest.fixture()
def two_quizzes(make_quiz, two_units):
    """One published quiz per branch; of each, four in five have sat it (one left with a
    short answer to grade) and the rest not started."""
    quizzes = {}
    for n, (branch, people) in two_units.items():
        quiz = make_quiz(title=f"{n}人测试", owner_unit_id=branch.id,
                         audience={"unit_ids": [branch.id]})
        for i, person in enumerate(people):
            if i % 5 == 4:
                continue
            attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, person))
            taking.save_answer(attempt, 1, "A", None, attempt.session_token)
            taking.save_answer(attempt, 5, f"三会一课是…{i}", None, attempt.session_token)
            taking.finish_attempt(attempt, utcnow())
        db.session.commit()
        quizzes[n] = quiz.id
    return quizzes


def test_quiz_participants(client, org, login, big_pages, two_quizzes, count_queries):
    login(org.admin)
    assert_same_count(count_queries, client,
                      f"/manage/quizzes/{two_quizzes[FEW]}/participants",
                      f"/manage/quizzes/{two_quizzes[MANY]}/participants")


def test_the_grading_list(client, org, login, big_pages, two_quizzes, count_queries):
    login(org.admin)
    page = client.get(f"/manage/quizzes/{two_quizzes[MANY]}/grading").get_data(as_text=True)
    assert page.count('name="attempt_id"') == MANY * 4 // 5
    assert_same_count(count_queries, client, f"/manage/quizzes/{two_quizzes[FEW]}/grading",
                      f"/manage/quizzes/{two_quizzes[MANY]}/grading")


def test_the_admin_dashboard(client, org, login, make_unit, make_person, count_queries):
    """The organisation tree with its head counts, FEW units against MANY."""
    def add_units(n: int) -> None:
        for _ in range(n):
            unit = make_unit(parent=org.gen_b, kind=UnitKind.GROUP)
            make_person(unit=unit)

    login(org.admin)
    add_units(FEW)
    client.get("/")
    with count_queries() as few:
        page = client.get("/").get_data(as_text=True)
    add_units(MANY - FEW)
    with count_queries() as many:
        more = client.get("/").get_data(as_text=True)
    assert more.count("<li") - page.count("<li") == MANY - FEW
    assert len(many) == len(few), many


def test_the_secretary_dashboard(client, org, login, make_person, two_units,
                                 count_queries):
    """One summary card per unit they manage."""
    few_units = [unit for unit, _ in two_units.values()][:1] + [org.gen_a]
    many_units = [person.unit for _, people in two_units.values() for person in people]
    few = make_person("few-sec", unit=org.gen_a, role=Role.SECRETARY, manages=few_units)
    many = make_person("many-sec", unit=org.gen_a, role=Role.SECRETARY, manages=many_units)
    counts = []
    for secretary in (few, many):
        client.post("/logout")
        login(secretary)
        client.get("/")
        with count_queries() as log:
            page = client.get("/").get_data(as_text=True)
        assert page.count('class="report-line"') == len(secretary.managed_units)
        counts.append(log)
    assert len(counts[1]) == len(counts[0]), counts[1]


def test_the_teacher_dashboard(client, org, login, make_quiz, count_queries):
    """Quizzes to do, FEW against MANY."""
    login(org.teacher)
    for _ in range(FEW):
        make_quiz()
    client.get("/")
    with count_queries() as few:
        page = client.get("/").get_data(as_text=True)
    assert page.count("党纪党规知识测试") >= FEW
    for _ in range(MANY - FEW):
        make_quiz()
    with count_queries() as many:
        page = client.get("/").get_data(as_text=True)
    assert page.count("党纪党规知识测试") >= MANY
    assert len(many) == len(few), many
