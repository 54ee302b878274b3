"""Moodle GIFT text.

Read: ``stem{=right ~wrong}`` → 单选题; ``{~%50%A ~%50%B ~%-100%C}`` (no "=") → 多选题,
the options with a positive weight being the answer; ``{T}``/``{TRUE}``/``{F}``/
``{FALSE}`` → 判断题; ``{=a =b}`` → 填空题 with one blank accepting a or b, and so is
``{One}`` (one answer written without "=", as Moodle reads it); ``{}`` → 简答题.
General feedback (``####...``) becomes the explanation. What the bank has no place for
is listed in one warning per question: per-answer and true/false feedback (``#...``),
partial credit on a 单选题's wrong option or a 填空题's answer, unequal weights of a
多选题's right options (equal shares summing to 100% are what the exam's 少选得部分分
policy scores, so they are kept as a plain 多选题).
``$CATEGORY:`` sets the category of the questions below it (``$course$/top/`` and
similar prefixes are dropped). ``// [tag:name]`` comment lines give tags; other
comment lines are ignored. ``::title::`` is ignored (the bank has no titles); a title
missing a colon (``:title::``) stays in the stem with a warning naming the line. Escapes
``\\: \\~ \\= \\# \\{ \\} \\\\ \\n`` are understood. A format tag (``[html]``, ``[markdown]``,
``[plain]``, ``[moodle]``) may start the stem and each answer, feedback and general
feedback (Moodle writes one wherever the format differs from the question's); a text
without one has the question's format. ``[html]`` texts are turned into plain text, each
lost image, audio or video reported; the others are kept as written.

A blank line inside {} ends the question early: reported as such, not as a missing "}".
A stem with a second {} that is not an answer block (``Use {} here{=a}``) is an error
that says which braces to escape; several answer blocks (cloze) are unsupported.

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
    lost_warning,
    moodle_category,
    moodle_category_path,
    moodle_category_problem,
    moodle_weight,
    multiple_weights_lost,
    option_feedback_lost,
    single_weights_lost,
)
from question_bank.formats.base import percent as _percent
from question_bank.formats.html_text import html_to_text_media
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
    end: int = 0  # the last line


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
    blocks = list(_blocks(text))
    index = 0
    while index < len(blocks):
        block = blocks[index]
        index += 1
        if block.text.startswith("$CATEGORY:"):
            category = moodle_category(block.text.removeprefix("$CATEGORY:")) or default_category
            continue
        if _unclosed(block.text):
            rest = _rest_of_split_question(blocks, index)
            if rest is not None:  # a blank line inside {} cut the question in two
                message = f"第{block.end + 1}行是{_BLANK_LINE_INSIDE}"
                result.errors.append(ImportIssue(block.line, message))
                index = rest
                continue
        _read_question(block, category, result)
    return result


_BLANK_LINE_INSIDE = (
    "{}中的空行：GIFT中空行表示一道题结束，所以这道题的“{”找不到配对的“}”；"
    "请删去{}中的空行"
)


def _unclosed(text: str) -> bool:
    text = _protect(text)
    opening = text.find("{")
    return opening >= 0 and text.find("}", opening) < 0


def _rest_of_split_question(blocks: list[_Block], index: int) -> int | None:
    """When the blocks from ``index`` on are the rest of a question cut by blank lines
    (they reach a "}" before any "{"), the index after them; else None."""
    while index < len(blocks) and not blocks[index].text.startswith("$CATEGORY:"):
        text = _protect(blocks[index].text)
        opening, closing = text.find("{"), text.find("}")
        if closing >= 0 and (opening < 0 or closing < opening):
            return index + 1
        if opening >= 0:
            return None
        index += 1
    return None


def _blocks(text: str) -> Iterator[_Block]:
    lines: list[str] = []
    tags: list[str] = []
    start = last = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("//"):
            tags += _TAG.findall(line)
            continue
        if line and not line.startswith("$CATEGORY:"):
            start = start or number
            last = number
            lines.append(line)
            continue
        if lines:  # a blank line or a $CATEGORY line ends the question
            yield _Block(start, "\n".join(lines), tags, last)
            lines, tags, start = [], [], 0
        if line:
            yield _Block(number, line, [], number)
    if lines:
        yield _Block(start, "\n".join(lines), tags, last)


_HALF_TITLE = re.compile(r":(?!:)[^\n{}]*?::")


def _read_question(block: _Block, category: tuple[str, ...], result: ImportResult) -> None:
    text = _protect(block.text)
    if text.startswith("::") and "::" in text[2:]:
        text = text[text.index("::", 2) + 2 :].lstrip()
    elif match := _HALF_TITLE.match(text):
        title = match[0].translate(_UNPLACEHOLDER)
        result.warnings.append(
            ImportIssue(
                block.line,
                f"“{title}”像是少写了一个冒号的标题，已作为题干的一部分导入；"
                f"标题应写成“:{title}”，不要标题请删去",
            )
        )
    opening, closing = text.find("{"), text.find("}")
    if opening < 0:
        if closing >= 0:
            message = "“}”前面没有“{”：如果“}”是文字，请写成“\\}”"
            result.errors.append(ImportIssue(block.line, message))
            return
        result.unsupported.append(_unsupported(block, "description", "说明文字（没有答案的题目）"))
        return
    if closing < 0:
        result.errors.append(ImportIssue(block.line, "缺少与“{”配对的“}”，请检查括号或用\\{转义"))
        return
    if closing < opening:
        message = "“}”出现在“{”之前：如果题干中的“}”是文字，请写成“\\}”"
        result.errors.append(ImportIssue(block.line, message))
        return
    before, body, after = text[:opening], text[opening + 1 : closing], text[closing + 1 :]
    if "{" in after or "}" in after:
        _several_braces(block, text, result)
        return
    markup, before = _split_format(before.lstrip())
    stem = before + _BLANK + after if after.strip() else before
    _read_body(block, _Texts(markup, result, block.line), stem, body, category, result)


_GROUP = re.compile(r"\{([^{}]*)\}")
_ANSWER_BLOCK = re.compile(r"\s*(\[\w+\])?\s*([=~#]|(T|TRUE|F|FALSE)\s*(#|$))", re.I)


def _several_braces(block: _Block, text: str, result: ImportResult) -> None:
    """More than one {} in a question: braces meant as text, or a cloze (unsupported)."""
    groups = list(_GROUP.finditer(text))
    literal = [g for g in groups if not _ANSWER_BLOCK.match(g[1])]
    if len(groups) >= 2 and len(groups) - len(literal) == 1:
        shown = literal[0][0].translate(_UNPLACEHOLDER)
        escaped = "\\{" + literal[0][1].translate(_UNPLACEHOLDER) + "\\}"
        message = (
            f"题干中的“{shown}”会被当作答案区：如果花括号是文字，请写成“{escaped}”"
            "（“{”和“}”前各加一个反斜杠）"
        )
        result.errors.append(ImportIssue(block.line, message))
    elif len(groups) >= 2 and not literal:
        message = (
            "GIFT的一道题中有多组{}（完形填空，cloze）题库不支持，未导入；"
            "如果其中的花括号是文字，请写成“\\{”和“\\}”"
        )
        result.unsupported.append(UnsupportedItem(block.line, "cloze", message))
    else:
        message = "花括号不配对：如果题干中的“{”或“}”是文字，请在它前面加反斜杠，写成“\\{”或“\\}”"
        result.errors.append(ImportIssue(block.line, message))


class _Texts:
    """Unescapes texts and turns [html] ones into plain text, warning about lost media.

    Each text may start with its own format tag ([html], [markdown], [plain], [moodle]),
    as Moodle writes on answers and feedback whose format differs from the question's;
    without one, a text has the question's format."""

    def __init__(self, markup: str, result: ImportResult, line: int) -> None:
        self.markup, self.result, self.line = markup, result, line
        self.lost: list[str] = []  # what the bank cannot keep, listed once per question

    def __call__(self, text: str) -> str:
        markup, text = _split_format(text.strip(), self.markup)
        text = text.translate(_UNPLACEHOLDER).strip()
        if markup != "html":
            return text
        plain, media = html_to_text_media(text)
        for item in media:
            self.result.warnings.append(ImportIssue(self.line, f"{item}无法导入，已略去"))
        return plain

    def report_lost(self) -> None:
        if self.lost:
            self.result.warnings.append(lost_warning(self.line, self.lost))


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
        for label, feedback in zip(("答错时的反馈", "答对时的反馈"),
                                   (match[2] or "").split("#")[1:3], strict=False):
            if text := texts(feedback):
                texts.lost.append(f"判断题{label}“{text}”")
        result.add(Question(type=QuestionType.TRUE_FALSE, answer=value, **common), block.line)
        texts.report_lost()
    elif answers_text[0] not in "=~" and not re.search("[=~]", answers_text):
        # {One}: Moodle reads a lone answer without "=" as a short answer
        text, _, feedback = answers_text.partition("#")
        answer = _Answer("=", None, texts(text), texts(feedback))
        question = _fill_blank(block, [answer], common, texts)
        result.add(question, block.line)
        texts.report_lost()
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
    if all(a.marker == "=" for a in answers):
        question = _fill_blank(block, answers, common, texts)
    else:
        question = _choice(block, answers, common, result, texts)
    if question is not None:
        result.add(question, block.line)
        texts.report_lost()


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
    block: _Block, answers: list[_Answer], common: dict[str, Any], texts: _Texts
) -> Question:
    accepted = tuple(a.text for a in answers if a.weight in (None, 100))
    for answer in answers:
        if answer.weight not in (None, 100):
            texts.lost.append(f"部分得分答案“{answer.text}”（{_percent(answer.weight)}）")
        if answer.feedback:
            texts.lost.append(f"答案“{answer.text}”的反馈“{answer.feedback}”")
    return Question(type=QuestionType.FILL_BLANK, answer=(accepted,), **common)


