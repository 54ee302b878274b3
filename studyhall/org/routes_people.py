"""People: the list, and creating, editing, moving, deactivating, resetting passwords."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import load_unit_or_404
from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.org import bp, operations, permissions, queries
from studyhall.org.forms import PersonForm, status_choices
from studyhall.org.models import PoliticalStatus, Role
from studyhall.org.permissions import load_manageable_person_or_404


@bp.route("/manage/people")
@staff_required
def list_people():
    """Search by name or account; filter by unit (with sub-units), status and state."""
    args = request.args
    unit = load_unit_or_404(current_user, args.get("unit", type=int)) if args.get("unit") else None
    status = PoliticalStatus(args["status"]) if args.get("status") in {
        s.value for s in PoliticalStatus} else None
    state = args.get("state", "active")
    active = {"active": True, "inactive": False}.get(state)
    query = queries.query_people(current_user, search=args.get("q", "")[:50], unit=unit,
                                 status=status, active=active)
    page = db.paginate(query, per_page=current_app.config["PEOPLE_PER_PAGE"], error_out=False)
    return render_template(
        "org/manage/person_list.html", page=page, unit=unit, status=status, state=state,
        units=queries.get_units_for_picker(current_user), statuses=status_choices(),
        can_manage=lambda person: permissions.can_manage_person(current_user, person),
    )


def _person_form(person=None) -> PersonForm:
    form = PersonForm(obj=person, person=person,
                      unit_choices=queries.get_units_for_picker(current_user))
    if not permissions.can_change_roles(current_user):
        del form.role
        del form.managed_unit_ids
    if person is not None and not form.is_submitted():
        form.political_status.data = person.political_status.value
        if "role" in form:
            form.role.data = person.role.value
            form.managed_unit_ids.data = [u.id for u in person.managed_units]
    return form


def _apply_role(form: PersonForm, person) -> bool:
    """Apply the role fields; False (with the reason on the form) if the rules refuse."""
    if "role" not in form:
        return True
    units = [load_unit_or_404(current_user, uid) for uid in form.managed_unit_ids.data]
    try:
        operations.set_role(current_user, person, Role(form.role.data), units)
    except operations.OrgError as exc:
        db.session.rollback()
        form.managed_unit_ids.errors.append(str(exc))
        return False
    return True


@bp.route("/manage/people/new", methods=["GET", "POST"])
@staff_required
def create_person():
    form = _person_form()
    if request.method == "GET" and request.args.get("unit", type=int):
        form.unit_id.data = request.args.get("unit", type=int)
    if form.validate_on_submit():
        unit = load_unit_or_404(current_user, form.unit_id.data)
        person, password = operations.create_person(
            account=form.account.data, name=form.name.data, unit=unit, phone=form.phone.data,
            political_status=PoliticalStatus(form.political_status.data))
        db.session.flush()
        if _apply_role(form, person):
            return render_template("org/manage/password_shown.html", person=person,
                                   password=password, created=True)
    return render_template("org/manage/person_edit.html", form=form, person=None)


@bp.route("/manage/people/<int:person_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_person(person_id: int):
    person = load_manageable_person_or_404(current_user, person_id)
    form = _person_form(person)
    if form.validate_on_submit():
        if person.id == current_user.id and "role" in form:
            # Nobody removes their own admin rights by accident.
            form.role.data = person.role.value
            form.managed_unit_ids.data = [u.id for u in person.managed_units]
        unit = load_unit_or_404(current_user, form.unit_id.data)
        person.account, person.name = form.account.data, form.name.data
        person.phone = form.phone.data or None
        person.political_status = PoliticalStatus(form.political_status.data)
        operations.move_person(current_user, person, unit)
        if _apply_role(form, person):
            flash(_("Saved."), "success")
            return redirect(url_for("org.list_people", unit=person.unit_id))
    return render_template("org/manage/person_edit.html", form=form, person=person,
                           action_form=ConfirmForm())


@bp.route("/manage/people/<int:person_id>/<any(activate, deactivate):action>", methods=["POST"])
@staff_required
def change_person_state(person_id: int, action: str):
    person = load_manageable_person_or_404(current_user, person_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        operations.set_person_active(current_user, person, action == "activate")
    except operations.OrgError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("org.edit_person", person_id=person.id))
    flash(_("%(name)s reactivated.", name=person.name) if action == "activate"
          else _("%(name)s deactivated.", name=person.name), "success")
    return redirect(url_for("org.edit_person", person_id=person.id))


@bp.route("/manage/people/<int:person_id>/reset-password", methods=["POST"])
@staff_required
def reset_password(person_id: int):
    """A new random password, shown once; the person must change it at next login."""
    person = load_manageable_person_or_404(current_user, person_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if person.id == current_user.id:
        flash(_("Change your own password from your account page."), "error")
        return redirect(url_for("org.edit_person", person_id=person.id))
    password = operations.reset_password(current_user, person)
    return render_template("org/manage/password_shown.html", person=person, password=password,
                           created=False)
