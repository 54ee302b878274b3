"""Study plans (学习计划) for staff: the list, a new plan, a plan's items with what was
held, planned vs held by kind, the quota checklist, and planned vs held per unit. Plans
of units outside the viewer's scope answer 404."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import load_unit_or_404, scope_roots
from studyhall.extensions import db
from studyhall.forms import ConfirmForm, choices
from studyhall.model_helpers import utcnow
from studyhall.org.queries import get_units_for_picker
from studyhall.sessions import bp, plans
from studyhall.sessions.forms_plans import (
    FillQuotasForm,
    LinkSessionForm,
    PlanForm,
    PlanItemForm,
)
from studyhall.sessions.models import SessionKind, StudySession
from studyhall.sessions.plans import Period, PlanError

PLANS_PER_PAGE = 30


def _period_arg(now) -> Period:
    return Period.parse(request.args.get("period")) or Period.current(now)


@bp.route("/manage/sessions/plans/")
@staff_required
def list_plans():
    now = utcnow()
    year = request.args.get("year", type=int)
    page = db.paginate(plans.query_plans(current_user, year), per_page=PLANS_PER_PAGE,
                       error_out=False)
    return render_template(
        "sessions/plans/plan_list.html", page=page, year=year,
        counts=plans.get_plan_counts([p.id for p in page.items], now),
        periods={p.id: Period.of_plan(p) for p in page.items})


@bp.route("/manage/sessions/plans/new", methods=["GET", "POST"])
@staff_required
def create_plan():
    now = utcnow()
    form = PlanForm(unit_choices=get_units_for_picker(current_user))
    if request.method == "GET":
        form.year.data = Period.current(now).year
        form.unit_id.data = request.args.get("unit", type=int)
    if form.validate_on_submit():
        unit = load_unit_or_404(current_user, form.unit_id.data)
        try:
            plan = plans.create_plan(current_user, unit, form.year.data, form.half.data,
                                     form.title.data)
        except PlanError as exc:
            db.session.rollback()
            form.half.errors.append(str(exc))
        else:
            flash(_("Study plan created. Add the sessions you plan, month by month."),
                  "success")
            return redirect(url_for("sessions.show_plan", plan_id=plan.id))
    return render_template("sessions/plans/plan_new.html", form=form)


def _plan_page(plan, item_form=None, quota_form=None, status=200):
    now = utcnow()
    period = Period.of_plan(plan)
    candidates = plans.get_link_candidates(plan)
    return render_template(
        "sessions/plans/plan_show.html", plan=plan, period=period, now=now,
        now_month=plans.local_month(now),
        lines=plans.get_item_lines(plan, now),
        by_kind=plans.get_plan_vs_held(plan, now),
        checklist=plans.get_quota_checklist(plan.unit, period, now),
        units=plans.get_units_plan_vs_held(plan.unit, period, now)
        if plan.unit.children else None,
        quota_kinds=list(plans.QUOTAS), candidates=candidates,
        item_form=item_form or PlanItemForm(months=period.months, formdata=None),
        quota_form=quota_form or FillQuotasForm(formdata=None), form=ConfirmForm(),
    ), status


@bp.route("/manage/sessions/plans/<int:plan_id>")
@staff_required
def show_plan(plan_id: int):
    return _plan_page(plans.load_plan_or_404(current_user, plan_id))


@bp.route("/manage/sessions/plans/<int:plan_id>/items", methods=["POST"])
@staff_required
def add_plan_item(plan_id: int):
    plan = plans.load_plan_or_404(current_user, plan_id)
    form = PlanItemForm(months=Period.of_plan(plan).months)
    if form.validate_on_submit():
        try:
            plans.add_item(plan, SessionKind(form.kind.data), form.month.data, form.topic.data)
        except PlanError as exc:
            db.session.rollback()
            form.topic.errors.append(str(exc))
        else:
            flash(_("Item added to the plan."), "success")
            return redirect(url_for("sessions.show_plan", plan_id=plan.id) + "#items")
    return _plan_page(plan, item_form=form, status=422)


@bp.route("/manage/sessions/plans/<int:plan_id>/quotas", methods=["POST"])
@staff_required
def fill_plan_quotas(plan_id: int):
    plan = plans.load_plan_or_404(current_user, plan_id)
    form = FillQuotasForm()
    if not form.validate_on_submit():
        return _plan_page(plan, quota_form=form, status=422)
    added = plans.fill_quotas(plan, form.topic.data)
    flash(_("%(n)d required meetings added to the plan; give each its topic.", n=added)
          if added else _("The plan already has every required meeting."), "success")
    return redirect(url_for("sessions.show_plan", plan_id=plan.id) + "#items")


@bp.route("/manage/sessions/plans/<int:plan_id>/items/<int:item_id>/remove", methods=["POST"])
@staff_required
def remove_plan_item(plan_id: int, item_id: int):
    plan = plans.load_plan_or_404(current_user, plan_id)
    if ConfirmForm().validate_on_submit():
        try:
            plans.remove_item(plan, item_id)
        except PlanError as exc:
            flash(str(exc), "error")
        else:
            flash(_("Item removed from the plan."), "success")
    return redirect(url_for("sessions.show_plan", plan_id=plan.id) + "#items")


@bp.route("/manage/sessions/plans/<int:plan_id>/items/<int:item_id>/link", methods=["POST"])
@staff_required
def link_plan_item(plan_id: int, item_id: int):
    """Say which session carried out a planned item (0: none)."""
    plan = plans.load_plan_or_404(current_user, plan_id)
    item = next((i for i in plan.items if i.id == item_id), None)
    if item is None:
        abort(404)
    candidates = plans.get_link_candidates(plan).get(item.kind, [])
    form = LinkSessionForm()
    form.session_id.choices = choices([(0, "")] + [(s.id, s.topic) for s in candidates])
    if not form.validate_on_submit():
        flash(_("Choose one of the sessions offered."), "error")
        return redirect(url_for("sessions.show_plan", plan_id=plan.id) + "#items")
    session = db.session.get(StudySession, form.session_id.data) if form.session_id.data \
        else None
    try:
        plans.link_session(plan, item, session)
    except PlanError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("Plan item updated."), "success")
    return redirect(url_for("sessions.show_plan", plan_id=plan.id) + f"#item-{item.id}")


@bp.route("/manage/sessions/plans/overview")
@staff_required
def plans_overview():
    """Planned vs held per unit and kind, and a branch's checklist, for a period."""
    now = utcnow()
    period = _period_arg(now)
    unit_id = request.args.get("unit", type=int)
    roots = scope_roots(current_user)
    if unit_id:
        unit = load_unit_or_404(current_user, unit_id)
    elif roots:
        unit = roots[0]
    else:
        return redirect(url_for("sessions.list_plans"))
    return render_template(
        "sessions/plans/plan_overview.html", unit=unit, period=period, now=now,
        units=plans.get_units_plan_vs_held(unit, period, now),
        checklist=plans.get_quota_checklist(unit, period, now),
        quota_kinds=list(plans.QUOTAS), unit_choices=get_units_for_picker(current_user),
        period_choices=_period_choices(now))


def _period_choices(now) -> list[Period]:
    year = Period.current(now).year
    return [p for y in (year, year - 1)
            for p in (Period(y), Period(y, half=1), Period(y, half=2),
                      *(Period(y, quarter=q) for q in range(1, 5)))]
