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
    """200 when the database answers a query; 503 when it does not, "busy" (locked past
    the timeout, no free connection) or "unavailable" (cannot be reached). The status
    code is what a load balancer acts on.

    It also compares this host's clock with the database's, the one all hosts share:
    with several app hosts each decides deadlines by its own clock, so a host whose clock
    has drifted gives its takers more or less time than the others. A difference past
    HEALTH_CLOCK_SKEW_SECONDS reads ``"clock": "skewed"`` with the seconds, for the
    monitoring to raise; the answer stays 200, because it is just as likely the
    database's clock that drifted, and then every app host would report it at once: a
    503 would take the whole city out over a few seconds."""
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
        return jsonify(status="ok", database="ok", clock="skewed", clock_skew_seconds=skew)
    return jsonify(status="ok", database="ok", clock="ok")


def clock_skew(database_now: datetime, host_now: datetime) -> float:
    """Seconds this host's clock is ahead of the database's (negative: behind).
    PostgreSQL gives its time with a zone; SQLite gives UTC without one, to the second."""
    if database_now.tzinfo is not None:
        database_now = database_now.astimezone(UTC).replace(tzinfo=None)
    return (host_now - database_now).total_seconds()
