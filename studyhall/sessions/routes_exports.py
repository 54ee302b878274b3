"""Downloads for the files an inspection asks for: a session's record sheet (.docx) and
a unit's attendance sheet for a period (.xlsx). Both are written in Chinese whatever
the page language, since they are filed as they are."""

from __future__ import annotations

from flask import abort, flash, redirect, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from studyhall import audit
from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import load_unit_or_404
from studyhall.exports import snapshot
from studyhall.exports.attendance_xlsx import build_attendance_xlsx
from studyhall.exports.responses import XLSX, as_download
from studyhall.exports.session_docx import build_session_docx
from studyhall.model_helpers import utcnow
from studyhall.sessions import bp, permissions
from studyhall.sessions.models import SessionStatus, StudySession
from studyhall.sessions.plans import Period, local_month
from studyhall.sessions.queries_exports import get_attendance_sheet, get_record_sheet

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FILED_LOCALE = "zh_CN"
#: One column per session: beyond this a sheet is unreadable (and Excel stops at 16,384).
MAX_SESSION_COLUMNS = 300


def _load_record_session_or_404(session_id: int) -> StudySession:
    """A published session whose record the viewer keeps (a manager or its recorder);
    a draft or cancelled one has no record to file."""
    session = permissions.load_record_session_or_404(current_user, session_id)
    if session.status is not SessionStatus.PUBLISHED:
        abort(404)
    return session


@bp.route("/manage/sessions/<int:session_id>/record.docx")
@login_required
def download_session_record(session_id: int):
    session = _load_record_session_or_404(session_id)
    audit.record_apart(current_user, "export.session_record", session, format="docx")
    with force_locale(FILED_LOCALE):
        data = build_session_docx(get_record_sheet(session))
    year, month = local_month(session.starts_at)
    name = f"{session.owner_unit.name}-{session.kind.label}-{year}{month:02d}-{session.id}.docx"
    return as_download(send_file(data, mimetype=DOCX, as_attachment=True, download_name=name))


@bp.route("/manage/sessions/attendance.xlsx")
@staff_required
def download_attendance_sheet():
    now = utcnow()
    snapshot.read_one_snapshot()  # the sheet's queries agree with each other, reading only
    unit = load_unit_or_404(current_user, request.args.get("unit", type=int) or 0)
    period = Period.parse(request.args.get("period")) or Period.current(now)
    sheet = get_attendance_sheet(unit, period, now)
    if len(sheet.sessions) > MAX_SESSION_COLUMNS:
        flash(_("%(n)d sessions were held under this unit in %(period)s: more than one sheet "
                "can show side by side (%(max)d). Choose a sub-unit or a shorter period.",
                n=len(sheet.sessions), period=period.label, max=MAX_SESSION_COLUMNS), "error")
        return redirect(url_for("org.show_unit", unit_id=unit.id, period=period.key))
    # In a short transaction of its own: the read one cannot become a writer on SQLite.
    audit.record_apart(current_user, "export.attendance", unit, format="xlsx",
                       period=period.label)
    with force_locale(FILED_LOCALE):
        data = build_attendance_xlsx(sheet)
        name = _("%(unit)s attendance, %(period)s", unit=unit.name, period=period.label) \
            + ".xlsx"
    return as_download(send_file(data, mimetype=XLSX, as_attachment=True, download_name=name))
