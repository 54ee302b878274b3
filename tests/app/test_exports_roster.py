"""The people roster exported with phone numbers imports back unchanged through the
roster import (.xlsx and CSV), for an admin and for a secretary in their subtree."""

from __future__ import annotations

import io

import openpyxl
import pytest

from studyhall.exports.roster import TEMPLATE_HEADERS
from studyhall.extensions import db
from studyhall.org import roster
from studyhall.org.models import PoliticalStatus


def download(client, url):
    reply = client.get(url)
    reply.get_data()
    reply.close()
    assert reply.status_code == 200, reply.status_code
    return reply


@pytest.fixture()
def staff(org, make_person):
    """Phones of both kinds, a 工号 with leading zeros, a 民盟 member, and names a
    spreadsheet program would take for formulas."""
    org.teacher.phone = "13800138000"
    make_person("00012345", unit=org.branch_a, name="钱老师", status=PoliticalStatus.CDL)
    landline = make_person("a9", unit=org.branch_a, name="@孙老师")
    landline.phone = "0571-88888888"
    make_person("b9", unit=org.branch_b, name="=1+2", status=PoliticalStatus.MASSES)
    make_person("gone", unit=org.branch_a, name="离职老师").is_active = False
    db.session.commit()
    return org


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_the_roster_imports_back_unchanged(client, login, staff, suffix):
    login(staff.admin)
    data = download(client, f"/manage/stats/roster.{suffix}").get_data()
    plan = roster.plan_import(staff.admin, data, f"roster.{suffix}")
    assert plan.ok, [(i.row, i.column, i.value, i.reason) for i in plan.issues]
    assert dict(plan.counts) == {"unchanged": 7}  # every active person, nobody changed
    accounts = {row.account for row in plan.rows}
    assert "00012345" in accounts and "gone" not in accounts


def test_the_roster_sheet_keeps_text_as_text(client, login, staff):
    login(staff.admin)
    data = download(client, "/manage/stats/roster.xlsx").get_data()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == TEMPLATE_HEADERS and all(len(r) == 7 for r in rows)
    by_account = {r[1]: r for r in rows[1:]}
    assert by_account["00012345"][2:6] == ("钱老师", None, "教育局党委/甲校党总支/甲校第一支部",
                                           "中国民主同盟盟员")
    assert by_account["a9"][3] == "0571-88888888"  # a text cell, the dash kept
    formula = next(c for row in sheet.iter_rows() for c in row if c.value == "=1+2")
    assert formula.data_type == "s" and formula.quotePrefix
    assert [r[0] for r in rows[1:]] == list(range(1, len(rows)))  # 序号 as numbers


def test_a_secretary_exports_and_reimports_their_subtree(client, login, staff):
    login(staff.secretary)
    data = download(client, "/manage/stats/roster.xlsx").get_data()
    plan = roster.plan_import(staff.secretary, data, "roster.xlsx")
    assert plan.ok and set(plan.counts) == {"unchanged"}
    names = {row.name for row in plan.rows}
    assert "李老师" in names and "赵老师" not in names and "=1+2" not in names
    assert client.get(f"/manage/stats/roster.xlsx?unit={staff.gen_b.id}").status_code == 404
