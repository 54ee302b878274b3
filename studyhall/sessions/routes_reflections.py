"""心得体会 on a held session: its attendees write one from the session's page, and the
organiser reviews them in study's review flow (its queue template, its review page).
Everything is study's — the target (reflection_targets.SessionTarget), drafts,
submissions, reviews, the similarity flag; these routes only load the session and say
where the pages post. Someone not expected at the session gets 404, and nothing can be
written before the session starts."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from studyhall.auth.decorators import staff_required
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.sessions import bp, permissions
from studyhall.study import reflection_queries, similarity
from studyhall.study import reflection_targets as targets
from studyhall.study import reflections as ops
from studyhall.study.reflection_forms import ReflectionForm
from studyhall.study.reflections import ReflectionError
from studyhall.templating import localtime

#: A draft of MAX_BODY_CHARS Chinese characters as UTF-8 JSON, with room to spare.
MAX_JSON_BODY = 4 * ops.MAX_BODY_CHARS + 1024


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
    reflection = ops.get_reflection(target, current_user.id)
    based_on = ops.latest_number(reflection)
    editable = target.accepts_writing() and (reflection is None
                                             or reflection.status in ops.EDITABLE)
    form = ReflectionForm(formdata=None, body=reflection.body if reflection else "",
                          based_on=based_on)
    return render_template("study/reflections/write.html", target=target,
                           reflection=reflection, form=form, editable=editable,
                           based_on=based_on,
                           reviewers=reflection_queries.get_reviewer_names(reflection),
                           draft_url=url_for("sessions.save_session_reflection_draft",
                                             session_id=session_id),
                           submit_url=url_for("sessions.submit_session_reflection",
                                              session_id=session_id))


@bp.route("/sessions/<int:session_id>/reflection/draft", methods=["POST"])
@login_required
def save_session_reflection_draft(session_id: int):
    """Autosave, as study's: JSON {"body", "based_on"}; 409 for a stale page."""
    if (request.content_length or 0) > MAX_JSON_BODY:
        abort(413)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400)
    body, based_on = data.get("body"), data.get("based_on")
    if not isinstance(body, str) or not isinstance(based_on, int) or isinstance(based_on, bool):
        abort(400)
    target = _target_or_404(session_id)
    now = utcnow()
    try:
        reflection = ops.save_draft(target, current_user, body, based_on, now)
    except ReflectionError as exc:
        status = 409 if exc.code in ("submitted", "stale", "closed") else 422
        return jsonify(ok=False, error=exc.code, message=exc.message), status
    return jsonify(ok=True, saved_at=now.isoformat() + "Z", saved_time=localtime(now, "HH:mm"),
                   count=reflection.char_count)


@bp.route("/sessions/<int:session_id>/reflection/submit", methods=["POST"])
@login_required
def submit_session_reflection(session_id: int):
    target = _target_or_404(session_id)
    form = ReflectionForm()
    if not form.validate_on_submit():
        abort(400)
    body = form.body.data or ""
    here = url_for("sessions.write_session_reflection", session_id=session_id)
    now = utcnow()
    try:
        version = ops.submit(target, current_user, body, form.based_on.data, now)
    except ReflectionError as exc:
        db.session.rollback()
        if exc.code == "submitted":
            flash(_("This reflection has already been submitted."), "info")
            return redirect(here)
        if exc.code == "too_short":
            ops.save_draft(target, current_user, body, form.based_on.data, now)
        flash(exc.message, "error")
        return redirect(here)
    if version.number == 1:
        flash(_("Submitted. Your reviewer will read it."), "success")
    else:
        flash(_("Version %(n)d submitted. Your reviewer will read it.", n=version.number),
              "success")
    return redirect(here)


@bp.route("/manage/sessions/<int:session_id>/reflections")
@staff_required
def list_session_reflections(session_id: int):
    """The review queue of one session, in study's queue page: awaiting review (default),
    returned, accepted; each opens study's review page."""
    session = permissions.load_session_or_404(current_user, session_id)
    if session.status.value == "draft":
        abort(404)
    target = targets.SessionTarget(session)
    state = request.args.get("state", "awaiting")
    if state not in (*reflection_queries.QUEUE_STATES, "all"):
        state = "awaiting"
    query = reflection_queries.query_queue(target, state)
    page = db.paginate(query, per_page=current_app.config["PEOPLE_PER_PAGE"],
                       error_out=False)
    rows = db.session.execute(query.limit(page.per_page)
                              .offset((page.page - 1) * page.per_page)).all()
    return render_template("study/reflections/manage/queue.html", target=target, rows=rows,
                           page=page, state=state,
                           counts=reflection_queries.get_queue_counts(target),
                           flag_at=similarity.FLAG_AT, flag_percent=similarity.FLAG_PERCENT)
