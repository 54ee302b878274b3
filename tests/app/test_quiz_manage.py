"""The staff side of quizzes: access, authoring, publishing, participants and their
figures, grants, grading by several people, regrading, and the demo quizzes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

import question_bank as qb
from studyhall.audit import AuditEntry
from studyhall.bank import operations as bank_ops
from studyhall.bank.models import Question
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org import operations as org_ops
from studyhall.org.models import PoliticalStatus
from studyhall.quizzes import operations, taking
from studyhall.quizzes.models import (
    Attempt,
    AttemptQuestion,
    AttemptStatus,
    Quiz,
    QuizQuestion,
    QuizRecipient,
    QuizStatus,
)


@pytest.fixture()
def draft(org, make_quiz):
    """A draft over make_quiz's bank (five questions, 20 points each), owned by 甲校党总支."""
    def make(owner=None, **settings) -> Quiz:
        now = utcnow()
        values = {"title": "草稿测验", "owner_unit_id": (owner or org.gen_a).id,
                  "opens_at": now - timedelta(minutes=5), "closes_at": now + timedelta(hours=1),
                  "paper": {"kind": "fixed", "question_ids": list(make_quiz.question_ids)},
                  "audience": {"unit_ids": [org.branch_a.id]}, **settings}
        quiz = Quiz(**values)
        db.session.add(quiz)
        db.session.commit()
        return quiz

    return make


def text(response) -> str:
    return response.get_data(as_text=True)


def audits(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


def sit(quiz: Quiz, person, score=None, *, submit=True) -> Attempt:
    """Start (and submit) an attempt for ``person``; ``score`` overrides the graded total."""
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, person))
    if submit:
        taking.finish_attempt(attempt, utcnow())
        if score is not None:
            attempt.score = Decimal(score)
    db.session.commit()
    return attempt


QUIZ_FORM = {"title": "党章知识考试", "instructions": "闭卷", "mode": "exam",
             "opens_at": "2030-01-01T08:00", "closes_at": "2030-01-02T08:00",
             "time_limit_minutes": "30", "total_points": "100", "pass_mark": "60",
             "excellent_mark": "90", "attempts_allowed": "1", "counting": "highest",
             "shuffle_options": "y", "multiple_policy": "all_or_nothing",
             "review_policy": "after_close", "max_departures": ""}


# --- access ---------------------------------------------------------------------------

def manage_urls(draft_quiz: Quiz, quiz: Quiz, person_id: int, question_id: int):
    d, q = f"/manage/quizzes/{draft_quiz.id}", f"/manage/quizzes/{quiz.id}"
    gets = [d, f"{d}/edit", f"{d}/paper", f"{d}/audience", f"{d}/publish", q, f"{q}/edit",
            f"{q}/participants", f"{q}/participants/{person_id}", f"{q}/grading",
            f"{q}/close"]
    posts = [f"{d}/paper/add", f"{d}/paper/remove", f"{d}/publish", f"{q}/close",
             f"{q}/participants/{person_id}/grant", f"{q}/questions/{question_id}/regrade",
             f"{q}/grading"]
    return gets, posts


@pytest.fixture()
def outside(org, draft, make_quiz):
    """A draft and a published quiz owned by 乙校党总支, outside the secretary's scope."""
    return draft(owner=org.gen_b), make_quiz(owner_unit_id=org.gen_b.id,
                                             audience={"unit_ids": [org.branch_b.id]})


def test_teachers_are_refused_every_management_page(client, org, login, outside, make_quiz):
    gets, posts = manage_urls(*outside, org.outsider.id, make_quiz.question_ids[0])
    login(org.teacher)
    assert client.get("/manage/quizzes/").status_code == 403
    assert client.get("/manage/quizzes/new").status_code == 403
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url).status_code == 403, url


def test_a_secretary_gets_404_for_quizzes_outside_their_subtree(client, org, login, outside,
                                                                 make_quiz):
    gets, posts = manage_urls(*outside, org.outsider.id, make_quiz.question_ids[0])
    login(org.secretary)
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        assert client.post(url).status_code == 404, url
    assert "草稿测验" not in text(client.get("/manage/quizzes/"))


def test_an_admin_opens_every_page(client, org, login, outside, make_quiz):
    gets, _posts = manage_urls(*outside, org.outsider.id, make_quiz.question_ids[0])
    login(org.admin)
    for url in ["/manage/quizzes/", "/manage/quizzes/new", *gets]:
        assert client.get(url).status_code == 200, url


