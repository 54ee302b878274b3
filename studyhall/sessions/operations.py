"""Writes on sessions: create and edit, the audience, publishing (which fixes the expected
attendees), cancelling, attendance on the roster, leave, and the record (minutes,
resolutions, photos, attachments; confirmed and locked; corrections keep the earlier
version and leave an audit entry). Change and flush; the request commits once."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from markdown_it import MarkdownIt

from studyhall import audit
from studyhall.audience import query_audience
from studyhall.auth.scope import unit_in_scope
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, Unit
from studyhall.sessions import files, links, plans, recording
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    LeaveState,
    SessionAttachment,
    SessionKind,
    SessionRecordVersion,
    SessionStatus,
    StudyPlanItem,
    StudySession,
)
from studyhall.sessions.queries import get_counts, get_unit_managers, record_is_complete
from studyhall.study.materials import clean_html


class SessionError(ValueError):
    """A change the session's rules forbid; the message says why."""


#: Details that stay as they were once a session is published (its attendees were fixed
#: for this kind and unit).
FIXED_AT_PUBLICATION = frozenset({"kind", "owner_unit_id"})
#: Details of a published session whose every change is audited (the record shows them).
AUDITED_DETAILS = ("topic", "starts_at", "ends_at", "place", "online_url", "host_id",
                   "speaker", "recorder_id", "leave_counts_as_expected", "plan_item_id",
                   "recording_material_id")
#: Values of the form that are links in their own tables (links.py), audited the same way.
LINK_KEYS = ("material_ids", "quiz_ids")
MAX_PHOTOS = 30
MAX_ATTACHMENTS = 20
#: Minutes are typed on phones one remark per line, so a single line break is kept
#: (materials' Markdown needs a blank line); raw HTML is off, as for materials.
_minutes_markdown = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(
    ["table", "strikethrough"])


def default_audience(kind: SessionKind, owner_unit: Unit) -> dict:
    """Who is expected unless the organiser says otherwise: the unit with its subtree;
    支部委员会: the people who manage the unit (its committee); 中心组学习: a named
    list, empty until the organiser fills it."""
    if kind is SessionKind.BRANCH_COMMITTEE:
        return {"unit_ids": [], "person_ids": get_unit_managers(owner_unit), "statuses": []}
    if kind is SessionKind.CENTRAL_GROUP:
        return {"unit_ids": [], "person_ids": [], "statuses": []}
    return {"unit_ids": [owner_unit.id], "person_ids": [], "statuses": []}


# --- Authoring ------------------------------------------------------------------------------

def create_session(actor: Person, values: dict) -> StudySession:
    """A draft with the kind's default audience (and its links, checked: links.py)."""
    values = dict(values)
    link_values = {key: values.pop(key) for key in LINK_KEYS if key in values}
    plan_item_id = values.pop("plan_item_id", None)
    recording_id = values.get("recording_material_id")
    session = StudySession(**{**values, "recording_material_id": None},
                           checkin_secret=secrets.token_hex(32),
                           created_by_id=actor.id, status=SessionStatus.DRAFT)
    owner = db.session.get(Unit, values["owner_unit_id"])
    session.audience = default_audience(session.kind, owner)
    db.session.add(session)
    db.session.flush()
    _apply_links(actor, session, {**link_values, "recording_material_id": recording_id})
    _link_plan_item(session, plan_item_id)
    return session


def _apply_links(actor: Person, session: StudySession, values: dict) -> dict:
    """Check and set the materials, quizzes and recording; returns what changed."""
    try:
        links.check_links(actor, session, values)
    except links.LinkError as exc:
        raise SessionError(str(exc)) from exc
    recording_id = values.get("recording_material_id")
    if recording_id and session.kind is not SessionKind.PARTY_LECTURE:
        raise SessionError(_l("Only a party lecture can be a recording."))
    if (session.recording_assignment_id and "recording_material_id" in values
            and recording_id != session.recording_material_id):
        raise SessionError(_l("Attendees are watching this recording already: it stays "
                              "as it is."))
    changes = links.set_links(session, values.get("material_ids"), values.get("quiz_ids"))
    if "recording_material_id" in values and recording_id != session.recording_material_id:
        changes["recording_material_id"] = [session.recording_material_id, recording_id]
        session.recording_material_id = recording_id
    return changes


