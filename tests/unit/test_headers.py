"""Header cells as HR systems and exam tools decorate them, read by the one rule both
importers share (question_bank.normalize.clean_header; no Flask app needed)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from question_bank.formats.table import read_rows as read_question_rows
from question_bank.normalize import clean_header
from studyhall.org.roster import COLUMNS, REQUIRED
from studyhall.spreadsheets import find_header, missing_header_report


@pytest.mark.parametrize("cell", [
    "姓名", "姓名(必填)", "姓名（必填）", "*姓名", "＊姓名", "姓名*", "姓名 *", "【必填】姓名",
    "姓名【必填】", "姓名\n(必填)", "姓\r\n名", " 姓名： ", "姓名:", "※姓名", "★姓名",
    "姓名<必填>", "姓名［必填］", "【姓名】", "(姓名)",
])
def test_decorations_never_hide_a_header(cell):
    assert clean_header(cell) == "姓名"


def test_case_and_width_are_folded():
    assert clean_header("Political Status") == clean_header("political  status")
    assert clean_header("ＥＭＡＩＬ") == "email"


_DECORATIONS = st.sampled_from(["*", "＊", "(必填)", "（必填）", "【必填】", "[选填]", "\n", " ",
                                "：", "※"])


@given(name=st.sampled_from([n for names in COLUMNS.values() for n in names]),
       before=st.lists(_DECORATIONS, max_size=2), after=st.lists(_DECORATIONS, max_size=2))
def test_any_decoration_of_any_roster_header_reads_as_the_header(name, before, after):
    decorated = "".join(d for d in before if d != "：") + name + "".join(after)
    assert clean_header(decorated) == name


def test_the_roster_finds_a_decorated_header_under_a_title_row():
    rows = [["2026年教职工花名册"],
            ["序号", "工号*", "*姓名", "手机号码(选填)", "所属单位（必填）", "【必填】政治面貌",
             "备\n注"],
            ["1", "a1", "张三", "", "甲校", "群众", ""]]
    header = find_header(rows, COLUMNS, REQUIRED)
    assert header is not None and header.index == 1
    assert {field: cols[0] for field, cols in header.columns.items()} == {
        "account": 1, "name": 2, "phone": 3, "unit": 4, "status": 5}
    assert header.ignored == ["序号", "备 注"]


def test_the_preferred_name_wins_whatever_the_column_order():
    # 用户名 is the account only when there is no 工号.
    rows = [["用户名", "姓名", "工号", "部门", "政治面貌"]]
    assert find_header(rows, COLUMNS, REQUIRED).first("account") == 2
    rows = [["用户名", "姓名", "部门", "政治面貌"]]
    assert find_header(rows, COLUMNS, REQUIRED).first("account") == 0


def test_the_missing_header_report_names_what_was_read_and_what_is_missing():
    rows = [["员工信息表"], [], ["编号", "真实姓名", "部门", "邮箱"],
            ["1", "张三", "甲校", "a@b.cn"]]
    shown, missing = missing_header_report(rows, COLUMNS, REQUIRED)
    assert shown[:2] == [(1, ["员工信息表"]), (3, ["编号", "真实姓名", "部门", "邮箱"])]
    assert missing == ["account", "status"]


def test_the_question_importer_reads_decorated_headers_by_the_same_rule():
    rows = [["题型(必填)", "*题干", "【选填】选项A", "选项B\n（选填）", "答案*"],
            ["单选", "1+1=?", "2", "3", "A"]]
    result = read_question_rows(rows, ())
    assert result is not None and not result.errors, result
    assert result.questions[0].question.stem == "1+1=?"
    assert result.questions[0].question.options == ("2", "3")
