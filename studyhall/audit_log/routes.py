"""The audit log page and its export (.xlsx, CSV). Administrators only: a secretary or
a teacher gets 404, as for any page outside their reach; a unit administrator sees the
entries of their scope (queries.visible_to)."""

from __future__ import annotations

from datetime import date
from functools import wraps

import xlsxwriter
from flask import (
    abort,
    current_app,
    render_template,
    request,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from studyhall import audit
from studyhall.audit_log import bp, labels, queries
from studyhall.exports.naming import file_name
from studyhall.exports.responses import send_csv, send_xlsx
from studyhall.exports.sheets import DATETIME, Column, SheetWriter, iter_csv, workbook_options
from studyhall.extensions import db
from studyhall.model_helpers import utcnow

PER_PAGE = 50
EXPORT_LOCALE = "zh_CN"


def admin_or_404(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(404)
        return view(*args, **kwargs)
    return wrapped


def _day(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _filters() -> queries.AuditFilters:
    args = request.args
    group = args.get("group")
    return queries.AuditFilters(
        group=group if group in labels.GROUPS else None,
        actor=args.get("actor", "").strip()[:50], target=args.get("target", "").strip()[:50],
        since=_day("since"), until=_day("until"))


@bp.route("/manage/audit")
@admin_or_404
def list_entries():
    filters = _filters()
    queries.without_jit()
    page = db.paginate(queries.query_entries(current_user, filters),
                       per_page=current_app.config.get("AUDIT_PER_PAGE", PER_PAGE),
                       error_out=False)
    return render_template("audit/list.html", page=page, filters=filters,
                           shown=queries.shown_entries(current_user, list(page.items)),
                           groups=labels.group_choices())


def _columns() -> list[Column]:
    return [Column(_("Time"), DATETIME), Column(_("By")), Column(_("Action")),
            Column(_("Target")), Column(_("Details"), min_width=40)]


def _rows(filters: queries.AuditFilters):
    from flask_babel import to_user_timezone

    for shown in queries.iter_shown(current_user, filters):
        yield [to_user_timezone(shown.entry.created_at).replace(tzinfo=None), shown.actor,
               shown.action, shown.target, "；".join(shown.lines)]


@bp.route("/manage/audit/export.<any(xlsx, csv):suffix>")
@admin_or_404
def export_entries(suffix: str):
    """The filtered list as a file; the export is itself audited (it holds personal
    data)."""
    filters = _filters()
    queries.without_jit()
    rows = queries.count_entries(current_user, filters)
    audit.record_apart(current_user, "export.audit", None, format=suffix, rows=rows,
                       filters=filters.as_args())
    queries.without_jit()  # again: the entry's commit ended the count's transaction
    today = utcnow().date()
    with force_locale(EXPORT_LOCALE):
        name = file_name(_("Audit log"), day=today, suffix=suffix)
        columns = _columns()
    fallback = f"audit-{today.isoformat()}.{suffix}"
    if suffix == "csv":
        def generate():
            with force_locale(EXPORT_LOCALE):
                yield from iter_csv(columns, _rows(filters))
        return send_csv(generate(), name, fallback)

    def build(handle) -> None:
        workbook = xlsxwriter.Workbook(handle, workbook_options())
        with force_locale(EXPORT_LOCALE):
            SheetWriter(workbook, _("Audit log"), columns).write(_rows(filters))
        workbook.close()
    return send_xlsx(build, name, fallback)
