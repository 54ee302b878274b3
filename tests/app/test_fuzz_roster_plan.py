"""The roster planner fuzzed (issue 12, item 3; here for the app fixtures, budget in
tests/fuzz/budget.py): whatever table a file holds, planning it
as an admin answers with a file error or a fate for each row (errors carrying messages),
never another exception or a hang, and writes nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from studyhall.extensions import db
from studyhall.org.models import Person, Unit
from studyhall.org.roster import column_label, plan_rows
from tests.fuzz.budget import FUZZ, time_limit
from tests.fuzz.test_fuzz_parsers import TRICKY

HEADERS = ["姓名", "工号", "单位", "政治面貌", "手机", "初始密码", "一级部门", "二级部门",
           "三级单位", "邮箱", "账号", "部门", "name", "account", "", " 姓 名 ", "备注"]
VALUES = ["李老师", "t1", "admin", "sec", "t 1", "a/b", "x" * 65, "教育局党委", "甲校党总支",
          "甲校第一支部", "甲校党总支/甲校第一支部", "甲校党总支-甲校第一支部", "甲|乙", "新单位",
          "教育局党委>甲校党总支>新支部", "中共党员", "中共预备党员", "群众", "共青团员", "党员",
          "13800000000", "138", "=1+1", "'=1", "", " ", "123456", "短"]
cells = st.one_of(st.sampled_from(VALUES), st.sampled_from(HEADERS),
                  st.text(max_size=8), st.text(alphabet=TRICKY, max_size=3))
header_rows = st.lists(st.sampled_from(HEADERS), min_size=0, max_size=8)
tables = st.tuples(st.lists(st.lists(cells, max_size=3), max_size=2), header_rows,
                   st.lists(st.lists(cells, max_size=9), max_size=8)).map(
    lambda parts: [*parts[0], parts[1], *parts[2]])


def count_rows():
    return (db.session.scalar(db.select(db.func.count()).select_from(Person)),
            db.session.scalar(db.select(db.func.count()).select_from(Unit)))


def test_roster_plan_never_raises(org):
    before = count_rows()

    @FUZZ
    @given(rows=tables, create_units=st.booleans())
    def plan(rows, create_units):
        with time_limit():
            result = plan_rows(org.admin, rows, create_units=create_units,
                               parent_id=org.top.id if create_units else None)
        assert result.file_error or result.rows
        for fate in result.rows:
            assert fate.fate in {"new", "updated", "unchanged", "error"}
            assert all(str(issue.reason) for issue in fate.issues)
        db.session.rollback()

    plan()
    assert count_rows() == before


def test_a_nul_in_a_roster_cell_is_dropped_not_a_database_error(org):
    """Found by the long budget on PostgreSQL, which cannot hold a NUL in text: an account
    cell holding only a NUL raised DataError in the account lookup. A NUL is dropped from
    every cell, as the forms drop it: that account reads as empty, a name reads clean."""
    header = ["工号", "姓名", "单位", "政治面貌"]
    result = plan_rows(org.admin, [header, ["\x00"]])  # the fuzzer's table: a blank row
    assert result.file_error or not result.rows
    result = plan_rows(org.admin, [header, ["\x00", "李四", org.branch_a.name, "群众"]])
    (fate,) = result.rows
    assert fate.fate == "error"
    assert fate.account == ""
    assert [issue.column for issue in fate.issues] == [column_label("account")]
    result = plan_rows(org.admin, [header, ["nul\x001", "张\x00三", org.branch_a.name, "群众"]])
    (fate,) = result.rows
    assert (fate.account, fate.name) == ("nul1", "张三")
    db.session.rollback()
