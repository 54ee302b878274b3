"""Managing quizzes: the list, settings, the paper, the audience, publishing and closing.
Admins (any scope) and secretaries (their subtree); a quiz owned outside the viewer's
scope answers 404."""

from __future__ import annotations

from decimal import Decimal

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import load_unit_or_404
from studyhall.bank import queries as bank_queries
from studyhall.bank.forms import difficulty_choices, type_choices
from studyhall.bank.models import Question
from studyhall.bank.queries import filters_from_request
from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.org.models import PoliticalStatus
from studyhall.org.queries import get_units_for_picker
from studyhall.quizzes import bp, operations, permissions, queries
from studyhall.quizzes.forms import (
    AudienceForm,
    PickQuestionsForm,
    QuizForm,
    RemoveQuestionForm,
    RulesForm,
)
from studyhall.quizzes.models import LABELS, QuizStatus
from studyhall.quizzes.operations import QuizError
from studyhall.urls import carried_args

QUIZZES_PER_PAGE = 30
#: The paper picker's filters and page, carried from page to form to redirect.
PICKER_ARGS = ("kind", "q", "type", "category", "difficulty", "tag", "source", "page")
#: Empty rule rows offered below the saved ones.
BLANK_RULES = 3


def _quiz_or_404(quiz_id: int):
    return permissions.load_managed_quiz_or_404(current_user, quiz_id)


def _draft_or_redirect(quiz):
    """Paper and audience change only while the quiz is a draft."""
    if quiz.status is QuizStatus.DRAFT:
        return None
    flash(_("Once published, a quiz keeps its paper and its audience."), "error")
    return redirect(url_for("quizzes.show_managed_quiz", quiz_id=quiz.id))


@bp.route("/manage/quizzes/")
@staff_required
def list_managed_quizzes():
    page = db.paginate(queries.query_managed_quizzes(current_user),
                       per_page=QUIZZES_PER_PAGE, error_out=False)
    expected = queries.get_expected_counts([quiz.id for quiz in page.items])
    return render_template("quizzes/manage/quiz_list.html", page=page, expected=expected,
                           labels=LABELS)


@bp.route("/manage/quizzes/<int:quiz_id>")
@staff_required
def show_managed_quiz(quiz_id: int):
    """The overview: settings, paper, audience, results so far, and what can be done."""
    quiz = _quiz_or_404(quiz_id)
    draft = quiz.status is QuizStatus.DRAFT
    return render_template(
        "quizzes/manage/quiz_show.html", quiz=quiz, form=ConfirmForm(), labels=LABELS,
        type_labels=dict(type_choices()),
        can_manage=permissions.can_manage(current_user, quiz),
        check=queries.get_paper_check(quiz, current_user) if draft else None,
        audience_count=queries.count_audience(quiz, current_user) if draft else None,
        expected=queries.get_expected_counts([quiz.id]).get(quiz.id, 0),
        to_grade=0 if draft else queries.count_to_grade(quiz, current_user),
        snapshot=[] if draft else queries.get_snapshot_questions(quiz))


@bp.route("/manage/quizzes/new", methods=["GET", "POST"])
@staff_required
def create_quiz():
    form = QuizForm(unit_choices=get_units_for_picker(current_user))
    if form.validate_on_submit():
        load_unit_or_404(current_user, form.owner_unit_id.data)
        quiz = operations.create_quiz(current_user, form.values())
        flash(_("Quiz created. Now choose its paper."), "success")
        return redirect(url_for("quizzes.edit_paper", quiz_id=quiz.id))
    return render_template("quizzes/manage/quiz_edit.html", form=form, quiz=None)


@bp.route("/manage/quizzes/<int:quiz_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_quiz(quiz_id: int):
    """Settings. After publication only operations.EDITABLE_AFTER_PUBLISH may change;
    the other inputs are disabled and a forged change is refused with the reason."""
    quiz = _quiz_or_404(quiz_id)
    locked = (frozenset() if quiz.status is QuizStatus.DRAFT
              else frozenset(QuizForm.data_of(quiz)) - operations.EDITABLE_AFTER_PUBLISH)
    form = QuizForm(data=QuizForm.data_of(quiz), locked=locked,
                    unit_choices=get_units_for_picker(current_user))
    if form.validate_on_submit():
        values = form.values(quiz)
        if values["owner_unit_id"] != quiz.owner_unit_id:
            load_unit_or_404(current_user, values["owner_unit_id"])
        try:
            operations.update_quiz(current_user, quiz, values)
        except QuizError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("quizzes.show_managed_quiz", quiz_id=quiz.id))
    return render_template("quizzes/manage/quiz_edit.html", form=form, quiz=quiz)


def _rules_form(quiz) -> RulesForm:
    saved = quiz.paper.get("rules", []) if quiz.paper.get("kind") == "rules" else []
    rows = [{"category_id": r.get("category_id"), "type": r.get("type") or "",
             "difficulty": r.get("difficulty") or "", "count": r.get("count"),
             "points": Decimal(r["points"]) if r.get("points") else None} for r in saved]
    rows += [{} for _ in range(BLANK_RULES)]
    return RulesForm(data={"rules": rows}, category_choices=bank_queries.get_category_choices())


def _chosen_questions(quiz) -> list:
    """The fixed paper's questions in their order (deleted ones are left out)."""
    ids = quiz.paper.get("question_ids", []) if quiz.paper.get("kind") == "fixed" else []
    rows = {row.id: row for row in db.session.scalars(
        bank_queries.query_questions(bank_queries.QuestionFilters()).where(
            Question.id.in_(ids)))}
    return [rows[qid] for qid in ids if qid in rows]


