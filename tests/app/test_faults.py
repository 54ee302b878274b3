"""The database locked, stopped or gone mid-request (issue 12 item 4): a clear page in the
person's language with 503 and Retry-After, /healthz 503, never a traceback; and the app
answers again as soon as the database does. bench/chaos_database.py does the same with a
real PostgreSQL stopped under gunicorn (RELIABILITY.md, "Faults")."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.exc import InterfaceError, OperationalError

from studyhall.extensions import db
from tests.app.conftest import _make_app

BUSY_ZH = "服务器繁忙，请几秒后重试。"
DOWN_ZH = "服务器暂时连不上数据库"


@pytest.fixture()
def served(database_app, org):
    """The app as production runs it (its own error handlers, TESTING off), on the test
    database, with the teacher signed in; Chinese (no language cookie)."""
    app = _make_app(database_app.config["SQLALCHEMY_DATABASE_URI"], TESTING=False,
                    SQLITE_BUSY_TIMEOUT_MS=200)
    client = app.test_client()
    response = client.post("/login", data={"account": "t1", "password": "correct-horse-9"})
    assert response.status_code == 302
    yield app, client
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def database_refusing(app):
    """Every new connection refused, as when PostgreSQL is stopped or the SQLite file
    cannot be opened; the pooled ones dropped first."""
    with app.app_context():
        engine = db.engine
    dbapi = engine.dialect.dbapi

    def refuse(*_args):
        raise dbapi.OperationalError("connection refused (the test's database is down)")

    event.listen(engine, "do_connect", refuse)
    engine.dispose()
    try:
        yield
    finally:
        event.remove(engine, "do_connect", refuse)


def assert_clear_503(response, json: bool = False, says: str = BUSY_ZH) -> None:
    """503 with Retry-After and the page (or JSON message) that says ``says``: busy
    (a lock: retry in seconds) or DOWN_ZH (the database unreachable)."""
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "OperationalError" not in body
    if json:
        assert response.get_json()["message"].startswith(says)
    else:
        assert says in body and 'lang="zh-CN"' in body
    assert (BUSY_ZH if says != BUSY_ZH else DOWN_ZH) not in body


def test_a_database_that_refuses_connections_answers_a_clear_503_everywhere(served):
    """Before the fix the signed-in person's page failed twice (loading the person, then
    drawing the error page's menu) and the server answered its bare traceback page."""
    app, client = served
    with database_refusing(app):
        for path in ("/", "/quizzes", "/manage/units", "/login"):
            assert_clear_503(client.get(path), says=DOWN_ZH)
        assert_clear_503(client.post("/attempts/1/answers",
                                     json={"position": 1, "response": "A"}), json=True,
                         says=DOWN_ZH)
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.get_json() == {"status": "error", "database": "unavailable"}
        # A visitor who is not signed in gets the same page.
        assert_clear_503(app.test_client().post("/login", data={"account": "t1",
                                                                "password": "x"}),
                         says=DOWN_ZH)
    # The database is back: so is the app, without a restart.
    assert client.get("/").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_a_commit_that_fails_after_the_view_answers_503_not_500(served, monkeypatch,
                                                                caplog):
    """The database went away between the view and the request's commit: nothing was
    written, so the client is told to retry (503), not that the server broke (500), and
    the log gets a warning, not an error's traceback."""
    app, client = served
    real_commit = db.session.commit
    calls = {"n": 0}

    def commit_then_fail():
        calls["n"] += 1
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(db.session, "commit", commit_then_fail)
    response = client.get("/lang/en")  # every successful request ends with the commit
    monkeypatch.setattr(db.session, "commit", real_commit)
    assert calls["n"] >= 1
    assert_clear_503(response, says=DOWN_ZH)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert "Database unavailable on GET /lang/en" in caplog.text


def test_a_connection_the_server_closed_answers_503(served, monkeypatch):
    app, client = served
    from studyhall.org import queries

    def closed(*_args, **_kwargs):
        raise InterfaceError("SELECT", {}, Exception("the connection is closed"))

    client.post("/logout")
    admin = app.test_client()
    assert admin.post("/login", data={"account": "admin",
                                      "password": "correct-horse-9"}).status_code == 302
    monkeypatch.setattr(queries, "get_unit_tree", closed)
    assert_clear_503(admin.get("/manage/units"), says=DOWN_ZH)


def test_sqlite_locked_by_another_process_refuses_writes_with_503_and_keeps_reading(
        served, database_app):
    """Another process holds SQLite's write lock longer than the busy timeout: a save
    answers 503 (the page's script keeps the answer and resends), pages that only read
    still answer, and the save goes through once the lock is released."""
    url = database_app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite"):
        pytest.skip("SQLite's file lock")
    app, client = served
    holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        assert_clear_503(client.post("/logout"))  # deletes the login session's row
        assert client.get("/healthz").status_code == 200
        assert client.get("/").status_code == 200
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert client.post("/logout").status_code == 302


