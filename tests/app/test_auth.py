import pytest

from studyhall.extensions import db, limiter
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
    ("newbie22", "The password must not be your account name."),
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
