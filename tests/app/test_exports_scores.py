"""The score sheet read back with openpyxl and pandas, cell by cell against the pages'
figures: every row and column present, numbers as numbers, dates as dates, the retake
rule printed, formulas neutralised; CSV the same; secretaries get their subtree only."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pandas as pd
import pytest

from studyhall.stats import queries
from tests.app.stats_fixtures_f1 import *  # noqa: F401,F403
from tests.app.stats_fixtures_f1 import TAKES

SCORE_HEADERS = ["序号", "单位", "姓名", "账号", "政治面貌", "状态", "得分", "是否及格", "用时",
                 "交卷时间"]
UNIT_HEADERS = ["单位", "类型", "应考", "实考", "缺考", "参考率", "人均分（按实考人数）",
                "人均分（按应参人数，缺考计 0 分）", "最高分", "最低分", "中位数", "标准差", "及格",
                "及格率", "优秀", "优秀率", "待阅卷"]
#: The page's data-figure names, in the unit sheet's column order (from 应考 on).
PAGE_ORDER = ["expected", "took", "absent", "participation", "average",
              "average_over_expected", "highest", "lowest", "median", "sd", None,
              "pass_rate", None, "excellent_rate", None]


def download(client, url):
    """The reply read whole and closed (a sheet is sent from a temporary file)."""
    reply = client.get(url)
    reply.get_data()
    reply.close()
    assert reply.status_code == 200, reply.status_code
    return reply


def workbook(client, quiz, query=""):
    reply = download(client, f"/manage/stats/exams/{quiz.id}/scores.xlsx{query}")
    return openpyxl.load_workbook(io.BytesIO(reply.get_data())), reply


def table(sheet) -> tuple[list, list[list]]:
    """The header row (the first row whose first cell is a header) and the rows below."""
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[0] in ("序号", "单位"))
    return rows[start], rows[start + 1:]


def as_shown(value, kind: str) -> str:
    """A cell written the way the page writes the figure."""
    if value is None:
        return "—"
    if kind == "rate":
        return f"{Decimal(str(value)) * 100:.1f}%"
    if kind == "count":
        return str(value)
    return f"{Decimal(str(value)):.2f}"


def page_figures(client, quiz, unit_id=None) -> dict[str, str]:
    url = f"/manage/stats/exams/{quiz.id}" + (f"?unit={unit_id}" if unit_id else "")
    page = client.get(url).get_data(as_text=True)
    return dict(re.findall(r'data-figure="(\w+)">([^<]*)<', page))


def sheet_figures(row: list) -> dict[str, str]:
    kinds = {"expected": "count", "took": "count", "absent": "count",
             "participation": "rate", "pass_rate": "rate", "excellent_rate": "rate"}
    return {name: as_shown(value, kinds.get(name, "number"))
            for name, value in zip(PAGE_ORDER, row[2:], strict=True) if name}


def test_the_three_sheets_and_every_cell(client, org, login, small_exam):
    login(org.admin)
    book, reply = workbook(client, small_exam.quiz)
    assert book.sheetnames == ["成绩单", "单位汇总", "试题分析"]
    scores = book["成绩单"]
    assert scores["A1"].value == "党纪党规知识测试 成绩单"
    notes = [scores["A2"].value, scores["A3"].value]
    assert notes[1].startswith("计分规则：每人已交卷的各次作答中取最高分")  # the retake rule
    assert scores.freeze_panes == "A5"  # the header row stays in view
    header, rows = table(scores)
    assert header == SCORE_HEADERS and len(rows) == 8
    filled = sum(value is not None for row in rows for value in row)
    assert filled == 5 * 10 + 3 * 6  # those who sat: every cell; absentees: no score/time
    by_name = {row[2]: row for row in rows}
    li = by_name["李老师"]
    assert li[:8] == [li[0], "教育局党委/甲校党总支/甲校第一支部", "李老师", "t1", "中国共产党党员",
                      "已交卷", 100, "是"]
    assert isinstance(li[0], int) and isinstance(li[6], int | float)
    assert li[8] == timedelta(seconds=TAKES) and isinstance(li[9], datetime)
    assert by_name["孙团员"][6:8] == [59.5, "否"]
    assert by_name["周老师"][5:] == ["未参加", None, None, None, None]
    widths = [scores.column_dimensions[c].width for c in "ABCDEFGHIJ"]
    assert widths[1] > widths[0] and all(w >= 6 for w in widths)  # fitted, unit widest


def test_the_unit_sheet_matches_every_page(client, org, login, small_exam):
    login(org.admin)
    book, _ = workbook(client, small_exam.quiz)
    header, rows = table(book["单位汇总"])
    assert header == UNIT_HEADERS
    assert all(len(row) == len(UNIT_HEADERS) for row in rows)
    # 合计 is the page's own figures; each unit row is that unit's page.
    assert rows[0][0].startswith("合计")
    assert sheet_figures(rows[0]) == {k: v for k, v in page_figures(
        client, small_exam.quiz).items() if k in PAGE_ORDER}
    names = queries.get_unit_names()
    ids = {path: unit_id for unit_id, path in names.items()}
    assert len(rows) == 1 + 5  # committee, two general branches, two branches
    for row in rows[1:]:
        page = page_figures(client, small_exam.quiz, ids[row[0]])
        assert sheet_figures(row) == {k: v for k, v in page.items() if k in PAGE_ORDER}, row[0]


def test_the_item_sheet_matches_the_item_page(client, org, login, small_exam):
    login(org.admin)
    book, _ = workbook(client, small_exam.quiz)
    header, rows = table(book["试题分析"])
    assert header[:6] == ["序号", "题型", "题目", "分值", "作答人数", "得分率"]
    assert len(rows) == 5 and [row[0] for row in rows] == [1, 2, 3, 4, 5]
    page = client.get(f"/manage/stats/exams/{small_exam.quiz.id}/items").get_data(as_text=True)
    shown = re.findall(r'data-item="facility">([^<]*)<', page)
    assert [as_shown(row[5], "rate") for row in rows] == shown


def test_pandas_reads_the_same_cells(client, org, login, small_exam):
    login(org.admin)
    reply = download(client, f"/manage/stats/exams/{small_exam.quiz.id}/scores.xlsx")
    frame = pd.read_excel(io.BytesIO(reply.get_data()), sheet_name="成绩单", header=3,
                          engine="openpyxl")
    assert list(frame.columns) == SCORE_HEADERS and frame.shape == (8, 10)
    sat = frame[frame["状态"] == "已交卷"]
    assert sat.notna().all().all() and len(sat) == 5
    assert Decimal(str(sat["得分"].sum())) == Decimal("399.5")  # the page's total
    average = Decimal(str(sat["得分"].sum())) / len(sat)
    assert f"{average:.2f}" == page_figures(client, small_exam.quiz)["average"]


def test_formulas_are_neutralised(client, org, login, small_exam):
    login(org.admin)
    book, _ = workbook(client, small_exam.quiz)
    _, rows = table(book["成绩单"])
    cell = next(c for row in book["成绩单"].iter_rows() for c in row
                if c.value == '=HYPERLINK("x")')
    # The text as typed, in a string cell Excel never evaluates, marked as text.
    assert cell.data_type == "s" and cell.quotePrefix
    reply = download(client, f"/manage/stats/exams/{small_exam.quiz.id}/scores.csv")
    lines = list(csv.reader(io.StringIO(reply.get_data().decode("utf-8-sig"))))
    assert any(row[2] == "'=HYPERLINK(\"x\")" for row in lines if len(row) > 2)


def test_the_csv_holds_the_same_rows(client, org, login, small_exam):
    login(org.admin)
    reply = download(client, f"/manage/stats/exams/{small_exam.quiz.id}/scores.csv")
    assert reply.mimetype == "text/csv" and reply.get_data().startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(reply.get_data().decode("utf-8-sig"))))
    start = lines.index(SCORE_HEADERS)
    rows = lines[start + 1:]
    assert len(rows) == 8 and all(len(row) == 10 for row in rows)
    li = next(row for row in rows if row[2] == "李老师")
    assert li[6:9] == ["100.00", "是", "0:18:05"]
    units = download(client, f"/manage/stats/exams/{small_exam.quiz.id}/units.csv")
    unit_lines = list(csv.reader(io.StringIO(units.get_data().decode("utf-8-sig"))))
    total = unit_lines[unit_lines.index(UNIT_HEADERS) + 1]
    assert total[2:8] == ["8", "5", "3", "62.5%", "79.90", "49.94"]


def test_the_file_name_says_what_unit_and_day(client, org, login, small_exam):
    login(org.admin)
    _, reply = workbook(client, small_exam.quiz, f"?unit={org.branch_a.id}")
    header = reply.headers["Content-Disposition"]
    assert header.startswith('attachment; filename="exam-') and "filename*=UTF-8''" in header
    name = unquote(header.split("filename*=UTF-8''", 1)[1])
    assert re.fullmatch(r"党纪党规知识测试-成绩单-甲校第一支部-\d{4}-\d\d-\d\d\.xlsx", name)


@pytest.mark.parametrize("suffix", ["scores.xlsx", "scores.csv", "units.csv", "items.csv"])
def test_a_secretary_exports_their_subtree_only(client, org, login, small_exam, suffix):
    login(org.secretary)
    reply = download(client, f"/manage/stats/exams/{small_exam.quiz.id}/{suffix}")
    if suffix.endswith(".xlsx"):
        book = openpyxl.load_workbook(io.BytesIO(reply.get_data()))
        text = " ".join(str(c) for s in book for r in s.iter_rows(values_only=True)
                        for c in r if c is not None)
    else:
        text = reply.get_data().decode("utf-8-sig")
    assert "乙校" not in text and "赵老师" not in text
    if suffix.startswith("scores"):
        assert "李老师" in text and "王书记" in text
    assert client.get(f"/manage/stats/exams/{small_exam.quiz.id}/{suffix}"
                      f"?unit={org.gen_b.id}").status_code == 404


def test_the_export_commands_write_what_the_page_serves(app, org, small_exam, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "scores.xlsx"
    result = runner.invoke(args=["export-scores", "--quiz", str(small_exam.quiz.id),
                                 "--out", str(out), "--unit", "甲校党总支"])
    assert result.exit_code == 0, result.output
    header, rows = table(openpyxl.load_workbook(out)["成绩单"])
    assert header == SCORE_HEADERS and len(rows) == 5  # 甲校党总支's subtree
    csv_out = tmp_path / "scores.csv"
    assert runner.invoke(args=["export-scores", "--quiz", str(small_exam.quiz.id),
                               "--out", str(csv_out)]).exit_code == 0
    lines = list(csv.reader(io.StringIO(csv_out.read_text(encoding="utf-8-sig"))))
    assert len(lines) == lines.index(SCORE_HEADERS) + 1 + 8
    roster_out = tmp_path / "roster.xlsx"
    result = runner.invoke(args=["export-roster", "--out", str(roster_out)])
    assert result.exit_code == 0 and "已写入 9 人" in result.output
    bad = runner.invoke(args=["export-scores", "--quiz", "99999", "--out", str(out)])
    assert bad.exit_code != 0


def _cells(path) -> dict[str, list[list]]:
    """Every sheet's cells, without the line that says when the file was made."""
    book = openpyxl.load_workbook(path)
    return {sheet.title: [list(row) for i, row in enumerate(sheet.iter_rows(values_only=True))
                          if i != 1] for sheet in book.worksheets}


