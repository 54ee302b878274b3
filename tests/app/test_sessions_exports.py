"""The record sheet (.docx) and the period attendance sheet (.xlsx), read back and checked
cell by cell; the formula-injection guard; who may download them."""

from __future__ import annotations

import io

import openpyxl
import pytest
from docx import Document

from studyhall import storage
from studyhall.exports.cells import FORMULA_STARTS, guard
from studyhall.extensions import db
from studyhall.org.models import PoliticalStatus
from studyhall.sessions.models import SessionAttachment, SessionKind, SessionStatus
from tests.app.session_fixtures_e3 import *  # noqa: F401,F403
from tests.app.session_fixtures_e3 import A, E, L, P, local, png
from tests.app.study_fixtures_s1 import *  # noqa: F401,F403  (files_dir)

K = SessionKind
MINUTES = """# 会议议程

王书记传达了《新时代中小学教师职业行为十项准则》。

- 坚定政治方向
- 自觉爱国守法

1. 讨论
2. 表决

<script>alert(1)</script>
"""


@pytest.fixture()
def people(org, make_person):
    """Five people of 甲校第一支部 besides the teacher (李老师)."""
    names = ["陈一", "周二", "吴三", "郑四"]
    return [org.teacher] + [make_person(unit=org.branch_a, name=n) for n in names]


def _photo(session, caption, data=None, *, position=0):
    data = data or png(8 + position, 6)
    stored = storage.save_file(data, f"{caption}.png", None, allowed=storage.IMAGE_TYPES)
    db.session.add(SessionAttachment(session_id=session.id, kind="photo", file_id=stored.id,
                                     caption=caption, position=position))
    db.session.commit()
    return stored


# --- The record sheet -------------------------------------------------------------------

@pytest.fixture()
def meeting(org, people, make_session, files_dir):
    teacher, chen, zhou, wu, zheng = people
    session = make_session(
        K.BRANCH_MEETING, local(2026, 3, 12, 15),
        {teacher: P, chen: L, zhou: E, wu: A, zheng: None},
        topic="学习《十项准则》", minutes=MINUTES, resolutions="同意吴三同志转正。",
        host_id=org.secretary.id, recorder_id=chen.id)
    _photo(session, "会议现场", position=0)
    _photo(session, "集体学习", position=1)
    return session


def _docx(client, session_id):
    response = client.get(f"/manage/sessions/{session_id}/record.docx")
    assert response.status_code == 200, response.status_code
    assert response.mimetype.endswith("wordprocessingml.document")
    return Document(io.BytesIO(response.data))


def _rows(table):
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_record_sheet_reads_back_cell_by_cell(client, login, org, meeting):
    login(org.secretary)
    document = _docx(client, meeting.id)
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "支部党员大会记录" and paragraphs[1] == "甲校第一支部"
    facts, names = (_rows(t) for t in document.tables)
    # 参学率: 2 attended of 5 expected less 1 on leave = 50.0%; the unmarked one counts.
    assert facts == [
        ["类型", "支部党员大会"],
        ["主题", "学习《十项准则》"],
        ["时间", "2026-03-12 15:00–16:00"],
        ["地点", "三楼会议室"],
        ["主持人", "王书记"],
        ["记录人", "陈一"],
        ["考勤", "应到5人，实到2人（其中迟到1人），请假1人，缺席1人；"
                 "参学率50.0%（经批准的请假不计入应到）"],
    ]
    assert names == [["实到（2人）", "李老师、陈一"], ["其中迟到（1人）", "陈一"],
                     ["请假（1人）", "周二（外出培训）"], ["缺席（1人）", "吴三"],
                     ["未标记（1人）", "郑四"]]
    minutes = paragraphs[paragraphs.index("会议记录") + 1:paragraphs.index("会议决议")]
    assert minutes == ["会议议程", "王书记传达了《新时代中小学教师职业行为十项准则》。",
                       "• 坚定政治方向", "• 自觉爱国守法", "1. 讨论", "2. 表决",
                       "<script>alert(1)</script>"]
    assert paragraphs[paragraphs.index("会议决议") + 1] == "同意吴三同志转正。"
    assert len(document.inline_shapes) == 2
    assert "会议现场" in paragraphs and "集体学习" in paragraphs
    assert any(p.startswith("主持人（签字）") for p in paragraphs)


