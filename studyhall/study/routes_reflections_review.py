"""Reviewing reflections (staff): the assignments that ask for them, the queue of one
assignment by state, one reflection with its versions, the similarity flag and the
review form, and marking 优秀."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from studyhall.auth.decorators import staff_required
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.study import bp, reflection_queries, similarity
from studyhall.study import reflection_targets as targets
from studyhall.study import reflection_views as views
from studyhall.study import reflections as ops
from studyhall.study.reflection_forms import ExcellentForm, ReviewForm
from studyhall.study.reflections import ReflectionError


@bp.route("/manage/study/reflections/")
@staff_required
def list_reflection_assignments():
    """Assignments in my scope that ask for reflections, with how many wait for review."""
    return render_template("study/reflections/manage/assignments.html",
                           rows=reflection_queries.get_reviewable_assignments(current_user))


@bp.route("/manage/study/assignments/<int:assignment_id>/reflections")
@staff_required
def list_assignment_reflections(assignment_id: int):
    """The review queue of one assignment: awaiting review (default), returned, accepted."""
    target = targets.load_target_for_reviewer_or_404(current_user, assignment_id)
    return views.render_queue(target)


def queue_url(target) -> str | None:
    """The review queue a target's reflections are listed in (a session's is in
    sessions/routes_reflections.py)."""
    if target.kind == "assignment":
        return url_for("study.list_assignment_reflections", assignment_id=target.id)
    return url_for("sessions.list_session_reflections", session_id=target.id)


def _render_review(reflection, target, form, status: int = 200):
    return render_template(
        "study/reflections/manage/review.html", reflection=reflection, target=target,
        form=form, latest=reflection.versions[-1], flag_at=similarity.FLAG_AT,
        queue_url=queue_url(target),
        reviewers=reflection_queries.get_reviewer_names(reflection),
        can_decide=(reflection.versions[-1].decision is None
                    and reflection.person_id != current_user.id),
        excellent_form=ExcellentForm(formdata=None)), status


@bp.route("/manage/study/reflections/<int:reflection_id>")
@staff_required
def review_reflection(reflection_id: int):
    """One reflection: the latest version, the earlier ones with their reviews, the
    similarity flag, and the review form."""
    reflection, target = targets.load_reflection_for_reviewer_or_404(current_user, reflection_id)
    form = ReviewForm(formdata=None, version=reflection.versions[-1].number)
    return _render_review(reflection, target, form)


@bp.route("/manage/study/reflections/<int:reflection_id>/review", methods=["POST"])
@staff_required
def decide_reflection(reflection_id: int):
    """Accept (optionally as 优秀) or return with a reason the version the reviewer read."""
    reflection, target = targets.load_reflection_for_reviewer_or_404(current_user, reflection_id,
                                                                 lock=True)
    form = ReviewForm()
    if not form.validate_on_submit():
        return _render_review(reflection, target, form, 422 if form.errors else 400)
    try:
        ops.review(reflection, form.version.data, current_user, form.decision.data,
                   form.comment.data or "", utcnow(), excellent=form.excellent.data)
    except ReflectionError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("study.review_reflection", reflection_id=reflection_id))
    if form.decision.data == ops.ACCEPTED:
        flash(_("Accepted."), "success")
    else:
        flash(_("Returned for revision. The writer will see your comment."), "success")
    return redirect(queue_url(target) or url_for("study.review_reflection",
                                                 reflection_id=reflection_id))


@bp.route("/manage/study/reflections/<int:reflection_id>/excellent", methods=["POST"])
@staff_required
def mark_reflection_excellent(reflection_id: int):
    """Mark (excellent=1) or unmark (excellent=0) an accepted reflection as 优秀."""
    reflection, _target = targets.load_reflection_for_reviewer_or_404(current_user, reflection_id,
                                                                  lock=True)
    form = ExcellentForm()
    if not form.validate_on_submit() or form.excellent.data not in ("0", "1"):
        abort(400)
    try:
        ops.set_excellent(reflection, current_user, form.excellent.data == "1", utcnow())
    except ReflectionError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Marked as excellent and shared with the unit.") if reflection.is_excellent
              else _("No longer marked as excellent."), "success")
    return redirect(url_for("study.review_reflection", reflection_id=reflection_id))
