"""Self check-in: rotating QR tokens and typed codes (server clock, 10 s steps, the current
and the previous step accepted), the window's edges, who may check in, once only (also
under concurrency), a scan before login that survives the login, devices checking in
several accounts flagged, and the meeting-room screen."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.org.models import Role
from studyhall.sessions import checkin
from studyhall.sessions.checkin import Outcome, TokenCheck
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    LeaveState,
    SessionStatus,
)
from tests.app.session_fixtures_e2 import *  # noqa: F403  (fixtures)
from tests.factories import PASSWORD

MICRO = timedelta(microseconds=1)


def scan_url(session, step) -> str:
    return f"/checkin/{session.id}/{checkin.token_for(session, step)}"


def row_of(session, person) -> Attendance:
    db.session.expire_all()
    return db.session.get(Attendance, (session.id, person.id))


def scan(client, session, clock, step=None):
    step = checkin.step_of(clock.now) if step is None else step
    return client.get(scan_url(session, step))


def follow(client, response):
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(response.location)


def outcome_of(response) -> str:
    found = re.search(r'data-outcome="([a-z_]+)"', response.get_data(as_text=True))
    return found.group(1) if found else ""


# --- tokens and codes -----------------------------------------------------------------------

def test_a_token_is_accepted_in_its_step_and_the_next_only(app, make_session, clock):
    session = make_session()
    step = checkin.step_of(clock.now)
    token = checkin.token_for(session, step)
    assert checkin.check_token(session, token, clock.now) is TokenCheck.VALID
    assert checkin.check_token(session, token, clock.now + timedelta(seconds=19.999)) \
        is TokenCheck.VALID
    # The step before the previous one: expired.
    assert checkin.check_token(session, token, clock.now + timedelta(seconds=20)) \
        is TokenCheck.EXPIRED
    # A step the server has not reached cannot come from its screen.
    assert checkin.check_token(session, checkin.token_for(session, step + 1), clock.now) \
        is TokenCheck.INVALID


def test_a_token_of_another_session_or_a_made_up_one_is_invalid(app, org, make_session,
                                                                clock):
    session, other = make_session(), make_session()
    step = checkin.step_of(clock.now)
    assert checkin.check_token(session, checkin.token_for(other, step), clock.now) \
        is TokenCheck.INVALID
    mac = checkin.token_for(session, step).split(".", 1)[1]
    altered = mac[:-1] + ("x" if mac[-1] != "x" else "y")
    for token in ("", "abc", f"{step}.", f"{step}.{altered}", f"{step - 1}.{mac}",
                  f"-{step}.{mac}", f"{'9' * 40}.{mac}"):
        assert checkin.check_token(session, token, clock.now) is TokenCheck.INVALID, token


def test_nothing_is_stored_per_code_so_two_servers_agree(app, make_session, clock):
    """A reload of the screen (or another worker) derives the same token and code."""
    session = make_session()
    step = checkin.step_of(clock.now)
    assert checkin.token_for(session, step) == checkin.token_for(session, step)
    codes = {checkin.code_for(session, s) for s in range(step, step + 50)}
    assert all(re.fullmatch(r"\d{6}", c) for c in codes) and len(codes) > 45
    assert checkin.code_matches(session, checkin.code_for(session, step - 1), clock.now)
    assert not checkin.code_matches(session, checkin.code_for(session, step - 2), clock.now)


# --- scanning -------------------------------------------------------------------------------

def test_a_scan_checks_in_once_and_a_reload_says_already(client, org, login, make_session,
                                                        clock):
    session = make_session()
    login(org.teacher)
    response = scan(client, session, clock)
    assert response.location == f"/checkin/{session.id}/done?new=1"
    page = follow(client, response)
    assert outcome_of(page) == "checked_in"
    text = page.get_data(as_text=True)
    assert "Checked in" in text and "Present" in text and session.topic in text
    row = row_of(session, org.teacher)
    assert (row.status, row.checked_in_at, row.method) == (
        AttendanceStatus.PRESENT, clock.now, "qr")
    assert len(row.device_hash) == 64
    # Reloading the result page: already checked in, never "expired".
    clock.advance(minutes=5)
    assert outcome_of(client.get(f"/checkin/{session.id}/done")) == "already"
    # Scanning again: counted once, the first time kept.
    assert outcome_of(follow(client, scan(client, session, clock))) == "already"
    assert row_of(session, org.teacher).checked_in_at == clock.now - timedelta(minutes=5)


def test_the_step_before_the_previous_is_refused_as_expired(client, org, login, make_session,
                                                           clock):
    session = make_session()
    login(org.teacher)
    step = checkin.step_of(clock.now)
    response = scan(client, session, clock, step - 2)
    assert response.status_code == 410
    assert outcome_of(response) == "expired"
    assert "The QR code has expired. Scan it again." in response.get_data(as_text=True)
    assert row_of(session, org.teacher).status is None
    # The previous step is still accepted.
    assert outcome_of(follow(client, scan(client, session, clock, step - 1))) == "checked_in"


def test_a_token_for_another_session_is_refused(client, org, login, make_session, clock):
    session, other = make_session(), make_session(topic="另一次活动")
    login(org.teacher)
    token = checkin.token_for(other, checkin.step_of(clock.now))
    response = client.get(f"/checkin/{session.id}/{token}")
    assert response.status_code == 404 and outcome_of(response) == "invalid"
    assert "另一次活动" not in response.get_data(as_text=True)
    assert row_of(session, org.teacher).status is None
    assert row_of(other, org.teacher).status is None


def test_someone_not_expected_is_refused(client, org, login, make_session, clock):
    session = make_session([org.teacher])
    login(org.outsider)
    response = scan(client, session, clock)
    assert response.status_code == 404 and outcome_of(response) == "not_expected"
    assert "You are not on the list of expected attendees" in response.get_data(as_text=True)
    assert db.session.get(Attendance, (session.id, org.outsider.id)) is None


def test_drafts_do_not_exist_and_cancelled_sessions_say_so(client, org, login, make_session,
                                                          clock):
    draft = make_session(status=SessionStatus.DRAFT)
    cancelled = make_session(status=SessionStatus.CANCELLED)
    login(org.teacher)
    assert scan(client, draft, clock).status_code == 404
    response = scan(client, cancelled, clock)
    assert response.status_code == 403 and outcome_of(response) == "cancelled"
    assert row_of(cancelled, org.teacher).status is None


# (offset from the start, the outcome, the status recorded); the window is 30 minutes
# before the start to 60 after, late after 5.
WINDOW_EDGES = [
    (-timedelta(minutes=30) - MICRO, "not_open", None),
    (-timedelta(minutes=30), "checked_in", AttendanceStatus.PRESENT),
    (timedelta(minutes=5), "checked_in", AttendanceStatus.PRESENT),
    (timedelta(minutes=5) + MICRO, "checked_in", AttendanceStatus.LATE),
    (timedelta(minutes=60) - MICRO, "checked_in", AttendanceStatus.LATE),
    (timedelta(minutes=60), "closed", None),
]


@pytest.mark.parametrize(("offset", "outcome", "status"), WINDOW_EDGES)
def test_the_window_edges(client, org, login, make_session, clock, offset, outcome, status):
    session = make_session(starts_in=-offset)  # the clock stands at start + offset
    login(org.teacher)
    response = scan(client, session, clock)
    if status is None:
        assert response.status_code == 403
    else:
        response = follow(client, response)
    assert outcome_of(response) == outcome
    row = row_of(session, org.teacher)
    assert row.status is status
    assert row.checked_in_at == (clock.now if status else None)


def test_the_window_follows_the_session_settings(app, org, make_session, clock):
    session = make_session(starts_in=timedelta(minutes=20), checkin_opens_before=15)
    assert checkin.window_state(session, clock.now) is checkin.WindowState.NOT_OPEN
    result = checkin.check_in(session, org.teacher.id, at=clock.now, method="qr")
    assert result.outcome is Outcome.NOT_OPEN
    late = make_session(starts_in=-timedelta(minutes=3), late_after_minutes=0,
                        checkin_closes_after=3)
    assert checkin.status_at(late, clock.now) is AttendanceStatus.LATE
    assert checkin.window_state(late, clock.now) is checkin.WindowState.CLOSED


def test_refusals_name_the_opening_and_closing_time(client, org, login, make_session, clock):
    early = make_session(starts_in=timedelta(hours=2))  # 16:00 local, opens 15:30
    login(org.teacher)
    text = scan(client, early, clock).get_data(as_text=True)
    assert "Check-in is not open yet" in text and "15:30" in text
    gone = make_session(starts_in=-timedelta(hours=2))  # 12:00 local, closed at 13:00
    text = scan(client, gone, clock).get_data(as_text=True)
    assert "Check-in has ended" in text and "13:00" in text


def test_a_locked_record_closes_check_in(client, org, login, make_session, clock):
    session = make_session()
    session.record_locked_at = clock.now
    db.session.commit()
    login(org.teacher)
    assert outcome_of(scan(client, session, clock)) == "closed"


def test_approved_leave_then_coming_after_all_checks_in(client, org, login, make_session,
                                                       clock):
    """请假 set by an approval gives way to a check-in (they came); a mark the organiser
    tapped on the roster does not."""
    session = make_session([org.teacher, org.secretary])
    row = row_of(session, org.teacher)
    row.leave_state, row.status, row.method = (LeaveState.APPROVED, AttendanceStatus.EXCUSED,
                                               "leave")
    tapped = row_of(session, org.secretary)
    tapped.status, tapped.method = AttendanceStatus.ABSENT, "roster"
    db.session.commit()
    login(org.teacher)
    assert outcome_of(follow(client, scan(client, session, clock))) == "checked_in"
    assert row_of(session, org.teacher).status is AttendanceStatus.PRESENT
    client.post("/logout")
    login(org.secretary)
    response = scan(client, session, clock)
    assert outcome_of(response) == "recorded"
    assert "Absent" in response.get_data(as_text=True)
    assert row_of(session, org.secretary).status is AttendanceStatus.ABSENT


# --- once, under concurrency ----------------------------------------------------------------

def test_concurrent_check_ins_of_one_person_are_counted_once(database_app, org,
                                                             make_session, clock):
    """Eight scans of one person released together by a barrier: one check-in is
    recorded, the other seven are told they already checked in, and the row holds the
    winner's time and device."""
    session = make_session()
    session_id, person_id = session.id, org.teacher.id
    threads = 8
    barrier = threading.Barrier(threads)
    results, errors = [], []

    def one(index: int) -> None:
        try:
            with database_app.app_context():
                loaded = db.session.get(type(session), session_id)
                # Detached with what was read, so that no transaction is open while the
                # threads wait (outside a request SQLite's would be a writer's).
                db.session.expunge(loaded)
                db.session.rollback()
                at = clock.now + timedelta(seconds=index)
                barrier.wait(timeout=30)
                result = checkin.check_in(loaded, person_id, at=at, method="qr",
                                          device=f"{index:064d}")
                db.session.commit()
                results.append((index, result.outcome))
                db.session.remove()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=one, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not errors, errors
    winners = [index for index, outcome in results if outcome is Outcome.CHECKED_IN]
    assert len(results) == threads and len(winners) == 1, results
    assert sorted(o.value for _i, o in results).count("already") == threads - 1
    row = row_of(session, org.teacher)
    assert row.checked_in_at == clock.now + timedelta(seconds=winners[0])
    assert row.device_hash == f"{winners[0]:064d}"


