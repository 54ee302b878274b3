"""Study and session statistics against hand-computed figures (stats_fixtures_f2.py says
how), on SQLite and PostgreSQL (the app fixture is parametrised on both)."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from studyhall.figures import average, rate
from studyhall.model_helpers import utcnow
from studyhall.sessions.models import SessionKind
from studyhall.stats import session_queries, study_queries
from studyhall.stats.periods import DatePeriod, PeriodError, parse_period, preset_period
from tests.app.stats_fixtures_f2 import *  # noqa: F401,F403
from tests.app.stats_fixtures_f2 import FIRST_HALF, H1

PERIOD = DatePeriod(*FIRST_HALF)


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', html)
    assert found, name
    return found.group(1).strip()


def row_cells(html: str, attribute: str) -> list[str]:
    """The text of each cell of the table row carrying ``attribute``."""
    found = re.search(rf"<tr {attribute}>(.*?)</tr>", html, re.S)
    assert found, attribute
    cells = re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)
    return [re.sub(r"<[^>]+>", "", c).strip() for c in cells]


# --- periods ----------------------------------------------------------------------------


def test_presets_and_labels(app):
    today = date(2026, 8, 15)
    assert preset_period("year", today) == DatePeriod(date(2026, 1, 1), date(2026, 12, 31))
    assert preset_period("h1", today) == DatePeriod(*FIRST_HALF)
    assert preset_period("h2", today) == DatePeriod(date(2026, 7, 1), date(2026, 12, 31))
    assert preset_period("quarter", today) == DatePeriod(date(2026, 7, 1), date(2026, 9, 30))
    assert preset_period("quarter", date(2026, 12, 31)).end == date(2026, 12, 31)
    with app.test_request_context():
        assert PERIOD.label == "2026年上半年"
        assert preset_period("quarter", today).label == "2026年第3季度"
        assert DatePeriod(date(2026, 3, 1), date(2026, 5, 31)).label == \
            "2026年3月1日至2026年5月31日"
        assert parse_period("h2", "", None, today).preset == "h2"
        with pytest.raises(PeriodError):
            parse_period(None, "2026-05-01", "2026-04-01", today)
        with pytest.raises(PeriodError):
            parse_period(None, "2026-05-01", "", today)


def test_period_bounds_are_local_days(app):
    with app.app_context():
        start, end = PERIOD.bounds()
    # 北京时间 midnight is 16:00 UTC the day before.
    assert start == datetime(2025, 12, 31, 16) and end == datetime(2026, 6, 30, 16)


# --- sessions -------------------------------------------------------------------------


def test_sessions_by_kind_hand_computed(activity, org):
    total, kinds = session_queries.get_sessions_by_kind(org.top, PERIOD, utcnow())
    a = total.attendance
    assert (total.held.sessions, total.held.seconds) == (3, 195 * 60)
    assert (a.expected, a.present, a.late, a.excused, a.absent, a.denominator) == \
        (10, 5, 1, 2, 2, 9)
    assert (total.planned, total.planned_held) == (2, 1)
    by_kind = {line.kind: line for line in kinds}
    meeting = by_kind[SessionKind.BRANCH_MEETING]
    assert (meeting.held.sessions, meeting.attendance.expected, meeting.attendance.attended,
            meeting.attendance.denominator, meeting.planned, meeting.planned_held) == \
        (1, 4, 2, 3, 1, 1)
    central = by_kind[SessionKind.CENTRAL_GROUP].attendance
    # Its leave stays in the denominator (leave_counts_as_expected).
    assert (central.expected, central.attended, central.excused, central.denominator) == \
        (3, 2, 1, 3)
    assert (by_kind[SessionKind.THEME_DAY].planned, by_kind[SessionKind.THEME_DAY].held.sessions) \
        == (1, 0)


def test_sessions_by_child_add_up(activity, org):
    rows = {row.unit.name if row.unit else "own": row
            for row in session_queries.get_sessions_by_child(org.top, PERIOD, utcnow())}
    assert set(rows) == {"甲校党总支", "乙校党总支", "own"}
    gen_a, gen_b, own = rows["甲校党总支"], rows["乙校党总支"], rows["own"]
    assert (gen_a.held.sessions, gen_a.held.seconds) == (1, 75 * 60)
    assert (gen_a.attendance.expected, gen_a.attendance.attended, gen_a.attendance.excused,
            gen_a.attendance.absent, gen_a.attendance.denominator) == (6, 3, 2, 1, 5)
    assert (gen_b.attendance.expected, gen_b.attendance.attended,
            gen_b.attendance.denominator) == (4, 3, 4)
    assert (own.held.sessions, own.attendance.expected) == (1, 0)
    assert sum(r.attendance.expected for r in rows.values()) == 10
    assert sum(r.held.seconds for r in rows.values()) == 195 * 60


def test_attendance_by_month(activity, org):
    months = session_queries.get_attendance_by_month(org.top, PERIOD, utcnow())
    assert [m.expected for m in months] == [0, 0, 4, 3, 3, 0]


# --- study ----------------------------------------------------------------------------


def test_study_hand_computed(activity, org):
    s = study_queries.get_study_figures(org.top, PERIOD, utcnow())
    assert (s.assignments, s.expected, s.completed, s.reading_ms) == (2, 7, 3, 5 * 60_000)
    assert (s.reflections_submitted, s.reflections_accepted, s.reflections_excellent) == \
        (3, 2, 1)
    by_child = study_queries.get_study_by_child(org.top, PERIOD, utcnow())
    gen_a, gen_b = by_child[org.gen_a.id], by_child[org.gen_b.id]
    assert (gen_a.expected, gen_a.completed, gen_a.reading_ms) == (4, 2, 5 * 60_000)
    assert (gen_a.reflections_submitted, gen_a.reflections_accepted,
            gen_a.reflections_excellent) == (2, 1, 1)
    assert (gen_b.expected, gen_b.completed, gen_b.reflections_accepted) == (3, 1, 1)
    lines = study_queries.get_study_by_assignment(org.top, PERIOD)
    assert [(line.expected, line.completed, line.reading_ms) for line in lines] == \
        [(4, 2, 5 * 60_000), (3, 1, 0)]
    assert study_queries.get_completion_by_month(org.top, PERIOD) == \
        [(0, 0), (0, 0), (4, 2), (3, 1), (0, 0), (0, 0)]


def test_the_page_reads_each_kind_of_row_once_and_gets_the_same_figures(
        activity, org, count_queries):
    """The activity page reads the attendance in one statement and the readers in one
    (get_*_rollups), and every figure it gives is the one the single-purpose reads
    above compute by hand."""
    now = utcnow()
    with count_queries() as log:
        attendance = session_queries.get_attendance_rollups(org.top, PERIOD, now)
        readers = study_queries.get_study_rollups(org.top, PERIOD, now)
    assert sum(1 for s in log if "FROM attendance" in s or "JOIN attendance" in s
               if "reflection" not in s) == 1
    assert sum(1 for s in log if "assignment_recipient" in s
               if "reflection" not in s) == 1
    assert session_queries.get_sessions_by_kind(org.top, PERIOD, now, attendance) == \
        session_queries.get_sessions_by_kind(org.top, PERIOD, now)
    assert session_queries.get_sessions_by_child(org.top, PERIOD, now, attendance) == \
        session_queries.get_sessions_by_child(org.top, PERIOD, now)
    assert session_queries.get_attendance_by_month(org.top, PERIOD, now, attendance) == \
        session_queries.get_attendance_by_month(org.top, PERIOD, now)
    assert study_queries.get_study_figures(org.top, PERIOD, now, readers) == \
        study_queries.get_study_figures(org.top, PERIOD, now)
    assert study_queries.get_study_by_child(org.top, PERIOD, now, readers) == \
        study_queries.get_study_by_child(org.top, PERIOD, now)
    assert study_queries.get_study_by_assignment(org.top, PERIOD, readers) == \
        study_queries.get_study_by_assignment(org.top, PERIOD)
    assert study_queries.get_completion_by_month(org.top, PERIOD, readers) == \
        study_queries.get_completion_by_month(org.top, PERIOD)


def test_rounding_ties_go_up(app):
    with app.test_request_context():
        assert average(195 * 60, 3600, 1) == "3.3"      # 3.25 h: half-even would say 3.2
        assert average(5 * 60_000, 4 * 60_000, 1) == "1.3"  # 1.25 min per person
        assert rate(1, 16) == "6.3%"


# --- the page -------------------------------------------------------------------------


def test_page_shows_the_figures(activity, org, client, login):
    login(org.admin)
    html = client.get("/manage/stats/activity", query_string={"unit": org.top.id, **H1}) \
        .get_data(as_text=True)
    expected = {"sessions": "3", "hours": "3.3", "expected": "10", "attended": "6",
                "excused": "2", "absent": "2", "attendance_rate": "66.7%",
                "planned": "2 / 1", "assignments": "2", "completion_rate": "42.9%",
                "reading_hours": "0.1", "reading_per_person": "0.7",
                "reflections_submitted": "3", "reflections_accepted": "2",
                "reflections_excellent": "1"}
    assert {name: figure(html, name) for name in expected} == expected
    # 甲校党总支: 1 session of 1.25 h, 应到 6, 实到 3, 请假 2, 缺席 1, 60.0%; 应学 4, 完成 2,
    # 50.0%, 0.1 h, 1.25 → 1.3 min per person; reflections 2, 1, 1.
    assert row_cells(html, f'data-unit="{org.gen_a.id}"')[1:] == \
        ["1", "1.3", "6", "3", "2", "1", "60.0%", "4", "2", "50.0%", "0.1", "1.3",
         "2", "1", "1"]
    assert row_cells(html, 'data-unit="own"')[1:3] == ["1", "1.0"]
    assert "How these figures are counted" in html and "Attendance rate = attended" in html
    assert "chart.umd.min.js" in html


def test_leave_kept_in_the_denominator_changes_the_rate(activity, org, client, login):
    """S2 keeps its approved leave in 参学率's denominator: 66.7% (6 ÷ 9). Were it left
    out like S1's, the rate would be 6 ÷ 8 = 75.0%."""
    login(org.admin)
    page = {"unit": org.top.id, **H1}
    html = client.get("/manage/stats/activity", query_string=page).get_data(as_text=True)
    assert figure(html, "attendance_rate") == "66.7%"
    activity.sessions["s2"].leave_counts_as_expected = False
    from studyhall.extensions import db

    db.session.commit()
    html = client.get("/manage/stats/activity", query_string=page).get_data(as_text=True)
    assert figure(html, "attendance_rate") == "75.0%"
    assert figure(html, "excused") == "2"


