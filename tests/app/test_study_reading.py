"""Reading credit that cannot be faked, completion (我已学完) and the reader's pages.

The credit tests drive the operation with a controllable clock: each heartbeat is given
the server time it arrives at, so replays, gaps, second tabs and hidden pages are exact."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.study import reading
from studyhall.study.models import (
    AssignmentRecipient,
    AssignmentStatus,
    ReadingProgress,
    ReadingState,
    Reflection,
    ReflectionStatus,
)
from tests.app.study_fixtures_s2 import *  # noqa: F403  (fixtures)
from tests.app.study_fixtures_s2 import add_version, progress_of

SECOND = timedelta(seconds=1)


def opened(study_, person, at):
    found = reading.find_reading(study_.assignment, study_.material.id, person.id)
    reading.open_reading(found, person.id, at)
    db.session.commit()
    return found


def beat(study_, person, at, token="tab-a", active=True, material=None):
    result = reading.heartbeat(study_.assignment.id, (material or study_.material).id,
                               person.id, token, active, at)
    db.session.commit()
    return result


def credited(study_, person, material=None) -> float:
    return progress_of(study_.assignment, person, material or study_.material).credited_ms / 1000


# --- credit -----------------------------------------------------------------------------

def test_first_open_keeps_the_version_current_then(study, org, make_person):
    t0 = utcnow()
    found = opened(study, org.teacher, t0)
    first = found.progress.version_id
    add_version(study.material, "修订版")
    again = reading.find_reading(study.assignment, study.material.id, org.teacher.id)
    reading.open_reading(again, org.teacher.id, t0 + 60 * SECOND)
    assert again.progress.version_id == first
    assert again.version.title == "中国共产党纪律处分条例（节选）"


def test_a_beat_earns_the_time_since_the_last_one(study, org):
    t0 = utcnow()
    opened(study, org.teacher, t0)
    beat(study, org.teacher, t0, active=False)       # the page starts its clock
    beat(study, org.teacher, t0 + 10 * SECOND)
    assert credited(study, org.teacher) == 10
    beat(study, org.teacher, t0 + 22 * SECOND)
    assert credited(study, org.teacher) == 22


def test_one_beat_earns_at_most_15_seconds(study, org):
    t0 = utcnow()
    opened(study, org.teacher, t0)
    beat(study, org.teacher, t0 + 40 * SECOND)
    assert credited(study, org.teacher) == 15


def test_after_a_long_gap_a_beat_earns_15_seconds_not_the_gap(study, org):
    t0 = utcnow()
    opened(study, org.teacher, t0)
    beat(study, org.teacher, t0 + 15 * SECOND)
    beat(study, org.teacher, t0 + 3600 * SECOND)     # a laptop closed for an hour
    assert credited(study, org.teacher) == 30


def test_the_first_beat_earns_no_more_than_the_time_since_opening(study, org):
    t0 = utcnow()
    opened(study, org.teacher, t0)
    beat(study, org.teacher, t0 + 4 * SECOND)
    assert credited(study, org.teacher) == 4


def test_wall_clock_since_opening_caps_the_total(study, org):
    """Even with the last beat pushed back (a clock step, a bug), the total never
    exceeds the time since the material was opened."""
    t0 = utcnow()
    found = opened(study, org.teacher, t0)
    rp = ReadingProgress.__table__
    db.session.execute(sa.update(rp).where(rp.c.person_id == org.teacher.id).values(
        credited_ms=18_000, last_beat_ms=found.progress.opened_ms - 60_000))
    db.session.commit()
    beat(study, org.teacher, t0 + 20 * SECOND)
    assert credited(study, org.teacher) == 20
    beat(study, org.teacher, t0 + 20 * SECOND)
    assert credited(study, org.teacher) == 20


def test_beats_replayed_at_ten_times_speed_earn_only_real_time(study, org):
    """A script sends a beat every 1.5 s instead of every 15 s for a minute: it earns the
    minute, not ten minutes; a burst of beats at one instant earns nothing more."""
    t0 = utcnow()
    opened(study, org.teacher, t0)
    for n in range(1, 41):
        beat(study, org.teacher, t0 + n * 1.5 * SECOND)
    assert credited(study, org.teacher) == 60
    for _ in range(10):
        beat(study, org.teacher, t0 + 60 * SECOND)
    assert credited(study, org.teacher) == 60


def test_a_hidden_page_earns_nothing(study, org):
    """Beats that say the page was hidden (or idle) credit nothing, and restart the clock:
    the first reading beat after them earns only the time since."""
    t0 = utcnow()
    opened(study, org.teacher, t0)
    for n in range(1, 9):
        beat(study, org.teacher, t0 + n * 15 * SECOND, active=False)
    assert credited(study, org.teacher) == 0
    beat(study, org.teacher, t0 + 125 * SECOND)
    assert credited(study, org.teacher) == 5
    assert progress_of(study.assignment, org.teacher, study.material).beats == 1


def test_a_second_tab_earns_nothing_while_the_first_reads(study, org):
    t0 = utcnow()
    opened(study, org.teacher, t0)
    assert beat(study, org.teacher, t0, "tab-a", False).holds
    assert beat(study, org.teacher, t0 + 15 * SECOND, "tab-a").holds
    second = beat(study, org.teacher, t0 + 16 * SECOND, "tab-b")
    assert not second.holds and second.credited_ms == 15_000
    assert beat(study, org.teacher, t0 + 30 * SECOND, "tab-a").holds
    assert not beat(study, org.teacher, t0 + 31 * SECOND, "tab-b").holds
    assert credited(study, org.teacher) == 30
    # The first tab falls silent: after 30 s the second takes over, within the caps.
    taken = beat(study, org.teacher, t0 + 61 * SECOND, "tab-b")
    assert taken.holds and taken.credited_ms == 45_000
    assert not beat(study, org.teacher, t0 + 70 * SECOND, "tab-a").holds
    assert credited(study, org.teacher) == 45


def test_two_materials_in_two_tabs_do_not_double_the_time(org, make_material,
                                                          make_assignment):
    """Each beat counts only the time since the person's latest beat on any material."""
    first, second = make_material("甲"), make_material("乙")
    assignment = make_assignment([first, second])
    study_ = type("S", (), {"assignment": assignment, "material": first})
    t0 = utcnow()
    for material in (first, second):
        found = reading.find_reading(assignment, material.id, org.teacher.id)
        reading.open_reading(found, org.teacher.id, t0)
    db.session.commit()
    for n in range(1, 9):                      # two minutes, both tabs beating
        beat(study_, org.teacher, t0 + (n * 15 - 5) * SECOND, "a", material=first)
        beat(study_, org.teacher, t0 + n * 15 * SECOND, "b", material=second)
    total = credited(study_, org.teacher, first) + credited(study_, org.teacher, second)
    assert total == 120


