"""Taking quizzes: my quizzes, the start page, the paper, saving, submitting, results."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from studyhall.database import keep_changes, reads_first, start_writing
from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.model_helpers import utcnow
from studyhall.quizzes import bp, paper_page, queries, review, taking
from studyhall.quizzes.models import Attempt, AttemptQuestion, AttemptStatus, Quiz, QuizMode
from studyhall.quizzes.paper import as_shown, item_of
from studyhall.quizzes.permissions import load_own_attempt_or_404, load_quiz_for_taker_or_404

#: Answer saves and events are small JSON bodies; anything larger is refused.
MAX_JSON_BODY = 64 * 1024
#: No paper has more questions than this; a larger position is refused before any SQL.
MAX_POSITION = 10_000
TOKENS_KEPT = 5


def small_json_body(view):
    """Mark a JSON endpoint whose body may not exceed MAX_JSON_BODY (see _limit_body)."""
    view.max_body = MAX_JSON_BODY
    return view


@bp.url_value_preprocessor
def _limit_body(endpoint, _values):
    """The body limit of a small-JSON endpoint, set before anything reads the body: the
    CSRF check reads request.form, which opens the input stream with the limit of that
    moment. A per-request max_content_length also bounds a chunked body, which has no
    Content-Length to check (issue 7 item 10)."""
    limit = getattr(current_app.view_functions.get(endpoint), "max_body", None)
    if limit:
        request.max_content_length = limit


def _token(attempt_id: int) -> str | None:
    return session.get("attempt_tokens", {}).get(str(attempt_id))


def _keep_token(attempt_id: int, token: str) -> None:
    tokens = dict(session.get("attempt_tokens", {}))
    tokens[str(attempt_id)] = token
    session["attempt_tokens"] = dict(list(tokens.items())[-TOKENS_KEPT:])


@bp.route("/quizzes/")
@login_required
def list_my_quizzes():
    now = utcnow()
    return render_template("quizzes/my_quizzes.html",
                           items=queries.get_my_quizzes(current_user, now), now=now,
                           practice=queries.get_practice_record(current_user))


@bp.route("/quizzes/<int:quiz_id>")
@login_required
def show_quiz(quiz_id: int):
    """The start page: rules, window, time limit, attempts left."""
    quiz, recipient = load_quiz_for_taker_or_404(current_user, quiz_id)
    now = utcnow()
    return render_template(
        "quizzes/quiz_start.html", quiz=quiz, now=now, form=ConfirmForm(),
        attempts_left=taking.attempts_left(quiz, recipient),
        finished=queries.get_finished_attempts(quiz, current_user),
        open_attempt=taking.open_attempt_of(quiz.id, current_user.id),
        question_count=len(quiz.paper.get("question_ids", [])) or sum(
            int(rule["count"]) for rule in quiz.paper.get("rules", [])))


@bp.route("/quizzes/<int:quiz_id>/start", methods=["POST"])
@reads_first
@login_required
def start_quiz(quiz_id: int):
    """Start (or resume) an attempt. When a whole county starts at 15:00, the paper is
    drawn before the write lock is taken, so the starts queue only for their inserts.
    The CSRF token was checked before the view, by CSRFProtect, as for every POST (the
    form's own check repeated it: a tenth of a start)."""
    # The quiz, the person's place in its audience and their attempts: one plain row.
    context = taking.start_context(quiz_id, current_user.id)
    if context is None:
        abort(404)  # as load_quiz_for_taker_or_404
    try:
        draw = taking.draw_from_context(context, current_user.id)
        start_writing()
        started = taking.store_attempt(draw)
    except taking.TakingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("quizzes.show_quiz", quiz_id=quiz_id))
    if _token(started.id) is None:
        _keep_token(started.id, started.session_token)
    return redirect(url_for("quizzes.take_attempt", attempt_id=started.id))


_row, _attempt, _quiz = (AttemptQuestion.__table__.c, Attempt.__table__.c,
                         Quiz.__table__.c)
#: The paper page's attempt, the viewer's own, with what the page shows of its quiz, as
#: a plain row (the ORM objects were a tenth of the page); the ORM object is loaded only
#: on the rare paths (expired: finished under the lock; held by another device).
_PAPER_ATTEMPT = (
    sa.select(_attempt.id, _attempt.quiz_id, _attempt.status, _attempt.deadline_at,
              _attempt.session_token, _quiz.title, _quiz.mode, _quiz.time_limit_minutes,
              _quiz.max_departures)
    .join(Quiz.__table__, _quiz.id == _attempt.quiz_id)
    .where(_attempt.id == sa.bindparam("attempt_id"),
           _attempt.person_id == sa.bindparam("person_id")))
