"""File formats: one entry point to read, one to write, and format detection.

Each format module offers a ``CODEC`` (see :class:`.base.Codec`); ``FORMATS`` lists them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from question_bank.errors import ExportError, FormatError
from question_bank.formats import aiken, csvfile, gift, moodle_xml, xlsx
from question_bank.formats.base import Codec, ExportProblem, ImportResult
from question_bank.formats.limits import DEFAULT_LIMITS, ReadLimits, refuse
from question_bank.types import Question

TABLE_FORMATS = ("xlsx", "csv")
# In sniffing order: the most distinctive first.
FORMATS: dict[str, Codec] = {
    codec.name: codec
    for codec in (xlsx.CODEC, moodle_xml.CODEC, csvfile.CODEC, aiken.CODEC, gift.CODEC)
}


def detect_format(filename: str | None, data: bytes) -> str:
    """Name the format of a file: by extension first, then by looking at its content.

    :raises FormatError: when neither tells.
    """
    extension = os.path.splitext(filename or "")[1].lower()
    for codec in FORMATS.values():
        if extension in codec.extensions:
            return codec.name
    for codec in FORMATS.values():
        if codec.looks_like(data):
            return codec.name
    raise FormatError("无法识别文件格式：请上传Excel（.xlsx）、CSV、GIFT、Aiken或Moodle XML文件")


def load_questions(
    data: bytes,
    format: str | None = None,
    filename: str | None = None,
    default_category: Sequence[str] = (),
    *,
    limits: ReadLimits = DEFAULT_LIMITS,
    type_codes: Mapping[str, str] | None = None,
) -> ImportResult:
    """Read every question of a file and report everything that could not be read.

    :param format: one of ``FORMATS``; detected from ``filename`` and ``data`` if None.
    :param default_category: category path for questions whose file gives none.
    :param limits: what the file may hold (:class:`ReadLimits`): a workbook is checked
        before it is read, so a zip bomb or a cell at XFD1048576 is refused, not read.
    :raises FormatError: for an unknown format name or an undetectable format.
    :raises FileRefusedError: when the file is beyond ``limits`` (too many rows or
        questions, a grid or an unpacked size too large, a cell too long); its message
        says what and the limit. A damaged workbook is an error in the result. Problems
        inside the file never raise: they are in the result's ``errors``,
        ``unsupported`` and ``warnings``.
    :param type_codes: for a table whose 题型 column holds numeric codes, what each code
        means (``{"1": "single", "2": "multiple"}``); without it the codes are guessed
        from the rows and the result says so (``type_codes_guessed``).
    """
    codec = _codec(format or detect_format(filename, data))
    if codec.count is not None and (found := codec.count(data)) > limits.max_rows:
        raise refuse("questions", limits, count=found)  # before a long parse
    if codec.name in TABLE_FORMATS:
        result = codec.load(data, tuple(default_category), limits, type_codes)  # type: ignore[call-arg]
    else:
        result = codec.load(data, tuple(default_category), limits)
    items = len(result.questions) + len(result.errors) + len(result.unsupported)
    if codec.name not in TABLE_FORMATS and items > limits.max_rows:
        # Tables are held to max_rows as they are read; a text format once parsed.
        raise refuse("questions", limits, count=items)
    return result


def export_problems(questions: Sequence[Question], format: str) -> list[ExportProblem]:
    """The questions that ``format`` cannot hold unchanged, each with the reason."""
    codec = _codec(format)
    return [
        ExportProblem(index, reason)
        for index, question in enumerate(questions)
        if (reason := codec.export_problem(question)) is not None
    ]


def dump_questions(questions: Sequence[Question], format: str) -> bytes:
    """Write ``questions`` in ``format``.

    :raises ExportError: listing every question the format cannot hold unchanged
        (see :func:`export_problems`); nothing is written then, never a mangled file.
    :raises FormatError: for an unknown format name.
    """
    problems = export_problems(questions, format)
    if problems:
        raise ExportError(format, problems)
    return _codec(format).dump(questions)


def _codec(name: str) -> Codec:
    try:
        return FORMATS[name]
    except KeyError:
        raise FormatError(f"未知格式“{name}”，可用：{'、'.join(FORMATS)}") from None
