"""Moodle XML (``<quiz><question type="...">``), parsed with defusedxml only.

Read: multichoice (single="true" → 单选题; single="false" → 多选题 whose answer is the
options with a positive fraction), truefalse → 判断题, shortanswer → 填空题 with one
blank (the answers with fraction 100 are the accepted alternatives; ``usecase`` is
``case_sensitive``), essay → 简答题 (``graderinfo`` is the reference answer), and
``category`` pseudo-questions (``$course$/top/...`` paths). HTML texts become plain
text (tags dropped, entities decoded, ``<pre>`` keeping its line breaks). Each image,
audio or video (``<img>``, ``<audio>``, ``<video>``, links to media files, files
attached with @@PLUGINFILE@@, Moodle 1.9's ``<image>``/``<image_base64>``) is dropped
with a warning of its own. ``generalfeedback`` is the explanation, ``defaultgrade``
the points, ``tags`` the tags. What else the bank has no place for is listed in one
warning per question: per-answer feedback, true/false feedback, partial credit on a
单选题's wrong option or a shortanswer's answer, unequal weights of a 多选题's right
options (equal shares summing to 100% are kept: the exam's 少选得部分分 policy scores
them), combined feedback other than Moodle's defaults, hints.
Every other question type is reported as unsupported, with its name and line
(``cloze``/``multianswer`` as 完形填空).

Written: Moodle's own shape, texts in ``plain_text`` format so they come back exactly;
the question name is the source (出处), or the start of the stem. Difficulty has no
place in Moodle XML and is not written; the source is not read back from the name.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from itertools import chain, repeat
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from question_bank.errors import QuestionValidationError
from question_bank.formats.base import (
    Codec,
    ImportIssue,
    ImportResult,
    UnsupportedItem,
    head_text,
    lost_warning,
    moodle_category,
    moodle_category_problem,
    multiple_weights_lost,
    option_feedback_lost,
    percent,
    single_weights_lost,
)
from question_bank.formats.html_text import html_to_text_media
from question_bank.formats.limits import DEFAULT_LIMITS, ReadLimits
from question_bank.formats.moodle_xml_writer import write_quiz
from question_bank.types import OPTION_LETTERS, Question, QuestionType

UNSUPPORTED_TYPES = {
    "matching": "配对题",
    "numerical": "数值题",
    "multianswer": "完形填空（Cloze）",
    "cloze": "完形填空（Cloze）",
    "calculated": "计算题",
    "calculatedsimple": "简单计算题",
    "calculatedmulti": "计算选择题",
    "ddwtos": "拖放文字题",
    "ddimageortext": "拖放图片题",
    "ddmarker": "拖放标记题",
    "gapselect": "下拉选词题",
    "description": "说明文字",
    "randomsamatch": "随机配对题",
    "random": "随机题",
    "ordering": "排序题",
}
_QUESTION_START = re.compile(rb"<question\b")
_DECLARED_ENCODING = re.compile(
    rb"\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._-]{1,40})[\"']"
)
_SAVE_AS_UTF8 = "请用UTF-8编码保存后重新导入"
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ufffe\uffff]")


# Moodle fills the combined feedback of every new question with these; they are not
# worth a warning.
_DEFAULT_COMBINED_FEEDBACK = frozenset((
    "Your answer is correct.", "Your answer is partially correct.",
    "Your answer is incorrect.", "你的答案正确。", "你的答案部分正确。", "你的答案不正确。",
    "回答正确。", "部分正确。", "回答错误。",
))  # fmt: skip
_COMBINED_FEEDBACK = {"correctfeedback": "答对时的反馈", "partiallycorrectfeedback":
                      "部分正确时的反馈", "incorrectfeedback": "答错时的反馈"}  # fmt: skip


class _Reader:
    """Reads the texts of one <question>, warning about each lost image, audio or video
    and listing in one warning what else of the question the bank cannot keep."""

    def __init__(self, element: ET.Element, line: int | None, result: ImportResult) -> None:
        self.element, self.line, self.result = element, line, result
        self.lost: list[str] = []
        self.media: list[str] = []

    def text(self, node: ET.Element | None) -> str:
        if node is None:
            return ""
        text = (node.findtext("text") or "").strip()
        files = [f.get("name", "") for f in node.findall("file")]
        if node.get("format", "html") != "html":
            plain, media = text, []
        else:
            plain, media = html_to_text_media(text)
        self.media += media
        self.media += [f"附件“{name}”" for name in files if not any(name in m for m in media)]
        return plain

    def field(self, path: str) -> str:
        return self.text(self.element.find(path))

    def answers(self) -> list[tuple[str, Decimal]]:
        return [
            (self.text(a), _fraction(a.get("fraction"))) for a in self.element.findall("answer")
        ]

    def feedbacks(self) -> list[str]:
        return [self.text(a.find("feedback")) for a in self.element.findall("answer")]

    def common(self, category: tuple[str, ...]) -> dict[str, Any]:
        tags = tuple(t.findtext("text", "").strip() for t in self.element.iterfind("tags/tag"))
        return {
            "stem": self.field("questiontext"),
            "explanation": self.field("generalfeedback"),
            "points": _points(self.element.findtext("defaultgrade")),
            "category": category,
            "tags": tags,
        }

    def add(self, **fields: Any) -> None:
        self._old_media()
        for tag, label in _COMBINED_FEEDBACK.items():
            text = self.field(tag)
            if text and text not in _DEFAULT_COMBINED_FEEDBACK:
                self.lost.append(f"{label}“{text}”")
        hints = [text for hint in self.element.findall("hint") if (text := self.text(hint))]
        self.lost += [f"提示“{text}”" for text in hints]
        for item in self.media:
            self.warn(f"{item}无法导入，已略去")
        try:
            question = Question(**fields)
        except QuestionValidationError as exc:
            self.result.errors.extend(ImportIssue(self.line, problem) for problem in exc.problems)
            return
        self.result.add(question, self.line)
        if self.lost:
            self.result.warnings.append(lost_warning(self.line, self.lost))

    def _old_media(self) -> None:
        """Moodle 1.9 kept a question's picture in <image> or <image_base64>."""
        image = (self.element.findtext("image") or "").strip()
        if image or self.element.find("image_base64") is not None:
            name = image.rsplit("/", 1)[-1]
            self.media.append(f"图片“{name}”" if name else "图片")

    def warn(self, message: str) -> None:
        self.result.warnings.append(ImportIssue(self.line, message))


