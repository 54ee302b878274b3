"""The writer's reflection pages (write, autosave, submit, my reflections) and the shared
优秀 reflections of one's unit."""

from __future__ import annotations

from flask import (
    current_app,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from studyhall.extensions import db
from studyhall.study import bp, reflection_queries
from studyhall.study import reflection_targets as targets
from studyhall.study import reflection_views as views


@bp.route("/study/reflections/")
@login_required
def list_my_reflections():
    """Every assignment that asks me for a reflection, with its state."""
    return render_template("study/reflections/mine.html",
                           rows=reflection_queries.get_my_reflections(current_user))


@bp.route("/study/assignments/<int:assignment_id>/reflection")
@login_required
def write_reflection(assignment_id: int):
    """The writing page: the text with a live count, autosaved; the reviews so far."""
    target = targets.load_target_for_writer_or_404(current_user, assignment_id)
    return views.render_writing(
        target, draft_url=url_for("study.save_reflection_draft", assignment_id=assignment_id),
        submit_url=url_for("study.submit_reflection", assignment_id=assignment_id))


@bp.route("/study/assignments/<int:assignment_id>/reflection/draft", methods=["POST"])
@login_required
def save_reflection_draft(assignment_id: int):
    """Autosave (reflection_views.save_draft): 409 for a page built on an older version."""
    return views.save_draft(
        lambda: targets.load_target_for_writer_or_404(current_user, assignment_id))


@bp.route("/study/assignments/<int:assignment_id>/reflection/submit", methods=["POST"])
@login_required
def submit_reflection(assignment_id: int):
    """Submit the text on the page as the next version (reflection_views.submit)."""
    target = targets.load_target_for_writer_or_404(current_user, assignment_id)
    return views.submit(target, url_for("study.write_reflection", assignment_id=assignment_id))


@bp.route("/study/reflections/excellent")
@login_required
def list_shared_reflections():
    """Reflections marked 优秀 that the viewer's unit shares, newest first (of one
    assignment with ?assignment=ID)."""
    query = reflection_queries.query_shared(current_user,
                                            request.args.get("assignment", type=int))
    page = db.paginate(query, per_page=current_app.config["PEOPLE_PER_PAGE"],
                       error_out=False)
    rows = db.session.execute(query.limit(page.per_page)
                              .offset((page.page - 1) * page.per_page)).all()
    return render_template("study/reflections/shared_list.html", rows=rows, page=page)


@bp.route("/study/reflections/excellent/<int:reflection_id>")
@login_required
def show_shared_reflection(reflection_id: int):
    reflection, target = targets.load_shared_reflection_or_404(current_user, reflection_id)
    return render_template("study/reflections/shared_show.html", reflection=reflection,
                           target=target, version=reflection.versions[-1])
