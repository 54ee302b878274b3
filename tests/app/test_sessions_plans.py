"""Study plans: periods in local time, one plan per unit and month, items linked to held
sessions, planned vs held by kind and by unit, the required-meetings checklist, and the
pages' scope."""

from __future__ import annotations

from datetime import datetime

import pytest

from studyhall.extensions import db
from studyhall.org.models import UnitKind
from studyhall.sessions import plans
from studyhall.sessions.models import SessionKind, SessionStatus, StudyPlan
from studyhall.sessions.plans import Period, PlanError, to_utc
from tests.app.session_fixtures_e3 import *  # noqa: F401,F403
from tests.app.session_fixtures_e3 import E, P, local

K = SessionKind
NOW = local(2026, 5, 15)  # in Q2 of 2026, in May


@pytest.fixture()
def plan(app, org):
    plan = plans.create_plan(org.secretary, org.branch_a, 2026, 1)
    db.session.commit()
    return plan


def test_periods_are_cut_at_local_midnight():
    assert Period.parse("2026H1").months == [1, 2, 3, 4, 5, 6]
    assert Period.parse("2026q3").months == [7, 8, 9]
    assert Period.parse("2026").months == list(range(1, 13))
    assert Period.parse("2026H3") is None and Period.parse("x") is None
    assert Period.parse("1900") is None


def test_period_bounds_are_local_months_in_utc(app):
    start, end = Period(2026, half=1).bounds()
    # 北京时间 is UTC+8: the year starts at 16:00 UTC on New Year's Eve.
    assert start == datetime(2025, 12, 31, 16) and end == datetime(2026, 6, 30, 16)


def test_one_plan_covers_a_month_once(app, org):
    plans.create_plan(org.admin, org.branch_a, 2026, 1)
    plans.create_plan(org.admin, org.branch_a, 2026, 2)
    with pytest.raises(PlanError):
        plans.create_plan(org.admin, org.branch_a, 2026, 0)
    with pytest.raises(PlanError):
        plans.create_plan(org.admin, org.branch_a, 2026, 1)
    plans.create_plan(org.admin, org.branch_b, 2026, 0)
    with pytest.raises(PlanError):
        plans.create_plan(org.admin, org.branch_b, 2026, 2)


def test_a_secretary_plans_only_inside_their_scope(app, org):
    with pytest.raises(PlanError):
        plans.create_plan(org.secretary, org.branch_b, 2026, 0)


def test_items_stay_in_the_period(app, plan):
    plans.add_item(plan, K.THEME_DAY, 6, "红色教育")
    with pytest.raises(PlanError):
        plans.add_item(plan, K.THEME_DAY, 7, "不在上半年")
    with pytest.raises(PlanError):
        plans.add_item(plan, K.THEME_DAY, 5, "  ")


def test_planned_vs_held_by_kind(app, org, plan, make_session):
    meeting = plans.add_item(plan, K.BRANCH_MEETING, 3, "一季度党员大会")
    lecture = plans.add_item(plan, K.PARTY_LECTURE, 6, "专题党课")
    plans.add_item(plan, K.THEME_DAY, 4, "主题党日")
    held = make_session(K.BRANCH_MEETING, local(2026, 3), {org.teacher: P})
    ahead = make_session(K.PARTY_LECTURE, local(2026, 6), {org.teacher: None})
    make_session(K.BRANCH_MEETING, local(2026, 4), status=SessionStatus.CANCELLED)
    make_session(K.BRANCH_MEETING, local(2026, 4), status=SessionStatus.DRAFT)
    make_session(K.THEME_DAY, local(2026, 4), {org.teacher: P})  # held, not linked
    plans.link_session(plan, meeting, held)
    plans.link_session(plan, lecture, ahead)
    db.session.commit()
    lines = {line.kind: line for line in plans.get_plan_vs_held(plan, NOW)}
    assert (lines[K.BRANCH_MEETING].planned, lines[K.BRANCH_MEETING].planned_held,
            lines[K.BRANCH_MEETING].held) == (1, 1, 1)
    assert (lines[K.PARTY_LECTURE].planned, lines[K.PARTY_LECTURE].planned_held,
            lines[K.PARTY_LECTURE].scheduled) == (1, 0, 1)
    assert (lines[K.THEME_DAY].planned, lines[K.THEME_DAY].planned_held,
            lines[K.THEME_DAY].held) == (1, 0, 1)
    assert plans.get_plan_counts([plan.id], NOW) == {plan.id: (3, 1)}
    items = {line.item.id: line for line in plans.get_item_lines(plan, NOW)}
    assert items[meeting.id].held and not items[lecture.id].held
    assert [s.id for s in items[lecture.id].sessions] == [ahead.id]


