"""Managing assignments (学习任务): the list, settings, items, audience, publishing and
closing; the readers' status with the list of those behind and reminders. Admins (any
scope) and secretaries (their subtree); an assignment outside the viewer's scope
answers 404. Also the to-do count shown in every page's menu."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import load_unit_or_404
from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.model_helpers import utcnow
from studyhall.org.forms import status_choices
from studyhall.org.models import PoliticalStatus
from studyhall.org.queries import get_units_for_picker
from studyhall.study import assignments, bp, permissions, queries
from studyhall.study.assignments import AssignmentError
from studyhall.study.forms import (
    AddMaterialForm,
    AddQuizForm,
    AssignmentForm,
    AudienceForm,
    RemoveItemForm,
)
from studyhall.study.models import LABELS, AssignmentStatus, ReadingState
from studyhall.urls import carried_args

ASSIGNMENTS_PER_PAGE = 20
PICKER_PER_PAGE = 10
READERS_PER_PAGE = 50
READER_ARGS = ("unit", "status", "state", "page")


@bp.app_context_processor
def _todo_count():
    """``todo_count()`` for the menu: counted once per request, only when shown."""
    def todo_count() -> int:
        if "todo_count" not in g:
            g.todo_count = (queries.count_todo(current_user, utcnow())
                            if current_user.is_authenticated else 0)
        return g.todo_count

    return {"todo_count": todo_count}


def _assignment_or_404(assignment_id: int):
    return permissions.load_assignment_or_404(current_user, assignment_id)


def _draft_or_redirect(assignment):
    if assignment.status is AssignmentStatus.DRAFT:
        return None
    flash(_("Once published, an assignment keeps its items and its audience."), "error")
    return redirect(url_for("study.show_managed_assignment", assignment_id=assignment.id))


@bp.route("/manage/study/assignments/")
@staff_required
def list_managed_assignments():
    page = db.paginate(queries.query_managed_assignments(current_user),
                       per_page=ASSIGNMENTS_PER_PAGE, error_out=False)
    return render_template("study/manage/assignment_list.html", page=page, labels=LABELS,
                           counts=queries.get_expected_counts([a.id for a in page.items]),
                           now=utcnow())


@bp.route("/manage/study/assignments/<int:assignment_id>")
@staff_required
def show_managed_assignment(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    draft = assignment.status is AssignmentStatus.DRAFT
    from studyhall.audience import count_audience

    return render_template(
        "study/manage/assignment_show.html", assignment=assignment, labels=LABELS,
        items=queries.get_items(assignment), form=ConfirmForm(),
        audience_count=count_audience(assignment.audience, assignment.owner_unit,
                                      current_user) if draft else None,
        counts=queries.get_expected_counts([assignment.id]).get(assignment.id, (0, 0)))


@bp.route("/manage/study/assignments/new", methods=["GET", "POST"])
@staff_required
def create_assignment():
    form = AssignmentForm(unit_choices=get_units_for_picker(current_user))
    if form.validate_on_submit():
        load_unit_or_404(current_user, form.owner_unit_id.data)
        assignment = assignments.create_assignment(current_user, form.values())
        flash(_("Assignment created. Now add its materials."), "success")
        return redirect(url_for("study.edit_items", assignment_id=assignment.id))
    return render_template("study/manage/assignment_edit.html", form=form, assignment=None)


@bp.route("/manage/study/assignments/<int:assignment_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_assignment(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    locked = (frozenset() if assignment.status is AssignmentStatus.DRAFT
              else frozenset(AssignmentForm.data_of(assignment))
              - assignments.EDITABLE_AFTER_PUBLISH)
    form = AssignmentForm(data=AssignmentForm.data_of(assignment), locked=locked,
                          unit_choices=get_units_for_picker(current_user))
    if form.validate_on_submit():
        values = form.values(assignment)
        if values["owner_unit_id"] != assignment.owner_unit_id:
            load_unit_or_404(current_user, values["owner_unit_id"])
        try:
            assignments.update_assignment(current_user, assignment, values)
        except AssignmentError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("study.show_managed_assignment",
                                    assignment_id=assignment.id))
    return render_template("study/manage/assignment_edit.html", form=form, assignment=assignment)


@bp.route("/manage/study/assignments/<int:assignment_id>/items")
@staff_required
def edit_items(assignment_id: int):
    """The items so far, and pickers: materials of the library, published quizzes."""
    from studyhall.quizzes.models import Quiz, QuizStatus
    from studyhall.quizzes.queries import query_managed_quizzes

    assignment = _assignment_or_404(assignment_id)
    if (refused := _draft_or_redirect(assignment)) is not None:
        return refused
    filters = queries.MaterialFilters(q=(request.args.get("q") or "").strip()[:100])
    page = db.paginate(queries.query_materials(current_user, filters),
                       per_page=PICKER_PER_PAGE, error_out=False)
    quizzes = db.session.scalars(query_managed_quizzes(current_user)
                                 .where(Quiz.status == QuizStatus.PUBLISHED).limit(50)).all()
    chosen = queries.get_items(assignment)
    return render_template(
        "study/manage/assignment_items.html", assignment=assignment, items=chosen,
        page=page, filters=filters, quizzes=quizzes, add_form=AddMaterialForm(),
        quiz_form=AddQuizForm(), remove_form=RemoveItemForm(), labels=LABELS,
        chosen_materials={i.material_id for i, _obj in chosen if i.material_id},
        chosen_quizzes={i.quiz_id for i, _obj in chosen if i.quiz_id})


def _items_post(assignment_id: int, form_class, act):
    assignment = _assignment_or_404(assignment_id)
    if (refused := _draft_or_redirect(assignment)) is not None:
        return refused
    form = form_class()
    if not form.validate_on_submit():
        abort(400)
    try:
        act(assignment, form)
    except AssignmentError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("study.edit_items", assignment_id=assignment.id,
                            **carried_args("q", "page")))


@bp.route("/manage/study/assignments/<int:assignment_id>/items/material", methods=["POST"])
@staff_required
def add_material(assignment_id: int):
    def act(assignment, form):
        material = permissions.load_material_or_404(current_user, form.material_id.data)
        minutes = form.min_reading_minutes.data
        assignments.add_material(assignment, material,
                                 None if minutes is None else minutes * 60)
        flash(_("Material added."), "success")

    return _items_post(assignment_id, AddMaterialForm, act)


@bp.route("/manage/study/assignments/<int:assignment_id>/items/quiz", methods=["POST"])
@staff_required
def add_quiz(assignment_id: int):
    from studyhall.quizzes.permissions import load_managed_quiz_or_404

    def act(assignment, form):
        assignments.add_quiz(assignment, load_managed_quiz_or_404(current_user,
                                                                  form.quiz_id.data))
        flash(_("Quiz added."), "success")

    return _items_post(assignment_id, AddQuizForm, act)


@bp.route("/manage/study/assignments/<int:assignment_id>/items/remove", methods=["POST"])
@staff_required
def remove_item(assignment_id: int):
    def act(assignment, form):
        assignments.remove_item(assignment, form.item_id.data)
        flash(_("Removed."), "success")

    return _items_post(assignment_id, RemoveItemForm, act)


@bp.route("/manage/study/assignments/<int:assignment_id>/audience", methods=["GET", "POST"])
@staff_required
def edit_audience(assignment_id: int):
    """Units (with subtrees) and/or named people, optionally only some 政治面貌."""
    from studyhall.audience import count_audience

    assignment = _assignment_or_404(assignment_id)
    if (refused := _draft_or_redirect(assignment)) is not None:
        return refused
    form = AudienceForm.for_audience(assignment.audience, current_user)
    if form.validate_on_submit():
        assignments.set_audience(assignment, form.values())
        flash(_("Audience saved: %(n)d people now.",
                n=count_audience(assignment.audience, assignment.owner_unit, current_user)),
              "success")
        return redirect(url_for("study.edit_audience", assignment_id=assignment.id))
    return render_template(
        "study/manage/assignment_audience.html", assignment=assignment, form=form,
        count=count_audience(assignment.audience, assignment.owner_unit, current_user))


@bp.route("/manage/study/assignments/<int:assignment_id>/publish", methods=["GET", "POST"])
@staff_required
def publish_assignment(assignment_id: int):
    """GET: what publishing fixes; POST: publish."""
    from studyhall.audience import count_audience

    assignment = _assignment_or_404(assignment_id)
    if (refused := _draft_or_redirect(assignment)) is not None:
        return refused
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            expected = assignments.publish_assignment(current_user, assignment)
        except AssignmentError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Published: %(n)d people expected.", n=expected), "success")
            return redirect(url_for("study.show_managed_assignment",
                                    assignment_id=assignment.id))
    return render_template(
        "study/manage/assignment_publish.html", assignment=assignment, form=form,
        items=queries.get_items(assignment),
        count=count_audience(assignment.audience, assignment.owner_unit, current_user))


@bp.route("/manage/study/assignments/<int:assignment_id>/close", methods=["POST"])
@staff_required
def close_assignment(assignment_id: int):
    assignment = _assignment_or_404(assignment_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        assignments.close_assignment(current_user, assignment)
    except AssignmentError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("Closed."), "success")
    return redirect(url_for("study.show_managed_assignment", assignment_id=assignment.id))


def _reader_filters():
    """The unit (in scope, else 404), 政治面貌 and state filters of the readers view."""
    args = request.args
    unit = load_unit_or_404(current_user, args.get("unit", type=int)) \
        if args.get("unit") else None
    statuses = {s.value for s in PoliticalStatus}
    status = PoliticalStatus(args["status"]) if args.get("status") in statuses else None
    states = {s.value for s in ReadingState}
    if args.get("state") == "behind":
        chosen = queries.BEHIND_STATES
    else:
        chosen = (ReadingState(args["state"]),) if args.get("state") in states else ()
    return unit, status, chosen


@bp.route("/manage/study/assignments/<int:assignment_id>/readers")
@staff_required
def list_readers(assignment_id: int):
    """Each expected reader's state, reading time, checkpoints, reflection and
    reminders; figures by state; those behind as text for a group chat."""
    assignment = _assignment_or_404(assignment_id)
    if assignment.status is AssignmentStatus.DRAFT:
        abort(404)
    now = utcnow()
    unit, status, states = _reader_filters()
    query = queries.query_recipient_status(assignment, current_user, now, unit=unit,
                                           status=status, states=states)
    page = db.paginate(query, per_page=READERS_PER_PAGE, error_out=False, count=True)
    rows = db.session.execute(query.limit(page.per_page)
                              .offset((page.page - 1) * page.per_page)).all()
    counts = queries.get_state_counts(assignment, current_user, now, unit=unit, status=status)
    expected = sum(counts.values())
    done = counts[ReadingState.COMPLETED] + counts[ReadingState.COMPLETED_LATE]
    return render_template(
        "study/manage/assignment_readers.html", assignment=assignment, rows=rows, page=page,
        counts=counts, expected=expected, done=done,
        behind_text=queries.get_behind_text(assignment, current_user, now, unit=unit,
                                            status=status),
        batches=queries.get_reminder_batches(assignment, current_user),
        unit=unit, status=status, state=request.args.get("state", ""),
        units=get_units_for_picker(current_user), statuses=status_choices(),
        states=[(s.value, LABELS[s]) for s in ReadingState], labels=LABELS,
        state_labels={s.value: LABELS[s] for s in ReadingState},
        item_counts=_item_counts(assignment), form=ConfirmForm(), now=now)


def _item_counts(assignment) -> dict:
    items = assignment.items
    return {"materials": sum(1 for i in items if i.material_id),
            "quizzes": sum(1 for i in items if i.quiz_id)}


@bp.route("/manage/study/assignments/<int:assignment_id>/remind", methods=["POST"])
@staff_required
def remind_readers(assignment_id: int):
    """Record that those behind (in the filters shown) were reminded now, by whom."""
    assignment = _assignment_or_404(assignment_id)
    if assignment.status is AssignmentStatus.DRAFT or not ConfirmForm().validate_on_submit():
        abort(404 if assignment.status is AssignmentStatus.DRAFT else 400)
    now = utcnow()
    unit, status, _states = _reader_filters()
    behind = queries.query_behind(assignment, current_user, now, unit=unit, status=status)
    n = assignments.record_reminders(current_user, assignment, behind, now)
    flash(_("Reminder recorded for %(n)d people.", n=n), "success")
    return redirect(url_for("study.list_readers", assignment_id=assignment.id,
                            **carried_args("unit", "status", "state")))
