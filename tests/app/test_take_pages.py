"""What the taker's and the owner's pages say, as sent by the server: the paper in its
layout, practice feedback that survives a reload, the deadline, the score on 我的测试, the
review in words, and a drawn paper's pool folded away."""

import re
from datetime import timedelta

import question_bank as qb
from studyhall.bank import operations as bank_ops
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.quizzes import operations as quiz_ops
from studyhall.quizzes.models import Quiz


def start(client, quiz) -> int:
    response = client.post(f"/quizzes/{quiz.id}/start")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/attempts/(\d+)", response.location).group(1))


def save(client, attempt_id, position, response):
    return client.post(f"/attempts/{attempt_id}/answers",
                       json={"position": position, "response": response})


def section(page: str, position: int) -> str:
    """The opening tag and body of question ``position``'s section."""
    return re.search(rf'<section[^>]*id="q{position}".*?</section>', page, re.S).group(0)


def test_one_per_screen_is_sent_with_only_the_current_question_visible(client, org, login,
                                                                      make_quiz):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    save(client, attempt_id, 1, "A")
    save(client, attempt_id, 2, ["A"])
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    opening = {p: section(page, p).split(">", 1)[0] for p in range(1, 6)}
    assert [p for p, tag in opening.items() if " hidden" not in tag] == [3]  # first open one
    assert 'class="q-cell current" data-goto="3" aria-current="step"' in page
    assert 'href="#q3-title" data-skip' in page

    client.set_cookie("studyhall_layout", "all")
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert not any(" hidden" in section(page, p).split(">", 1)[0] for p in range(1, 6))
    assert 'class="attempt"' in page


def test_the_paper_names_each_question_and_its_groups(client, org, login, make_quiz):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert re.search(r"<h1[^>]*>党纪党规知识测试</h1>", page)
    one = section(page, 1)
    assert '<h2 class="q-title" id="q1-title" tabindex="-1">' in one
    assert '<fieldset class="choices" aria-labelledby="q1-title q1-stem"' in one
    assert 'aria-label="Question 1, unanswered, current question"' in page
    assert "Flag to come back<span class=\"visually-hidden\">（Question 4）" in section(page, 4)
    assert "Question 4 </span>Blank 1" in section(page, 4)
    assert 'aria-labelledby="confirm-title"' in page


def test_a_timed_paper_counts_down_and_an_untimed_one_shows_its_close(client, org, login,
                                                                     make_quiz):
    login(org.teacher)
    timed = start(client, make_quiz(time_limit_minutes=20))
    page = client.get(f"/attempts/{timed}").get_data(as_text=True)
    assert re.search(r'id="countdown" class="countdown" role="timer"[^>]*>(19:5\d|20:00)<', page)

    closes = (utcnow() + timedelta(days=365)).replace(hour=10, minute=0, second=0,
                                                      microsecond=0)
    year = start(client, make_quiz(title="每日一练", mode="practice", closes_at=closes))
    page = client.get(f"/attempts/{year}").get_data(as_text=True)
    assert 'role="timer"' not in page
    # Shown in the configured time zone (Asia/Shanghai: 10:00 UTC is 18:00).
    assert re.search(r'class="closes"[^>]*>Closes \w{3} \d+, \d{4} 18:00<', page)


def test_the_close_date_reads_naturally_in_chinese(client, org, login, make_quiz):
    closes = utcnow().replace(month=12, day=31, hour=10, minute=0, second=0, microsecond=0)
    if closes <= utcnow() + timedelta(minutes=10):
        closes = closes.replace(year=closes.year + 1)
    quiz = make_quiz(title="每日一练", mode="practice", closes_at=closes)
    login(org.teacher)
    client.set_cookie("lang", "zh_CN")
    attempt_id = start(client, quiz)
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert re.search(r"截止 (\d{4}年)?12月31日 18:00", page)


def test_practice_feedback_and_finality_survive_a_reload(client, org, login, make_quiz):
    quiz = make_quiz(title="每日一练", mode="practice")
    login(org.teacher)
    attempt_id = start(client, quiz)
    save(client, attempt_id, 1, "B")       # wrong: the key is A
    save(client, attempt_id, 3, False)     # right
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    one, three, two = section(page, 1), section(page, 3), section(page, 2)
    assert '<fieldset class="choices" aria-labelledby="q1-title q1-stem" disabled>' in one
    assert 'value="B"\n        checked' in one
    assert ('class="feedback wrong" id="q1-feedback" ><p>Wrong</p><p>Answer：A</p>'
            '<p>Explanation：解析甲：预备期为一年</p><p>Source：出处甲') in one
    assert 'class="feedback right" id="q3-feedback" ><p>Right</p>' in three
    assert 'data-flag  disabled' in one
    # Not yet answered: open, no feedback, and its check button waits for an answer.
    assert "disabled>" not in two.split("q-actions")[0]
    assert 'id="q2-feedback" hidden' in two and "data-check" in two