def test_a_secretary_manages_their_own_quizzes(client, org, login, draft, make_quiz):
    quiz = make_quiz()
    gets, _posts = manage_urls(draft(), quiz, org.teacher.id, make_quiz.question_ids[0])
    login(org.secretary)
    for url in gets:
        assert client.get(url).status_code == 200, url
    page = text(client.get("/manage/quizzes/"))
    assert "草稿测验" in page and "党纪党规知识测试" in page


def test_a_person_outside_the_secretarys_scope_is_404_on_the_participant_page(
        client, org, login, make_quiz):
    quiz = make_quiz(audience={"unit_ids": [org.top.id]})
    login(org.secretary)
    assert client.get(f"/manage/quizzes/{quiz.id}/participants/{org.teacher.id}").status_code \
        == 200
    assert client.get(f"/manage/quizzes/{quiz.id}/participants/{org.outsider.id}").status_code \
        == 404


# --- creating and editing --------------------------------------------------------------

def test_times_are_entered_and_shown_in_the_configured_zone(client, org, login):
    login(org.secretary)
    response = client.post("/manage/quizzes/new",
                           data={**QUIZ_FORM, "owner_unit_id": org.gen_a.id})
    assert response.status_code == 302
    quiz = db.session.scalar(sa.select(Quiz))
    assert quiz.opens_at == datetime(2030, 1, 1, 0, 0)  # 08:00 in Shanghai
    assert quiz.status is QuizStatus.DRAFT and quiz.created_by_id == org.secretary.id
    assert quiz.time_limit_minutes == 30 and quiz.shuffle_options and not quiz.shuffle_questions
    page = text(client.get(f"/manage/quizzes/{quiz.id}/edit"))
    assert 'value="2030-01-01T08:00"' in page


@pytest.mark.parametrize(("changes", "message"), [
    ({"closes_at": "2030-01-01T07:00"}, "The closing time must be after the opening time."),
    ({"pass_mark": "95"}, "The pass mark cannot be above the excellent mark."),
    ({"excellent_mark": "120"}, "The excellent mark cannot be above the total."),
    ({"time_limit_minutes": "0"}, "Number must be between 1 and 1440."),
    ({"total_points": "99.3"}, "Write the total in whole or half points."),
    ({"attempts_allowed": "0"}, "Number must be between 1 and 100."),
])
def test_settings_are_validated_with_clear_messages(client, org, login, changes, message):
    login(org.admin)
    response = client.post("/manage/quizzes/new",
                           data={**QUIZ_FORM, "owner_unit_id": org.gen_a.id, **changes})
    assert response.status_code == 200 and message in text(response)
    assert db.session.scalar(sa.select(sa.func.count(Quiz.id))) == 0


def test_a_secretary_cannot_give_a_quiz_to_a_unit_outside_their_scope(client, org, login):
    login(org.secretary)
    response = client.post("/manage/quizzes/new",
                           data={**QUIZ_FORM, "owner_unit_id": org.gen_b.id})
    assert response.status_code == 200 and "Not a valid choice" in text(response)


