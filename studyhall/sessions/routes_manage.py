"""Organising sessions: the list, create and edit, the expected attendees, publishing,
cancelling, and the printed sign-in sheet and attendance record. Admins (any scope) and
secretaries (their subtree); a session of a unit outside the viewer's scope answers 404."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import load_unit_or_404, unit_in_scope
from studyhall.converters import MAX_ID
from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, PoliticalStatus, Unit
from studyhall.org.queries import get_units_for_picker
from studyhall.quizzes.forms import AudienceForm
from studyhall.sessions import bp, links, operations, permissions, queries
from studyhall.sessions.forms import SessionForm
from studyhall.sessions.models import (
    LABELS,
    AttendanceStatus,
    SessionKind,
    SessionStatus,
)
from studyhall.sessions.operations import SessionError

SESSIONS_PER_PAGE = 30
WHEN = ("upcoming", "past")


def _session_or_404(session_id: int):
    return permissions.load_session_or_404(current_user, session_id)


def _enum_arg(enum_cls, name: str):
    try:
        return enum_cls(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/manage/sessions/")
@staff_required
def list_managed_sessions():
    """Sessions of the viewer's units with their figures; upcoming first by default."""
    now = utcnow()
    when = request.args.get("when", "upcoming")
    when = when if when in WHEN else ""
    query = queries.query_managed_sessions(
        current_user, status=_enum_arg(SessionStatus, "status"),
        kind=_enum_arg(SessionKind, "kind"), when=when, now=now)
    page = db.paginate(query, per_page=SESSIONS_PER_PAGE, error_out=False)
    counts = queries.get_session_counts([s.id for s in page.items])
    return render_template("sessions/manage/session_list.html", page=page, counts=counts,
                           labels=LABELS, when=when, kinds=SessionKind,
                           statuses=SessionStatus, now=now)


def _unit_in_scope(unit_id: int | None) -> Unit | None:
    # The unit select's value is any integer until validated: PostgreSQL refuses a
    # lookup past its INTEGER range.
    unit = db.session.get(Unit, unit_id) if unit_id and 0 < unit_id <= MAX_ID else None
    return unit if unit is not None and unit_in_scope(current_user, unit) else None


def _find_people(unit_id: int, text: str) -> list[Person]:
    unit = _unit_in_scope(unit_id)
    return queries.find_people(current_user, unit, text) if unit else []


def _people_options(unit_id: int | None) -> list[tuple[str, str]]:
    unit = _unit_in_scope(unit_id)
    return queries.get_people_options(current_user, unit) if unit else []


def _fill_link_choices(form: SessionForm, session=None, default_unit_id=None) -> None:
    """The pickers of materials, quizzes, a recording and a plan item for the unit and
    year the form holds now (links.py's scoped lists), with what is linked already."""
    unit = _unit_in_scope(form.owner_unit_id.data or default_unit_id)
    year = form.day.data.year if form.day.data else None
    kind = SessionKind(form.kind.data) if form.kind.data in {k.value for k in SessionKind} \
        else None
    materials = links.material_choices(current_user, unit)
    quizzes = links.quiz_choices(current_user)
    recordings = links.recording_choices(current_user, unit)
    items = links.plan_item_choices(current_user, unit, year, kind)
    if session is not None:
        materials += [(m.material.id, m.title) for m in links.get_materials(session)]
        quizzes += [(quiz.id, quiz.title) for quiz in links.get_quizzes(session)]
        if session.recording_material_id:
            recordings += [(session.recording_material_id, _("The current recording"))]
        if session.plan_item_id:
            items += [(session.plan_item_id, _("The current plan item"))]
    form.set_link_choices(_unique(materials), _unique(quizzes), _unique(recordings),
                          _unique(items))


def _unique(pairs):
    seen: dict = {}
    for value, label in pairs:
        seen.setdefault(value, label)
    return list(seen.items())


@bp.route("/manage/sessions/new", methods=["GET", "POST"])
@staff_required
def create_session():
    units = get_units_for_picker(current_user)
    kind = _enum_arg(SessionKind, "kind")
    form = SessionForm(unit_choices=units, find_people=_find_people,
                       data={"kind": kind.value if kind else None,
                             "owner_unit_id": request.args.get("unit", type=int)})
    _fill_link_choices(form, default_unit_id=units[0][0] if units else None)
    if form.validate_on_submit():
        load_unit_or_404(current_user, form.owner_unit_id.data)
        try:
            session = operations.create_session(current_user, form.values())
        except SessionError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Session saved as a draft. Check who is expected, then publish it."),
                  "success")
            return redirect(url_for("sessions.show_managed_session", session_id=session.id))
    unit_id = form.owner_unit_id.data or (units[0][0] if units else None)
    return render_template("sessions/manage/session_edit.html", form=form, session=None,
                           people=_people_options(unit_id))


@bp.route("/manage/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_session(session_id: int):
    """The details. After publication the kind and unit stay (disabled here, refused if
    forged); a confirmed record must be reopened first."""
    session = _session_or_404(session_id)
    if session.record_locked_at or session.status is SessionStatus.CANCELLED:
        flash(_("This session can no longer be edited."), "error")
        return redirect(url_for("sessions.show_managed_session", session_id=session.id))
    locked = (frozenset() if session.status is SessionStatus.DRAFT
              else operations.FIXED_AT_PUBLICATION)
    form = SessionForm(data=SessionForm.data_of(session), locked=locked,
                       unit_choices=get_units_for_picker(current_user),
                       find_people=_find_people)
    _fill_link_choices(form, session)
    if form.validate_on_submit():
        values = form.values()
        if values["owner_unit_id"] != session.owner_unit_id:
            load_unit_or_404(current_user, values["owner_unit_id"])
        try:
            operations.update_session(current_user, session, values)
        except SessionError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("sessions.show_managed_session", session_id=session.id))
    return render_template("sessions/manage/session_edit.html", form=form, session=session,
                           people=_people_options(session.owner_unit_id))