def test_simultaneous_beats_of_one_person_take_turns(app, org, make_material,
                                                     make_assignment):
    """Two beats of one person on two materials at the same moment: the second waits for
    the first (SQLite's write lock; PostgreSQL's advisory lock on the person) and so
    sees it, instead of both counting the same seconds."""
    first, second = make_material("甲"), make_material("乙")
    assignment = make_assignment([first, second])
    t0 = utcnow()
    for material in (first, second):
        reading.open_reading(reading.find_reading(assignment, material.id, org.teacher.id),
                             org.teacher.id, t0)
    db.session.commit()
    results = {}

    def other_tab():
        with app.app_context():
            results["beat"] = reading.heartbeat(assignment.id, second.id, org.teacher.id, "b",
                                                True, t0 + 10_500 * SECOND / 1000)
            db.session.commit()
            db.session.remove()

    reading.heartbeat(assignment.id, first.id, org.teacher.id, "a", True, t0 + 10 * SECOND)
    thread = threading.Thread(target=other_tab)
    thread.start()
    thread.join(timeout=0.5)         # it waits for this transaction
    db.session.commit()
    thread.join()
    assert results["beat"].credited_ms == 500


def test_a_closed_assignment_credits_nothing(study, org):
    t0 = utcnow()
    opened(study, org.teacher, t0)
    study.assignment.status = AssignmentStatus.CLOSED
    db.session.commit()
    assert beat(study, org.teacher, t0 + 10 * SECOND) is None
    assert credited(study, org.teacher) == 0


