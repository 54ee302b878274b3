"""A unit's attendance sheet for a period (考勤汇总表) as .xlsx: one row per person, one
column per held session, the status in each cell, then each person's totals and 参学率;
below the people, each session's 应到/实到/请假/缺席 and 参学率.

Written row by row with XlsxWriter in constant-memory mode (PERFORMANCE.md: never through
pandas), so a county's sheet does not grow in memory. Rates are numbers, already rounded
half up by studyhall/figures.py and shown with a percent format. Every text a user typed
goes through exports/cells.guard. Headers are in the language of the request (the route
asks for Chinese: the sheet is filed as it is).
"""

from __future__ import annotations

import io

import xlsxwriter
from flask_babel import gettext as _
from flask_babel import pgettext, to_user_timezone

from studyhall.exports.cells import guard
from studyhall.figures import rate_value
from studyhall.sessions.models import AttendanceStatus
from studyhall.sessions.queries_exports import AttendanceSheet

#: Columns before the sessions: 序号, 姓名, 工号, 单位.
LEAD = 4
STATUSES = (AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.EXCUSED,
            AttendanceStatus.ABSENT)
#: Shown where a person was not expected at a session.
NOT_EXPECTED = "—"


def _rate(part: int, whole: int) -> float | None:
    value = rate_value(part, whole)
    # The value is rounded (one decimal of a percent); the float only carries it to the
    # cell, whose format writes it back as 93.8%.
    return None if value is None else float(value / 100)


def status_texts() -> dict[AttendanceStatus | None, str]:
    """Each status's word, looked up once per sheet (a lookup per cell through Babel
    took half the time of a 5,000 × 24 sheet)."""
    return {None: _("Not marked"), **{s: s.label for s in AttendanceStatus}}


def build_attendance_xlsx(sheet: AttendanceSheet) -> io.BytesIO:
    buffer = io.BytesIO()
    # Rows go to a temporary file as they are written; "in_memory" would override this
    # and keep every cell until the end.
    workbook = xlsxwriter.Workbook(buffer, {"constant_memory": True})
    ws = workbook.add_worksheet(_("Attendance"))
    fmt = _formats(workbook)
    texts = status_texts()
    sessions = sheet.sessions
    expected_label = pgettext("attendance", "Expected")
    totals = [expected_label, _("Present"), _("Late"), _("On leave"), _("Absent"),
              _("Attended"), _("Attendance rate")]
    width = LEAD + len(sessions) + len(totals)
    ws.set_column(0, 0, 6)
    ws.set_column(1, 1, 10)
    ws.set_column(2, 2, 12)
    ws.set_column(3, 3, 20)
    if sessions:
        ws.set_column(LEAD, LEAD + len(sessions) - 1, 14)
    ws.set_column(LEAD + len(sessions), width - 1, 8)
    ws.freeze_panes(2, 2)

    title = _("%(unit)s attendance, %(period)s", unit=sheet.unit.name,
              period=sheet.period.label)
    ws.merge_range(0, 0, 0, max(width - 1, 1), guard(title), fmt["title"])
    ws.set_row(1, 48)
    for col, text in enumerate([_("No."), _("Name"), _("Account"), _("Unit")]):
        ws.write_string(1, col, text, fmt["head"])
    for i, column in enumerate(sessions):
        s = column.session
        head = f"{to_user_timezone(s.starts_at):%m-%d} {s.kind.label}\n{s.topic}"
        ws.write_string(1, LEAD + i, guard(head), fmt["head"])
    for j, text in enumerate(totals):
        ws.write_string(1, LEAD + len(sessions) + j, text, fmt["head"])

    row = 2
    for number, person in enumerate(sheet.rows(), start=1):
        ws.write_number(row, 0, number, fmt["cell"])
        ws.write_string(row, 1, guard(person.name), fmt["cell"])
        ws.write_string(row, 2, guard(person.account), fmt["cell"])
        ws.write_string(row, 3, guard(person.unit), fmt["cell"])
        counts = dict.fromkeys(STATUSES, 0)
        expected = denominator = 0
        for i, column in enumerate(sessions):
            if column.session.id not in person.statuses:
                ws.write_string(row, LEAD + i, NOT_EXPECTED, fmt["center"])
                continue
            status = person.statuses[column.session.id]
            expected += 1
            if status is not None:
                counts[status] += 1
            if status is not AttendanceStatus.EXCUSED or \
                    column.session.leave_counts_as_expected:
                denominator += 1
            ws.write_string(row, LEAD + i, texts[status],
                            fmt["absent"] if status is AttendanceStatus.ABSENT
                            else fmt["center"])
        attended = counts[AttendanceStatus.PRESENT] + counts[AttendanceStatus.LATE]
        values = [expected, *counts.values(), attended]
        _write_totals(ws, row, LEAD + len(sessions), values, _rate(attended, denominator), fmt)
        row += 1

    lines = [(expected_label, "expected"), (_("Attended"), "attended"), (_("Late"), "late"),
             (_("On leave"), "excused"), (_("Absent"), "absent")]
    for label, name in lines:
        ws.merge_range(row, 0, row, LEAD - 1, label, fmt["foot"])
        for i, column in enumerate(sessions):
            ws.write_number(row, LEAD + i, getattr(column, name), fmt["num"])
        row += 1
    ws.merge_range(row, 0, row, LEAD - 1, _("Attendance rate"), fmt["foot"])
    for i, column in enumerate(sessions):
        _write_rate(ws, row, LEAD + i, _rate(column.attended, column.denominator), fmt)
    attended = sum(c.attended for c in sessions)
    denominator = sum(c.denominator for c in sessions)
    _write_rate(ws, row, width - 1, _rate(attended, denominator), fmt)
    row += 2
    ws.write_string(row, 0, _("Attendance rate = attended ÷ expected over the period's "
                              "sessions; present and late count as attended. Approved "
                              "leave is left out of the expected unless the session "
                              "counts it. “—”: not expected at that session."), fmt["note"])
    workbook.close()
    buffer.seek(0)
    return buffer


def _write_totals(ws, row: int, col: int, values: list[int], rate, fmt) -> None:
    for j, value in enumerate(values):
        ws.write_number(row, col + j, value, fmt["num"])
    _write_rate(ws, row, col + len(values), rate, fmt)


def _write_rate(ws, row: int, col: int, rate: float | None, fmt) -> None:
    if rate is None:
        ws.write_string(row, col, NOT_EXPECTED, fmt["center"])
    else:
        ws.write_number(row, col, rate, fmt["rate"])


def _formats(workbook) -> dict:
    border = {"border": 1, "valign": "vcenter"}
    return {
        "title": workbook.add_format({"bold": True, "font_size": 14, "align": "center"}),
        "head": workbook.add_format({**border, "bold": True, "bg_color": "#F2DCDB",
                                     "text_wrap": True, "align": "center"}),
        "cell": workbook.add_format(border),
        "center": workbook.add_format({**border, "align": "center"}),
        "absent": workbook.add_format({**border, "align": "center", "font_color": "#B3261E"}),
        "num": workbook.add_format({**border, "num_format": "0"}),
        "rate": workbook.add_format({**border, "num_format": "0.0%"}),
        "foot": workbook.add_format({**border, "bold": True, "align": "right"}),
        "note": workbook.add_format({"italic": True, "font_color": "#5F6B76"}),
    }