def test_record_sheet_counts_leave_when_the_session_says_so(client, login, org, people,
                                                            make_session):
    session = make_session(K.PARTY_LECTURE, local(2026, 4), {people[0]: P, people[1]: E},
                           leave_counts_as_expected=True, speaker="特邀专家")
    login(org.secretary)
    facts = dict(_rows(_docx(client, session.id).tables[0]))
    assert facts["授课人"] == "特邀专家"
    assert facts["考勤"].endswith("参学率50.0%（请假人员计入应到）")


def test_a_photo_missing_from_storage_is_named_not_dropped(client, login, org, people,
                                                           make_session, files_dir):
    session = make_session(K.THEME_DAY, local(2026, 4), {people[0]: P})
    stored = _photo(session, "现场")
    (files_dir / stored.sha256[:2] / stored.sha256).unlink()
    login(org.secretary)
    document = _docx(client, session.id)
    assert len(document.inline_shapes) == 0
    assert "照片“现场”无法读取。" in [p.text for p in document.paragraphs]


def test_record_sheet_is_for_its_keepers_only(client, login, org, people, meeting,
                                              make_session):
    url = f"/manage/sessions/{meeting.id}/record.docx"
    login(org.teacher)  # expected at it, not its recorder
    assert client.get(url).status_code == 404
    client.post("/logout")
    login(people[1])  # the recorder
    assert client.get(url).status_code == 200
    other = make_session(K.BRANCH_MEETING, local(2026, 3), unit=org.branch_b)
    draft = make_session(K.BRANCH_MEETING, local(2026, 3), status=SessionStatus.DRAFT)
    client.post("/logout")
    login(org.secretary)
    assert client.get(f"/manage/sessions/{other.id}/record.docx").status_code == 404
    assert client.get(f"/manage/sessions/{draft.id}/record.docx").status_code == 404
    client.post("/logout")
    login(org.admin)
    assert client.get(f"/manage/sessions/{other.id}/record.docx").status_code == 200


# --- The attendance sheet ---------------------------------------------------------------

def _xlsx(client, unit_id, period="2026H1"):
    response = client.get(f"/manage/sessions/attendance.xlsx?unit={unit_id}&period={period}")
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "private, no-store"
    return openpyxl.load_workbook(io.BytesIO(response.data)).active


def _values(sheet):
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_attendance_sheet_reads_back_cell_by_cell(client, login, org, people, make_person,
                                                  make_session):
    teacher, chen, zhou, *_ = people
    tricky = make_person(unit=org.branch_a, name="=HYPERLINK(\"http://x\")",
                         account="＋0001", status=PoliticalStatus.MASSES)
    make_session(K.BRANCH_MEETING, local(2026, 3, 12), {teacher: P, chen: A, zhou: E},
                         topic="@SUM(1)")
    make_session(K.PARTY_LECTURE, local(2026, 4, 8), {teacher: L, chen: E, tricky: P},
                          topic="专题党课", leave_counts_as_expected=True)
    make_session(K.THEME_DAY, local(2026, 7, 1), {teacher: P})  # second half
    make_session(K.THEME_DAY, local(2026, 5, 1), {teacher: P}, unit=org.branch_b)
    make_session(K.THEME_DAY, local(2026, 5, 1), {teacher: P}, status=SessionStatus.CANCELLED)
    login(org.secretary)
    sheet = _xlsx(client, org.gen_a.id)
    rows = _values(sheet)
    assert rows[0][0] == "甲校党总支考勤汇总表（2026年上半年）"
    assert rows[1] == ["序号", "姓名", "账号", "单位", "03-12 支部党员大会\n@SUM(1)",
                       "04-08 党课\n专题党课", "应到", "出席", "迟到", "请假", "缺席", "实到",
                       "参学率"]
    people_rows = rows[2:6]
    # By unit in tree order, then by name; the guarded name keeps its apostrophe.
    assert [row[:2] for row in people_rows] == [
        [1, "'=HYPERLINK(\"http://x\")"], [2, "周二"], [3, "李老师"], [4, "陈一"]]
    tricky_row, zhou_row, teacher_row, chen_row = people_rows
    assert tricky_row[2:] == ["'＋0001", "甲校第一支部", "—", "出席", 1, 1, 0, 0, 0, 1, 1.0]
    # On leave where leave is not expected: nothing left to divide by.
    assert zhou_row[4:] == ["请假", "—", 1, 0, 0, 1, 0, 0, "—"]
    assert teacher_row[2:] == ["t1", "甲校第一支部", "出席", "迟到", 2, 1, 1, 0, 0, 2, 1.0]
    # Absent, then on leave at a session that keeps leave in the denominator: 0 of 2.
    assert chen_row[4:] == ["缺席", "请假", 2, 0, 0, 1, 1, 0, 0.0]
    totals = rows[6:12]
    assert [r[0] for r in totals] == ["应到", "实到", "迟到", "请假", "缺席", "参学率"]
    assert [r[4:6] for r in totals] == [[3, 3], [1, 2], [0, 1], [1, 1], [1, 0], [0.5, 0.667]]
    # 参学率 of the period: Σ实到 3 ÷ Σ应到 (2 + 3) = 60.0%; 2/3 is rounded half up.
    assert totals[5][12] == 0.6
    assert sheet.cell(row=12, column=6).number_format == "0.0%"
    assert sheet.freeze_panes == "C3"
    assert rows[13][0].startswith("参学率＝期间各次活动实到人次÷应到人次")
    # Every cell of the table is there: 4 people over 13 columns, 6 total rows.
    assert all(value is not None for row in rows[1:6] for value in row)
    assert all(value is not None for row in totals for value in row[4:6])