def test_drill_down_to_a_branch_lists_its_people(activity, org, client, login):
    login(org.admin)
    html = client.get("/manage/stats/activity", query_string={"unit": org.branch_a.id, **H1}) \
        .get_data(as_text=True)
    assert 'id="people-table"' in html and 'id="units-table"' not in html
    p = activity.people
    # 应到, 出席, 迟到, 请假, 缺席, 未标记, 参学率, 任务, 完成, 学习分钟
    assert row_cells(html, f'data-person="{p["teacher"].id}"')[2:] == \
        ["2", "1", "0", "1", "0", "0", "50.0%", "1", "1", "3.0"]
    assert row_cells(html, f'data-person="{p["sun"].id}"')[2:] == \
        ["1", "0", "0", "1", "0", "0", "—", "1", "0", "0.0"]
    assert row_cells(html, f'data-person="{p["formula"].id}"')[2:9] == \
        ["1", "0", "0", "0", "1", "0", "0.0%"]
    # The name is escaped, never markup.
    assert "=HYPERLINK(&#34;x&#34;)" in html or "=HYPERLINK(&quot;x&quot;)" in html


def test_people_attached_to_the_unit_itself(activity, org, client, login):
    login(org.admin)
    html = client.get("/manage/stats/activity",
                      query_string={"unit": org.gen_a.id, "direct": 1, **H1}) \
        .get_data(as_text=True)
    secretary = activity.people["secretary"]
    assert row_cells(html, f'data-person="{secretary.id}"')[2:4] == ["1", "1"]
    assert f'data-person="{activity.people["teacher"].id}"' not in html