def test_a_published_quiz_refuses_locked_edits_with_the_reason(client, org, login, make_quiz):
    quiz = make_quiz(attempts_allowed=1)
    login(org.admin)
    page = text(client.get(f"/manage/quizzes/{quiz.id}/edit"))
    assert re.search(r'<input[^>]*disabled[^>]*name="attempts_allowed"|'
                     r'<input[^>]*name="attempts_allowed"[^>]*disabled', page)
    assert not re.search(r'<input[^>]*name="title"[^>]*disabled', page)
    form = {"title": "党纪党规知识测试", "instructions": "", "pass_mark": "60",
            "excellent_mark": "90", "review_policy": "immediately",
            "closes_at": "", "attempts_allowed": "3"}
    form["closes_at"] = (quiz.closes_at + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%S")
    response = client.post(f"/manage/quizzes/{quiz.id}/edit", data=form, follow_redirects=True)
    assert ("only the title, instructions, closing time, marks, review and departures "
            "allowed can change") in text(response)
    db.session.refresh(quiz)
    assert quiz.attempts_allowed == 1


def test_a_published_quiz_takes_allowed_edits_and_audits_a_new_closing_time(client, org, login,
                                                                            make_quiz):
    quiz = make_quiz()
    old_close = quiz.closes_at
    login(org.admin)
    new_close = old_close + timedelta(days=1)
    local = (new_close + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    # Disabled inputs are not sent by browsers: only the editable ones are posted.
    response = client.post(f"/manage/quizzes/{quiz.id}/edit", data={
        "title": "改名后的测试", "instructions": "", "closes_at": local, "pass_mark": "50",
        "excellent_mark": "85", "review_policy": "after_close", "max_departures": "3"})
    assert response.status_code == 302, text(response)
    db.session.refresh(quiz)
    assert quiz.title == "改名后的测试" and quiz.pass_mark == 50 and quiz.max_departures == 3
    assert quiz.closes_at == new_close.replace(second=0, microsecond=0)
    assert quiz.shuffle_options is False and quiz.attempts_allowed == 1  # kept
    assert len(audits("quiz.closes_at")) == 1


def test_saving_settings_unchanged_keeps_the_seconds_and_writes_no_audit(client, org, login,
                                                                        make_quiz):
    quiz = make_quiz()
    closes_at = quiz.closes_at
    login(org.admin)
    local = (closes_at + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/manage/quizzes/{quiz.id}/edit", data={
        "title": quiz.title, "instructions": "", "closes_at": local, "pass_mark": "60",
        "excellent_mark": "90", "review_policy": "immediately", "max_departures": ""})
    assert response.status_code == 302
    db.session.refresh(quiz)
    assert quiz.closes_at == closes_at and audits("quiz.closes_at") == []


# --- paper ---------------------------------------------------------------------------

def test_fixed_paper_adds_in_order_skips_repeats_and_removes(client, org, login, draft,
                                                            make_quiz):
    ids = make_quiz.question_ids
    quiz = draft(paper={})
    login(org.secretary)
    client.post(f"/manage/quizzes/{quiz.id}/paper/add", data={"question_ids": [ids[2], ids[0]]})
    client.post(f"/manage/quizzes/{quiz.id}/paper/add", data={"question_ids": [ids[0], ids[4]]})
    db.session.refresh(quiz)
    assert quiz.paper == {"kind": "fixed", "question_ids": [ids[2], ids[0], ids[4]]}
    client.post(f"/manage/quizzes/{quiz.id}/paper/remove", data={"question_id": ids[0]})
    db.session.refresh(quiz)
    assert quiz.paper["question_ids"] == [ids[2], ids[4]]
    page = text(client.get(f"/manage/quizzes/{quiz.id}/paper"))
    assert "Chosen questions (2)" in page and "2 questions; 40 points as written" in page
    assert "scaled to the quiz" in page and "total of 100 points" in page


def test_the_picker_filters_the_bank(client, org, login, draft, make_quiz):
    ids = make_quiz.question_ids
    quiz = draft(paper={"kind": "fixed", "question_ids": ids[:1]})
    login(org.admin)
    page = text(client.get(f"/manage/quizzes/{quiz.id}/paper?kind=fixed&type=true_false"))
    assert f'name="question_ids" value="{ids[2]}"' in page and "1 questions" in page
    assert f'name="question_ids" value="{ids[0]}"' not in page


def test_rules_are_stored_with_category_names_and_checked(client, org, login, draft):
    quiz = draft(paper={})
    category = db.session.scalar(sa.select(Question)).category
    login(org.admin)
    data = {"rules-0-category_id": category.id, "rules-0-type": "single",
            "rules-0-difficulty": "", "rules-0-count": "1", "rules-0-points": "10",
            "rules-1-category_id": category.id, "rules-1-type": "", "rules-1-difficulty": "",
            "rules-1-count": "2", "rules-1-points": "",
            "rules-2-category_id": category.id, "rules-2-count": ""}
    response = client.post(f"/manage/quizzes/{quiz.id}/paper", data=data)
    assert response.status_code == 302, text(response)
    db.session.refresh(quiz)
    assert quiz.paper == {"kind": "rules", "rules": [
        {"category_id": category.id, "type": "single", "difficulty": None, "count": 1,
         "points": "10", "category": ["测试题"]},
        {"category_id": category.id, "type": None, "difficulty": None, "count": 2,
         "points": None, "category": ["测试题"]}]}
    page = text(client.get(f"/manage/quizzes/{quiz.id}/paper"))
    assert "3 questions; 50 points as written" in page  # 10 + two questions of 20
    assert "another draw may add up differently" in page


def test_the_publish_check_draws_from_the_pool_in_question_order(org, draft, make_quiz):
    """The check before publishing draws its sample paper (seed "check") from the bank's
    pool in question id order, as a taker's paper is drawn from the snapshot (sorted by
    position, then question id): the database's own row order, which on PostgreSQL
    follows updates, must not change which questions the check shows."""
    from studyhall.quizzes import paper as papers
    from studyhall.quizzes import queries

    ids = sorted(make_quiz.question_ids)
    category = db.session.get(Question, ids[0]).category
    quiz = draft(paper={})
    operations.set_paper_rules(quiz, [{"category_id": category.id, "type": None,
                                       "difficulty": None, "count": 3, "points": None}])
    # Rewrite the first two questions: PostgreSQL stores the new versions after the
    # others, and a scan without ORDER BY then returns them last.
    db.session.execute(sa.update(Question).where(Question.id.in_(ids[:2]))
                       .values(stem=Question.stem + ""))
    db.session.commit()
    items, _ = queries.get_pool(quiz)
    assert [item.id for item in items] == ids
    in_order = sorted(items, key=lambda item: item.id)
    drawn = [item.id for item in queries.check_paper(quiz).items]
    assert drawn == [item.id for item in papers.assemble(quiz, in_order, seed="check").items]


def test_a_rule_the_bank_cannot_satisfy_says_which_and_how_many(client, org, login, draft):
    quiz = draft(paper={})
    category = db.session.scalar(sa.select(Question)).category
    operations.set_paper_rules(quiz, [{"category_id": category.id, "type": "single",
                                       "difficulty": None, "count": 3, "points": None}])
    db.session.commit()
    login(org.admin)
    page = text(client.get(f"/manage/quizzes/{quiz.id}/paper"))
    assert "第1条规则" in page and "要抽3题" in page and "共1题" in page
    response = client.post(f"/manage/quizzes/{quiz.id}/publish", follow_redirects=True)
    assert "要抽3题" in text(response)
    db.session.refresh(quiz)
    assert quiz.status is QuizStatus.DRAFT


def test_rules_need_a_row_with_a_count(client, org, login, draft):
    quiz = draft()
    login(org.admin)
    response = client.post(f"/manage/quizzes/{quiz.id}/paper",
                           data={"rules-0-category_id": "0", "rules-0-count": ""})
    assert "Give at least one rule with a number of questions." in text(response)


# --- audience --------------------------------------------------------------------------

def test_audience_units_people_and_statuses_with_the_count_now(client, org, login, draft,
                                                               make_person):
    quiz = draft(audience={})
    make_person("m1", unit=org.branch_a, status=PoliticalStatus.MASSES)
    make_person("p2", unit=org.branch_a, status=PoliticalStatus.CPC_PROBATIONARY)
    login(org.secretary)
    response = client.post(f"/manage/quizzes/{quiz.id}/audience", data={
        "unit_ids": [org.branch_a.id], "accounts": "sec", "statuses": ["01", "02"]},
        follow_redirects=True)
    db.session.refresh(quiz)
    assert quiz.audience == {"unit_ids": [org.branch_a.id], "person_ids": [org.secretary.id],
                             "statuses": ["01", "02"]}
    # t1 (01), p2 (02) and the secretary (01); m1 is filtered out by 政治面貌.
    assert "Audience saved: 3 people now." in text(response)
    assert "The audience names 3 people now." in text(response)


def test_unknown_and_outside_accounts_are_reported_by_name(client, org, login, draft):
    quiz = draft(audience={})
    login(org.secretary)
    response = client.post(f"/manage/quizzes/{quiz.id}/audience",
                           data={"accounts": "t1，t2\nnobody"})
    assert "Not found in your units: t2、nobody" in text(response)
    db.session.refresh(quiz)
    assert quiz.audience == {}


def test_publishing_without_anybody_is_refused_and_leaves_no_snapshot(client, org, login,
                                                                     draft):
    quiz = draft(audience={"unit_ids": [], "person_ids": [], "statuses": []})
    login(org.admin)
    response = client.post(f"/manage/quizzes/{quiz.id}/publish", follow_redirects=True)
    assert "Nobody is in the audience" in text(response)
    db.session.refresh(quiz)
    assert quiz.status is QuizStatus.DRAFT
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizQuestion)) == 0