@pytest.mark.parametrize("who", ["admin", "secretary"])
def test_figures_beside_the_people_give_the_same_file(app, org, small_exam, tmp_path, who):
    """The command computes the unit figures and the item analysis in a thread of their
    own while the people are written: the same three sheets, cell by cell."""
    from flask_babel import force_locale

    from studyhall.exports import scores
    from studyhall.stats.queries import Filters

    viewer = org.admin if who == "admin" else org.secretary
    unit = None if who == "admin" else org.gen_a
    files = {}
    for beside in (False, True):
        with force_locale("zh_CN"):
            export = scores.ScoreExport(small_exam.quiz, viewer, Filters(unit))
            files[beside] = tmp_path / f"{beside}.xlsx"
            scores.write_score_workbook(files[beside], export, figures_beside=beside)
    sequential, beside = _cells(files[False]), _cells(files[True])
    assert list(beside) == ["成绩单", "单位汇总", "试题分析"]
    assert beside == sequential
    assert len(table_rows(beside["成绩单"])) == (8 if unit is None else 5)


@pytest.mark.parametrize("fails", [False, True])
def test_threads_switch_often_while_the_figures_run_beside(app, org, small_exam, tmp_path,
                                                           monkeypatch, fails):
    """While the figures thread runs beside the people, Python switches threads every
    0.5 ms rather than 5 (the thread would wait behind the writer at every row it
    fetches); afterwards, even after a failure, the interval is what it was. Without the
    thread it is never changed."""
    import sys

    from flask_babel import force_locale

    from studyhall.exports import scores
    from studyhall.stats.queries import Filters

    seen = []
    people = scores.iter_score_values

    def recording(export):
        seen.append(sys.getswitchinterval())
        if fails:
            raise RuntimeError("the disk is full")
        yield from people(export)
    monkeypatch.setattr(scores, "iter_score_values", recording)
    before = sys.getswitchinterval()
    with force_locale("zh_CN"):
        export = scores.ScoreExport(small_exam.quiz, org.admin, Filters(None))
        for beside in (True, False):
            try:
                scores.write_score_workbook(tmp_path / f"{beside}.xlsx", export,
                                            figures_beside=beside)
            except RuntimeError:
                assert fails
            assert sys.getswitchinterval() == before
    assert seen == [scores.BESIDE_SWITCH_INTERVAL, before]
    assert before > scores.BESIDE_SWITCH_INTERVAL


