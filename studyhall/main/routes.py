"""The landing page for each role, the language switch and the health check."""

import sqlalchemy as sa
from flask import jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from studyhall.auth.scope import scope_roots
from studyhall.extensions import db
from studyhall.main import bp
from studyhall.model_helpers import utcnow
from studyhall.org import queries
from studyhall.org.models import Role
from studyhall.org.sorting import unit_sort_key
from studyhall.sessions.queries import get_dashboard_sessions
from studyhall.study.models import LABELS as STUDY_LABELS
from studyhall.study.queries import get_todo
from studyhall.urls import safe_next


@bp.route("/")
@login_required
def index():
    """Each role lands on its own dashboard."""
    now = utcnow()
    # One to-do list across study assignments and quizzes (staff read and take too).
    todo = get_todo(current_user, now)
    if current_user.role is Role.TEACHER:
        return render_template("main/dashboard_teacher.html", todo=todo, now=now,
                               labels=STUDY_LABELS,
                               sessions=get_dashboard_sessions(current_user, now))
    summaries = queries.get_compositions(sorted(scope_roots(current_user), key=unit_sort_key))
    tree = queries.get_unit_tree(current_user) if current_user.role is Role.ADMIN else None
    return render_template("main/dashboard_staff.html", summaries=summaries, tree=tree,
                           todo=todo, labels=STUDY_LABELS,
                           sessions=get_dashboard_sessions(current_user, now))


@bp.route("/lang/<any(zh_CN, en):code>")
def set_language(code: str):
    target = safe_next(request.args.get("next")) or url_for("main.index")
    response = make_response(redirect(target))
    response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.route("/healthz")
def healthz():
    """200 when the database answers a query, 503 when it does not: "busy" (locked past
    the timeout, no free connection) or "unavailable" (cannot be reached)."""
    from studyhall.errors import database_is_busy

    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        return jsonify(status="error",
                       database="busy" if database_is_busy(exc) else "unavailable"), 503
    return jsonify(status="ok", database="ok")
