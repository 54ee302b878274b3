"""Server-side login sessions: a row per signed-in browser, checked on every request.

The signed session cookie and the remember-me cookie carry only the row's random id
(Flask-Login keeps it as the session's user id), so signing out deletes the row and every
copy of either cookie stops working at once; a password change or a deactivation bumps
the person's ``session_version`` and so ends every session opened before. A session also
ends after PERMANENT_SESSION_LIFETIME unused (REMEMBER_COOKIE_DURATION with "keep me
signed in"). ``last_seen_at`` is written at most every LOGIN_SESSION_TOUCH_SECONDS, after
the response, in its own short transaction: the answer-save hot path gets no extra write.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, g, request, session
from flask_login import login_user, logout_user

from studyhall.auth.models import LoginSession
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person

#: Built once: every request of a signed-in person runs it.
_PERSON_BY_SESSION = (
    sa.select(Person, LoginSession.remember, LoginSession.last_seen_at)
    .join(LoginSession, LoginSession.person_id == Person.id)
    .where(LoginSession.id == sa.bindparam("session_id"),
           LoginSession.session_version == Person.session_version,
           Person.is_active)
)


def _idle_limit(remember: bool) -> timedelta:
    config = current_app.config
    return config["REMEMBER_COOKIE_DURATION" if remember else "PERMANENT_SESSION_LIFETIME"]


def sign_in(person: Person, *, remember: bool = False) -> LoginSession:
    """Open a login session for ``person`` on this browser."""
    _purge(person)
    row = LoginSession(id=secrets.token_urlsafe(32), person_id=person.id,
                       session_version=person.session_version, remember=remember,
                       user_agent=request.user_agent.string[:200],
                       ip=(request.remote_addr or "")[:45])
    db.session.add(row)
    login_user(person, remember=remember)
    # Flask-Login stores the user's id in the session and copies it into the remember-me
    # cookie; both carry the login session's id instead, which the loader looks up.
    session["_user_id"] = row.id
    g.login_session_id = row.id
    return row


def _purge(person: Person) -> None:
    """Delete sessions nobody can use any more: the person's from before their last
    password change or deactivation, and everyone's long unused ones."""
    cutoff = utcnow() - max(_idle_limit(True), _idle_limit(False))
    db.session.execute(
        sa.delete(LoginSession)
        .where(sa.or_(LoginSession.last_seen_at < cutoff,
                      sa.and_(LoginSession.person_id == person.id,
                              LoginSession.session_version != person.session_version)))
        .execution_options(synchronize_session=False))


def load_person(session_id: str) -> Person | None:
    """The person signed in by ``session_id``, or None if that session has ended."""
    if not session_id or len(session_id) > 64:
        return None
    found = db.session.execute(_PERSON_BY_SESSION, {"session_id": session_id}).first()
    if found is None:
        return None
    person, remember, last_seen_at = found
    now = utcnow()
    if last_seen_at < now - _idle_limit(remember):
        return None
    g.login_session_id = session_id
    touch_every = timedelta(seconds=current_app.config["LOGIN_SESSION_TOUCH_SECONDS"])
    if now - last_seen_at >= touch_every:
        g.touch_login_session = session_id
    return person


def current_session_id() -> str | None:
    return g.get("login_session_id")


def touch_after_request() -> None:
    """Record that the current session was used, when it is due, in a transaction of its
    own after the request's (which may have been a read, or rolled back)."""
    session_id = g.pop("touch_login_session", None)
    if session_id is None:
        return
    try:
        with db.engine.begin() as connection:
            connection.execute(sa.update(LoginSession).where(LoginSession.id == session_id)
                               .values(last_seen_at=utcnow()))
    except sa.exc.SQLAlchemyError:
        # Only bookkeeping: the next request tries again.
        current_app.logger.warning("Could not record the use of a login session",
                                   exc_info=True)


def sign_out() -> None:
    """End this browser's session: the row goes, so copies of its cookies stop working."""
    session_id = current_session_id() or session.get("_user_id")
    if session_id:
        db.session.execute(sa.delete(LoginSession).where(LoginSession.id == session_id)
                           .execution_options(synchronize_session=False))
    logout_user()


def end_other_sessions(person: Person) -> int:
    """Sign ``person`` out everywhere but this browser; how many sessions ended."""
    query = sa.delete(LoginSession).where(LoginSession.person_id == person.id)
    keep = current_session_id()
    if keep:
        query = query.where(LoginSession.id != keep)
    result = db.session.execute(query.execution_options(synchronize_session=False))
    return result.rowcount


def restart_after_password_change(person: Person) -> None:
    """A new password (which bumped the session version) ends every session of
    ``person``; this browser gets a new one and keeps its "keep me signed in" choice."""
    old_id = current_session_id()
    remember = bool(old_id) and bool(db.session.scalar(
        sa.select(LoginSession.remember).where(LoginSession.id == old_id)))
    sign_in(person, remember=remember)
    end_other_sessions(person)


def list_sessions(person: Person) -> list[LoginSession]:
    """The person's open sessions, the most recently used first."""
    rows = db.session.scalars(
        sa.select(LoginSession)
        .where(LoginSession.person_id == person.id,
               LoginSession.session_version == person.session_version)
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.created_at.desc()))
    now = utcnow()
    return [row for row in rows if row.last_seen_at >= now - _idle_limit(row.remember)]


_BROWSERS = (("MicroMessenger", _l("WeChat")), ("DingTalk", _l("DingTalk")), ("Edg", "Edge"),
             ("Firefox", "Firefox"), ("Chrome", "Chrome"), ("Safari", "Safari"))
_SYSTEMS = (("iPhone", "iPhone"), ("iPad", "iPad"), ("Android", "Android"),
            ("Windows", "Windows"), ("Mac OS", "macOS"), ("Linux", "Linux"))


def describe_device(user_agent: str) -> str:
    """"Chrome · Windows" from a User-Agent header, for the list of signed-in devices."""
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), "")
    return " · ".join(str(part) for part in (browser, system) if part)