def _link_plan_item(session: StudySession, item_id: int | None) -> dict:
    """Say which plan item the session carries out (plans.link_session's rules: the
    plan unit's session, of the item's kind); returns the change."""
    before = session.plan_item_id
    if item_id == before:
        return {}
    if item_id is None:
        session.plan_item_id = None
    else:
        item = db.session.get(StudyPlanItem, item_id)
        if item is None:
            raise SessionError(_l("Choose an item of this unit's plan."))
        try:
            plans.link_session(item.plan, item, session)
        except plans.PlanError as exc:
            raise SessionError(str(exc)) from exc
    return {"plan_item_id": [before, item_id]}


def update_session(actor: Person, session: StudySession, values: dict) -> None:
    """Apply the edit form. A draft changes freely (a new kind or unit brings that
    kind's default audience, if the audience was still the old default). Published:
    the kind and unit stay, and each changed detail leaves an audit entry. A confirmed
    record is reopened first."""
    _require_not_cancelled(session)
    _require_unlocked(session)
    values = dict(values)
    link_values = {key: values.pop(key) for key in (*LINK_KEYS, "recording_material_id")
                   if key in values}
    has_plan_item = "plan_item_id" in values
    plan_item_id = values.pop("plan_item_id", None)
    if session.status is SessionStatus.DRAFT:
        old_default = default_audience(session.kind, session.owner_unit)
        for key, value in values.items():
            setattr(session, key, value)
        db.session.flush()
        db.session.refresh(session, ["owner_unit"])
        if session.audience == old_default:
            session.audience = default_audience(session.kind, session.owner_unit)
        _apply_links(actor, session, link_values)
        if has_plan_item:
            _link_plan_item(session, plan_item_id)
        return
    fixed = sorted(k for k in FIXED_AT_PUBLICATION if k in values
                   and values[k] != getattr(session, k))
    if fixed:
        raise SessionError(_l("A published session keeps its kind and unit: its attendees "
                              "were fixed for them."))
    changes = {key: [_plain(getattr(session, key)), _plain(values[key])]
               for key in AUDITED_DETAILS if key in values
               and values[key] != getattr(session, key)}
    for key, value in values.items():
        setattr(session, key, value)
    changes.update(_apply_links(actor, session, link_values))
    recording.give_recording(actor, session)
    if has_plan_item:
        changes.update(_link_plan_item(session, plan_item_id))
    if changes:
        audit.record(actor, "session.update", session, changes=changes)


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else value


def set_audience(session: StudySession, audience: dict) -> None:
    if session.status is not SessionStatus.DRAFT:
        raise SessionError(_l("Once published, a session keeps its expected attendees."))
    session.audience = audience


def publish_session(actor: Person, session: StudySession, now: datetime | None = None) -> int:
    """Fix the expected attendees (the audience within the publisher's scope, with each
    person's unit and 政治面貌 of today) in one INSERT ... SELECT; returns how many."""
    if session.status is not SessionStatus.DRAFT:
        raise SessionError(_l("This session is already published."))
    if not unit_in_scope(actor, session.owner_unit):
        raise SessionError(_l("You can publish only sessions of units you manage."))
    audience = query_audience(session.audience, session.owner_unit, actor).subquery()
    expected = db.session.scalar(sa.select(sa.func.count()).select_from(audience))
    if not expected:
        raise SessionError(_l("Nobody is expected: choose units or name people."))
    db.session.execute(sa.insert(Attendance).from_select(
        ["session_id", "person_id", "unit_id", "political_status"],
        sa.select(sa.literal(session.id), audience.c.id, audience.c.unit_id,
                  audience.c.political_status)))
    session.status, session.published_at = SessionStatus.PUBLISHED, now or utcnow()
    audit.record(actor, "session.publish", session, expected=expected)
    recording.give_recording(actor, session)
    return expected