#: The paper's rows as plain rows (Core): the page only reads them, and the ORM's 20
#: objects (identity map, instrumented attributes the template reads ~500 times) were a
#: tenth of the page (bench/profile_quiz_paper.py).
_PAPER_ROWS = (sa.select(_row.attempt_id, _row.position, _row.question_id, _row.type,
                         _row.config, _row.option_order, _row.points, _row.response,
                         _row.is_flagged, _row.score)
               .where(_row.attempt_id == sa.bindparam("attempt_id"))
               .order_by(_row.position))


@bp.route("/attempts/<int:attempt_id>")
@login_required
def take_attempt(attempt_id: int):
    """The paper. Nothing in it reveals an answer: the page gets stems, options in the
    order shown, and the taker's own saved responses."""
    attempt = db.session.execute(_PAPER_ATTEMPT, {"attempt_id": attempt_id,
                                                  "person_id": current_user.id}).first()
    if attempt is None:
        abort(404)  # not the viewer's own attempt, as load_own_attempt_or_404
    now = utcnow()
    if attempt.status is AttemptStatus.IN_PROGRESS and now >= attempt.deadline_at:
        start_writing()
        taking.finish_attempt(load_own_attempt_or_404(current_user, attempt_id, lock=True),
                              now, "expired")
        return redirect(url_for("quizzes.show_result", attempt_id=attempt_id))
    if attempt.status is not AttemptStatus.IN_PROGRESS:
        return redirect(url_for("quizzes.show_result", attempt_id=attempt_id))
    if _token(attempt_id) != attempt.session_token:
        return render_template("quizzes/attempt_takeover.html",
                               attempt=db.session.get(Attempt, attempt_id),
                               form=ConfirmForm())
    rows = db.session.execute(_PAPER_ROWS, {"attempt_id": attempt_id}).all()
    items = [(row, item_of(row)) for row in rows]
    feedback = {}
    if attempt.mode is QuizMode.PRACTICE:
        # Practice: answers already checked come back with their feedback (and stay
        # final), unless review.py withholds the key now (then its message).
        feedback = review.checked_feedback(current_user, db.session.get(Quiz, attempt.quiz_id),
                                           rows, now)
    return render_template("quizzes/attempt_take.html", attempt=attempt,
                           practice=attempt.mode is QuizMode.PRACTICE,
                           items=items, now=now, feedback=feedback,
                           paper_question=paper_page.question_html,
                           paper_cell=paper_page.cell_html,
                           paper_static=paper_page.static_html)


@bp.route("/attempts/<int:attempt_id>/takeover", methods=["POST"])
@login_required
def take_over_attempt(attempt_id: int):
    attempt = load_own_attempt_or_404(current_user, attempt_id, lock=True)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        _keep_token(attempt.id, taking.take_over(attempt))
    except taking.TakingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("quizzes.take_attempt", attempt_id=attempt.id))


def _refuse(status: int, code: str, message: str):
    """Answer a JSON endpoint's refusal at once: {"ok": false, "error": code, "message"}.
    The page's script must not resend a body refused with 400, 413 or 422."""
    abort(make_response(jsonify(ok=False, error=code, message=message), status))


def _json_body() -> dict:
    """The request's JSON object. Too large (with or without Content-Length): 413;
    anything but a JSON object: 400."""
    try:
        # A chunked body is read up to the limit and cut there, so reaching it means
        # there was more (the stream raises only on the read after).
        if len(request.get_data(cache=True)) >= request.max_content_length:
            raise RequestEntityTooLarge()
    except RequestEntityTooLarge:
        _refuse(413, "too_large", _("The request is too large."))
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        _refuse(400, "bad_request", _("The request could not be understood."))
    return data


def _refusal(exc: taking.TakingError):
    keep_changes()  # an expired attempt was just finished: keep that
    status = {"taken_over": 409, "submitted": 409, "expired": 409}.get(exc.code, 422)
    return jsonify(ok=False, error=exc.code, message=str(exc)), status


def _position_of(data: dict) -> int:
    """The question's position: a whole number from 1 to MAX_POSITION, else 422."""
    position = data.get("position")
    if isinstance(position, bool) or not isinstance(position, int) \
            or not 1 <= position <= MAX_POSITION:
        _refuse(422, "bad_position", _("No such question in this paper."))
    return position