@bp.route("/manage/quizzes/<int:quiz_id>/paper", methods=["GET", "POST"])
@staff_required
def edit_paper(quiz_id: int):
    """Either a fixed list picked from the bank (with its filters) or assembly rules;
    POST saves the rules. The check below says what publishing would draw."""
    quiz = _quiz_or_404(quiz_id)
    if (refused := _draft_or_redirect(quiz)) is not None:
        return refused
    form = _rules_form(quiz)
    if form.validate_on_submit():
        operations.set_paper_rules(quiz, form.values())
        flash(_("Rules saved."), "success")
        return redirect(url_for("quizzes.edit_paper", quiz_id=quiz.id, kind="rules"))
    kind = request.args.get("kind") or quiz.paper.get("kind") or "fixed"
    kind = "rules" if kind == "rules" or form.is_submitted() else "fixed"
    filters = filters_from_request()
    # 保密 questions are picked one by one by administrators only (others use rules).
    filters.exclude_confidential = not current_user.is_admin
    page = db.paginate(bank_queries.query_questions(filters),
                       per_page=current_app.config["QUESTIONS_PER_PAGE"], error_out=False)
    return render_template(
        "quizzes/manage/quiz_paper.html", quiz=quiz, kind=kind, rules_form=form,
        pick_form=PickQuestionsForm(), remove_form=RemoveQuestionForm(), page=page,
        filters=filters, chosen=_chosen_questions(quiz),
        chosen_ids=set(quiz.paper.get("question_ids", [])),
        categories=bank_queries.get_category_choices(), types=type_choices(),
        difficulties=difficulty_choices(), check=queries.get_paper_check(quiz, current_user))


@bp.route("/manage/quizzes/<int:quiz_id>/paper/add", methods=["POST"])
@staff_required
def add_paper_questions(quiz_id: int):
    quiz = _quiz_or_404(quiz_id)
    if (refused := _draft_or_redirect(quiz)) is not None:
        return refused
    form = PickQuestionsForm()
    if form.validate_on_submit():
        added = operations.add_paper_questions(quiz, form.question_ids.data, current_user)
        flash(_("%(n)d questions added.", n=added), "success")
    else:
        flash(_("Tick some questions."), "error")
    # The picker's filters and page ride along in the query string.
    return redirect(url_for("quizzes.edit_paper", quiz_id=quiz.id,
                            **carried_args(*PICKER_ARGS)))


@bp.route("/manage/quizzes/<int:quiz_id>/paper/remove", methods=["POST"])
@staff_required
def remove_paper_question(quiz_id: int):
    quiz = _quiz_or_404(quiz_id)
    if (refused := _draft_or_redirect(quiz)) is not None:
        return refused
    form = RemoveQuestionForm()
    if not form.validate_on_submit():
        abort(400)
    operations.remove_paper_question(quiz, form.question_id.data)
    flash(_("Question removed."), "success")
    return redirect(url_for("quizzes.edit_paper", quiz_id=quiz.id))


@bp.route("/manage/quizzes/<int:quiz_id>/audience", methods=["GET", "POST"])
@staff_required
def edit_audience(quiz_id: int):
    """Units (with subtrees) and/or named people, optionally only some 政治面貌."""
    quiz = _quiz_or_404(quiz_id)
    if (refused := _draft_or_redirect(quiz)) is not None:
        return refused
    form = AudienceForm.for_audience(quiz.audience, current_user)
    if form.validate_on_submit():
        operations.set_audience(quiz, form.values())
        flash(_("Audience saved: %(n)d people now.",
                n=queries.count_audience(quiz, current_user)), "success")
        return redirect(url_for("quizzes.edit_audience", quiz_id=quiz.id))
    return render_template("quizzes/manage/quiz_audience.html", quiz=quiz, form=form,
                           count=queries.count_audience(quiz, current_user),
                           statuses=PoliticalStatus)


@bp.route("/manage/quizzes/<int:quiz_id>/publish", methods=["GET", "POST"])
@staff_required
def publish_quiz(quiz_id: int):
    """GET: what publishing will fix (who, how many questions, scaling); POST: publish."""
    quiz = _quiz_or_404(quiz_id)
    if (refused := _draft_or_redirect(quiz)) is not None:
        return refused
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            expected = operations.publish_quiz(current_user, quiz)
        except QuizError as exc:
            db.session.rollback()  # the snapshot rows written before the refusal
            flash(str(exc), "error")
        else:
            flash(_("Published: %(n)d people expected.", n=expected), "success")
            return redirect(url_for("quizzes.show_managed_quiz", quiz_id=quiz.id))
    return render_template("quizzes/manage/quiz_publish.html", quiz=quiz, form=form,
                           check=queries.get_paper_check(quiz, current_user),
                           count=queries.count_audience(quiz, current_user))


@bp.route("/manage/quizzes/<int:quiz_id>/close", methods=["GET", "POST"])
@staff_required
def close_quiz(quiz_id: int):
    """Close early: attempts in progress are submitted with their saved answers."""
    quiz = _quiz_or_404(quiz_id)
    form = ConfirmForm()
    if quiz.status is QuizStatus.PUBLISHED and form.validate_on_submit():
        # Committed batch by batch (see close_quiz): a county's attempts are finished
        # without holding SQLite's write lock for all of them at once.
        finished = operations.close_quiz(current_user, quiz, commit_batches=True)
        flash(_("Closed; %(n)d attempts in progress were submitted.", n=finished), "success")
        return redirect(url_for("quizzes.show_managed_quiz", quiz_id=quiz.id))
    if quiz.status is not QuizStatus.PUBLISHED:
        flash(_("Only a published quiz can be closed."), "error")
        return redirect(url_for("quizzes.show_managed_quiz", quiz_id=quiz.id))
    return render_template("quizzes/manage/quiz_close.html", quiz=quiz, form=form,
                           in_progress=queries.count_in_progress(quiz))
