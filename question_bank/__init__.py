"""StudyHall's question bank: question types, grading, file formats and paper assembly.

Pure Python: no Flask, SQLAlchemy, WTForms or pandas, and no I/O outside the bytes
it is given (and the shipped sample bank).
"""

from question_bank.assembly import (
    Paper,
    PaperItem,
    PoolItem,
    Rule,
    assemble_paper,
    can_shuffle_options,
    scale_points,
)
from question_bank.errors import (
    AssemblyError,
    ExportError,
    FormatError,
    QuestionBankError,
    QuestionValidationError,
)
from question_bank.formats import (
    FORMATS,
    detect_format,
    dump_questions,
    export_problems,
    load_questions,
)
from question_bank.formats.base import (
    ExportProblem,
    ImportIssue,
    ImportResult,
    ParsedQuestion,
    UnsupportedItem,
)
from question_bank.formats.limits import DEFAULT_LIMITS, FileRefusedError, ReadLimits
from question_bank.grading import GradeResult, grade
from question_bank.normalize import (
    normalize_text,
    normalized_key,
    parse_letters,
    parse_true_false,
)
from question_bank.sample import load_sample_bank
from question_bank.template import xlsx_template
from question_bank.types import (
    DEFAULT_POINTS,
    DIFFICULTY_LABELS,
    QUESTION_TYPES,
    Difficulty,
    Question,
    QuestionKind,
    QuestionType,
)

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_POINTS",
    "DIFFICULTY_LABELS",
    "FORMATS",
    "QUESTION_TYPES",
    "AssemblyError",
    "Difficulty",
    "ExportError",
    "ExportProblem",
    "FileRefusedError",
    "FormatError",
    "GradeResult",
    "ImportIssue",
    "ImportResult",
    "Paper",
    "PaperItem",
    "ParsedQuestion",
    "PoolItem",
    "Question",
    "QuestionBankError",
    "QuestionKind",
    "QuestionType",
    "QuestionValidationError",
    "ReadLimits",
    "Rule",
    "UnsupportedItem",
    "assemble_paper",
    "can_shuffle_options",
    "detect_format",
    "dump_questions",
    "export_problems",
    "grade",
    "load_questions",
    "load_sample_bank",
    "normalize_text",
    "normalized_key",
    "parse_letters",
    "parse_true_false",
    "scale_points",
    "xlsx_template",
]
