"""What every format shares: the import report, the codec record and text decoding."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from question_bank.types import Question


def line_label(line: int | None) -> str:
    """ "第5行" for a row or line number, "文件" for the file as a whole."""
    return "文件" if line is None else f"第{line}行"


@dataclass(frozen=True)
class ParsedQuestion:
    """A valid question read from a file, and the row or line it starts on."""

    question: Question
    line: int | None


@dataclass(frozen=True)
class ImportIssue:
    """Something wrong (or, in ``warnings``, worth knowing) at one place of a file.

    ``line`` is the spreadsheet row or the text line (1-based), ``None`` for the whole
    file; ``column`` is the header or field concerned, "" when unknown; ``message``
    says in Chinese what is wrong and how to fix it.
    """

    line: int | None
    message: str
    column: str = ""
    value: str = ""

    @property
    def location(self) -> str:
        """E.g. 第5行“答案”列, 第12行, 文件."""
        where = line_label(self.line)
        return f"{where}“{self.column}”列" if self.column else where

    def __str__(self) -> str:
        return f"{self.location}：{self.message}"


@dataclass(frozen=True)
class UnsupportedItem:
    """A construct of the file that the bank cannot hold, e.g. a matching question."""

    line: int | None
    construct: str
    message: str

    @property
    def location(self) -> str:
        """E.g. 第40行."""
        return line_label(self.line)

    def __str__(self) -> str:
        return f"{self.location}：{self.message}"


@dataclass
class ImportResult:
    """Everything ``load_questions`` found. Nothing is dropped without a report.

    ``questions`` are valid; ``errors`` are items that could not be read, each with
    how to fix it; ``unsupported`` are constructs the bank cannot hold; ``warnings``
    are things that were read but deserve a look (an ignored column, an image left
    out of a stem). The caller decides between all-or-nothing and valid-only.
    """

    questions: list[ParsedQuestion] = field(default_factory=list)
    errors: list[ImportIssue] = field(default_factory=list)
    unsupported: list[UnsupportedItem] = field(default_factory=list)
    warnings: list[ImportIssue] = field(default_factory=list)
    #: A table whose 题型 column holds numeric codes: code → QuestionType value, as
    #: given by the caller or, when ``type_codes_guessed``, as guessed from the rows (the
    #: importer must confirm a guess before the questions are saved).
    type_codes: dict[str, str] = field(default_factory=dict)
    type_codes_guessed: bool = False

    @property
    def ok(self) -> bool:
        """True when every item of the file became a question."""
        return not self.errors and not self.unsupported

    def add(self, question: Question, line: int | None) -> None:
        """Keep ``question`` if valid, else record its problems as errors at ``line``."""
        problems = question.problems()
        if problems:
            self.errors.extend(ImportIssue(line, message) for message in problems)
        else:
            self.questions.append(ParsedQuestion(question, line))


@dataclass(frozen=True)
class ExportProblem:
    """Why the question at ``index`` (0-based) of the input cannot be exported."""

    index: int
    reason: str


@dataclass(frozen=True)
class Codec:
    """One file format: how to recognise, read and write it."""

    name: str
    extensions: tuple[str, ...]
    looks_like: Callable[[bytes], bool]
    #: (data, default category, limits) → report; see :mod:`.limits`.
    load: Callable[[bytes, tuple[str, ...], Any], ImportResult]
    dump: Callable[[Sequence[Question]], bytes]
    export_problem: Callable[[Question], str | None]
    #: A quick count of the questions in a text file, so that one beyond the limit is
    #: refused before it is parsed (tables are counted as they are read).
    count: Callable[[bytes], int] | None = None


def decode_text(data: bytes) -> str | None:
    """Decode a text file: UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030.

    Each attempt is strict, so a wrong guess fails instead of producing mojibake.
    :return: the text, or ``None`` when no encoding fits.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


UNDECODABLE = ImportIssue(None, "无法识别文件编码：请用UTF-8或GBK编码保存后重新导入")


