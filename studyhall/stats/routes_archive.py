"""Downloads for inspections: an assignment's reading-completion sheet (.xlsx, CSV) and
the inspection archive of a unit and a period (.zip, built in the background, its
download audited). Staff only, limited to the viewer's scope; anything else is 404."""

from __future__ import annotations

from datetime import date, datetime

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from studyhall import audit
from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import load_unit_or_404
from studyhall.exports import archive as archive_export
from studyhall.exports import jobs
from studyhall.exports import reading as reading_export
from studyhall.exports.forms import ArchiveForm
from studyhall.exports.naming import file_name
from studyhall.exports.responses import send_csv, send_download, send_xlsx
from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.model_helpers import utcnow
from studyhall.org.models import PoliticalStatus, Unit
from studyhall.org.queries import get_units_for_picker
from studyhall.sessions.plans import to_local
from studyhall.stats import bp
from studyhall.stats.periods import DatePeriod
from studyhall.stats.routes import EXPORT_LOCALE
from studyhall.study.models import AssignmentStatus
from studyhall.study.permissions import load_assignment_or_404

ZIP = "application/zip"


# --- 学习完成情况: an assignment's reading-completion sheet ------------------------------

def _reading_export(assignment_id: int) -> reading_export.ReadingExport:
    """The assignment (one the viewer manages, published), with the unit and 政治面貌 of
    the readers page's filters."""
    from studyhall.stats.queries import get_unit_names

    assignment = load_assignment_or_404(current_user, assignment_id)
    if assignment.status is AssignmentStatus.DRAFT:
        abort(404)
    args = request.args
    unit = load_unit_or_404(current_user, args.get("unit", type=int)) \
        if args.get("unit") else None
    statuses = {s.value for s in PoliticalStatus}
    status = PoliticalStatus(args["status"]) if args.get("status") in statuses else None
    scope = get_unit_names({unit.id})[unit.id] if unit else ""
    return reading_export.ReadingExport(assignment, current_user, unit, status, scope)


@bp.route("/manage/stats/assignments/<int:assignment_id>/reading.<any(xlsx, csv):suffix>")
@staff_required
def export_reading(assignment_id: int, suffix: str):
    export = _reading_export(assignment_id)
    # Names, accounts and 政治面貌: an export of personal data, audited like the others.
    audit.record_apart(current_user, "export.reading", export.assignment, format=suffix,
                       unit_id=export.unit.id if export.unit else None)
    today = utcnow().date()
    with force_locale(EXPORT_LOCALE):
        name = file_name(export.assignment.title, _("Reading completion"),
                         export.unit.name if export.unit else "", day=today, suffix=suffix)
    fallback = f"reading-{assignment_id}-{today.isoformat()}.{suffix}"
    if suffix == "csv":
        def generate():
            with force_locale(EXPORT_LOCALE):
                yield from reading_export.iter_reading_csv(export)
        return send_csv(generate(), name, fallback)
    total = export.count()
    if total > jobs.inline_rows():
        params = {"assignment_id": export.assignment.id,
                  "unit_id": export.unit.id if export.unit else None,
                  "status": export.status.value if export.status else None,
                  "scope": export.scope_name}
        job_id = jobs.start(current_user.id, name, fallback, total, "stats.reading", params)
        return redirect(url_for("stats.show_export_job", job_id=job_id))
    with force_locale(EXPORT_LOCALE):
        return send_xlsx(lambda handle: reading_export.write_reading_workbook(handle, export),
                          name, fallback)


def _check_assignment(viewer, assignment_id: int, unit_id: int | None, **_params) -> None:
    load_assignment_or_404(viewer, assignment_id)
    if unit_id:
        load_unit_or_404(viewer, unit_id)


@jobs.recipe("stats.reading", check=_check_assignment)
def _reading_builder(assignment_id: int, unit_id: int | None, status: str | None,
                     scope: str):
    """What a background job runs: the same sheet, read again in the job's session."""
    def build(viewer, path, progress):
        from studyhall.study.models import Assignment

        again = reading_export.ReadingExport(
            db.session.get(Assignment, assignment_id), viewer,
            db.session.get(Unit, unit_id) if unit_id else None,
            PoliticalStatus(status) if status else None, scope)
        reading_export.write_reading_workbook(path, again, progress)
    return build


# --- 档案: the inspection archive ---------------------------------------------------------

