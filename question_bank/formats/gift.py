"""Moodle GIFT text.

Read: ``stem{=right ~wrong}`` → 单选题; ``{~%50%A ~%50%B ~%-100%C}`` (no "=") → 多选题,
the options with a positive weight being the answer; ``{T}``/``{TRUE}``/``{F}``/
``{FALSE}`` → 判断题; ``{=a =b}`` → 填空题 with one blank accepting a or b; ``{}`` →
简答题. General feedback (``####...``) becomes the explanation; per-answer feedback
(``#...``) has no place in the bank and is reported as a warning when not empty.
``$CATEGORY:`` sets the category of the questions below it (``$course$/top/`` and
similar prefixes are dropped). ``// [tag:name]`` comment lines give tags; other
comment lines are ignored. ``::title::`` is ignored (the bank has no titles). Escapes
``\\: \\~ \\= \\# \\{ \\} \\\\ \\n`` are understood. ``[html]`` texts are turned into
plain text; ``[markdown]``, ``[plain]`` and ``[moodle]`` texts are kept as written.

Missing-word questions (text after the braces, ``The capital is {=Beijing ~Paris} of
China.``) keep their type; the stem gets "____" where the braces were.

Reported as unsupported: matching (``->``), numerical (``{#...}``), description (no
braces), and questions with more than one pair of braces.

Written: categories as ``$CATEGORY: $course$/top/...``, tags as ``// [tag:...]``,
multiple-choice weights as Moodle writes them. Points, difficulty and source have no
place in GIFT and are not written. A question that GIFT cannot hold unchanged (a fill-
in with several blanks or a case-sensitive one, a 简答题 with a reference answer or
keywords, text containing "->") is refused by ``export_problem``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from question_bank.formats.base import (
    UNDECODABLE,
    Codec,
    ImportIssue,
    ImportResult,
    UnsupportedItem,
    decode_text,
    head_text,
    moodle_category,
    moodle_category_path,
    moodle_category_problem,
    moodle_weight,
)
from question_bank.formats.html_text import html_to_text
from question_bank.formats.limits import DEFAULT_LIMITS, ReadLimits
from question_bank.types import MAX_OPTIONS, OPTION_LETTERS, Question, QuestionType

# Escaped characters are swapped for private-use placeholders while parsing.
_SPECIAL = "\\:~=#{}"
_PLACEHOLDER = {char: chr(0xE000 + i) for i, char in enumerate(_SPECIAL)}
_UNPLACEHOLDER = str.maketrans({v: k for k, v in _PLACEHOLDER.items()})
_ESCAPE = re.compile(r"\\([\\:~=#{}n])")
_FORMAT = re.compile(r"\[(html|markdown|plain|moodle)\]")
_WEIGHT = re.compile(r"%(-?\d+(?:\.\d+)?)%")
_TRUE_FALSE = re.compile(r"(T|TRUE|F|FALSE)(#.*)?", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"\[tag:([^\]]+)\]")
_BLANK = "____"


@dataclass
class _Block:
    line: int
    text: str
    tags: list[str]


@dataclass(frozen=True)
class _Answer:
    marker: str
    weight: Decimal | None
    text: str
    feedback: str


def load(
    data: bytes, default_category: tuple[str, ...], limits: ReadLimits = DEFAULT_LIMITS
) -> ImportResult:
    """Read questions from GIFT text."""
    text = decode_text(data)
    if text is None:
        return ImportResult(errors=[UNDECODABLE])
    result = ImportResult()
    category = default_category
    for block in _blocks(text):
        if block.text.startswith("$CATEGORY:"):
            category = moodle_category(block.text.removeprefix("$CATEGORY:")) or default_category
        else:
            _read_question(block, category, result)
    return result


def _blocks(text: str) -> Iterator[_Block]:
    lines: list[str] = []
    tags: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("//"):
            tags += _TAG.findall(line)
            continue
        if line and not line.startswith("$CATEGORY:"):
            start = start or number
            lines.append(line)
            continue
        if lines:  # a blank line or a $CATEGORY line ends the question
            yield _Block(start, "\n".join(lines), tags)
            lines, tags, start = [], [], 0
        if line:
            yield _Block(number, line, [])
    if lines:
        yield _Block(start, "\n".join(lines), tags)


def _read_question(block: _Block, category: tuple[str, ...], result: ImportResult) -> None:
    text = _protect(block.text)
    if text.startswith("::") and "::" in text[2:]:
        text = text[text.index("::", 2) + 2 :].lstrip()
    opening, closing = text.find("{"), text.find("}")
    if opening < 0:
        result.unsupported.append(_unsupported(block, "description", "说明文字（没有答案的题目）"))
        return
    if closing < opening:
        result.errors.append(ImportIssue(block.line, "缺少与“{”配对的“}”，请检查括号或用\\{转义"))
        return
    before, body, after = text[:opening], text[opening + 1 : closing], text[closing + 1 :]
    if "{" in after:
        result.unsupported.append(_unsupported(block, "cloze", "一道题中有多组{}（完形填空）"))
        return
    markup, before = _split_format(before.lstrip())
    stem = before + _BLANK + after if after.strip() else before
    _read_body(block, _Texts(markup, result, block.line), stem, body, category, result)


class _Texts:
    """Unescapes texts and turns [html] ones into plain text, warning about images."""

    def __init__(self, markup: str, result: ImportResult, line: int) -> None:
        self.markup, self.result, self.line = markup, result, line

    def __call__(self, text: str) -> str:
        text = text.translate(_UNPLACEHOLDER).strip()
        if self.markup != "html":
            return text
        plain, images = html_to_text(text)
        if images:
            self.result.warnings.append(ImportIssue(self.line, "题目中的图片无法导入，已略去"))
        return plain


def _read_body(
    block: _Block,
    texts: _Texts,
    stem: str,
    body: str,
    category: tuple[str, ...],
    result: ImportResult,
) -> None:
    answers_text, _, general = body.partition("####")
    answers_text = answers_text.strip()
    common = {
        "stem": texts(stem),
        "explanation": texts(general),
        "category": category,
        "tags": tuple(block.tags),
    }
    if answers_text.startswith("#"):
        result.unsupported.append(_unsupported(block, "numerical", "数值题"))
    elif not answers_text:
        result.add(Question(type=QuestionType.SHORT_ANSWER, **common), block.line)
    elif match := _TRUE_FALSE.fullmatch(answers_text):
        value = match[1].upper().startswith("T")
        result.add(Question(type=QuestionType.TRUE_FALSE, answer=value, **common), block.line)
    else:
        _read_answers(block, texts, answers_text, common, result)


def _read_answers(
    block: _Block, texts: _Texts, answers_text: str, common: dict[str, Any], result: ImportResult
) -> None:
    answers = _parse_answers(answers_text, texts)
    if answers is None:
        result.errors.append(ImportIssue(block.line, "答案区应以“=”或“~”开头，请检查{}中的内容"))
        return
    if all(a.marker == "=" and "->" in a.text for a in answers):
        result.unsupported.append(_unsupported(block, "matching", "配对题"))
        return
    if any(a.feedback for a in answers):
        result.warnings.append(ImportIssue(block.line, "选项反馈（#后的文字）无处保存，未导入"))
    if all(a.marker == "=" for a in answers):
        question = _fill_blank(block, answers, common, result)
    else:
        question = _choice(block, answers, common, result)
    if question is not None:
        result.add(question, block.line)


def _parse_answers(answers_text: str, texts: _Texts) -> list[_Answer] | None:
    if answers_text[0] not in "=~":
        return None
    answers = []
    for marker, raw in re.findall(r"([=~])([^=~]*)", answers_text):
        weight = _WEIGHT.match(raw)
        text, _, feedback = raw[weight.end() if weight else 0 :].partition("#")
        answers.append(
            _Answer(marker, Decimal(weight[1]) if weight else None, texts(text), texts(feedback))
        )
    return answers


def _fill_blank(
    block: _Block, answers: list[_Answer], common: dict[str, Any], result: ImportResult
) -> Question:
    accepted = tuple(a.text for a in answers if a.weight in (None, 100))
    if len(accepted) < len(answers):
        result.warnings.append(ImportIssue(block.line, "部分得分的答案无法保存，只导入了满分答案"))
    return Question(type=QuestionType.FILL_BLANK, answer=(accepted,), **common)


def _choice(
    block: _Block, answers: list[_Answer], common: dict[str, Any], result: ImportResult
) -> Question | None:
    options = tuple(a.text for a in answers)
    if len(options) > MAX_OPTIONS:
        message = f"选择题最多{MAX_OPTIONS}个选项，这道题有{len(options)}个"
        result.errors.append(ImportIssue(block.line, message))
        return None
    letters = OPTION_LETTERS[: len(options)]
    if any(a.marker == "=" for a in answers):
        right = [letter for letter, a in zip(letters, answers, strict=False) if a.marker == "="]
        if len(right) > 1:
            result.errors.append(
                ImportIssue(block.line, "单选题只能有一个“=”答案；多选题请用~%50%这样的权重写法")
            )
            return None
        if any(a.marker == "~" and a.weight for a in answers):
            result.warnings.append(ImportIssue(block.line, "单选题中的部分得分选项按错误选项导入"))
        return Question(type=QuestionType.SINGLE, options=options, answer=right[0], **common)
    right = [
        letter for letter, a in zip(letters, answers, strict=False) if a.weight and a.weight > 0
    ]
    return Question(type=QuestionType.MULTIPLE, options=options, answer=tuple(right), **common)


def _protect(text: str) -> str:
    return _ESCAPE.sub(lambda m: "\n" if m[1] == "n" else _PLACEHOLDER[m[1]], text)


def _split_format(text: str) -> tuple[str, str]:
    match = _FORMAT.match(text)
    return (match[1], text[match.end() :]) if match else ("moodle", text)


def _unsupported(block: _Block, construct: str, name: str) -> UnsupportedItem:
    message = f"GIFT的{name}（{construct}）题库不支持，未导入"
    return UnsupportedItem(block.line, construct, message)


def dump(questions: Sequence[Question]) -> bytes:
    """Write ``questions`` as GIFT, grouped under ``$CATEGORY:`` lines."""
    lines: list[str] = []
    category: tuple[str, ...] | None = None
    for question in questions:
        if question.category != category:
            category = question.category
            lines += [f"$CATEGORY: {moodle_category_path(category)}", ""]
        lines += [f"// [tag:{tag}]" for tag in question.tags]
        lines += [_question_text(question), ""]
    return "\n".join(lines).encode("utf-8")


def _question_text(question: Question) -> str:
    stem = _escape(question.stem)
    if _FORMAT.match(stem) or stem.startswith("//"):  # keep it from reading as markup
        stem = "[moodle]" + stem
    general = f"####{_escape(question.explanation)}" if question.explanation else ""
    if question.type is QuestionType.TRUE_FALSE:
        return f"{stem}{{{'TRUE' if question.answer else 'FALSE'}{general}}}"
    if question.type is QuestionType.SHORT_ANSWER:
        return f"{stem}{{{general}}}"
    answers = [f"\t{line}" for line in _answer_lines(question)]
    if general:
        answers.append(f"\t{general}")
    return "\n".join([stem + "{", *answers, "}"])


def _answer_lines(question: Question) -> list[str]:
    if question.type is QuestionType.FILL_BLANK:
        return [_answer("=", None, text) for text in question.answer[0]]  # type: ignore[index]
    if question.type is QuestionType.SINGLE:
        return [
            _answer("=" if letter == question.answer else "~", None, option)
            for letter, option in zip(OPTION_LETTERS, question.options, strict=False)
        ]
    share = moodle_weight(len(question.answer))
    return [
        _answer("~", share if letter in question.answer else "-100", option)
        for letter, option in zip(OPTION_LETTERS, question.options, strict=False)
    ]


def _answer(marker: str, weight: str | None, text: str) -> str:
    if weight is None and text.startswith("%"):  # would be read as a weight
        weight = "100" if marker == "=" else "0"
    return marker + (f"%{weight}%" if weight is not None else "") + _escape(text)


def _escape(text: str) -> str:
    for char in _SPECIAL:
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


def export_problem(question: Question) -> str | None:
    """Why GIFT cannot hold ``question`` unchanged, or None."""
    if question.type is QuestionType.FILL_BLANK and len(question.answer) > 1:
        return "GIFT的填空题只能有一个空，多空填空题无法导出"
    if question.case_sensitive:
        return "GIFT无法表示“区分大小写”"
    if question.type is QuestionType.SHORT_ANSWER and (question.answer or question.keywords):
        return "GIFT的简答题无法保存参考答案和关键词"
    texts = [*question.options, *_fill_texts(question)]
    if any("->" in text for text in texts):
        return "选项或答案中含有“->”，GIFT会把它读成配对题"
    if problem := moodle_category_problem(question.category):
        return problem
    if any("]" in tag or "\n" in tag for tag in question.tags):
        return "标签中含有“]”或换行，GIFT无法保存"
    return None


def _fill_texts(question: Question) -> list[str]:
    if question.type is not QuestionType.FILL_BLANK:
        return []
    return [text for blank in question.answer for text in blank]  # type: ignore[union-attr]


def looks_like(data: bytes) -> bool:
    """GIFT has a $CATEGORY line, a ::title:: or an answer block in braces."""
    head = head_text(data)
    return "$CATEGORY:" in head or "::" in head or bool(re.search(r"\{[\s\S]*[=~}]", head))


def count(data: bytes) -> int:
    """Answer blocks (an unescaped "{"), one per question: to refuse a file before parsing."""
    return len(re.findall(rb"(?<!\\)\{", data))


CODEC = Codec("gift", (".gift",), looks_like, load, dump, export_problem, count)
