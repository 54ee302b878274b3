"""The audit log page (/manage/audit): who may read it, which entries each admin sees
(scope decided in SQL), filters, readable details, exports (audited, formula-safe), no
route that changes an entry, and the audit hooks of exports and imports."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import openpyxl
import pytest
import sqlalchemy as sa

from studyhall import audit
from studyhall.audit import AuditEntry
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org.models import Role
from tests.app.session_fixtures_e3 import *  # noqa: F401,F403  (make_session)


@pytest.fixture()
def unit_admin(org, make_person):
    """An administrator of 甲校党总支 (gen_a) only."""
    return make_person("uadmin", unit=org.gen_a, role=Role.ADMIN, name="甲校管理员",
                       manages=[org.gen_a])


def _entry(actor, action, target, when=None, **details):
    entry = audit.record(actor, action, target, **details)
    if when is not None:
        entry.created_at = when
    db.session.commit()
    return entry


def _page(client, query=""):
    response = client.get(f"/manage/audit{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _download(client, url):
    """A file's response, read whole and closed (a sent temporary file is closed then)."""
    with client.get(url) as response:
        assert response.status_code == 200, (url, response.status_code)
        response.get_data()
    return response


def _actions_shown(page: str) -> list[str]:
    return re.findall(r'data-label="Action">([^<]+)<', page)


def test_only_admins_read_the_log(client, org, login, unit_admin):
    assert client.get("/manage/audit").status_code == 302  # to the login page
    for person in (org.teacher, org.secretary):
        login(person)
        assert client.get("/manage/audit").status_code == 404
        assert client.get("/manage/audit/export.csv").status_code == 404
        client.post("/logout")
    login(unit_admin)
    assert client.get("/manage/audit").status_code == 200


def test_no_route_under_the_log_changes_anything(app):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/manage/audit")]
    assert {r.endpoint for r in rules} == {"audit_log.list_entries",
                                           "audit_log.export_entries"}
    for rule in rules:
        assert not rule.methods & {"POST", "PUT", "PATCH", "DELETE"}, rule


def test_a_unit_admin_sees_their_scope_only(client, org, login, unit_admin, make_quiz):
    quiz = make_quiz()  # owned by gen_a
    db.session.execute(sa.delete(AuditEntry))  # its publication's entry
    _entry(org.admin, "person.password_reset", org.teacher)     # target in scope
    _entry(org.admin, "person.password_reset", org.outsider)    # target outside
    _entry(org.secretary, "roster.import", None, file="a.xlsx")  # actor in scope
    _entry(org.admin, "export.roster", None, unit_id=None)      # neither
    _entry(org.admin, "quiz.publish", quiz, expected=3)         # owner unit in scope
    _entry(org.admin, "export.attendance", org.branch_a)        # unit in scope
    _entry(org.admin, "export.attendance", org.gen_b)           # unit outside
    _entry(org.admin, "mystery.thing", org.teacher.unit)        # a unit: resolved
    mystery = AuditEntry(actor_id=org.admin.id, action="other.kind", target_type="widget",
                         target_id=1, details={})
    db.session.add(mystery)
    db.session.commit()

    login(org.admin)
    assert len(_actions_shown(_page(client))) == 9
    client.post("/logout")

    login(unit_admin)
    page = _page(client)
    shown = _actions_shown(page)
    assert sorted(shown) == sorted(["Password reset", "Roster imported", "Exam published",
                                    "Attendance sheet exported", "mystery.thing"])
    assert "赵老师" not in page and "乙校党总支" not in page and "widget" not in page
    assert "李老师（t1）" in page
    assert f'href="/manage/people/{org.teacher.id}/edit"' in page


def test_filters_by_group_actor_target_and_dates(client, org, login):
    now = utcnow()
    _entry(org.admin, "person.password_reset", org.teacher, when=now - timedelta(days=10))
    _entry(org.secretary, "person.move", org.teacher, before=org.branch_a.id,
           after=org.gen_a.id)
    _entry(org.admin, "person.role", org.outsider,
           before={"role": "teacher", "units": []},
           after={"role": "secretary", "units": [org.branch_b.id]})
    login(org.admin)
    assert _actions_shown(_page(client, "?group=passwords")) == ["Password reset"]
    assert _actions_shown(_page(client, "?group=roles")) == ["Role changed",
                                                              "Moved to another unit"]
    assert _actions_shown(_page(client, "?actor=sec")) == ["Moved to another unit"]
    assert _actions_shown(_page(client, "?actor=王书")) == ["Moved to another unit"]
    assert _actions_shown(_page(client, "?target=赵老师")) == ["Role changed"]
    day = (now - timedelta(days=10) + timedelta(hours=8)).date()  # Asia/Shanghai
    only_old = f"?since={day.isoformat()}&until={day.isoformat()}"
    assert _actions_shown(_page(client, only_old)) == ["Password reset"]
    assert _actions_shown(_page(client, "?since=not-a-date")) != []


