import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from studyhall.auth.models import LoginFailure, LoginSession
from studyhall.extensions import db, limiter
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person
from tests.app.conftest import _make_app
from tests.factories import PASSWORD


def en_client(app):
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client


def test_login_with_account_and_password_lands_on_dashboard(client, org):
    response = client.post("/login", data={"account": "t1", "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/"
    assert "李老师" in client.get("/").get_data(as_text=True)


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, org):
    response = client.post("/login", data={"account": "t1", "password": "nope-nope"})
    assert response.status_code == 200
    assert "The account or password is not correct." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_account_with_surrounding_spaces_still_logs_in(client, org):
    response = client.post("/login", data={"account": " t1 ", "password": PASSWORD})
    assert response.status_code == 302


def test_deactivated_person_cannot_log_in(client, org):
    org.teacher.is_active = False
    db.session.commit()
    assert client.post("/login", data={"account": "t1", "password": PASSWORD}).status_code == 200


def test_initial_password_must_be_changed_before_anything_else(client, make_person, login):
    person = make_person("newbie", must_change=True)
    response = login(person)
    assert response.location == "/account/password"
    assert client.get("/").location == "/account/password"
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "a-better-one-1",
        "confirm": "a-better-one-1"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    db.session.refresh(person)
    assert not person.must_change_password
    assert person.password_hash.startswith("scrypt:")


@pytest.mark.parametrize("new, message", [
    ("short1", "Use 8 to 200 characters."),
    ("newbie22", "A password must not contain the account name or the phone number."),
    (PASSWORD, "Choose a password different from the current one."),
])
def test_weak_new_passwords_are_refused(client, make_person, login, new, message):
    person = make_person("newbie22", must_change=True)
    login(person)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": new, "confirm": new})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_changing_password_signs_out_other_sessions(app, org, login):
    other = en_client(app)
    other.post("/login", data={"account": "t1", "password": PASSWORD})
    assert other.get("/").status_code == 200
    client = en_client(app)
    client.post("/login", data={"account": "t1", "password": PASSWORD})
    client.post("/account/password", data={"current_password": PASSWORD,
                                           "new_password": "fresh-pass-22",
                                           "confirm": "fresh-pass-22"})
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_logout_needs_post(client, org, login):
    login(org.teacher)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("target, expected", [
    ("/manage/people", "/manage/people"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
])
def test_login_redirects_only_within_the_site(client, org, target, expected):
    response = client.post(f"/login?next={target}", data={"account": "admin",
                                                           "password": PASSWORD})
    assert response.location == expected


@pytest.fixture()
def limited_app(database_app):
    app = _make_app(database_app.config["SQLALCHEMY_DATABASE_URI"], RATELIMIT_ENABLED=True,
                    LOGIN_LIMIT_PER_ACCOUNT="3 per 10 minutes",
                    LOGIN_LIMIT_PER_IP="5 per 10 minutes")
    yield app
    with app.app_context():
        limiter.reset()
        db.engine.dispose()


def test_failed_logins_are_limited_per_account_with_a_time_to_wait(limited_app, org):
    client = en_client(limited_app)
    for _ in range(3):
        client.post("/login", data={"account": "t1", "password": "wrong-wrong"})
    response = client.post("/login", data={"account": "t1", "password": PASSWORD})
    assert response.status_code == 429
    assert "Try again in 10 minutes" in response.get_data(as_text=True)
    # Another account from the same address is still allowed (below the per-IP limit).
    assert client.post("/login", data={"account": "admin",
                                       "password": PASSWORD}).status_code == 302


def test_failed_logins_are_limited_per_address(limited_app, org):
    client = en_client(limited_app)
    for account in ["a1", "a2", "a3", "a4", "a5"]:
        client.post("/login", data={"account": account, "password": "wrong-wrong"})
    response = client.post("/login", data={"account": "t1", "password": PASSWORD})
    assert response.status_code == 429


# -- Sessions end on the server ----------------------------------------------------------

def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _copy(source, name, target=None, app=None):
    """A browser holding only the ``name`` cookie of ``source`` (as copied off a shared
    computer)."""
    target = target or en_client(app)
    target.set_cookie(name, source.get_cookie(name).value)
    return target


def test_a_session_cookie_copied_before_logout_is_signed_out_after_it(app, client, org, login):
    login(org.teacher)
    thief = _copy(client, "session", app=app)
    assert thief.get("/").status_code == 200
    client.post("/logout")
    assert thief.get("/").status_code == 302
    assert _count(LoginSession) == 0


def test_a_remember_me_cookie_copied_before_logout_is_signed_out_after_it(app, org):
    client = en_client(app)
    client.post("/login", data={"account": "t1", "password": PASSWORD, "remember": "y"})
    remember = client.get_cookie("remember_token").value
    thief = en_client(app)
    thief.set_cookie("remember_token", remember)
    assert thief.get("/").status_code == 200  # the remember-me cookie alone signs in
    client.post("/logout")
    late = en_client(app)
    late.set_cookie("remember_token", remember)
    assert late.get("/").status_code == 302
    assert thief.get("/").status_code == 302  # and the session it opened has ended too


def test_a_password_change_ends_remembered_devices_too(app, org, login, client):
    other = en_client(app)
    other.post("/login", data={"account": "t1", "password": PASSWORD, "remember": "y"})
    remembered = _copy(other, "remember_token", app=app)
    login(org.teacher)
    client.post("/account/password", data={"current_password": PASSWORD,
                                           "new_password": "fresh-pass-22",
                                           "confirm": "fresh-pass-22"})
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    assert remembered.get("/").status_code == 302
    assert _count(LoginSession) == 1  # only this browser's new session is left


def test_a_reset_by_an_administrator_signs_the_person_out(app, client, org, login):
    teacher = en_client(app)
    teacher.post("/login", data={"account": "t1", "password": PASSWORD})
    login(org.admin)
    client.post(f"/manage/people/{org.teacher.id}/reset-password")
    assert teacher.get("/").status_code == 302


@pytest.mark.parametrize("remember, idle, signed_in", [
    (False, timedelta(hours=11), True),
    (False, timedelta(hours=13), False),
    (True, timedelta(days=2), True),
    (True, timedelta(days=8), False),
])
def test_a_session_ends_when_unused_for_longer_than_its_lifetime(app, org, remember, idle,
                                                                 signed_in):
    client = en_client(app)
    client.post("/login", data={"account": "t1", "password": PASSWORD,
                                **({"remember": "y"} if remember else {})})
    db.session.execute(sa.update(LoginSession).values(last_seen_at=utcnow() - idle))
    db.session.commit()
    assert client.get("/").status_code == (200 if signed_in else 302)


def _login_session_writes(app, requests) -> list[str]:
    written = []

    def listener(conn, cursor, statement, *args):
        if statement.startswith("UPDATE login_session"):
            written.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        requests()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    return written


def test_last_use_is_written_every_few_minutes_not_on_every_save(app, client, org, login,
                                                                 make_quiz):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = client.post(f"/quizzes/{quiz.id}/start").location.rsplit("/", 1)[-1]

    def saves():
        for choice in "ABC":
            reply = client.post(f"/attempts/{attempt_id}/answers",
                                json={"position": 1, "response": choice})
            assert reply.status_code == 200

    assert _login_session_writes(app, saves) == []
    ten_minutes_ago = utcnow() - timedelta(minutes=10)
    db.session.execute(sa.update(LoginSession).values(last_seen_at=ten_minutes_ago))
    db.session.commit()
    assert len(_login_session_writes(app, saves)) == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(LoginSession.last_seen_at)) > ten_minutes_ago


def test_the_devices_page_lists_sessions_and_ends_the_others(app, client, org, login):
    phone = en_client(app)
    phone.post("/login", data={"account": "t1", "password": PASSWORD},
               headers={"User-Agent": "Mozilla/5.0 (iPhone) Mobile MicroMessenger/8.0"})
    login(org.teacher)
    page = client.get("/account/sessions").get_data(as_text=True)
    assert "WeChat · iPhone" in page and page.count('class="card"') == 2
    assert "This device" in page
    client.post("/account/sessions/end-others")
    assert phone.get("/").status_code == 302
    assert client.get("/").status_code == 200


def test_without_a_secret_key_a_random_one_is_made_once_and_kept(tmp_path, monkeypatch):
    from flask import Flask

    from config import DEV_SECRET_KEY, TestingConfig
    from studyhall import create_app

    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda self: str(tmp_path))
    config = type("NoKey", (TestingConfig,), {"SECRET_KEY": None})
    first, second = create_app(config), create_app(config)
    key_file = tmp_path / "secret_key"
    assert first.secret_key == second.secret_key == key_file.read_text().strip()
    assert first.secret_key != DEV_SECRET_KEY and len(first.secret_key) >= 32
    assert key_file.stat().st_mode & 0o777 == 0o600


