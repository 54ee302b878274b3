"""Managing a published quiz's results: participants and their figures, one person's
attempts, grants of extra attempts or time, grading 简答 answers, regrading a fixed
question."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.validators import ValidationError

from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import load_unit_or_404
from studyhall.converters import id_arg
from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.i18n import lazy_gettext as _l
from studyhall.org.forms import status_choices
from studyhall.org.models import PoliticalStatus
from studyhall.org.queries import get_units_for_picker
from studyhall.quizzes import bp, grading, operations, permissions, queries, review
from studyhall.quizzes.forms import GradeForm, GrantForm
from studyhall.quizzes.models import AttemptQuestion, QuizRecipient, QuizStatus
from studyhall.quizzes.operations import QuizError
from studyhall.quizzes.paper import as_shown, item_of
from studyhall.urls import carried_args

GRADING_PER_PAGE = 20
END_REASONS = {"submitted": _l("submitted by the taker"), "expired": _l("time ran out"),
               "departures": _l("left the page too often"), "closed": _l("quiz closed early")}
EVENT_LABELS = {"leave": _l("Left the page"), "return": _l("Came back"),
                "takeover": _l("Opened on another device"), "submit": _l("Submitted")}
STATE_LABELS = {"not_started": _l("Not started"), "in_progress": _l("In progress"),
                "submitted": _l("Submitted"), "passed": _l("Passed"), "failed": _l("Failed")}


def _published_quiz_or_404(quiz_id: int):
    """A quiz the viewer manages that has participants (published or closed)."""
    quiz = permissions.load_managed_quiz_or_404(current_user, quiz_id)
    if quiz.status is QuizStatus.DRAFT:
        abort(404)
    return quiz


@bp.route("/manage/quizzes/<int:quiz_id>/participants")
@staff_required
def list_participants(quiz_id: int):
    """Expected participants (unit and 政治面貌 as at publication) with their state and
    counted score; the figures above cover the unit and 政治面貌 chosen."""
    quiz = _published_quiz_or_404(quiz_id)
    args = request.args
    unit = None
    if args.get("unit"):
        unit_id = args.get("unit", type=id_arg)
        if unit_id is None:
            abort(404)
        unit = load_unit_or_404(current_user, unit_id)
    status = PoliticalStatus(args["status"]) if args.get("status") in {
        s.value for s in PoliticalStatus} else None
    state = args.get("state", "") if args.get("state") in queries.PARTICIPANT_STATES else ""
    query = queries.query_participants(quiz, current_user, unit=unit, status=status,
                                       state=state)
    page = db.paginate(query, per_page=current_app.config["PEOPLE_PER_PAGE"], error_out=False)
    # db.paginate yields only the first entity: read the page's full rows.
    rows = db.session.execute(query.limit(page.per_page)
                              .offset((page.page - 1) * page.per_page)).all()
    figures = None if quiz.is_practice else queries.get_participant_figures(
        quiz, current_user, unit=unit, status=status)
    return render_template(
        "quizzes/manage/quiz_participants.html", quiz=quiz, page=page, rows=rows,
        attempts=queries.get_attempt_counts(quiz, [r.QuizRecipient.person_id for r in rows]),
        figures=figures, unit=unit, status=status, state=state,
        units=get_units_for_picker(current_user), statuses=status_choices(),
        states=STATE_LABELS.items())


def _participant_or_404(quiz, person_id: int):
    row = queries.get_participant(quiz, current_user, person_id)
    if row is None:
        abort(404)
    return row


@bp.route("/manage/quizzes/<int:quiz_id>/participants/<int:person_id>")
@staff_required
def show_person_attempts(quiz_id: int, person_id: int):
    """One person's attempts with answers, scores and departures, and the grant form.
    The keys (and per-question scores) shown are review.key_view's decision."""
    quiz = _published_quiz_or_404(quiz_id)
    participant = _participant_or_404(quiz, person_id)
    attempts = [(attempt, events, [(row, as_shown(item_of(row))) for row in attempt.questions])
                for attempt, events in queries.get_person_attempts(quiz, person_id)]
    keys = review.key_view(current_user, quiz, {row.question_id for _a, _e, items in attempts
                                                for row, _q in items}, staff=True)
    return render_template("quizzes/manage/quiz_person.html", quiz=quiz,
                           participant=participant, attempts=attempts, form=GrantForm(),
                           end_reasons=END_REASONS, event_labels=EVENT_LABELS, keys=keys)


