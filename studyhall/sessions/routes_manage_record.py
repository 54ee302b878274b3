"""After the session: the roster (one tap per person, 全部出席 then exceptions), leave
decisions, the record (minutes, resolutions, photos, attachments), confirming and
correcting it, and its history. Managers and the session's recorder; 404 for others."""

from __future__ import annotations

from datetime import datetime

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from studyhall.auth.decorators import staff_required
from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.model_helpers import utcnow
from studyhall.sessions import bp, operations, permissions, queries
from studyhall.sessions.forms import AttachmentForm, RecordForm, ReopenForm
from studyhall.sessions.models import (
    LABELS,
    Attendance,
    AttendanceStatus,
    SessionAttachment,
    SessionStatus,
)
from studyhall.sessions.operations import SessionError
from studyhall.storage import UploadError, file_response
from studyhall.templating import localtime


def _record_session_or_404(session_id: int):
    session = permissions.load_record_session_or_404(current_user, session_id)
    if session.status is SessionStatus.DRAFT:
        abort(404)
    return session


def _wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _counts_json(session) -> dict:
    counts = queries.get_counts(session)
    return {"expected": counts.expected, "present": counts.present, "late": counts.late,
            "excused": counts.excused, "absent": counts.absent, "unmarked": counts.unmarked}


@bp.route("/manage/sessions/<int:session_id>/roster")
@login_required
def show_roster(session_id: int):
    """The roster by unit: four buttons a person, figures on top."""
    session = _record_session_or_404(session_id)
    now = utcnow()
    return render_template(
        "sessions/manage/roster.html", session=session, roster=queries.get_roster(session),
        counts=queries.get_counts(session), labels=LABELS, statuses=AttendanceStatus,
        form=ConfirmForm(), now=now, opens_at=operations.marking_opens_at(session),
        can_manage=permissions.can_manage(current_user, session))


@bp.route("/manage/sessions/<int:session_id>/roster/<int:person_id>", methods=["POST"])
@login_required
def mark_attendance(session_id: int, person_id: int):
    """One tap. From the page's script: JSON with the new figures; without it, back to
    the person's row."""
    session = _record_session_or_404(session_id)
    form = ConfirmForm()
    try:
        status = AttendanceStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    if not form.validate_on_submit():
        abort(400)
    try:
        row = operations.mark_attendance(current_user, session, person_id, status)
    except SessionError as exc:
        db.session.rollback()
        if _wants_json():
            return jsonify(error=str(exc)), 409
        flash(str(exc), "error")
    else:
        if _wants_json():
            db.session.flush()
            return jsonify(person_id=row.person_id, status=row.status.value,
                           label=LABELS[row.status], counts=_counts_json(session))
    return redirect(url_for("sessions.show_roster", session_id=session.id,
                            _anchor=f"p{person_id}"))


@bp.route("/manage/sessions/<int:session_id>/roster/all-present", methods=["POST"])
@login_required
def mark_all_present(session_id: int):
    session = _record_session_or_404(session_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        n = operations.mark_all_present(current_user, session)
    except SessionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("%(n)d people marked present. Now tap the exceptions.", n=n), "success")
    return redirect(url_for("sessions.show_roster", session_id=session.id))


@bp.route("/manage/sessions/<int:session_id>/leave/<int:person_id>", methods=["POST"])
@staff_required
def decide_leave(session_id: int, person_id: int):
    """Approve or refuse one leave request (the organiser, not the recorder)."""
    session = permissions.load_session_or_404(current_user, session_id)
    row = db.session.get(Attendance, (session.id, person_id))
    decision = request.form.get("decision")
    if row is None or decision not in ("approve", "refuse"):
        abort(404 if row is None else 400)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operations.decide_leave(current_user, session, row, decision == "approve")
    except SessionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("Leave approved for %(name)s.", name=row.person.name) if decision == "approve"
              else _("Leave refused for %(name)s.", name=row.person.name), "success")
    back = request.form.get("back")
    endpoint = "sessions.show_roster" if back == "roster" else "sessions.show_managed_session"
    return redirect(url_for(endpoint, session_id=session.id, _anchor="leave"))


# --- The record -----------------------------------------------------------------------------

def _record_page(session, form, upload_form, status=200):
    counts = queries.get_counts(session)
    photos, attachments = queries.get_attachments(session)
    return render_template(
        "sessions/manage/record_edit.html", session=session, form=form,
        upload_form=upload_form, confirm_form=ConfirmForm(), counts=counts, labels=LABELS,
        photos=photos, attachments=attachments, now=utcnow(),
        complete=queries.record_is_complete(session, counts),
        corrected=bool(queries.get_versions(session))), status


@bp.route("/manage/sessions/<int:session_id>/record", methods=["GET", "POST"])
@login_required
def edit_record(session_id: int):
    """Minutes and resolutions, photos and attachments, and the checklist to confirm."""
    session = _record_session_or_404(session_id)
    form = RecordForm(data={"minutes": session.minutes, "resolutions": session.resolutions})
    if session.record_locked_at is None and form.validate_on_submit():
        try:
            operations.save_record(session, form.minutes.data, form.resolutions.data)
        except SessionError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Record saved."), "success")
            return redirect(url_for("sessions.edit_record", session_id=session.id))
    return _record_page(session, form, AttachmentForm())