def test_an_exam_paper_carries_no_feedback(client, org, login, make_quiz):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    save(client, attempt_id, 1, "B")
    page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
    assert "Answer：" not in page and "data-check" not in page
    assert '<fieldset class="choices" aria-labelledby="q1-title q1-stem" >' in section(page, 1)


def test_my_quizzes_shows_the_score_when_the_result_page_would(client, org, login, make_quiz):
    shown = make_quiz(title="立即公布的测试")
    held = make_quiz(title="截止后公布的测试", review_policy="after_close")
    login(org.teacher)
    for quiz, answer in ((shown, "A"), (held, "A")):
        attempt_id = start(client, quiz)
        save(client, attempt_id, 1, answer)
        client.post(f"/attempts/{attempt_id}/submit")
    page = client.get("/quizzes/").get_data(as_text=True)
    cards = {title: card for card in re.findall(r'<article class="card quiz-card">.*?</article>',
                                                page, re.S)
             for title in ("立即公布的测试", "截止后公布的测试") if title in card}
    assert re.search(r"Score：<strong>20</strong> <span[^>]*>/ 100</span>",
                     cards["立即公布的测试"])
    assert "Score" not in cards["截止后公布的测试"]

    held.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    page = client.get("/quizzes/").get_data(as_text=True)
    card = page.split("截止后公布的测试", 1)[1].split("</article>")[0]
    assert "Score：<strong>20</strong>" in card


def test_the_review_says_in_words_which_option_is_right_and_which_was_chosen(client, org,
                                                                            login, make_quiz):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = start(client, quiz)
    save(client, attempt_id, 1, "B")
    save(client, attempt_id, 3, False)
    client.post(f"/attempts/{attempt_id}/submit")
    page = client.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    options = re.findall(r"<li class=\"([^\"]*)\"><span class=\"q-letter\"[^>]*>(.)</span>"
                         r"<span>([^<]*)</span>(.*?)</li>", page)
    marks = {(letter, text): tail for _cls, letter, text, tail in options}
    assert "Correct answer" in marks[("A", "一年")] and "Your choice" not in marks[("A", "一年")]
    assert "Your choice" in marks[("B", "两年")] and "Correct answer" not in marks[("B", "两年")]
    assert marks[("C", "三年")] == ""
    assert "Correct answer" in marks[("×", "False")] and "Your choice" in marks[("×", "False")]


def _rules_quiz(org, count=25, draw=3) -> Quiz:
    category = bank_ops.create_category(None, "抽题池")
    for n in range(count):
        bank_ops.save_question(None, qb.Question(type="single", stem=f"池中第{n + 1}题？",
                                                 options=("对", "错"), answer="A", points=5),
                               category)
    now = utcnow()
    quiz = Quiz(title="抽题测试", owner_unit_id=org.gen_a.id, opens_at=now,
                closes_at=now + timedelta(hours=1), audience={"unit_ids": [org.branch_a.id]})
    db.session.add(quiz)
    db.session.flush()
    quiz_ops.set_paper_rules(quiz, [{"category_id": category.id, "type": "single",
                                     "difficulty": "", "count": draw, "points": None}])
    quiz_ops.publish_quiz(org.admin, quiz, now=now)
    db.session.commit()
    return quiz


def test_a_drawn_paper_shows_its_rules_and_folds_its_pool_into_pages(client, org, login):
    quiz = _rules_quiz(org)
    login(org.admin)
    page = client.get(f"/manage/quizzes/{quiz.id}").get_data(as_text=True)
    assert "Each paper draws 3 questions at random from a pool of 25" in page
    assert re.search(r"<td[^>]*>抽题池</td>\s*<td[^>]*>[^<]+</td>\s*<td[^>]*>Any</td>\s*"
                     r"<td[^>]*>3</td>", page)
    pool = page.split('<details class="pool" >', 1)[1].split("</details>")[0]
    assert "<summary>The pool: 25 questions</summary>" in pool
    assert pool.count("Update from the bank and regrade") == 20
    assert "池中第1题" in pool and "池中第21题" not in pool
    assert f'/manage/quizzes/{quiz.id}?page=2' in pool

    second = client.get(f"/manage/quizzes/{quiz.id}?page=2").get_data(as_text=True)
    assert '<details class="pool" open>' in second
    assert second.count("Update from the bank and regrade") == 5
    assert '<ol class="question-list" start="21">' in second and "池中第21题" in second
