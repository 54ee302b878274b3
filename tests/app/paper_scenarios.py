"""Paper pages for the fragment-cache tests: every question type, with hostile text in
stems, options, explanations and answers, shuffled options, answers given and not, both
layouts, both locales, an exam and a practice quiz."""

from __future__ import annotations

import contextlib
import re

import question_bank as qb
from studyhall.bank import operations as bank_ops
from studyhall.extensions import db
from studyhall.quizzes.models import QuizMode

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(2)>{{ 7*7 }}&amp;\''
HOSTILE = [
    qb.Question(type="single", stem="单选" + XSS,
                options=("甲" + XSS, "<b>乙</b>", "丙 & 丁", "'\"戊"),
                answer="B", points=20, explanation="解析" + XSS, source="出处" + XSS),
    qb.Question(type="multiple", stem="多选" + XSS, options=("<i>A</i>", "B" + XSS, "C", "D\u202e"),
                answer=("A", "C"), points=20, explanation="解析" + XSS),
    qb.Question(type="true_false", stem="判断" + XSS, answer=True, points=20),
    qb.Question(type="fill_blank", stem="填空" + XSS + "____与____。",
                answer=(("甲",), ("乙" + XSS,)), points=20),
    qb.Question(type="short_answer", stem="简答" + XSS, answer="要点" + XSS,
                keywords=("要点",), points=20),
]
ANSWERS = {"single": "C", "multiple": ["A", "D"], "true_false": True,
           "fill_blank": ['"><script>alert(3)</script>', "</textarea>&lt;" + XSS],
           "short_answer": "</textarea><script>alert(4)</script>&amp;" + XSS}
_VARYING = [re.compile(r'(name="csrf[-_]token"[^>]*(?:value|content)=")[^"]+'),
            re.compile(r'(data-server-now=")[^"]+'), re.compile(r'(data-deadline=")[^"]+'),
            re.compile(r'(id="countdown"[^>]*>)[^<]+')]


def normalised(html: str) -> str:
    """The page without what changes from one request to the next (CSRF token, now)."""
    for pattern in _VARYING:
        html = pattern.sub(r"\1…", html)
    return html


def _positions(html: str) -> list[tuple[int, str]]:
    return [(int(p), t) for p, t in re.findall(r'data-position="(\d+)" data-type="(\w+)"', html)]


def scenario_pages(client, org, login, make_quiz, ways=(("", contextlib.nullcontext),)):
    """(name, normalised page) for each scenario, fetched through the client once in
    each of ``ways`` ((suffix of the name, context manager to fetch in), ...)."""
    category = bank_ops.create_category(None, "敌意题")
    ids = [bank_ops.save_question(None, q, category).id for q in HOSTILE]
    db.session.commit()
    login(org.teacher)
    pages = []
    # Practice first: no exam open yet withholds its keys.
    for mode in (QuizMode.PRACTICE, QuizMode.EXAM):
        quiz = make_quiz(title=f"测验{mode.value}" + XSS, mode=mode, shuffle_options=True,
                         shuffle_questions=True,
                         paper={"kind": "fixed", "question_ids": make_quiz.question_ids + ids})
        reply = client.post(f"/quizzes/{quiz.id}/start")
        assert reply.status_code == 302, reply.status_code
        url = reply.location
        attempt_id = int(re.search(r"/attempts/(\d+)", url).group(1))

        def page(name, lang="zh_CN", layout="one", url=url, mode=mode):
            client.set_cookie("lang", lang)
            client.set_cookie("studyhall_layout", layout)
            for suffix, way in ways:
                with way():
                    reply = client.get(url)
                assert reply.status_code == 200, reply.status_code
                pages.append((f"{mode.value}-{name}-{lang}-{layout}{suffix}",
                              normalised(reply.get_data(as_text=True))))
            return reply.get_data(as_text=True)

        html = page("empty")
        page("empty", "en", "all")
        questions = _positions(html)
        for position, kind in questions[::2]:  # half answered, every other flagged
            reply = client.post(f"/attempts/{attempt_id}/answers",
                                json={"position": position, "response": ANSWERS[kind],
                                      "flagged": position % 4 == 1})
            assert reply.status_code == 200, reply.get_data(as_text=True)
        page("half")
        page("half", "en", "all")
        for position, kind in questions[1::2]:
            client.post(f"/attempts/{attempt_id}/answers",
                        json={"position": position, "response": ANSWERS[kind]})
        page("all")
        page("all", "en", "one")
        page("all", "zh_CN", "all")
    client.set_cookie("lang", "zh_CN")
    client.delete_cookie("studyhall_layout")
    return pages
