"""Two threads reading one snapshot of the database: the score sheet's people written in
the caller's thread while its figures are computed in another (exports/scores.py), with
every sheet of the file reading the same data even while an exam runs and commits.

- PostgreSQL: the caller's transaction is REPEATABLE READ and exports its snapshot
  (``pg_export_snapshot()``, as pg_dump's parallel workers do); the other thread's
  transaction imports it (``SET TRANSACTION SNAPSHOT``) before its first read.
- SQLite (WAL): a read transaction sees the database as it was at its first read. While
  a third connection holds the write lock (``BEGIN IMMEDIATE``, which waits for any
  writer to finish), nobody can commit, so both threads begin their reads on the same
  state; the lock is then given back. It is held for the two first reads only (a few
  milliseconds: a save of a running exam waits that long on its busy timeout).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable

import sqlalchemy as sa

from studyhall.extensions import db

_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f]+(-[0-9A-Fa-f]+)+$")


def shareable() -> bool:
    """Whether another connection can read what this one reads (not so for an
    in-memory SQLite database: each connection has its own)."""
    url = db.engine.url
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))


def _first_read() -> None:
    """Begin the session's transaction with a read (SQLite takes its snapshot there)."""
    db.session.execute(sa.text("SELECT 1 FROM unit LIMIT 1")).all()


def run_beside(begin_other: Callable[[Callable[[], None]], threading.Thread]) -> threading.Thread:
    """Begin the caller's session on a fresh snapshot and start another thread on the
    same one. ``begin_other(join)`` starts the thread and returns it; that thread calls
    ``join()`` in its own app context before it reads anything (``join`` raises there if
    the snapshot cannot be shared). Returns once the other thread has joined (or failed:
    its error is its own to report).

    The caller's session is rolled back first and marked as only reading (an export):
    on SQLite its transactions begin deferred, as they must beside the lock taken here.
    Objects it holds are read again in the new transaction."""
    from studyhall.database import read_only

    joined = threading.Event()
    read_only()
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        snapshot = db.session.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
        if not _SNAPSHOT_ID.match(snapshot):
            raise RuntimeError(f"unexpected snapshot id {snapshot!r}")

        def join() -> None:
            try:
                db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                db.session.execute(sa.text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            finally:
                joined.set()

        return _started(begin_other(join), joined)

    lock = db.engine.raw_connection()
    locked = False
    try:
        lock.cursor().execute("BEGIN IMMEDIATE")
        locked = True
        _first_read()

        def join() -> None:
            try:
                _first_read()
            finally:
                joined.set()

        return _started(begin_other(join), joined)
    finally:
        try:
            if locked:
                lock.cursor().execute("ROLLBACK")
        finally:
            lock.close()


def _started(thread: threading.Thread, joined: threading.Event) -> threading.Thread:
    """``thread`` once it has joined the snapshot, or ended without doing so."""
    while not joined.wait(0.05) and thread.is_alive():
        pass
    return thread


def read_one_snapshot() -> None:
    """Begin the caller's session on one snapshot for everything it reads until its
    transaction ends: a multi-sheet export (a background job, the inspection archive)
    whose sheets must agree with each other while an exam runs and commits.

    PostgreSQL: a REPEATABLE READ transaction (READ COMMITTED, the default, gives each
    statement a fresh snapshot, so a unit summary could count a submit its people's rows
    did not show). SQLite (WAL): one read transaction, begun here by a first read, sees
    the database as it was then. The session is marked as only reading (its SQLite
    transactions begin deferred, so writers are never held up); objects it holds are read
    again. The caller must not commit or roll back until it has read everything."""
    from studyhall.database import read_only

    read_only()
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        # A session bound to a connection whose transaction someone else began (a test
        # joining its session into an outer transaction) keeps that one's isolation; the
        # app's sessions always begin their own after the rollback above.
        with contextlib.suppress(sa.exc.InvalidRequestError):
            db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    _first_read()
