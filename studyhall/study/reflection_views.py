"""A reflection's views, whatever it is written on: the writer's side (the writing page,
the autosave and the submission) and the reviewer's queue. Study's routes (an
assignment) and the sessions' routes (a held session) load their target their own way
and hand it here, so the two cannot drift apart (one page, one JSON contract, one set of
messages)."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, current_app, flash, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.study import reflection_queries, similarity
from studyhall.study import reflections as ops
from studyhall.study.reflection_forms import ReflectionForm
from studyhall.study.reflections import ReflectionError
from studyhall.templating import localtime

#: A draft of MAX_BODY_CHARS Chinese characters as UTF-8 JSON, with room to spare.
MAX_JSON_BODY = 4 * ops.MAX_BODY_CHARS + 1024


def render_writing(target, *, draft_url: str, submit_url: str):
    """The writing page: the text with a live count, autosaved; the reviews so far."""
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
                           draft_url=draft_url, submit_url=submit_url)


def save_draft(load_target: Callable[[], object]):
    """Autosave: JSON {"body", "based_on"}; the reply says when it was saved and its 字数.
    A page built on an older version gets 409 and must not retry. The body is checked
    before ``load_target`` runs any query."""
    if (request.content_length or 0) > MAX_JSON_BODY:
        abort(413)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400)
    body, based_on = data.get("body"), data.get("based_on")
    if not isinstance(body, str) or not isinstance(based_on, int) or isinstance(based_on, bool):
        abort(400)
    target = load_target()
    now = utcnow()
    try:
        reflection = ops.save_draft(target, current_user, body, based_on, now)
    except ReflectionError as exc:
        status = 409 if exc.code in ("submitted", "stale", "closed") else 422
        return jsonify(ok=False, error=exc.code, message=exc.message), status
    # The time as the page shows it, in the configured zone (not the phone's clock).
    return jsonify(ok=True, saved_at=now.isoformat() + "Z", saved_time=localtime(now, "HH:mm"),
                   count=reflection.char_count)


def submit(target, here: str):
    """Submit the text on the page as the next version. Refused (and kept as the draft)
    when too short; a second submission, or one from a stale page, changes nothing."""
    from studyhall.extensions import db

    form = ReflectionForm()
    if not form.validate_on_submit():
        abort(400)
    body = form.body.data or ""
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


def render_queue(target):
    """The review queue of a target: awaiting review (the default ``state``), returned,
    accepted or all, a page of people at a time; each row opens the review page."""
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
