"""An assignment's reading-completion sheet (学习完成情况) read back with pandas cell by
cell: every reader's row and every column, numbers as numbers and dates as dates, the
state by the one reading-state rule, formulas neutralised; 完成率 on the summary sheet and
in the CSV equal to the readers page's; scope: 404 outside it, a unit filter narrows."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pandas as pd
import pytest

from studyhall.extensions import db
from studyhall.org.models import PoliticalStatus, Role
from studyhall.study.models import AssignmentRecipient, CheckpointAnswer, MaterialCheckpoint
from tests.app.study_fixtures_s1 import *  # noqa: F401,F403  (fixtures)
from tests.app.study_fixtures_s1 import add_progress

HEADERS = ["序号", "单位", "姓名", "账号", "政治面貌", "状态", "阅读时长（分钟）", "完成时间",
           "检查点已答", "检查点答对"]
EVIL = "=HYPERLINK(\"http://x\",\"点我\")"
#: The sheet's first rows: the title and three notes, then the header.
HEAD_ROWS = 4


@pytest.fixture()
def reading(org, make_person, make_material, make_assignment):
    """An assignment of the committee for both branches: 李老师 done on time (90.5 s
    read, two checkpoints, one right), a reader named like a formula still studying,
    赵老师 (乙校) not started, 钱老师 done late — 完成率 2/4 = 50.0%."""
    import question_bank as qb
    from studyhall.bank import operations as bank_ops

    evil = make_person("t3", unit=org.branch_a, name=EVIL, status=PoliticalStatus.MASSES)
    late = make_person("t4", unit=org.branch_a, name="钱老师",
                       status=PoliticalStatus.CYL_MEMBER)
    material = make_material()
    assignment = make_assignment(materials=[material], owner=org.top,
                                 audience={"unit_ids": [org.branch_a.id, org.branch_b.id]})
    add_progress(assignment, org.teacher, material, credited_ms=90_500)
    add_progress(assignment, evil, material, credited_ms=30_000)
    done_at = assignment.due_at - timedelta(hours=2)
    db.session.get(AssignmentRecipient, (assignment.id, org.teacher.id)).completed_at = done_at
    db.session.get(AssignmentRecipient, (assignment.id, late.id)).completed_at = \
        assignment.due_at + timedelta(hours=1)
    category = bank_ops.create_category(None, "检查点")
    question = bank_ops.save_question(None, qb.Question(
        type="true_false", stem="预备期一年。", answer=True, points=1), category)
    db.session.flush()
    for position, right in enumerate((True, False)):
        checkpoint = MaterialCheckpoint(version_id=material.current_version_id,
                                        position=position, anchor=position,
                                        question_id=question.id, type="true_false", config={})
        db.session.add(checkpoint)
        db.session.flush()
        db.session.add(CheckpointAnswer(assignment_id=assignment.id, person_id=org.teacher.id,
                                        checkpoint_id=checkpoint.id, response=True,
                                        is_correct=right))
    db.session.commit()
    return type("Reading", (), {"assignment": assignment, "evil": evil, "late": late,
                                "done_at": done_at})


def grid(data: bytes, sheet) -> list[list]:
    frame = pd.read_excel(io.BytesIO(data), sheet_name=sheet, header=None, engine="calamine")
    return [[None if pd.isna(v) else v for v in row] for row in frame.itertuples(index=False)]


def download(client, url):
    reply = client.get(url)
    data = reply.get_data()
    reply.close()
    assert reply.status_code == 200, reply.status_code
    return data, reply


def local(moment: datetime) -> datetime:
    from studyhall.sessions.plans import to_local

    return to_local(moment)


def test_every_reader_and_every_cell(client, org, login, reading):
    login(org.admin)
    a = reading.assignment
    data, reply = download(client, f"/manage/stats/assignments/{a.id}/reading.xlsx")
    assert "filename*=UTF-8''" in reply.headers["Content-Disposition"]
    rows = grid(data, 0)
    assert rows[0][0] == "学习十项准则：学习完成情况"
    assert rows[HEAD_ROWS] == HEADERS
    body = rows[HEAD_ROWS + 1:]
    assert len(body) == 4 and all(len(r) == len(HEADERS) for r in body)
    by_name = {r[2]: r for r in body}
    branch_a = "教育局党委/甲校党总支/甲校第一支部"
    teacher = by_name["李老师"]
    assert teacher[1:6] == [branch_a, "李老师", "t1", "中国共产党党员", "已完成"]
    assert teacher[6] == 1.51  # 90.5 s = 1.508… min, half up
    # A date cell in local time (Excel keeps milliseconds).
    assert isinstance(teacher[7], datetime)
    assert abs(teacher[7] - local(reading.done_at)) < timedelta(milliseconds=2)
    assert teacher[8:] == [2, 1]
    evil = by_name[EVIL]  # read back exactly as typed: a string cell, never a formula
    assert evil[4:8] == ["群众", "学习中", 0.5, None] and evil[8:] == [None, None]
    zhao = by_name["赵老师"]
    assert zhao[1] == "教育局党委/乙校党总支/乙校第一支部"
    assert zhao[5:8] == ["未开始", 0, None]
    assert by_name["钱老师"][4:6] == ["中国共产主义青年团团员", "逾期完成"]
    # By unit, then name (as the readers page lists them), numbered from 1.
    assert [r[0] for r in body] == [1, 2, 3, 4]
    assert [r[2] for r in body] == [EVIL, "李老师", "钱老师", "赵老师"]
    summary = grid(data, 1)
    head = summary.index(next(r for r in summary if r[0] == "统计范围"))
    assert summary[head] == ["统计范围", "应学人数", "未开始", "学习中", "已完成", "逾期完成",
                             "逾期未完成", "已完成（含逾期完成）", "完成率"]
    assert summary[head + 1][1:] == [4, 1, 1, 1, 1, 0, 2, 0.5]


def test_formula_text_is_kept_as_text_and_marked(client, org, login, reading):
    """The .xlsx keeps the name as a string cell with quotePrefix; the CSV puts an
    apostrophe in front."""
    import zipfile

    login(org.admin)
    a = reading.assignment
    data, _ = download(client, f"/manage/stats/assignments/{a.id}/reading.xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        styles = book.read("xl/styles.xml").decode()
    assert "<f>" not in sheet
    assert 'quotePrefix="1"' in styles
    text, _ = download(client, f"/manage/stats/assignments/{a.id}/reading.csv")
    lines = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert [c for c in next(r for r in lines if EVIL in "".join(r))
                            if EVIL in c] == ["'" + EVIL]


def page_rate(client, a, query="") -> str:
    page = client.get(f"/manage/study/assignments/{a.id}/readers{query}").get_data(as_text=True)
    return re.search(r'data-figure="rate">([^<]*)<', page)[1]


def test_the_completion_rate_is_the_pages(client, org, login, reading):
    login(org.admin)
    a = reading.assignment
    shown = page_rate(client, a)
    assert shown == "50.0%"
    data, _ = download(client, f"/manage/stats/assignments/{a.id}/reading.xlsx")
    summary = grid(data, 1)
    assert f"{summary[-1][-1] * 100:.1f}%" == shown
    text, _ = download(client, f"/manage/stats/assignments/{a.id}/reading.csv")
    lines = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert any(f"完成率{shown}" in line[0] for line in lines[:4])
    header = lines.index(HEADERS)
    assert len(lines) - header - 1 == 4
    # Narrowed to 甲校第一支部, as on the page: 2 of 3.
    query = f"?unit={org.branch_a.id}"
    assert page_rate(client, a, query) == "66.7%"
    data, _ = download(client, f"/manage/stats/assignments/{a.id}/reading.xlsx{query}")
    assert len(grid(data, 0)) == HEAD_ROWS + 1 + 3
    assert f"{grid(data, 1)[-1][-1] * 100:.1f}%" == "66.7%"


def test_scope(client, org, login, make_person, make_assignment, reading):
    a = reading.assignment
    login(org.secretary)  # 甲校党总支 cannot manage the committee's assignment
    assert client.get(f"/manage/stats/assignments/{a.id}/reading.xlsx").status_code == 404
    assert client.get(f"/manage/stats/assignments/{a.id}/reading.csv").status_code == 404
    own = make_assignment(owner=org.gen_a, audience={"unit_ids": [org.branch_a.id]},
                          title="总支任务")
    data, _ = download(client, f"/manage/stats/assignments/{own.id}/reading.xlsx")
    assert {r[2] for r in grid(data, 0)[HEAD_ROWS + 1:]} == {"李老师", EVIL, "钱老师"}
    # A unit outside the secretary's subtree as a filter: 404, not an empty sheet.
    url = f"/manage/stats/assignments/{own.id}/reading.xlsx?unit={org.branch_b.id}"
    assert client.get(url).status_code == 404
    client.post("/logout")
    other = make_person("sec-b", unit=org.gen_b, role=Role.SECRETARY, manages=[org.gen_b])
    login(other)
    assert client.get(f"/manage/stats/assignments/{own.id}/reading.xlsx").status_code == 404
    client.post("/logout")
    login(org.teacher)
    assert client.get(f"/manage/stats/assignments/{own.id}/reading.csv").status_code in (
        403, 404)


def test_the_readers_page_links_the_sheet(client, org, login, reading):
    login(org.admin)
    a = reading.assignment
    page = client.get(f"/manage/study/assignments/{a.id}/readers?unit={org.branch_a.id}"
                      ).get_data(as_text=True)
    assert f"/manage/stats/assignments/{a.id}/reading.xlsx?unit={org.branch_a.id}" in page
    page = client.get(f"/manage/study/assignments/{a.id}").get_data(as_text=True)
    assert f"/manage/stats/assignments/{a.id}/reading.xlsx" in page


def test_a_big_sheet_is_built_in_the_background(app, client, org, login, reading):
    from tests.app.test_exports_jobs import wait_for

    login(org.admin)
    a = reading.assignment
    app.config["EXPORT_INLINE_ROWS"] = 2
    try:
        reply = client.get(f"/manage/stats/assignments/{a.id}/reading.xlsx")
    finally:
        app.config.pop("EXPORT_INLINE_ROWS")
    assert reply.status_code == 302 and "/manage/exports/" in reply.location
    assert wait_for(client, reply.location) == {"state": "done", "done": 4, "total": 4}
    data, _ = download(client, f"{reply.location}/download")
    assert [r[2] for r in grid(data, 0)[HEAD_ROWS + 1:]] == [EVIL, "李老师", "钱老师", "赵老师"]


def test_every_formula_start_is_neutralised(client, org, login, make_person,
                                            make_assignment):
    """Each of = + - @, their full-width forms, tab and CR at the start of a name: the
    .xlsx cell reads back exactly as typed (a string, marked quotePrefix), the CSV field
    has an apostrophe in front."""
    from studyhall.exports.safety import FORMULA_STARTS

    names = [f"{start}SUM(1,2)" for start in FORMULA_STARTS]
    for number, name in enumerate(names):
        make_person(f"f{number}", unit=org.branch_a, name=name)
    a = make_assignment(owner=org.top, audience={"unit_ids": [org.branch_a.id]})
    login(org.admin)
    data, _ = download(client, f"/manage/stats/assignments/{a.id}/reading.xlsx")
    cells = {r[3]: r[2] for r in grid(data, 0)[HEAD_ROWS + 1:]}
    assert [cells[f"f{n}"] for n in range(len(names))] == names
    text, _ = download(client, f"/manage/stats/assignments/{a.id}/reading.csv")
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"), newline="")))
    by_account = {r[3]: r[2] for r in rows if len(r) == len(HEADERS)}
    assert [by_account[f"f{n}"] for n in range(len(names))] == ["'" + n for n in names]


def test_each_download_is_audited_and_a_refused_one_is_not(client, org, login, reading):
    """Names, accounts and 政治面貌 leave the system: an export of personal data, logged
    as the score and roster sheets are (issue 12, item 7)."""
    import sqlalchemy as sa

    from studyhall.audit import AuditEntry

    def entries():
        return [(e.action, e.target_type, e.target_id, e.actor_id, e.details.get("format"))
                for e in db.session.scalars(sa.select(AuditEntry).where(
                    AuditEntry.action == "export.reading").order_by(AuditEntry.id))]

    a = reading.assignment
    login(org.secretary)  # outside the committee's assignment: 404, nothing logged
    assert client.get(f"/manage/stats/assignments/{a.id}/reading.csv").status_code == 404
    assert entries() == []
    client.post("/logout")
    login(org.admin)
    download(client, f"/manage/stats/assignments/{a.id}/reading.xlsx")
    client.get(f"/manage/stats/assignments/{a.id}/reading.csv").get_data()
    db.session.expire_all()
    assert entries() == [("export.reading", "assignment", a.id, org.admin.id, "xlsx"),
                         ("export.reading", "assignment", a.id, org.admin.id, "csv")]
    page = client.get("/manage/audit?group=exports").get_data(as_text=True)
    assert "Reading-completion sheet exported" in page or "导出阅读完成情况表" in page