def head_text(data: bytes, size: int = 4096) -> str:
    """The start of ``data`` as text, for sniffing; undecodable bytes are replaced."""
    for cut in range(4):  # the cut may split a multi-byte character
        text = decode_text(data[: size - cut])
        if text is not None:
            return text
    return data[:size].decode("utf-8", errors="replace")


_MOODLE_CONTEXT = re.compile(
    r"^\$(course|system|module|coursecategory|cat\d*)\$/(top(/|$))?|^top(/|$)"
)
_MOODLE_SEPARATOR = re.compile(r"(?<!/)/(?!/)")


def moodle_category(path: str) -> tuple[str, ...]:
    """Read a Moodle category path: "$course$/top/党纪党规/条例" → ("党纪党规", "条例").

    The context prefix and "top" are dropped; "//" stands for a "/" inside a name.
    """
    path = _MOODLE_CONTEXT.sub("", path.strip())
    parts = (part.replace("//", "/").strip() for part in _MOODLE_SEPARATOR.split(path))
    return tuple(part for part in parts if part)


def moodle_category_path(category: Sequence[str]) -> str:
    """Write a category the way Moodle exports it: "$course$/top/党纪党规/条例"."""
    return "/".join(["$course$", "top", *(part.replace("/", "//") for part in category)])


def moodle_category_problem(category: Sequence[str]) -> str | None:
    """Why Moodle cannot hold ``category`` unchanged, or None."""
    if any(part.startswith("/") or part.endswith("/") for part in category):
        return "分类名称以“/”开头或结尾，Moodle无法区分层级"
    return None


def moodle_weight(right_count: int) -> str:
    """Moodle's spelling of 100 / right_count, as its exporters write it: 50, 33.33333, 12.5."""
    share = (Decimal(100) / right_count).quantize(Decimal("0.00001"))
    return format(share.normalize(), "f")


def percent(weight: Decimal | None) -> str:
    """A Moodle weight as people read it: 50 → "50%", 33.33333 → "33.33333%"."""
    return f"{format((weight or Decimal(0)).normalize(), 'f')}%"


def lost_warning(line: int | None, lost: Sequence[str]) -> ImportIssue:
    """One warning listing what of a question the bank has no place for."""
    return ImportIssue(line, f"这道题的以下内容题库无处保存，未导入：{'；'.join(lost)}")


def option_feedback_lost(letters: str, feedbacks: Sequence[str]) -> list[str]:
    """Per-option feedback: the bank keeps one 解析 per question, not one per option."""
    return [
        f"选项{letter}的反馈“{text}”"
        for letter, text in zip(letters, feedbacks, strict=False)
        if text
    ]


def single_weights_lost(letters: str, weights: Sequence[Decimal | None]) -> list[str]:
    """Partial credit on a wrong option of a 单选题: it is read as wrong."""
    return [
        f"选项{letter}的部分得分（{percent(weight)}，按错误选项导入）"
        for letter, weight in zip(letters, weights, strict=False)
        if weight is not None and 0 < weight < 100
    ]


def multiple_weights_lost(letters: str, weights: Sequence[Decimal]) -> list[str]:
    """A 多选题 keeps its right options. Equal shares that add up to 100% say only "these
    are right, partial credit for some of them": that is the 多选 type with the quiz's
    policy (``partial``: 少选 scores a fixed fraction, where Moodle gives each right
    option its share, which differs only with three or more right options), so they are
    not listed. Unequal shares (70% + 30%) are listed. Penalties on wrong options become
    错选不得分."""
    right = [(letter, w) for letter, w in zip(letters, weights, strict=False) if w > 0]
    if not right:
        return []
    shares = {w for _, w in right}
    if len(shares) == 1 and abs(sum(w for _, w in right) - 100) < Decimal("0.1"):
        return []
    listed = "、".join(f"{letter} {percent(w)}" for letter, w in right)
    return [f"各正确选项不同的得分权重（{listed}），按多选题导入，少选得分由考试设置决定"]
