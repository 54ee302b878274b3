"""The application as a whole: health, headers, CSRF, configuration, demo data, schema."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from config import DEV_SECRET_KEY, ProductionConfig
from studyhall import create_app
from studyhall.demo import DEMO_PASSWORD, seed_demo
from studyhall.extensions import db
from studyhall.org.models import Person, Role, Unit, UnitKind
from tests.app.conftest import _make_app


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "clock": "ok"}


@pytest.mark.parametrize("ahead", [-30, 30])
def test_healthz_reports_a_host_clock_that_is_not_the_databases(client, monkeypatch, ahead):
    """Deadlines are each host's own clock: a host that has drifted from the database's
    clock (the one all hosts share) is reported, ahead or behind, for the monitoring;
    still 200, so that a drifted database clock, which every host would report at once,
    does not take every host out of the load balancer."""
    from datetime import timedelta

    from studyhall.main import routes
    from studyhall.model_helpers import utcnow

    monkeypatch.setattr(routes, "utcnow", lambda: utcnow() + timedelta(seconds=ahead))
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["clock"] == "skewed"
    assert abs(body["clock_skew_seconds"] - ahead) <= 1.5


def test_healthz_allows_a_skew_within_the_configured_limit(client, monkeypatch):
    from datetime import timedelta

    from studyhall.main import routes
    from studyhall.model_helpers import utcnow

    monkeypatch.setattr(routes, "utcnow", lambda: utcnow() + timedelta(seconds=3))
    assert client.get("/healthz").get_json()["clock"] == "ok"
    monkeypatch.setitem(client.application.config, "HEALTH_CLOCK_SKEW_SECONDS", 2)
    assert client.get("/healthz").get_json()["clock"] == "skewed"


def test_clock_skew_reads_both_databases_clocks():
    from datetime import UTC, datetime, timedelta, timezone

    from studyhall.main.routes import clock_skew

    host = datetime(2026, 12, 2, 3, 0, 10)
    # PostgreSQL: its time with its session's zone; SQLite: naive UTC.
    assert clock_skew(datetime(2026, 12, 2, 11, 0, 0, tzinfo=timezone(timedelta(hours=8))),
                      host) == 10
    assert clock_skew(datetime(2026, 12, 2, 3, 0, 0, tzinfo=UTC), host) == 10
    assert clock_skew(datetime(2026, 12, 2, 3, 0, 20), host) == -10


def test_healthz_answers_503_when_the_database_does_not(tmp_path):
    app = _make_app(f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"
    with app.app_context():
        db.engine.dispose()


def test_security_headers_and_a_csp_without_inline_script(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in response.get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite(client, org):
    response = client.post("/login", data={"account": "t1", "password": "correct-horse-9"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_every_form_needs_a_csrf_token(database_app, org):
    app = _make_app(database_app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    client = app.test_client()
    client.set_cookie("lang", "en")
    response = client.post("/login", data={"account": "t1", "password": "correct-horse-9"})
    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)
    with app.app_context():
        db.engine.dispose()


def test_production_refuses_the_development_secret(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(RuntimeError):
        ProductionConfig.check()
    monkeypatch.setenv("SECRET_KEY", "x" * 64)  # long, but one character: refused too
    with pytest.raises(RuntimeError):
        ProductionConfig.check()
    monkeypatch.setenv("SECRET_KEY", "5f0c1e9a7b3d48c2a6e1f04b9d7c3a58e2b6f1d0c9a4e7b3")
    ProductionConfig.check()
    assert ProductionConfig.SESSION_COOKIE_SECURE


def test_each_database_is_set_up_for_the_subtree_queries_and_concurrency(app):
    """SQLite: WAL, a busy timeout, foreign keys. PostgreSQL: the unit path compares
    bytewise, so the subtree range in auth/scope.py uses its index."""
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        else:
            collation = connection.exec_driver_sql(
                "SELECT collation_name FROM information_schema.columns "
                "WHERE table_name = 'unit' AND column_name = 'path'").scalar()
            assert collation == "C"


def test_error_pages_are_friendly_and_json_for_json_clients(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "Page not found" in page.get_data(as_text=True)
    data = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert data.get_json()["error"] == "Page not found"


def test_seed_demo_is_idempotent_and_realistic(app):
    assert seed_demo() > 100
    db.session.commit()
    assert seed_demo() == 0
    people = db.session.scalar(sa.select(sa.func.count(Person.id)))
    assert 110 <= people <= 140
    branches = db.session.scalar(sa.select(sa.func.count(Unit.id)).where(
        Unit.kind == UnitKind.BRANCH))
    assert branches == 6
    for account, role in [("admin", Role.ADMIN), ("secretary", Role.SECRETARY),
                          ("teacher", Role.TEACHER)]:
        person = db.session.scalar(sa.select(Person).where(Person.account == account))
        assert person.role is role and person.check_password(DEMO_PASSWORD)
        assert not person.must_change_password
    secretary = db.session.scalar(sa.select(Person).where(Person.account == "secretary"))
    assert [u.kind for u in secretary.managed_units] == [UnitKind.GENERAL_BRANCH]


def test_seed_demo_command_only_fills_an_empty_database(app):
    runner = app.test_cli_runner()
    assert "演示账号" in runner.invoke(args=["seed-demo", "--if-empty"]).output
    assert "已有人员数据" in runner.invoke(args=["seed-demo", "--if-empty"]).output


def test_migrations_match_the_models(app):
    """Like `flask db check`: the migrated schema has nothing autogenerate would add."""
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_the_interface_is_chinese_by_default_and_english_on_request(app, org):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "登录学习平台" in page and 'lang="zh-CN"' in page
    response = client.get("/lang/en?next=/login")
    assert response.location == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in to StudyHall" in page and 'lang="en"' in page


def test_the_report_line_reads_as_a_work_report_in_chinese(app, org):
    client = app.test_client()
    client.post("/login", data={"account": "admin", "password": "correct-horse-9"})
    page = client.get(f"/units/{org.top.id}").get_data(as_text=True)
    assert ">共4人，其中党员3名，群众1名<" in page  # no group of nobody


def test_language_switch_only_redirects_within_the_site(client):
    assert client.get("/lang/en?next=https://evil.example/").location == "/"


def test_a_locked_database_answers_503_with_retry_after(client, org, login, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from studyhall.org import queries

    def locked(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    login(org.admin)
    monkeypatch.setattr(queries, "get_unit_tree", locked)
    response = client.get("/manage/units")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert "The server is busy" in response.get_data(as_text=True)


def test_an_unexpected_error_is_a_calm_500_and_is_logged(database_app, org, monkeypatch,
                                                         caplog):
    from studyhall.org import queries

    app = _make_app(database_app.config["SQLALCHEMY_DATABASE_URI"], TESTING=False)
    client = app.test_client()
    client.set_cookie("lang", "en")
    client.post("/login", data={"account": "admin", "password": "correct-horse-9"})

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(queries, "get_unit_tree", broken)
    response = client.get("/manage/units")
    assert response.status_code == 500
    assert "Nothing you saved has been lost" in response.get_data(as_text=True)
    assert "boom" not in response.get_data(as_text=True)
    assert "Unhandled error on GET /manage/units" in caplog.text
    with app.app_context():
        db.engine.dispose()


def test_the_request_commits_once_success_keeps_and_errors_roll_back(tmp_path):
    """Views change and flush; the request commits after a success or a redirect, rolls
    back after an error response, and keeps an error's changes only when asked to."""
    from flask import abort
    from flask_migrate import upgrade

    from studyhall.database import keep_changes

    app = _make_app(f"sqlite:///{tmp_path}/once.sqlite3")

    def add_unit(name):
        db.session.add(Unit(name=name, kind=UnitKind.SCHOOL, path="/"))
        db.session.flush()

    @app.post("/_t/ok")
    def ok():
        add_unit("ok")
        return "done"

    @app.post("/_t/refused")
    def refused():
        add_unit("refused")
        return "no", 422

    @app.post("/_t/aborted")
    def aborted():
        add_unit("aborted")
        abort(404)

    @app.post("/_t/kept")
    def kept():
        add_unit("kept")
        keep_changes()
        return "no, but keep it", 409

    with app.app_context():
        upgrade()
        client = app.test_client()
        for url in ("/_t/ok", "/_t/refused", "/_t/aborted", "/_t/kept"):
            client.post(url)
        db.session.remove()
        names = set(db.session.scalars(sa.select(Unit.name)))
        db.engine.dispose()
    assert names == {"ok", "kept"}
