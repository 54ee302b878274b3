"""Roster import of the layouts HR systems export (issue 11, items 6–9): decorated headers,
their aliases, several unit columns, paths written with "-" or ">", and new units created
under a chosen parent. Every fixture here is a small file written for the test."""

import io
import re

import pytest
import sqlalchemy as sa
import xlsxwriter
from flask import current_app

from studyhall.audit import AuditEntry
from studyhall.extensions import db
from studyhall.org import roster
from studyhall.org.models import Person, PoliticalStatus, Unit


def plan(org, text, viewer=None, **kw):
    """Plan a CSV as an English-speaking importer would see it."""
    with current_app.test_request_context(headers={"Cookie": "lang=en"}):
        return roster.plan_import(viewer or org.admin, text.encode(), "a.csv", **kw)


def unit_of(result, index=0):
    fate = result.rows[index]
    return fate.values["unit_names"], [issue.reason for issue in fate.issues]


def test_an_hr_export_with_decorated_headers_and_aliases_imports(org):
    # Headers as an HR system writes them: marks, brackets, a line break inside a cell.
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["*登录名", "真实姓名（必填）", "联系电话", "所属部门【必填】",
                           "政治\n面貌", "Email"])
    sheet.write_row(1, 0, ["hr01", "钱多", "13900000009", "甲校第一支部", "普通公民", "q@x.cn"])
    sheet.write_row(2, 0, ["hr02", "孙少", "", "乙校第一支部", "01 中共党员", ""])
    book.close()
    with current_app.test_request_context(headers={"Cookie": "lang=en"}):
        result = roster.plan_import(org.admin, buffer.getvalue(), "hr.xlsx")
    assert result.ok, result.issues
    first, second = result.rows
    assert (first.account, first.name, first.values["phone"]) == ("hr01", "钱多", "13900000009")
    assert first.values["status"] is PoliticalStatus.MASSES
    assert second.values["status"] is PoliticalStatus.CPC_MEMBER
    assert first.values["unit_names"][-1] == "甲校第一支部"
    # The e-mail column is read, not an error, and said not to be kept.
    assert result.ignored_columns == ["Email"] and result.not_kept == ["Email"]


def test_user_name_is_the_account_only_without_a_staff_number(org):
    result = plan(org, "用户名,姓名,工号,单位,政治面貌\nzhangsan,张三,0042,甲校第一支部,群众\n")
    assert result.ok and result.rows[0].account == "0042"


@pytest.mark.parametrize("header, cells", [
    ("所属单位,所属部门,所属组织", "教育局党委,甲校党总支,甲校第一支部"),
    ("一级部门,二级部门,三级部门", "教育局党委,甲校党总支,甲校第一支部"),
    # Levels in any column order: 一级/二级/三级 say which is which.
    ("三级部门,一级部门,二级部门", "甲校第一支部,教育局党委,甲校党总支"),
    # A level left out, and a level repeated in the next column, still lie along the tree.
    ("所属单位,所属部门", "教育局党委,甲校第一支部"),
    ("单位,部门", "教育局党委/甲校党总支,甲校党总支/甲校第一支部"),
    # Only the first levels filled: the person belongs to the most specific one given.
    ("一级部门,二级部门,三级部门", "教育局党委,甲校党总支,"),
])
def test_several_unit_columns_are_combined_into_one_path(org, header, cells):
    result = plan(org, f"工号,姓名,{header},政治面貌\nm1,甲,{cells},群众\n")
    names, issues = unit_of(result)
    assert issues == []
    expected = "甲校党总支" if cells.endswith(",") else "甲校第一支部"
    assert names[-1] == expected
    roster.apply_plan(org.admin, result)
    db.session.commit()
    person = db.session.scalar(sa.select(Person).where(Person.account == "m1"))
    assert person.unit.name == expected


def test_unit_columns_that_disagree_with_the_tree_get_a_row_message(org):
    # Before, the first unit column won and the person landed in 甲校党总支.
    result = plan(org, "工号,姓名,所属单位,所属部门,政治面貌\n"
                       "d1,甲,甲校党总支,乙校第一支部,群众\n"
                       "d2,乙,甲校党总支,甲校第一支部,群众\n")
    assert not result.ok
    names, issues = unit_of(result)
    assert names is None and issues == [
        "The unit columns disagree with the organisation: “乙校第一支部” is under "
        "“教育局党委/乙校党总支”, not under “甲校党总支”."]
    assert result.rows[0].unit == "甲校党总支 + 乙校第一支部"
    assert unit_of(result, 1) == (("教育局党委", "甲校党总支", "甲校第一支部"), [])


