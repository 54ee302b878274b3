"""Reflections (心得体会 / 学习笔记): the draft, submission, review and sharing.

A reflection is written on a *target*, an assignment or a study session (issue 11):
everything here goes through the target's small interface (reflection_targets.py): its
row filter, the people who write on it, whether it still takes writing, its minimum
length and the texts a reflection is compared with, so nothing here asks which kind it
holds.

The life of one reflection::

    DRAFT ──submit──▶ SUBMITTED ──accept──▶ ACCEPTED (may be marked 优秀 and shared)
                          ▲    └──return──▶ RETURNED ──submit──┘

``Reflection.body`` is the working text, autosaved as a draft while it is DRAFT or
RETURNED. Each submission adds a ``ReflectionVersion`` (numbered from 1) that keeps the
text as submitted and, later, its review. A page says which version it was built on
(``based_on``, the latest number it saw); a draft save or a submission from a page built
on an older version is refused, so a stale tab can never overwrite what was submitted,
and a second submission of the same text is refused rather than adding a version. A
review names the version it read, so a review of an older version is refused too.
Operations change and flush; the request commits.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from studyhall.extensions import db
from studyhall.org.models import Person
from studyhall.study import similarity
from studyhall.study.models import Reflection, ReflectionStatus, ReflectionVersion
from studyhall.study.reflection_targets import Target, target_of
from studyhall.study.text import count_length

#: As typed (not 字数): a long reflection is 3,000 字; this leaves room for ten times that.
MAX_BODY_CHARS = 30_000
MAX_COMMENT_CHARS = 2_000
EDITABLE = (ReflectionStatus.DRAFT, ReflectionStatus.RETURNED)
ACCEPTED, RETURNED = "accepted", "returned"
#: C0 controls other than tab and newline (NUL breaks PostgreSQL text), and lone
#: surrogates (valid in JSON, not in UTF-8: neither database would store them).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class ReflectionError(Exception):
    """A refused change, with a code for JSON clients and a message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# ---- the writer's side -----------------------------------------------------------------

def clean_body(text: str) -> str:
    """Line breaks as \\n, no control characters; refused when far too long."""
    text = _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if len(text) > MAX_BODY_CHARS:
        raise ReflectionError("too_long", _("The text is too long (at most %(n)d characters).",
                                            n=MAX_BODY_CHARS))
    return text


def latest_number(reflection: Reflection | None) -> int:
    """The number of the last submitted version; 0 before the first submission."""
    return reflection.versions[-1].number if reflection is not None and reflection.versions else 0


def get_reflection(target: Target, person_id: int, *,
                   lock: bool = False) -> Reflection | None:
    query = sa.select(Reflection).where(target.where(), Reflection.person_id == person_id)
    return db.session.scalar(query.with_for_update() if lock else query)


def _lock_or_create(target: Target, person_id: int) -> Reflection:
    reflection = get_reflection(target, person_id, lock=True)
    if reflection is not None:
        return reflection
    try:
        with db.session.begin_nested():
            reflection = target.new_reflection(person_id)
            db.session.add(reflection)
    except IntegrityError:
        # Two first saves at once (PostgreSQL): the other one created it; wait for it.
        reflection = get_reflection(target, person_id, lock=True)
    return reflection


def _check_writable(target: Target, reflection: Reflection, based_on: int) -> None:
    if not target.accepts_writing():
        raise ReflectionError("closed", _("This assignment is closed: reflections can no "
                                          "longer be changed."))
    if reflection.status not in EDITABLE:
        raise ReflectionError("submitted", _("This reflection has already been submitted."))
    if based_on != latest_number(reflection):
        raise ReflectionError("stale", _(
            "This reflection was submitted again from another page. Reload to see it; the "
            "text on this page was not saved over it."))