# --- the whole journey -----------------------------------------------------------------

def test_create_paper_audience_publish_fixes_recipients_and_snapshot(client, org, login,
                                                                     make_quiz, make_person):
    ids = make_quiz.question_ids
    colleague = make_person("t3", unit=org.branch_a, name="钱老师")
    login(org.secretary)
    client.post("/manage/quizzes/new", data={**QUIZ_FORM, "owner_unit_id": org.gen_a.id,
                                             "opens_at": "2020-01-01T08:00"})
    quiz = db.session.scalar(sa.select(Quiz))
    client.post(f"/manage/quizzes/{quiz.id}/paper/add", data={"question_ids": ids})
    client.post(f"/manage/quizzes/{quiz.id}/audience", data={"unit_ids": [org.branch_a.id]})
    confirm = text(client.get(f"/manage/quizzes/{quiz.id}/publish"))
    assert "2 people expected" in confirm and "5 questions; 100 points" in confirm
    response = client.post(f"/manage/quizzes/{quiz.id}/publish", follow_redirects=True)
    assert "Published: 2 people expected." in text(response)
    db.session.refresh(quiz)
    assert quiz.status is QuizStatus.PUBLISHED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizQuestion).where(
        QuizQuestion.quiz_id == quiz.id)) == 5
    # A later fix in the bank does not reach the published quiz's snapshot...
    row = db.session.get(Question, ids[0])
    bank_ops.save_question(row, qb.Question(type="single", stem="改过的题干",
                                            options=("一年", "两年"), answer="B", points=20),
                           row.category)
    # ...and a person moved later is still counted in the unit of publication day.
    org_ops.move_person(org.admin, colleague, org.branch_b)
    db.session.commit()
    assert db.session.get(QuizQuestion, (quiz.id, ids[0])).config["stem"] == "党员的预备期为几年？"
    page = text(client.get(f"/manage/quizzes/{quiz.id}/participants?unit={org.branch_a.id}"))
    assert "钱老师" in page and "2 found" in page
    assert client.get(f"/manage/quizzes/{quiz.id}/paper").status_code == 302  # drafts only
    assert re.search(r'data-label="Expected" class="num">2<', text(client.get("/manage/quizzes/")))


