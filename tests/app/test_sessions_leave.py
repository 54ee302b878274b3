"""Leave (请假): asked by an attendee before the session with a reason, decided by the
organiser; approval changes the figures (请假 beside 缺席, and the rate's denominator
as the session says), refusal and withdrawal undo it; nobody else can ask or decide."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from studyhall.extensions import db
from studyhall.figures import rate_value
from studyhall.model_helpers import utcnow
from studyhall.org.models import Role
from studyhall.sessions import operations, queries
from studyhall.sessions.models import Attendance, AttendanceStatus, LeaveState, StudySession
from studyhall.sessions.operations import SessionError
from tests.app.session_fixtures_e1 import *  # noqa: F403  (fixtures)
from tests.app.session_fixtures_e1 import text


def row_of(session, person) -> Attendance:
    db.session.expire_all()
    return db.session.get(Attendance, (session.id, person.id))


def ask(client, session, reason="下午到市教育局参加培训"):
    return client.post(f"/sessions/{session.id}/leave", data={"reason": reason})


def test_a_teacher_asks_for_leave_and_the_organiser_sees_it(client, login, branch,
                                                            make_session):
    session = make_session("published")
    login(branch.teacher)
    page = text(client.get(f"/sessions/{session.id}"))
    assert "You are expected" in page and "Ask for leave" in page
    assert ask(client, session).status_code == 302
    row = row_of(session, branch.teacher)
    assert row.leave_state is LeaveState.REQUESTED and row.status is None
    assert row.leave_reason == "下午到市教育局参加培训" and row.leave_requested_at
    assert "Leave requested" in text(client.get(f"/sessions/{session.id}"))
    assert queries.get_counts(session).leave_requested == 1
    client.post("/logout")
    login(branch.secretary)
    page = text(client.get(f"/manage/sessions/{session.id}"))
    assert "Leave requests" in page and "下午到市教育局参加培训" in page


def test_approving_leave_changes_the_counts_and_the_rate(client, login, branch,
                                                          make_session):
    session = make_session("published")
    operations.request_leave(session, row_of(session, branch.teacher), "生病")
    db.session.commit()
    before = queries.get_counts(session)
    assert (before.excused, before.unmarked, before.denominator(False)) == (0, 4, 4)

    login(branch.secretary)
    response = client.post(f"/manage/sessions/{session.id}/leave/{branch.teacher.id}",
                           data={"decision": "approve"})
    assert response.status_code == 302
    row = row_of(session, branch.teacher)
    assert row.leave_state is LeaveState.APPROVED and row.status is AttendanceStatus.EXCUSED
    assert row.leave_decided_by_id == branch.secretary.id and row.method == "leave"
    after = queries.get_counts(session)
    assert (after.excused, after.unmarked, after.absent, after.leave_requested) == (1, 3, 0, 0)

    # After the session: three present. Approved leave is not absence, and it leaves
    # the denominator unless the session keeps it there.
    session = db.session.get(StudySession, session.id)
    session.starts_at = utcnow() - timedelta(hours=2)
    session.ends_at = utcnow() - timedelta(hours=1)
    operations.mark_all_present(branch.secretary, session)
    db.session.commit()
    counts = queries.get_counts(session)
    assert (counts.attended, counts.excused, counts.absent) == (3, 1, 0)
    assert rate_value(counts.attended, counts.denominator(False)) == 100
    assert rate_value(counts.attended, counts.denominator(True)) == 75
    page = text(client.get(f"/manage/sessions/{session.id}"))
    assert "Attendance rate 100.0%" in page and "approved leave is left out" in page
    session.leave_counts_as_expected = True
    db.session.commit()
    assert "Attendance rate 75.0%" in text(client.get(f"/manage/sessions/{session.id}"))


def test_refusing_after_approval_clears_the_excused_mark_only(branch, make_session):
    session = make_session("published")
    row = row_of(session, branch.teacher)
    operations.request_leave(session, row, "生病")
    operations.decide_leave(branch.secretary, session, row, approve=True)
    assert row.status is AttendanceStatus.EXCUSED
    operations.decide_leave(branch.secretary, session, row, approve=False)
    assert row.leave_state is LeaveState.REFUSED and row.status is None
    # A status the organiser tapped on the roster is theirs: a refusal keeps it.
    other = row_of(session, branch.wu)
    operations.request_leave(session, other, "家中有事")
    other.status, other.method = AttendanceStatus.EXCUSED, "roster"
    operations.decide_leave(branch.secretary, session, other, approve=False)
    assert other.status is AttendanceStatus.EXCUSED


def test_a_refused_teacher_may_ask_again_and_may_withdraw(client, login, branch,
                                                         make_session):
    session = make_session("published")
    row = row_of(session, branch.teacher)
    operations.request_leave(session, row, "有事")
    operations.decide_leave(branch.secretary, session, row, approve=False)
    db.session.commit()
    login(branch.teacher)
    page = text(client.get(f"/sessions/{session.id}"))
    assert "Your request was refused" in page and "Ask for leave" in page
    assert ask(client, session, "市里统一安排的监考任务").status_code == 302
    assert row_of(session, branch.teacher).leave_state is LeaveState.REQUESTED
    assert client.post(f"/sessions/{session.id}/leave/withdraw").status_code == 302
    row = row_of(session, branch.teacher)
    assert row.leave_state is None and row.leave_reason == "" and row.status is None


def test_withdrawing_an_approved_request_makes_the_person_expected_again(branch,
                                                                         make_session):
    session = make_session("published")
    row = row_of(session, branch.teacher)
    operations.request_leave(session, row, "生病")
    operations.decide_leave(branch.secretary, session, row, approve=True)
    operations.withdraw_leave(session, row)
    assert row.status is None and row.leave_state is None
    assert queries.get_counts(session).excused == 0


def test_leave_is_asked_before_the_session_starts_and_with_a_reason(client, login, branch,
                                                                    make_session):
    held = make_session("held")
    upcoming = make_session("published")
    login(branch.teacher)
    response = ask(client, held)
    assert response.status_code == 302
    assert "before the session starts" in text(client.get(response.location))
    assert row_of(held, branch.teacher).leave_state is None
    assert "Ask for leave" not in text(client.get(f"/sessions/{held.id}"))
    response = ask(client, upcoming, "   ")
    assert response.status_code == 422 and "Give a reason." in text(response)
    assert row_of(upcoming, branch.teacher).leave_state is None
    with pytest.raises(SessionError):
        operations.withdraw_leave(held, row_of(held, branch.teacher))


def test_leave_cannot_be_asked_for_a_cancelled_session(client, login, branch, make_session):
    session = make_session("published")
    operations.cancel_session(branch.secretary, session)
    db.session.commit()
    login(branch.teacher)
    assert "not open for leave requests" in text(client.get(ask(client, session).location))
    assert row_of(session, branch.teacher).leave_state is None


def test_only_the_organiser_decides_not_the_recorder_nor_an_outsider(
        client, login, branch, make_session, make_person):
    session = make_session("published")
    operations.request_leave(session, row_of(session, branch.teacher), "生病")
    db.session.commit()
    url = f"/manage/sessions/{session.id}/leave/{branch.teacher.id}"
    login(branch.recorder)  # a teacher: the organiser's pages are not theirs
    assert client.post(url, data={"decision": "approve"}).status_code == 403
    client.post("/logout")
    other = make_person("sec_b", unit=branch.gen_b, role=Role.SECRETARY,
                        manages=[branch.gen_b])
    login(other)
    assert client.post(url, data={"decision": "approve"}).status_code == 404
    assert row_of(session, branch.teacher).leave_state is LeaveState.REQUESTED


def test_a_decision_for_someone_not_expected_or_without_a_request_is_refused(
        client, login, branch, make_session):
    session = make_session("published")
    login(branch.secretary)
    url = f"/manage/sessions/{session.id}/leave"
    assert client.post(f"{url}/{branch.outsider.id}", data={"decision": "approve"}
                       ).status_code == 404
    response = client.post(f"{url}/{branch.wu.id}", data={"decision": "approve"},
                           follow_redirects=True)
    assert "has not asked for leave" in text(response)
    assert row_of(session, branch.wu).status is None
    assert client.post(f"{url}/{branch.wu.id}", data={"decision": "maybe"}).status_code \
        == 400


def test_a_person_can_only_ask_for_themselves(client, login, branch, make_session):
    """The URL names the session only; the row is always the viewer's own."""
    session = make_session("published")
    login(branch.wu)
    ask(client, session)
    assert row_of(session, branch.wu).leave_state is LeaveState.REQUESTED
    assert row_of(session, branch.teacher).leave_state is None
    rows = db.session.scalars(sa.select(Attendance).where(
        Attendance.session_id == session.id, Attendance.leave_state.is_not(None))).all()
    assert [r.person_id for r in rows] == [branch.wu.id]


def test_the_roster_shows_pending_requests_with_the_reason_and_decides_there(
        client, login, branch, make_session):
    session = make_session("held")
    row = row_of(session, branch.zheng)
    row.leave_state, row.leave_reason = LeaveState.REQUESTED, "孩子生病"
    db.session.commit()
    login(branch.secretary)
    page = text(client.get(f"/manage/sessions/{session.id}/roster"))
    assert "Reason: 孩子生病" in page and "Approve" in page
    response = client.post(f"/manage/sessions/{session.id}/leave/{branch.zheng.id}",
                           data={"decision": "approve", "back": "roster"})
    assert response.location.endswith(f"/manage/sessions/{session.id}/roster#leave")
    assert row_of(session, branch.zheng).status is AttendanceStatus.EXCUSED
    # 全部出席 afterwards leaves the approved leave as it is.
    client.post(f"/manage/sessions/{session.id}/roster/all-present")
    assert row_of(session, branch.zheng).status is AttendanceStatus.EXCUSED
    assert queries.get_counts(session).present == 3
