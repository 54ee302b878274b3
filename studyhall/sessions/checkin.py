"""Self check-in (签到): rotating QR tokens and typed codes, the check-in window, and the
one conditional UPDATE that records a person once.

Nothing is stored per code. A token is HMAC-SHA256 keyed with the session's secret over
(session id, 10-second step of the server's clock), so any process derives the same
token at the same moment and reloading the screen can never break one (Moodle's stored
batches do). A token is accepted during its own step and the next one: a photo of the
screen sent home is useless after 20 s at most. The 6-digit typed code is derived the
same way under another label. The client's clock is never consulted.

Window: check-in is open from ``checkin_opens_before`` minutes before the start until
``checkin_closes_after`` minutes after it, [opens, closes); a check-in later than
``late_after_minutes`` past the start is 迟到, one at exactly that minute is still 出席.

A device cookie's keyed hash is kept on the row, so the organiser sees when one phone
checked in several accounts (flagged, not blocked: a shared phone happens).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.org.models import Person, Unit
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    SessionStatus,
    StudySession,
)

STEP_SECONDS = 10
#: The steps accepted: the current one and the one before.
STEPS_ACCEPTED = 2
CODE_DIGITS = 6
#: A scan made while logged out is honoured if the login finishes within this time.
LOGIN_GRACE = timedelta(minutes=10)
#: Typed codes are matched against sessions starting within this distance of now (the
#: exact window is checked afterwards); the session form allows windows of at most 4 h
#: before the start and 10 h after it.
CODE_SEARCH_SPAN = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1)
#: A StudySession, or a row of its CHECKIN_COLUMNS (below).
SessionLike = StudySession | sa.Row
_TOKEN_BYTES = 12  # 96 bits of the HMAC in the URL: plenty for a 20-second life


# --- steps, tokens and codes ----------------------------------------------------------------

def step_of(at: datetime) -> int:
    """The 10-second step of a naive UTC time (the server's clock)."""
    return (at - _EPOCH) // timedelta(seconds=STEP_SECONDS)


def step_ends_at(step: int) -> datetime:
    return _EPOCH + timedelta(seconds=(step + 1) * STEP_SECONDS)


def _digest(session: SessionLike, label: bytes, step: int) -> bytes:
    message = b"%s:%d:%d" % (label, session.id, step)
    return hmac.new(session.checkin_secret.encode(), message, hashlib.sha256).digest()


def token_for(session: SessionLike, step: int) -> str:
    """The QR token of ``step``: "<step>.<base64url of 96 bits of the HMAC>"."""
    mac = base64.urlsafe_b64encode(_digest(session, b"qr", step)[:_TOKEN_BYTES])
    return f"{step}.{mac.decode()}"


def code_for(session: SessionLike, step: int) -> str:
    """The 6-digit typed code of ``step``."""
    number = int.from_bytes(_digest(session, b"code", step)[:8], "big")
    return f"{number % 10 ** CODE_DIGITS:0{CODE_DIGITS}d}"


class TokenCheck(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"  # this session's token, but of an older step
    INVALID = "invalid"  # not a token of this session (another session's, or made up)


def check_token(session: SessionLike, token: str, now: datetime) -> TokenCheck:
    step_text, _dot, mac = token.partition(".")
    if not step_text.isdigit() or len(step_text) > 15:
        return TokenCheck.INVALID
    step = int(step_text)
    if not hmac.compare_digest(token, token_for(session, step)):
        return TokenCheck.INVALID
    current = step_of(now)
    if current - STEPS_ACCEPTED < step <= current:
        return TokenCheck.VALID
    # A step in the future cannot come from this server's screen.
    return TokenCheck.EXPIRED if step < current else TokenCheck.INVALID


def code_matches(session: SessionLike, code: str, now: datetime) -> bool:
    current = step_of(now)
    return any(hmac.compare_digest(code, code_for(session, step))
               for step in range(current, current - STEPS_ACCEPTED, -1))


def normalize_code(text: str) -> str:
    """Digits typed in any width, with spaces or dashes between them: "１２３ ４５６" →
    "123456". Anything else is left for the format check to refuse."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(c for c in text if not c.isspace() and c != "-")


def device_hash(key: bytes, device_id: str, session_id: int) -> str:
    """A keyed hash of the device cookie, per session: equal for one phone within a
    session, unlinkable across sessions, and not the cookie itself."""
    return hmac.new(key, f"{session_id}:{device_id}".encode(), hashlib.sha256).hexdigest()


# --- the window -----------------------------------------------------------------------------

def opens_at(session: SessionLike) -> datetime:
    return session.starts_at - timedelta(minutes=session.checkin_opens_before)


def closes_at(session: SessionLike) -> datetime:
    return session.starts_at + timedelta(minutes=session.checkin_closes_after)


def late_from(session: SessionLike) -> datetime:
    """A check-in after this instant is 迟到."""
    return session.starts_at + timedelta(minutes=session.late_after_minutes)


def status_at(session: SessionLike, at: datetime) -> AttendanceStatus:
    return AttendanceStatus.LATE if at > late_from(session) else AttendanceStatus.PRESENT


class WindowState(enum.Enum):
    NOT_OPEN = "not_open"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


def window_state(session: SessionLike, at: datetime) -> WindowState:
    if session.status is SessionStatus.CANCELLED:
        return WindowState.CANCELLED
    if at < opens_at(session):
        return WindowState.NOT_OPEN
    if at >= closes_at(session) or session.record_locked_at is not None:
        return WindowState.CLOSED
    return WindowState.OPEN


# --- checking in ----------------------------------------------------------------------------

class Outcome(enum.Enum):
    CHECKED_IN = "checked_in"
    ALREADY = "already"  # checked in before (by scan, code or the organiser's 出席/迟到)
    RECORDED = "recorded"  # the organiser already recorded leave or absence
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    NOT_EXPECTED = "not_expected"
    EXPIRED = "expired"  # a QR token of an older step, or a scan whose login took too long
    INVALID = "invalid"  # not this session's QR code
    WRONG_CODE = "wrong_code"  # typed code matching none of the person's open sessions
    NO_SESSION = "no_session"  # typed code, and no session of theirs is open now

    @property
    def ok(self) -> bool:
        return self in (Outcome.CHECKED_IN, Outcome.ALREADY)

    @property
    def title(self) -> str:
        return str(TITLES[self])

    @property
    def http_status(self) -> int:
        return HTTP_STATUS.get(self, 403)


TITLES = {
    Outcome.CHECKED_IN: _l("Checked in successfully"),
    Outcome.ALREADY: _l("Already checked in"),
    Outcome.RECORDED: _l("Attendance already recorded"),
    Outcome.NOT_OPEN: _l("Check-in is not open yet"),
    Outcome.CLOSED: _l("Check-in has ended"),
    Outcome.CANCELLED: _l("This session is cancelled"),
    Outcome.NOT_EXPECTED: _l("You are not on the list of expected attendees for this "
                             "session"),
    Outcome.EXPIRED: _l("The QR code has expired. Scan it again."),
    Outcome.INVALID: _l("This QR code is not valid"),
    Outcome.WRONG_CODE: _l("The code is wrong or has expired"),
    Outcome.NO_SESSION: _l("No session of yours is open for check-in now"),
}
#: Someone not on the list is answered as for any object outside their scope: 404, and the
#: result carries no session, so the page names no topic, time or place.
HTTP_STATUS = {Outcome.CHECKED_IN: 200, Outcome.ALREADY: 200, Outcome.EXPIRED: 410,
               Outcome.INVALID: 404, Outcome.NOT_EXPECTED: 404, Outcome.WRONG_CODE: 422}


@dataclass
class CheckinResult:
    outcome: Outcome
    session: SessionLike | None = None
    #: The person's status and when they checked in (success, already, recorded).
    status: AttendanceStatus | None = None
    checked_in_at: datetime | None = None


#: What check-in reads of a session: a scan loads these columns, not the whole session
#: (its minutes and audience), and a row of them outlives the rollback that ends the
#: scan's read transaction. Every function here takes such a row or a StudySession.
CHECKIN_COLUMNS = (
    StudySession.id, StudySession.status, StudySession.kind, StudySession.topic,
    StudySession.starts_at, StudySession.ends_at, StudySession.place,
    StudySession.checkin_secret, StudySession.checkin_opens_before,
    StudySession.checkin_closes_after, StudySession.late_after_minutes,
    StudySession.record_locked_at,
)
_CHECKIN_SESSION = sa.select(*CHECKIN_COLUMNS).where(StudySession.id == sa.bindparam("sid"))

_attendance = Attendance.__table__
#: The check-in itself, built once (a scan burst runs it hundreds of times a second).
_CHECK_IN = (
    sa.update(_attendance)
    .where(_attendance.c.session_id == sa.bindparam("sid"),
           _attendance.c.person_id == sa.bindparam("pid"),
           sa.or_(_attendance.c.status.is_(None),
                  sa.and_(_attendance.c.status == AttendanceStatus.EXCUSED,
                          _attendance.c.method == "leave")))
    .values(status=sa.bindparam("new_status"), checked_in_at=sa.bindparam("at"),
            method=sa.bindparam("new_method"), device_hash=sa.bindparam("device"),
            marked_by_id=None)
)
_ROW = (sa.select(_attendance.c.status, _attendance.c.checked_in_at)
        .where(_attendance.c.session_id == sa.bindparam("sid"),
               _attendance.c.person_id == sa.bindparam("pid")))


def get_checkin_session(session_id: int) -> sa.Row | None:
    return db.session.execute(_CHECKIN_SESSION, {"sid": session_id}).first()


def check_in(session: SessionLike, person_id: int, *, at: datetime, method: str,
             device: str | None = None) -> CheckinResult:
    """Record ``person_id`` as present or late at ``at`` (the server's time of the scan).

    The hot path is one conditional UPDATE: it changes the row only while nothing is
    recorded (or only the 请假 an approval set: they came after all), so concurrent
    scans of one person record one check-in; a person not expected has no row. Only when
    it changes nothing, or outside the window, is the row read to say why."""
    state = window_state(session, at)
    keys = {"sid": session.id, "pid": person_id}
    if state is WindowState.OPEN:
        status = status_at(session, at)
        changed = db.session.execute(_CHECK_IN, {
            **keys, "new_status": status, "at": at, "new_method": method,
            "device": device}).rowcount
        if changed:
            return CheckinResult(Outcome.CHECKED_IN, session, status, at)
    row = db.session.execute(_ROW, keys).first()
    if row is None:
        return CheckinResult(Outcome.NOT_EXPECTED)  # the session is not named to them
    if state is not WindowState.OPEN:
        outcome = {WindowState.NOT_OPEN: Outcome.NOT_OPEN, WindowState.CLOSED: Outcome.CLOSED,
                   WindowState.CANCELLED: Outcome.CANCELLED}[state]
        if state is WindowState.CLOSED and row.status is not None and row.status.attended:
            outcome = Outcome.ALREADY
        return CheckinResult(outcome, session, row.status, row.checked_in_at)
    attended = row.status is not None and row.status.attended
    return CheckinResult(Outcome.ALREADY if attended else Outcome.RECORDED, session,
                         row.status, row.checked_in_at)


def find_session_for_code(person: Person, code: str, at: datetime,
                          ) -> tuple[sa.Row | None, Outcome | None]:
    """The session a typed code is for: among the person's own published sessions near
    now, the one whose current or previous code it is. Otherwise why not: a code that is
    another open session's means the person is not expected there (the session is not
    named); a wrong code while one of theirs is open or about to open; or nothing open."""
    mine = _sessions_near(at, person_id=person.id)
    for session in mine:
        if code_matches(session, code, at):
            return session, None
    own = {session.id for session in mine}
    if any(s.id not in own and window_state(s, at) is WindowState.OPEN
           and code_matches(s, code, at) for s in _sessions_near(at)):
        return None, Outcome.NOT_EXPECTED
    if any(window_state(s, at) in (WindowState.OPEN, WindowState.NOT_OPEN) for s in mine):
        return None, Outcome.WRONG_CODE
    return None, Outcome.NO_SESSION


def _sessions_near(at: datetime, person_id: int | None = None) -> list[sa.Row]:
    query = sa.select(*CHECKIN_COLUMNS).where(
        StudySession.status == SessionStatus.PUBLISHED,
        StudySession.starts_at.between(at - CODE_SEARCH_SPAN, at + CODE_SEARCH_SPAN))
    if person_id is not None:
        query = query.join(Attendance, sa.and_(Attendance.session_id == StudySession.id,
                                               Attendance.person_id == person_id))
    return list(db.session.execute(query.order_by(StudySession.starts_at)))


# --- reads for the screen and the organiser -------------------------------------------------

def get_checkin_counts(session_id: int) -> tuple[int, int]:
    """(已签到: present or late, 应到: expected attendees) in one query."""
    attended = Attendance.status.in_([AttendanceStatus.PRESENT, AttendanceStatus.LATE])
    row = db.session.execute(
        sa.select(sa.func.count().filter(attended), sa.func.count())
        .where(Attendance.session_id == session_id)).one()
    return row[0] or 0, row[1] or 0


def get_shared_devices(session_id: int) -> dict[int, int]:
    """Person id → how many accounts checked in to this session from the same device,
    for everyone whose device checked in more than one."""
    shared = (sa.select(Attendance.device_hash, sa.func.count().label("accounts"))
              .where(Attendance.session_id == session_id, Attendance.device_hash.is_not(None))
              .group_by(Attendance.device_hash).having(sa.func.count() > 1).subquery())
    rows = db.session.execute(
        sa.select(Attendance.person_id, shared.c.accounts)
        .join(shared, shared.c.device_hash == Attendance.device_hash)
        .where(Attendance.session_id == session_id))
    return {person_id: accounts for person_id, accounts in rows}


@dataclass
class CheckinRow:
    person_id: int
    name: str
    account: str
    unit: str
    status: AttendanceStatus | None
    checked_in_at: datetime | None
    method: str | None
    device_hash: str | None
    shared_with: int  # accounts checked in from this row's device (0: not shared)


def get_checkins(session_id: int) -> list[CheckinRow]:
    """The self check-ins of a session (by QR or code), earliest first, each flagged
    with the number of accounts its device checked in."""
    shared = get_shared_devices(session_id)
    rows = db.session.execute(
        sa.select(Attendance.person_id, Person.name, Person.account, Unit.name,
                  Attendance.status, Attendance.checked_in_at, Attendance.method,
                  Attendance.device_hash)
        .join(Person, Person.id == Attendance.person_id)
        .join(Unit, Unit.id == Attendance.unit_id)
        .where(Attendance.session_id == session_id, Attendance.checked_in_at.is_not(None))
        .order_by(Attendance.checked_in_at, Person.name))
    return [CheckinRow(*row, shared_with=shared.get(row[0], 0)) for row in rows]
