"""Checkpoint questions (检查题): bank questions an owner places at points in a material
version's text, answered by readers as they read and graded at once with 解析.

A checkpoint sits after block ``anchor`` of the version's text (0: before the first
block; a block is a top-level block of its Markdown — a heading, a paragraph, a list —
as materials.py stores them). Files, links and videos have no blocks: their checkpoints
follow the material. Only objective questions (graded at once) are placed, never 保密 ones
(:func:`confidential`), and the question is copied as it was when placed. A reader's
first answer stands. While a published exam that has not closed yet includes the same
question and the reader is among its takers, the reader's answer is recorded but its key
and 解析 are not shown (:func:`key_withheld`): a checkpoint must not hand out an exam's
answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

import question_bank as qb
from studyhall.bank import mapping
from studyhall.bank.models import Question
from studyhall.bank.queries import get_category_names, select_confidential_category_ids
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import utcnow
from studyhall.quizzes.models import Quiz, QuizMode, QuizQuestion, QuizRecipient, QuizStatus
from studyhall.study import materials
from studyhall.study.models import CheckpointAnswer, MaterialCheckpoint, MaterialVersion

#: Types graded at once; 简答 needs a person and cannot be a checkpoint.
OBJECTIVE_TYPES = ("single", "multiple", "true_false", "fill_blank")
MAX_PER_VERSION = 10
MAX_BLANK_LENGTH = 200


class CheckpointError(ValueError):
    """Why a checkpoint cannot be placed, removed or answered; ``code`` is for JSON."""

    def __init__(self, message, code: str = "refused"):
        super().__init__(message)
        self.code = code


# --- which questions may be placed ------------------------------------------------------

def confidential():
    """SQL: the question is 保密 / 考试专用 — its category, or one above it, is marked (kept
    for exams by admins; its key is shown to nobody else). Such a question is never placed,
    and one whose category was marked after it was placed never shows its key."""
    return Question.category_id.in_(select_confidential_category_ids())


def query_placeable_questions(search: str = "", type_: str = "") -> sa.Select:
    """Live, objective, not 保密 bank questions, matching the stem search and type."""
    query = sa.select(Question).where(~Question.is_deleted, Question.type.in_(OBJECTIVE_TYPES),
                                      ~confidential())
    if search.strip():
        query = query.where(Question.stem.contains(search.strip(), autoescape=True))
    if type_ in OBJECTIVE_TYPES:
        query = query.where(Question.type == type_)
    return query.order_by(Question.id.desc())


# --- blocks of a version's text ---------------------------------------------------------

def split_blocks(body_html: str) -> list[str]:
    """The top-level blocks of a text version, as materials.py stores them."""
    return materials.block_html(body_html)


def has_blocks(material, version: MaterialVersion) -> bool:
    """Whether the reading page shows the version as text blocks (a text, or a Word
    file's text), as study/_material_body.html decides; else checkpoints follow it."""
    from studyhall import storage
    from studyhall.study.models import MaterialKind

    file = version.file
    return material.kind is MaterialKind.TEXT or bool(file and file.content_type == storage.DOCX)


def block_excerpts(version: MaterialVersion, length: int = 30) -> list[str]:
    """Each block's text, shortened: what an owner chooses "after block N" from."""
    excerpts = []
    for block in split_blocks(version.body_html or ""):
        text = " ".join(materials.plain_text(block).split())
        excerpts.append(text if len(text) <= length else text[:length] + "…")
    return excerpts


# --- placing ----------------------------------------------------------------------------

def place_checkpoint(version: MaterialVersion, question_id: int, anchor: int,
                     actor_id: int | None = None) -> MaterialCheckpoint:
    """Place a bank question after block ``anchor`` of ``version``, as the question is now."""
    row = db.session.scalar(query_placeable_questions().where(Question.id == question_id))
    if row is None:
        raise CheckpointError(_l("This question cannot be used as a checkpoint: choose a "
                                 "single-choice, multiple-choice, true/false or fill-in "
                                 "question that is not confidential."), "not_placeable")
    existing = list(version.checkpoints)
    if len(existing) >= MAX_PER_VERSION:
        raise CheckpointError(_l("A material can carry at most %(n)d checkpoints.",
                                 n=MAX_PER_VERSION), "too_many")
    if any(cp.question_id == question_id for cp in existing):
        raise CheckpointError(_l("This question is already placed in this material."),
                              "duplicate")
    blocks = len(split_blocks(version.body_html or ""))
    if not 0 <= anchor <= blocks:
        raise CheckpointError(_l("Choose a place in the text."), "bad_anchor")
    names = get_category_names()
    checkpoint = MaterialCheckpoint(
        version_id=version.id, question_id=row.id, anchor=anchor, type=row.type,
        position=max((cp.position for cp in existing), default=0) + 1,
        config=mapping.to_question(row, names.get(row.category_id, ())).to_config())
    version.checkpoints.append(checkpoint)
    db.session.flush()
    return checkpoint


def remove_checkpoint(checkpoint: MaterialCheckpoint) -> None:
    """Take a checkpoint out, unless a reader has answered it (their answer is history)."""
    answered = db.session.scalar(sa.select(sa.func.count()).where(
        CheckpointAnswer.checkpoint_id == checkpoint.id))
    if answered:
        raise CheckpointError(_l("Readers have answered this checkpoint; it stays."),
                              "answered")
    db.session.delete(checkpoint)
    db.session.flush()


def copy_checkpoints(source: MaterialVersion, target: MaterialVersion) -> int:
    """Carry a version's checkpoints over to a new version of the same material (anchors
    beyond the new text's end move to its end). For whoever adds versions."""
    blocks = len(split_blocks(target.body_html or ""))
    taken = {cp.question_id for cp in target.checkpoints}
    copied = 0
    for cp in source.checkpoints:
        if cp.question_id in taken:
            continue
        target.checkpoints.append(MaterialCheckpoint(
            question_id=cp.question_id, anchor=min(cp.anchor, blocks), type=cp.type,
            position=cp.position, config=dict(cp.config)))
        copied += 1
    db.session.flush()
    return copied


# --- answering --------------------------------------------------------------------------

def question_of(checkpoint: MaterialCheckpoint) -> qb.Question:
    return qb.Question.from_config(checkpoint.type, checkpoint.config)


def clean_response(question: qb.Question, raw) -> object:
    """The reader's response in its stored shape (as quiz answers are stored), or
    CheckpointError. ``raw`` is a string or a list of strings (a form's values)."""
    values = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(v, str | bool) for v in values) or len(values) > 20:
        raise CheckpointError(_l("Answer the question first."), "bad_response")
    kind = question.type.value
    if kind in ("single", "multiple"):
        letters = qb.parse_letters("".join(str(v) for v in values))
        if not letters or any("ABCDEFGH".index(x) >= len(question.options) for x in letters):
            raise CheckpointError(_l("Choose one of the options."), "bad_response")
        if kind == "single":
            if len(letters) != 1:
                raise CheckpointError(_l("Choose one of the options."), "bad_response")
            return letters[0]
        return list(letters)
    if kind == "true_false":
        value = values[0] if len(values) == 1 else None
        parsed = value if isinstance(value, bool) else qb.parse_true_false(value or "")
        if parsed is None:
            raise CheckpointError(_l("Answer true or false."), "bad_response")
        return parsed
    blanks = [str(v).strip() for v in values]
    if any(len(b) > MAX_BLANK_LENGTH for b in blanks):
        raise CheckpointError(_l("The answer is too long."), "bad_response")
    if not any(blanks):
        raise CheckpointError(_l("Answer the question first."), "bad_response")
    return blanks


