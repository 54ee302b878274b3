"""Aiken: the plain-text single-choice format Moodle reads.

    预备党员的预备期为多长时间？
    A. 半年
    B. 一年
    C. 两年
    ANSWER: B

The stem may run over several lines; options are "A." or "A)" (also "A、", "A．",
"A）" as Chinese users type them); "ANSWER:" names one letter. Questions are
separated by the ANSWER line (blank lines are optional). Aiken holds single choice
only: stem, options and answer; nothing else is written. Anything else, such as a
second answer letter, is reported with its line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from question_bank.formats.base import (
    UNDECODABLE,
    Codec,
    ImportIssue,
    ImportResult,
    decode_text,
    head_text,
)
from question_bank.formats.limits import DEFAULT_LIMITS, ReadLimits
from question_bank.normalize import parse_letters
from question_bank.types import MAX_OPTIONS, OPTION_LETTERS, Question, QuestionType

_OPTION = re.compile(r"([A-Z])[.)、]\s*(.*)")
_ANSWER = re.compile(r"ANSWER\s*:\s*(.*)", re.IGNORECASE)


@dataclass
class _Draft:
    line: int
    stem: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)


def load(
    data: bytes, default_category: tuple[str, ...], limits: ReadLimits = DEFAULT_LIMITS
) -> ImportResult:
    """Read single-choice questions from Aiken text."""
    text = decode_text(data)
    if text is None:
        return ImportResult(errors=[UNDECODABLE])
    result = ImportResult()
    draft: _Draft | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if draft is None:
            draft = _Draft(number)
        if answer := _ANSWER.fullmatch(unicodedata.normalize("NFKC", line)):
            _finish(draft, answer[1].strip(), number, default_category, result)
            draft = None
        elif (option := _option(line)) and (draft.stem or draft.options):
            draft.options.append((option[1], option[2].strip()))
        elif draft.options:
            result.errors.append(ImportIssue(number, "选项后面应是“ANSWER: 字母”，请补上答案行"))
            draft = _Draft(number, [line])
        else:
            draft.stem.append(line)
    if draft is not None:
        result.errors.append(ImportIssue(draft.line, "最后一题缺少“ANSWER: 字母”答案行"))
    return result


def _option(line: str) -> re.Match[str] | None:
    # Full-width "Ａ．" reads as "A."; only the marker is normalised, never the text.
    return _OPTION.fullmatch(unicodedata.normalize("NFKC", line[:2]) + line[2:])


def _finish(
    draft: _Draft,
    answer: str,
    line: int,
    default_category: tuple[str, ...],
    result: ImportResult,
) -> None:
    letters = [letter for letter, _ in draft.options]
    if letters != list(OPTION_LETTERS[: len(letters)]) or len(letters) > MAX_OPTIONS:
        message = f"选项应从A起按顺序排列且最多{MAX_OPTIONS}个，现在是“{''.join(letters)}”"
        result.errors.append(ImportIssue(draft.line, message))
        return
    chosen = parse_letters(answer)
    if chosen is None or len(chosen) != 1:
        message = f"答案“{answer}”应为一个选项字母；Aiken只支持单选题"
        result.errors.append(ImportIssue(line, message, "ANSWER", answer))
        return
    question = Question(
        type=QuestionType.SINGLE,
        stem="\n".join(draft.stem),
        options=tuple(text for _, text in draft.options),
        answer=chosen[0],
        category=default_category,
    )
    result.add(question, draft.line)


def dump(questions: Sequence[Question]) -> bytes:
    """Write single-choice ``questions`` as Aiken."""
    blocks = []
    for question in questions:
        options = [
            f"{letter}. {text}"
            for letter, text in zip(OPTION_LETTERS, question.options, strict=False)
        ]
        blocks.append("\n".join([question.stem, *options, f"ANSWER: {question.answer}"]))
    return ("\n\n".join(blocks) + "\n").encode("utf-8")


def export_problem(question: Question) -> str | None:
    """Why Aiken cannot hold ``question`` unchanged, or None."""
    if question.type is not QuestionType.SINGLE:
        return "Aiken格式只支持单选题"
    texts = (question.stem, *question.options)
    if any("\n" in text for text in texts):
        return "Aiken格式的题干和选项不能换行"
    if _option(question.stem) or _ANSWER.fullmatch(unicodedata.normalize("NFKC", question.stem)):
        return "题干以“A.”或“ANSWER:”开头，Aiken会读错"
    return None


def looks_like(data: bytes) -> bool:
    """A line "ANSWER: X" on its own."""
    head = unicodedata.normalize("NFKC", head_text(data))
    return bool(re.search(r"^\s*ANSWER\s*:\s*[A-Z]\s*$", head, re.MULTILINE | re.IGNORECASE))


def count(data: bytes) -> int:
    """ANSWER lines, one per question: to refuse a file before parsing."""
    return len(re.findall(rb"(?im)^[ \t]*ANSWER[ \t]*:", data))


CODEC = Codec("aiken", (".aiken",), looks_like, load, dump, export_problem, count)