def test_details_are_readable_text_not_json(client, org, login):
    _entry(org.secretary, "person.move", org.teacher, before=org.branch_a.id,
           after=org.gen_a.id)
    _entry(org.admin, "person.role", org.outsider,
           before={"role": "teacher", "units": []},
           after={"role": "secretary", "units": [org.branch_b.id]})
    _entry(org.admin, "session.record_reopen", org.teacher,
           version=2, reason='<script>alert(1)</script>{"x": 1}')
    _entry(org.admin, "assignment.due_at", org.teacher,
           before=datetime(2026, 12, 1, 2, 0).isoformat(),
           after=datetime(2026, 12, 3, 2, 0).isoformat())
    # Actions other branches record (the lead merges them beside this page).
    _entry(org.admin, "unit.create", org.branch_b, name="乙校第一支部", parent=org.gen_b.id,
           via="roster_import")
    _entry(org.admin, "session.settings", org.gen_a, record_working_days=[None, 5])
    _entry(org.secretary, "archive.download", org.gen_a, file="档案.zip", start="2026-01-01",
           end="2026-06-30")
    login(org.admin)
    page = _page(client)
    assert "Under: 乙校党总支" in page and "By a roster import" in page
    assert "Working days to finish a record: default → 5" in page
    assert "Inspection archive downloaded" in page and "From：2026-01-01" in page
    assert "Unit: 甲校第一支部 → 甲校党总支" in page
    assert "Role: Teacher → Branch secretary" in page
    assert "Units managed: none → 乙校第一支部" in page
    assert "Due time: 2026-12-01 10:00 → 2026-12-03 10:00" in page  # local time
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert '"units"' not in page and "{&#34;role" not in page


def test_the_chinese_page_names_the_groups(client, org, login):
    client.set_cookie("lang", "zh_CN")
    _entry(org.admin, "person.password_reset", org.teacher)
    login(org.admin)
    page = _page(client)
    for label in ("成绩修改", "补考/加时", "角色与单位变更", "重置密码", "导入", "导出个人数据",
                  "记录解锁"):
        assert label in page, label


def test_export_is_audited_and_formula_safe(client, org, login, make_person):
    # Names are typed by people: a name that a spreadsheet would take for a formula
    # begins the 操作人 and 对象 cells.
    evil = make_person("evil", unit=org.branch_a, name='=HYPERLINK("http://x","点我")')
    plus = make_person("plus", unit=org.top, role=Role.ADMIN, name="@SUM(1+1)")
    _entry(org.admin, "session.record_reopen", org.teacher, version=1,
           reason="=HYPERLINK(\"http://x\")")
    _entry(plus, "person.password_reset", evil)
    login(org.admin)
    response = _download(client, "/manage/audit/export.csv?group=unlocks")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["时间", "操作人", "操作", "对象", "详情"]
    assert len(rows) == 2 and rows[1][1] == "管理员（admin）"
    assert "李老师" in rows[1][3] and "=HYPERLINK" in rows[1][4]

    rows = list(csv.reader(io.StringIO(_download(
        client, "/manage/audit/export.csv?group=passwords").data.decode("utf-8-sig"))))
    assert rows[1][1] == "'@SUM(1+1)（plus）"
    assert rows[1][3] == "'=HYPERLINK(\"http://x\",\"点我\")（evil）"

    response = _download(client, "/manage/audit/export.xlsx?group=passwords")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header, row = list(sheet.iter_rows())[:2]
    assert [c.value for c in header] == ["时间", "操作人", "操作", "对象", "详情"]
    for cell in (row[1], row[3]):  # kept as typed, stored as text that is never evaluated
        assert cell.value.startswith(("@", "=")) and cell.data_type == "s" and cell.quotePrefix
    assert row[0].is_date
    exports = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "export.audit").order_by(AuditEntry.id)).all()
    assert [e.details["format"] for e in exports] == ["csv", "csv", "xlsx"]
    assert exports[0].details["filters"] == {"group": "unlocks"}
    assert exports[0].actor_id == org.admin.id
    page = _page(client, "?group=exports")
    assert "Filters：Action：Record unlocks and corrections" in page


def _actions() -> list[tuple[str, str, int]]:
    return [(e.action, e.target_type, e.target_id) for e in db.session.scalars(
        sa.select(AuditEntry).order_by(AuditEntry.id))]