def test_a_beat_for_a_material_never_opened_finds_nothing(study, org):
    assert beat(study, org.teacher, utcnow()) is None


# --- the state rule ---------------------------------------------------------------------

@pytest.mark.parametrize(("done", "started", "late", "closed", "expected"), [
    (None, False, False, False, ReadingState.NOT_STARTED),
    (None, True, False, False, ReadingState.IN_PROGRESS),
    ("early", True, False, False, ReadingState.COMPLETED),
    ("early", True, True, True, ReadingState.COMPLETED),
    ("late", True, True, False, ReadingState.COMPLETED_LATE),
    (None, True, True, False, ReadingState.OVERDUE),
    (None, False, True, False, ReadingState.OVERDUE),
    (None, True, False, True, ReadingState.OVERDUE),
])
def test_reading_states(done, started, late, closed, expected):
    due = utcnow()
    completed = {"early": due - SECOND, "late": due + SECOND, None: None}[done]
    now = due + SECOND if late else due - SECOND
    assert reading.reading_state(completed, started, due, now, closed) is expected


# --- completion -------------------------------------------------------------------------

def test_completion_waits_for_the_minimum_time(study, org):
    t0 = utcnow()
    found = opened(study, org.teacher, t0)
    beat(study, org.teacher, t0 + 15 * SECOND)
    with pytest.raises(reading.ReadingError) as refused:
        reading.complete_reading(found, org.teacher.id, t0 + 16 * SECOND)
    assert refused.value.code == "too_early"
    for n in range(2, 5):
        beat(study, org.teacher, t0 + n * 15 * SECOND)
    db.session.refresh(found.progress)
    assert reading.complete_reading(found, org.teacher.id, t0 + 61 * SECOND)
    db.session.commit()
    assert progress_of(study.assignment, org.teacher, study.material).completed_at is not None
    # A double click completes once.
    assert not reading.complete_reading(found, org.teacher.id, t0 + 62 * SECOND)


def test_the_assignment_minimum_overrides_the_materials(org, make_material, make_assignment):
    material = make_material(min_seconds=600)
    assignment = make_assignment([material], min_seconds=15)
    found = reading.find_reading(assignment, material.id, org.teacher.id)
    assert found.min_seconds == 15


