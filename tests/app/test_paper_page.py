"""The paper page's questions come from a per-worker cache of rendered fragments
(studyhall/quizzes/paper_page.py), filled in with each taker's answers. The page must be
what rendering every question anew gives: every type, answers given and not, shuffled
options, both layouts and languages, practice feedback, hostile text still escaped; and a
changed question is never served from the cache."""

import contextlib
import re

import pytest
import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.quizzes import paper_page
from studyhall.quizzes.models import AttemptQuestion
from tests.app.paper_scenarios import XSS, scenario_pages


@pytest.fixture()
def fresh_cache(monkeypatch):
    monkeypatch.setattr(paper_page, "_FRAGMENTS", {})
    return paper_page._FRAGMENTS


def test_cached_questions_are_the_questions_rendered_anew(client, org, login, make_quiz,
                                                         fresh_cache, monkeypatch):
    """Each page fetched three times: every question rendered by Jinja with the taker's
    values (the reference), then through the cache (filled on the first pages, read
    after)."""
    compiled = []
    real = paper_page._compiled

    @contextlib.contextmanager
    def direct():
        with monkeypatch.context() as patch:
            patch.setattr(paper_page, "_compiled", lambda *args: None)
            yield

    @contextlib.contextmanager
    def cached():
        with monkeypatch.context() as patch:
            patch.setattr(paper_page, "_compiled",
                          lambda *args: compiled.append(1) or real(*args))
            yield

    pages = scenario_pages(client, org, login, make_quiz,
                           (("-direct", direct), ("-cached", cached), ("-again", cached)))
    assert len(pages) == 14 * 3
    for (name, reference), (_, first), (_, again) in zip(pages[::3], pages[1::3],
                                                         pages[2::3], strict=True):
        assert first == reference, name
        assert again == reference, name
    # Filled, and read: 10 questions, 10 buttons and the messages a page, each new
    # fragment compiled once.
    assert fresh_cache and len(compiled) == len(fresh_cache) < 14 * 21 / 2


def test_hostile_text_and_answers_stay_escaped(client, org, login, make_quiz, fresh_cache):
    pages = dict(scenario_pages(client, org, login, make_quiz))
    for name, page in pages.items():
        assert "<script>alert" not in page and "<img src=x" not in page, name
        assert "<b>乙</b>" not in page and "&lt;b&gt;乙&lt;/b&gt;" in page, name
    answered = pages["exam-all-zh_CN-one"]
    # A blank's value and the 简答's text, as the taker typed them, escaped.
    assert 'value="&#34;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"' in answered
    assert "&lt;/textarea&gt;&lt;script&gt;alert(4)&lt;/script&gt;&amp;amp;" in answered
    assert answered.count("checked") > pages["exam-empty-zh_CN-one"].count("checked")
    # Practice: checked answers come back with their feedback, escaped, and final.
    practice = pages["practice-all-zh_CN-one"]
    assert "feedback right" in practice or "feedback wrong" in practice
    assert "解析&lt;script&gt;alert(1)&lt;/script&gt;" in practice


def test_a_changed_question_is_never_served_from_the_cache(client, org, login, make_quiz,
                                                           fresh_cache):
    """A regrade rewrites the rows' configs: the page shows the new text at once, in the
    same worker, though the old fragment was cached."""
    quiz = make_quiz()
    login(org.teacher)
    url = client.post(f"/quizzes/{quiz.id}/start").location
    assert "党员的预备期为几年？" in client.get(url).get_data(as_text=True)
    assert fresh_cache
    row = db.session.scalar(sa.select(AttemptQuestion).where(AttemptQuestion.position == 1))
    row.config = {**row.config, "stem": "改过的题干<i>"}
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "党员的预备期为几年？" not in page and "改过的题干&lt;i&gt;" in page


def test_a_question_holding_the_slot_marker_is_rendered_directly(client, org, login,
                                                                 make_quiz, fresh_cache):
    """The fragment marks each slot with a NUL; a question whose text has one (the forms
    and imports drop NULs, the database need not) is rendered without the cache, as it
    is."""
    quiz = make_quiz()
    login(org.teacher)
    url = client.post(f"/quizzes/{quiz.id}/start").location
    row = db.session.scalar(sa.select(AttemptQuestion).where(AttemptQuestion.position == 1))
    row.config = {**row.config, "stem": "甲\x00p\x00乙" + XSS}
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert 'id="q1-stem">甲\x00p\x00乙&lt;script&gt;' in page
    assert 'data-position="1"' in page and 'data-position="2"' in page
    assert not any(key[1] == row.question_id for key in fresh_cache
                   if key[0] == paper_page.QUESTION)


_SECTION = re.compile(r'<section class="card q" id="q(\d+)" data-position="\d+" '
                      r'data-type="(\w+)"[^>]*?(hidden)?>(.*?)</section>', re.S)


def test_each_question_carries_this_takers_answer_flag_and_place(client, org, login,
                                                                  make_quiz, fresh_cache):
    """What the fill puts in, read back: half the questions answered (every other one
    from the first) and every fourth flagged; one per screen shows only the first
    unanswered question; the first has no "previous", the last no "next"."""
    pages = dict(scenario_pages(client, org, login, make_quiz))
    sections = _SECTION.findall(pages["exam-half-zh_CN-one"])
    assert len(sections) == 10
    answered = {int(p) for p, *_ in sections[::2]}
    current = min(int(p) for p, *_ in sections if int(p) not in answered)
    for index, (p, kind, hidden, body) in enumerate(sections):
        p = int(p)
        assert bool(hidden) == (p != current), p
        assert (f'name="flag{p}" data-flag checked' in body) == (p in answered and p % 4 == 1)
        if kind in ("single", "multiple", "true_false"):
            assert ("checked>" in body or "checked><span" in body) == (p in answered), p
        elif kind == "fill_blank":
            assert ('value="&#34;&gt;' in body) == (p in answered), p
        else:
            assert ("alert(4)" in body) == (p in answered), p
        assert ("data-prev disabled" in body) == (index == 0)
        assert ("data-next disabled" in body) == (index == 9)
    assert not _SECTION.findall(pages["exam-half-en-all"])[1][2]  # all on one page
    # The grid of numbers says the same, in its classes and its spoken labels.
    cells = re.findall(r'<button type="button" class="q-cell([\w ]*)" data-goto="(\d+)" '
                       r'(aria-current="step")? aria-label="([^"]+)">(\d+)</button>',
                       pages["exam-half-zh_CN-one"])
    assert sorted(int(p) for _, p, *_ in cells) == list(range(1, 11))
    for classes, p, aria_current, label, number in cells:
        p = int(p)
        flagged = p in answered and p % 4 == 1
        assert number == str(p) and label.startswith(f"第 {p} 题，")
        assert ("answered" in classes.split()) == (p in answered) == ("已答" in label)
        assert ("flagged" in classes.split()) == flagged == ("已标记" in label), (p, label)
        assert ("current" in classes.split()) == (p == current) == bool(aria_current)
