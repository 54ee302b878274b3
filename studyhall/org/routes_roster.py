"""Roster import from the web: upload → preview of every row → confirm → one transaction,
through the shared flow of studyhall/uploads.py."""

from flask import render_template, send_file
from flask_login import current_user

from studyhall import audit
from studyhall.auth.decorators import staff_required
from studyhall.exports.roster import build_roster_template_xlsx
from studyhall.org import bp, permissions, queries, roster
from studyhall.org.forms import RosterUploadForm
from studyhall.uploads import PROBLEMS_PER_PAGE, ImportFlow, page_of

ROWS_PER_PAGE = 100
NEW_UNITS_SHOWN = 100


class RosterImport(ImportFlow):
    purpose = "roster"
    upload_endpoint = "org.import_roster"
    preview_endpoint = "org.preview_roster"
    confirm_endpoint = "org.confirm_roster"
    preview_template = "org/manage/roster_preview.html"

    def plan(self, content, filename, options):
        # Planned again at every step: the organisation may have changed since the preview.
        return roster.plan_import(current_user, content, filename,
                                  create_units=bool(options.get("create_units")),
                                  parent_id=options.get("parent_id"),
                                  limits=roster.web_limits())

    def can_confirm(self, plan, form):
        return plan.ok

    def apply(self, plan, form, upload):
        passwords = roster.apply_plan(current_user, plan)
        audit.record(current_user, "roster.import", None, file=upload.filename, **plan.counts)
        return render_template("org/manage/roster_done.html", plan=plan, passwords=passwords)

    def context(self, plan):
        return {"rows": page_of(plan.rows, "page", ROWS_PER_PAGE),
                "problems": page_of(plan.issues, "problems", PROBLEMS_PER_PAGE),
                "new_units_shown": NEW_UNITS_SHOWN}


FLOW = RosterImport()


def _parent_choices() -> list[tuple[int, str]]:
    """The units in the importer's scope, indented as a tree."""
    return [(node.unit.id, "\u3000" * node.depth + node.unit.name)
            for node in queries.get_unit_tree(current_user, include_inactive=False)]


@bp.route("/manage/roster", methods=["GET", "POST"])
@staff_required
def import_roster():
    may_create = permissions.can_create_units_on_import(current_user)
    form = RosterUploadForm(parent_choices=_parent_choices() if may_create else ())
    if not may_create:
        del form.create_units
        del form.new_units_parent
    if form.validate_on_submit():
        create = may_create and form.create_units.data
        parent_id = (form.new_units_parent.data or None) if create else None
        return FLOW.start(form.file.data, create_units=create, parent_id=parent_id)
    return render_template("org/manage/roster_upload.html", form=form)


@bp.route("/manage/roster/preview/<token>")
@staff_required
def preview_roster(token):
    return FLOW.show(token)


@bp.route("/manage/roster/confirm", methods=["POST"])
@staff_required
def confirm_roster():
    return FLOW.confirm()


@bp.route("/manage/roster/template.xlsx")
@staff_required
def download_roster_template():
    return send_file(build_roster_template_xlsx(), as_attachment=True,
                     download_name="roster-template.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