def test_secretary_cannot_open_another_units_figures(activity, org, client, login):
    login(org.secretary)
    for url in ("/manage/stats/activity", "/manage/stats/report",
                "/manage/stats/report.docx"):
        assert client.get(url, query_string={"unit": org.gen_b.id, **H1}).status_code == 404
        assert client.get(url, query_string={"unit": org.top.id, **H1}).status_code == 404
        assert client.get(url, query_string={"unit": org.gen_a.id, **H1}).status_code == 200
    # Without a unit: the secretary's own unit.
    html = client.get("/manage/stats/activity", query_string=H1).get_data(as_text=True)
    assert figure(html, "expected") == "6"


def test_teacher_gets_no_statistics(activity, org, client, login):
    login(org.teacher)
    assert client.get("/manage/stats/activity").status_code in (403, 404)
    assert client.get("/manage/stats/report").status_code in (403, 404)


def test_bad_dates_are_explained(activity, org, client, login):
    login(org.admin)
    html = client.get("/manage/stats/activity",
                      query_string={"unit": org.top.id, "from": "2026-06-01",
                                    "to": "2026-01-01"}).get_data(as_text=True)
    assert "The end date comes before the start date." in html


def test_linked_from_the_exam_statistics(activity, org, client, login):
    login(org.admin)
    html = client.get("/manage/stats/exams").get_data(as_text=True)
    assert "/manage/stats/activity" in html and "/manage/stats/report" in html


def test_statements_do_not_grow_with_units_sessions_or_people(activity, org, client, login,
                                                              count_queries, make_unit,
                                                              make_person):
    """The committee's page and report read the same number of statements with one more
    school, branch, two sessions and four people: no query per row."""
    from datetime import timedelta

    from studyhall.org.models import UnitKind
    from tests.app.session_fixtures_e2 import add_session

    login(org.admin)
    pages = [("/manage/stats/activity", {"unit": org.top.id, **H1}),
             ("/manage/stats/activity", {"unit": org.branch_a.id, **H1}),
             ("/manage/stats/report", {"unit": org.top.id, **H1})]

    def counts():
        found = []
        for url, args in pages:
            with count_queries() as log:
                assert client.get(url, query_string=args).status_code == 200
            found.append(len(log))
        return found

    before = counts()
    school = make_unit("丙校党总支", org.top, UnitKind.GENERAL_BRANCH)
    branch = make_unit("丙校第一支部", school)
    people = [make_person(f"c{k}", unit=branch, name=f"丙{k}") for k in range(3)]
    people.append(make_person("a9", unit=org.branch_a, name="新老师"))
    add_session(branch.id, people[:3], starts_at=datetime(2026, 2, 3, 2),
                duration=timedelta(minutes=45))
    add_session(org.branch_a.id, [activity.people["teacher"], people[3]],
                starts_at=datetime(2026, 2, 4, 2))
    assert counts() == before
