"""The writer's reflection pages (write, autosave, submit, my reflections) and the shared
优秀 reflections of one's unit."""

from __future__ import annotations

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

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.study import bp, reflection_queries
from studyhall.study import reflection_targets as targets
from studyhall.study import reflections as ops
from studyhall.study.reflection_forms import ReflectionForm
from studyhall.study.reflections import ReflectionError
from studyhall.templating import localtime

#: A draft of MAX_BODY_CHARS Chinese characters as UTF-8 JSON, with room to spare.
MAX_JSON_BODY = 4 * ops.MAX_BODY_CHARS + 1024


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
                           draft_url=url_for("study.save_reflection_draft",
                                             assignment_id=assignment_id),
                           submit_url=url_for("study.submit_reflection",
                                              assignment_id=assignment_id))


def _json_body() -> dict:
    if (request.content_length or 0) > MAX_JSON_BODY:
        abort(413)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400)
    return data


@bp.route("/study/assignments/<int:assignment_id>/reflection/draft", methods=["POST"])
@login_required
def save_reflection_draft(assignment_id: int):
    """Autosave: JSON {"body", "based_on"}; the reply says when it was saved and its 字数.
    A page built on an older version gets 409 and must not retry."""
    data = _json_body()
    body, based_on = data.get("body"), data.get("based_on")
    if not isinstance(body, str) or not isinstance(based_on, int) or isinstance(based_on, bool):
        abort(400)
    target = targets.load_target_for_writer_or_404(current_user, assignment_id)
    now = utcnow()
    try:
        reflection = ops.save_draft(target, current_user, body, based_on, now)
    except ReflectionError as exc:
        status = 409 if exc.code in ("submitted", "stale", "closed") else 422
        return jsonify(ok=False, error=exc.code, message=exc.message), status
    # The time as the page shows it, in the configured zone (not the phone's clock).
    return jsonify(ok=True, saved_at=now.isoformat() + "Z", saved_time=localtime(now, "HH:mm"),
                   count=reflection.char_count)


@bp.route("/study/assignments/<int:assignment_id>/reflection/submit", methods=["POST"])
@login_required
def submit_reflection(assignment_id: int):
    """Submit the text on the page as the next version. Refused (and kept as the draft)
    when too short; a second submission, or one from a stale page, changes nothing."""
    target = targets.load_target_for_writer_or_404(current_user, assignment_id)
    form = ReflectionForm()
    if not form.validate_on_submit():
        abort(400)
    body = form.body.data or ""
    here = url_for("study.write_reflection", assignment_id=assignment_id)
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