def save_draft(target: Target, person: Person, body: str, based_on: int,
               now: datetime) -> Reflection:
    """Autosave the working text (last save wins between two pages on one version)."""
    body = clean_body(body)
    reflection = _lock_or_create(target, person.id)
    _check_writable(target, reflection, based_on)
    reflection.body = body
    reflection.char_count = count_length(body)
    reflection.draft_saved_at = now
    db.session.flush()
    return reflection


def submit(target: Target, person: Person, body: str, based_on: int,
           now: datetime) -> ReflectionVersion:
    """Submit the text as the next version, if it is long enough; flag near-copies."""
    body = clean_body(body)
    reflection = _lock_or_create(target, person.id)
    _check_writable(target, reflection, based_on)
    count = count_length(body)
    if count < target.min_chars:
        raise ReflectionError("too_short", _(
            "Too short to submit: %(count)d characters, at least %(min)d are needed "
            "(punctuation and spaces are not counted).", count=count, min=target.min_chars))
    version = ReflectionVersion(number=latest_number(reflection) + 1, body=body,
                                char_count=count, submitted_at=now)
    reflection.versions.append(version)
    reflection.body = body
    reflection.char_count = count
    reflection.status = ReflectionStatus.SUBMITTED
    reflection.submitted_at = now
    reflection.draft_saved_at = now
    db.session.flush()
    flag_similar(target, reflection, version)
    _refresh_completion(target, reflection.person_id)
    return version


def has_submitted(person_id: int, assignment_id: int) -> bool:
    """Whether the person's reflection on the assignment was submitted (under review or
    accepted): what completing an assignment that requires one asks for."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Reflection).where(
        Reflection.person_id == person_id, Reflection.assignment_id == assignment_id,
        Reflection.status.in_([ReflectionStatus.SUBMITTED, ReflectionStatus.ACCEPTED]))) > 0


# ---- the reviewer's side ---------------------------------------------------------------

def review(reflection: Reflection, number: int, reviewer: Person, decision: str, comment: str,
           now: datetime, *, excellent: bool = False) -> ReflectionVersion:
    """Accept or return the version the reviewer read (``number``); a return needs a reason."""
    latest = reflection.versions[-1] if reflection.versions else None
    if latest is None or latest.number != number:
        raise ReflectionError("stale", _(
            "A newer version was submitted after you opened this page. Read it before "
            "reviewing."))
    if latest.decision is not None:
        raise ReflectionError("reviewed", _("This version has already been reviewed."))
    if reviewer.id == reflection.person_id:
        raise ReflectionError("own", _("You cannot review your own reflection."))
    if decision not in (ACCEPTED, RETURNED):
        raise ReflectionError("decision", _("Choose to accept or to return."))
    comment = _CONTROLS.sub("", comment.replace("\r\n", "\n")).strip()[:MAX_COMMENT_CHARS]
    if decision == RETURNED and not comment:
        raise ReflectionError("reason", _("Say what to revise when returning a reflection."))
    latest.decision = decision
    latest.comment = comment
    latest.reviewer_id = reviewer.id
    latest.reviewed_at = now
    reflection.status = (ReflectionStatus.ACCEPTED if decision == ACCEPTED
                         else ReflectionStatus.RETURNED)
    if decision == ACCEPTED and excellent:
        set_excellent(reflection, reviewer, True, now)
    db.session.flush()
    _refresh_completion(target_of(reflection), reflection.person_id)
    return latest


def _refresh_completion(target: Target, person_id: int) -> None:
    """An assignment that requires a reflection is done once it is submitted (and undone
    when it is returned): the recipient's completed_at follows (study/reading.py)."""
    if target.kind == "assignment":
        from studyhall.study.reading import refresh_assignment_completion

        refresh_assignment_completion(target.assignment, person_id)