def test_an_unmarked_status_stays_in_the_denominator(client, login, org, people,
                                                     make_session):
    make_session(K.THEME_DAY, local(2026, 2), {people[0]: None, people[1]: P})
    login(org.secretary)
    rows = _values(_xlsx(client, org.branch_a.id, "2026Q1"))
    assert rows[2][1] == "李老师" and rows[2][4] == "未标记" and rows[2][-1] == 0.0
    assert rows[3][1] == "陈一" and rows[3][-1] == 1.0
    assert rows[9][0] == "参学率" and rows[9][4] == 0.5


def test_an_empty_period_gives_a_sheet_with_headers_only(client, login, org):
    login(org.secretary)
    rows = _values(_xlsx(client, org.branch_a.id, "2025"))
    assert rows[1] == ["序号", "姓名", "账号", "单位", "应到", "出席", "迟到", "请假", "缺席",
                       "实到", "参学率"]
    assert rows[2][0] == "应到"


def test_attendance_sheet_is_scoped(client, login, org):
    login(org.secretary)
    assert client.get(f"/manage/sessions/attendance.xlsx?unit={org.branch_b.id}"
                      ).status_code == 404
    assert client.get("/manage/sessions/attendance.xlsx").status_code == 404
    client.post("/logout")
    login(org.teacher)
    assert client.get(f"/manage/sessions/attendance.xlsx?unit={org.branch_a.id}"
                      ).status_code == 403


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_guard_neutralises_every_formula_start(start):
    assert guard(start + "1+1") == "'" + start + "1+1"


def test_guard_leaves_ordinary_text_alone():
    assert guard("李老师") == "李老师" and guard("1-2") == "1-2" and guard(None) == ""
    assert guard("'=x") == "'=x"


def test_a_sheet_too_wide_to_read_is_refused_with_advice(client, login, org, people,
                                                          make_session, monkeypatch):
    from studyhall.sessions import routes_exports

    monkeypatch.setattr(routes_exports, "MAX_SESSION_COLUMNS", 2)
    for month in (1, 2, 4):
        make_session(K.THEME_DAY, local(2026, month), {people[0]: P})
    login(org.secretary)
    response = client.get(f"/manage/sessions/attendance.xlsx?unit={org.gen_a.id}"
                          "&period=2026", follow_redirects=True)
    assert response.mimetype == "text/html"
    assert "3 sessions were held under this unit" in response.get_data(as_text=True)
    assert _values(_xlsx(client, org.gen_a.id, "2026Q1"))[1][4:6] == [
        "01-10 主题党日\n学习十项准则", "02-10 主题党日\n学习十项准则"]