def test_a_session_links_only_to_an_item_of_its_unit_and_kind(app, org, plan, make_session):
    item = plans.add_item(plan, K.BRANCH_MEETING, 3, "党员大会")
    other_item = plans.add_item(plan, K.BRANCH_MEETING, 6, "党员大会")
    lecture = make_session(K.PARTY_LECTURE, local(2026, 3))
    elsewhere = make_session(K.BRANCH_MEETING, local(2026, 3), unit=org.branch_b)
    cancelled = make_session(K.BRANCH_MEETING, local(2026, 3), status=SessionStatus.CANCELLED)
    for session in (lecture, elsewhere, cancelled):
        with pytest.raises(PlanError):
            plans.link_session(plan, item, session)
    meeting = make_session(K.BRANCH_MEETING, local(2026, 3))
    plans.link_session(plan, item, meeting)
    with pytest.raises(PlanError):
        plans.link_session(plan, other_item, meeting)
    plans.link_session(plan, item, None)
    assert meeting.plan_item_id is None


def test_removing_an_item_unlinks_its_session(app, org, plan, make_session):
    item = plans.add_item(plan, K.BRANCH_MEETING, 3, "党员大会")
    meeting = make_session(K.BRANCH_MEETING, local(2026, 3))
    plans.link_session(plan, item, meeting)
    plans.remove_item(plan, item.id)
    db.session.commit()
    db.session.refresh(meeting)
    assert meeting.plan_item_id is None and plan.items == []


def test_fill_quotas_adds_each_missing_cycle_once(app, plan):
    plans.add_item(plan, K.BRANCH_MEETING, 2, "已计划")
    added = plans.fill_quotas(plan, "待定")
    # 党员大会: Q2 only (Q1 planned); 党课: Q1, Q2; 委员会 and 主题党日: six months each.
    assert added == 1 + 2 + 6 + 6
    assert plans.fill_quotas(plan, "待定") == 0
    assert not any(i.kind is K.GROUP_MEETING for i in plan.items)


def checklist(unit, period, now=NOW):
    return {line.kind: line for line in plans.get_quota_checklist(unit, period, now)}


def test_checklist_marks_done_missing_open_and_ahead(app, org, make_session):
    make_session(K.BRANCH_MEETING, local(2026, 2))
    make_session(K.THEME_DAY, local(2026, 1))
    make_session(K.THEME_DAY, local(2026, 5, 28))  # later this month: scheduled
    make_session(K.THEME_DAY, local(2026, 3), status=SessionStatus.CANCELLED)
    make_session(K.BRANCH_COMMITTEE, local(2026, 1), unit=org.branch_b)
    lines = checklist(org.branch_a, Period(2026, half=1))
    assert [c.state for c in lines[K.BRANCH_MEETING].cycles] == ["done", "open"]
    theme = lines[K.THEME_DAY].cycles
    assert [c.state for c in theme] == ["done", "missing", "missing", "missing", "open",
                                        "ahead"]
    assert theme[4].scheduled == 1
    assert len(lines[K.BRANCH_COMMITTEE].missing) == 4  # branch_b's meeting is not ours
    assert not lines[K.GROUP_MEETING].applies


def test_checklist_counts_a_session_in_its_local_month(app, org, make_session):
    """00:30 on 1 February in Beijing is still 31 January in UTC."""
    make_session(K.THEME_DAY, to_utc(datetime(2026, 2, 1, 0, 30)))
    theme = checklist(org.branch_a, Period(2026, quarter=1))[K.THEME_DAY].cycles
    assert [c.state for c in theme] == ["missing", "done", "missing"]


def test_group_meetings_are_due_in_each_party_group(app, org, make_unit, make_session):
    group_1 = make_unit("第一党小组", org.branch_a, UnitKind.GROUP)
    group_2 = make_unit("第二党小组", org.branch_a, UnitKind.GROUP)
    make_session(K.GROUP_MEETING, local(2026, 1, 5), unit=group_1)
    make_session(K.GROUP_MEETING, local(2026, 1, 20), unit=group_1)
    make_session(K.GROUP_MEETING, local(2026, 2), unit=group_1)
    make_session(K.GROUP_MEETING, local(2026, 2), unit=group_2)
    cycles = checklist(org.branch_a, Period(2026, quarter=1))[K.GROUP_MEETING].cycles
    assert [(c.held, c.due, c.state) for c in cycles] == [
        (1, 2, "missing"), (2, 2, "done"), (0, 2, "missing")]


def test_checklist_is_for_branches_only(app, org):
    assert plans.get_quota_checklist(org.gen_a, Period(2026), NOW) is None


def test_planned_vs_held_per_unit(app, org, make_unit, make_session):
    second = make_unit("甲校第二支部", org.gen_a)
    plan_a = plans.create_plan(org.admin, org.branch_a, 2026, 0)
    plans.add_item(plan_a, K.THEME_DAY, 1, "一月")
    plans.add_item(plan_a, K.THEME_DAY, 8, "八月")
    make_session(K.THEME_DAY, local(2026, 1))
    make_session(K.THEME_DAY, local(2026, 1), unit=org.branch_b)
    db.session.commit()
    lines = plans.get_units_plan_vs_held(org.gen_a, Period(2026, half=1), NOW)
    assert [line.unit.name for line in lines] == ["甲校第一支部", "甲校第二支部"]
    assert lines[0].cell(K.THEME_DAY) == (1, 1)
    assert lines[1].unit.id == second.id and lines[1].cell(K.THEME_DAY) == (0, 0)