@bp.route("/attempts/<int:attempt_id>/answers", methods=["POST"])
@small_json_body
@login_required
def save_answer(attempt_id: int):
    """Save one answer: JSON {"position", "response", "flagged"}. The reply says when it
    was saved; in practice mode it also grades it and explains, unless the key is
    withheld (review.py). The hot path of an exam: the attempt's columns, its quiz's mode
    and the row answered in one query (taking.SAVE_CONTEXT), then one UPDATE."""
    data = _json_body()
    position = _position_of(data)
    flagged = data.get("flagged")
    if flagged is not None and not isinstance(flagged, bool):
        _refuse(422, "bad_flag", _("The flag must be true or false."))
    # On the session's connection, in its transaction (Core: no ORM execution path).
    found = db.session.connection().execute(taking.SAVE_CONTEXT, {
        "attempt_id": attempt_id, "person_id": current_user.id, "position": position}).first()
    if found is None:
        abort(404)
    # The attempt stays a row (id, status, deadline, token): the rare paths load what
    # they need (an expired attempt is finished by id; practice reads its quiz).
    practice = found.mode is QuizMode.PRACTICE
    try:
        saved_at = taking.save_answer(found, position, data.get("response"), flagged,
                                      _token(attempt_id), practice=practice,
                                      row=(found.type, found.option_order, found.score))
    except taking.TakingError as exc:
        return _refusal(exc)
    reply = {"ok": True, "position": position, "saved_at": saved_at.isoformat() + "Z"}
    if practice and data.get("response") not in (None, "", []):
        row = db.session.get(AttemptQuestion, (attempt_id, position))
        keys = review.key_view(current_user, db.session.get(Quiz, found.quiz_id),
                               [row.question_id], saved_at)
        if keys.shows(row.question_id):
            # Checked: the score is kept on the row for the person's practice record.
            reply["feedback"], row.score = review.feedback(row, found.multiple_policy)
        else:
            # Saved, but neither graded nor explained: the key belongs to an exam in
            # progress (or is 保密). The page shows this message instead of feedback.
            reply["feedback_withheld"] = keys.note(row.question_id)
    return jsonify(reply)


@bp.route("/attempts/<int:attempt_id>/events", methods=["POST"])
@small_json_body
@login_required
def record_event(attempt_id: int):
    """The page left or came back into view: JSON {"kind": "leave" | "return"}."""
    data = _json_body()
    if data.get("kind") not in ("leave", "return"):
        _refuse(422, "bad_kind", _("Unknown event."))
    attempt = load_own_attempt_or_404(current_user, attempt_id, lock=True)
    try:
        submitted = taking.record_event(attempt, data["kind"], _token(attempt.id))
    except taking.TakingError as exc:
        return _refusal(exc)
    return jsonify(ok=True, departures=attempt.departures, submitted=submitted,
                   limit=attempt.quiz.max_departures)


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@reads_first
@login_required
def submit_attempt(attempt_id: int):
    """Submit (交卷). Twice, or from two tabs at once, gives one result. When a whole
    county submits at 15:30 the submits queue on SQLite's write lock, so everything that
    can be done before it is: the login, the attempt (the viewer's own: 404 otherwise)
    and its answers are read, and graded, in a deferred transaction; under the lock one
    read checks that the attempt is still open, held by this device, and that nothing
    that grades it changed since (taking.submit_graded), then the scores, status, total
    and event are written. The CSRF token was checked before the view (CSRFProtect)."""
    graded = taking.grade_ahead(attempt_id, current_user.id)
    if graded is None:
        abort(404)
    token = _token(attempt_id)
    if graded.status is AttemptStatus.IN_PROGRESS:
        try:
            # A stale tab is refused before the lock; a takeover since, under it.
            if token != graded.session_token:
                raise taking.TakingError(_("This attempt has been opened on another device."))
            start_writing()
            taking.submit_graded(graded, token)
        except taking.TakingError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for("quizzes.take_attempt", attempt_id=attempt_id))
    return redirect(url_for("quizzes.show_result", attempt_id=attempt_id))


@bp.route("/attempts/<int:attempt_id>/result")
@login_required
def show_result(attempt_id: int):
    """Score, pass or fail, and the review, as far as the quiz's review policy allows:
    before that, neither the score nor any answer reaches the page. The keys and 解析
    are shown as review.key_view decides (not while a retake could use them)."""
    attempt = load_own_attempt_or_404(current_user, attempt_id)
    if attempt.is_open:
        return redirect(url_for("quizzes.take_attempt", attempt_id=attempt.id))
    quiz = attempt.quiz
    now = utcnow()
    rows = attempt.questions
    keys = review.key_view(current_user, quiz, [row.question_id for row in rows], now)
    items = [(row, as_shown(item_of(row))) for row in rows] if not keys.hidden else []
    # A practice total would tell whether a withheld answer was right.
    scores = quiz.review_allowed(now) and not (
        quiz.is_practice and any(not keys.shows(row.question_id) for row in rows))
    return render_template("quizzes/attempt_result.html", attempt=attempt, quiz=quiz,
                           review=scores, keys=keys, items=items)
