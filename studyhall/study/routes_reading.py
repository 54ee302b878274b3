"""Reading an assignment: its page for the reader, one material with its checkpoints,
the heartbeat (JSON), 我已学完, and answering a checkpoint."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

import question_bank as qb
from studyhall.database import start_writing
from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.model_helpers import utcnow
from studyhall.study import bp, checkpoints, reading
from studyhall.study.models import (
    AssignmentStatus,
    MaterialCheckpoint,
    ReadingProgress,
    ReadingState,
    Reflection,
)
from studyhall.study.permissions import load_assignment_for_reader_or_404
from studyhall.study.queries import reading_state

#: A heartbeat is a few bytes of JSON; anything larger is refused.
MAX_BEAT_BODY = 1024
_BADGES = {ReadingState.COMPLETED: "ok", ReadingState.COMPLETED_LATE: "warn",
           ReadingState.OVERDUE: "err"}


def duration(seconds: int) -> str:
    """Reading time as people say it: "1小时5分", "12分30秒", "10分钟", "45秒"."""
    hours, rest = divmod(max(0, int(seconds)), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)d min", h=hours, m=minutes)
    if minutes and secs:
        return _("%(m)d min %(s)d s", m=minutes, s=secs)
    if minutes:
        return _("%(m)d minutes", m=minutes)
    return _("%(s)d seconds", s=secs)


@bp.context_processor
def _reading_helpers() -> dict:
    return {"describe_response": checkpoints.describe_response,
            "describe_answer": checkpoints.describe_answer,
            "state_badge": lambda state: _BADGES.get(state, ""), "duration": duration,
            "question_types": qb.QUESTION_TYPES}


def _load_reading_or_404(assignment_id: int, material_id: int) -> reading.Reading:
    assignment, _recipient = load_assignment_for_reader_or_404(current_user, assignment_id)
    found = reading.find_reading(assignment, material_id, current_user.id)
    if found is None:
        abort(404)
    return found


@bp.route("/study/assignments/<int:assignment_id>")
@login_required
def show_assignment(assignment_id: int):
    """The reader's view of an assignment: each material and quiz with its state."""
    assignment, recipient = load_assignment_for_reader_or_404(current_user, assignment_id)
    if (recipient.completed_at is None
            and reading.done_with_its_quizzes(assignment, current_user.id)):
        # A quiz of the assignment was finished since: the assignment is done now.
        start_writing()
        assignment, recipient = load_assignment_for_reader_or_404(current_user, assignment_id)
        reading.refresh_assignment_completion(assignment, current_user.id)
    now = utcnow()
    items = reading.get_reader_items(assignment, current_user.id, now)
    state = reading_state(recipient.completed_at, any(i.progress for i in items),
                                  assignment.due_at, now,
                                  assignment.status is AssignmentStatus.CLOSED)
    reflection = db.session.scalar(sa.select(Reflection).where(
        Reflection.assignment_id == assignment.id, Reflection.person_id == current_user.id)
    ) if assignment.requires_reflection else None
    return render_template("study/reading/assignment.html", assignment=assignment,
                           recipient=recipient, items=items, state=state, now=now,
                           reflection=reflection,
                           live=reading.assignment_is_live(assignment, now))


@bp.route("/study/assignments/<int:assignment_id>/materials/<int:material_id>")
@login_required
def read_material(assignment_id: int, material_id: int):
    """The reading page. The first open fixes the version the reader reads."""
    found = _load_reading_or_404(assignment_id, material_id)
    now = utcnow()
    if found.progress is None:
        if not reading.assignment_is_live(found.assignment, now):
            flash(_("This assignment is not open for reading."), "info")
            return redirect(url_for("study.show_assignment", assignment_id=assignment_id))
        start_writing()
        found = _load_reading_or_404(assignment_id, material_id)
        try:
            reading.open_reading(found, current_user.id, now)
        except reading.ReadingError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("study.show_assignment", assignment_id=assignment_id))
    version = found.version
    cps = checkpoints.get_reader_checkpoints(version.id, assignment_id, current_user.id, now)
    # Checkpoints by the block they follow (one beyond the text's end goes to its end).
    blocks = (len(checkpoints.split_blocks(version.body_html or ""))
              if checkpoints.has_blocks(found.material, version) else 0)
    by_anchor: dict[int, list] = {}
    for cp in cps:
        by_anchor.setdefault(min(cp.anchor, blocks), []).append(cp)
    return render_template(
        "study/reading/material.html", reading=found, version=version,
        material=found.material, assignment=found.assignment, progress=found.progress,
        checkpoints=cps, blocks=blocks, by_anchor=by_anchor, token=reading.new_page_token(),
        form=ConfirmForm(),
        live=found.assignment.status is AssignmentStatus.PUBLISHED,
        unanswered=sum(1 for cp in cps if cp.answer is None),
        beat_seconds=current_app.config.get("READING_BEAT_SECONDS", reading.BEAT_SECONDS),
        idle_seconds=reading.IDLE_SECONDS, now=now)


