"""Error pages: friendly, in the user's language, and JSON for JSON clients."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from studyhall.extensions import db, login_manager

#: What a database that is locked, stopped, restarting or out of connections raises:
#: OperationalError (locked, refused, the server gone mid-query), InterfaceError (a
#: connection the server already closed), the pool's TimeoutError (no free connection).
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)


class InsufficientStorage(HTTPException):
    """507: the disk a file is written to is full (werkzeug has no class for it)."""

    code = 507
    description = "Insufficient Storage"


def wants_json() -> bool:
    """Whether the client asked for JSON (the exam page's autosave does): it gets JSON
    errors, and a 401 rather than a redirect to the login page."""
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _render(status: int, title: str, message: str, headers: dict | None = None):
    if wants_json():
        return jsonify(error=title, message=message), status, headers or {}
    try:
        page = render_template("errors/error.html", status=status, title=title,
                               message=message)
    except SQLAlchemyError:
        # The page's menu reads the database (the signed-in person, the to-do count):
        # when that is what failed, the error page is drawn as for a visitor, with no
        # query at all, rather than failing in turn and leaving a bare traceback page.
        _forget_database_work()
        page = render_template("errors/error.html", status=status, title=title,
                               message=message)
    return page, status, headers or {}


def _forget_database_work() -> None:
    """Drop the failed transaction and draw what follows without the database: an
    anonymous visitor and no to-do count."""
    try:
        db.session.rollback()
    except SQLAlchemyError:  # the connection is gone: nothing to roll back
        db.session.close()
    g._login_user = login_manager.anonymous_user()
    g.todo_count = 0


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood. Please go back and "
                                  "try again.")),
        403: (_("Not allowed"), _("You do not have permission to open this page.")),
        404: (_("Page not found"), _("The page does not exist, or it is not open to you.")),
        405: (_("Not allowed"), _("This action is not allowed here.")),
        413: (_("File too large"), _("The file is larger than the upload limit. Split it or "
                                     "remove unused sheets and try again.")),
        429: (_("Too many attempts"), _("Please wait a moment and try again.")),
        500: (_("Something went wrong"), _("The server hit an error. Nothing you saved has been "
                                          "lost; please try again in a moment.")),
        507: (_("Disk full"), _("The server's disk is full: nothing was saved or built. "
                                "Tell the administrator.")),
        503: (_("Busy, please retry"), _("The server is busy. Please try again in a few "
                                         "seconds.")),
    }


#: SQLSTATEs of a PostgreSQL that is up but could not serve this request now: a lock or
#: statement timeout, a serialization failure or deadlock (retry), too many connections.
_BUSY_SQLSTATES = frozenset({"55P03", "57014", "40001", "40P01", "53300"})


def database_is_busy(error: Exception) -> bool:
    """Whether the database is there but busy (SQLite's lock past the busy timeout, a
    PostgreSQL lock or statement timeout, every pooled connection in use), rather than
    unreachable (a refused or closed connection, a file that cannot be opened). The page
    says which: a lock passes in seconds; a stopped database needs the administrator."""
    if isinstance(error, PoolTimeoutError):
        return True
    if not isinstance(error, OperationalError):
        return False  # InterfaceError: a connection the server already closed
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    text = str(original if original is not None else error).lower()
    return "database is locked" in text or "database table is locked" in text \
        or "database is busy" in text


def _unavailable_message(busy: bool) -> tuple[str, str]:
    if busy:
        return _messages()[503]
    return (_("Database unavailable"),
            _("The server cannot reach its database at the moment, so nothing can be "
              "opened or saved. Please try again in a minute; if it lasts, tell the "
              "administrator."))


def handle_http_error(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    if isinstance(getattr(error, "original_exception", None), UNAVAILABLE):
        # Raised where no handler catches it, e.g. the request's commit after the view.
        return handle_operational_error(error.original_exception)
    title, message = _messages().get(error.code, (error.name, error.description or ""))
    if error.code == 400 and getattr(error, "description", "").startswith("The CSRF"):
        message = _("The form expired. Reload the page and submit it again.")
    return _render(error.code, title, message)


def handle_operational_error(error: Exception):
    """A locked or unreachable database answers 503 with Retry-After, never a traceback:
    a page in the person's language that says which (busy: retry in seconds; the
    database unreachable: retry in a minute, tell the administrator), JSON for the exam
    page's autosave, /healthz's own JSON for a load balancer. Nothing was written: the
    client may send it again."""
    busy = database_is_busy(error)
    current_app.logger.warning("Database %s on %s %s: %s",
                               "busy" if busy else "unavailable", request.method,
                               request.path, str(error).splitlines()[0][:200])
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.close()
    # The page still reads (the menu's counts): as a reader, in a deferred transaction, so
    # that it does not queue again for the write lock that just timed out.
    g.writes, g.reads_first = False, True
    headers = {"Retry-After": "2"}
    if request.endpoint == "main.healthz":
        return jsonify(status="error", database="busy" if busy else "unavailable"), 503, \
            headers
    title, message = _unavailable_message(busy)
    return _render(503, title, message, headers)


def handle_unexpected(error: Exception):
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.close()
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    # The person sees a calm page; the operator gets the traceback.
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    title, message = _messages()[500]
    return _render(500, title, message)


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    for kind in UNAVAILABLE:
        app.register_error_handler(kind, handle_operational_error)
    if not app.debug and not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
