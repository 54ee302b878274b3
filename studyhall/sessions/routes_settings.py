"""A unit's sessions settings: the record deadline in working days, set by whoever
manages the unit, inherited down the tree (settings.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import load_unit_or_404
from studyhall.org.queries import get_units_for_picker
from studyhall.sessions import bp, settings
from studyhall.sessions.forms import UnitSettingsForm


@bp.route("/manage/sessions/settings", methods=["GET", "POST"])
@staff_required
def edit_unit_settings():
    """?unit=ID (default: the first unit of the viewer's scope): its own value, the one
    that applies and where it comes from; POST saves (empty: inherit)."""
    units = get_units_for_picker(current_user)
    unit_id = request.args.get("unit", type=int) or (units[0][0] if units else None)
    unit = load_unit_or_404(current_user, unit_id)
    own = settings.get_own_record_days(unit)
    form = UnitSettingsForm(data={"record_working_days": own})
    if form.validate_on_submit():
        settings.set_record_days(current_user, unit, form.record_working_days.data)
        flash(_("Saved."), "success")
        return redirect(url_for("sessions.edit_unit_settings", unit=unit.id))
    return render_template("sessions/manage/unit_settings.html", form=form, unit=unit,
                           units=units, own=own, applies=settings.get_record_days(unit),
                           default=settings.default_record_days())