# -- Failed logins: counted for every worker, the same time for every account ---------------

@pytest.mark.parametrize("case", ["unknown", "inactive", "no password", "initial", "chosen"])
def test_every_login_attempt_checks_one_full_strength_hash(client, org, make_person,
                                                           monkeypatch, case):
    """Login time must not tell whether an account exists: an unknown or inactive one is
    checked against a dummy hash of the same method, and a light initial hash is followed
    by one too."""
    from studyhall.auth import passwords

    person = make_person("known")
    if case == "inactive":
        person.is_active = False
    elif case == "no password":
        person.password_hash = ""
    elif case == "chosen":
        person.set_password("a-chosen-one-7")
    db.session.commit()
    methods = []
    real = passwords.check_password_hash

    def counting(password_hash, password):
        methods.append(password_hash.split("$", 1)[0])
        return real(password_hash, password)

    monkeypatch.setattr(passwords, "check_password_hash", counting)
    client.post("/login", data={"account": "nobody" if case == "unknown" else "known",
                                "password": "wrong-password-1"})
    assert [m for m in methods if m.startswith("scrypt:")] == ["scrypt:32768:8:1"]
    assert len(methods) == (2 if case == "initial" else 1)


def _fail(client, account="t1"):
    return client.post("/login", data={"account": account, "password": "wrong-wrong"})


