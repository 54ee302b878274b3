"""The 503 page says what the code can tell (issue 12, the faults' left-overs): a database
that is there but locked or busy ("服务器繁忙，请几秒后重试") is not a database that cannot be
reached ("服务器暂时连不上数据库……"), which no retry in seconds will mend and the
administrator must hear of. /healthz answers 503 in both, with "busy" or "unavailable".
Before, every case said "busy"."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from studyhall.errors import database_is_busy
from studyhall.extensions import db
from tests.app.test_faults import (
    BUSY_ZH,
    DOWN_ZH,
    assert_clear_503,
    database_refusing,
    served,  # noqa: F401  (fixture)
)


def wrapped(original: Exception) -> OperationalError:
    return OperationalError("SELECT 1", {}, original)


@pytest.mark.parametrize("error, busy", [
    (wrapped(sqlite3.OperationalError("database is locked")), True),
    (wrapped(sqlite3.OperationalError("database table is locked: quiz")), True),
    (wrapped(psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")),
     True),
    (wrapped(psycopg.errors.QueryCanceled("canceling statement due to statement timeout")),
     True),
    (wrapped(psycopg.errors.DeadlockDetected("deadlock detected")), True),
    (wrapped(psycopg.errors.TooManyConnections("sorry, too many clients already")), True),
    (PoolTimeoutError("QueuePool limit of size 5 overflow 10 reached"), True),
    (wrapped(sqlite3.OperationalError("unable to open database file")), False),
    (wrapped(psycopg.OperationalError('connection to server at "127.0.0.1", port 5432 '
                                      'failed: Connection refused')), False),
    (wrapped(psycopg.OperationalError("server closed the connection unexpectedly")), False),
    (wrapped(psycopg.errors.CannotConnectNow("the database system is starting up")), False),
    (InterfaceError("SELECT 1", {}, Exception("the connection is closed")), False),
])
def test_busy_is_told_from_unreachable(error, busy):
    assert database_is_busy(error) is busy


def locked_error(app) -> Exception:
    """What this database raises when a lock outlasts its timeout."""
    with app.app_context():
        name = db.engine.dialect.name
    if name == "sqlite":
        return sqlite3.OperationalError("database is locked")
    return psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")


def test_a_lock_past_the_timeout_says_busy_and_healthz_says_busy(served):  # noqa: F811
    app, client = served
    with app.app_context():
        engine = db.engine
    error = locked_error(app)

    def locked(conn, cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
            raise error

    event.listen(engine, "before_cursor_execute", locked)
    try:
        for path in ("/", "/quizzes"):
            assert_clear_503(client.get(path), says=BUSY_ZH)
        assert_clear_503(client.post("/attempts/1/answers",
                                     json={"position": 1, "response": "A"}), json=True,
                         says=BUSY_ZH)
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.get_json() == {"status": "error", "database": "busy"}
    finally:
        event.remove(engine, "before_cursor_execute", locked)
    assert client.get("/").status_code == 200


def test_a_database_that_cannot_be_reached_says_so_and_whom_to_tell(served):  # noqa: F811
    app, client = served
    with database_refusing(app):
        page = client.get("/quizzes")
        assert_clear_503(page, says=DOWN_ZH)
        body = page.get_data(as_text=True)
        assert "数据库暂时无法连接" in body and "请告诉管理员" in body
        english = app.test_client()
        english.set_cookie("lang", "en")
        assert "cannot reach its database" in english.post(
            "/login", data={"account": "t1", "password": "x"}).get_data(as_text=True)
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.get_json() == {"status": "error", "database": "unavailable"}
    assert client.get("/healthz").status_code == 200