# --- Pages ------------------------------------------------------------------------------

def test_plan_pages_for_the_secretary(client, login, org, plan, make_session):
    login(org.secretary)
    page = client.post(f"/manage/sessions/plans/{plan.id}/items",
                       data={"kind": "branch_meeting", "month": 3, "topic": "学习党章"})
    assert page.status_code == 302
    item = db.session.get(StudyPlan, plan.id).items[0]
    meeting = make_session(K.BRANCH_MEETING, local(2026, 3), {org.teacher: P}, topic="党章学习会")
    assert client.post(f"/manage/sessions/plans/{plan.id}/items/{item.id}/link",
                       data={"session_id": meeting.id}).status_code == 302
    db.session.expire_all()
    assert meeting.plan_item_id == item.id
    html = client.get(f"/manage/sessions/plans/{plan.id}").get_data(as_text=True)
    assert "学习党章" in html and "党章学习会" in html and 'id="checklist"' in html
    assert client.get("/manage/sessions/plans/").get_data(as_text=True).count(plan.title) == 1
    listed = client.get(f"/manage/sessions/plans/overview?unit={org.gen_a.id}&period=2026H1"
                        ).get_data(as_text=True)
    assert "甲校第一支部" in listed


def test_link_refuses_a_session_that_is_not_offered(client, login, org, plan, make_session):
    login(org.secretary)
    item = plans.add_item(plan, K.BRANCH_MEETING, 3, "党员大会")
    db.session.commit()
    foreign = make_session(K.BRANCH_MEETING, local(2026, 3), unit=org.branch_b)
    client.post(f"/manage/sessions/plans/{plan.id}/items/{item.id}/link",
                data={"session_id": foreign.id})
    db.session.expire_all()
    assert foreign.plan_item_id is None


def test_a_wrong_month_is_refused_with_the_form(client, login, org, plan):
    login(org.secretary)
    page = client.post(f"/manage/sessions/plans/{plan.id}/items",
                       data={"kind": "theme_day", "month": 9, "topic": "九月"})
    assert page.status_code == 422 and db.session.get(StudyPlan, plan.id).items == []


def test_plans_outside_scope_answer_404(client, login, org, make_person):
    other = plans.create_plan(org.admin, org.branch_b, 2026, 0)
    db.session.commit()
    login(org.secretary)
    assert client.get(f"/manage/sessions/plans/{other.id}").status_code == 404
    assert client.post(f"/manage/sessions/plans/{other.id}/items",
                       data={"kind": "theme_day", "month": 1, "topic": "x"}).status_code == 404
    assert client.post("/manage/sessions/plans/new", data={
        "unit_id": org.branch_b.id, "year": 2026, "half": 0}).status_code in (200, 404)
    assert db.session.query(StudyPlan).filter_by(unit_id=org.branch_b.id).count() == 1
    assert client.get(f"/manage/sessions/plans/overview?unit={org.branch_b.id}"
                      ).status_code == 404
    assert other.title not in client.get("/manage/sessions/plans/").get_data(as_text=True)


def test_teachers_have_no_plan_pages(client, login, org, plan):
    login(org.teacher)
    assert client.get("/manage/sessions/plans/").status_code == 403
    assert client.get(f"/manage/sessions/plans/{plan.id}").status_code == 403


def test_plan_page_queries_do_not_grow_with_items(client, login, org, plan, make_session,
                                                  count_queries):
    login(org.secretary)
    plans.add_item(plan, K.THEME_DAY, 1, "一月")
    db.session.commit()
    with count_queries() as few:
        assert client.get(f"/manage/sessions/plans/{plan.id}").status_code == 200
    for month in range(2, 7):
        item = plans.add_item(plan, K.THEME_DAY, month, f"{month}月")
        session = make_session(K.THEME_DAY, local(2026, month), {org.teacher: E})
        plans.link_session(plan, item, session)
    db.session.commit()
    with count_queries() as many:
        assert client.get(f"/manage/sessions/plans/{plan.id}").status_code == 200
    assert len(many) == len(few), many


def test_an_item_of_another_plan_cannot_be_reached_through_this_one(client, login, org, plan,
                                                                    make_session):
    other = plans.create_plan(org.admin, org.branch_b, 2026, 0)
    foreign = plans.add_item(other, K.THEME_DAY, 1, "乙校主题党日")
    db.session.commit()
    login(org.secretary)
    url = f"/manage/sessions/plans/{plan.id}/items/{foreign.id}"
    assert client.post(f"{url}/link", data={"session_id": 0}).status_code == 404
    client.post(f"{url}/remove")
    assert [i.topic for i in db.session.get(StudyPlan, other.id).items] == ["乙校主题党日"]