def read_for(study_, person, seconds, t0):
    for n in range(1, seconds // 15 + 1):
        beat(study_, person, t0 + n * 15 * SECOND)


def test_the_recipient_is_done_when_every_material_is(org, make_material, make_assignment):
    first, second = make_material("甲", min_seconds=15), make_material("乙", min_seconds=15)
    assignment = make_assignment([first, second])
    t0 = utcnow()
    for index, material in enumerate((first, second)):
        study_ = type("S", (), {"assignment": assignment, "material": material})
        start = t0 + index * 100 * SECOND
        found = opened(study_, org.teacher, start)
        read_for(study_, org.teacher, 15, start)
        db.session.refresh(found.progress)
        reading.complete_reading(found, org.teacher.id, start + 20 * SECOND)
        db.session.commit()
        recipient = db.session.get(AssignmentRecipient, (assignment.id, org.teacher.id))
        db.session.refresh(recipient)
        assert (recipient.completed_at is None) == (index == 0)
    assert recipient.completed_at == t0 + 120 * SECOND


def test_the_last_two_materials_finished_at_once_complete_the_assignment(
        app, org, make_material, make_assignment):
    """Two tabs finish the last two materials at the same moment: the second to get the
    recipient's row sees the first, so the assignment is completed."""
    first, second = make_material("甲", min_seconds=0), make_material("乙", min_seconds=0)
    assignment = make_assignment([first, second])
    t0 = utcnow()
    for material in (first, second):
        reading.open_reading(reading.find_reading(assignment, material.id, org.teacher.id),
                             org.teacher.id, t0)
    db.session.commit()

    def other_tab():
        with app.app_context():
            found = reading.find_reading(assignment, second.id, org.teacher.id)
            reading.complete_reading(found, org.teacher.id, t0 + 20 * SECOND)
            db.session.commit()
            db.session.remove()

    found = reading.find_reading(assignment, first.id, org.teacher.id)
    reading.complete_reading(found, org.teacher.id, t0 + 20 * SECOND)
    thread = threading.Thread(target=other_tab)
    thread.start()
    thread.join(timeout=0.5)         # it waits for this transaction
    db.session.commit()
    thread.join()
    db.session.expire_all()
    recipient = db.session.get(AssignmentRecipient, (assignment.id, org.teacher.id))
    assert recipient.completed_at == t0 + 20 * SECOND


def test_a_required_reflection_must_be_submitted_too(org, make_material, make_assignment):
    material = make_material(min_seconds=15)
    assignment = make_assignment([material], requires_reflection=True)
    study_ = type("S", (), {"assignment": assignment, "material": material})
    t0 = utcnow()
    found = opened(study_, org.teacher, t0)
    read_for(study_, org.teacher, 15, t0)
    db.session.refresh(found.progress)
    reading.complete_reading(found, org.teacher.id, t0 + 20 * SECOND)
    db.session.commit()
    recipient = db.session.get(AssignmentRecipient, (assignment.id, org.teacher.id))
    assert recipient.completed_at is None
    reflection = Reflection(person_id=org.teacher.id, assignment_id=assignment.id,
                            status=ReflectionStatus.SUBMITTED, body="心得",
                            submitted_at=t0 + 300 * SECOND)
    db.session.add(reflection)
    reading.refresh_assignment_completion(assignment, org.teacher.id)
    assert recipient.completed_at == t0 + 300 * SECOND
    reflection.status = ReflectionStatus.RETURNED
    reading.refresh_assignment_completion(assignment, org.teacher.id)
    assert recipient.completed_at is None


def test_submitting_and_returning_the_reflection_moves_completion(org, make_material,
                                                                 make_assignment):
    """Through the reflections' own operations: submitting completes the assignment
    whose materials are done; returning it for revision undoes that."""
    from studyhall.study import reflections
    from studyhall.study.reflection_targets import AssignmentTarget

    material = make_material(min_seconds=15)
    assignment = make_assignment([material], requires_reflection=True)
    study_ = type("S", (), {"assignment": assignment, "material": material})
    t0 = utcnow()
    found = opened(study_, org.teacher, t0)
    read_for(study_, org.teacher, 15, t0)
    db.session.refresh(found.progress)
    reading.complete_reading(found, org.teacher.id, t0 + 20 * SECOND)
    recipient = db.session.get(AssignmentRecipient, (assignment.id, org.teacher.id))
    assert recipient.completed_at is None
    version = reflections.submit(AssignmentTarget(assignment), org.teacher, "学" * 320, 0,
                                 t0 + 60 * SECOND)
    assert recipient.completed_at == t0 + 60 * SECOND
    reflections.review(version.reflection, version.number, org.secretary, reflections.RETURNED,
                       "请结合工作实际修改。", t0 + 90 * SECOND)
    assert recipient.completed_at is None


# --- pages and the heartbeat endpoint ---------------------------------------------------

def page_url(study_, material=None):
    return (f"/study/assignments/{study_.assignment.id}/materials/"
            f"{(material or study_.material).id}")


def test_opening_the_page_creates_the_progress(client, login, study, org):
    login(org.teacher)
    response = client.get(page_url(study))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "党员必须遵守党的纪律" in html and 'data-token="' in html
    assert "js/reading.js" in html and "<script>" not in html
    assert progress_of(study.assignment, org.teacher, study.material) is not None


def test_the_assignment_page_lists_the_materials(client, login, study, org):
    login(org.teacher)
    html = client.get(f"/study/assignments/{study.assignment.id}").get_data(as_text=True)
    assert "中国共产党纪律处分条例（节选）" in html and page_url(study) in html
    assert "Not yet started" in html


@pytest.mark.parametrize("who", ["outsider", "secretary", "admin"])
def test_only_expected_readers_open_an_assignment(client, login, study, org, who):
    login(getattr(org, who))
    assert client.get(f"/study/assignments/{study.assignment.id}").status_code == 404
    assert client.get(page_url(study)).status_code == 404
    assert client.post(page_url(study) + "/beat",
                       json={"token": "abc", "active": True}).status_code == 404
    assert progress_of(study.assignment, getattr(org, who), study.material) is None


def test_a_draft_or_another_assignments_material_is_not_found(client, login, org, study,
                                                              make_material, make_assignment):
    draft = make_assignment([study.material], status=AssignmentStatus.DRAFT)
    other = make_material("别的资料")
    login(org.teacher)
    assert client.get(f"/study/assignments/{draft.id}").status_code == 404
    assert client.get(f"/study/assignments/{study.assignment.id}/materials/{other.id}"
                      ).status_code == 404


def test_before_the_start_the_material_does_not_open(client, login, org, make_material,
                                                     make_assignment):
    material = make_material()
    later = make_assignment([material], starts_at=utcnow() + timedelta(days=1),
                            due_at=utcnow() + timedelta(days=3))
    login(org.teacher)
    response = client.get(f"/study/assignments/{later.id}/materials/{material.id}")
    assert response.status_code == 302
    assert progress_of(later, org.teacher, material) is None


def test_the_heartbeat_endpoint(client, login, study, org):
    login(org.teacher)
    url = page_url(study) + "/beat"
    assert client.post(url, json={"token": "tab-a", "active": True}).status_code == 404
    client.get(page_url(study))
    reply = client.post(url, json={"token": "tab-a", "active": True})
    assert reply.status_code == 200 and reply.json["ok"] and reply.json["held"]
    other = client.post(url, json={"token": "tab-b", "active": True}).json
    assert other["held"] is False and "another window" in other["message"]


@pytest.mark.parametrize("body", [
    {"token": "tab-a"}, {"token": "tab-a", "active": "yes"}, {"token": "", "active": True},
    {"token": "x" * 33, "active": True}, {"token": "<script>", "active": True},
    {"token": 5, "active": True}, ["tab-a", True],
])
def test_malformed_heartbeats_are_refused(client, login, study, org, body):
    login(org.teacher)
    client.get(page_url(study))
    assert client.post(page_url(study) + "/beat", json=body).status_code == 400


def test_an_oversized_heartbeat_is_refused(client, login, study, org):
    login(org.teacher)
    client.get(page_url(study))
    reply = client.post(page_url(study) + "/beat",
                        json={"token": "tab-a", "active": True, "pad": "x" * 2000})
    assert reply.status_code == 413
    assert credited(study, org.teacher) == 0


def test_a_heartbeat_never_carries_a_duration(client, login, study, org):
    """Whatever the page claims, only the server's clock counts."""
    login(org.teacher)
    client.get(page_url(study))
    reply = client.post(page_url(study) + "/beat", json={
        "token": "tab-a", "active": True, "seconds": 3600, "credited_ms": 3_600_000})
    assert reply.json["credited_seconds"] < 15


def test_a_beat_after_closing_says_so(client, login, study, org):
    login(org.teacher)
    client.get(page_url(study))
    study.assignment.status = AssignmentStatus.CLOSED
    db.session.commit()
    reply = client.post(page_url(study) + "/beat", json={"token": "tab-a", "active": True})
    assert reply.status_code == 409 and reply.json["error"] == "closed"


def test_the_heartbeat_needs_the_csrf_header(database_app, study, org):
    from tests.app.conftest import _make_app

    url = page_url(study)
    db.session.commit()  # the test's own session must not hold SQLite's write lock
    app = _make_app(database_app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    client = app.test_client()
    with app.app_context():
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/login", data={"account": "t1", "password": "correct-horse-9",
                                    "csrf_token": token})
        html = client.get(url).get_data(as_text=True)
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
        assert client.post(url + "/beat", json={"token": "t", "active": True}).status_code == 400
        assert client.post(url + "/beat", json={"token": "t", "active": True},
                           headers={"X-CSRFToken": csrf}).status_code == 200
        db.session.remove()
        db.engine.dispose()


