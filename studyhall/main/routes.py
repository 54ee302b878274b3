"""The landing page for each role, the language switch and the health check."""

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import (
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
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
    """200 when the database answers a query and this host's clock agrees with the
    database's; 503 when the database does not answer, "busy" (locked past the timeout,
    no free connection) or "unavailable" (cannot be reached), or when the clocks differ
    by more than HEALTH_CLOCK_SKEW_SECONDS ("skewed"): with several app hosts each one
    decides deadlines by its own clock, so a host whose clock has drifted would give its
    takers more or less time than the others'. The database's clock is the one all
    hosts share."""
    from studyhall.errors import database_is_busy

    try:
        database_now = db.session.execute(
            sa.select(sa.func.current_timestamp(type_=sa.DateTime(timezone=True)))
        ).scalar_one()
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        return jsonify(status="error",
                       database="busy" if database_is_busy(exc) else "unavailable"), 503
    skew = clock_skew(database_now, utcnow())
    if abs(skew) > current_app.config["HEALTH_CLOCK_SKEW_SECONDS"]:
        return jsonify(status="error", database="ok", clock="skewed",
                       clock_skew_seconds=skew), 503
    return jsonify(status="ok", database="ok", clock="ok")


def clock_skew(database_now: datetime, host_now: datetime) -> float:
    """Seconds this host's clock is ahead of the database's (negative: behind).
    PostgreSQL gives its time with a zone; SQLite gives UTC without one, to the second."""
    if database_now.tzinfo is not None:
        database_now = database_now.astimezone(UTC).replace(tzinfo=None)
    return (host_now - database_now).total_seconds()
