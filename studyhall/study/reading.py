"""Reading a material of an assignment: opening it, crediting time, completing it.

The server decides reading time (ANCHORS.md, Reading time). The page sends a heartbeat
only while it is visible, in focus and used within the last minute; each heartbeat says
whether the stretch since the page's previous one was such time (``active``) and carries
the page's random token. The client never sends a duration: a heartbeat is credited from
the server's clock by one UPDATE (:data:`_CREDIT`), which adds

    min(now − the person's latest heartbeat on any material, 15 s,
        now − opened − credited so far)                          (never below 0)

when the beat is active and its page holds the reading, and nothing otherwise. So:

- replaying heartbeats fast, or from a script that claims the page is visible, earns no
  more than the real time between them, 15 s at most per beat;
- after a gap (a closed laptop, a hidden tab) the next beat earns 15 s, not the gap;
- the total never exceeds the wall-clock time since the material was first opened;
- a second tab or device on the same material earns nothing while the page holding it
  beat within the last 30 s (the reply says so); a holder silent for longer is replaced;
- two tabs on two different materials do not double the person's time: each beat counts
  only the time since the person's latest heartbeat on *any* material, so the credits of
  all their materials together never exceed the time they spent. On SQLite writers are
  serialised already; on PostgreSQL a transaction-scoped advisory lock on the person
  makes two simultaneous beats of one person take turns, so the second sees the first.

Completion (我已学完) needs the minimum reading time and every checkpoint answered; when
every material of the assignment is completed (and the reflection, when required, is
submitted or accepted) the recipient's ``completed_at`` is set.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import utcnow
from studyhall.study.models import (
    Assignment,
    AssignmentItem,
    AssignmentRecipient,
    AssignmentStatus,
    CheckpointAnswer,
    Material,
    MaterialCheckpoint,
    MaterialVersion,
    ReadingProgress,
    ReadingState,
    Reflection,
    ReflectionStatus,
)
from studyhall.study.queries import reading_state

#: The most one heartbeat can earn, and how long a silent page keeps the reading.
BEAT_CAP_MS = 15_000
HOLD_MS = 30_000
#: How often the page beats while active (READING_BEAT_SECONDS overrides it, for tests),
#: and how long after the last scroll, touch or key the reader still counts as reading.
BEAT_SECONDS = 15
IDLE_SECONDS = 60
TOKEN_MAX = 32
#: The first key of the PostgreSQL advisory locks that make one person's beats take turns
#: (the second is the person's id).
PERSON_LOCK_SPACE = 7201
_EPOCH = datetime(1970, 1, 1)


class ReadingError(ValueError):
    """Why a material cannot be opened or completed now; ``code`` is for JSON."""

    def __init__(self, message, code: str = "refused"):
        super().__init__(message)
        self.code = code


def to_ms(moment: datetime) -> int:
    """A naive UTC datetime as whole milliseconds since the epoch (exact, no float)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def new_page_token() -> str:
    """The random token a reading page gets when it is served (22 URL-safe characters)."""
    return secrets.token_urlsafe(16)


def valid_token(token) -> bool:
    return (isinstance(token, str) and 0 < len(token) <= TOKEN_MAX
            and all(c.isascii() and (c.isalnum() or c in "-_") for c in token))


# --- opening ----------------------------------------------------------------------------

