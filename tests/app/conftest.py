"""The Flask app under test, on each database, with the schema built by the migrations.

Each database's schema is built once per session (which also tests the migrations); after
every test all tables are emptied, so tests see real commits and real constraints."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import event

from config import TestingConfig
from studyhall import create_app
from studyhall.extensions import db
from tests.conftest import skip_or_fail

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
#: pytest-xdist's name for this process ("gw0", "gw1", …), empty when pytest runs alone.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


class IsolatedClient(FlaskClient):
    """Tests hold an app context open for their factories, and Flask reuses it for the
    requests they make. So that each request starts as it would in production, clear
    ``g`` (Flask-Login's user, Flask-Babel's locale) and expire the session's objects."""

    def open(self, *args, **kwargs):
        if has_app_context():
            for key in list(g):
                g.pop(key)
            db.session.expire_all()
        return super().open(*args, **kwargs)


def _make_app(url: str, **overrides):
    config = type("Config", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url, **overrides})
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


def checked_test_database_url(url: str) -> str:
    """The SQLAlchemy URL of TEST_DATABASE_URL, only if it names a database whose name
    ends in _test: the set-up drops the whole public schema of the database it is given,
    so a URL pointing at a real database must stop the run, not empty that database."""
    name = sa.engine.make_url(url).database or ""
    if not name.endswith("_test"):
        pytest.fail(f"TEST_DATABASE_URL names the database {name!r}: the app tests drop "
                    "its whole schema, so they only run on a database whose name ends in "
                    "_test (such as studyhall_test). Point TEST_DATABASE_URL at one.",
                    pytrace=False)
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def worker_database_url(url: str, worker: str) -> str:
    """The database of one pytest-xdist worker: TEST_DATABASE_URL's name with the worker
    before its _test (studyhall_test → studyhall_gw0_test), so workers running at once
    never empty each other's tables; the URL itself when pytest runs alone."""
    if not worker:
        return url
    parsed = sa.engine.make_url(url)
    name = parsed.database or ""
    stem = name[:-len("_test")] if name.endswith("_test") else name
    return parsed.set(database=f"{stem}_{worker}_test").render_as_string(hide_password=False)


def ensure_database(url: str, through: str) -> None:
    """Create the database of ``url`` if it is missing, connected to ``through`` (the
    database TEST_DATABASE_URL names): a worker's database is made on first use."""
    name = sa.engine.make_url(url).database
    engine = sa.create_engine(through, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                 {"name": name}):
                return
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.ProgrammingError as error:
        if "already exists" in str(error):  # another run made it meanwhile
            return
        pytest.fail(f"Cannot create the worker's database {name!r} ({error.orig}). Give the "
                    "role CREATEDB (as .ci/start-postgres does) or create it: "
                    f"createdb -O {sa.engine.make_url(url).username} {name}", pytrace=False)
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_app(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    else:
        if not POSTGRES_URL.startswith("postgresql"):
            skip_or_fail("TEST_DATABASE_URL is not set to a PostgreSQL database")
        shared = checked_test_database_url(POSTGRES_URL)
        url = worker_database_url(shared, WORKER)
        if url != shared:
            ensure_database(url, shared)
    app = _make_app(url)
    # Export jobs and stored files land in the instance folder unless a test says
    # otherwise: one of this run's own, not the checkout's instance/ (shared by every
    # worker and by `make run`).
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        if request.param == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        if request.param == "postgresql":
            downgrade(revision="base")
        db.engine.dispose()


@pytest.fixture()
def app(database_app):
    with database_app.app_context():
        yield database_app
        db.session.remove()
        with db.engine.begin() as connection:
            # Tables that point at each other (material.current_version_id) are
            # unlinked first, so every table can then be emptied in dependency order.
            for table in db.metadata.sorted_tables:
                for key in table.foreign_key_constraints:
                    if key.use_alter:
                        connection.execute(table.update().values(
                            {column.name: None for column in key.columns}))
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture()
def client(app):
    """A browser that chose English, so assertions read the source strings; test_i18n
    checks the Chinese default."""
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client


@pytest.fixture()
def db_session(app):
    return db.session


class QueryLog(list):
    """The SQL statements (SELECT, INSERT, UPDATE, DELETE) run inside ``count_queries()``;
    transaction control (BEGIN, COMMIT, SAVEPOINT, PRAGMA) is left out."""

    def __str__(self) -> str:
        return "\n".join(f"{n}. {s[:200]}" for n, s in enumerate(self, 1))


@pytest.fixture()
def count_queries(app):
    """Count the statements a block runs, to catch N+1 queries (indico's guard):

        with count_queries() as few:
            client.get(url)            # N rows
        with count_queries() as many:
            client.get(url)            # 10 N rows
        assert len(many) == len(few), many

    Pages must be rendered with page sizes large enough to show every row."""

    @contextmanager
    def counting():
        log = QueryLog()

        def listener(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().split(None, 1)[0].upper() in DATA_STATEMENTS:
                log.append(statement)

        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            yield log
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)

    return counting


DATA_STATEMENTS = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}


from tests.factories import *  # noqa: E402,F401,F403  (fixtures)
