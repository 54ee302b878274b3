"""Unit pages: the tree, a unit's make-up, and managing units."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import load_unit_or_404
from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.model_helpers import path_in_subtree, utcnow
from studyhall.org import bp, operations, permissions, queries
from studyhall.org.forms import UnitForm
from studyhall.org.models import UnitKind


@bp.route("/manage/units")
@staff_required
def list_units():
    tree = queries.get_unit_tree(current_user)
    return render_template("org/manage/unit_list.html", tree=tree,
                           can_create_top=permissions.can_create_top_units(current_user))


@bp.route("/units/<int:unit_id>")
@staff_required
def show_unit(unit_id: int):
    """A unit's make-up over its subtree, in the words of a work report."""
    # Imported here: the sessions package imports routes that import org's.
    from studyhall.sessions.plans import Period
    from studyhall.sessions.queries_record import get_unit_sessions_by_kind

    unit = load_unit_or_404(current_user, unit_id)
    now = utcnow()
    period = Period.parse(request.args.get("period")) or Period.current(now)
    return render_template(
        "org/unit_show.html", unit=unit, composition=queries.get_composition(unit),
        session_period=period, sessions_by_kind=get_unit_sessions_by_kind(unit, period, now),
        breadcrumb=queries.get_breadcrumb(current_user, unit),
        by_child=queries.get_composition_by_child(unit),
        action_form=ConfirmForm(), can_move=permissions.can_move_unit(current_user, unit),
    )


def _parent_choices(exclude_path: str | None = None):
    return [(uid, label) for uid, label, path in
            ((n.unit.id, "\u3000" * n.depth + n.unit.name, n.unit.path)
             for n in queries.get_unit_tree(current_user, include_inactive=False))
            if exclude_path is None or not path_in_subtree(path, exclude_path)]


@bp.route("/manage/units/new", methods=["GET", "POST"])
@staff_required
def create_unit():
    form = UnitForm(parent_choices=_parent_choices(),
                    allow_root=permissions.can_create_top_units(current_user))
    if form.validate_on_submit():
        parent_id = form.parent_id.data
        parent = load_unit_or_404(current_user, parent_id) if parent_id else None
        if _name_taken(parent, form.name.data):
            form.name.errors.append(_("A unit with this name already exists there."))
        else:
            unit = operations.create_unit(parent, form.name.data, UnitKind(form.kind.data),
                                          form.sort_order.data or 0)
            flash(_("Unit “%(name)s” created.", name=unit.name), "success")
            return redirect(url_for("org.show_unit", unit_id=unit.id))
    return render_template("org/manage/unit_edit.html", form=form, unit=None)


def _name_taken(parent, name: str, unit=None) -> bool:
    siblings = parent.children if parent else queries.get_top_units()
    return any(s.name == name.strip() and s is not unit for s in siblings)


@bp.route("/manage/units/<int:unit_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_unit(unit_id: int):
    unit = load_unit_or_404(current_user, unit_id)
    can_move = permissions.can_move_unit(current_user, unit)
    form = UnitForm(obj=unit, parent_choices=_parent_choices(exclude_path=unit.path),
                    allow_root=permissions.can_create_top_units(current_user))
    if not can_move:
        del form.parent_id
    if form.is_submitted() is False:
        form.kind.data = unit.kind.value
        if can_move:
            form.parent_id.data = unit.parent_id or 0
    if form.validate_on_submit():
        parent = unit.parent
        if can_move:
            parent = (load_unit_or_404(current_user, form.parent_id.data)
                      if form.parent_id.data else None)
        if _name_taken(parent, form.name.data, unit):
            form.name.errors.append(_("A unit with this name already exists there."))
        else:
            try:
                operations.update_unit(unit, name=form.name.data, kind=UnitKind(form.kind.data),
                                       sort_order=form.sort_order.data or 0)
                if can_move:
                    operations.move_unit(unit, parent)
            except operations.OrgError as exc:
                db.session.rollback()
                flash(str(exc), "error")
            else:
                flash(_("Unit saved."), "success")
                return redirect(url_for("org.show_unit", unit_id=unit.id))
    return render_template("org/manage/unit_edit.html", form=form, unit=unit)


@bp.route("/manage/units/<int:unit_id>/<any(activate, deactivate, delete):action>",
          methods=["POST"])
@staff_required
def change_unit_state(unit_id: int, action: str):
    unit = load_unit_or_404(current_user, unit_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired. Reload the page and submit it again."), "error")
        return redirect(url_for("org.show_unit", unit_id=unit.id))
    parent_id = unit.parent_id
    try:
        if action == "delete":
            if not permissions.can_move_unit(current_user, unit):
                flash(_("Only someone who manages its parent unit can delete this unit."),
                      "error")
                return redirect(url_for("org.show_unit", unit_id=unit.id))
            operations.delete_unit(unit)
        else:
            operations.set_unit_active(unit, action == "activate")
    except operations.OrgError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("org.show_unit", unit_id=unit.id))
    flash({"activate": _("Unit reactivated."), "deactivate": _("Unit deactivated."),
           "delete": _("Unit deleted.")}[action], "success")
    if action == "delete":
        return redirect(url_for("org.show_unit", unit_id=parent_id) if parent_id
                        else url_for("org.list_units"))
    return redirect(url_for("org.show_unit", unit_id=unit.id))
