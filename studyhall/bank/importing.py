"""Question import: read a file with question_bank, plan each question's fate (new, a
duplicate of one in its target category, or repeated within the file), then apply the
plan in one transaction. A repeat with a different answer is an error naming both lines:
the file contradicts itself and picking one silently would be a guess. The edit screen's
validation (``Question.problems``) is the import's validation too: the library runs it
on every question it reads."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _

import question_bank as qb
from studyhall.bank.models import Question
from studyhall.bank.operations import CategoryCache, save_question
from studyhall.bank.queries import find_duplicates
from studyhall.extensions import db

#: Where a question lands when neither the file nor the importer names a category.
DEFAULT_CATEGORY = ("未分类",)
DUPLICATE_POLICIES = ("skip", "update")
#: The longest texts the question form accepts (bank/forms.py), held on import too.
TEXT_LIMITS = {"stem": 5000, "option": 1000, "explanation": 5000, "reference": 5000,
               "source": 300, "tags": 400, "keywords": 500}


def split_path(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace(">", "/").split("/") if part.strip())


@dataclass
class ImportRow:
    line: int | None
    question: qb.Question
    category: tuple[str, ...]
    fate: str = "new"  # new / duplicate / repeat
    existing_id: int | None = None
    repeat_of: int | None = None


@dataclass
class QuestionImportPlan:
    rows: list[ImportRow] = field(default_factory=list)
    result: qb.ImportResult | None = None
    file_error: str | None = None

    @property
    def errors(self) -> list[qb.ImportIssue]:
        return self.result.errors if self.result else []

    @property
    def unsupported(self) -> list[qb.UnsupportedItem]:
        return self.result.unsupported if self.result else []

    @property
    def warnings(self) -> list[qb.ImportIssue]:
        return self.result.warnings if self.result else []

    @property
    def has_problems(self) -> bool:
        return bool(self.file_error or self.errors or self.unsupported)

    @property
    def type_codes(self) -> dict[str, str]:
        """Numeric 题型 codes of a table and what they were read as."""
        return self.result.type_codes if self.result else {}

    @property
    def type_codes_unconfirmed(self) -> bool:
        """The codes were guessed: nothing is saved until the importer confirms them."""
        return bool(self.result and self.result.type_codes_guessed)

    @property
    def counts(self) -> Counter:
        return Counter(row.fate for row in self.rows)

    def can_apply(self, valid_only: bool) -> bool:
        return self.file_error is None and bool(self.rows) and (
            valid_only or not self.has_problems) and not self.type_codes_unconfirmed


def plan_question_import(data: bytes, filename: str, *, format: str | None = None,
                         root: tuple[str, ...] = (),
                         limits: qb.ReadLimits = qb.DEFAULT_LIMITS,
                         type_codes: dict[str, str] | None = None) -> QuestionImportPlan:
    """Read the file and decide each question's fate; writes nothing. Questions go to
    ``root`` followed by the category the file gives them. The web passes
    ``web_limits()``; a file over its rows gets a message pointing to the CLI.
    ``type_codes`` (code → question type) is the confirmed meaning of a table's numeric
    题型 codes; without it they are guessed and the plan cannot be applied."""
    plan = QuestionImportPlan()
    if not data:
        plan.file_error = _("The file is empty.")
        return plan
    try:
        plan.result = qb.load_questions(data, format or None, filename, limits=limits,
                                        type_codes=type_codes)
    except qb.FormatError as exc:
        plan.file_error = str(exc)
        return plan
    except qb.FileRefusedError as exc:
        plan.file_error = str(exc)
        if exc.reason in ("rows", "questions"):
            plan.file_error += " " + _("Larger files can be imported on the server by an "
                                       "administrator: flask --app studyhall import-questions "
                                       "FILE")
        return plan
    except Exception:  # a parser bug must not become a 500 on the import page
        current_app.logger.exception("question import: %s could not be parsed", filename)
        plan.file_error = _("The file could not be read. Check that it is an Excel, CSV, "
                            "GIFT, Aiken or Moodle XML file, or choose its format.")
        return plan
    whole_file = [issue.message for issue in plan.result.errors if issue.line is None]
    if whole_file and not plan.result.questions:
        # Nothing could be read and the file itself is refused (unsafe XML, a damaged
        # workbook): there is nothing to preview, and nothing is kept (issue 12, item 2).
        plan.file_error = " ".join(dict.fromkeys(whole_file[:3]))
        plan.result = None
        return plan
    _refuse_overlong(plan.result)
    cache = CategoryCache()
    seen: dict[tuple[tuple[str, ...], str], tuple[int | None, qb.Question]] = {}
    keys_by_category: dict[int, set[str]] = {}
    for parsed in plan.result.questions:
        category = (root + parsed.question.category) or DEFAULT_CATEGORY
        row = ImportRow(parsed.line, parsed.question, category)
        key = (category, qb.normalized_key(parsed.question))
        if key in seen:
            first_line, first = seen[key]
            row.fate, row.repeat_of = "repeat", first_line
            if answer_meaning(parsed.question) != answer_meaning(first):
                plan.result.errors.append(qb.ImportIssue(parsed.line, _(
                    "Same question text and options as line %(first)s but a different answer: "
                    "check which one is right and delete the other (importing only the valid "
                    "questions keeps line %(first)s).", first=first_line or "-")))
        else:
            seen[key] = (parsed.line, parsed.question)
            if category in cache.ids:
                keys_by_category.setdefault(cache.ids[category], set()).add(key[1])
        plan.rows.append(row)
    existing = find_duplicates(keys_by_category)
    for row in plan.rows:
        found = existing.get((cache.ids.get(row.category), qb.normalized_key(row.question)))
        if row.fate == "new" and found is not None:
            row.fate, row.existing_id = "duplicate", found.id
    return plan


def answer_meaning(question: qb.Question):
    """What the answer says, independent of the order of the options (a repeat may list
    them in another order: the same key, other letters, the same answer)."""
    if question.type == qb.QuestionType.SINGLE:
        return question.options[ord(question.answer) - ord("A")]
    if question.type == qb.QuestionType.MULTIPLE:
        return frozenset(question.options[ord(letter) - ord("A")] for letter in question.answer)
    return question.answer


def parse_type_codes(text: str) -> dict[str, str]:
    """Read "1=single,2=multiple,3=判断题": codes to question types (the English names
    or any Chinese name the table reader knows).

    :raises ValueError: with a message naming the part that cannot be read."""
    from question_bank.formats.table import TYPE_ALIASES

    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in re.split(r"[,，;；]", text))):
        code, sep, name = (item.strip() for item in part.partition("="))
        qtype = TYPE_ALIASES.get(name.lower())
        if not sep or not code.isdigit() or qtype is None:
            raise ValueError(_("“%(part)s” cannot be read: write CODE=TYPE, the type one of "
                               "%(types)s.", part=part, types=", ".join(qb.QUESTION_TYPES)))
        mapping[code.lstrip("0") or "0"] = qtype.value
    return mapping


def type_codes_text(type_codes: dict[str, str]) -> str:
    """The mapping the way --type-codes takes it: "1=single,2=multiple"."""
    return ",".join(f"{code}={value}" for code, value in type_codes.items())


def web_limits() -> qb.ReadLimits:
    """What a question file uploaded through the page may hold (``MAX_QUESTION_ROWS``)."""
    return qb.ReadLimits(max_rows=current_app.config["MAX_QUESTION_ROWS"])


def _refuse_overlong(result: qb.ImportResult) -> None:
    """Questions with a text longer than the edit screen accepts become errors: the import
    must not store what the question form would then refuse to save, and the preview
    shows every text of a question."""
    kept = []
    for parsed in result.questions:
        problems = overlong_texts(parsed.question)
        if problems:
            result.errors.extend(qb.ImportIssue(parsed.line, problem) for problem in problems)
        else:
            kept.append(parsed)
    result.questions[:] = kept


def overlong_texts(question: qb.Question) -> list[str]:
    """What in ``question`` is longer than the question form allows (``TEXT_LIMITS``).
    Lengths first, labels only for what is too long: this runs for every question."""
    texts = [("stem", question.stem), ("explanation", question.explanation),
             ("source", question.source), ("tags", " ".join(question.tags)),
             ("keywords", " ".join(question.keywords))]
    texts += [(letter, option) for letter, option in zip("ABCDEFGH", question.options,
                                                          strict=False)]
    if isinstance(question.answer, str):
        texts.append(("reference", question.answer))
    return [_("%(field)s has %(n)d characters; at most %(limit)d are allowed.",
              field=_field_label(key), n=len(text), limit=_limit(key))
            for key, text in texts if len(text) > _limit(key)]


def _limit(key: str) -> int:
    return TEXT_LIMITS["option"] if len(key) == 1 else TEXT_LIMITS[key]


def _field_label(key: str) -> str:
    if len(key) == 1:
        return _("Option %(letter)s", letter=key)
    return {"stem": _("Question text"), "explanation": _("Explanation"), "source": _("Source"),
            "tags": _("Tags"), "keywords": _("Keywords for graders"),
            "reference": _("Reference answer")}[key]


def apply_question_import(plan: QuestionImportPlan, *, actor=None, valid_only: bool = False,
                          duplicates: str = "skip") -> Counter:
    """Write the plan's questions: new ones are added, duplicates skipped or updated,
    repeats within the file skipped. Returns what was done, by kind."""
    if not plan.can_apply(valid_only):
        raise ValueError("this import plan has problems and valid_only was not chosen")
    if duplicates not in DUPLICATE_POLICIES:
        raise ValueError(f"duplicates must be one of {DUPLICATE_POLICIES}")
    cache = CategoryCache()
    done: Counter = Counter()
    for row in plan.rows:
        if row.fate == "repeat" or (row.fate == "duplicate" and duplicates == "skip"):
            done["skipped"] += 1
            continue
        existing = db.session.get(Question, row.existing_id) if row.existing_id else None
        save_question(existing, row.question, cache.get(row.category), actor, flush=False)
        done["updated" if existing else "created"] += 1
    db.session.flush()
    return done