def test_concurrent_scans_over_http_record_one_check_in(database_app, org, make_session,
                                                        clock):
    session = make_session()
    url = scan_url(session, checkin.step_of(clock.now))
    threads = 6
    barrier = threading.Barrier(threads)
    shown, errors = [], []

    def one() -> None:
        try:
            client = database_app.test_client()
            client.set_cookie("lang", "en")
            assert client.post("/login", data={"account": org.teacher.account,
                                               "password": PASSWORD}).status_code == 302
            barrier.wait(timeout=30)
            response = client.get(url)
            page = client.get(response.location)
            shown.append((response.status_code, outcome_of(page)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not errors, errors
    assert sorted(shown) == [(302, "already")] * (threads - 1) + [(302, "checked_in")]
    assert row_of(session, org.teacher).status is AttendanceStatus.PRESENT


# --- a scan before login --------------------------------------------------------------------

def test_a_scan_before_login_survives_the_login(client, org, make_session, clock):
    session = make_session(starts_in=timedelta(minutes=4))
    scanned_at = clock.now
    response = scan(client, session, clock)
    assert response.status_code == 302
    parts = urlsplit(response.location)
    assert parts.path == "/login"
    assert parse_qs(parts.query)["next"] == [f"/checkin/{session.id}/finish"]
    # Typing the password takes longer than the token lives, and the start passes.
    clock.advance(minutes=2)
    assert "Sign in to finish checking in" in client.get(response.location).get_data(
        as_text=True)
    login = client.post(response.location, data={"account": org.teacher.account,
                                                  "password": PASSWORD})
    assert login.location == f"/checkin/{session.id}/finish"
    page = follow(client, follow(client, login))
    assert outcome_of(page) == "checked_in"
    row = row_of(session, org.teacher)
    # Counted at the moment of the scan: before the late threshold, so 出席.
    assert (row.status, row.checked_in_at) == (AttendanceStatus.PRESENT, scanned_at)


def test_a_scan_before_a_first_login_survives_the_password_change(client, org, make_person,
                                                                  make_session, clock):
    newcomer = make_person("new1", unit=org.branch_a, must_change=True)
    session = make_session([newcomer])
    response = scan(client, session, clock)
    login = client.post(response.location, data={"account": "new1", "password": PASSWORD})
    assert urlsplit(login.location).path == "/account/password"
    changed = client.post(login.location, data={
        "current_password": PASSWORD, "new_password": "a-new-pass-2024",
        "confirm": "a-new-pass-2024"})
    assert changed.location == f"/checkin/{session.id}/finish", changed.get_data(as_text=True)
    assert outcome_of(follow(client, follow(client, changed))) == "checked_in"
    assert row_of(session, newcomer).status is AttendanceStatus.PRESENT


def test_a_scan_is_not_honoured_after_the_grace_or_for_another_session(client, org, login,
                                                                       make_session, clock):
    session, other = make_session(), make_session()
    scan(client, session, clock)
    clock.advance(seconds=checkin.LOGIN_GRACE.total_seconds() + 1)
    login(org.teacher)
    response = client.get(f"/checkin/{session.id}/finish")
    assert response.status_code == 410 and outcome_of(response) == "expired"
    client.post("/logout")
    scan(client, session, clock)
    login(org.teacher)
    # The pending scan is for `session`, not `other`; and it is used once.
    assert outcome_of(client.get(f"/checkin/{other.id}/finish")) == "expired"
    assert outcome_of(client.get(f"/checkin/{session.id}/finish")) == "expired"
    assert row_of(session, org.teacher).status is None
    assert row_of(other, org.teacher).status is None


def test_the_login_next_stays_on_this_site(client, org):
    response = client.post("/login?next=//evil.example/x", data={
        "account": org.teacher.account, "password": PASSWORD})
    assert response.location == "/"


# --- devices --------------------------------------------------------------------------------

def test_a_device_checking_in_several_accounts_is_flagged_not_blocked(
        client, org, login, make_person, make_session, clock):
    colleague = make_person("t3", unit=org.branch_a, name="周老师")
    third = make_person("t4", unit=org.branch_a, name="吴老师")
    session = make_session([org.teacher, colleague, third])
    for person in (org.teacher, colleague):  # one phone, two accounts
        login(person)
        assert outcome_of(follow(client, scan(client, session, clock))) == "checked_in"
        client.post("/logout")
    other_phone = type(client)(client.application, client.response_wrapper)
    other_phone.set_cookie("lang", "en")
    other_phone.post("/login", data={"account": "t4", "password": PASSWORD})
    assert outcome_of(follow(other_phone, scan(other_phone, session, clock))) == "checked_in"

    assert checkin.get_shared_devices(session.id) == {org.teacher.id: 2, colleague.id: 2}
    assert row_of(session, org.teacher).device_hash != row_of(session, third).device_hash
    login(org.secretary)
    page = client.get(f"/manage/sessions/{session.id}/checkin").get_data(as_text=True)
    assert 'id="shared-devices"' in page
    assert page.count('class="shared-device"') == 2
    assert "1 device, 2 accounts" in page


def test_the_device_hash_is_per_session_and_not_the_cookie(app, org, make_session, clock):
    one, two = make_session(), make_session()
    key = b"key"
    assert checkin.device_hash(key, "abc", one.id) != checkin.device_hash(key, "abc", two.id)
    assert "abc" not in checkin.device_hash(key, "abc", one.id)


# --- the typed code -------------------------------------------------------------------------

def test_a_typed_code_checks_in(client, org, login, make_session, clock):
    session = make_session()
    login(org.teacher)
    code = checkin.code_for(session, checkin.step_of(clock.now) - 1)
    assert client.get("/checkin").status_code == 200
    response = client.post("/checkin", data={"code": f"{code[:3]} {code[3:]}"})
    assert response.location == f"/checkin/{session.id}/done?new=1"
    row = row_of(session, org.teacher)
    assert (row.status, row.method) == (AttendanceStatus.PRESENT, "code")


def test_a_typed_code_in_full_width_digits_is_read(client, org, login, make_session, clock):
    session = make_session()
    login(org.teacher)
    code = checkin.code_for(session, checkin.step_of(clock.now))
    wide = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert client.post("/checkin", data={"code": wide}).status_code == 302
    assert row_of(session, org.teacher).method == "code"


def test_typed_code_refusals(client, org, login, make_session, clock):
    mine = make_session([org.teacher])
    theirs = make_session([org.outsider], owner=org.branch_b)
    login(org.teacher)
    step = checkin.step_of(clock.now)
    old = checkin.code_for(mine, step - 2)
    response = client.post("/checkin", data={"code": old})
    assert response.status_code == 422 and outcome_of(response) == "wrong_code"
    response = client.post("/checkin", data={"code": checkin.code_for(theirs, step)})
    assert response.status_code == 404 and outcome_of(response) == "not_expected"
    response = client.post("/checkin", data={"code": "12a456"})
    assert response.status_code == 200
    assert "Type the 6 digits shown on the screen." in response.get_data(as_text=True)
    assert row_of(mine, org.teacher).status is None


def test_a_typed_code_with_no_session_open(client, org, login, make_session, clock):
    make_session(starts_in=timedelta(days=5))
    login(org.teacher)
    response = client.post("/checkin", data={"code": "123456"})
    assert outcome_of(response) == "no_session"


def test_wrong_codes_are_limited_per_account(database_app, org, make_session, clock):
    from studyhall.extensions import limiter
    from tests.app.conftest import _make_app

    app = _make_app(database_app.config["SQLALCHEMY_DATABASE_URI"], RATELIMIT_ENABLED=True,
                    CHECKIN_CODE_LIMIT="3 per 10 minutes")
    session = make_session()
    client = app.test_client()
    client.set_cookie("lang", "en")
    try:
        client.post("/login", data={"account": org.teacher.account, "password": PASSWORD})
        right = checkin.code_for(session, checkin.step_of(clock.now))
        wrong = f"{(int(right) + 1) % 10 ** 6:06d}"
        assert [client.post("/checkin", data={"code": wrong}).status_code
                for _ in range(3)] == [422, 422, 422]
        response = client.post("/checkin", data={"code": right})
        assert response.status_code == 429
        assert "Too many wrong codes" in response.get_data(as_text=True)
    finally:
        with app.app_context():
            limiter.reset()
            db.engine.dispose()
    assert row_of(session, org.teacher).status is None


# --- the screen -----------------------------------------------------------------------------

def test_the_screen_shows_the_qr_of_the_scan_url_the_code_and_the_count(
        client, org, login, make_person, make_session, clock):
    colleague = make_person("t3", unit=org.branch_a)
    session = make_session([org.teacher, colleague])
    row = row_of(session, colleague)
    row.status, row.checked_in_at = AttendanceStatus.LATE, clock.now
    db.session.commit()
    login(org.secretary)
    page = client.get(f"/manage/sessions/{session.id}/checkin/screen")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert session.topic in html and 'id="screen-qr"' in html
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None  # no inline script (CSP)
    assert "js/checkin-screen.js" in html

    clock.advance(seconds=7)
    state = client.get(f"/manage/sessions/{session.id}/checkin/screen.json").get_json()
    step = checkin.step_of(clock.now)
    expected_url = f"http://localhost{scan_url(session, step)}"
    assert state["url"] == expected_url
    # The QR code encodes exactly that URL.
    assert state["qr"] == segno.make(expected_url, error="m", micro=False).svg_data_uri(
        border=4, omitsize=True)
    assert state["code"].replace(" ", "") == checkin.code_for(session, step)
    assert (state["checked_in"], state["expected"], state["state"]) == (1, 2, "open")
    # Asked again just after the step changes; the code shown lives 13 s more.
    assert state["refresh_ms"] == 3250 and state["valid_ms"] == 13000


def test_the_screen_hides_the_code_outside_the_window(client, org, login, make_session,
                                                      clock):
    early = make_session(starts_in=timedelta(hours=1))
    login(org.secretary)
    state = client.get(f"/manage/sessions/{early.id}/checkin/screen.json").get_json()
    assert state["state"] == "not_open" and state["qr"] is None and state["code"] is None
    assert state["refresh_ms"] <= 5000


def test_reloading_the_screen_never_breaks_a_code(client, org, login, make_session, clock):
    session = make_session()
    login(org.secretary)
    url = f"/manage/sessions/{session.id}/checkin/screen.json"
    first = client.get(url).get_json()
    for _ in range(3):
        client.get(f"/manage/sessions/{session.id}/checkin/screen")
    assert client.get(url).get_json()["url"] == first["url"]
    client.post("/logout")
    login(org.teacher)
    clock.advance(seconds=12)
    assert outcome_of(follow(client, client.get(urlsplit(first["url"]).path))) == "checked_in"


@pytest.mark.parametrize("who", ["teacher", "outsider", "other_secretary"])
def test_the_screen_is_for_the_organisers_only(client, org, login, make_person, make_session,
                                               clock, who):
    session = make_session()
    person = (make_person("sec-b", unit=org.gen_b, role=Role.SECRETARY, manages=[org.gen_b])
              if who == "other_secretary" else getattr(org, who))
    login(person)
    for url in (f"/manage/sessions/{session.id}/checkin/screen",
                f"/manage/sessions/{session.id}/checkin/screen.json",
                f"/manage/sessions/{session.id}/checkin"):
        assert client.get(url).status_code == 404, url


def test_the_recorder_may_run_the_screen_and_anonymous_visitors_log_in(client, org, login,
                                                                       make_session, clock):
    session = make_session(recorder_id=org.teacher.id)
    url = f"/manage/sessions/{session.id}/checkin/screen"
    assert urlsplit(client.get(url).location).path == "/login"
    login(org.teacher)
    assert client.get(url).status_code == 200
    draft = make_session(status=SessionStatus.DRAFT, recorder_id=org.teacher.id)
    assert client.get(f"/manage/sessions/{draft.id}/checkin/screen").status_code == 404


# --- in Chinese, on a phone -----------------------------------------------------------------

@pytest.mark.parametrize(("offset", "words"), [
    (timedelta(0), ["签到成功", "出席"]),
    (timedelta(minutes=10), ["签到成功", "迟到"]),
    (-timedelta(hours=1), ["签到未开放", "开放"]),
    (timedelta(hours=2), ["签到已结束"]),
])
def test_the_result_page_says_what_happened_in_chinese(client, org, login, make_session,
                                                       clock, offset, words):
    client.set_cookie("lang", "zh_CN")
    session = make_session(starts_in=-offset)
    login(org.teacher)
    response = scan(client, session, clock)
    if response.status_code == 302:
        response = follow(client, response)
    text = response.get_data(as_text=True)
    assert all(word in text for word in words), text
    assert 'name="viewport" content="width=device-width' in text


def test_the_refusals_in_chinese(client, org, login, make_session, clock):
    client.set_cookie("lang", "zh_CN")
    session = make_session([org.teacher])
    login(org.teacher)
    assert "二维码已过期，请重新扫描" in scan(client, session, clock,
                                       checkin.step_of(clock.now) - 2).get_data(as_text=True)
    follow(client, scan(client, session, clock))
    assert "已签到过" in follow(client, scan(client, session, clock)).get_data(as_text=True)
    client.post("/logout")
    login(org.outsider)
    assert "您不在本次活动的应到名单中" in scan(client, session, clock).get_data(as_text=True)


def test_counts_read_in_one_query(app, org, make_person, make_session, clock, count_queries):
    people = [make_person(f"p{i}", unit=org.branch_a) for i in range(5)]
    session = make_session(people)
    db.session.execute(sa.update(Attendance).where(
        Attendance.person_id.in_([p.id for p in people[:3]])).values(
        status=AttendanceStatus.PRESENT))
    db.session.commit()
    with count_queries() as log:
        assert checkin.get_checkin_counts(session.id) == (3, 5)
    assert len(log) == 1


def test_the_session_pages_lead_to_check_in(client, org, login, make_session, clock):
    session = make_session()
    login(org.secretary)
    page = client.get(f"/manage/sessions/{session.id}").get_data(as_text=True)
    assert f"/manage/sessions/{session.id}/checkin/screen" in page
    assert f"/manage/sessions/{session.id}/checkin\"" in page
    client.post("/logout")
    login(org.teacher)
    page = client.get(f"/sessions/{session.id}").get_data(as_text=True)
    assert 'href="/checkin"' in page
