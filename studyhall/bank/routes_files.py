"""Bank files: import (upload → preview → confirm, through the shared flow of
studyhall/uploads.py), export of a filtered selection, and the Excel template."""

from __future__ import annotations

import io

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

import question_bank as qb
from studyhall import audit
from studyhall.auth.decorators import admin_required
from studyhall.bank import bp, mapping, queries
from studyhall.bank.forms import QuestionImportConfirmForm, QuestionImportForm
from studyhall.bank.importing import apply_question_import, plan_question_import, web_limits
from studyhall.bank.permissions import load_category_or_404
from studyhall.bank.queries import filters_from_request
from studyhall.exports.responses import as_download
from studyhall.extensions import db
from studyhall.uploads import PROBLEMS_PER_PAGE, ImportFlow, load_upload, page_of

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_FILES = {"xlsx": ("questions.xlsx", XLSX_MIME), "csv": ("questions.csv", "text/csv"),
                "gift": ("questions.gift.txt", "text/plain"),
                "aiken": ("questions.aiken.txt", "text/plain"),
                "moodle_xml": ("questions.xml", "application/xml")}


def _root_names(category_id: int) -> tuple[str, ...]:
    if not category_id:
        return ()
    return queries.get_category_names()[load_category_or_404(category_id).id]


class QuestionImport(ImportFlow):
    purpose = "questions"
    upload_endpoint = "bank.import_questions"
    preview_endpoint = "bank.preview_import"
    confirm_endpoint = "bank.confirm_import"
    preview_template = "bank/manage/import_preview.html"
    confirm_form = QuestionImportConfirmForm

    def plan(self, content, filename, options):
        return plan_question_import(content, filename, format=options.get("format") or None,
                                    root=tuple(options.get("root", ())), limits=web_limits(),
                                    type_codes=options.get("type_codes"))

    def can_confirm(self, plan, form):
        return plan.can_apply(form.valid_only.data if form is not None else True)

    def refused(self, plan, form):
        if plan.type_codes_unconfirmed:
            flash(_("Confirm what the numeric question type codes mean first."), "error")
            return
        flash(_("The file has problems. Tick “Import only the valid questions” or correct "
                "the file."), "error")

    def apply(self, plan, form, upload):
        done = apply_question_import(plan, actor=current_user, valid_only=form.valid_only.data,
                                     duplicates=form.duplicates.data)
        audit.record(current_user, "questions.import", None, file=upload.filename, **done)
        flash(_("%(created)d questions added, %(updated)d updated, %(skipped)d skipped.",
                created=done["created"], updated=done["updated"], skipped=done["skipped"]),
              "success")
        return redirect(url_for("bank.list_questions"))

    def context(self, plan):
        problems = [(issue.location, issue.value, issue.message) for issue in plan.errors]
        problems += [(item.location, item.construct, item.message) for item in plan.unsupported]
        return {"questions": page_of(plan.rows, "page", QUESTIONS_PER_PAGE),
                "problems": page_of(problems, "problems", PROBLEMS_PER_PAGE),
                "warnings": page_of(plan.warnings, "warnings", PROBLEMS_PER_PAGE),
                "type_choices": [(kind.type.value, kind.label)
                                 for kind in qb.QUESTION_TYPES.values()]}


FLOW = QuestionImport()
QUESTIONS_PER_PAGE = 20


@bp.route("/import", methods=["GET", "POST"])
@admin_required
def import_questions():
    form = QuestionImportForm(category_choices=queries.get_category_choices())
    if form.validate_on_submit():
        return FLOW.start(form.file.data, format=form.format.data,
                          root=list(_root_names(form.category_id.data)))
    return render_template("bank/manage/import_upload.html", form=form)


@bp.route("/import/preview/<token>")
@admin_required
def preview_import(token):
    return FLOW.show(token)


@bp.route("/import/confirm", methods=["POST"])
@admin_required
def confirm_import():
    return FLOW.confirm()


@bp.route("/import/type-codes", methods=["POST"])
@admin_required
def confirm_type_codes():
    """The confirm-the-mapping step of a table whose 题型 column holds numeric codes: the
    importer's choice for each code is kept with the upload, and the preview is read
    again with it."""
    upload = load_upload(current_user, FLOW.purpose, request.form.get("token", ""))
    if upload is None:
        return FLOW.expired()
    mapping = {}
    for key, value in request.form.items():
        code = key.removeprefix("code-")
        if key.startswith("code-") and code.isdigit() and value in qb.QUESTION_TYPES:
            mapping[code] = value
    upload.options = {**upload.options, "type_codes": mapping}
    flash(_("Question type codes confirmed: check the questions below, then import."),
          "success")
    return redirect(url_for(FLOW.preview_endpoint, token=upload.token))


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
    # Questions of the bank, confidential ones among them: kept by no cache.
    return as_download(send_file(io.BytesIO(data), as_attachment=True,
                                 download_name=filename, mimetype=mimetype))


@bp.route("/template.xlsx")
@admin_required
def download_template():
    return send_file(io.BytesIO(qb.xlsx_template()), as_attachment=True,
                     download_name="question-template.xlsx", mimetype=XLSX_MIME)