@dataclass
class Reading:
    """What the reading page needs: the assignment, its item, the reader's progress, the
    version they read and its minimum time."""

    assignment: Assignment
    item: AssignmentItem
    material: Material
    progress: ReadingProgress | None
    version: MaterialVersion | None

    @property
    def min_seconds(self) -> int:
        if self.item.min_reading_seconds is not None:
            return self.item.min_reading_seconds
        return self.version.min_reading_seconds if self.version else 0

    @property
    def credited_seconds(self) -> int:
        return (self.progress.credited_ms // 1000) if self.progress else 0


def assignment_is_live(assignment: Assignment, now: datetime) -> bool:
    """Readers may read, earn time and complete: published, and its start has come."""
    return assignment.status is AssignmentStatus.PUBLISHED and assignment.starts_at <= now


def find_reading(assignment: Assignment, material_id: int, person_id: int) -> Reading | None:
    """The material item of ``assignment`` and the person's progress on it, or None when
    the assignment has no such material."""
    item = db.session.scalar(sa.select(AssignmentItem).where(
        AssignmentItem.assignment_id == assignment.id,
        AssignmentItem.material_id == material_id))
    if item is None:
        return None
    progress = db.session.get(ReadingProgress, (assignment.id, person_id, material_id))
    material = item.material
    version = (db.session.get(MaterialVersion, progress.version_id) if progress
               else material.current_version)
    return Reading(assignment, item, material, progress, version)


def open_reading(reading: Reading, person_id: int, now: datetime | None = None) -> Reading:
    """Open the material for reading: at the first open the reader's progress is created
    with the version current then, which they keep. Opening again changes nothing (the
    page's first heartbeat starts its clock)."""
    if reading.progress is not None:
        return reading
    now = now or utcnow()
    if not assignment_is_live(reading.assignment, now):
        raise ReadingError(_l("This assignment is not open for reading."), "closed")
    version_id = reading.material.current_version_id
    if version_id is None:
        raise ReadingError(_l("This material has no content yet."), "empty")
    ms = to_ms(now)
    progress = ReadingProgress(
        assignment_id=reading.assignment.id, person_id=person_id,
        material_id=reading.material.id, version_id=version_id, opened_at=now,
        opened_ms=ms, last_beat_ms=ms, credited_ms=0, beats=0, tab_token="")
    try:
        with db.session.begin_nested():
            db.session.add(progress)
    except IntegrityError:
        # Opened at the same moment in another tab: that row stands.
        progress = db.session.get(ReadingProgress, (reading.assignment.id, person_id,
                                                    reading.material.id))
        if progress is None:
            raise
    reading.progress = progress
    reading.version = db.session.get(MaterialVersion, progress.version_id)
    return reading


@dataclass
class ReaderItem:
    """One item of an assignment on the reader's page: a material (the title of the
    version they read, else the current one) with their progress and state, or a quiz."""

    item: AssignmentItem
    title: str
    progress: ReadingProgress | None = None
    state: ReadingState | None = None


def get_reader_items(assignment: Assignment, person_id: int, now: datetime
                     ) -> list[ReaderItem]:
    """The assignment's items for one reader, in four queries whatever their number."""
    from studyhall.quizzes.models import Quiz

    closed = assignment.status is not AssignmentStatus.PUBLISHED
    items = db.session.scalars(
        sa.select(AssignmentItem).where(AssignmentItem.assignment_id == assignment.id)
        .options(joinedload(AssignmentItem.material))
        .order_by(AssignmentItem.position)).all()
    progress = {p.material_id: p for p in db.session.scalars(sa.select(ReadingProgress).where(
        ReadingProgress.assignment_id == assignment.id, ReadingProgress.person_id == person_id))}
    # The version each reader read, else the current one.
    version_of = {i.material_id: i.material.current_version_id
                  for i in items if i.material_id}
    version_of.update({p.material_id: p.version_id for p in progress.values()})
    titles = dict(db.session.execute(sa.select(MaterialVersion.id, MaterialVersion.title).where(
        MaterialVersion.id.in_([v for v in version_of.values() if v]))).all())
    quiz_ids = [i.quiz_id for i in items if i.quiz_id]
    quiz_titles = dict(db.session.execute(sa.select(Quiz.id, Quiz.title).where(
        Quiz.id.in_(quiz_ids))).all()) if quiz_ids else {}
    result = []
    for item in items:
        if item.material_id is None:
            result.append(ReaderItem(item, quiz_titles.get(item.quiz_id, "")))
            continue
        row = progress.get(item.material_id)
        state = reading_state(row.completed_at if row else None, row is not None,
                              assignment.due_at, now, closed)
        result.append(ReaderItem(item, titles.get(version_of[item.material_id], ""), row,
                                 state))
    return result


# --- the heartbeat ----------------------------------------------------------------------

def _least(a, b):
    return sa.case((a < b, a), else_=b)


def _credit_statement() -> sa.Update:
    """The one UPDATE that credits a heartbeat (see the module docstring), the same SQL on
    SQLite and PostgreSQL: CASE arithmetic on millisecond columns, the server's clock
    (:now) only. RETURNING says what the page holds now."""
    rp = ReadingProgress.__table__
    mine = rp.alias("mine")
    person_clock = (sa.select(mine.c.person_id, sa.func.max(mine.c.last_beat_ms).label("last_ms"))
                    .where(mine.c.person_id == sa.bindparam("b_person"))
                    .group_by(mine.c.person_id).subquery("clock"))
    now = sa.bindparam("now", type_=sa.BigInteger)
    token = sa.bindparam("token", type_=sa.String)
    active = sa.bindparam("active", type_=sa.Boolean)
    # The page holds the reading if it already did, if nobody does yet, or if the holder
    # has been silent for HOLD_MS.
    holds = sa.or_(rp.c.tab_token == token, rp.c.tab_token == "",
                   rp.c.last_beat_ms <= now - HOLD_MS)
    gap = now - person_clock.c.last_ms
    room = now - rp.c.opened_ms - rp.c.credited_ms
    credit = sa.case(
        (sa.or_(~sa.and_(active, holds), gap <= 0, room <= 0), 0),
        else_=_least(_least(gap, BEAT_CAP_MS), room))
    live = sa.exists().where(Assignment.id == rp.c.assignment_id,
                             Assignment.status == AssignmentStatus.PUBLISHED)
    return (sa.update(rp)
            .where(rp.c.assignment_id == sa.bindparam("b_assignment"),
                   rp.c.person_id == sa.bindparam("b_person"),
                   rp.c.material_id == sa.bindparam("b_material"),
                   rp.c.person_id == person_clock.c.person_id, live)
            .values(credited_ms=rp.c.credited_ms + credit,
                    beats=rp.c.beats + sa.case((sa.and_(active, holds), 1), else_=0),
                    last_beat_ms=sa.case((holds, now), else_=rp.c.last_beat_ms),
                    tab_token=sa.case((holds, token), else_=rp.c.tab_token))
            .returning(rp.c.credited_ms, rp.c.tab_token))


_CREDIT = _credit_statement()


@dataclass
class Beat:
    credited_ms: int
    holds: bool


def heartbeat(assignment_id: int, material_id: int, person_id: int, token: str,
              active: bool, now: datetime | None = None) -> Beat | None:
    """Credit one heartbeat of the page ``token``; None when there is no progress to
    credit (never opened, or the assignment is no longer published)."""
    now_ms = to_ms(now or utcnow())
    if db.engine.dialect.name == "postgresql":
        # One person's beats take turns, so each sees the one before (the per-person cap).
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(PERSON_LOCK_SPACE,
                                                                   person_id)))
    row = db.session.execute(_CREDIT, {
        "b_assignment": assignment_id, "b_person": person_id, "b_material": material_id,
        "now": now_ms, "token": token, "active": bool(active)}).first()
    if row is None:
        return None
    return Beat(row.credited_ms, row.tab_token == token)


