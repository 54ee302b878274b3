"""Study and session statistics over a period, rolled up the tree with drill-down to a
branch's people, and 汇报数据 (the report sentences, copyable, as .docx). Staff only,
over a unit of the viewer's scope; another unit answers 404."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import load_unit_or_404, scope_roots
from studyhall.exports.naming import file_name
from studyhall.exports.responses import as_download
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, Unit
from studyhall.org.queries import get_breadcrumb
from studyhall.org.sorting import unit_sort_key
from studyhall.stats import bp, report, session_queries, study_queries
from studyhall.stats.periods import PRESETS, PeriodError, local_today, parse_period
from studyhall.stats.queries import get_unit_names

PEOPLE_PER_PAGE = 50
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: Reports are filed in Chinese, whatever the page's language.
EXPORT_LOCALE = "zh_CN"


def _unit() -> Unit:
    """The unit of the request (404 outside the viewer's scope), or the first unit of
    the scope."""
    if request.args.get("unit"):
        return load_unit_or_404(current_user, request.args.get("unit", type=int))
    roots = scope_roots(current_user)
    if not roots:
        abort(404)
    return roots[0]


def _period(now):
    """The period of the request and an error to show (the default period is used then)."""
    today = local_today(now)
    args = request.args
    try:
        return parse_period(args.get("preset"), args.get("from"), args.get("to"), today), None
    except PeriodError as error:
        return parse_period(None, None, None, today), str(error)


def _page_args(unit: Unit, period) -> dict:
    return {"unit": unit.id, **period.args()}


@bp.route("/manage/stats/activity")
@staff_required
def show_activity():
    """Study and session figures of a unit's subtree over a period: by kind, planned vs
    held, by sub-unit, over the months, by assignment, and at a unit without sub-units
    (or for the people attached to the unit itself) each person's totals."""
    now = utcnow()
    unit = _unit()
    period, error = _period(now)
    # The period's attendance and readers are each read once, for the totals, the kinds,
    # the sub-units, the assignments and the months.
    attendance = session_queries.get_attendance_rollups(unit, period, now)
    readers = study_queries.get_study_rollups(unit, period, now)
    total, kinds = session_queries.get_sessions_by_kind(unit, period, now, attendance)
    study = study_queries.get_study_figures(unit, period, now, readers)
    session_rows = session_queries.get_sessions_by_child(unit, period, now, attendance)
    study_rows = study_queries.get_study_by_child(unit, period, now, readers)
    units = _unit_rows(unit, session_rows, study_rows)
    direct = request.args.get("direct") == "1"
    show_people = direct or not any(row["unit"] is not None for row in units)
    people, people_total, page_number = [], 0, max(1, request.args.get("page", 1, type=int))
    if show_people:
        people, people_total = _people(unit, period, now, direct, page_number)
    attendance_months = session_queries.get_attendance_by_month(unit, period, now, attendance)
    completion_months = study_queries.get_completion_by_month(unit, period, readers)
    months = [_("%(month)d/%(year)d", year=y, month=m) for y, m in period.months]
    return render_template(
        "stats/activity.html", unit=unit, period=period, period_error=error,
        presets=PRESETS, args=_page_args(unit, period), total=total, kinds=kinds,
        study=study, units=units, assignments=study_queries.get_study_by_assignment(
            unit, period, readers),
        months=list(zip(months, attendance_months, completion_months, strict=True)),
        people=people, people_total=people_total, page_number=page_number,
        pages=max(1, -(-people_total // PEOPLE_PER_PAGE)), direct=direct,
        show_people=show_people, crumbs=get_breadcrumb(current_user, unit),
        notes=activity_notes())


def _unit_rows(unit: Unit, session_rows, study_rows) -> list[dict]:
    """Each sub-unit (with its subtree) that has sessions or study in the period, and the
    unit itself (本级) last: rows that add up to the unit's figures."""
    by_key: dict = {}
    for row in session_rows:
        key = row.unit.id if row.unit else session_queries.OWN
        by_key[key] = {"unit": row.unit, "held": row.held, "attendance": row.attendance}
    children = {}
    missing = [k for k in study_rows if k != session_queries.OWN and k not in by_key]
    if missing:
        children = {u.id: u for u in db.session.scalars(sa.select(Unit).where(
            Unit.id.in_(missing)))}
    for key, figures in study_rows.items():
        row = by_key.setdefault(key, {
            "unit": children.get(key), "held": session_queries.HeldFigures(),
            "attendance": session_queries.AttendanceFigures()})
        row["study"] = figures
    rows = list(by_key.values())
    for row in rows:
        row.setdefault("study", study_queries.StudyFigures())
    rows.sort(key=lambda r: (r["unit"] is None, unit_sort_key(r["unit"]) if r["unit"] else ()))
    if len(rows) == 1 and rows[0]["unit"] is None:
        return []  # a unit without sub-units: its people are listed instead
    return rows


def _people(unit: Unit, period, now, direct: bool, page_number: int):
    """One page of the people expected at a session or an assignment of the period as
    members of the unit (with direct=1) or of its subtree, each with their totals."""
    from studyhall.model_helpers import in_subtree

    if direct:
        unit_ids = [unit.id]
    else:
        unit_ids = list(db.session.scalars(sa.select(Unit.id).where(
            in_subtree(Unit.path, unit.path))))
    ids = sa.union(session_queries.expected_people(unit_ids, period, now),
                   study_queries.expected_readers(unit_ids, period)).subquery()
    base = sa.select(Person).join(ids, ids.c.person_id == Person.id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    people = db.session.scalars(base.order_by(Person.name, Person.id).limit(PEOPLE_PER_PAGE)
                                .offset((page_number - 1) * PEOPLE_PER_PAGE)).all()
    person_ids = [p.id for p in people]
    attendance = session_queries.attendance_by_person(person_ids, period, now, unit_ids)
    study = study_queries.study_by_person(person_ids, period, unit_ids)
    return [(p, attendance.get(p.id, session_queries.AttendanceFigures()),
             study.get(p.id, study_queries.StudyFigures())) for p in people], total


def activity_notes() -> list[str]:
    """The 统计口径 of the study and session figures, one sentence each."""
    return [
        _("Sessions held: published sessions organised by the unit or its sub-units that "
          "started in the period; hours are their scheduled length."),
        _("Attendance is counted over the expected attendees fixed at publication, in the "
          "unit they belonged to that day: a unit's figures are its people's at every "
          "session of the period, whoever organised it. Expected = people expected; "
          "attended = present or late; approved leave and absence are shown apart."),
        _("Attendance rate = attended ÷ (expected less approved leave); a session whose "
          "leave counts as expected keeps its approved leave in the denominator. Summed "
          "over the period's sessions before dividing."),
        _("Planned: items of the study plans of the unit and its sub-units in the "
          "period's months; carried out: those linked to a held session."),
        _("Assignments: published assignments starting in the period. Completion rate = "
          "readers who completed (on time or late) ÷ expected readers, fixed at "
          "publication."),
        _("Reading time: the time the server credited to the expected readers on the "
          "assignment's materials; per person = total ÷ expected readers."),
        _("Reflections: on the period's assignments and sessions; submitted at least "
          "once, accepted, and marked excellent among the accepted."),
        _("Rates are rounded half up to one decimal, hours to one decimal, from the exact "
          "values."),
    ]


# --- 汇报数据 --------------------------------------------------------------------------


@bp.route("/manage/stats/report")
@staff_required
def show_report():
    """The sentences of a work report for a unit and a period, to copy with one tap."""
    now = utcnow()
    unit = _unit()
    period, error = _period(now)
    data = report.build_report(current_user, unit, period, now)
    return render_template("stats/report.html", unit=unit, period=period,
                           period_error=error, presets=PRESETS,
                           args=_page_args(unit, period), report=data,
                           unit_name=get_unit_names({unit.id})[unit.id],
                           crumbs=get_breadcrumb(current_user, unit),
                           notes=report.report_notes())


@bp.route("/manage/stats/report.docx")
@staff_required
def download_report():
    now = utcnow()
    unit = _unit()
    period, error = _period(now)
    if error:
        abort(400)
    with force_locale(EXPORT_LOCALE):
        data = report.build_report(current_user, unit, period, now)
        content = report.report_docx(data, get_unit_names({unit.id})[unit.id])
        name = file_name(_("Report figures"), unit.name, period.label,
                         day=now.date(), suffix="docx")
    fallback = f"report-{unit.id}-{period.start.isoformat()}-{period.end.isoformat()}.docx"
    return as_download(Response(content, mimetype=DOCX), name, fallback)
