"""心得体会 on a held session: its attendees write one from the session's page, and the
organiser reviews them in study's review flow (its queue template, its review page).
Everything is study's — the target (reflection_targets.SessionTarget), drafts,
submissions, reviews, the similarity flag; these routes only load the session and say
where the pages post. Someone not expected at the session gets 404, and nothing can be
written before the session starts."""

from __future__ import annotations

from flask import abort, url_for
from flask_login import current_user, login_required

from studyhall.auth.decorators import staff_required
from studyhall.model_helpers import utcnow
from studyhall.sessions import bp, permissions
from studyhall.study import reflection_targets as targets
from studyhall.study import reflection_views as views


def _target_or_404(session_id: int) -> targets.SessionTarget:
    """A session the viewer was expected at (study's loader), once it has started."""
    target = targets.load_session_target_for_writer_or_404(current_user, session_id)
    if utcnow() < target.session.starts_at:
        abort(404)
    return target


@bp.route("/sessions/<int:session_id>/reflection")
@login_required
def write_session_reflection(session_id: int):
    """Study's writing page (autosaved, a live count, the reviews so far)."""
    target = _target_or_404(session_id)
    return views.render_writing(
        target, draft_url=url_for("sessions.save_session_reflection_draft",
                                  session_id=session_id),
        submit_url=url_for("sessions.submit_session_reflection", session_id=session_id))


@bp.route("/sessions/<int:session_id>/reflection/draft", methods=["POST"])
@login_required
def save_session_reflection_draft(session_id: int):
    """Autosave, as study's: JSON {"body", "based_on"}; 409 for a stale page."""
    return views.save_draft(lambda: _target_or_404(session_id))


@bp.route("/sessions/<int:session_id>/reflection/submit", methods=["POST"])
@login_required
def submit_session_reflection(session_id: int):
    target = _target_or_404(session_id)
    return views.submit(target, url_for("sessions.write_session_reflection",
                                        session_id=session_id))


@bp.route("/manage/sessions/<int:session_id>/reflections")
@staff_required
def list_session_reflections(session_id: int):
    """The review queue of one session, in study's queue page: awaiting review (default),
    returned, accepted; each opens study's review page."""
    session = permissions.load_session_or_404(current_user, session_id)
    if session.status.value == "draft":
        abort(404)
    target = targets.SessionTarget(session)
    return views.render_queue(target)