def _choice(
    block: _Block,
    answers: list[_Answer],
    common: dict[str, Any],
    result: ImportResult,
    texts: _Texts,
) -> Question | None:
    options = tuple(a.text for a in answers)
    if len(options) > MAX_OPTIONS:
        message = f"选择题最多{MAX_OPTIONS}个选项，这道题有{len(options)}个"
        result.errors.append(ImportIssue(block.line, message))
        return None
    letters = OPTION_LETTERS[: len(options)]
    texts.lost += option_feedback_lost(letters, [a.feedback for a in answers])
    if any(a.marker == "=" for a in answers):
        right = [letter for letter, a in zip(letters, answers, strict=False) if a.marker == "="]
        if len(right) > 1:
            result.errors.append(
                ImportIssue(block.line, "单选题只能有一个“=”答案；多选题请用~%50%这样的权重写法")
            )
            return None
        texts.lost += single_weights_lost(letters, [
            a.weight if a.marker == "~" else None for a in answers
        ])
        return Question(type=QuestionType.SINGLE, options=options, answer=right[0], **common)
    weights = [a.weight or Decimal(0) for a in answers]
    texts.lost += multiple_weights_lost(letters, weights)
    right = [letter for letter, weight in zip(letters, weights, strict=False) if weight > 0]
    return Question(type=QuestionType.MULTIPLE, options=options, answer=tuple(right), **common)


def _protect(text: str) -> str:
    return _ESCAPE.sub(lambda m: "\n" if m[1] == "n" else _PLACEHOLDER[m[1]], text)


def _split_format(text: str, default: str = "moodle") -> tuple[str, str]:
    match = _FORMAT.match(text)
    return (match[1], text[match.end() :]) if match else (default, text)


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
