"""After the session: the roster (one tap, 全部出席 then exceptions), the record (minutes
made safe, photos and attachments checked by content), confirming locks it, and a
correction keeps the earlier version and leaves an audit entry."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from PIL import Image

from studyhall import storage
from studyhall.audit import AuditEntry
from studyhall.extensions import db
from studyhall.sessions import operations, queries
from studyhall.sessions.models import (
    Attendance,
    AttendanceStatus,
    LeaveState,
    SessionAttachment,
    SessionRecordVersion,
    StudySession,
)
from studyhall.sessions.operations import SessionError
from tests.app.session_fixtures_e1 import *  # noqa: F403  (fixtures)
from tests.app.session_fixtures_e1 import jpeg_bytes, text

FETCH = {"X-Requested-With": "fetch"}


def status_of(session, person):
    db.session.expire_all()
    return db.session.get(Attendance, (session.id, person.id)).status


def audits(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)
                                   .order_by(AuditEntry.id)))


def complete(session, branch, minutes="# 会议记录\n一、传达学习文件"):
    """Everyone present and the minutes written."""
    operations.mark_all_present(branch.secretary, session)
    operations.save_record(session, minutes, "")
    db.session.commit()


# --- the roster -----------------------------------------------------------------------------

def test_one_tap_marks_one_person_and_answers_the_figures(client, login, branch,
                                                          make_session):
    session = make_session("held")
    login(branch.secretary)
    url = f"/manage/sessions/{session.id}/roster/{branch.wu.id}"
    response = client.post(url, data={"status": "late"}, headers=FETCH)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "late" and body["label"] == "Late"
    assert body["counts"] == {"expected": 4, "present": 0, "late": 1, "excused": 0,
                              "absent": 0, "unmarked": 3}
    row = db.session.get(Attendance, (session.id, branch.wu.id))
    assert row.method == "roster" and row.marked_by_id == branch.secretary.id
    # Without the script: a plain form post returns to the person's row.
    response = client.post(url, data={"status": "absent"})
    assert response.location.endswith(f"/roster#p{branch.wu.id}")
    assert status_of(session, branch.wu) is AttendanceStatus.ABSENT


def test_all_present_then_exceptions(client, login, branch, make_session):
    session = make_session("held")
    operations.mark_attendance(branch.secretary, session, branch.zheng.id,
                               AttendanceStatus.ABSENT)
    db.session.commit()
    login(branch.secretary)
    response = client.post(f"/manage/sessions/{session.id}/roster/all-present",
                           follow_redirects=True)
    assert "3 people marked present" in text(response)
    assert status_of(session, branch.zheng) is AttendanceStatus.ABSENT  # kept
    client.post(f"/manage/sessions/{session.id}/roster/{branch.teacher.id}",
                data={"status": "late"}, headers=FETCH)
    counts = queries.get_counts(session)
    assert (counts.present, counts.late, counts.absent, counts.unmarked) == (2, 1, 1, 0)


def test_attendance_is_not_marked_before_the_session(client, login, branch, make_session):
    session = make_session("published")  # tomorrow
    login(branch.secretary)
    page = text(client.get(f"/manage/sessions/{session.id}/roster"))
    assert "Attendance can be marked from" in page and "disabled" in page
    response = client.post(f"/manage/sessions/{session.id}/roster/{branch.wu.id}",
                           data={"status": "present"}, headers=FETCH)
    assert response.status_code == 409 and "before the start" in response.get_json()["error"]
    client.post(f"/manage/sessions/{session.id}/roster/all-present")
    assert queries.get_counts(session).unmarked == 4


def test_marking_someone_not_expected_or_a_bad_status_is_refused(client, login, branch,
                                                                 make_session):
    session = make_session("held")
    login(branch.secretary)
    response = client.post(f"/manage/sessions/{session.id}/roster/{branch.outsider.id}",
                           data={"status": "present"}, headers=FETCH)
    assert response.status_code == 409 and "not expected" in response.get_json()["error"]
    assert client.post(f"/manage/sessions/{session.id}/roster/{branch.wu.id}",
                       data={"status": "sleeping"}).status_code == 400
    assert db.session.get(Attendance, (session.id, branch.outsider.id)) is None


def test_the_roster_page_groups_people_by_unit_with_four_buttons_each(
        client, login, branch, make_session, make_unit, make_person):
    group = make_unit("第一党小组", branch.branch_a)
    make_person("g1", unit=group, name="孙老师")
    session = make_session("held")
    login(branch.secretary)
    page = text(client.get(f"/manage/sessions/{session.id}/roster"))
    assert page.index("甲校第一支部") < page.index("第一党小组") < page.index("孙老师")
    assert page.count('class="mark present"') == 5 and page.count('class="mark absent"') == 5
    assert "All present" in page and "sessions-roster.js" in page


def test_the_roster_and_the_record_run_the_same_queries_for_4_or_24_people(
        client, login, branch, make_session, make_person, count_queries):
    few_session = make_session("held")
    for i in range(20):
        make_person(f"extra{i}", unit=branch.branch_a, name=f"新党员{i}")
    many_session = make_session("held")
    login(branch.secretary)
    counts = {}
    for label, session in (("few", few_session), ("many", many_session)):
        for page in ("roster", "record", "attendance-record", "sign-in-sheet"):
            with count_queries() as log:
                response = client.get(f"/manage/sessions/{session.id}/{page}")
            assert response.status_code == 200
            counts[label, page] = len(log)
    assert queries.get_counts(many_session).expected == 24
    for page in ("roster", "record", "attendance-record", "sign-in-sheet"):
        assert counts["few", page] == counts["many", page], page


def test_the_recorder_keeps_the_record_though_a_teacher(client, login, branch, make_session):
    session = make_session("held")
    login(branch.recorder)
    assert "You are the recorder" in text(client.get(f"/sessions/{session.id}"))
    client.post(f"/manage/sessions/{session.id}/roster/all-present")
    client.post(f"/manage/sessions/{session.id}/record",
                data={"minutes": "会议由王书记主持。", "resolutions": ""})
    response = client.post(f"/manage/sessions/{session.id}/record/confirm")
    assert response.status_code == 302
    session = db.session.get(StudySession, session.id)
    assert session.record_locked_by_id == branch.recorder.id
    # Not the organiser: publishing, editing and the overview stay closed.
    assert client.get(f"/manage/sessions/{session.id}").status_code == 403


# --- minutes --------------------------------------------------------------------------------

def test_minutes_are_markdown_made_safe_once_on_save(client, login, branch, make_session):
    session = make_session("held")
    login(branch.secretary)
    minutes = ("# 会议议程\n一、学习文件\n二、讨论\n\n<script>alert(1)</script>\n"
               "[链接](javascript:alert(1)) [文件](https://www.gov.cn/x) "
               "<img src=x onerror=alert(1)>")
    client.post(f"/manage/sessions/{session.id}/record",
                data={"minutes": minutes, "resolutions": "同意发展对象人选"})
    session = db.session.get(StudySession, session.id)
    html = session.minutes_html
    assert "<h1>会议议程</h1>" in html and "一、学习文件<br>" in html
    # Raw HTML stays text; no tag, no script link.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert '<a href="https://www.gov.cn/x" rel="noopener noreferrer nofollow">' in html
    assert session.minutes == minutes and session.resolutions == "同意发展对象人选"
    page = text(client.get(f"/manage/sessions/{session.id}/record"))
    assert "<h1>会议议程</h1>" in page and "<script>alert" not in page


# --- photos and attachments -----------------------------------------------------------------

def upload(client, session, kind, *named_files, caption=""):
    return client.post(f"/manage/sessions/{session.id}/attachments",
                       data={"kind": kind, "caption": caption,
                             "files": [(io.BytesIO(data), name) for name, data in named_files]},
                       content_type="multipart/form-data")


def test_photos_keep_the_original_and_get_an_upright_page_copy_without_exif(
        client, login, branch, make_session, file_storage):
    session = make_session("held")
    login(branch.secretary)
    # A phone held upright writes the pixels sideways and says so in EXIF (6: rotate 90°).
    sideways = jpeg_bytes(2400, 1600, orientation=6)
    plain = jpeg_bytes(1000, 800, color=(20, 120, 20))
    response = upload(client, session, "photo", ("IMG_0001.JPG", sideways),
                      ("会场.jpeg", plain), caption="会议现场")
    assert response.status_code == 302, text(response)
    photos = db.session.scalars(sa.select(SessionAttachment).order_by(
        SessionAttachment.position)).all()
    assert [p.kind for p in photos] == ["photo", "photo"]
    # "IMG_0001.JPG" and a phone's ".jpeg" both end in ".jpg", never ".jpeg.jpg".
    assert [p.file.filename for p in photos] == ["IMG_0001.jpg", "会场.jpg"]
    assert photos[0].caption == "会议现场"
    assert storage.read_file(photos[0].file) == sideways  # the original, byte for byte
    with Image.open(io.BytesIO(storage.read_file(photos[0].preview_file))) as page_copy:
        assert page_copy.format == "JPEG"
        assert page_copy.size == (853, 1280)  # upright and at most 1280 px
        assert not page_copy.getexif()
    with Image.open(io.BytesIO(storage.read_file(photos[1].preview_file))) as small:
        assert small.size == (1000, 800)  # never enlarged


@pytest.mark.parametrize("name, data, message", [
    ("photo.jpg", b"MZ\x90\x00 this is a program", "not a photo"),
    ("notes.jpg", "会议记录".encode(), "not a photo"),
    ("cut.jpg", jpeg_bytes(800, 600)[:1500], "cannot be read"),
    ("empty.jpg", b"", "empty"),
])
def test_a_file_that_is_not_a_readable_photo_is_refused_and_nothing_is_kept(
        client, login, branch, make_session, file_storage, name, data, message):
    session = make_session("held")
    login(branch.secretary)
    response = upload(client, session, "photo", ("good.jpg", jpeg_bytes(400, 300)),
                      (name, data))
    assert response.status_code == 422 and message in text(response)
    # All or nothing: the good photo sent with it is not kept either.
    assert db.session.scalar(sa.select(sa.func.count(SessionAttachment.id))) == 0


def test_a_photo_with_too_many_pixels_is_refused_before_it_is_decoded(
        client, login, branch, make_session, file_storage):
    out = io.BytesIO()
    Image.new("1", (10_000, 7_000)).save(out, "PNG")  # 70 million pixels, a small file
    session = make_session("held")
    login(branch.secretary)
    response = upload(client, session, "photo", ("huge.png", out.getvalue()))
    assert response.status_code == 422 and "too many pixels" in text(response)


def test_attachments_are_checked_by_content_and_served_as_downloads(
        client, login, branch, make_session, file_storage):
    session = make_session("held")
    login(branch.secretary)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    assert upload(client, session, "attachment", ("会议通知.pdf", pdf)).status_code == 302
    response = upload(client, session, "attachment", ("决议.pdf", b"<html>not a pdf</html>"))
    assert response.status_code == 422 and "not a PDF" in text(response)
    item = db.session.scalar(sa.select(SessionAttachment))
    assert item.kind == "attachment" and item.preview_file_id is None
    with client.get(f"/manage/sessions/{session.id}/attachments/{item.id}") \
            as response:
        assert response.status_code == 200 and response.data == pdf
        assert response.headers["Content-Type"] == "application/pdf"
        assert "attachment" in response.headers["Content-Disposition"]
        assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "private, no-store"


def test_files_are_served_only_to_those_who_keep_the_record(
        client, login, branch, make_session, file_storage):
    session = make_session("held")
    other = make_session("held")
    login(branch.secretary)
    upload(client, session, "photo", ("a.jpg", jpeg_bytes(400, 300)))
    photo = db.session.scalar(sa.select(SessionAttachment))
    url = f"/manage/sessions/{session.id}/attachments/{photo.id}"
    with client.get(f"{url}/page") as response:
        assert response.headers["Content-Type"] == "image/jpeg"
        # A photo of the people present: no cache keeps it (an office's shared computer).
        assert response.headers["Cache-Control"] == "private, no-store"
    with client.get(url) as response:
        assert response.headers["Cache-Control"] == "private, no-store"
    # Through another session's URL: 404.
    assert client.get(f"/manage/sessions/{other.id}/attachments/{photo.id}").status_code \
        == 404
    client.post("/logout")
    login(branch.teacher)  # expected at the session, but not its recorder
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/page").status_code == 404
    client.post("/logout")
    login(branch.recorder)
    with client.get(url) as response:
        assert response.status_code == 200


# --- confirming, locking, correcting --------------------------------------------------------

def test_the_record_is_confirmed_only_when_complete(client, login, branch, make_session):
    session = make_session("held")
    login(branch.secretary)
    page = text(client.get(f"/manage/sessions/{session.id}/record"))
    assert "Minutes not written yet" in page and "4 people not marked yet" in page
    assert "Confirm the record" not in page.split("Before confirming")[1].split("</section>")[0]
    response = client.post(f"/manage/sessions/{session.id}/record/confirm",
                           follow_redirects=True)
    assert "The record is not complete" in text(response)
    operations.mark_all_present(branch.secretary, session)
    db.session.commit()
    with force_locale("en"), pytest.raises(SessionError, match="not complete"):
        operations.confirm_record(branch.secretary, session)  # minutes still missing
    db.session.rollback()
    client.post(f"/manage/sessions/{session.id}/record",
                data={"minutes": "会议记录正文", "resolutions": ""})
    assert client.post(f"/manage/sessions/{session.id}/record/confirm").status_code == 302
    session = db.session.get(StudySession, session.id)
    assert session.record_locked_at is not None
    assert [e.actor_id for e in audits("session.record_confirm")] == [branch.secretary.id]


def test_a_locked_record_refuses_every_change(client, login, branch, make_session,
                                              file_storage):
    session = make_session("held")
    login(branch.secretary)
    upload(client, session, "photo", ("a.jpg", jpeg_bytes(400, 300)))
    row = db.session.get(Attendance, (session.id, branch.zheng.id))
    row.leave_state, row.leave_reason = LeaveState.REQUESTED, "补假"
    db.session.commit()
    complete(session, branch, minutes="原始记录")
    operations.confirm_record(branch.secretary, session)
    db.session.commit()
    photo = db.session.scalar(sa.select(SessionAttachment))
    m = f"/manage/sessions/{session.id}"

    response = client.post(f"{m}/roster/{branch.wu.id}", data={"status": "absent"},
                           headers=FETCH)
    assert response.status_code == 409 and "locked" in response.get_json()["error"]
    client.post(f"{m}/roster/all-present")
    client.post(f"{m}/record", data={"minutes": "篡改", "resolutions": ""})
    assert upload(client, session, "photo", ("b.jpg", jpeg_bytes(300, 200))).status_code \
        == 422
    client.post(f"{m}/attachments/{photo.id}/delete")
    client.post(f"{m}/leave/{branch.zheng.id}", data={"decision": "refuse"})
    assert client.get(f"{m}/edit").status_code == 302
    client.post(f"{m}/cancel")

    db.session.expire_all()
    session = db.session.get(StudySession, session.id)
    assert session.minutes == "原始记录" and session.status.value == "published"
    assert status_of(session, branch.wu) is AttendanceStatus.PRESENT
    assert db.session.scalar(sa.select(sa.func.count(SessionAttachment.id))) == 1
    assert db.session.get(Attendance, (session.id, branch.zheng.id)).leave_state \
        is LeaveState.REQUESTED
    with force_locale("en"), pytest.raises(SessionError, match="locked"):
        operations.update_session(branch.secretary, session, {"place": "别处"})


def test_a_correction_keeps_the_earlier_version_and_is_audited(client, login, branch,
                                                               make_session):
    session = make_session("held")
    complete(session, branch, minutes="原始记录：到会4人")
    operations.confirm_record(branch.secretary, session)
    db.session.commit()
    login(branch.secretary)
    m = f"/manage/sessions/{session.id}"

    # The reason is required.
    response = client.post(f"{m}/record/reopen", data={"reason": ""})
    assert response.status_code == 200 and "Give the reason" in text(response)
    assert db.session.get(StudySession, session.id).record_locked_at is not None

    response = client.post(f"{m}/record/reopen", data={"reason": "吴老师实为迟到"})
    assert response.status_code == 302
    version = db.session.scalar(sa.select(SessionRecordVersion))
    assert version.number == 1 and version.minutes == "原始记录：到会4人"
    assert version.attendance == {str(p.id): "present" for p in (
        branch.teacher, branch.recorder, branch.wu, branch.zheng)}
    assert version.saved_by_id == branch.secretary.id
    [reopen] = audits("session.record_reopen")
    assert reopen.details == {"version": 1, "reason": "吴老师实为迟到"}
    assert "Being corrected" in text(client.get(f"{m}/record"))

    client.post(f"{m}/roster/{branch.wu.id}", data={"status": "late"}, headers=FETCH)
    client.post(f"{m}/record", data={"minutes": "更正后的记录：到会4人，迟到1人",
                                     "resolutions": ""})
    assert client.post(f"{m}/record/confirm").status_code == 302
    [correct] = audits("session.record_correct")
    assert correct.actor_id == branch.secretary.id
    assert correct.details == {"version": 1, "changes": {
        "minutes": True, "attendance": {str(branch.wu.id): ["present", "late"]}}}
    session = db.session.get(StudySession, session.id)
    assert session.record_locked_at is not None and "迟到1人" in session.minutes

    # The history shows the earlier version and what changed, by name.
    page = text(client.get(f"{m}/record/history"))
    assert "Version 1" in page and "原始记录：到会4人" in page
    assert "吴老师实为迟到" in page and "吴老师: Present → Late" in page

    # A second correction keeps the corrected record as version 2.
    operations.reopen_record(branch.secretary, session, "补充决议")
    db.session.commit()
    numbers = db.session.scalars(sa.select(SessionRecordVersion.number).order_by(
        SessionRecordVersion.number)).all()
    assert numbers == [1, 2]
    second = db.session.scalar(sa.select(SessionRecordVersion).where(
        SessionRecordVersion.number == 2))
    assert "迟到1人" in second.minutes and second.attendance[str(branch.wu.id)] == "late"
    # Kept in person order, which the history lists them in, whatever order the database
    # returns the rows in (吴's was rewritten last: PostgreSQL would give it last).
    assert list(second.attendance) == [str(pid) for pid in sorted(
        int(pid) for pid in second.attendance)]


def test_removing_a_photo_while_correcting_is_audited(client, login, branch, make_session,
                                                      file_storage):
    session = make_session("held")
    login(branch.secretary)
    upload(client, session, "photo", ("a.jpg", jpeg_bytes(400, 300)))
    complete(session, branch)
    operations.confirm_record(branch.secretary, session)
    operations.reopen_record(branch.secretary, session, "照片拍错了")
    db.session.commit()
    photo = db.session.scalar(sa.select(SessionAttachment))
    file_id = photo.file_id
    client.post(f"/manage/sessions/{session.id}/attachments/{photo.id}/delete")
    [entry] = audits("session.attachment_remove")
    assert entry.details["file_id"] == file_id and entry.details["file"] == "a.jpg"
    assert "removed a.jpg" in text(client.get(f"/manage/sessions/{session.id}/record/history"))


def test_reopening_an_unconfirmed_record_is_refused(branch, make_session):
    session = make_session("held")
    with pytest.raises(SessionError):
        operations.reopen_record(branch.secretary, session, "理由")


def test_the_record_is_confirmed_after_the_session_not_before(branch, make_session):
    session = make_session("published")  # tomorrow
    db.session.execute(sa.update(Attendance).where(Attendance.session_id == session.id)
                       .values(status=AttendanceStatus.PRESENT))
    operations.save_record(session, "提前写好的记录", "")
    assert queries.record_is_complete(session, queries.get_counts(session))
    with force_locale("en"), pytest.raises(SessionError, match="after the session"):
        operations.confirm_record(branch.secretary, session)