@pytest.fixture()
def second_limited_app(limited_app):
    """Another app on the same database, as a second worker or host would be."""
    app = _make_app(limited_app.config["SQLALCHEMY_DATABASE_URI"], RATELIMIT_ENABLED=True,
                    LOGIN_LIMIT_PER_ACCOUNT="3 per 10 minutes",
                    LOGIN_LIMIT_PER_IP="5 per 10 minutes")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_two_apps_on_one_database_share_the_failure_count(limited_app, second_limited_app,
                                                          org):
    first, second = en_client(limited_app), en_client(second_limited_app)
    _fail(first)
    _fail(second)
    limiter.reset()  # nothing may depend on one process's memory
    _fail(first)
    for client in (first, second):
        response = client.post("/login", data={"account": "t1", "password": PASSWORD})
        assert response.status_code == 429
    assert db.session.scalars(sa.select(LoginFailure.failures).order_by(LoginFailure.key)
                              ).all() == [3, 3]  # the account's and the address's


def test_another_process_on_the_same_database_shares_the_failure_count(limited_app, org):
    """Two workers are two processes: failures counted in one hold in the other."""
    url = limited_app.config["SQLALCHEMY_DATABASE_URI"]
    script = (
        "from tests.app.conftest import _make_app\n"
        f"app = _make_app({url!r}, RATELIMIT_ENABLED=True,"
        " LOGIN_LIMIT_PER_ACCOUNT='3 per 10 minutes', LOGIN_LIMIT_PER_IP='5 per 10 minutes')\n"
        "client = app.test_client()\n"
        "for _ in range(2):\n"
        "    client.post('/login', data={'account': 't1', 'password': 'wrong-wrong'})\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", script], check=True, cwd=root, timeout=120,
                   env={**os.environ, "PYTHONPATH": str(root)})
    client = en_client(limited_app)
    _fail(client)
    assert client.post("/login", data={"account": "t1", "password": PASSWORD}
                       ).status_code == 429