def _json_body() -> dict:
    if (request.content_length or 0) > MAX_BEAT_BODY:
        abort(413)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400)
    return data


@bp.route("/study/assignments/<int:assignment_id>/materials/<int:material_id>/beat",
          methods=["POST"])
@login_required
def reading_beat(assignment_id: int, material_id: int):
    """A heartbeat: JSON {"token", "active"}. The hot path of a county reading on one
    evening: one UPDATE (see reading.py); the reply says what was credited in all and
    whether this page holds the reading."""
    data = _json_body()
    token, active = data.get("token"), data.get("active")
    if not reading.valid_token(token) or not isinstance(active, bool):
        abort(400)
    beat = reading.heartbeat(assignment_id, material_id, current_user.id, token, active)
    if beat is None:
        return _no_beat(assignment_id, material_id)
    reply = {"ok": True, "held": beat.holds, "credited_seconds": beat.credited_ms // 1000}
    if not beat.holds:
        reply["message"] = _("This material is open in another window or on another device: "
                             "time here is not counted.")
    return jsonify(reply)


def _no_beat(assignment_id: int, material_id: int):
    """Why a heartbeat credited nothing: never opened (404), or the assignment closed."""
    db.session.rollback()
    progress = db.session.get(ReadingProgress, (assignment_id, current_user.id, material_id))
    if progress is None:
        abort(404)
    return jsonify(ok=False, error="closed",
                   message=_("This assignment has been closed.")), 409


@bp.route("/study/assignments/<int:assignment_id>/materials/<int:material_id>/complete",
          methods=["POST"])
@login_required
def complete_material(assignment_id: int, material_id: int):
    """我已学完."""
    found = _load_reading_or_404(assignment_id, material_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        if reading.complete_reading(found, current_user.id):
            flash(_("Well done: this material is completed."), "success")
    except reading.ReadingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("study.read_material", assignment_id=assignment_id,
                                material_id=material_id))
    return redirect(url_for("study.show_assignment", assignment_id=assignment_id))


@bp.route("/study/assignments/<int:assignment_id>/checkpoints/<int:checkpoint_id>",
          methods=["POST"])
@login_required
def answer_checkpoint(assignment_id: int, checkpoint_id: int):
    """Answer a checkpoint, graded at once. The page's script asks for JSON and shows the
    result in place; without it the form posts and the page comes back at the question."""
    assignment, _recipient = load_assignment_for_reader_or_404(current_user, assignment_id)
    checkpoint = db.session.get(MaterialCheckpoint, checkpoint_id)
    if checkpoint is None:
        abort(404)
    # Only a checkpoint of the version this reader reads, in this assignment.
    progress = db.session.scalar(sa.select(ReadingProgress).where(
        ReadingProgress.assignment_id == assignment.id,
        ReadingProgress.person_id == current_user.id,
        ReadingProgress.version_id == checkpoint.version_id))
    if progress is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    wants_json = request.accept_mimetypes.best == "application/json"
    back = url_for("study.read_material", assignment_id=assignment.id,
                   material_id=progress.material_id, _anchor=f"cp-{checkpoint.id}")
    try:
        if assignment.status is not AssignmentStatus.PUBLISHED:
            raise checkpoints.CheckpointError(_("This assignment has been closed."), "closed")
        checkpoints.answer_checkpoint(assignment.id, current_user.id, checkpoint,
                                      request.form.getlist("response"))
    except checkpoints.CheckpointError as exc:
        db.session.rollback()
        if wants_json:
            return jsonify(ok=False, error=exc.code, message=str(exc)), 422
        flash(str(exc), "error")
        return redirect(back)
    if not wants_json:
        return redirect(back)
    now = utcnow()
    view = next(cp for cp in checkpoints.get_reader_checkpoints(
        checkpoint.version_id, assignment.id, current_user.id, now) if cp.id == checkpoint.id)
    left = reading.unanswered_checkpoints(assignment.id, current_user.id, checkpoint.version_id)
    html = render_template("study/reading/_checkpoint.html", cp=view, assignment=assignment,
                           live=True)
    return jsonify(ok=True, correct=None if view.withheld else view.answer.is_correct,
                   unanswered=left, html=html)