# --- closing, participants, figures ----------------------------------------------------

def test_closing_early_submits_open_attempts(client, org, login, make_quiz):
    quiz = make_quiz()
    attempt = sit(quiz, org.teacher, submit=False)
    login(org.secretary)
    assert "1 attempts in progress will be submitted" in text(
        client.get(f"/manage/quizzes/{quiz.id}/close"))
    response = client.post(f"/manage/quizzes/{quiz.id}/close", follow_redirects=True)
    assert "Closed; 1 attempts in progress were submitted." in text(response)
    db.session.refresh(attempt)
    db.session.refresh(quiz)
    assert attempt.status is AttemptStatus.SUBMITTED and attempt.end_reason == "closed"
    assert quiz.status is QuizStatus.CLOSED and quiz.closes_at <= utcnow()
    assert "Close early" not in text(client.get(f"/manage/quizzes/{quiz.id}"))


@pytest.fixture()
def results(org, make_quiz, make_person):
    """Five expected in 甲校第一支部: scores 95, 70 and 40, one in progress, one absent."""
    a = make_person("ra", unit=org.branch_a, name="甲一")
    b = make_person("rb", unit=org.branch_a, name="甲二", status=PoliticalStatus.MASSES)
    c = make_person("rc", unit=org.branch_a, name="甲三", status=PoliticalStatus.MASSES)
    d = make_person("rd", unit=org.branch_a, name="甲四")
    quiz = make_quiz(attempts_allowed=2)
    sit(quiz, a, 95)
    sit(quiz, b, 70)
    sit(quiz, c, 40)
    sit(quiz, d, submit=False)
    return quiz  # org.teacher is absent


def figure(page: str, name: str) -> str:
    return re.search(rf'data-figure="{name}">([^<]*)<', page).group(1)


def test_participant_figures_match_hand_computed_values(client, org, login, results):
    login(org.secretary)
    page = text(client.get(f"/manage/quizzes/{results.id}/participants"))
    assert figure(page, "expected") == "5" and figure(page, "took") == "3"
    assert figure(page, "participation") == "60.0%"
    assert figure(page, "average") == "68.33"  # 205 / 3
    assert figure(page, "average_over_expected") == "41.00"  # 205 / 5, absentees as 0
    assert figure(page, "pass_rate") == "66.7%" and figure(page, "excellent_rate") == "33.3%"


