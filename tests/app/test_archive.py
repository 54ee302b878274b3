"""The inspection archive (档案) of a unit and a period: the zip's listing per folder on a
small fixture, every file opened (python-docx, pandas with calamine), never more than the
requester's scope (another unit's session in the same period stays out; an exam set
from above carries only the requester's people), the download audited, the job page
flow, and the CLI."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from docx import Document

from studyhall.audit import AuditEntry
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Role
from studyhall.sessions.models import SessionKind
from studyhall.sessions.plans import add_item, create_plan
from studyhall.study.models import Reflection, ReflectionStatus, ReflectionVersion
from tests.app.session_fixtures_e3 import *  # noqa: F401,F403  (make_session)
from tests.app.session_fixtures_e3 import A, E, P, local, png
from tests.app.study_fixtures_s1 import *  # noqa: F401,F403  (files_dir, make_assignment)
from tests.app.test_exports_jobs import wait_for

YEAR = {"start": "2026-01-01", "end": "2026-12-31"}


def _photo(session, caption):
    from studyhall import storage
    from studyhall.sessions.models import SessionAttachment

    stored = storage.save_file(png(), f"{caption}.png", None, allowed=storage.IMAGE_TYPES)
    db.session.add(SessionAttachment(session_id=session.id, kind="photo", file_id=stored.id,
                                     caption=caption, position=0))
    db.session.commit()


def _accept(person, assignment, body, *, excellent=False, reviewer=None):
    now = utcnow()
    reflection = Reflection(person_id=person.id, assignment_id=assignment.id,
                            status=ReflectionStatus.ACCEPTED, body=body + "（后来的草稿）",
                            char_count=len(body), submitted_at=now, is_excellent=excellent)
    db.session.add(reflection)
    db.session.flush()
    db.session.add(ReflectionVersion(reflection_id=reflection.id, number=1, body=body,
                                     char_count=len(body), submitted_at=now,
                                     decision="accepted", reviewer_id=reviewer.id,
                                     reviewed_at=now))
    db.session.commit()


@pytest.fixture()
def year(org, make_person, make_session, make_quiz, make_assignment, files_dir):
    """2026 in 甲校第一支部 (under 甲校党总支, the secretary's) and in 乙校第一支部 (not
    theirs): a plan, two held sessions (one with a photo), a cancelled and a future one
    that must not count, an exam of the committee for both branches, an assignment, and
    accepted reflections."""
    from studyhall.sessions.models import SessionStatus

    chen = make_person(unit=org.branch_a, name="陈一")
    plan = create_plan(org.admin, org.branch_a, 2026, 1)
    item = add_item(plan, SessionKind.BRANCH_MEETING, 3, "学习十项准则")
    db.session.commit()
    meeting = make_session(SessionKind.BRANCH_MEETING, local(2026, 3, 12),
                           {org.teacher: P, chen: E}, topic="学习《十项准则》",
                           minutes="# 议程\n\n学习十项准则。", plan_item_id=item.id)
    _photo(meeting, "会议现场")
    lecture = make_session(SessionKind.PARTY_LECTURE, local(2026, 5, 20),
                           {org.teacher: P, chen: A}, topic="=党课：守纪律讲规矩")
    make_session(SessionKind.BRANCH_MEETING, local(2026, 4, 2), {org.teacher: None},
                 status=SessionStatus.CANCELLED, topic="取消的会议")
    make_session(SessionKind.BRANCH_MEETING, utcnow() + timedelta(days=3), {org.teacher: None},
                 topic="将来的会议")
    make_session(SessionKind.BRANCH_MEETING, local(2026, 3, 15), {org.outsider: P},
                 unit=org.branch_b, topic="乙校的会议")
    exam = make_quiz(owner_unit_id=org.top.id,
                     audience={"unit_ids": [org.branch_a.id, org.branch_b.id]})
    assignment = make_assignment(owner=org.top,
                                 audience={"unit_ids": [org.branch_a.id, org.branch_b.id]})
    _accept(org.teacher, assignment, "学习十项准则的体会。\n第二段。", excellent=True,
            reviewer=org.secretary)
    _accept(org.outsider, assignment, "乙校的心得。", reviewer=org.admin)
    return type("Year", (), {"meeting": meeting, "lecture": lecture, "exam": exam,
                             "assignment": assignment, "plan": plan, "chen": chen})


def build(client, unit, **span):
    """The form posted, the job page followed to the end, the zip downloaded."""
    reply = client.post("/manage/stats/archive", data={"unit_id": unit.id, **(span or YEAR)})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    job_url = reply.location
    assert "/manage/stats/archive/" in job_url
    page = client.get(job_url).get_data(as_text=True)
    assert "data-status-url" in page
    status = wait_for(client, job_url)
    assert status["state"] == "done" and status["done"] == status["total"]
    download = client.get(f"{job_url}/download")
    data = download.get_data()
    download.close()
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(data)), job_url


def listing(archive) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name in archive.namelist():
        folder, _, file = name.partition("/")
        found.setdefault(folder, []).append(file)
    return found


def docx_text(archive, name) -> str:
    document = Document(io.BytesIO(archive.read(name)))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def sheet(archive, name, index=0) -> list[list]:
    frame = pd.read_excel(io.BytesIO(archive.read(name)), sheet_name=index, header=None,
                          engine="calamine")
    return [[None if pd.isna(v) else v for v in row] for row in frame.itertuples(index=False)]


def test_the_secretarys_archive_file_by_file(client, org, login, year):
    login(org.secretary)
    archive, _ = build(client, org.gen_a)
    files = listing(archive)
    assert files == {
        "00_目录": ["甲校党总支-档案目录-2026-12-31.docx"],
        "01_学习计划": ["甲校第一支部-学习计划-2026年上半年-2026-01-01.xlsx"],
        "02_会议记录": ["甲校第一支部-支部党员大会-学习《十项准则》-2026-03-12.docx",
                    "甲校第一支部-党课-=党课：守纪律讲规矩-2026-05-20.docx"],
        "03_考勤": ["甲校党总支-考勤汇总表-2026年-2026-12-31.xlsx"],
        "04_考试成绩": [f"党纪党规知识测试-成绩单-甲校党总支-{local_day(year.exam.opens_at)}.xlsx"],
        "05_学习完成情况": [
            f"学习十项准则-学习完成情况-甲校党总支-{local_day(year.assignment.starts_at)}.xlsx"],
        "06_心得体会": ["甲校党总支-心得体会汇编-2026-12-31.docx"],
    }
    index = docx_text(archive, "00_目录/" + files["00_目录"][0])
    assert "甲校党总支学习档案" in index and "时间范围：2026年\n" in index
    for folder, n in [("01_学习计划", 1), ("02_会议记录", 2), ("03_考勤", 1),
                      ("04_考试成绩", 1), ("05_学习完成情况", 1), ("06_心得体会", 1)]:
        assert f"{folder}（{n} 个文件）" in index
        assert all(name in index for name in files[folder])
    assert "乙校" not in index

    plan = sheet(archive, "01_学习计划/" + files["01_学习计划"][0])
    head = next(i for i, r in enumerate(plan) if r[0] == "月份")
    assert plan[head + 1][:4] == [3, "支部党员大会", "学习十项准则", "已召开"]
    assert "学习《十项准则》" in plan[head + 1][4]
    vs = sheet(archive, "01_学习计划/" + files["01_学习计划"][0], 1)
    assert ["支部党员大会", 1, 1, 1, 0] in vs

    record = Document(io.BytesIO(archive.read("02_会议记录/" + files["02_会议记录"][0])))
    assert len(record.inline_shapes) == 1  # the photo
    assert "学习十项准则。" in docx_text(archive, "02_会议记录/" + files["02_会议记录"][0])

    attendance = sheet(archive, "03_考勤/" + files["03_考勤"][0])
    names = [row[1] for row in attendance[2:] if isinstance(row[0], (int, float))]
    assert sorted(names) == ["李老师", "陈一"]
    assert not any("乙校" in str(cell) for row in attendance for cell in row)

    scores = sheet(archive, "04_考试成绩/" + files["04_考试成绩"][0])
    head = next(i for i, r in enumerate(scores) if r[0] == "序号")
    people = [r[2] for r in scores[head + 1:]]
    assert sorted(people) == sorted(["李老师", "陈一"])  # not 赵老师 of 乙校
    reading = sheet(archive, "05_学习完成情况/" + files["05_学习完成情况"][0])
    head = next(i for i, r in enumerate(reading) if r[0] == "序号")
    assert "赵老师" not in [r[2] for r in reading[head + 1:]]
    assert "李老师" in [r[2] for r in reading[head + 1:]]

    reflections = docx_text(archive, "06_心得体会/" + files["06_心得体会"][0])
    assert "学习十项准则的体会。" in reflections and "第二段。" in reflections
    assert "后来的草稿" not in reflections  # the text as accepted
    assert "评为优秀" in reflections and "乙校的心得" not in reflections


def local_day(moment) -> str:
    """The local date of a stored UTC time (files are named by the day it began)."""
    from studyhall.sessions.plans import to_local

    return to_local(moment).date().isoformat()


def test_the_admins_archive_of_the_whole_tree_has_both_branches(client, org, login, year):
    login(org.admin)
    archive, _ = build(client, org.top)
    files = listing(archive)
    assert len(files["02_会议记录"]) == 3
    assert any("乙校的会议" in name for name in files["02_会议记录"])
    scores = sheet(archive, "04_考试成绩/" + files["04_考试成绩"][0])
    assert "赵老师" in [r[2] for r in scores]
    assert "乙校的心得" in docx_text(archive, "06_心得体会/" + files["06_心得体会"][0])


def test_an_empty_period_gives_an_index_only(client, org, login, year):
    login(org.secretary)
    archive, _ = build(client, org.gen_a, start="2025-01-01", end="2025-12-31")
    assert list(listing(archive)) == ["00_目录"]
    assert "（本期间无）" in docx_text(archive, archive.namelist()[0])


def test_scope_and_the_job_belongs_to_its_owner(client, org, login, year, make_person):
    login(org.secretary)
    reply = client.post("/manage/stats/archive", data={"unit_id": org.branch_b.id, **YEAR})
    assert reply.status_code in (200, 404)  # not a choice of theirs: never built
    assert "/manage/stats/archive/" not in (reply.location or "")
    page = client.get("/manage/stats/archive").get_data(as_text=True)
    assert "乙校第一支部" not in page and "甲校第一支部" in page
    archive, job_url = build(client, org.branch_a)
    # The sheets' job pages do not serve an archive (its download is audited).
    job_id = job_url.rsplit("/", 1)[1]
    assert client.get(f"/manage/exports/{job_id}/download").status_code == 404
    assert client.get(f"/manage/exports/{job_id}").status_code == 404
    client.post("/logout")
    other = make_person("sec2", unit=org.gen_a, role=Role.SECRETARY, manages=[org.gen_a])
    login(other)
    assert client.get(job_url).status_code == 404
    assert client.get(f"{job_url}/download").status_code == 404
    client.post("/logout")
    login(org.teacher)
    assert client.get("/manage/stats/archive").status_code in (403, 404)


def test_the_download_is_audited(client, org, login, year):
    login(org.secretary)
    build(client, org.branch_a, start="2026-03-01", end="2026-03-31")
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "archive.download")).all()
    assert len(entries) == 1
    entry = entries[0]
    assert entry.actor_id == org.secretary.id
    assert (entry.target_type, entry.target_id) == ("unit", org.branch_a.id)
    assert entry.details["start"] == "2026-03-01" and entry.details["end"] == "2026-03-31"
    assert entry.details["file"].endswith(".zip")


def test_the_form_refuses_a_reversed_period(client, org, login, year):
    login(org.secretary)
    reply = client.post("/manage/stats/archive", data={"unit_id": org.gen_a.id,
                                                       "start": "2026-06-01",
                                                       "end": "2026-01-01"})
    assert reply.status_code == 200
    assert "The end comes before the start." in reply.get_data(as_text=True)


def test_the_statistics_page_links_the_archive(client, org, login, year):
    login(org.secretary)
    assert "/manage/stats/archive" in client.get("/manage/stats/exams").get_data(as_text=True)


def test_the_cli_writes_the_same_archive(app, org, year, tmp_path):
    out = tmp_path / "档案.zip"
    result = app.test_cli_runner().invoke(args=[
        "archive", "--unit", "教育局党委/甲校党总支", "--from", "2026-01-01", "--to",
        "2026-12-31", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"8 files written to {out}" in result.output or "已写入 8 个文件" in result.output
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "archive.export"))
    assert entry.actor_id is None and entry.target_id == org.gen_a.id
    with zipfile.ZipFile(out) as archive:
        files = listing(archive)
    assert len(files["02_会议记录"]) == 2 and "06_心得体会" in files
    bad = app.test_cli_runner().invoke(args=[
        "archive", "--unit", "没有这个单位", "--from", "2026-01-01", "--to", "2026-12-31",
        "--out", str(out)])
    assert bad.exit_code != 0
    reversed_ = app.test_cli_runner().invoke(args=[
        "archive", "--unit", "甲校党总支", "--from", "2026-12-01", "--to", "2026-01-01",
        "--out", str(out)])
    assert reversed_.exit_code != 0


def test_a_period_is_local_days():
    from studyhall.stats.periods import DatePeriod

    span = DatePeriod(date(2026, 3, 1), date(2026, 3, 31))
    start, end = span.bounds()
    assert (start.day, start.hour) == (28, 16) and (end.month, end.day, end.hour) == (3, 31, 16)


def test_attendance_too_wide_for_one_sheet_is_split_by_sub_unit(client, org, login, year,
                                                                 monkeypatch):
    """Three sessions held under the committee, one sheet showing at most one side by
    side: 甲校's two go down to 甲校第一支部 (no sub-units: one sheet of two), 乙校's one
    stays on 乙校党总支's sheet."""
    from studyhall.exports import archive as archive_module

    monkeypatch.setattr(archive_module, "MAX_SESSION_COLUMNS", 1)
    login(org.admin)
    archive, _ = build(client, org.top)
    assert sorted(listing(archive)["03_考勤"]) == sorted([
        "甲校第一支部-考勤汇总表-2026年-2026-12-31.xlsx",
        "乙校党总支-考勤汇总表-2026年-2026-12-31.xlsx"])