@pytest.mark.parametrize("text", [
    "教育局党委-甲校党总支-甲校第一支部", "甲校党总支 - 甲校第一支部",
    "教育局党委>甲校党总支>甲校第一支部", "甲校党总支＞甲校第一支部",
    "教育局党委/甲校党总支/甲校第一支部",
])
def test_paths_are_read_with_slash_angle_or_hyphen(org, text):
    names, issues = unit_of(plan(org, f"工号,姓名,单位,政治面貌\np1,甲,{text},群众\n"))
    assert issues == [] and names == ("教育局党委", "甲校党总支", "甲校第一支部")


def test_a_unit_whose_name_holds_a_hyphen_is_not_split(org, make_unit):
    make_unit("高一-1班", org.branch_a)
    result = plan(org, "工号,姓名,单位,政治面貌\n"
                       "h1,甲,高一-1班,群众\n"
                       "h2,乙,甲校第一支部/高一-1班,群众\n"
                       "h3,丙,甲校第一支部-高一-1班,群众\n")
    assert [unit_of(result, i)[0][-1] for i in range(2)] == ["高一-1班", "高一-1班"]
    # "-" both in the name and between levels cannot be told apart: "/" is asked for.
    assert unit_of(result, 2)[0] is None


def test_a_hyphen_that_could_mean_two_units_is_asked_about(org, make_unit):
    make_unit("甲校党总支-甲校第一支部", org.top)  # a name with a hyphen, and a path
    text = "工号,姓名,单位,政治面貌\nh1,甲,甲校党总支-甲校第一支部,群众\n"
    names, issues = unit_of(plan(org, text))
    assert names is None and "write the path with \"/\"" in issues[0]


@pytest.mark.parametrize("cell", ["甲校第一支部|乙校第一支部", "甲校第一支部；乙校第一支部"])
def test_a_person_in_two_units_is_a_row_error_not_a_silent_pick(org, cell):
    result = plan(org, f"工号,姓名,单位,政治面貌\nt1,甲,{cell},群众\n")
    names, issues = unit_of(result)
    assert not result.ok and names is None
    assert issues == ["A person belongs to exactly one unit; this cell names 2 "
                      "(甲校第一支部、乙校第一支部). Keep the one they belong to."]


def test_no_header_says_what_was_read_and_what_each_missing_column_may_be_called(org):
    result = plan(org, "员工信息表\n\n编号,真实姓名,部门,手机\n1,张三,甲校第一支部,\n")
    message = result.file_error
    assert message.startswith("No header row found")
    assert "row 1: 员工信息表" in message and "row 3: 编号 | 真实姓名 | 部门 | 手机" in message
    assert "Account: write one of 工号、职工号" in message and "用户名、登录名" in message
    assert "Political status: write one of 政治面貌" in message
    assert "Name:" not in message and "Unit:" not in message


def test_no_header_message_in_chinese(org):
    with current_app.test_request_context():
        result = roster.plan_import(org.admin, "编号,名称\n1,x\n".encode(), "a.csv")
    assert "第1行：编号 | 名称" in result.file_error
    assert "缺少的列" in result.file_error and "一级部门、二级部门…" in result.file_error


NEW_UNIT = "工号,姓名,单位,政治面貌\nn1,甲,甲校第二支部,群众\nn2,乙,甲校第二支部,中共党员\n"


def test_a_missing_single_name_unit_is_created_under_the_chosen_parent(org):
    assert unit_of(plan(org, NEW_UNIT, create_units=True))[1] == [
        "No such unit in your scope, and no parent was chosen for new units."]
    result = plan(org, NEW_UNIT, create_units=True, parent_id=org.gen_a.id)
    assert result.ok, result.issues
    assert result.new_units == [("教育局党委", "甲校党总支", "甲校第二支部")]
    assert result.rows[0].changes == ["new unit 教育局党委/甲校党总支/甲校第二支部"]
    roster.apply_plan(org.admin, result)
    db.session.commit()
    unit = db.session.scalar(sa.select(Unit).where(Unit.name == "甲校第二支部"))
    assert unit.parent_id == org.gen_a.id and people_in(unit) == 2
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "unit.create"))
    assert (entry.actor_id, entry.target_id, entry.details["parent"]) == (
        org.admin.id, unit.id, org.gen_a.id)