def test_overlapping_exports_put_the_switch_interval_back_once_both_end():
    """The interval is the process's: two exports overlapping in one worker must not
    leave it lowered (or raised mid-way) by restoring it out of order."""
    import sys

    from studyhall.exports.scores import BESIDE_SWITCH_INTERVAL, switching_often

    before = sys.getswitchinterval()
    first, second = switching_often(), switching_often()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert sys.getswitchinterval() == BESIDE_SWITCH_INTERVAL
    second.__exit__(None, None, None)
    assert sys.getswitchinterval() == before
    with switching_often(False):
        assert sys.getswitchinterval() == before


def table_rows(rows: list[list]) -> list[list]:
    return rows[next(i for i, r in enumerate(rows) if r[0] == "序号") + 1:]


def test_the_figures_thread_reads_the_people_s_snapshot(app, org, small_exam):
    """A write committed while the figures thread starts is seen by neither thread: the
    thread joins the caller's snapshot (PostgreSQL: an exported snapshot; SQLite: both
    begin while the write lock is held, so the write waits)."""
    import threading

    import sqlalchemy as sa

    from studyhall.database import read_only
    from studyhall.exports import snapshot
    from studyhall.extensions import db
    from studyhall.org.models import Person

    person_id, engine = org.teacher.id, db.engine
    name_of = sa.select(Person.name).where(Person.id == person_id)

    def rename():
        with engine.begin() as connection:
            connection.execute(sa.update(Person).where(Person.id == person_id)
                               .values(name="改了名"))

    writer = threading.Thread(target=rename)
    seen = {}

    def begin_other(join):
        writer.start()
        writer.join(timeout=1.0)  # PostgreSQL: committed by now; SQLite: waits for the lock

        def run():
            with app.app_context():
                read_only()
                join()
                seen["other"] = db.session.scalar(name_of)
                db.session.remove()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    thread = snapshot.run_beside(begin_other)
    thread.join()
    seen["caller"] = db.session.scalar(name_of)
    writer.join()
    assert seen == {"other": "李老师", "caller": "李老师"}
    db.session.rollback()
    assert db.session.scalar(name_of) == "改了名"  # the write did happen, afterwards


def test_the_command_records_its_audit_after_others_wrote(app, org, small_exam, tmp_path,
                                                           monkeypatch):
    """An exam keeps saving while the command reads: its audit entry is written in a
    transaction of its own afterwards (on SQLite the read transaction could not become a
    writer once someone else had committed: "database is locked")."""
    import sqlalchemy as sa

    from studyhall.audit import AuditEntry
    from studyhall.exports import scores
    from studyhall.extensions import db
    from studyhall.org.models import Person

    engine, write = db.engine, scores.write_score_workbook

    def written_while_others_save(*args, **kwargs):
        write(*args, **kwargs)
        with engine.begin() as connection:  # a save committed by another connection
            connection.execute(sa.update(Person).where(Person.id == org.teacher.id)
                               .values(name="李老师"))

    monkeypatch.setattr(scores, "write_score_workbook", written_while_others_save)
    result = app.test_cli_runner().invoke(args=[
        "export-scores", "--quiz", str(small_exam.quiz.id), "--out", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "export.scores")) == 1
