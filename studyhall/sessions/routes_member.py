"""An attendee's side: my sessions, one session's notice, and leave (请假) asked before
the session with a reason. Only sessions the viewer is expected at; others answer 404."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.model_helpers import utcnow
from studyhall.sessions import bp, links, operations, permissions, queries, recording
from studyhall.sessions.forms import LeaveRequestForm
from studyhall.sessions.models import LABELS
from studyhall.sessions.operations import SessionError


@bp.route("/sessions/")
@login_required
def list_my_sessions():
    now = utcnow()
    upcoming, past = queries.get_my_sessions(current_user, now)
    return render_template("sessions/member/my_sessions.html", upcoming=upcoming, past=past,
                           labels=LABELS, now=now)


@bp.route("/sessions/<int:session_id>")
@login_required
def show_my_session(session_id: int):
    session, row = permissions.load_my_session_or_404(current_user, session_id)
    return _session_page(session, row, LeaveRequestForm())


def _session_page(session, row, form, status=200):
    return render_template(
        "sessions/member/session_show.html", session=session, row=row, form=form,
        withdraw_form=ConfirmForm(), labels=LABELS, now=utcnow(),
        can_record=permissions.can_record(current_user, session),
        materials=links.get_my_materials(session, current_user),
        quizzes=links.get_quizzes(session, current_user),
        recording=links.get_recording(session), watch_url=recording.watch_url(session, row),
        reflection=_my_reflection(session), manage=False), status


def _my_reflection(session):
    from studyhall.study.reflection_targets import SessionTarget
    from studyhall.study.reflections import get_reflection

    return get_reflection(SessionTarget(session), current_user.id)


@bp.route("/sessions/<int:session_id>/materials/<int:material_id>")
@login_required
def read_session_material(session_id: int, material_id: int):
    """A material linked to a session, for its attendees: study's rule on the material
    applies too (load_material_or_404), so a link never widens who may read it."""
    from studyhall.study.permissions import load_material_or_404

    session, _row = permissions.load_my_session_or_404(current_user, session_id)
    if material_id not in links.get_material_ids(session):
        abort(404)
    material = load_material_or_404(current_user, material_id)
    if material.current_version is None:
        abort(404)
    return render_template("sessions/member/material.html", session=session,
                           material=material, version=material.current_version)


@bp.route("/sessions/<int:session_id>/leave", methods=["POST"])
@login_required
def request_leave(session_id: int):
    session, row = permissions.load_my_session_or_404(current_user, session_id)
    form = LeaveRequestForm()
    if form.validate_on_submit():
        try:
            operations.request_leave(session, row, form.reason.data)
        except SessionError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Leave requested. The organiser will decide."), "success")
        return redirect(url_for("sessions.show_my_session", session_id=session.id))
    return _session_page(session, row, form, status=422)


@bp.route("/sessions/<int:session_id>/leave/withdraw", methods=["POST"])
@login_required
def withdraw_leave(session_id: int):
    session, row = permissions.load_my_session_or_404(current_user, session_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operations.withdraw_leave(session, row)
    except SessionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("Leave request withdrawn."), "success")
    return redirect(url_for("sessions.show_my_session", session_id=session.id))
