"""Statistics pages and exports: the exams in the viewer's scope, one exam's figures
rolled up the tree with drill-down to a branch's people, its item analysis, and its
score sheet (.xlsx, CSV); the people roster (.xlsx, CSV). Staff only, limited to the
viewer's scope; anything outside it answers 404."""

from __future__ import annotations

from flask import (
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from studyhall import audit
from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import load_unit_or_404
from studyhall.exports import jobs, snapshot
from studyhall.exports import people as people_export
from studyhall.exports import scores as score_export
from studyhall.exports.naming import file_name
from studyhall.exports.responses import XLSX, send_csv, send_download, send_xlsx
from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.model_helpers import utcnow
from studyhall.org.models import UnitKind
from studyhall.org.queries import get_breadcrumb
from studyhall.stats import bp, items, labels, queries
from studyhall.stats.permissions import load_exam_or_404
from studyhall.stats.queries import Filters

PEOPLE_PER_PAGE = 50
UNITS_PER_PAGE = 100
EXAMS_PER_PAGE = 20
#: Exported sheets are filed as they are: in Chinese, whatever the page's language.
EXPORT_LOCALE = "zh_CN"


def _filters() -> Filters:
    """The unit, 政治面貌 and unit kind of the request (404 for a unit out of scope)."""
    args = request.args
    unit = load_unit_or_404(current_user, args.get("unit", type=int)) \
        if args.get("unit") else None
    kind = args.get("kind")
    return Filters(unit, queries.parse_political(args.get("pol")),
                   UnitKind(kind) if kind in {k.value for k in UnitKind} else None)


def _filter_args(filters: Filters) -> dict:
    args = {}
    if filters.unit is not None:
        args["unit"] = filters.unit.id
    if request.args.get("pol") and filters.statuses:
        args["pol"] = request.args["pol"]
    return args


@bp.route("/manage/stats/exams")
@staff_required
def list_exams():
    """Exams with participants in the viewer's scope, with 应考, 实考 and 参考率."""
    page = db.paginate(queries.query_exams(current_user), per_page=EXAMS_PER_PAGE,
                       error_out=False)
    counts = queries.get_exam_counts([quiz.id for quiz in page.items], current_user)
    return render_template("stats/exam_list.html", page=page, counts=counts,
                           words=labels.exam_word)


@bp.route("/manage/stats/exams/<int:quiz_id>")
@staff_required
def show_exam(quiz_id: int):
    """One exam's figures over a unit's subtree, its units ranked, the score bands, and at
    a unit without sub-units (or for the people attached to a unit itself) its people."""
    quiz = load_exam_or_404(current_user, quiz_id)
    filters = _filters()
    rank_by = request.args.get("rank") if request.args.get("rank") in queries.RANK_KEYS \
        else "average"
    figures, units = queries.get_exam_table(quiz, current_user, filters, rank_by)
    direct = request.args.get("direct") == "1" and filters.unit is not None
    show_people = filters.unit is not None and filters.kind is None and (
        direct or not any(row.unit is not None for row in units))
    people, people_total, page_number = [], 0, max(1, request.args.get("page", 1, type=int))
    if show_people:
        people_total = queries.count_score_rows(quiz, current_user, filters, direct)
        people = queries.get_score_rows(quiz, current_user, filters, limit=PEOPLE_PER_PAGE,
                                        offset=(page_number - 1) * PEOPLE_PER_PAGE,
                                        direct_only=direct)
    crumbs = get_breadcrumb(current_user, filters.unit) if filters.unit else []
    # A city has 1,600 branches: the ranking covers them all, the table shows a page.
    unit_page = max(1, request.args.get("upage", 1, type=int))
    unit_pages = max(1, -(-len(units) // UNITS_PER_PAGE))
    shown_units = units[(unit_page - 1) * UNITS_PER_PAGE:unit_page * UNITS_PER_PAGE]
    return render_template(
        "stats/exam.html", quiz=quiz, filters=filters, figures=figures, units=shown_units,
        unit_count=len(units), unit_page=unit_page, unit_pages=unit_pages,
        units_per_page=UNITS_PER_PAGE,
        rank_by=rank_by, people=people, people_total=people_total, page_number=page_number,
        pages=max(1, -(-people_total // PEOPLE_PER_PAGE)), direct=direct, crumbs=crumbs,
        show_people=show_people, args=_filter_args(filters), pol=request.args.get("pol", ""),
        unit_names=queries.get_unit_names({r.unit_id for r in people}) if people else {},
        bands=list(zip(labels.band_labels(quiz), figures.bands, strict=True)),
        notes=labels.method_notes(quiz), words=labels.exam_word,
        political_choices=labels.political_choices(), kind_choices=labels.kind_choices(),
        rank_choices=labels.rank_choices(), state_label=labels.state_label,
        chart_limit=CHART_LIMIT)


#: The units chart shows this many bars at most; the table beside it has every row.
CHART_LIMIT = 40


@bp.route("/manage/stats/exams/<int:quiz_id>/items")
@staff_required
def show_items(quiz_id: int):
    """Item analysis of the exam over the same unit and 政治面貌 as its figures."""
    quiz = load_exam_or_404(current_user, quiz_id)
    filters = _filters()
    paper = items.get_item_analysis(quiz, current_user, filters)
    return render_template("stats/items.html", quiz=quiz, paper=paper, filters=filters,
                           args=_filter_args(filters), item_flags=score_export.item_flags,
                           wrong_text=score_export.wrong_text,
                           counting_rule=labels.counting_rule(quiz))


def _export(quiz, filters: Filters) -> score_export.ScoreExport:
    from studyhall.stats.queries import get_unit_names

    scope = get_unit_names({filters.unit.id})[filters.unit.id] if filters.unit else ""
    political = dict(labels.political_choices()).get(request.args.get("pol", ""), "") \
        if filters.statuses else ""
    return score_export.ScoreExport(quiz, current_user, filters, scope, political)


def _download_name(quiz, filters: Filters, what: str, suffix: str) -> tuple[str, str]:
    today = utcnow().date()
    unit = filters.unit.name if filters.unit else ""
    return (file_name(quiz.title, what, unit, day=today, suffix=suffix),
            f"exam-{quiz.id}-{suffix}-{today.isoformat()}.{suffix}")


@bp.route("/manage/stats/exams/<int:quiz_id>/scores.xlsx")
@staff_required
def export_scores_xlsx(quiz_id: int):
    """The score sheet, unit summary and item analysis as one .xlsx, built row by row
    into a temporary file (constant memory) and sent from it."""
    quiz = load_exam_or_404(current_user, quiz_id)
    filters = _filters()
    # The entry in a short transaction of its own (a GET's read transaction cannot
    # become a writer on SQLite once an exam has saved meanwhile), then every sheet read
    # on one snapshot, reading only (exports/snapshot.py).
    audit.record_apart(current_user, "export.scores", quiz, format="xlsx",
                       unit_id=getattr(filters.unit, "id", None))
    snapshot.read_one_snapshot()
    with force_locale(EXPORT_LOCALE):
        export = _export(quiz, filters)
        name, fallback = _download_name(quiz, filters, _("Score sheet"), "xlsx")
    total = queries.count_score_rows(quiz, current_user, filters)
    if total > jobs.inline_rows():
        job_id = jobs.start(current_user.id, name, fallback, total, "stats.scores",
                            _score_job_params(export))
        return redirect(url_for("stats.show_export_job", job_id=job_id))
    with force_locale(EXPORT_LOCALE):
        return send_xlsx(lambda handle: score_export.write_score_workbook(handle, export),
                          name, fallback)


def _score_job_params(export: score_export.ScoreExport) -> dict:
    """What a background job needs to build the same workbook (JSON: it is kept in the
    job's status, so the job can be started again on any host)."""
    return {"quiz_id": export.quiz.id,
            "unit_id": export.filters.unit.id if export.filters.unit else None,
            "statuses": [status.value for status in export.filters.statuses],
            "scope": export.scope_name, "political": export.political_name}


def _check_exam_and_unit(viewer, quiz_id: int, unit_id: int | None, **_params) -> None:
    load_exam_or_404(viewer, quiz_id)
    if unit_id:
        load_unit_or_404(viewer, unit_id)


@jobs.recipe("stats.scores", check=_check_exam_and_unit)
def _score_builder(quiz_id: int, unit_id: int | None, statuses: list[str], scope: str,
                   political: str):
    """What a background job runs: the same workbook, with the exam and unit read again
    in the job's own session."""
    from studyhall.org.models import PoliticalStatus

    chosen = tuple(PoliticalStatus(value) for value in statuses)

    def build(viewer, path, progress):
        from studyhall.org.models import Unit
        from studyhall.quizzes.models import Quiz

        unit = db.session.get(Unit, unit_id) if unit_id else None
        again = score_export.ScoreExport(db.session.get(Quiz, quiz_id), viewer,
                                         Filters(unit, chosen), scope, political)
        score_export.write_score_workbook(path, again, progress)
    return build


@bp.route("/manage/stats/exams/<int:quiz_id>/<any(scores, units, items):sheet>.csv")
@staff_required
def export_sheet_csv(quiz_id: int, sheet: str):
    """One sheet as CSV, streamed as it is written."""
    quiz = load_exam_or_404(current_user, quiz_id)
    filters = _filters()
    audit.record_apart(current_user, "export.scores", quiz, format="csv", sheet=sheet,
                       unit_id=getattr(filters.unit, "id", None))
    what = {"scores": _("Score sheet"), "units": _("Figures by unit"),
            "items": _("Item analysis")}
    with force_locale(EXPORT_LOCALE):
        name, fallback = _download_name(quiz, filters, what[sheet], "csv")
    export = _export(quiz, filters)

    def generate():
        with force_locale(EXPORT_LOCALE):
            yield from score_export.iter_sheet_csv(export, sheet)

    return send_csv(generate(), name, fallback)


@bp.route("/manage/stats/roster.<any(xlsx, csv):suffix>")
@staff_required
def export_roster(suffix: str):
    """The people roster with phone numbers (a unit's subtree, or the whole scope) in the
    roster import's own format."""
    unit = load_unit_or_404(current_user, request.args.get("unit", type=int)) \
        if request.args.get("unit") else None
    audit.record_apart(current_user, "export.roster", unit, format=suffix,
                       unit_id=unit and unit.id)
    today = utcnow().date()
    name = file_name("花名册", unit.name if unit else "", day=today, suffix=suffix)
    fallback = f"roster-{today.isoformat()}.{suffix}"
    if suffix == "csv":
        return send_csv(people_export.iter_roster_csv(current_user, unit), name, fallback)
    total = people_export.count_roster(current_user, unit)
    if total > jobs.inline_rows():
        job_id = jobs.start(current_user.id, name, fallback, total, "stats.roster",
                            {"unit_id": unit.id if unit else None})
        return redirect(url_for("stats.show_export_job", job_id=job_id))
    return send_xlsx(lambda handle: people_export.write_roster_workbook(
        handle, current_user, unit), name, fallback)


def _check_unit(viewer, unit_id: int | None, **_params) -> None:
    if unit_id:
        load_unit_or_404(viewer, unit_id)


@jobs.recipe("stats.roster", check=_check_unit)
def _roster_builder(unit_id: int | None):
    def build(viewer, path, progress):
        from studyhall.org.models import Unit

        people_export.write_roster_workbook(
            path, viewer, db.session.get(Unit, unit_id) if unit_id else None, progress)
    return build


@bp.route("/manage/exports/<job_id>")
@staff_required
def show_export_job(job_id: str):
    """A big export being built: its progress, then its download link."""
    status = jobs.get_status_or_404(job_id, current_user.id)
    return render_template("stats/export_job.html", job_id=job_id, status=status,
                           can_restart=jobs.can_restart(status), confirm_form=ConfirmForm())


@bp.route("/manage/exports/<job_id>/status")
@staff_required
def export_job_status(job_id: str):
    status = jobs.get_status_or_404(job_id, current_user.id)
    return jsonify(jobs.progress_of(status))


@bp.route("/manage/exports/<job_id>/restart", methods=["POST"])
@staff_required
def restart_export_job(job_id: str):
    """Start an interrupted (or failed) export again: the same job, a new run."""
    status = jobs.get_status_or_404(job_id, current_user.id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if jobs.restart(job_id, current_user.id):
        # The sheet's personal data is read again, now (a sheet's download is not
        # audited, unlike an archive's): an entry of its own, as for the first export.
        audit.record(current_user, "export.restart", None, file=status["name"],
                     recipe=status.get("recipe"), params=status.get("params"))
    return redirect(url_for("stats.show_export_job", job_id=job_id))


@bp.route("/manage/exports/<job_id>/download")
@staff_required
def download_export_job(job_id: str):
    status = jobs.get_status_or_404(job_id, current_user.id)
    if status["state"] != "done":
        abort(404)
    return send_download(jobs.file_path(job_id), XLSX, status["name"], status["fallback"])


@bp.app_template_global()
def stats_url_args(base: dict, **changes) -> dict:
    """Query arguments of a statistics link: the page's filters with some changed (None
    removes one)."""
    merged = {**base, **changes}
    return {key: value for key, value in merged.items() if value not in (None, "")}



@bp.app_template_filter()
def duration(seconds: int | None) -> str:
    """Time taken as h:mm:ss, as the score sheet's CSV writes it."""
    from studyhall.exports.sheets import DURATION, csv_value

    return "" if seconds is None else csv_value(DURATION, seconds)
