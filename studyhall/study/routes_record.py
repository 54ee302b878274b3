"""学习档案: a person's learning record for a period, printable on A4."""

from __future__ import annotations

from datetime import datetime

from flask import render_template, request
from flask_login import current_user, login_required

from studyhall.auth.scope import load_person_or_404
from studyhall.model_helpers import utcnow
from studyhall.sessions.plans import local_zone
from studyhall.study import bp, record
from studyhall.study.routes_reading import duration


def _show(person, staff_view: bool):
    now = utcnow()
    today = datetime.now(local_zone()).date()
    period = record.parse_period(request.args.get("start"), request.args.get("end"), today)
    found = record.get_learning_record(person, period, staff_view=staff_view, now=now)
    return render_template("study/record/record.html", record=found, period=period,
                           today=today, duration=duration, now=now)


@bp.route("/study/record")
@login_required
def show_my_record():
    return _show(current_user, staff_view=False)


@bp.route("/study/record/<int:person_id>")
@login_required
def show_record(person_id: int):
    """Anyone's record for staff whose scope holds them; one's own for everybody."""
    if person_id == current_user.id:
        return _show(current_user, staff_view=False)
    return _show(load_person_or_404(current_user, person_id), staff_view=True)