def test_a_new_window_starts_after_the_last_one_ended(limited_app, org):
    client = en_client(limited_app)
    for _ in range(3):
        _fail(client)
    db.session.execute(sa.update(LoginFailure).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    _fail(client)
    assert db.session.scalars(sa.select(LoginFailure.failures)).all() == [1, 1]
    db.session.rollback()  # outside a request the test's session holds SQLite's write lock
    assert client.post("/login", data={"account": "t1", "password": PASSWORD}
                       ).status_code == 302


def test_a_successful_login_forgives_the_accounts_failures(limited_app, org):
    client = en_client(limited_app)
    _fail(client)
    _fail(client)
    assert client.post("/login", data={"account": "t1", "password": PASSWORD}
                       ).status_code == 302
    assert db.session.scalars(sa.select(LoginFailure.key)).all() == ["i:127.0.0.1"]


@pytest.mark.parametrize("uri, in_database", [
    (None, True), ("memory://", True), ("redis://redis-host:6379/0", False)])
def test_counters_live_in_redis_when_it_is_configured(app, uri, in_database):
    from studyhall.auth import throttle

    app.config["RATELIMIT_STORAGE_URI"] = uri
    try:
        assert throttle.counts_in_database() is in_database
    finally:
        app.config["RATELIMIT_STORAGE_URI"] = "memory://"


# -- The commonest passwords are refused -----------------------------------------------------

@pytest.mark.parametrize("new, reason", [
    ("12345678", "A run of digits or letters"),
    ("98765432", "A run of digits or letters"),
    ("88888888", "One character or one piece repeated"),
    ("woaini1314", "This is one of the commonest passwords"),
    ("qwertyuiop", "This is one of the commonest passwords"),
    ("a123456789", "This is one of the commonest passwords"),
    ("password1", "This is one of the commonest passwords"),
    ("Laoshi2024!", "Common words, names and pinyin"),
    ("19880808", "Dates and years"),
    ("Wo-ai-shuxue7", None),
    ("13912345678a", "must not contain the account name or the phone number"),
    ("xnewbie22x!", "must not contain the account name or the phone number"),
])
def test_the_commonest_passwords_are_refused_with_the_reason(client, make_person, login,
                                                              new, reason):
    person = make_person("newbie22", must_change=True)
    person.phone = "13912345678"
    db.session.commit()
    login(person)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": new, "confirm": new})
    if reason is None:
        assert response.status_code == 302
    else:
        assert response.status_code == 200 and reason in response.get_data(as_text=True)


def test_a_refused_password_is_explained_in_chinese(app, make_person):
    make_person("newbie", must_change=True)
    client = app.test_client()
    client.post("/login", data={"account": "newbie", "password": PASSWORD})
    page = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "12345678", "confirm": "12345678"}
    ).get_data(as_text=True)
    assert "连续的数字或字母" in page


def test_create_admin_refuses_a_common_password(app, make_unit):
    make_unit("教育局党委")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "boss", "--password", "12345678"])
    assert result.exit_code != 0
    assert db.session.scalar(sa.select(Person).where(Person.account == "boss")) is None
    result = runner.invoke(args=["create-admin", "boss", "--password", "Two-unrelated-words-9"])
    assert result.exit_code == 0, result.output