def test_unit_creation_is_all_or_nothing_with_the_rest(org):
    result = plan(org, NEW_UNIT + "n3,丙,甲校第一支部,火星人\n", create_units=True,
                  parent_id=org.gen_a.id)
    assert not result.ok and result.new_units
    with pytest.raises(ValueError):
        roster.apply_plan(org.admin, result)
    assert db.session.scalar(sa.select(Unit).where(Unit.name == "甲校第二支部")) is None


def test_the_chosen_parent_must_be_in_the_importers_scope(org):
    org.secretary.role = org.admin.role  # an administrator of 甲校党总支 only
    db.session.commit()
    result = plan(org, NEW_UNIT, viewer=org.secretary, create_units=True, parent_id=org.gen_b.id)
    assert result.file_error == "The unit chosen for new units is not in your scope."
    result = plan(org, NEW_UNIT, viewer=org.secretary, create_units=True, parent_id=org.gen_a.id)
    assert result.ok and result.new_units == [("教育局党委", "甲校党总支", "甲校第二支部")]


def people_in(unit):
    return db.session.scalar(sa.select(sa.func.count()).where(Person.unit_id == unit.id))


def test_the_page_offers_the_parent_and_previews_the_new_unit(client, org, login):
    client.set_cookie("lang", "zh_Hans_CN")
    login(org.admin)
    page = client.get("/manage/roster").get_data(as_text=True)
    assert 'name="new_units_parent"' in page and "甲校党总支" in page
    response = client.post("/manage/roster", data={
        "file": (io.BytesIO(NEW_UNIT.encode()), "a.csv"), "create_units": "y",
        "new_units_parent": str(org.gen_a.id)}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "将新建单位" in page and "教育局党委 / 甲校党总支 / 甲校第二支部" in page
    assert "将新建单位 教育局党委/甲校党总支/甲校第二支部" in page  # on the row
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    assert db.session.scalar(sa.select(Unit).where(Unit.name == "甲校第二支部")) is None
    response = client.post("/manage/roster/confirm", data={"token": token})
    assert response.status_code == 200
    assert db.session.scalar(sa.select(Unit).where(Unit.name == "甲校第二支部")) is not None


def test_cli_create_units_under_a_parent(app, org, tmp_path):
    path = tmp_path / "new.csv"
    path.write_text(NEW_UNIT, encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["import-roster", str(path), "--parent", "甲校党总支"])
    assert result.exit_code == 1 and "--create-units" in result.output
    result = runner.invoke(args=["import-roster", str(path), "--create-units"])
    assert result.exit_code == 1 and "未选择新建单位的上级单位" in result.output
    result = runner.invoke(args=["import-roster", str(path), "--create-units",
                                 "--parent", "甲校党总支"])
    assert result.exit_code == 0, result.output
    assert "将新建单位：教育局党委/甲校党总支/甲校第二支部" in result.output
    unit = db.session.scalar(sa.select(Unit).where(Unit.name == "甲校第二支部"))
    assert unit.parent_id == org.gen_a.id and people_in(unit) == 2


def test_a_hyphen_separates_levels_of_a_new_unit_only_after_an_existing_unit(org):
    result = plan(org, "工号,姓名,单位,政治面貌\n"
                       "c1,甲,甲校党总支-甲校第三支部,群众\n"
                       "c2,乙,新-1组,群众\n", create_units=True, parent_id=org.gen_b.id)
    assert result.ok, result.issues
    assert sorted(result.new_units) == [("教育局党委", "乙校党总支", "新-1组"),
                                        ("教育局党委", "甲校党总支", "甲校第三支部")]


def test_unit_columns_holding_only_separators_are_an_empty_unit(org):
    result = plan(org, "工号,姓名,单位,部门,政治面貌\ne1,甲,/,>,群众\n")
    assert unit_of(result) == (None, ["The unit is empty."])


def test_the_preview_page_shows_the_no_header_report_and_the_columns_not_imported(
        client, org, login):
    login(org.admin)
    response = client.post("/manage/roster", data={
        "file": (io.BytesIO("编号,名称\n1,x\n".encode()), "a.csv")},
        content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert 'class="flash error pre-line"' in page and "row 1: 编号 | 名称" in page
    response = client.post("/manage/roster", data={
        "file": (io.BytesIO("工号,姓名,单位,政治面貌,邮箱,性别\nw1,甲,甲校第一支部,群众,a@b.cn,女\n"
                            .encode()), "a.csv")}, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert "Columns not imported: 邮箱、性别." in page
    assert "StudyHall keeps no e-mail addresses." in page
