"""Roster import from the web: upload → preview of every row → confirm → one transaction."""

from flask import flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from studyhall.auth.decorators import staff_required
from studyhall.exports.roster import build_roster_template_xlsx
from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.org import bp, permissions, roster
from studyhall.org.forms import RosterUploadForm
from studyhall.uploads import keep_upload, load_upload


@bp.route("/manage/roster", methods=["GET", "POST"])
@staff_required
def import_roster():
    form = RosterUploadForm()
    may_create = permissions.can_create_units_on_import(current_user)
    if not may_create:
        del form.create_units
    if form.validate_on_submit():
        data = form.file.data.read()
        filename = form.file.data.filename or ""
        create_units = may_create and form.create_units.data
        plan = roster.plan_import(current_user, data, filename, create_units=create_units)
        confirm = None
        if plan.ok:
            upload = keep_upload(current_user, "roster", filename, data, create_units=create_units)
            confirm = ConfirmForm(token=upload.token)
        return render_template("org/manage/roster_preview.html", plan=plan, filename=filename,
                               confirm=confirm)
    return render_template("org/manage/roster_upload.html", form=form)


@bp.route("/manage/roster/confirm", methods=["POST"])
@staff_required
def confirm_roster():
    form = ConfirmForm()
    upload = load_upload(current_user, "roster", form.token.data or "") \
        if form.validate_on_submit() else None
    if upload is None:
        flash(_("This import has expired or was already done. Upload the file again."), "error")
        return redirect(url_for("org.import_roster"))
    # Plan again: the organisation may have changed since the preview.
    plan = roster.plan_import(current_user, upload.content, upload.filename,
                              create_units=bool(upload.options.get("create_units")))
    if not plan.ok:
        return render_template("org/manage/roster_preview.html", plan=plan,
                               filename=upload.filename, confirm=None)
    passwords = roster.apply_plan(current_user, plan)
    db.session.delete(upload)
    return render_template("org/manage/roster_done.html", plan=plan, passwords=passwords)


@bp.route("/manage/roster/template.xlsx")
@staff_required
def download_roster_template():
    return send_file(build_roster_template_xlsx(), as_attachment=True,
                     download_name="roster-template.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