def test_roster_export_is_audited(client, org, login):
    login(org.secretary)
    for url in (f"/manage/stats/roster.csv?unit={org.branch_a.id}", "/manage/stats/roster.xlsx"):
        _download(client, url)
    assert _actions() == [("export.roster", "unit", org.branch_a.id),
                          ("export.roster", "", 0)]


def test_score_sheet_export_is_audited(client, org, login, make_quiz):
    quiz = make_quiz()
    login(org.admin)
    _download(client, f"/manage/stats/exams/{quiz.id}/scores.xlsx")
    _download(client, f"/manage/stats/exams/{quiz.id}/units.csv")
    assert _actions()[-2:] == [("export.scores", "quiz", quiz.id),
                               ("export.scores", "quiz", quiz.id)]


def test_attendance_export_is_audited(client, org, login):
    login(org.secretary)
    _download(client, f"/manage/sessions/attendance.xlsx?unit={org.gen_a.id}&period=2026H1")
    assert _actions() == [("export.attendance", "unit", org.gen_a.id)]


def test_session_record_export_is_audited(client, org, login, make_session):
    session = make_session(topic="学习党章")
    login(org.secretary)
    _download(client, f"/manage/sessions/{session.id}/record.docx")
    assert _actions() == [("export.session_record", "studysession", session.id)]
    client.post("/logout")
    login(org.admin)
    page = _page(client)
    assert "Session record exported" in page
    assert f'href="/manage/sessions/{session.id}"' in page and "学习党章" in page


def test_roster_import_is_audited(client, org, login):
    login(org.secretary)
    data = ("序号,工号,姓名,手机号,单位,政治面貌,备注\r\n"
            "1,00000301,孙丽,,甲校第一支部,群众,\r\n").encode()
    response = client.post("/manage/roster", data={"file": (io.BytesIO(data), "名单.csv")},
                           content_type="multipart/form-data")
    token = re.search(r'name="token" type="hidden" value="([^"]+)"',
                      response.get_data(as_text=True)).group(1)
    assert client.post("/manage/roster/confirm", data={"token": token}).status_code == 200
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "roster.import")).one()
    assert entry.actor_id == org.secretary.id
    assert entry.details == {"file": "名单.csv", "new": 1}


def test_the_page_reads_a_fixed_number_of_queries(client, org, login, unit_admin, make_quiz,
                                                  count_queries):
    quiz = make_quiz()

    def add(times: int) -> None:
        for _ in range(times):
            _entry(org.admin, "person.move", org.teacher, before=org.branch_a.id,
                   after=org.gen_a.id)
            _entry(org.secretary, "quiz.grant", org.teacher, quiz_id=quiz.id, attempts=1)
            _entry(org.admin, "export.attendance", org.branch_a, unit_id=org.branch_a.id)
            _entry(org.admin, "quiz.closes_at", quiz, before="2026-12-01T02:00:00",
                   after="2026-12-02T02:00:00")
            _entry(org.secretary, "roster.import", None, file="a.csv", new=1)

    for viewer in (org.admin, unit_admin):
        login(viewer)
        db.session.execute(sa.delete(AuditEntry))
        add(1)
        with count_queries() as few:
            _page(client)
        add(6)
        with count_queries() as many:
            assert len(_actions_shown(_page(client))) == 35
        assert len(many) == len(few), many
        client.post("/logout")


def test_command_line_imports_and_exports_are_audited(app, client, org, login, tmp_path):
    roster_file = tmp_path / "名单.csv"
    roster_file.write_text("序号,工号,姓名,手机号,单位,政治面貌,备注\r\n"
                           "1,00000302,钱进,,甲校第一支部,群众,\r\n", encoding="utf-8")
    runner = app.test_cli_runner()
    done = runner.invoke(args=["import-roster", str(roster_file)])
    assert done.exit_code == 0, done.output
    done = runner.invoke(args=["export-roster", "--out", str(tmp_path / "out.csv"),
                               "--unit", "甲校党总支"])
    assert done.exit_code == 0, done.output
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.action, e.target_type) for e in entries] == [
        (None, "roster.import", ""), (None, "export.roster", "unit")]
    assert entries[0].details == {"file": "名单.csv", "new": 1}
    login(org.admin)
    page = _page(client)
    assert page.count("System (command line)") == 2


def test_the_log_query_is_not_jit_compiled_on_postgresql(app):
    """JIT compiling the scoped count cost 1.1 s of 1.2 s on 200,000 entries."""
    from studyhall.audit_log.queries import without_jit

    without_jit()
    if db.engine.dialect.name == "postgresql":
        assert db.session.execute(sa.text("SHOW jit")).scalar() == "off"
    db.session.rollback()