def test_figures_follow_the_status_filter(client, org, login, results):
    login(org.secretary)
    page = text(client.get(f"/manage/quizzes/{results.id}/participants?status=13"))
    assert figure(page, "expected") == "2" and figure(page, "took") == "2"
    assert figure(page, "average") == "55.00" and figure(page, "pass_rate") == "50.0%"
    assert figure(page, "excellent_rate") == "0.0%"


@pytest.mark.parametrize(("state", "names"), [
    ("not_started", {"李老师"}), ("in_progress", {"甲四"}),
    ("submitted", {"甲一", "甲二", "甲三"}), ("passed", {"甲一", "甲二"}), ("failed", {"甲三"}),
])
def test_participants_filter_by_state(client, org, login, results, state, names):
    login(org.secretary)
    page = text(client.get(f"/manage/quizzes/{results.id}/participants?state={state}"))
    shown = {name for name in ("李老师", "甲一", "甲二", "甲三", "甲四")
             if f">{name}</a>" in page}
    assert shown == names


def test_participants_are_paginated_with_the_figures_over_all_pages(client, org, login,
                                                                    results, monkeypatch):
    monkeypatch.setitem(client.application.config, "PEOPLE_PER_PAGE", 2)
    login(org.admin)
    page = text(client.get(f"/manage/quizzes/{results.id}/participants?state=&page=3"))
    assert figure(page, "expected") == "5" and page.count('data-label="Name"') == 1
    assert f'href="/manage/quizzes/{results.id}/participants?state=&amp;page=2"' in page


def test_the_last_attempt_counts_when_so_set(client, org, login, make_quiz):
    quiz = make_quiz(attempts_allowed=2, counting="last")
    sit(quiz, org.teacher, 90)
    sit(quiz, org.teacher, 50)
    login(org.admin)
    page = text(client.get(f"/manage/quizzes/{quiz.id}/participants"))
    assert figure(page, "average") == "50.00" and ">50<" in page


def test_practice_quizzes_show_no_figures(client, org, login, make_quiz):
    quiz = make_quiz(mode="practice")
    sit(quiz, org.teacher, 80)
    login(org.admin)
    page = text(client.get(f"/manage/quizzes/{quiz.id}/participants"))
    assert "data-figure" not in page and "Practice never counts in statistics." in page


def test_the_person_page_lists_answers_scores_and_departures(client, org, login, make_quiz):
    quiz = make_quiz()
    attempt = sit(quiz, org.teacher, submit=False)
    taking.save_answer(attempt, 1, "B", None, attempt.session_token)
    taking.record_event(attempt, "leave", attempt.session_token)
    taking.record_event(attempt, "return", attempt.session_token)
    taking.finish_attempt(attempt, utcnow())
    db.session.commit()
    login(org.secretary)
    page = text(client.get(f"/manage/quizzes/{quiz.id}/participants/{org.teacher.id}"))
    assert "Left the page 1 times." in page and "Left the page</td>" in page
    assert "Came back" in page and "0 of 20 points" in page and "解析甲" in page


# --- grants ------------------------------------------------------------------------------

def test_an_extra_attempt_lets_the_person_start_again(client, org, login, make_quiz):
    quiz = make_quiz()
    sit(quiz, org.teacher, 30)
    login(org.secretary)
    response = client.post(f"/manage/quizzes/{quiz.id}/participants/{org.teacher.id}/grant",
                           data={"attempts": "1", "minutes": "0"}, follow_redirects=True)
    assert "Granted." in text(response)
    assert [(e.details["attempts"], e.actor_id) for e in audits("quiz.grant")] == [
        (1, org.secretary.id)]
    client.post("/logout")
    login(org.teacher)
    response = client.post(f"/quizzes/{quiz.id}/start")
    assert response.status_code == 302 and "/attempts/" in response.location


