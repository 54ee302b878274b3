"""A live StudyHall on a free port (SQLite, demo data) and Debian's Chromium through
Playwright. Without the browser the tests skip locally and fail under CI."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from config import TestingConfig
from studyhall import create_app
from studyhall.demo import seed_demo
from studyhall.extensions import db
from tests.conftest import skip_or_fail

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app behind the live server, on an SQLite file with the demo data."""
    from flask_migrate import upgrade

    path = tmp_path_factory.mktemp("live") / "live.sqlite3"
    config = type("LiveConfig", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "WTF_CSRF_ENABLED": True})
    app = create_app(config)
    # Exports and uploaded files in this run's own folder, not the checkout's instance/.
    app.instance_path = str(tmp_path_factory.mktemp("live-instance"))
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        skip_or_fail(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture()
def screenshot_dir():
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@pytest.fixture()
def make_live_quiz(live_app):
    """Publish a quiz for the demo teacher's branch over the first questions of the sample
    bank of the given types: ``make(title, kinds=[("single", 3), ...], **settings)``."""
    import sqlalchemy as sa

    from studyhall.bank.models import Question
    from studyhall.model_helpers import utcnow
    from studyhall.org.models import Person, Unit
    from studyhall.quizzes import operations
    from studyhall.quizzes.models import Quiz

    def make(title, kinds=(("single", 1), ("multiple", 1), ("true_false", 1),
                           ("fill_blank", 1)), *, closes_in=timedelta(hours=1), **settings):
        with live_app.app_context():
            ids = []
            # Practice takes the last questions of each type, the exams the first: a
            # question of an exam still open from another test gives no practice
            # feedback to those expected in that exam (quizzes/review.py).
            order = Question.id.desc() if settings.get("mode") == "practice" else Question.id
            for kind, count in kinds:
                ids += db.session.scalars(sa.select(Question.id).where(Question.type == kind)
                                          .order_by(order).limit(count)).all()
            branch = db.session.scalar(sa.select(Unit).where(Unit.name == "实验小学第一支部"))
            admin = db.session.scalar(sa.select(Person).where(Person.account == "admin"))
            now = utcnow()
            values = {"time_limit_minutes": 20, "shuffle_options": False, **settings}
            quiz = Quiz(title=title, owner_unit_id=branch.id, opens_at=now - timedelta(minutes=1),
                        closes_at=now + closes_in, paper={"kind": "fixed", "question_ids": ids},
                        audience={"unit_ids": [branch.id]}, **values)
            db.session.add(quiz)
            db.session.flush()
            operations.publish_quiz(admin, quiz)
            quiz_id = quiz.id
            db.session.commit()
            # Leave the app context: a transaction kept open here would hold SQLite's lock.
            db.session.remove()
        return quiz_id

    return make


def log_in(page, live_server, account="teacher"):
    from studyhall.demo import DEMO_PASSWORD

    page.goto(f"{live_server}/login")
    page.get_by_label("账号").fill(account)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def start_quiz(page, live_server, quiz_id) -> str:
    """Open the start page, start, and return the paper's URL."""
    page.goto(f"{live_server}/quizzes/{quiz_id}")
    page.get_by_role("button", name="开始答题").click()
    page.wait_for_url("**/attempts/*")
    return page.url
