"""Bank pages: the list with filters, creating and editing questions, categories."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

import question_bank as qb
from studyhall.auth.decorators import admin_required
from studyhall.bank import bp, mapping, operations, queries
from studyhall.bank.forms import (
    CategoryForm,
    QuestionForm,
    difficulty_choices,
    format_choices,
    type_choices,
)
from studyhall.bank.permissions import load_category_or_404, load_question_or_404
from studyhall.bank.queries import filters_from_request
from studyhall.extensions import db
from studyhall.forms import ConfirmForm


@bp.route("/")
@admin_required
def list_questions():
    filters = filters_from_request()
    page = db.paginate(queries.query_questions(filters),
                       per_page=current_app.config["QUESTIONS_PER_PAGE"], error_out=False)
    names = queries.get_category_names()
    questions = [(row, mapping.to_question(row, names[row.category_id])) for row in page.items]
    return render_template(
        "bank/manage/question_list.html", page=page, questions=questions, filters=filters,
        categories=queries.get_category_choices(), types=type_choices(),
        difficulties=difficulty_choices(), formats=format_choices(with_auto=False),
        confidential=queries.get_confidential_category_ids())


def _save(form: QuestionForm, row=None):
    """Validate the form through question_bank and save; None when it has problems."""
    category = load_category_or_404(form.category_id.data)
    names = queries.get_category_names()[category.id]
    try:
        question = form.build_question(names)
        problems = question.problems()
    except qb.QuestionValidationError as exc:
        problems = exc.problems
    if problems:
        form.form_errors.extend(problems)
        return None
    row = operations.save_question(row, question, category, current_user)
    return row


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def create_question():
    form = QuestionForm(category_choices=queries.get_category_choices())
    if not form.category_id.choices:
        flash(_("Create a category first."), "info")
        return redirect(url_for("bank.list_categories"))
    if request.method == "GET":
        form.type.data = request.args.get("type", "single")
        form.category_id.data = request.args.get("category", type=int)
    if form.validate_on_submit() and (row := _save(form)) is not None:
        flash(_("Question saved."), "success")
        return redirect(url_for("bank.list_questions", category=row.category_id))
    return render_template("bank/manage/question_edit.html", form=form, row=None)


@bp.route("/<int:question_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_question(question_id: int):
    row = load_question_or_404(question_id)
    form = QuestionForm(category_choices=queries.get_category_choices())
    if request.method == "GET":
        form.category_id.data = row.category_id
        form.fill_from(mapping.to_question(row, ()))
    if form.validate_on_submit() and _save(form, row) is not None:
        flash(_("Question saved."), "success")
        return redirect(url_for("bank.list_questions", category=row.category_id))
    return render_template("bank/manage/question_edit.html", form=form, row=row,
                           action_form=ConfirmForm())


@bp.route("/<int:question_id>/delete", methods=["POST"])
@admin_required
def delete_question(question_id: int):
    row = load_question_or_404(question_id)
    if ConfirmForm().validate_on_submit():
        operations.delete_question(row)
        flash(_("Question deleted."), "success")
    return redirect(url_for("bank.list_questions", category=row.category_id))


@bp.route("/categories", methods=["GET", "POST"])
@admin_required
def list_categories():
    form = CategoryForm(category_choices=queries.get_category_choices())
    if form.validate_on_submit():
        parent = load_category_or_404(form.parent_id.data) if form.parent_id.data else None
        try:
            operations.create_category(parent, form.name.data,
                                       confidential=form.is_confidential.data)
        except operations.BankError as exc:
            db.session.rollback()
            form.name.errors.append(str(exc))
        else:
            flash(_("Category created."), "success")
            return redirect(url_for("bank.list_categories"))
    return render_template("bank/manage/category_list.html", form=form,
                           tree=queries.get_category_tree(), action_form=ConfirmForm())


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
@admin_required
def edit_category(category_id: int):
    category = load_category_or_404(category_id)
    form = CategoryForm(obj=category)
    del form.parent_id
    if form.validate_on_submit():
        try:
            operations.rename_category(category, form.name.data,
                                       confidential=form.is_confidential.data)
        except operations.BankError as exc:
            db.session.rollback()
            form.name.errors.append(str(exc))
        else:
            flash(_("Category saved."), "success")
            return redirect(url_for("bank.list_categories"))
    return render_template("bank/manage/category_edit.html", form=form, category=category,
                           action_form=ConfirmForm())


@bp.route("/categories/<int:category_id>/delete", methods=["POST"])
@admin_required
def delete_category(category_id: int):
    category = load_category_or_404(category_id)
    if ConfirmForm().validate_on_submit():
        try:
            operations.delete_category(category)
        except operations.BankError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Category deleted."), "success")
    return redirect(url_for("bank.list_categories"))