@bp.route("/manage/sessions/<int:session_id>")
@staff_required
def show_managed_session(session_id: int):
    """Everything about one session and what can be done next."""
    session = _session_or_404(session_id)
    counts = queries.get_counts(session)
    draft = session.status is SessionStatus.DRAFT
    preview = queries.get_audience_preview(session, current_user) if draft else []
    photos, attachments = queries.get_attachments(session)
    return render_template(
        "sessions/manage/session_show.html", session=session, counts=counts, labels=LABELS,
        form=ConfirmForm(), now=utcnow(), preview_count=sum(len(p) for _u, p in preview),
        photos=photos, attachments=attachments, leave=queries.get_leave_requests(session),
        locked_by=queries.get_names(filter(None, [session.record_locked_by_id])).get(
            session.record_locked_by_id, ""),
        complete=queries.record_is_complete(session, counts),
        marking_opens_at=operations.marking_opens_at(session),
        materials=links.get_materials(session), quizzes=links.get_quizzes(session),
        recording=links.get_recording(session), manage=True,
        reflections=_reflection_counts(session) if not draft else None)


def _reflection_counts(session) -> dict[str, int]:
    from studyhall.study.reflection_queries import get_queue_counts
    from studyhall.study.reflection_targets import SessionTarget

    return get_queue_counts(SessionTarget(session))


@bp.route("/manage/sessions/<int:session_id>/audience", methods=["GET", "POST"])
@staff_required
def edit_session_audience(session_id: int):
    """应到人员 before publication: units (with subtrees) and/or named people, optionally
    some 政治面貌 only; the list below shows who that is."""
    session = _session_or_404(session_id)
    if session.status is not SessionStatus.DRAFT:
        flash(_("Once published, a session keeps its expected attendees."), "error")
        return redirect(url_for("sessions.show_managed_session", session_id=session.id))
    form = AudienceForm.for_audience(session.audience, current_user)
    if form.validate_on_submit():
        operations.set_audience(session, form.values())
        db.session.flush()
        flash(_("Saved: %(n)d people expected now.", n=sum(
            len(p) for _u, p in queries.get_audience_preview(session, current_user))),
            "success")
        return redirect(url_for("sessions.edit_session_audience", session_id=session.id))
    preview = queries.get_audience_preview(session, current_user)
    return render_template("sessions/manage/session_audience.html", session=session,
                           form=form, preview=preview, statuses=PoliticalStatus,
                           count=sum(len(p) for _u, p in preview))


@bp.route("/manage/sessions/<int:session_id>/publish", methods=["GET", "POST"])
@staff_required
def publish_session(session_id: int):
    """GET: who will be expected; POST: publish, which fixes them."""
    session = _session_or_404(session_id)
    if session.status is not SessionStatus.DRAFT:
        return redirect(url_for("sessions.show_managed_session", session_id=session.id))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            expected = operations.publish_session(current_user, session)
        except SessionError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("Published: %(n)d people expected. They see it in “My sessions”.",
                    n=expected), "success")
            return redirect(url_for("sessions.show_managed_session", session_id=session.id))
    preview = queries.get_audience_preview(session, current_user)
    return render_template("sessions/manage/session_publish.html", session=session,
                           form=form, preview=preview, labels=LABELS,
                           count=sum(len(p) for _u, p in preview))


@bp.route("/manage/sessions/<int:session_id>/cancel", methods=["POST"])
@staff_required
def cancel_session(session_id: int):
    session = _session_or_404(session_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operations.cancel_session(current_user, session)
    except SessionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("The session is cancelled."), "success")
    return redirect(url_for("sessions.show_managed_session", session_id=session.id))


# --- Printed sheets -------------------------------------------------------------------------

@bp.route("/manage/sessions/<int:session_id>/sign-in-sheet")
@login_required
def print_sign_in_sheet(session_id: int):
    """签到表 before the meeting: names by unit and a column to sign."""
    session = _printable_or_404(session_id)
    return render_template("sessions/manage/sign_in_sheet.html", session=session,
                           labels=LABELS, roster=queries.get_roster(session),
                           counts=queries.get_counts(session), excused=AttendanceStatus.EXCUSED)


@bp.route("/manage/sessions/<int:session_id>/attendance-record")
@login_required
def print_attendance_record(session_id: int):
    """The attendance record after the meeting: figures, names by status, the roster."""
    session = _printable_or_404(session_id)
    roster = queries.get_roster(session)
    by_status: dict = {status: [] for status in AttendanceStatus}
    unmarked = []
    for group in roster:
        for row in group.rows:
            (by_status[row.status] if row.status else unmarked).append(row)
    return render_template("sessions/manage/attendance_record.html", session=session,
                           labels=LABELS, roster=roster, by_status=by_status,
                           unmarked=unmarked, counts=queries.get_counts(session),
                           statuses=AttendanceStatus)


def _printable_or_404(session_id: int):
    """Managers and the recorder print a published session's sheets."""
    session = permissions.load_record_session_or_404(current_user, session_id)
    if session.status is SessionStatus.DRAFT:
        abort(404)
    return session