def test_extra_minutes_move_the_deadline_of_the_attempt_in_progress(client, org, login,
                                                                   make_quiz):
    quiz = make_quiz(time_limit_minutes=20)
    attempt = sit(quiz, org.teacher, submit=False)
    before = attempt.deadline_at
    login(org.admin)
    client.post(f"/manage/quizzes/{quiz.id}/participants/{org.teacher.id}/grant",
                data={"attempts": "0", "minutes": "10"})
    db.session.refresh(attempt)
    assert attempt.deadline_at == before + timedelta(minutes=10)
    assert len(audits("attempt.deadline")) == 1 and len(audits("quiz.grant")) == 1
    assert db.session.get(QuizRecipient, (quiz.id, org.teacher.id)).extra_minutes == 10


def test_a_grant_of_nothing_is_refused(client, org, login, make_quiz):
    quiz = make_quiz()
    login(org.admin)
    response = client.post(f"/manage/quizzes/{quiz.id}/participants/{org.teacher.id}/grant",
                           data={"attempts": "0", "minutes": "0"}, follow_redirects=True)
    assert "Give at least one extra attempt or one extra minute." in text(response)
    assert audits("quiz.grant") == []


def test_a_closed_quiz_grants_nothing(client, org, login, make_quiz):
    quiz = make_quiz()
    operations.close_quiz(org.admin, quiz)
    db.session.commit()
    login(org.admin)
    response = client.post(f"/manage/quizzes/{quiz.id}/participants/{org.teacher.id}/grant",
                           data={"attempts": "1", "minutes": "0"}, follow_redirects=True)
    assert "Only an open quiz can grant more attempts or time." in text(response)
    assert audits("quiz.grant") == []


# --- grading -------------------------------------------------------------------------------

@pytest.fixture()
def short_answer(org, make_quiz):
    """A submitted attempt whose 简答 (position 5, 20 points) waits for a grader."""
    quiz = make_quiz()
    attempt = sit(quiz, org.teacher, submit=False)
    taking.save_answer(attempt, 5, "<b>三会</b>一课\n按时上好党课", None, attempt.session_token)
    taking.finish_attempt(attempt, utcnow())
    db.session.commit()
    return quiz, attempt


def test_the_grading_page_shows_reference_keywords_and_the_escaped_answer(client, org, login,
                                                                         short_answer):
    quiz, _attempt = short_answer
    login(org.secretary)
    page = text(client.get(f"/manage/quizzes/{quiz.id}/grading"))
    assert "简述三会一课。" in page and "支部党员大会、支部委员会会议" in page
    assert "按时上好党课" in page and "&lt;b&gt;三会&lt;/b&gt;" in page and "<b>三会" not in page
    assert 'name="expected" value=""' in page


def test_two_graders_do_not_overwrite_each_other(client, org, login, short_answer):
    quiz, attempt = short_answer
    url = f"/manage/quizzes/{quiz.id}/grading"
    answer = {"attempt_id": attempt.id, "position": 5, "expected": ""}
    login(org.admin)
    response = client.post(url, data={**answer, "score": "15"}, follow_redirects=True)
    assert "Score saved." in text(response)
    client.post("/logout")
    login(org.secretary)  # graded from a page loaded before the admin's score
    response = client.post(url, data={**answer, "score": "5"}, follow_redirects=True)
    assert "Another grader has just scored this answer (15.00)" in text(response)
    row = db.session.get(AttemptQuestion, (attempt.id, 5))
    db.session.refresh(row)
    db.session.refresh(attempt)
    assert row.score == 15 and row.graded_by_id == org.admin.id
    assert not attempt.pending_manual and attempt.score == 15
    # With what is now on the page, the second grader may change it (audited).
    client.post(url, data={**answer, "expected": "15.00", "score": "18"})
    db.session.refresh(row)
    assert row.score == 18
    assert [e.details["after"] for e in audits("attempt.score")] == ["15", "18"]


def test_a_score_beyond_the_points_is_refused(client, org, login, short_answer):
    quiz, attempt = short_answer
    login(org.admin)
    response = client.post(f"/manage/quizzes/{quiz.id}/grading", follow_redirects=True, data={
        "attempt_id": attempt.id, "position": 5, "expected": "", "score": "25"})
    assert "The score must be between 0 and 20" in text(response)
    assert db.session.get(AttemptQuestion, (attempt.id, 5)).score is None


def test_only_short_answers_of_this_quiz_can_be_graded(client, org, login, short_answer):
    quiz, attempt = short_answer
    login(org.admin)
    response = client.post(f"/manage/quizzes/{quiz.id}/grading", data={
        "attempt_id": attempt.id, "position": 1, "expected": "", "score": "1"})
    assert response.status_code == 404