def cancel_session(actor: Person, session: StudySession) -> None:
    """Call a session off: attendees see it cancelled. Not once anyone's attendance is
    recorded or the record is confirmed."""
    if session.status is SessionStatus.CANCELLED:
        raise SessionError(_l("This session is already cancelled."))
    _require_unlocked(session)
    marked = db.session.scalar(sa.select(sa.func.count()).where(
        Attendance.session_id == session.id, Attendance.status.is_not(None),
        Attendance.method != "leave"))
    if marked:
        raise SessionError(_l("Attendance has been recorded for this session: it was "
                              "held and cannot be cancelled."))
    was = session.status
    session.status = SessionStatus.CANCELLED
    if was is SessionStatus.PUBLISHED:
        audit.record(actor, "session.cancel", session)
        recording.close_recording(actor, session)


# --- Attendance -----------------------------------------------------------------------------

def marking_opens_at(session: StudySession) -> datetime:
    """Attendance can be recorded from when check-in opens: never for a meeting that has
    not happened yet (a complaint about Moodle's module)."""
    return session.starts_at - timedelta(minutes=session.checkin_opens_before)


def _require_marking(session: StudySession, now: datetime) -> None:
    if session.status is not SessionStatus.PUBLISHED:
        raise SessionError(_l("Attendance is recorded only for published sessions."))
    _require_unlocked(session)
    if now < marking_opens_at(session):
        raise SessionError(_l("Attendance can be recorded from %(minutes)d minutes before "
                              "the start.", minutes=session.checkin_opens_before))


def mark_attendance(actor: Person, session: StudySession, person_id: int,
                    status: AttendanceStatus, now: datetime | None = None) -> Attendance:
    """One tap on the roster: set one expected person's status."""
    _require_marking(session, now or utcnow())
    row = db.session.get(Attendance, (session.id, person_id))
    if row is None:
        raise SessionError(_l("This person is not expected at this session."))
    if row.status is not status:
        row.status, row.method, row.marked_by_id = status, "roster", actor.id
    return row


def mark_all_present(actor: Person, session: StudySession, now: datetime | None = None) -> int:
    """全部出席: everyone not marked yet becomes present (approved leave and earlier marks
    stay); returns how many rows changed. One UPDATE."""
    _require_marking(session, now or utcnow())
    result = db.session.execute(
        sa.update(Attendance)
        .where(Attendance.session_id == session.id, Attendance.status.is_(None))
        .values(status=AttendanceStatus.PRESENT, method="roster", marked_by_id=actor.id)
        .execution_options(synchronize_session=False))
    db.session.expire_all()
    return result.rowcount


# --- Leave ----------------------------------------------------------------------------------

def request_leave(session: StudySession, row: Attendance, reason: str,
                  now: datetime | None = None) -> None:
    """An attendee asks for leave, with a reason, before the session starts. Asking
    again replaces a pending or refused request."""
    now = now or utcnow()
    if session.status is not SessionStatus.PUBLISHED:
        raise SessionError(_l("This session is not open for leave requests."))
    if now >= session.starts_at:
        raise SessionError(_l("Leave is requested before the session starts. Tell the "
                              "organiser directly."))
    if row.leave_state is LeaveState.APPROVED:
        raise SessionError(_l("Your leave is already approved."))
    reason = (reason or "").strip()
    if not reason:
        raise SessionError(_l("Give a reason."))
    row.leave_state, row.leave_reason, row.leave_requested_at = \
        LeaveState.REQUESTED, reason[:500], now
    row.leave_decided_by_id = row.leave_decided_at = None