def test_a_full_disk_for_the_initial_passwords_imports_nothing(app, org, tmp_path,
                                                               monkeypatch):
    """`import-roster --passwords-out` on a full disk: before the fix the people were
    committed first and the file failed after, leaving accounts whose initial passwords
    nobody had. Now the file is written whole before the commit, or nothing is."""
    import errno
    import os

    import sqlalchemy as sa

    from studyhall.org.models import Person
    from tests.app.test_roster import csv_bytes

    roster_file = tmp_path / "roster.csv"
    roster_file.write_bytes(csv_bytes([
        [1, "00000101", "孙丽", "女", "13900000001", "甲校第一支部", "中共党员", ""],
        [2, "00000102", "周强", "男", "", "甲校党总支/甲校第一支部", "共青团员", ""]]))
    out = tmp_path / "passwords.csv"
    before = db.session.scalar(sa.select(sa.func.count(Person.id)))

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    result = app.test_cli_runner().invoke(
        args=["import-roster", str(roster_file), "--passwords-out", str(out)])
    monkeypatch.undo()
    assert result.exit_code == 1
    assert "No space left on device" in result.output and str(out) in result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Person.id))) == before
    assert list(tmp_path.iterdir()) == [roster_file]  # no partial file either

    result = app.test_cli_runner().invoke(
        args=["import-roster", str(roster_file), "--passwords-out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 3


def test_a_full_disk_during_an_upload_is_a_clear_error_and_leaves_no_partial_file(
        client, org, login, tmp_path, monkeypatch):
    """The storage folder's disk fills half-way through writing an uploaded PDF: before
    the fix the half-written temporary file stayed and the request failed with a 500;
    now the form says the disk is full, nothing is left, and the next upload works."""
    import errno
    import io
    import tempfile

    from studyhall import storage
    from studyhall.study.models import Material
    from tests.app.study_fixtures_s1 import PDF_BYTES

    client.application.config["FILE_STORAGE_DIR"] = str(tmp_path / "files")
    real = tempfile.NamedTemporaryFile

    def filling_up(*args, **kwargs):
        handle = real(*args, **kwargs)
        write = handle.write

        def half_then_full(data):
            write(data[:len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        handle.write = half_then_full
        return handle

    def upload():
        return client.post("/manage/study/materials/new?kind=file", data={
            "kind": "file", "title": "文件资料", "owner_unit_id": org.top.id,
            "file": (io.BytesIO(PDF_BYTES), "讲话.pdf")}, content_type="multipart/form-data")

    login(org.admin)
    try:
        monkeypatch.setattr(storage.tempfile, "NamedTemporaryFile", filling_up)
        response = upload()
        monkeypatch.undo()
        assert response.status_code == 200
        assert "disk is full" in response.get_data(as_text=True)
        assert [p for p in (tmp_path / "files").rglob("*") if p.is_file()] == []
        assert db.session.scalar(db.select(db.func.count(Material.id))) == 0
        assert client.get("/").status_code == 200
        assert upload().status_code == 302
    finally:
        client.application.config.pop("FILE_STORAGE_DIR", None)


def test_a_full_disk_when_an_export_job_starts_is_a_clear_507(client, app, org, login,
                                                             monkeypatch):
    """A big export is built in the background from a status file in the instance folder;
    when that folder's disk is full the page said nothing but 500. Now: 507 and why."""
    import errno

    from studyhall.exports import jobs

    def full(*_args):
        raise OSError(errno.ENOSPC, "No space left on device")

    login(org.admin)
    app.config["EXPORT_INLINE_ROWS"] = 0
    try:
        monkeypatch.setattr(jobs, "_write_status", full)
        response = client.get("/manage/stats/roster.xlsx")
    finally:
        app.config.pop("EXPORT_INLINE_ROWS", None)
    assert response.status_code == 507
    assert "disk is full: nothing was saved or built" in response.get_data(as_text=True)
    monkeypatch.undo()
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("minutes", [10, -1])
def test_a_close_time_changed_while_a_start_draws_its_paper_is_the_one_kept(
        app, client, org, login, make_quiz, monkeypatch, minutes):
    """Issue 12 item 6, the race behind "an editor changes the close time during a burst
    of starts": the paper is drawn outside the write lock, with the close as it was read
    then; the editor's change commits before the start stores its attempt, and the edit's
    own recompute cannot see an attempt that does not exist yet. Before the fix the
    attempt kept the old close as its deadline (or started in a quiz closed meanwhile)."""
    from datetime import timedelta

    import sqlalchemy as sa

    from studyhall.model_helpers import utcnow
    from studyhall.quizzes import taking
    from studyhall.quizzes.models import Attempt, Quiz

    quiz = make_quiz(time_limit_minutes=30)
    new_close = (utcnow() + timedelta(minutes=minutes)).replace(microsecond=0)
    real_store = taking.store_attempt

    def edit_then_store(drawn):
        # Between the draw and the store, the quiz's row changes as the editor's
        # committed request left it (written here in the start's own write transaction,
        # which on SQLite holds the only write lock; what matters is the row it reads).
        db.session.execute(sa.update(Quiz).where(Quiz.id == quiz.id)
                           .values(closes_at=new_close, title="改过的标题")
                           .execution_options(synchronize_session=False))
        return real_store(drawn)

    monkeypatch.setattr(taking, "store_attempt", edit_then_store)
    login(org.teacher)
    response = client.post(f"/quizzes/{quiz.id}/start")
    db.session.expire_all()
    attempt = db.session.scalar(sa.select(Attempt).where(Attempt.quiz_id == quiz.id))
    if minutes > 0:
        assert response.status_code == 302 and "/attempts/" in response.location
        assert attempt.deadline_at == new_close  # min(start + 30 min, the new close)
    else:
        assert attempt is None
        assert response.location.endswith(f"/quizzes/{quiz.id}")