@bp.route("/manage/quizzes/<int:quiz_id>/participants/<int:person_id>/grant",
          methods=["POST"])
@staff_required
def grant_extra(quiz_id: int, person_id: int):
    """An extra attempt or extra minutes for one person (audited)."""
    quiz = _published_quiz_or_404(quiz_id)
    _participant_or_404(quiz, person_id)
    form = GrantForm()
    if quiz.status is not QuizStatus.PUBLISHED:
        flash(_("Only an open quiz can grant more attempts or time."), "error")
    elif form.validate_on_submit():
        recipient = db.session.get(QuizRecipient, (quiz.id, person_id))
        try:
            operations.grant(current_user, recipient, attempts=form.attempts.data or 0,
                             minutes=form.minutes.data or 0)
        except QuizError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Granted."), "success")
    else:
        flash(_("Give a number of attempts (0–20) and minutes (0–600)."), "error")
    return redirect(url_for("quizzes.show_person_attempts", quiz_id=quiz.id,
                            person_id=person_id))


def _load_answer_or_404(quiz, attempt_id: int, position: int) -> AttemptQuestion:
    """A submitted 简答 answer of this quiz by someone in the viewer's scope."""
    found = db.session.execute(
        grading.query_to_grade(quiz, current_user, only_pending=False)
        .where(AttemptQuestion.attempt_id == attempt_id,
               AttemptQuestion.position == position)).first()
    if found is None:
        abort(404)
    return found[0]


@bp.route("/manage/quizzes/<int:quiz_id>/grading", methods=["GET", "POST"])
@staff_required
def grade_answers(quiz_id: int):
    """The 简答 answers waiting for a grader (all of them with ?all=1); POST scores one.
    A score another grader recorded meanwhile is never overwritten."""
    quiz = _published_quiz_or_404(quiz_id)
    show_all = request.args.get("all") == "1"
    if request.method == "POST":
        form = GradeForm()
        row = _load_answer_or_404(quiz, request.form.get("attempt_id", type=id_arg) or 0,
                                  request.form.get("position", type=id_arg) or 0)
        try:
            if not form.validate_on_submit():
                raise grading.GradingError(_("Give a score."))
            score = grading.parse_score(form.score.data, row.points)
            grading.grade_answer(current_user, row, score, form.expected_score())
        except (grading.GradingError, ValidationError) as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Score saved."), "success")
        return redirect(url_for("quizzes.grade_answers", quiz_id=quiz.id,
                                **carried_args("all", "page")))
    page = db.paginate(grading.query_to_grade(quiz, current_user, only_pending=not show_all),
                       per_page=GRADING_PER_PAGE, error_out=False)
    items = [(row, item_of(row).question) for row in page.items]
    keys = review.key_view(current_user, quiz, {row.question_id for row in page.items},
                           staff=True)
    return render_template("quizzes/manage/quiz_grading.html", quiz=quiz, page=page,
                           items=items, form=GradeForm(), show_all=show_all, keys=keys)


@bp.route("/manage/quizzes/<int:quiz_id>/questions/<int:question_id>/regrade",
          methods=["POST"])
@staff_required
def regrade_question(quiz_id: int, question_id: int):
    """Copy the bank's fixed version of a question into the quiz and regrade (audited)."""
    quiz = _published_quiz_or_404(quiz_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        changed = grading.regrade_question(current_user, quiz, question_id)
    except grading.GradingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("Question updated from the bank; %(n)d scores changed.", n=changed), "success")
    return redirect(url_for("quizzes.show_managed_quiz", quiz_id=quiz.id))
