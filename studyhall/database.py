"""The request's one transaction, per-connection settings for SQLite, and its write
transactions.

Each request is one transaction, committed in one place (as indico's request handler
does): after the view returned, ``_end_transaction`` commits if the response is a success
or a redirect and rolls back if it is an error. Views and operations change and flush;
they never commit. A view whose error response must still keep a write (an expired
attempt finished on the way to a refusal) calls :func:`keep_changes`.

SQLite (PERFORMANCE.md traps 2 and 3): WAL, a busy timeout and foreign keys are set once
per pooled connection; a transaction that will write starts with BEGIN IMMEDIATE, so two
writers queue on the busy timeout instead of one failing with "database is locked" when
it upgrades a read lock. Reads (GET requests) begin deferred and never block writers.
"""

from __future__ import annotations

from flask import (
    Flask,
    Response,
    g,
    has_app_context,
    has_request_context,
    make_response,
    request,
)
from sqlalchemy import event

from studyhall.extensions import db

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure(app: Flask) -> None:
    app.after_request(_end_transaction)
    _configure_engine(app)


#: Set on the response by security.py before the commit: kept on a 503 that replaces it.
_KEPT_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
                 "Referrer-Policy", "Strict-Transport-Security")


def _end_transaction(response: Response) -> Response:
    from studyhall.errors import UNAVAILABLE, handle_operational_error

    try:
        if response.status_code < 400 or g.get("keep_changes"):
            db.session.commit()
        else:
            db.session.rollback()
    except UNAVAILABLE as exc:
        # The database went away between the view and the commit (stopped, restarted, a
        # lock past the timeout): nothing is acknowledged, the client is told to retry.
        replaced = make_response(handle_operational_error(exc))
        for name in _KEPT_HEADERS:
            if name in response.headers:
                replaced.headers[name] = response.headers[name]
        return replaced
    return response


def keep_changes() -> None:
    """Commit this request's changes even though it answers with an error."""
    g.keep_changes = True


def _configure_engine(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    busy_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])
    synchronous = app.config["SQLITE_SYNCHRONOUS"]
    in_memory = engine.url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        writes = (not has_request_context() or g.get("writes")
                  or (request.method not in READ_ONLY_METHODS and not g.get("reads_first")))
        if has_app_context() and g.get("read_only"):
            writes = False
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    @app.before_request
    def _mark_reads_first():
        # Registered before every other hook, so it runs before the user is loaded.
        if getattr(app.view_functions.get(request.endpoint), "reads_first", False):
            g.reads_first = True


def read_only() -> None:
    """Mark a command that only reads (an export): its transactions begin deferred, so
    on SQLite it never holds the write lock while it reads for seconds."""
    g.read_only = True


def reads_first(view):
    """Mark a write view that does its reading first: its first transaction begins
    deferred, and it calls start_writing() before it writes. On SQLite the write lock is
    then held only for the writes (the exam start draws its paper outside it)."""
    view.reads_first = True
    return view


def start_writing() -> None:
    """A GET that turns out to need a write (finishing an expired attempt) ends its read
    transaction and starts again as a writer. Upgrading a WAL read transaction to a write
    fails at once with "database is locked" if anyone wrote in between; a fresh
    BEGIN IMMEDIATE waits its turn instead. Harmless on PostgreSQL."""
    db.session.rollback()
    g.writes = True