# --- completion -------------------------------------------------------------------------

def unanswered_checkpoints(assignment_id: int, person_id: int, version_id: int) -> int:
    """How many checkpoints of the version the reader has not answered in this assignment."""
    answered = sa.exists().where(CheckpointAnswer.assignment_id == assignment_id,
                                 CheckpointAnswer.person_id == person_id,
                                 CheckpointAnswer.checkpoint_id == MaterialCheckpoint.id)
    return db.session.scalar(sa.select(sa.func.count(MaterialCheckpoint.id)).where(
        MaterialCheckpoint.version_id == version_id, ~answered)) or 0


def complete_reading(reading: Reading, person_id: int, now: datetime | None = None) -> bool:
    """我已学完: mark the material completed once the reader has the minimum time and has
    answered every checkpoint. Returns False when it was already completed (a double
    click, or another tab): completing twice changes nothing."""
    now = now or utcnow()
    progress = reading.progress
    if progress is None:
        raise ReadingError(_l("Open the material and read it first."), "not_opened")
    if progress.completed_at is not None:
        return False
    if reading.assignment.status is not AssignmentStatus.PUBLISHED:
        raise ReadingError(_l("This assignment has been closed."), "closed")
    min_ms = reading.min_seconds * 1000
    if progress.credited_ms < min_ms:
        left = -(-(min_ms - progress.credited_ms) // 60_000)
        raise ReadingError(_l("Keep reading: about %(n)d more minute(s) are needed.", n=left),
                           "too_early")
    if unanswered_checkpoints(reading.assignment.id, person_id, progress.version_id):
        raise ReadingError(_l("Answer the questions in the text first."), "checkpoints")
    rp = ReadingProgress.__table__
    done = db.session.execute(
        sa.update(rp).where(rp.c.assignment_id == reading.assignment.id,
                            rp.c.person_id == person_id,
                            rp.c.material_id == reading.material.id,
                            rp.c.completed_at.is_(None), rp.c.credited_ms >= min_ms)
        .values(completed_at=now)).rowcount
    if not done:
        return False
    db.session.refresh(progress)
    refresh_assignment_completion(reading.assignment, person_id)
    # A recorded 党课's recording: watching it is attending (sessions decide whom).
    from studyhall.sessions.recording import recording_watched  # sessions import study

    recording_watched(reading.assignment.id, reading.material.id, person_id, now)
    return True


def done_with_its_quizzes(assignment: Assignment, person_id: int) -> bool:
    """Whether the assignment has quiz items and everything of it is now done for the
    person — every material completed, every quiz submitted, the reflection (when required)
    submitted or accepted — in one query. A quiz finished elsewhere has no hook into study:
    the reader's assignment page asks this while ``completed_at`` is unset and refreshes
    the completion only when it says yes."""
    from studyhall.quizzes.models import Attempt, AttemptStatus  # quizzes import study

    item = AssignmentItem
    of_assignment = item.assignment_id == assignment.id
    quizzes = sa.select(sa.func.count(item.quiz_id)).where(of_assignment).scalar_subquery()
    unread = sa.select(sa.func.count()).select_from(item).where(
        of_assignment, item.material_id.is_not(None),
        ~sa.exists().where(ReadingProgress.assignment_id == assignment.id,
                           ReadingProgress.person_id == person_id,
                           ReadingProgress.material_id == item.material_id,
                           ReadingProgress.completed_at.is_not(None))).scalar_subquery()
    untaken = sa.select(sa.func.count()).select_from(item).where(
        of_assignment, item.quiz_id.is_not(None),
        ~sa.exists().where(Attempt.quiz_id == item.quiz_id, Attempt.person_id == person_id,
                           Attempt.status == AttemptStatus.SUBMITTED)).scalar_subquery()
    columns = [quizzes, unread, untaken]
    if assignment.requires_reflection:
        columns.append(sa.exists().where(
            Reflection.assignment_id == assignment.id, Reflection.person_id == person_id,
            Reflection.status.in_([ReflectionStatus.SUBMITTED, ReflectionStatus.ACCEPTED])))
    row = db.session.execute(sa.select(*columns)).one()
    return row[0] > 0 and row[1] == 0 and row[2] == 0 and all(row[3:])


def refresh_assignment_completion(assignment: Assignment, person_id: int) -> datetime | None:
    """Set (or clear) the recipient's ``completed_at``: when every material item is
    completed, every quiz item has a submitted attempt of the person and, if a reflection
    is required, it is submitted or accepted, the time the last of these was done;
    otherwise None (a reflection returned for revision undoes it). Completing a material
    and reflections (after a submission or a review) call this; a quiz has no hook into
    study, so the reader's assignment page calls it when only a quiz may be missing.

    The recipient's row is locked first (PostgreSQL), so that two last steps finished at
    once in two tabs — two materials, or a material and the reflection — take turns and
    the second sees the first: otherwise each would find the other undone."""
    recipient = db.session.scalar(
        sa.select(AssignmentRecipient).where(AssignmentRecipient.assignment_id == assignment.id,
                                             AssignmentRecipient.person_id == person_id)
        .with_for_update().execution_options(populate_existing=True))
    from studyhall.quizzes.models import Attempt, AttemptStatus  # quizzes import study

    wanted, quizzes = db.session.execute(
        sa.select(sa.func.count(AssignmentItem.material_id), sa.func.count(AssignmentItem.quiz_id))
        .where(AssignmentItem.assignment_id == assignment.id)).one()
    parts: list[datetime | None] = []
    done = 0
    if wanted:
        item_ids = sa.select(AssignmentItem.material_id).where(
            AssignmentItem.assignment_id == assignment.id,
            AssignmentItem.material_id.is_not(None))
        done, last = db.session.execute(
            sa.select(sa.func.count(ReadingProgress.material_id),
                      sa.func.max(ReadingProgress.completed_at))
            .where(ReadingProgress.assignment_id == assignment.id,
                   ReadingProgress.person_id == person_id,
                   ReadingProgress.completed_at.is_not(None),
                   ReadingProgress.material_id.in_(item_ids))).one()
        parts.append(last)
    finished = 0
    if quizzes and done == wanted:
        # Each quiz counts from the person's first submitted attempt on it.
        firsts = (sa.select(sa.func.min(Attempt.submitted_at).label("at"))
                  .where(Attempt.person_id == person_id,
                         Attempt.status == AttemptStatus.SUBMITTED,
                         Attempt.quiz_id.in_(sa.select(AssignmentItem.quiz_id).where(
                             AssignmentItem.assignment_id == assignment.id)))
                  .group_by(Attempt.quiz_id).subquery())
        finished, last_quiz = db.session.execute(
            sa.select(sa.func.count(), sa.func.max(firsts.c.at))).one()
        parts.append(last_quiz)
    complete = (wanted or quizzes) > 0 and done == wanted and finished == quizzes
    if assignment.requires_reflection:
        from studyhall.study.reflections import has_submitted  # reflections call this

        submitted = db.session.scalar(sa.select(Reflection.submitted_at).where(
            Reflection.assignment_id == assignment.id, Reflection.person_id == person_id)
        ) if has_submitted(person_id, assignment.id) else None
        complete = (complete or not (wanted or quizzes)) and submitted is not None
        parts.append(submitted)
    completed_at = max(p for p in parts if p is not None) if complete else None
    if recipient is not None:
        if completed_at is None:
            recipient.completed_at = None
        elif recipient.completed_at is None:
            recipient.completed_at = completed_at
        db.session.flush()
    return recipient.completed_at if recipient else None