@bp.route("/manage/sessions/<int:session_id>/attachments", methods=["POST"])
@login_required
def upload_attachments(session_id: int):
    """One or several photos (or attachments); each is checked by its content. All are
    kept, or none."""
    session = _record_session_or_404(session_id)
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            for upload in form.files.data:
                operations.add_attachment(current_user, session, form.kind.data,
                                          upload.read(), upload.filename or "",
                                          form.caption.data)
        except (SessionError, UploadError) as exc:
            db.session.rollback()
            form.files.errors = [*form.files.errors, str(exc)]
        else:
            flash(_("%(n)d files added.", n=len(form.files.data)), "success")
            return redirect(url_for("sessions.edit_record", session_id=session.id,
                                    _anchor="evidence"))
    record_form = RecordForm(data={"minutes": session.minutes,
                                   "resolutions": session.resolutions})
    return _record_page(session, record_form, form, status=422)


def _attachment_or_404(session, attachment_id: int) -> SessionAttachment:
    attachment = db.session.get(SessionAttachment, attachment_id)
    if attachment is None or attachment.session_id != session.id:
        abort(404)
    return attachment


@bp.route("/manage/sessions/<int:session_id>/attachments/<int:attachment_id>/delete",
          methods=["POST"])
@login_required
def delete_attachment(session_id: int, attachment_id: int):
    session = _record_session_or_404(session_id)
    attachment = _attachment_or_404(session, attachment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operations.remove_attachment(current_user, session, attachment)
    except SessionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("Removed."), "success")
    return redirect(url_for("sessions.edit_record", session_id=session.id, _anchor="evidence"))


@bp.route("/manage/sessions/<int:session_id>/attachments/<int:attachment_id>")
@bp.route("/manage/sessions/<int:session_id>/attachments/<int:attachment_id>/<any(page):size>")
@login_required
def attachment_file(session_id: int, attachment_id: int, size: str = ""):
    """The original file, or a photo's page copy: a sign-in sheet or a photo of the
    people present, so kept by no cache."""
    session = _record_session_or_404(session_id)
    attachment = _attachment_or_404(session, attachment_id)
    stored = attachment.preview_file if size == "page" and attachment.preview_file \
        else attachment.file
    return file_response(stored, personal=True)


@bp.route("/manage/sessions/<int:session_id>/record/confirm", methods=["POST"])
@login_required
def confirm_record(session_id: int):
    """The recorder (or an organiser) confirms: the record is locked."""
    session = _record_session_or_404(session_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operations.confirm_record(current_user, session)
    except SessionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("sessions.edit_record", session_id=session.id))
    flash(_("Record confirmed and locked."), "success")
    return redirect(url_for("sessions.edit_record", session_id=session.id))


@bp.route("/manage/sessions/<int:session_id>/record/reopen", methods=["GET", "POST"])
@login_required
def reopen_record(session_id: int):
    """Correct a confirmed record: the reason is asked, the record as it stands is kept."""
    session = _record_session_or_404(session_id)
    if session.record_locked_at is None:
        return redirect(url_for("sessions.edit_record", session_id=session.id))
    form = ReopenForm()
    if form.validate_on_submit():
        version = operations.reopen_record(current_user, session, form.reason.data)
        flash(_("Version %(n)d is kept. Make the correction, then confirm the record again.",
                n=version.number), "success")
        return redirect(url_for("sessions.edit_record", session_id=session.id))
    return render_template("sessions/manage/record_reopen.html", session=session, form=form,
                           labels=LABELS)


def _detail_lines(entry, names: dict[int, str]) -> list[str]:
    """"Place: 党员活动室 → 三楼会议室" for each detail a change touched."""
    labels = {"topic": _("Topic"), "starts_at": _("Starts at"), "ends_at": _("Ends at"),
              "place": _("Place"), "online_url": _("Online meeting link"),
              "host_id": _("Host"), "speaker": _("Speaker"), "recorder_id": _("Recorder"),
              "leave_counts_as_expected": _("Approved leave stays in the attendance "
                                            "rate's denominator")}

    def shown(key, value):
        if value is None or value == "":
            return "—"
        if key in ("starts_at", "ends_at"):
            return localtime(datetime.fromisoformat(value))
        if key in ("host_id", "recorder_id"):
            return names.get(value, str(value))
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        return str(value)

    return [f"{labels.get(key, key)}: {shown(key, before)} → {shown(key, after)}"
            for key, (before, after) in (entry.details.get("changes") or {}).items()]


@bp.route("/manage/sessions/<int:session_id>/record/history")
@login_required
def show_record_history(session_id: int):
    """Earlier versions of the record and its audit trail."""
    session = _record_session_or_404(session_id)
    versions = queries.get_versions(session)
    entries = queries.get_audit_entries(session)
    ids = {pid for v in versions for pid in v.attendance}
    for entry, _name in entries:
        changes = entry.details.get("changes") or {}
        ids |= set(changes.get("attendance") or {})
        ids |= {v for key in ("host_id", "recorder_id") for v in changes.get(key, []) if v}
    names = queries.get_names(ids)
    return render_template(
        "sessions/manage/record_history.html", session=session, versions=versions,
        entries=entries, names=names, labels=LABELS,
        details={entry.id: _detail_lines(entry, names) for entry, _name in entries
                 if entry.action == "session.update"},
        statuses={s.value: s for s in AttendanceStatus},
        minutes_html={v.id: operations.render_minutes(v.minutes) for v in versions})
