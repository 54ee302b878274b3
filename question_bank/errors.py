"""Exceptions raised by :mod:`question_bank`.

The tree::

    QuestionBankError               base of everything this package raises
    ├── QuestionValidationError     a Question breaks a rule; .problems lists every one
    ├── FormatError                 an unknown format name, or a file whose format
    │                               cannot be recognised
    ├── FileRefusedError            a file beyond the ReadLimits (formats.limits); .reason
    ├── ExportError                 questions the chosen format cannot hold; .problems
    └── AssemblyError               a paper spec that the pool cannot satisfy

``QuestionValidationError`` and ``FormatError`` are also ``ValueError``s.

Mistakes *inside* an imported file are not raised: ``load_questions`` reports them in
``ImportResult.errors`` so that the caller can choose all-or-nothing or valid-only.
Messages are in Chinese, because the people who read them are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from question_bank.formats.base import ExportProblem


_LISTED = 5  # problems spelled out in an ExportError's message; all are in .problems


class QuestionBankError(Exception):
    """Base class of every exception raised by question_bank."""


class QuestionValidationError(QuestionBankError, ValueError):
    """A question breaks one or more rules; ``problems`` holds every message."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("；".join(self.problems))


class FormatError(QuestionBankError, ValueError):
    """An unknown format name, or a file whose format cannot be recognised."""


class ExportError(QuestionBankError):
    """Some questions cannot be written in the chosen format; nothing was written."""

    def __init__(self, format_name: str, problems: Iterable[ExportProblem]) -> None:
        self.format_name = format_name
        self.problems: tuple[ExportProblem, ...] = tuple(problems)
        listed = "；".join(f"第{p.index + 1}题：{p.reason}" for p in self.problems[:_LISTED])
        more = "……" if len(self.problems) > _LISTED else ""
        super().__init__(f"有{len(self.problems)}道题无法导出为{format_name}：{listed}{more}")


class AssemblyError(QuestionBankError):
    """The pool cannot satisfy a paper spec; the message names the rule and the counts."""
