"""Bank files: import (upload → preview → confirm), export of a filtered selection, and
the Excel template."""

from __future__ import annotations

import io

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

import question_bank as qb
from studyhall.auth.decorators import admin_required
from studyhall.bank import bp, mapping, queries
from studyhall.bank.forms import QuestionImportConfirmForm, QuestionImportForm
from studyhall.bank.importing import apply_question_import, plan_question_import
from studyhall.bank.permissions import load_category_or_404
from studyhall.bank.queries import filters_from_request
from studyhall.extensions import db
from studyhall.uploads import keep_upload, load_upload

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FILES = {"xlsx": ("questions.xlsx", XLSX_MIME), "csv": ("questions.csv", "text/csv"),
                "gift": ("questions.gift.txt", "text/plain"),
                "aiken": ("questions.aiken.txt", "text/plain"),
                "moodle_xml": ("questions.xml", "application/xml")}


def _root_names(category_id: int) -> tuple[str, ...]:
    if not category_id:
        return ()
    return queries.get_category_names()[load_category_or_404(category_id).id]


@bp.route("/import", methods=["GET", "POST"])
@admin_required
def import_questions():
    form = QuestionImportForm(category_choices=queries.get_category_choices())
    if form.validate_on_submit():
        data, filename = form.file.data.read(), form.file.data.filename or ""
        root = _root_names(form.category_id.data)
        plan = plan_question_import(data, filename, format=form.format.data or None, root=root)
        confirm = None
        if plan.can_apply(valid_only=True):
            upload = keep_upload(current_user, "questions", filename, data,
                                 format=form.format.data, root=list(root))
            confirm = QuestionImportConfirmForm(token=upload.token)
        return render_template("bank/manage/import_preview.html", plan=plan, filename=filename,
                               confirm=confirm)
    return render_template("bank/manage/import_upload.html", form=form)


@bp.route("/import/confirm", methods=["POST"])
@admin_required
def confirm_import():
    form = QuestionImportConfirmForm()
    upload = load_upload(current_user, "questions", form.token.data or "") \
        if form.validate_on_submit() else None
    if upload is None:
        flash(_("This import has expired or was already done. Upload the file again."), "error")
        return redirect(url_for("bank.import_questions"))
    plan = plan_question_import(upload.content, upload.filename,
                                format=upload.options.get("format") or None,
                                root=tuple(upload.options.get("root", ())))
    if not plan.can_apply(form.valid_only.data):
        flash(_("The file has problems. Tick “Import only the valid questions” or correct "
                "the file."), "error")
        return render_template("bank/manage/import_preview.html", plan=plan,
                               filename=upload.filename, confirm=form)
    done = apply_question_import(plan, actor=current_user, valid_only=form.valid_only.data,
                                 duplicates=form.duplicates.data)
    db.session.delete(upload)
    flash(_("%(created)d questions added, %(updated)d updated, %(skipped)d skipped.",
            created=done["created"], updated=done["updated"], skipped=done["skipped"]),
          "success")
    return redirect(url_for("bank.list_questions"))


@bp.route("/export")
@admin_required
def export_questions():
    """The filtered selection in the chosen format, or the reasons it cannot be written."""
    fmt = request.args.get("format", "xlsx")
    if fmt not in EXPORT_FILES:
        fmt = "xlsx"
    rows = list(db.session.scalars(queries.query_questions(filters_from_request())))
    names = queries.get_category_names()
    questions = [mapping.to_question(row, names[row.category_id]) for row in rows]
    try:
        data = qb.dump_questions(questions, fmt)
    except qb.ExportError as exc:
        problems = [(rows[p.index], p.reason) for p in exc.problems]
        return render_template("bank/manage/export_problems.html", problems=problems,
                               format=fmt), 422
    filename, mimetype = EXPORT_FILES[fmt]
    return send_file(io.BytesIO(data), as_attachment=True, download_name=filename,
                     mimetype=mimetype)


@bp.route("/template.xlsx")
@admin_required
def download_template():
    return send_file(io.BytesIO(qb.xlsx_template()), as_attachment=True,
                     download_name="question-template.xlsx", mimetype=XLSX_MIME)
