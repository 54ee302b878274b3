"""汇报数据: the report sentences from hand-computed figures (stats_fixtures_f2.py), the
headcount line, the page's copy buttons, the .docx read back and `flask report`, on
SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person, PoliticalStatus, Role, UnitKind
from studyhall.stats import report
from studyhall.stats.periods import DatePeriod
from tests.app.stats_fixtures_f2 import *  # noqa: F401,F403
from tests.app.stats_fixtures_f2 import FIRST_HALF, H1

PERIOD = DatePeriod(*FIRST_HALF)
SUMMARY = ("2026年上半年，共组织集中学习3次，参学率66.7%；"
           "开展党纪党规知识测试1次，应考8人，实考5人，参考率62.5%，人均79.9分，及格率80%。")
KINDS = ("其中中心组学习1次，支部党员大会1次，党课1次；累计3.3小时；"
         "应到10人次，实到6人次，请假2人次，缺席2人次。计划开展2次，已开展1次。")
STUDY = ("布置学习任务2项，应学7人次，完成3人次，完成率42.9%，累计学习0.1小时，人均0.7分钟；"
         "提交心得体会3篇，审核通过2篇，其中优秀1篇。")


def test_report_sentences_hand_computed(activity, org, app):
    with app.test_request_context():
        data = report.build_report(org.admin, org.top, PERIOD, utcnow())
        lines = data.lines
    # The committee's active people: 7 中共党员, 孙团员 and 赵老师 (群众).
    assert lines == ["共9人，其中党员7名，团员1名，群众1名。", SUMMARY, KINDS, STUDY]


def test_report_over_a_branch(activity, org, app):
    with app.test_request_context():
        data = report.build_report(org.admin, org.gen_b, PERIOD, utcnow())
        lines = data.lines
    # 乙校党总支: S3 organised; its people: S2 赵 出席, S3 2 of 3 → 3 ÷ 4 = 75%; the exam
    # over its 3 expected: 赵 70 → 应考 3, 实考 1, 33.3%, 人均 70.0, 及格 100%.
    assert lines[1] == ("2026年上半年，共组织集中学习1次，参学率75%；"
                        "开展党纪党规知识测试1次，应考3人，实考1人，参考率33.3%，人均70.0分，及格率100%。")
    assert lines[0] == "共3人，其中党员2名，群众1名。"


def test_report_without_anything(org, app):
    with app.test_request_context():
        lines = report.build_report(org.admin, org.top, PERIOD, utcnow()).lines
    assert lines[1] == "2026年上半年，暂无集中学习和考试记录。"
    assert len(lines) == 2


@pytest.fixture()
def headcount_unit(make_unit):
    """97 people: 48 中共党员 and 2 预备党员 (50 党员), 6 团员, 1 民革党员, 40 群众, spread
    over a branch and its 党小组; 3 inactive people who do not count."""
    unit = make_unit("丙校党支部", kind=UnitKind.BRANCH)
    group = make_unit("丙校第一党小组", unit, UnitKind.GROUP)
    statuses = ([PoliticalStatus.CPC_MEMBER] * 48 + [PoliticalStatus.CPC_PROBATIONARY] * 2
                + [PoliticalStatus.CYL_MEMBER] * 6 + [PoliticalStatus.RCCK]
                + [PoliticalStatus.MASSES] * 40)
    for k, status in enumerate(statuses):
        db.session.add(Person(account=f"hc{k}", name=f"人员{k}", unit=group if k % 3 else unit,
                              role=Role.TEACHER, political_status=status, password_hash="!"))
    for k in range(3):
        db.session.add(Person(account=f"gone{k}", name="离职", unit=unit, role=Role.TEACHER,
                              political_status=PoliticalStatus.CYL_MEMBER, password_hash="!",
                              is_active=False))
    db.session.commit()
    return unit


def test_headcount_line(headcount_unit, app):
    with app.test_request_context():
        assert report.headcount_line(headcount_unit) == \
            "共97人，其中党员50名，团员6名，民主党派1名，群众40名"


def test_headcount_line_in_the_report(headcount_unit, org, app):
    with app.test_request_context():
        lines = report.build_report(org.admin, headcount_unit, PERIOD, utcnow()).lines
    assert lines[0] == "共97人，其中党员50名，团员6名，民主党派1名，群众40名。"


def test_page_copies_every_line(activity, org, client, login):
    login(org.admin)
    client.set_cookie("lang", "zh_CN")
    html = client.get("/manage/stats/report", query_string={"unit": org.top.id, **H1}) \
        .get_data(as_text=True)
    lines = re.findall(r'<p id="(report-line-\d+)" data-report-line>([^<]*)</p>', html)
    assert [text for _id, text in lines][1:] == [SUMMARY, KINDS, STUDY]
    for line_id, _text in lines:
        assert f'data-copy-target="{line_id}"' in html
    assert 'data-copy-target="' + " ".join(i for i, _t in lines) + '"' in html
    assert "js/report-copy.js" in html
    assert "chart.umd.min.js" not in html
    assert "/manage/stats/report.docx" in html


def test_docx_reads_back(activity, org, client, login):
    login(org.admin)  # the page in English: the file is in Chinese all the same
    response = client.get("/manage/stats/report.docx", query_string={"unit": org.top.id, **H1})
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    paragraphs = [p.text for p in Document(io.BytesIO(response.data)).paragraphs]
    assert paragraphs[0] == "汇报数据"
    assert paragraphs[1] == "教育局党委 · 2026年上半年"
    assert paragraphs[3:6] == [SUMMARY, KINDS, STUDY]
    assert paragraphs[2].startswith("共")


def test_report_command(activity, org, app, tmp_path):
    out = tmp_path / "report.docx"
    result = app.test_cli_runner().invoke(args=[
        "report", "--unit", "教育局党委", "--from", H1["from"], "--to", H1["to"],
        "--docx", str(out)])
    assert result.exit_code == 0, result.output
    printed = result.stdout.splitlines()
    assert printed[1:4] == [SUMMARY, KINDS, STUDY]
    paragraphs = [p.text for p in Document(str(out)).paragraphs]
    assert paragraphs[2:6] == printed[:4]


def test_report_command_refuses_bad_input(activity, app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["report", "--unit", "不存在的单位", "--from", "2026-01-01",
                                 "--to", "2026-06-30"])
    assert result.exit_code != 0
    result = runner.invoke(args=["report", "--unit", "教育局党委", "--from", "2026-07-01",
                                 "--to", "2026-06-30"])
    assert result.exit_code != 0 and "结束日期早于开始日期" in result.output


def test_report_exam_counts_agree_with_the_exam_statistics(activity, org, app):
    """The report's light exam aggregate gives the exam page's own 应考, 实考, total and
    及格 (stats/queries.get_exam_figures), over the committee and over each branch."""
    from studyhall.stats import queries

    with app.test_request_context():
        for unit in (org.top, org.gen_a, org.branch_a, org.gen_b):
            light = report.get_exam_counts(activity.exam, org.admin, unit)
            full = queries.get_exam_figures(activity.exam, org.admin, queries.Filters(unit))
            assert (light.expected, light.took, light.total, light.passed) == \
                (full.expected, full.took, full.total, full.passed), unit.name


def test_each_exam_is_counted_by_its_own_rule_in_one_statement(org, make_quiz, app):
    """The period's exams are counted together: each against its own pass mark and its
    own counted attempt (the last one here: 90 then 80 counts 80), as its page has it."""
    from decimal import Decimal

    from studyhall.quizzes.models import Counting
    from studyhall.stats import queries
    from tests.app.stats_fixtures_f1 import sit

    lenient = make_quiz(pass_mark=Decimal(60), counting=Counting.LAST, attempts_allowed=2)
    strict = make_quiz(pass_mark=Decimal(85))
    sit(lenient, org.teacher, "90")
    sit(lenient, org.teacher, "80")
    sit(strict, org.teacher, "80")
    counts = report.get_exams_counts([lenient, strict], org.admin, org.top)
    assert (counts[lenient.id].took, counts[lenient.id].total, counts[lenient.id].passed) \
        == (1, Decimal(80), 1)
    assert (counts[strict.id].took, counts[strict.id].total, counts[strict.id].passed) \
        == (1, Decimal(80), 0)
    for quiz in (lenient, strict):
        full = queries.get_exam_figures(quiz, org.admin, queries.Filters(org.top))
        mine = counts[quiz.id]
        assert (mine.expected, mine.took, mine.total, mine.passed) == \
            (full.expected, full.took, full.total, full.passed)


def test_exams_without_expected_people_in_the_unit_are_left_out(org, make_quiz, app):
    """Each exam is its own aggregate row, which exists even over nobody: an exam whose
    expected participants all lie outside the unit (甲校第一支部's exam, counted over 乙校)
    gives no figures, while the same call over 甲校 counts it."""
    from studyhall.stats.queries import Filters, get_exam_figures
    from tests.app.stats_fixtures_f1 import sit

    quiz = make_quiz()
    sit(quiz, org.teacher, "90")
    assert get_exam_figures(quiz, org.admin, Filters(org.gen_b)).expected == 0
    assert report.get_exams_counts([quiz], org.admin, org.gen_b) == {}
    assert report.get_exam_counts(quiz, org.admin, org.gen_b).expected == 0
    counted = report.get_exams_counts([quiz], org.admin, org.gen_a)[quiz.id]
    assert (counted.expected, counted.took, counted.passed) == (1, 1, 1)