def test_a_locked_database_answers_503_with_the_menu_and_all(tmp_path, org, study):
    """SQLite's lock held past the busy timeout: the reader gets the calm 503 page. Its
    menu reads the database again; that read must not wait for the lock a second time
    (it did, and the error page itself failed with a 500)."""
    import sqlite3

    from tests.app.conftest import _make_app

    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's database lock")
    url = page_url(study)
    db.session.commit()
    app = _make_app(db.engine.url.render_as_string(hide_password=False),
                    SQLITE_BUSY_TIMEOUT_MS=50)
    client = app.test_client()
    client.set_cookie("lang", "en")
    with app.app_context():
        client.post("/login", data={"account": "t1", "password": "correct-horse-9"})
        blocker = sqlite3.connect(db.engine.url.database, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            response = client.post(url + "/complete")
            assert response.status_code == 503 and response.headers["Retry-After"] == "2"
            assert "The server is busy" in response.get_data(as_text=True)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
            db.session.remove()
            db.engine.dispose()


def test_completing_through_the_page(client, login, org, make_material, make_assignment):
    material = make_material(min_seconds=15)
    assignment = make_assignment([material])
    study_ = type("S", (), {"assignment": assignment, "material": material})
    login(org.teacher)
    client.get(page_url(study_))
    response = client.post(page_url(study_) + "/complete", follow_redirects=True)
    assert "more minute" in response.get_data(as_text=True)
    rp = ReadingProgress.__table__
    db.session.execute(sa.update(rp).values(credited_ms=15_000))
    db.session.commit()
    response = client.post(page_url(study_) + "/complete", follow_redirects=True)
    assert "this material is completed" in response.get_data(as_text=True)
    assert "Completed" in client.get(f"/study/assignments/{assignment.id}").get_data(
        as_text=True)
    again = client.post(page_url(study_) + "/complete")
    assert again.status_code == 302
    recipient = db.session.get(AssignmentRecipient, (assignment.id, org.teacher.id))
    db.session.refresh(recipient)
    assert recipient.completed_at is not None


def test_the_assignment_page_does_not_query_per_item(client, login, org, make_material,
                                                     make_assignment, make_quiz,
                                                     count_queries):
    few = make_assignment([make_material("一")])
    many = make_assignment([make_material(str(n)) for n in range(5)], quizzes=[make_quiz()])
    login(org.teacher)
    for assignment in (few, many):   # opened once, so the readers have some progress
        client.get(f"/study/assignments/{assignment.id}/materials/{assignment.items[0].material_id}")
    with count_queries() as one:
        client.get(f"/study/assignments/{few.id}")
    with count_queries() as six:
        html = client.get(f"/study/assignments/{many.id}").get_data(as_text=True)
    assert len(six) == len(one) + 1, six     # the quiz titles
    assert "党纪党规知识测试" in html and html.count('class="card study-item"') == 6


def test_a_quiz_item_needs_a_submitted_attempt(client, login, org, make_material,
                                               make_assignment, make_quiz):
    """Completion counts quiz items: not done with the material read and the quiz only
    started; done once the attempt is submitted, the next time the reader opens the
    assignment (a quiz has no hook into study), at the time of the submission."""
    from decimal import Decimal

    from studyhall.quizzes.models import Attempt, AttemptStatus

    material, quiz = make_material(min_seconds=15), make_quiz()
    assignment = make_assignment([material], quizzes=[quiz])
    study_ = type("S", (), {"assignment": assignment, "material": material})
    t0 = utcnow()
    found = opened(study_, org.teacher, t0)
    read_for(study_, org.teacher, 15, t0)
    db.session.refresh(found.progress)
    assert reading.complete_reading(found, org.teacher.id, t0 + 20 * SECOND)
    attempt = Attempt(quiz_id=quiz.id, person_id=org.teacher.id, started_at=t0,
                      deadline_at=t0 + timedelta(hours=1), max_score=Decimal(100), seed="s")
    db.session.add(attempt)
    db.session.commit()
    recipient = db.session.get(AssignmentRecipient, (assignment.id, org.teacher.id))
    assert recipient.completed_at is None
    login(org.teacher)
    client.get(f"/study/assignments/{assignment.id}")
    db.session.expire_all()
    assert recipient.completed_at is None             # the attempt is still in progress

    attempt.status, attempt.submitted_at = AttemptStatus.SUBMITTED, t0 + 600 * SECOND
    db.session.commit()
    client.get(f"/study/assignments/{assignment.id}")
    db.session.expire_all()
    assert recipient.completed_at == t0 + 600 * SECOND
    assert reading.refresh_assignment_completion(assignment, org.teacher.id) == (
        t0 + 600 * SECOND)