def withdraw_leave(session: StudySession, row: Attendance, now: datetime | None = None) -> None:
    """Withdraw a request (pending or approved) before the session starts."""
    if (now or utcnow()) >= session.starts_at or row.leave_state is None:
        raise SessionError(_l("There is no leave request to withdraw."))
    _clear_leave_status(row)
    row.leave_state = row.leave_requested_at = None
    row.leave_decided_by_id = row.leave_decided_at = None
    row.leave_reason = ""


def decide_leave(actor: Person, session: StudySession, row: Attendance, approve: bool,
                 now: datetime | None = None) -> None:
    """Approve (the person is 请假, not absent) or refuse a request. Approval marks an
    unmarked person excused; refusing an approval clears that mark again."""
    if session.status is not SessionStatus.PUBLISHED:
        raise SessionError(_l("This session is not open for leave requests."))
    _require_unlocked(session)
    if row.leave_state is None:
        raise SessionError(_l("This person has not asked for leave."))
    row.leave_state = LeaveState.APPROVED if approve else LeaveState.REFUSED
    row.leave_decided_by_id, row.leave_decided_at = actor.id, now or utcnow()
    if approve and row.status is None:
        row.status, row.method, row.marked_by_id = AttendanceStatus.EXCUSED, "leave", actor.id
    elif not approve:
        _clear_leave_status(row)


def _clear_leave_status(row: Attendance) -> None:
    """Undo the 请假 mark that an approval made (not one the organiser tapped)."""
    if row.status is AttendanceStatus.EXCUSED and row.method == "leave":
        row.status = row.method = row.marked_by_id = None


# --- The record -----------------------------------------------------------------------------

def _require_unlocked(session: StudySession) -> None:
    if session.record_locked_at is not None:
        raise SessionError(_l("The record is confirmed and locked. To correct it, choose "
                              "“Correct the record” and give the reason."))


def _require_not_cancelled(session: StudySession) -> None:
    if session.status is SessionStatus.CANCELLED:
        raise SessionError(_l("This session is cancelled."))


def _require_record(session: StudySession) -> None:
    if session.status is not SessionStatus.PUBLISHED:
        raise SessionError(_l("A record is kept only for a published session."))
    _require_unlocked(session)


def render_minutes(text: str | None) -> str:
    """Minutes in Markdown → HTML cleaned by the one sanitiser (materials' nh3 list: no
    script, style or event attribute, links only to http(s), no outside image)."""
    if not text or not text.strip():
        return ""
    return clean_html(_minutes_markdown.render(text)).strip()


def save_record(session: StudySession, minutes: str, resolutions: str) -> None:
    """Minutes (Markdown, rendered and cleaned once here) and resolutions."""
    _require_record(session)
    session.minutes = minutes or ""
    session.minutes_html = render_minutes(session.minutes)
    session.resolutions = resolutions or ""


def add_attachment(actor: Person, session: StudySession, kind: str, data: bytes,
                   filename: str, caption: str = "") -> SessionAttachment:
    """A photo (original kept, page copy made) or another attachment, checked by its
    content. Raises storage.UploadError or SessionError with the reason."""
    _require_record(session)
    counts = dict(db.session.execute(
        sa.select(SessionAttachment.kind, sa.func.count())
        .where(SessionAttachment.session_id == session.id)
        .group_by(SessionAttachment.kind)).all())
    limit = MAX_PHOTOS if kind == "photo" else MAX_ATTACHMENTS
    if counts.get(kind, 0) >= limit:
        raise SessionError(_l("At most %(n)d files of this kind.", n=limit))
    if kind == "photo":
        original, preview = files.save_photo(data, filename, actor)
    else:
        original, preview = files.save_attachment(data, filename, actor), None
    position = db.session.scalar(sa.select(sa.func.coalesce(
        sa.func.max(SessionAttachment.position), 0)).where(
        SessionAttachment.session_id == session.id)) + 1
    attachment = SessionAttachment(session_id=session.id, kind=kind, file_id=original.id,
                                   preview_file_id=preview.id if preview else None,
                                   caption=(caption or "").strip()[:200], position=position,
                                   created_by_id=actor.id)
    db.session.add(attachment)
    db.session.flush()
    if _was_confirmed(session):
        audit.record(actor, "session.attachment_add", session, attachment_id=attachment.id,
                     file=original.filename)
    return attachment