def load(
    data: bytes, default_category: tuple[str, ...], limits: ReadLimits = DEFAULT_LIMITS
) -> ImportResult:
    """Read questions from a Moodle XML file."""
    source = _xml_source(data)
    if isinstance(source, ImportIssue):
        return ImportResult(errors=[source])
    try:
        root = fromstring(source)
    except ParseError as exc:
        line = exc.position[0]
        return ImportResult(
            errors=[ImportIssue(line, f"XML格式错误（{exc}）：请检查该行的标签是否完整")]
        )
    except DefusedXmlException:
        return ImportResult(errors=[ImportIssue(None, "文件含有不安全的XML实体或DTD，已拒绝导入")])
    except ValueError as exc:  # expat refuses some encodings it cannot decode itself
        return ImportResult(errors=[ImportIssue(None, f"XML无法读取（{exc}）：{_SAVE_AS_UTF8}")])
    if root.tag != "quiz":
        return ImportResult(errors=[ImportIssue(None, f"根元素应为<quiz>，实际是<{root.tag}>")])
    result = ImportResult()
    category = default_category
    raw = source.encode("utf-8") if isinstance(source, str) else source
    lines = chain(_question_lines(raw), repeat(None))
    for element, line in zip(root.findall("question"), lines, strict=False):
        qtype = element.get("type", "")
        if qtype == "category":
            category = moodle_category(element.findtext("category/text", "")) or default_category
        elif qtype in _READERS:
            _READERS[qtype](_Reader(element, line, result), category)
        else:
            name = UNSUPPORTED_TYPES.get(qtype, "未知题型")
            message = f"Moodle的{name}（{qtype}）题库不支持，未导入"
            result.unsupported.append(UnsupportedItem(line, qtype, message))
    return result


