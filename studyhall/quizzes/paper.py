"""Between stored quiz data and question_bank's papers: pool items from a quiz's
snapshot, the paper spec, and paper items from an attempt's rows."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

import question_bank as qb
from studyhall.quizzes.models import AttemptQuestion, Quiz, QuizQuestion

#: Questions parsed in this process: question id → (type, config, question).
_PARSED: dict[int, tuple[str, Any, qb.Question]] = {}
#: More than any set of exams running at once on one worker; past it, all are forgotten.
PARSED_KEPT = 4096


def question_of(question_id: int, type: str, config: dict) -> qb.Question:
    """``question_bank.Question.from_config(type, config)``, remembered in this process.

    A county's exam parses the same 20 questions in every start, paper page and submit,
    and parsing was a fifth of each (bench/profile_quiz_paper.py). A remembered question
    is returned only when the type and config it was parsed from equal those given (a
    dict comparison, ~50 times cheaper than parsing), so an edited, regraded or other
    quiz's version of the question is parsed anew: the result is always from_config's.
    Questions are immutable; the config is copied, so a caller changing its dict later
    cannot change what is compared."""
    known = _PARSED.get(question_id)
    if known is not None and known[0] == type and known[1] == config:
        return known[2]
    question = qb.Question.from_config(type, config)
    if len(_PARSED) >= PARSED_KEPT:
        _PARSED.clear()
    _PARSED[question_id] = (type, copy.deepcopy(config), question)
    return question


#: Questions parsed from a config's stored JSON text: question id → (type, text, question).
_PARSED_TEXT: dict[int, tuple[str, str, qb.Question]] = {}


def question_of_text(question_id: int, type: str, config_text: str) -> qb.Question:
    """question_of for a config given as its stored JSON text (a start reads its quiz's
    snapshot so, and stores the text in the paper's rows as it is): the text is compared,
    and decoded only when it is not the one remembered."""
    known = _PARSED_TEXT.get(question_id)
    if known is not None and known[0] == type and known[1] == config_text:
        return known[2]
    question = question_of(question_id, type, json.loads(config_text))
    if len(_PARSED_TEXT) >= PARSED_KEPT:
        _PARSED_TEXT.clear()
    _PARSED_TEXT[question_id] = (type, config_text, question)
    return question


#: Questions with a paper's points: (question id, points) → (question, with those points).
_WITH_POINTS: dict[tuple[int, str], tuple[qb.Question, qb.Question]] = {}


def with_points(question_id: int, question: qb.Question, points: Decimal) -> qb.Question:
    """``dataclasses.replace(question, points=points)``, remembered in this process for
    that question object (as question_of returns it): a submit grades each of its answers
    with its question at the paper's points, and rebuilding (and validating) the question
    for each was a third of the grading. The entry holds the question it was made from
    and is used only for that very object, so a regraded question is rebuilt."""
    key = (question_id, str(points))
    known = _WITH_POINTS.get(key)
    if known is not None and known[0] is question:
        return known[1]
    result = replace(question, points=points)
    if len(_WITH_POINTS) >= PARSED_KEPT:
        _WITH_POINTS.clear()
    _WITH_POINTS[key] = (question, result)
    return result


def pool_items(rows: Sequence[QuizQuestion | sa.Row]) -> list[qb.PoolItem]:
    """The snapshot's questions (ORM objects or rows with question_id, position, type and
    config) as question_bank's pool."""
    return [qb.PoolItem(row.question_id, question_of(row.question_id, row.type, row.config))
            for row in sorted(rows, key=lambda r: (r.position, r.question_id))]


def pool_items_of_text(rows: Sequence[sa.Row]) -> list[qb.PoolItem]:
    """pool_items for rows whose config is its JSON text (``config_text``)."""
    return [qb.PoolItem(row.question_id, question_of_text(row.question_id, row.type,
                                                          row.config_text))
            for row in sorted(rows, key=lambda r: (r.position, r.question_id))]


def paper_spec(quiz: Quiz) -> list:
    """Question ids in order (fixed paper) or question_bank rules (drawn paper)."""
    if quiz.paper.get("kind") == "rules":
        return [qb.Rule(count=int(rule["count"]), category=tuple(rule.get("category", ())),
                        type=rule.get("type") or None, difficulty=rule.get("difficulty") or None,
                        points=Decimal(str(rule["points"])) if rule.get("points") else None)
                for rule in quiz.paper.get("rules", [])]
    return list(quiz.paper.get("question_ids", []))


def assemble(quiz: Quiz, pool: list[qb.PoolItem], seed: str) -> qb.Paper:
    """The paper for one attempt, its points scaled to the quiz's total.

    :raises question_bank.AssemblyError: the bank cannot satisfy the spec.
    """
    paper = qb.assemble_paper(pool, paper_spec(quiz), seed,
                              shuffle_questions=quiz.shuffle_questions,
                              shuffle_options=quiz.shuffle_options)
    if paper.total_points != quiz.total_points:
        paper = qb.Paper(qb.scale_points(paper.items, quiz.total_points), paper.seed)
    return paper


def item_of(row: AttemptQuestion) -> qb.PaperItem:
    """The paper item an attempt's row stands for (grading needs the original answer)."""
    return qb.PaperItem(row.question_id, question_of(row.question_id, row.type, row.config),
                        row.points, tuple(row.option_order))


def as_shown(item: qb.PaperItem) -> qb.Question:
    """The question as the taker saw it, for the review page: options in the order shown,
    the answer in those letters, the points of this paper."""
    return replace(item.question, options=item.displayed_options,
                   answer=item.displayed_answer, points=item.points)