def answer_checkpoint(assignment_id: int, person_id: int, checkpoint: MaterialCheckpoint,
                      raw, now: datetime | None = None) -> tuple[CheckpointAnswer, bool]:
    """Grade and keep the reader's answer. The first answer stands: answering again (a
    second tab, a double click) returns the stored one and False."""
    stored = db.session.get(CheckpointAnswer, (assignment_id, person_id, checkpoint.id))
    if stored is not None:
        return stored, False
    question = question_of(checkpoint)
    response = clean_response(question, raw)
    result = qb.grade(question, response)
    answer = CheckpointAnswer(assignment_id=assignment_id, person_id=person_id,
                              checkpoint_id=checkpoint.id, response=response,
                              is_correct=result.is_correct, answered_at=now or utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(answer)
    except IntegrityError:
        stored = db.session.get(CheckpointAnswer, (assignment_id, person_id, checkpoint.id))
        if stored is None:
            raise
        return stored, False
    return answer, True


def withheld_question_ids(question_ids: list[int], person_id: int, now: datetime) -> set[int]:
    """Of these bank questions, those in a published exam that has not closed yet and
    that ``person_id`` is expected to take, and those marked 保密 since they were placed:
    their keys and 解析 stay hidden from them."""
    if not question_ids:
        return set()
    in_exam = set(db.session.scalars(
        sa.select(QuizQuestion.question_id).distinct()
        .join(Quiz, Quiz.id == QuizQuestion.quiz_id)
        .join(QuizRecipient, sa.and_(QuizRecipient.quiz_id == Quiz.id,
                                     QuizRecipient.person_id == person_id))
        .where(QuizQuestion.question_id.in_(question_ids), Quiz.mode == QuizMode.EXAM,
               Quiz.status == QuizStatus.PUBLISHED, Quiz.closes_at > now)))
    marked = set(db.session.scalars(
        sa.select(Question.id).where(Question.id.in_(question_ids), confidential())))
    return in_exam | marked


def key_withheld(question_id: int, person_id: int, now: datetime) -> bool:
    return bool(withheld_question_ids([question_id], person_id, now))


@dataclass
class ReaderCheckpoint:
    """A checkpoint as one reader sees it: the question, their answer if any, and whether
    the key and 解析 may be shown."""

    checkpoint: MaterialCheckpoint
    question: qb.Question
    answer: CheckpointAnswer | None
    withheld: bool

    @property
    def id(self) -> int:
        return self.checkpoint.id

    @property
    def anchor(self) -> int:
        return self.checkpoint.anchor


def get_reader_checkpoints(version_id: int, assignment_id: int, person_id: int,
                           now: datetime | None = None) -> list[ReaderCheckpoint]:
    """The version's checkpoints in order, with this reader's answers: two queries, and
    a third when any is answered (the open-exam check)."""
    checkpoints = list(db.session.scalars(sa.select(MaterialCheckpoint).where(
        MaterialCheckpoint.version_id == version_id).order_by(
        MaterialCheckpoint.anchor, MaterialCheckpoint.position)))
    if not checkpoints:
        return []
    answers = {a.checkpoint_id: a for a in db.session.scalars(sa.select(CheckpointAnswer).where(
        CheckpointAnswer.assignment_id == assignment_id, CheckpointAnswer.person_id == person_id,
        CheckpointAnswer.checkpoint_id.in_([cp.id for cp in checkpoints])))}
    withheld = withheld_question_ids(
        [cp.question_id for cp in checkpoints if cp.id in answers], person_id, now or utcnow())
    return [ReaderCheckpoint(cp, question_of(cp), answers.get(cp.id),
                             cp.question_id in withheld) for cp in checkpoints]


def describe_response(question: qb.Question, response) -> str:
    """A stored response as text for pages: "B", "A、C", "对", "一；表决权"."""
    if response is None:
        return ""
    if isinstance(response, bool):
        return str(_l("True") if response else _l("False"))
    if isinstance(response, list):
        return ("、" if question.kind.has_options else "；").join(str(r) for r in response)
    return str(response)


def describe_answer(question: qb.Question) -> str:
    """The key as text: letters, 对/错, or each blank's accepted answers."""
    answer = question.answer
    if isinstance(answer, bool):
        return str(_l("True") if answer else _l("False"))
    if question.type.value == "fill_blank":
        return "；".join(" / ".join(blank) for blank in answer)
    if isinstance(answer, tuple):
        return "、".join(answer)
    return str(answer)


# --- what the owner sees ----------------------------------------------------------------

@dataclass
class CheckpointSummary:
    checkpoint: MaterialCheckpoint
    question: qb.Question
    material_title: str
    version_number: int
    answered: int = 0
    correct: int = 0


@dataclass
class ReaderAnswers:
    name: str
    unit: str
    answers: dict  # checkpoint id -> CheckpointAnswer


@dataclass
class CheckpointResults:
    checkpoints: list[CheckpointSummary]
    readers: list[ReaderAnswers]


def get_checkpoint_results(assignment, viewer_scope) -> CheckpointResults:
    """How the assignment's readers answered its checkpoints: every checkpoint of the
    versions they read (and of the current versions), with counts, and each reader who
    answered, by unit. ``viewer_scope`` is the WHERE clause on Unit of the viewer's
    scope (auth.scope.in_scope): readers outside it are not shown."""
    from studyhall.org.models import Person, Unit
    from studyhall.study.models import (
        AssignmentItem,
        AssignmentRecipient,
        Material,
        ReadingProgress,
    )

    read = sa.select(ReadingProgress.version_id).where(
        ReadingProgress.assignment_id == assignment.id)
    current = (sa.select(Material.current_version_id)
               .join(AssignmentItem, AssignmentItem.material_id == Material.id)
               .where(AssignmentItem.assignment_id == assignment.id))
    rows = db.session.execute(
        sa.select(MaterialCheckpoint, MaterialVersion.title, MaterialVersion.number)
        .join(MaterialVersion, MaterialVersion.id == MaterialCheckpoint.version_id)
        .where(sa.or_(MaterialCheckpoint.version_id.in_(read),
                      MaterialCheckpoint.version_id.in_(current)))
        .order_by(MaterialVersion.material_id, MaterialVersion.number,
                  MaterialCheckpoint.anchor, MaterialCheckpoint.position)).all()
    summaries = {cp.id: CheckpointSummary(cp, question_of(cp), title, number)
                 for cp, title, number in rows}
    readers: dict[int, ReaderAnswers] = {}
    answers = db.session.execute(
        sa.select(CheckpointAnswer, Person.name, Unit.name)
        .join(AssignmentRecipient, sa.and_(
            AssignmentRecipient.assignment_id == CheckpointAnswer.assignment_id,
            AssignmentRecipient.person_id == CheckpointAnswer.person_id))
        .join(Unit, Unit.id == AssignmentRecipient.unit_id)
        .join(Person, Person.id == CheckpointAnswer.person_id)
        .where(CheckpointAnswer.assignment_id == assignment.id, viewer_scope)
        .order_by(Unit.path, Person.name, Person.id)).all()
    for answer, name, unit in answers:
        summary = summaries.get(answer.checkpoint_id)
        if summary is None:
            continue
        summary.answered += 1
        summary.correct += answer.is_correct
        reader = readers.setdefault(answer.person_id, ReaderAnswers(name, unit, {}))
        reader.answers[answer.checkpoint_id] = answer
    return CheckpointResults(list(summaries.values()), list(readers.values()))