def _xml_source(data: bytes) -> bytes | str | ImportIssue:
    """What to hand to the parser: the bytes when expat can decode them itself (UTF-8, the
    usual case), else the text decoded here with the declared encoding (GBK, UTF-16…),
    or the problem when the declared encoding is unknown or does not fit the bytes."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        name = "utf-16"
    elif data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM outweighs the declaration
        name = "utf-8-sig"
    else:
        declared = _DECLARED_ENCODING.match(data)
        name = declared[1].decode("ascii") if declared else "utf-8"
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return ImportIssue(None, f"XML声明的编码“{name}”无法识别：{_SAVE_AS_UTF8}")
    if codec == "utf-8":
        return data
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError):  # LookupError: a codec that is not a text encoding
        return ImportIssue(None, f"文件内容不是XML声明的编码“{name}”：{_SAVE_AS_UTF8}")


def _question_lines(data: bytes) -> list[int]:
    """Line of each "<question" in the raw bytes, in document order."""
    lines, line, position = [], 1, 0
    for match in _QUESTION_START.finditer(data):
        line += data.count(b"\n", position, match.start())
        position = match.start()
        lines.append(line)
    return lines


def _fraction(text: str | None) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)


def _points(text: str | None) -> str:
    return (text or "1").strip()  # Question reads and checks it


def _read_multichoice(reader: _Reader, category: tuple[str, ...]) -> None:
    answers = reader.answers()
    options = tuple(text for text, _ in answers)
    letters = OPTION_LETTERS[: len(options)]
    reader.lost += option_feedback_lost(letters, reader.feedbacks())
    single = (reader.element.findtext("single") or "true").strip().lower() in ("true", "1")
    if single:
        best = max((fraction for _, fraction in answers), default=Decimal(0))
        right = [
            letter for letter, (_, f) in zip(letters, answers, strict=False) if f == best and f > 0
        ]
        reader.lost += single_weights_lost(letters, [f if f < best else None for _, f in answers])
        answer: str | tuple[str, ...] = right[0] if len(right) == 1 else ""
        qtype = QuestionType.SINGLE
    else:
        answer = tuple(letter for letter, (_, f) in zip(letters, answers, strict=False) if f > 0)
        reader.lost += multiple_weights_lost(letters, [f for _, f in answers])
        qtype = QuestionType.MULTIPLE
    reader.add(type=qtype, options=options, answer=answer, **reader.common(category))


_TRUE_FALSE_FEEDBACK = {"true": "选“正确”时的反馈", "false": "选“错误”时的反馈"}


def _read_truefalse(reader: _Reader, category: tuple[str, ...]) -> None:
    answers = reader.answers()
    right = [text.lower() for text, fraction in answers if fraction > 0]
    answer = right[0] == "true" if len(right) == 1 else ""
    for (text, _), feedback in zip(answers, reader.feedbacks(), strict=False):
        if feedback:
            label = _TRUE_FALSE_FEEDBACK.get(text.lower(), "反馈")
            reader.lost.append(f"{label}“{feedback}”")
    reader.add(type=QuestionType.TRUE_FALSE, answer=answer, **reader.common(category))


def _read_shortanswer(reader: _Reader, category: tuple[str, ...]) -> None:
    answers = reader.answers()
    accepted = tuple(text for text, fraction in answers if fraction == 100)
    for (text, fraction), feedback in zip(answers, reader.feedbacks(), strict=False):
        if fraction != 100:
            reader.lost.append(f"部分得分答案“{text}”（{percent(fraction)}）")
        if feedback:
            reader.lost.append(f"答案“{text}”的反馈“{feedback}”")
    reader.add(
        type=QuestionType.FILL_BLANK,
        answer=(accepted,),
        case_sensitive=(reader.element.findtext("usecase") or "0").strip() == "1",
        **reader.common(category),
    )


def _read_essay(reader: _Reader, category: tuple[str, ...]) -> None:
    reader.add(
        type=QuestionType.SHORT_ANSWER,
        answer=reader.field("graderinfo"),
        **reader.common(category),
    )


_READERS = {
    "multichoice": _read_multichoice,
    "truefalse": _read_truefalse,
    "shortanswer": _read_shortanswer,
    "essay": _read_essay,
}


def dump(questions: Sequence[Question]) -> bytes:
    """Write ``questions`` as a Moodle XML quiz file."""
    return write_quiz(questions)


def export_problem(question: Question) -> str | None:
    """Why Moodle XML cannot hold ``question`` unchanged, or None."""
    if question.type is QuestionType.FILL_BLANK and len(question.answer) > 1:
        return "Moodle XML的简答题（shortanswer）只能有一个空，多空填空题无法导出"
    if question.keywords:
        return "Moodle XML无法保存简答题的关键词"
    texts = [question.stem, question.explanation, *question.options, *question.tags]
    if question.type is QuestionType.FILL_BLANK:
        texts += [text for blank in question.answer for text in blank]  # type: ignore[union-attr]
    if any(_XML_FORBIDDEN.search(text) for text in texts):
        return "含有XML不允许的控制字符"
    return moodle_category_problem(question.category)


def looks_like(data: bytes) -> bool:
    """An XML document whose root is <quiz>."""
    return bool(
        re.match(r"(\ufeff)?\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*<quiz\b", head_text(data), re.S)
    )


def count(data: bytes) -> int:
    """<question> elements other than categories: to refuse a file before parsing."""
    return len(_QUESTION_START.findall(data)) - data.count(b'type="category"')


CODEC = Codec("moodle_xml", (".xml",), looks_like, load, dump, export_problem, count)
