"""Organising sessions: scope (404 outside it, for every URL), creating one from the form,
default and adjusted expected attendees, publishing fixes them, editing and cancelling,
the lists, the printed sign-in sheet and attendance record, and the dashboard reminder."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from studyhall.audit import AuditEntry
from studyhall.extensions import db
from studyhall.org.models import PoliticalStatus, Role
from studyhall.sessions import operations, queries
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    SessionKind,
    SessionStatus,
    StudySession,
)
from studyhall.sessions.operations import SessionError
from tests.app.session_fixtures_e1 import *  # noqa: F403  (fixtures)
from tests.app.session_fixtures_e1 import SESSION_FORM, text


def expected_ids(session) -> set[int]:
    return set(db.session.scalars(sa.select(Attendance.person_id).where(
        Attendance.session_id == session.id)))


# --- scope ----------------------------------------------------------------------------------

def staff_urls(s: int, person: int) -> list[tuple[str, str]]:
    m = f"/manage/sessions/{s}"
    return [("GET", m), ("GET", f"{m}/edit"), ("POST", f"{m}/edit"), ("GET", f"{m}/audience"),
            ("GET", f"{m}/publish"), ("POST", f"{m}/cancel"),
            ("POST", f"{m}/leave/{person}")]


def record_urls(s: int, person: int) -> list[tuple[str, str]]:
    m = f"/manage/sessions/{s}"
    return [("GET", f"{m}/roster"), ("POST", f"{m}/roster/{person}"),
            ("POST", f"{m}/roster/all-present"), ("GET", f"{m}/record"),
            ("POST", f"{m}/record"), ("POST", f"{m}/attachments"),
            ("GET", f"{m}/attachments/1"), ("POST", f"{m}/attachments/1/delete"),
            ("POST", f"{m}/record/confirm"), ("GET", f"{m}/record/reopen"),
            ("GET", f"{m}/record/history"), ("GET", f"{m}/sign-in-sheet"),
            ("GET", f"{m}/attendance-record")]


def test_a_secretary_gets_404_for_every_url_of_a_session_outside_their_scope(
        client, login, branch, make_session, make_person):
    session = make_session("held", owner_unit_id=branch.branch_b.id, recorder_id=None,
                           actor=branch.admin)
    login(branch.secretary)
    for method, url in staff_urls(session.id, branch.outsider.id) + \
            record_urls(session.id, branch.outsider.id):
        response = client.open(url, method=method, data={"status": "present"})
        assert response.status_code == 404, (method, url)
    assert session.topic not in text(client.get("/manage/sessions/?when=all"))


def test_teachers_cannot_open_the_organisers_pages_and_others_see_nothing(
        client, login, branch, make_session):
    session = make_session("held")
    login(branch.teacher)
    assert client.get("/manage/sessions/").status_code == 403
    assert client.get("/manage/sessions/new").status_code == 403
    for method, url in staff_urls(session.id, branch.teacher.id):
        assert client.open(url, method=method).status_code in (403, 404), url
    # Not the recorder: the roster and the record are not theirs either.
    for method, url in record_urls(session.id, branch.teacher.id):
        assert client.open(url, method=method, data={"status": "present"}).status_code \
            == 404, url


def test_a_session_is_404_for_people_not_expected_and_drafts_for_everyone(
        client, login, branch, make_session):
    published, draft = make_session("published"), make_session("draft")
    login(branch.outsider)
    assert client.get(f"/sessions/{published.id}").status_code == 404
    assert client.post(f"/sessions/{published.id}/leave", data={"reason": "x"}).status_code \
        == 404
    assert published.topic not in text(client.get("/sessions/"))
    client.post("/logout")
    login(branch.teacher)
    assert client.get(f"/sessions/{published.id}").status_code == 200
    assert client.get(f"/sessions/{draft.id}").status_code == 404


def test_anonymous_visitors_are_sent_to_login(client, make_session):
    session = make_session("published")
    for url in ("/sessions/", f"/sessions/{session.id}", "/manage/sessions/",
                f"/manage/sessions/{session.id}/roster",
                f"/manage/sessions/{session.id}/sign-in-sheet"):
        response = client.get(url)
        assert response.status_code == 302 and response.location.startswith("/login"), url


# --- creating -------------------------------------------------------------------------------

def test_a_secretary_creates_a_branch_meeting_from_the_form(client, login, branch):
    login(branch.secretary)
    form = {**SESSION_FORM, "owner_unit_id": branch.branch_a.id, "host": "sec",
            "recorder": "周老师"}
    response = client.post("/manage/sessions/new", data=form)
    assert response.status_code == 302, text(response)
    session = db.session.scalar(sa.select(StudySession))
    assert session.status is SessionStatus.DRAFT and session.kind is SessionKind.BRANCH_MEETING
    # 14:30–16:00 in Asia/Shanghai is stored as naive UTC.
    assert session.starts_at == datetime(2030, 3, 12, 6, 30)
    assert session.ends_at == datetime(2030, 3, 12, 8, 0)
    assert session.host_id == branch.secretary.id
    assert session.recorder_id == branch.recorder.id
    assert session.audience == {"unit_ids": [branch.branch_a.id], "person_ids": [],
                                "statuses": []}
    assert len(session.checkin_secret) == 64
    assert not expected_ids(session)  # nobody is expected before publication


@pytest.mark.parametrize("change, message", [
    ({"end_time": "14:00"}, "The end must be after the start."),
    ({"place": ""}, "Give the place, or a link"),
    ({"online_url": "javascript:alert(1)"}, "Give a full address starting with https://"),
    ({"recorder": "赵老师"}, "Nobody of this unit is called"),  # in another branch
    ({"topic": ""}, "Give the topic."),
])
def test_the_form_says_what_is_wrong(client, login, branch, change, message):
    login(branch.secretary)
    response = client.post("/manage/sessions/new", data={
        **SESSION_FORM, "owner_unit_id": branch.branch_a.id, **change})
    assert response.status_code == 200 and message in text(response)
    assert db.session.scalar(sa.select(sa.func.count(StudySession.id))) == 0


def test_a_name_shared_by_two_people_asks_for_the_account(client, login, branch,
                                                          make_person):
    make_person("wu2", unit=branch.branch_a, name="吴老师")
    login(branch.secretary)
    response = client.post("/manage/sessions/new", data={
        **SESSION_FORM, "owner_unit_id": branch.branch_a.id, "recorder": "吴老师"})
    assert "type the account instead" in text(response)
    response = client.post("/manage/sessions/new", data={
        **SESSION_FORM, "owner_unit_id": branch.branch_a.id, "recorder": "wu2"})
    assert response.status_code == 302


def test_a_secretary_cannot_create_a_session_for_a_unit_outside_their_scope(
        client, login, branch):
    login(branch.secretary)
    response = client.post("/manage/sessions/new", data={
        **SESSION_FORM, "owner_unit_id": branch.branch_b.id})
    assert response.status_code == 200 and "Not a valid choice" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(StudySession.id))) == 0


# --- expected attendees ---------------------------------------------------------------------

def test_publishing_fixes_the_unit_and_its_subtree_with_unit_and_status_of_that_day(
        branch, make_session, make_unit, make_person):
    group = make_unit("第一党小组", branch.branch_a)
    in_group = make_person("g1", unit=group, name="孙老师")
    gone = make_person("gone", unit=branch.branch_a, name="钱老师")
    gone.is_active = False
    db.session.commit()
    session = make_session("published")
    assert expected_ids(session) == {branch.teacher.id, branch.recorder.id, branch.wu.id,
                                     branch.zheng.id, in_group.id}
    row = db.session.get(Attendance, (session.id, in_group.id))
    assert row.unit_id == group.id and row.political_status is PoliticalStatus.CPC_MEMBER
    assert row.status is None

    # Later changes of the organisation do not change the session's attendees.
    in_group.unit_id = branch.branch_b.id
    in_group.political_status = PoliticalStatus.MASSES
    make_person("new", unit=branch.branch_a, name="新老师")
    branch.wu.is_active = False
    db.session.commit()
    assert expected_ids(session) == {branch.teacher.id, branch.recorder.id, branch.wu.id,
                                     branch.zheng.id, in_group.id}
    row = db.session.get(Attendance, (session.id, in_group.id))
    assert row.unit_id == group.id and row.political_status is PoliticalStatus.CPC_MEMBER
    assert queries.get_counts(session).expected == 5


def test_a_branch_committee_expects_the_units_managers_by_default(branch, make_session,
                                                                  make_person):
    member = make_person("cm", unit=branch.branch_a, name="委员甲", manages=[branch.branch_a])
    other = make_person("cm2", unit=branch.branch_a, name="委员乙", manages=[branch.branch_a])
    session = make_session("published", kind=SessionKind.BRANCH_COMMITTEE)
    assert session.audience["person_ids"] == sorted([member.id, other.id])
    assert expected_ids(session) == {member.id, other.id}


def test_central_group_study_needs_a_named_list(client, login, branch, make_session):
    session = make_session("draft", kind=SessionKind.CENTRAL_GROUP,
                           owner_unit_id=branch.gen_a.id)
    with force_locale("en"), pytest.raises(SessionError, match="Nobody is expected"):
        operations.publish_session(branch.secretary, session)
    db.session.rollback()
    login(branch.secretary)
    response = client.post(f"/manage/sessions/{session.id}/audience",
                           data={"accounts": "t1, wu"})
    assert response.status_code == 302
    assert client.post(f"/manage/sessions/{session.id}/publish").status_code == 302
    assert expected_ids(session) == {branch.teacher.id, branch.wu.id}


def test_the_audience_is_adjusted_before_publication_and_fixed_after(
        client, login, branch, make_session):
    session = make_session("draft")
    login(branch.secretary)
    page = text(client.get(f"/manage/sessions/{session.id}/audience"))
    assert "4 people would be expected now" in page and "郑老师" in page
    # Only party members (01 and 02).
    response = client.post(f"/manage/sessions/{session.id}/audience", data={
        "unit_ids": [branch.branch_a.id], "statuses": ["01", "02"]})
    assert response.status_code == 302
    page = text(client.get(f"/manage/sessions/{session.id}/publish"))
    assert "3 people will be expected" in page and "郑老师" not in page
    client.post(f"/manage/sessions/{session.id}/publish")
    assert branch.zheng.id not in expected_ids(session)
    # Published: the audience page sends back, a forged POST changes nothing.
    response = client.post(f"/manage/sessions/{session.id}/audience", data={
        "unit_ids": [branch.branch_a.id]})
    assert response.status_code == 302
    assert db.session.get(StudySession, session.id).audience["statuses"] == ["01", "02"]
    assert len(expected_ids(session)) == 3


def test_named_people_outside_the_secretarys_scope_are_refused(client, login, branch,
                                                               make_session):
    session = make_session("draft", kind=SessionKind.CENTRAL_GROUP)
    login(branch.secretary)
    response = client.post(f"/manage/sessions/{session.id}/audience",
                           data={"accounts": "t1 t2"})
    assert response.status_code == 200 and "Not found in your units: t2" in text(response)


def test_publishing_twice_or_out_of_scope_is_refused(branch, make_session, make_person):
    session = make_session("published")
    with pytest.raises(SessionError):
        operations.publish_session(branch.secretary, session)
    other = make_person("sec_b", unit=branch.gen_b, role=Role.SECRETARY,
                        manages=[branch.gen_b])
    draft = make_session("draft")
    with force_locale("en"), pytest.raises(SessionError, match="units you manage"):
        operations.publish_session(other, draft)


# --- editing and cancelling -----------------------------------------------------------------

def test_editing_a_published_session_keeps_kind_and_unit_and_audits_the_time(
        client, login, branch, make_session):
    session = make_session("published")
    login(branch.secretary)
    form = {**SESSION_FORM, "owner_unit_id": branch.branch_a.id}
    # A forged kind is refused with the reason.
    response = client.post(f"/manage/sessions/{session.id}/edit",
                           data={**form, "kind": "party_lecture"})
    assert "keeps its kind and unit" in text(response)
    assert db.session.get(StudySession, session.id).kind is SessionKind.BRANCH_MEETING
    # Disabled inputs are not sent: the stored kind and unit stay.
    data = {k: v for k, v in form.items() if k not in ("kind", "owner_unit_id")}
    response = client.post(f"/manage/sessions/{session.id}/edit",
                           data={**data, "place": "三楼会议室"})
    assert response.status_code == 302, text(response)
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "session.update"))
    assert entry.actor_id == branch.secretary.id
    assert entry.details["changes"]["place"] == ["党员活动室", "三楼会议室"]
    assert entry.details["changes"]["starts_at"][1] == "2030-03-12T06:30:00"


def test_editing_a_draft_to_another_kind_brings_that_kinds_default_audience(
        branch, make_session, make_person):
    manager = make_person("cm", unit=branch.branch_a, name="委员", manages=[branch.branch_a])
    session = make_session("draft")
    operations.update_session(branch.secretary, session,
                              {"kind": SessionKind.BRANCH_COMMITTEE})
    assert session.audience["person_ids"] == [manager.id]
    assert session.audience["unit_ids"] == []


def test_cancelling_shows_attendees_a_cancelled_session(client, login, branch, make_session):
    session = make_session("published")
    login(branch.secretary)
    assert client.post(f"/manage/sessions/{session.id}/cancel").status_code == 302
    assert db.session.get(StudySession, session.id).status is SessionStatus.CANCELLED
    client.post("/logout")
    login(branch.teacher)
    page = text(client.get(f"/sessions/{session.id}"))
    assert "This session is cancelled." in page and "Ask for leave" not in page


def test_a_held_session_with_attendance_cannot_be_cancelled(client, login, branch,
                                                            make_session):
    session = make_session("held")
    operations.mark_attendance(branch.secretary, session, branch.teacher.id,
                               AttendanceStatus.PRESENT)
    db.session.commit()
    login(branch.secretary)
    response = client.post(f"/manage/sessions/{session.id}/cancel", follow_redirects=True)
    assert "cannot be cancelled" in text(response)
    assert db.session.get(StudySession, session.id).status is SessionStatus.PUBLISHED


# --- lists and figures ----------------------------------------------------------------------

def test_counts_come_from_one_group_by_for_many_sessions(branch, make_session,
                                                         count_queries):
    sessions = [make_session("held") for _ in range(3)]
    operations.mark_all_present(branch.secretary, sessions[0])
    operations.mark_attendance(branch.secretary, sessions[1], branch.wu.id,
                               AttendanceStatus.LATE)
    operations.mark_attendance(branch.secretary, sessions[1], branch.zheng.id,
                               AttendanceStatus.ABSENT)
    db.session.commit()
    ids = [s.id for s in sessions]
    with count_queries() as log:
        counts = queries.get_session_counts(ids)
    assert len(log) == 1 and "GROUP BY" in log[0]
    assert counts[ids[0]] == queries.SessionCounts(expected=4, present=4)
    second = counts[ids[1]]
    assert (second.expected, second.late, second.absent, second.attended, second.unmarked) \
        == (4, 1, 1, 1, 2)


def test_the_list_runs_the_same_queries_for_3_or_12_sessions(client, login, branch,
                                                             make_session, count_queries):
    for _ in range(3):
        make_session("published")
    login(branch.secretary)
    with count_queries() as few:
        client.get("/manage/sessions/")
    for _ in range(9):
        make_session("published")
    with count_queries() as many:
        page = text(client.get("/manage/sessions/"))
    assert page.count("学习贯彻党的二十届三中全会精神") == 12
    assert len(many) == len(few), many


def test_my_sessions_lists_upcoming_with_my_state(client, login, branch, make_session):
    session = make_session("published")
    held = make_session("held", topic="主题党日：重温入党誓词")
    login(branch.teacher)
    page = text(client.get("/sessions/"))
    assert session.topic in page and "Details · ask for leave" in page
    assert held.topic in page and "Not marked yet" in page


# --- printed sheets -------------------------------------------------------------------------

def test_the_sign_in_sheet_lists_names_by_unit_with_a_column_to_sign(
        client, login, branch, make_session, make_unit, make_person):
    group = make_unit("第一党小组", branch.branch_a)
    make_person("g1", unit=group, name="孙老师")
    session = make_session("published")
    login(branch.recorder)  # the recorder prints it too
    response = client.get(f"/manage/sessions/{session.id}/sign-in-sheet")
    page = text(response)
    assert response.status_code == 200
    assert "Signature" in page and "data-print" in page
    assert page.index("甲校第一支部") < page.index("李老师") < page.index("第一党小组") \
        < page.index("孙老师")
    assert "Expected 5" in page


def test_the_attendance_record_prints_figures_and_names_by_status(
        client, login, branch, make_session):
    session = make_session("held")
    for person, status in [(branch.teacher, AttendanceStatus.PRESENT),
                           (branch.recorder, AttendanceStatus.LATE),
                           (branch.wu, AttendanceStatus.ABSENT)]:
        operations.mark_attendance(branch.secretary, session, person.id, status)
    row = db.session.get(Attendance, (session.id, branch.zheng.id))
    row.status = AttendanceStatus.EXCUSED
    row.leave_reason = "外出培训"
    db.session.commit()
    login(branch.secretary)
    page = text(client.get(f"/manage/sessions/{session.id}/attendance-record"))
    # 2 attended of 4 expected less 1 on leave: 66.7%.
    assert "66.7%" in page
    assert "郑老师（外出培训）" in page and "吴老师" in page


# --- the dashboard reminder -----------------------------------------------------------------

def test_working_days_skip_weekends_holidays_and_count_adjusted_workdays():
    friday = date(2026, 12, 4)
    assert queries.add_working_days(friday, 3) == date(2026, 12, 9)  # Mon, Tue, Wed
    assert queries.add_working_days(friday, 3, holidays={date(2026, 12, 7)}) \
        == date(2026, 12, 10)
    assert queries.add_working_days(friday, 1, workdays={date(2026, 12, 5)}) \
        == date(2026, 12, 5)
    assert queries.working_days_between(friday, date(2026, 12, 9)) == 3
    assert queries.working_days_between(friday, friday) == 0


def test_the_organiser_is_reminded_with_the_working_days_left(
        app, branch, make_session):
    # A meeting on Tuesday 8 December 2026, 14:00–15:00 in Shanghai (06:00 UTC).
    session = make_session("held", starts_at=datetime(2026, 12, 8, 6),
                           ends_at=datetime(2026, 12, 8, 7))
    locked = make_session("held", starts_at=datetime(2026, 12, 8, 6),
                          ends_at=datetime(2026, 12, 8, 7))
    locked.record_locked_at = datetime(2026, 12, 8, 8)
    db.session.commit()
    with app.test_request_context():
        evening = queries.get_record_reminders(branch.secretary, datetime(2026, 12, 8, 12))
        friday = queries.get_record_reminders(branch.secretary, datetime(2026, 12, 11, 2))
        monday = queries.get_record_reminders(branch.secretary, datetime(2026, 12, 14, 2))
        recorder = queries.get_record_reminders(branch.recorder, datetime(2026, 12, 9, 2))
        teacher = queries.get_record_reminders(branch.teacher, datetime(2026, 12, 9, 2))
        outsider = queries.get_record_reminders(branch.outsider, datetime(2026, 12, 9, 2))
    assert [r.session.id for r in evening] == [session.id]
    assert evening[0].due == date(2026, 12, 11) and evening[0].days_left == 3
    assert evening[0].missing_minutes and evening[0].counts.unmarked == 4
    assert friday[0].days_left == 0
    assert monday[0].days_left == -1 and monday[0].overdue
    assert [r.session.id for r in recorder] == [session.id]
    assert teacher == [] and outsider == []


def test_the_dashboard_shows_the_reminder_and_leave_to_decide(client, login, branch,
                                                              make_session):
    held = make_session("held", topic="十二月支部党员大会")
    upcoming = make_session("published", topic="下周党课")
    operations.request_leave(upcoming, db.session.get(Attendance, (upcoming.id,
                                                                   branch.teacher.id)),
                             "外出培训")
    db.session.commit()
    login(branch.secretary)
    page = text(client.get("/"))
    assert "Session records to finish" in page and held.topic in page
    assert "working days left" in page and "minutes missing" in page
    assert "Leave to decide" in page and "1 leave requests" in page
    client.post("/logout")
    login(branch.teacher)
    page = text(client.get("/"))
    assert "My sessions coming up" in page and "下周党课" in page
    assert "Session records to finish" not in page