# --- regrading -----------------------------------------------------------------------------

def test_regrading_after_a_bank_fix_changes_the_score_and_audits(client, org, login, make_quiz):
    quiz = make_quiz()
    attempt = sit(quiz, org.teacher, submit=False)
    taking.save_answer(attempt, 1, "B", None, attempt.session_token)  # wrong, until fixed
    taking.finish_attempt(attempt, utcnow())
    db.session.commit()
    assert attempt.score == 0
    question_id = make_quiz.question_ids[0]
    row = db.session.get(Question, question_id)
    bank_ops.save_question(row, qb.Question(type="single", stem="党员的预备期为几年？",
                                            options=("一年", "两年", "三年"), answer="B",
                                            points=20), row.category)
    db.session.commit()
    login(org.secretary)
    page = text(client.get(f"/manage/quizzes/{quiz.id}"))
    assert "Update from the bank and regrade" in page
    response = client.post(f"/manage/quizzes/{quiz.id}/questions/{question_id}/regrade",
                           follow_redirects=True)
    assert "1 scores changed" in text(response)
    db.session.refresh(attempt)
    assert attempt.score == 20
    [entry] = audits("attempt.regrade")
    assert Decimal(entry.details["total_before"]) == 0
    assert Decimal(entry.details["total_after"]) == 20


def test_a_fix_that_changes_the_options_count_is_refused(client, org, login, make_quiz):
    quiz = make_quiz()
    question_id = make_quiz.question_ids[0]
    row = db.session.get(Question, question_id)
    bank_ops.save_question(row, qb.Question(type="single", stem="党员的预备期为几年？",
                                            options=("一年", "两年"), answer="A", points=20),
                           row.category)
    db.session.commit()
    login(org.admin)
    response = client.post(f"/manage/quizzes/{quiz.id}/questions/{question_id}/regrade",
                           follow_redirects=True)
    assert "changes the type or the number of options" in text(response)


# --- demo --------------------------------------------------------------------------------

def test_seed_demo_quizzes_is_idempotent_and_shows_both_kinds(app):
    from studyhall.demo import seed_demo
    from studyhall.quizzes.demo import seed_demo_quizzes

    assert seed_demo() > 3  # seed_demo adds the demo quizzes
    db.session.commit()
    assert seed_demo_quizzes() == 0
    db.session.commit()
    quizzes = {q.title: q for q in db.session.scalars(sa.select(Quiz))}
    assert len(quizzes) == 3
    states = sorted((q.mode.value, q.status.value) for q in quizzes.values())
    assert states == [("exam", "closed"), ("exam", "published"), ("practice", "published")]
    closed = next(q for q in quizzes.values() if q.status is QuizStatus.CLOSED)
    submitted = db.session.scalar(sa.select(sa.func.count(Attempt.id)).where(
        Attempt.quiz_id == closed.id, Attempt.status == AttemptStatus.SUBMITTED))
    expected = db.session.scalar(sa.select(sa.func.count()).select_from(QuizRecipient).where(
        QuizRecipient.quiz_id == closed.id))
    assert expected > 10 and expected * 0.6 <= submitted < expected
    graded = db.session.scalar(sa.select(sa.func.count()).select_from(AttemptQuestion).join(
        Attempt).where(Attempt.quiz_id == closed.id, AttemptQuestion.graded_by_id.is_not(None)))
    assert graded == 1


def test_graders_see_and_score_only_answers_of_people_in_their_scope(client, org, login,
                                                                    make_quiz):
    """An admin's bureau-wide quiz owned by the committee: the 总支 secretary cannot read or
    score the answer of someone in another school."""
    from studyhall.quizzes import taking as taking_ops

    quiz = make_quiz(audience={"unit_ids": [org.top.id]}, owner_unit_id=org.top.id,
                     title="全局考试")
    attempt = taking_ops.start_attempt(quiz, taking_ops.recipient_of(quiz, org.outsider))
    taking_ops.save_answer(attempt, 5, "外校的答案", None, attempt.session_token)
    taking_ops.finish_attempt(attempt, utcnow())
    db.session.commit()
    login(org.secretary)
    assert client.get(f"/manage/quizzes/{quiz.id}/grading").status_code == 404
    client.post("/logout")
    login(org.admin)
    assert "外校的答案" in client.get(f"/manage/quizzes/{quiz.id}/grading").get_data(
        as_text=True)