def default_span(now) -> tuple[date, date]:
    """This year so far, in local dates."""
    today = to_local(now).date()
    return date(today.year, 1, 1), today


@bp.route("/manage/stats/archive", methods=["GET", "POST"])
@staff_required
def archive_form():
    """Choose a unit and a period; the archive is then built in the background."""
    now = utcnow()
    form = ArchiveForm(unit_choices=get_units_for_picker(current_user))
    if request.method == "GET":
        form.start.data, form.end.data = default_span(now)
        if request.args.get("unit", type=int):
            form.unit_id.data = request.args.get("unit", type=int)
    if form.validate_on_submit():
        unit = load_unit_or_404(current_user, form.unit_id.data)
        span = DatePeriod(form.start.data, form.end.data)
        with force_locale(EXPORT_LOCALE):
            archive = _archive(current_user, unit, span, now)
            entries = archive.plan()
            name = file_name(unit.name, "学习档案", span.label, day=span.end, suffix="zip")
        fallback = f"archive-{unit.id}-{span.start.isoformat()}-{span.end.isoformat()}.zip"
        job_id = jobs.start(current_user.id, name, fallback, len(entries) + 1,
                            "stats.archive", {"unit_id": unit.id,
                                              "start": span.start.isoformat(),
                                              "end": span.end.isoformat(),
                                              "now": now.isoformat()}, kind=jobs.ARCHIVE,
                            details={"unit_id": unit.id, "start": span.start.isoformat(),
                                     "end": span.end.isoformat()})
        return redirect(url_for("stats.show_archive_job", job_id=job_id))
    return render_template("stats/archive.html", form=form)


def _archive(viewer, unit: Unit, span, now) -> archive_export.Archive:
    from studyhall.stats.queries import get_unit_names

    return archive_export.Archive(viewer, unit, span, now,
                                  get_unit_names({unit.id})[unit.id])


def _check_archive_unit(viewer, unit_id: int, **_params) -> None:
    load_unit_or_404(viewer, unit_id)


@jobs.recipe("stats.archive", check=_check_archive_unit)
def _archive_builder(unit_id: int, start: str, end: str, now: str):
    """What the background job runs: the archive planned again in the job's own session
    (the same queries, so the same files)."""
    span = DatePeriod(date.fromisoformat(start), date.fromisoformat(end))
    now = datetime.fromisoformat(now)

    def build(viewer, path, progress):
        archive = _archive(viewer, db.session.get(Unit, unit_id), span, now)
        archive.plan()
        archive.write(path, progress)
    return build


@bp.route("/manage/stats/archive/<job_id>")
@staff_required
def show_archive_job(job_id: str):
    status = jobs.get_status_or_404(job_id, current_user.id, jobs.ARCHIVE)
    return render_template("stats/archive_job.html", job_id=job_id, status=status,
                           can_restart=jobs.can_restart(status), confirm_form=ConfirmForm())


@bp.route("/manage/stats/archive/<job_id>/status")
@staff_required
def archive_job_status(job_id: str):
    status = jobs.get_status_or_404(job_id, current_user.id, jobs.ARCHIVE)
    return jsonify(jobs.progress_of(status))


@bp.route("/manage/stats/archive/<job_id>/restart", methods=["POST"])
@staff_required
def restart_archive_job(job_id: str):
    """Start an interrupted (or failed) archive again: the same job, a new run."""
    jobs.get_status_or_404(job_id, current_user.id, jobs.ARCHIVE)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    jobs.restart(job_id, current_user.id, kind=jobs.ARCHIVE)
    return redirect(url_for("stats.show_archive_job", job_id=job_id))


@bp.route("/manage/stats/archive/<job_id>/download")
@staff_required
def download_archive(job_id: str):
    """The finished archive; every download leaves an audit entry (who, which unit,
    which period, which file)."""
    status = jobs.get_status_or_404(job_id, current_user.id, jobs.ARCHIVE)
    if status["state"] != "done":
        abort(404)
    unit_id = status.get("unit_id")
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        abort(404)
    load_unit_or_404(current_user, unit.id)  # the scope may have changed since
    audit.record_apart(current_user, "archive.download", unit, file=status["name"],
                       start=status.get("start"), end=status.get("end"))
    return send_download(jobs.file_path(job_id), ZIP, status["name"], status["fallback"])
