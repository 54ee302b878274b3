"""Check-in pages: the meeting-room screen (a rotating QR code, the typed code and a live
count), the URL the QR encodes, the typed-code page, and the organiser's list of
check-ins with shared devices flagged.

A scan while logged out keeps the scan (the session and the server's time of it) in the
signed session cookie and sends the person to the login with ``next`` pointing at
``finish_checkin``, a fixed path of this site: the token may have expired by the time
the password is typed, but the scan was made in time and counts at its own moment.

A check-in that succeeds (or was already made) answers with a redirect to a result page
that reads the person's row, so reloading it never shows an expired QR code, and on
SQLite the write lock is held only for the UPDATE, not while a page is rendered.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

import segno
import sqlalchemy as sa
from flask import (
    abort,
    after_this_request,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie_session
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required
from limits import parse
from wtforms import StringField
from wtforms.validators import InputRequired, ValidationError

from studyhall.database import reads_first, start_writing
from studyhall.extensions import db, limiter
from studyhall.forms import Form
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import utcnow
from studyhall.sessions import bp, checkin, permissions
from studyhall.sessions.checkin import CheckinResult, Outcome, WindowState
from studyhall.sessions.models import Attendance, SessionStatus, StudySession

DEVICE_COOKIE = "studyhall_device"
DEVICE_COOKIE_DAYS = 400
_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: The scan made before logging in, in the signed session cookie.
PENDING_KEY = "checkin_scan"
#: Wrong typed codes allowed per account (a 6-digit code lives 20 s: guessing is hopeless
#: at this rate, a typo is not punished).
CODE_LIMIT = "10 per 10 minutes"
METHOD_LABELS = {"qr": _l("QR code"), "code": _l("Typed code"),
                 "recording": _l("Watched the recording")}
#: The screen fetches its state this often at most, and just after each step changes.
SCREEN_POLL_MS = 5000


# --- access ---------------------------------------------------------------------------------

def _load_screen_session_or_404(session_id: int) -> StudySession:
    """A published (or cancelled) session whose check-in the viewer runs: staff whose
    scope holds the owner unit, or its recorder (permissions.can_record)."""
    session = db.session.get(StudySession, session_id)
    if (session is None or session.status is SessionStatus.DRAFT
            or not permissions.can_record(current_user, session)):
        abort(404)
    return session


def _load_published_or_404(session_id: int) -> sa.Row:
    """The check-in columns of a session people may check in to (or be told it is
    cancelled); drafts are 404."""
    session = checkin.get_checkin_session(session_id)
    if session is None or session.status is SessionStatus.DRAFT:
        abort(404)
    return session


# --- the device cookie ----------------------------------------------------------------------

def _device_hash(session_id: int) -> str:
    """The keyed hash of this browser's device cookie for ``session_id``; a browser
    without one gets one with this response."""
    device_id = request.cookies.get(DEVICE_COOKIE, "")
    if not _DEVICE_ID.fullmatch(device_id):
        device_id = secrets.token_urlsafe(24)

        @after_this_request
        def _set(response):
            response.set_cookie(
                DEVICE_COOKIE, device_id, max_age=DEVICE_COOKIE_DAYS * 86400, httponly=True,
                samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
            return response

    return checkin.device_hash(_device_key(), device_id, session_id)


def _device_key() -> bytes:
    return f"device:{current_app.secret_key}".encode()


# --- checking in ----------------------------------------------------------------------------

@bp.route("/checkin/<int:session_id>/<token>")
def scan_checkin(session_id: int, token: str):
    """The URL the screen's QR code encodes. Checked against the server's clock: this
    step's token or the previous step's."""
    now = utcnow()
    session = checkin.get_checkin_session(session_id)
    # A session that does not exist (or is a draft) answers as a code that is not its
    # own does, byte for byte: a made-up URL tells nothing of which sessions exist.
    verdict = checkin.TokenCheck.INVALID if session is None \
        or session.status is SessionStatus.DRAFT else checkin.check_token(session, token, now)
    if verdict is not checkin.TokenCheck.VALID:
        outcome = Outcome.EXPIRED if verdict is checkin.TokenCheck.EXPIRED else Outcome.INVALID
        return _render_result(CheckinResult(outcome))
    if not current_user.is_authenticated:
        cookie_session[PENDING_KEY] = {"session_id": session.id, "at": now.isoformat()}
        flash(_("Sign in to finish checking in: your scan at %(time)s counts.",
                time=format_datetime(now, "HH:mm:ss")), "info")
        return redirect(url_for("auth.login",
                                next=url_for("sessions.finish_checkin", session_id=session.id)))
    return _check_in(session, now, "qr")


@bp.route("/checkin/<int:session_id>/finish")
@login_required
def finish_checkin(session_id: int):
    """Where the login sends someone who scanned while logged out: the scan counts at
    the moment it was made, if the login came within LOGIN_GRACE of it."""
    session = _load_published_or_404(session_id)
    pending = cookie_session.pop(PENDING_KEY, None) or {}
    scanned_at = _parse_time(pending.get("at")) if pending.get("session_id") == session.id \
        else None
    now = utcnow()
    if scanned_at is None or not now - checkin.LOGIN_GRACE <= scanned_at <= now:
        return _render_result(CheckinResult(Outcome.EXPIRED))
    return _check_in(session, scanned_at, "qr")


def _parse_time(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _check_in(session: sa.Row, at: datetime, method: str):
    device = _device_hash(session.id)
    person_id = current_user.id
    if checkin.window_state(session, at) is WindowState.OPEN and _on_sqlite():
        # The reads were done in a deferred transaction; the UPDATE queues for the write
        # lock in a fresh one. ``session`` is a row: the rollback leaves it be. Not on
        # PostgreSQL, where it would only cost round trips (the rollback hands the
        # connection back to the pool, whose checkout pings it again).
        start_writing()
    result = checkin.check_in(session, person_id, at=at, method=method, device=device)
    return _answer(result)


def _on_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def _answer(result: CheckinResult):
    if result.outcome.ok:
        # The page reads the row; the outcome only chooses 签到成功 or 已签到过.
        return redirect(url_for("sessions.show_checkin", session_id=result.session.id,
                                new=1 if result.outcome is Outcome.CHECKED_IN else None))
    return _render_result(result)


@bp.route("/checkin/<int:session_id>/done")
@login_required
def show_checkin(session_id: int):
    """The person's check-in at this session as recorded: 签到成功 right after it (?new=1),
    已签到过 otherwise; a reload never says that a QR code expired."""
    session = _load_published_or_404(session_id)
    row = db.session.get(Attendance, (session.id, current_user.id))
    if row is None:
        abort(404)
    if row.status is None:
        # Not checked in (yet): the page says so and offers the typed code.
        outcome = Outcome.CANCELLED if session.status is SessionStatus.CANCELLED else None
    elif row.status.attended:
        outcome = Outcome.CHECKED_IN if request.args.get("new") == "1" else Outcome.ALREADY
    else:
        outcome = Outcome.RECORDED
    return render_template("sessions/checkin/result.html", outcome=outcome, session=session,
                           row=row, status=row.status, checked_in_at=row.checked_in_at)


def _render_result(result: CheckinResult):
    # Never the session's topic, time or place to someone not on its list.
    session = None if result.outcome is Outcome.NOT_EXPECTED else result.session
    return render_template(
        "sessions/checkin/result.html", outcome=result.outcome, session=session,
        status=result.status, checked_in_at=result.checked_in_at,
        opens_at=checkin.opens_at(session) if session else None,
        closes_at=checkin.closes_at(session) if session else None,
    ), result.outcome.http_status


# --- the typed code -------------------------------------------------------------------------

class CheckinCodeForm(Form):
    code = StringField(_l("Check-in code"), validators=[InputRequired()],
                       description=_l("The 6 digits shown under the QR code on the screen."),
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code",
                                  "maxlength": 16, "class": "code-input"})

    def validate_code(self, field):
        field.data = checkin.normalize_code(field.data or "")
        if not re.fullmatch(rf"\d{{{checkin.CODE_DIGITS}}}", field.data):
            raise ValidationError(_("Type the 6 digits shown on the screen."))


@bp.route("/checkin", methods=["GET", "POST"])
@reads_first
@login_required
def checkin_by_code():
    """For people without a camera: type the 6-digit code the screen shows."""
    form = CheckinCodeForm()
    if not form.validate_on_submit():
        return render_template("sessions/checkin/code.html", form=form)
    if _code_attempts_exhausted():
        return render_template("sessions/checkin/code.html", form=form,
                               outcome=None, throttled=True), 429
    now = utcnow()
    session, outcome = checkin.find_session_for_code(current_user, form.code.data, now)
    if session is None:
        _count_wrong_code()
        form.code.data = ""  # the next try starts from an empty field
        return render_template("sessions/checkin/code.html", form=form, outcome=outcome), \
            outcome.http_status
    return _check_in(session, now, "code")


def _code_limit_key():
    return parse(current_app.config.get("CHECKIN_CODE_LIMIT", CODE_LIMIT)), "checkin-code", \
        str(current_user.id)


def _code_attempts_exhausted() -> bool:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return False
    item, *identifiers = _code_limit_key()
    return not limiter.limiter.test(item, *identifiers)


def _count_wrong_code() -> None:
    if current_app.config.get("RATELIMIT_ENABLED", True):
        item, *identifiers = _code_limit_key()
        limiter.limiter.hit(item, *identifiers)


# --- the screen -----------------------------------------------------------------------------

@bp.route("/manage/sessions/<int:session_id>/checkin/screen")
@login_required
def checkin_screen(session_id: int):
    """The meeting-room screen (a projector at 1280 px): QR code, typed code, topic and
    time, 已签到 N / 应到 M, refreshed by checkin-screen.js from screen_state."""
    session = _load_screen_session_or_404(session_id)
    return render_template("sessions/checkin/screen.html", session=session,
                           state=_screen_state(session, utcnow()),
                           late_from=checkin.late_from(session))


@bp.route("/manage/sessions/<int:session_id>/checkin/screen.json")
@login_required
def checkin_screen_state(session_id: int):
    session = _load_screen_session_or_404(session_id)
    response = jsonify(_screen_state(session, utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response


def _screen_state(session: StudySession, now: datetime) -> dict:
    """What the screen shows now. The QR code and the typed code appear only while
    check-in is open; ``refresh_ms`` asks for the next fetch just after the step
    changes, ``valid_ms`` says how long the code shown stays accepted."""
    state = checkin.window_state(session, now)
    checked_in, expected = checkin.get_checkin_counts(session.id)
    step = checkin.step_of(now)
    until_next = (checkin.step_ends_at(step) - now) // _MILLISECOND
    reply = {
        "state": state.value, "message": str(_STATE_TEXT[state]),
        "opens_at": format_datetime(checkin.opens_at(session), "HH:mm"),
        "closes_at": format_datetime(checkin.closes_at(session), "HH:mm"),
        "checked_in": checked_in, "expected": expected,
        "qr": None, "url": None, "code": None,
        "refresh_ms": min(until_next + 250, SCREEN_POLL_MS),
        "valid_ms": until_next + checkin.STEP_SECONDS * 1000 * (checkin.STEPS_ACCEPTED - 1),
    }
    if state is WindowState.OPEN:
        url = url_for("sessions.scan_checkin", session_id=session.id,
                      token=checkin.token_for(session, step), _external=True)
        code = checkin.code_for(session, step)
        reply.update(url=url, qr=qr_data_uri(url), code=f"{code[:3]} {code[3:]}")
    return reply


_MILLISECOND = timedelta(milliseconds=1)
_STATE_TEXT = {
    WindowState.NOT_OPEN: _l("Check-in is not open yet"),
    WindowState.OPEN: _l("Scan the QR code with your phone to check in"),
    WindowState.CLOSED: _l("Check-in has ended"),
    WindowState.CANCELLED: _l("This session is cancelled"),
}


@lru_cache(maxsize=128)
def qr_data_uri(url: str) -> str:
    """The QR code of ``url`` as an SVG data URI (img-src allows data:). Choosing the
    best mask takes ~35 ms, so each step's code is drawn once per process, however many
    screens poll it."""
    return segno.make(url, error="m", micro=False).svg_data_uri(border=4, omitsize=True)


# --- the organiser's list -------------------------------------------------------------------

@bp.route("/manage/sessions/<int:session_id>/checkin")
@login_required
def list_checkins(session_id: int):
    """Who checked in by QR or code, when, and from which device: a device that
    checked in several accounts is flagged (not blocked)."""
    session = _load_screen_session_or_404(session_id)
    rows = checkin.get_checkins(session.id)
    checked_in, expected = checkin.get_checkin_counts(session.id)
    return render_template("sessions/checkin/list.html", session=session, rows=rows,
                           checked_in=checked_in, expected=expected,
                           shared=sum(1 for row in rows if row.shared_with),
                           method_labels=METHOD_LABELS,
                           opens_at=checkin.opens_at(session),
                           closes_at=checkin.closes_at(session))

