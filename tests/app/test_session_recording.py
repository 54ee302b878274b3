"""A recorded 党课 (issue 9, item 1): its recording is given to the expected attendees as
a study assignment at publication; completing it under study's rules (minimum time,
我已学完) marks the person 出席, as self-service, never over a mark or a leave."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.sessions import operations, recording
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    LeaveState,
    SessionKind,
)
from studyhall.study import reading
from studyhall.study.models import Assignment, AssignmentRecipient, MaterialKind
from tests.app.session_fixtures_e1 import *  # noqa: F403  (fixtures)
from tests.app.session_fixtures_e1 import text
from tests.app.study_fixtures_s1 import *  # noqa: F401,F403  (make_material)

SECOND = timedelta(seconds=1)


@pytest.fixture()
def lecture(branch, make_material, make_session):
    """A 党课 held two hours ago whose recording (a video, one minute at least) the
    secretary linked; published, so the branch's members have it to watch."""
    video = make_material("党课录像：学习二十届三中全会精神", kind=MaterialKind.VIDEO, body="",
                          url="https://video.example.cn/dangke", owner=branch.gen_a,
                          actor=branch.secretary, min_reading_minutes=1)
    session = make_session("held", kind=SessionKind.PARTY_LECTURE,
                           recording_material_id=video.id, speaker="王书记")
    return session, video


def _status(session, person):
    db.session.expire_all()
    return db.session.get(Attendance, (session.id, person.id))


def _watch(session, video, person, seconds: int):
    """Open the recording in study's reader, beat for ``seconds``, then 我已学完."""
    assignment = db.session.get(Assignment, session.recording_assignment_id)
    found = reading.find_reading(assignment, video.id, person.id)
    t0 = utcnow()
    reading.open_reading(found, person.id, t0)
    db.session.commit()
    for n in range(1, seconds // 15 + 1):
        reading.heartbeat(assignment.id, video.id, person.id, "tab", True, t0 + n * 15 * SECOND)
        db.session.commit()
    db.session.refresh(found.progress)
    done = reading.complete_reading(found, person.id, t0 + (seconds + 1) * SECOND)
    db.session.commit()
    return done


def test_publishing_gives_the_recording_to_exactly_the_expected(branch, lecture):
    session, video = lecture
    assignment = db.session.get(Assignment, session.recording_assignment_id)
    assert [item.material_id for item in assignment.items] == [video.id]
    assert assignment.starts_at == session.starts_at
    readers = set(db.session.scalars(sa.select(AssignmentRecipient.person_id).where(
        AssignmentRecipient.assignment_id == assignment.id)))
    expected = set(db.session.scalars(sa.select(Attendance.person_id).where(
        Attendance.session_id == session.id)))
    assert readers == expected and branch.teacher.id in readers
    assert branch.outsider.id not in readers


def test_watched_to_the_end_is_present(branch, lecture):
    session, video = lecture
    assert _watch(session, video, branch.teacher, 60)
    row = _status(session, branch.teacher)
    assert row.status is AttendanceStatus.PRESENT
    assert row.method == recording.METHOD and row.marked_by_id is None
    assert row.checked_in_at is not None


def test_partly_watched_is_not_present(branch, lecture):
    session, video = lecture
    with pytest.raises(reading.ReadingError):
        _watch(session, video, branch.teacher, 30)
    db.session.rollback()
    assert _status(session, branch.teacher).status is None


def test_watching_never_overwrites_a_mark_or_a_locked_record(branch, lecture):
    session, video = lecture
    operations.mark_attendance(branch.secretary, session, branch.wu.id,
                               AttendanceStatus.ABSENT)
    db.session.commit()
    assert _watch(session, video, branch.wu, 60)
    assert _status(session, branch.wu).status is AttendanceStatus.ABSENT
    # Approved leave is left alone too.
    row = _status(session, branch.zheng)
    row.leave_state = LeaveState.APPROVED
    row.status, row.method = AttendanceStatus.EXCUSED, "leave"
    db.session.commit()
    assert _watch(session, video, branch.zheng, 60)
    assert _status(session, branch.zheng).status is AttendanceStatus.EXCUSED


def test_someone_not_expected_gains_nothing(client, login, branch, lecture):
    session, video = lecture
    assert recording.recording_watched(session.recording_assignment_id, video.id,
                                       branch.outsider.id, utcnow()) == 0
    assert db.session.get(Attendance, (session.id, branch.outsider.id)) is None
    login(branch.outsider)
    reader = (f"/study/assignments/{session.recording_assignment_id}"
              f"/materials/{video.id}")
    assert client.get(reader).status_code == 404
    assert client.get(f"/sessions/{session.id}").status_code == 404


def test_the_attendee_page_offers_the_recording(client, login, branch, lecture):
    session, video = lecture
    login(branch.teacher)
    page = text(client.get(f"/sessions/{session.id}"))
    reader = f"/study/assignments/{session.recording_assignment_id}/materials/{video.id}"
    assert reader in page
    assert client.get(reader).status_code == 200


def test_a_published_lecture_keeps_its_recording(branch, lecture, make_material):
    session, _video = lecture
    other = make_material("另一段录像", kind=MaterialKind.VIDEO, body="",
                          url="https://video.example.cn/2", owner=branch.gen_a,
                          actor=branch.secretary)
    with pytest.raises(operations.SessionError):
        operations.update_session(branch.secretary, session,
                                  {"recording_material_id": other.id})


def test_cancelling_the_lecture_closes_its_recording(branch, make_material, make_session):
    from studyhall.study.models import AssignmentStatus

    video = make_material("党课录像", kind=MaterialKind.VIDEO, body="",
                          url="https://video.example.cn/3", owner=branch.gen_a,
                          actor=branch.secretary)
    session = make_session("published", kind=SessionKind.PARTY_LECTURE,
                           recording_material_id=video.id)
    operations.cancel_session(branch.secretary, session)
    db.session.commit()
    assignment = db.session.get(Assignment, session.recording_assignment_id)
    assert assignment.status is AssignmentStatus.CLOSED


def test_a_lecture_without_a_recording_gives_nothing(branch, make_session):
    session = make_session("held", kind=SessionKind.PARTY_LECTURE)
    assert session.recording_assignment_id is None
    assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0


def test_a_recording_added_after_publication_is_given_then(branch, make_material,
                                                           make_session):
    video = make_material("补录的党课录像", kind=MaterialKind.VIDEO, body="",
                          url="https://video.example.cn/4", owner=branch.gen_a,
                          actor=branch.secretary)
    session = make_session("held", kind=SessionKind.PARTY_LECTURE)
    operations.update_session(branch.secretary, session, {"recording_material_id": video.id})
    db.session.commit()
    assert session.recording_assignment_id is not None
    assert _watch(session, video, branch.teacher, 0)
    assert _status(session, branch.teacher).status is AttendanceStatus.PRESENT