def remove_attachment(actor: Person, session: StudySession,
                      attachment: SessionAttachment) -> None:
    """Remove a photo or attachment from the record (the stored file stays). While a
    confirmed record is being corrected, the removal is audited."""
    _require_record(session)
    if _was_confirmed(session):
        audit.record(actor, "session.attachment_remove", session,
                     attachment_id=attachment.id, file_id=attachment.file_id,
                     file=attachment.file.filename, kind=attachment.kind)
    db.session.delete(attachment)


def _was_confirmed(session: StudySession) -> bool:
    return db.session.scalar(sa.select(sa.func.count()).where(
        SessionRecordVersion.session_id == session.id)) > 0


def confirm_record(actor: Person, session: StudySession, now: datetime | None = None) -> None:
    """The recorder confirms: the record is locked. It must be complete (minutes written,
    everyone marked). After a correction, the audit entry lists what changed since the
    version kept when it was reopened."""
    now = now or utcnow()
    _require_record(session)
    if now < session.starts_at:
        raise SessionError(_l("The record is confirmed after the session."))
    if not record_is_complete(session, get_counts(session)):
        raise SessionError(_l("The record is not complete: write the minutes and mark "
                              "everyone's attendance first."))
    session.record_locked_at, session.record_locked_by_id = now, actor.id
    last = db.session.scalar(
        sa.select(SessionRecordVersion).where(SessionRecordVersion.session_id == session.id)
        .order_by(SessionRecordVersion.number.desc()).limit(1))
    if last is None:
        audit.record(actor, "session.record_confirm", session)
    else:
        audit.record(actor, "session.record_correct", session, version=last.number,
                     changes=_changes_since(session, last))


def reopen_record(actor: Person, session: StudySession, reason: str,
                  now: datetime | None = None) -> SessionRecordVersion:
    """Correct a confirmed record: the record as it stands is kept as a numbered version,
    an audit entry gives the reason, and the record opens for changes until it is
    confirmed again."""
    if session.record_locked_at is None:
        raise SessionError(_l("The record is not confirmed yet: change it directly."))
    reason = (reason or "").strip()
    if not reason:
        raise SessionError(_l("Give the reason for the correction."))
    number = db.session.scalar(sa.select(sa.func.coalesce(
        sa.func.max(SessionRecordVersion.number), 0)).where(
        SessionRecordVersion.session_id == session.id)) + 1
    version = SessionRecordVersion(
        session_id=session.id, number=number, minutes=session.minutes,
        resolutions=session.resolutions, attendance=_attendance_snapshot(session),
        saved_by_id=actor.id, saved_at=now or utcnow())
    db.session.add(version)
    session.record_locked_at = session.record_locked_by_id = None
    db.session.flush()
    audit.record(actor, "session.record_reopen", session, version=number,
                 reason=reason[:500])
    return version


def _attendance_snapshot(session: StudySession) -> dict[str, str | None]:
    # In person order: the history lists a version's attendance, and its changes, in the
    # order kept here; the rows' own order follows each database's storage.
    rows = db.session.execute(sa.select(Attendance.person_id, Attendance.status).where(
        Attendance.session_id == session.id).order_by(Attendance.person_id)).all()
    return {str(pid): status.value if status else None for pid, status in rows}


def _changes_since(session: StudySession, version: SessionRecordVersion) -> dict:
    """What differs from ``version``: minutes, resolutions, and each changed status as
    {person id: [before, after]}."""
    changes: dict = {}
    if session.minutes != version.minutes:
        changes["minutes"] = True
    if session.resolutions != version.resolutions:
        changes["resolutions"] = True
    now = _attendance_snapshot(session)
    moved = {pid: [version.attendance.get(pid), status] for pid, status in now.items()
             if version.attendance.get(pid) != status}
    if moved:
        changes["attendance"] = moved
    return changes