def set_excellent(reflection: Reflection, reviewer: Person, excellent: bool,
                  now: datetime) -> None:
    """Mark (or unmark) an accepted reflection as 优秀: marked means shared with the unit."""
    if reviewer.id == reflection.person_id:
        raise ReflectionError("own", _("You cannot review your own reflection."))
    if reflection.status is not ReflectionStatus.ACCEPTED:
        raise ReflectionError("not_accepted", _("Only an accepted reflection can be marked "
                                                "excellent."))
    reflection.is_excellent = excellent
    reflection.shared_at = now if excellent else None
    db.session.flush()


# ---- near-copies -----------------------------------------------------------------------

def _latest_versions_of_others(target: Target, reflection: Reflection):
    latest = (sa.select(ReflectionVersion.reflection_id,
                        sa.func.max(ReflectionVersion.number).label("number"))
              .join(Reflection, Reflection.id == ReflectionVersion.reflection_id)
              .where(target.where(), Reflection.id != reflection.id)
              .group_by(ReflectionVersion.reflection_id).subquery())
    return db.session.execute(
        sa.select(ReflectionVersion.reflection_id, ReflectionVersion.number,
                  ReflectionVersion.body, Person.id, Person.name)
        .join(latest, sa.and_(latest.c.reflection_id == ReflectionVersion.reflection_id,
                              latest.c.number == ReflectionVersion.number))
        .join(Reflection, Reflection.id == ReflectionVersion.reflection_id)
        .join(Person, Person.id == Reflection.person_id)).all()


def flag_similar(target: Target, reflection: Reflection,
                 version: ReflectionVersion) -> None:
    """Compare the submitted version with the latest version of every other reflection
    on the target and with the target's material texts (see similarity.py), keep the
    best matches on the reflection, and raise the other side's figure when this text
    contains most of it (the original of a copy is flagged too; the reviewer compares
    the dates). A match keeps its integers: ``shared`` of ``of`` shingles."""
    own = similarity.shingles(version.body)
    if not similarity.comparable(own):
        reflection.similarity, reflection.similar_to = None, None
        return
    candidates: list[tuple[dict, frozenset[str]]] = []
    reverse: dict[int, tuple[int, int]] = {}
    for other_id, number, body, person_id, name in _latest_versions_of_others(target,
                                                                              reflection):
        theirs = similarity.shingles(body)
        candidates.append(({"kind": "reflection", "reflection_id": other_id,
                            "version": number, "person_id": person_id, "name": name}, theirs))
        if similarity.comparable(theirs):
            reverse[other_id] = (len(theirs & own), len(theirs))
    candidates += [(key, similarity.shingles(text)) for key, text in target.source_texts()]
    matches = [_match(key, shared, len(own))
               for key, shared in similarity.best_matches(own, candidates)]
    reflection.similarity = matches[0]["score"] if matches else 0.0
    reflection.similar_to = {"matches": matches}
    _raise_other_side(reflection, version, reverse)


def _match(key: dict, shared: int, of: int) -> dict:
    return dict(key, shared=shared, of=of, score=shared / of)


def _raise_other_side(reflection: Reflection, version: ReflectionVersion,
                      reverse: dict[int, tuple[int, int]]) -> None:
    raised = {other_id: counts for other_id, counts in reverse.items()
              if counts[0] >= similarity.SHOW_AT * counts[1]}
    if not raised:
        return
    # Skip rows another submission holds right now: two copies submitted in the same
    # instant must not deadlock; that one computes its own figure anyway.
    others = db.session.scalars(sa.select(Reflection).where(Reflection.id.in_(raised))
                                .with_for_update(skip_locked=True)).all()
    mine = {"kind": "reflection", "reflection_id": reflection.id, "version": version.number,
            "person_id": reflection.person_id, "name": reflection.person.name}
    for other in others:
        matches = [m for m in (other.similar_to or {}).get("matches", [])
                   if m.get("reflection_id") != reflection.id]
        matches = sorted([*matches, _match(mine, *raised[other.id])],
                         key=lambda m: m["score"], reverse=True)[:3]
        other.similarity = matches[0]["score"]
        other.similar_to = {"matches": matches}
    db.session.flush()
