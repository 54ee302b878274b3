import re

import pytest
import sqlalchemy as sa

from studyhall.audit import AuditEntry
from studyhall.extensions import db
from studyhall.org import operations, queries
from studyhall.org.models import (
    Person,
    PoliticalGroup,
    PoliticalStatus,
    Role,
    Unit,
    UnitKind,
)


def test_subtree_paths_follow_the_tree(org):
    assert org.branch_a.path == f"/{org.top.id}/{org.gen_a.id}/{org.branch_a.id}/"
    assert org.branch_a.depth == 2
    assert org.branch_a.ancestor_ids == [org.top.id, org.gen_a.id]


def test_moving_a_unit_rewrites_its_whole_subtree_in_one_statement(org, make_unit):
    group = make_unit("党小组", org.branch_a, UnitKind.GROUP)
    operations.move_unit(org.branch_a, org.gen_b)
    db.session.commit()
    db.session.expire_all()
    assert org.branch_a.path == f"/{org.top.id}/{org.gen_b.id}/{org.branch_a.id}/"
    assert group.path == f"{org.branch_a.path}{group.id}/"
    assert org.branch_a.parent_id == org.gen_b.id


def test_a_unit_cannot_move_under_its_own_subtree(org):
    with pytest.raises(operations.OrgError):
        operations.move_unit(org.gen_a, org.branch_a)
    with pytest.raises(operations.OrgError):
        operations.move_unit(org.gen_a, org.gen_a)


def test_moving_via_the_edit_page_refuses_own_subtree(client, org, login):
    login(org.admin)
    response = client.post(f"/manage/units/{org.gen_a.id}/edit", data={
        "name": "甲校党总支", "kind": "general_branch", "parent_id": org.branch_a.id,
        "sort_order": 0})
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    db.session.expire_all()
    assert org.gen_a.parent_id == org.top.id


def test_admin_creates_renames_and_moves_a_unit(client, org, login):
    login(org.admin)
    response = client.post("/manage/units/new", data={
        "name": "甲校第二支部", "kind": "branch", "parent_id": org.gen_a.id, "sort_order": 2})
    assert response.status_code == 302
    unit = db.session.scalar(sa.select(Unit).where(Unit.name == "甲校第二支部"))
    assert unit.path.startswith(org.gen_a.path)
    response = client.post(f"/manage/units/{unit.id}/edit", data={
        "name": "乙校第二支部", "kind": "branch", "parent_id": org.gen_b.id, "sort_order": 1})
    assert response.status_code == 302
    db.session.expire_all()
    assert unit.name == "乙校第二支部" and unit.path.startswith(org.gen_b.path)


def test_sibling_names_are_unique(client, org, login):
    login(org.admin)
    response = client.post("/manage/units/new", data={
        "name": "甲校第一支部", "kind": "branch", "parent_id": org.gen_a.id})
    assert "already exists" in response.get_data(as_text=True)


def test_secretary_creates_units_only_inside_their_subtree(client, org, login):
    login(org.secretary)
    response = client.post("/manage/units/new", data={
        "name": "新支部", "kind": "branch", "parent_id": org.gen_b.id})
    assert response.status_code == 200  # not among the choices
    response = client.post("/manage/units/new", data={
        "name": "新支部", "kind": "branch", "parent_id": org.gen_a.id})
    assert response.status_code == 302
    page = client.get(f"/manage/units/{org.gen_a.id}/edit").get_data(as_text=True)
    assert 'name="parent_id"' not in page  # they cannot move the unit they were given


def test_a_unit_with_people_is_never_silently_deactivated_or_deleted(client, org, login):
    login(org.admin)
    response = client.post(f"/manage/units/{org.branch_a.id}/deactivate",
                           follow_redirects=True)
    assert "still have 1 active people" in response.get_data(as_text=True)
    db.session.expire_all()
    assert org.branch_a.is_active
    with pytest.raises(operations.OrgError):
        operations.delete_unit(org.branch_a)


def test_an_empty_unit_is_deactivated_then_deleted(client, org, make_unit, login):
    empty = make_unit("空支部", org.gen_b)
    login(org.admin)
    client.post(f"/manage/units/{empty.id}/deactivate")
    db.session.expire_all()
    assert not empty.is_active
    client.post(f"/manage/units/{empty.id}/delete")
    assert db.session.get(Unit, empty.id) is None


def test_a_unit_that_held_people_keeps_its_history(org):
    operations.set_person_active(org.admin, org.outsider, False)
    operations.set_unit_active(org.branch_b, False)
    with pytest.raises(operations.OrgError):
        operations.delete_unit(org.branch_b)


def test_unit_page_writes_the_make_up_as_a_work_report_does(client, org, make_person, login):
    statuses = ([PoliticalStatus.CPC_MEMBER] * 3 + [PoliticalStatus.CPC_PROBATIONARY]
                + [PoliticalStatus.CYL_MEMBER] * 2 + [PoliticalStatus.CDL]
                + [PoliticalStatus.MASSES] * 4)
    for status in statuses:
        make_person(unit=org.branch_b, status=status)
    make_person(unit=org.branch_b, status=PoliticalStatus.MASSES).is_active = False
    db.session.commit()
    login(org.admin)
    page = client.get(f"/units/{org.gen_b.id}").get_data(as_text=True)
    # 11 made above + 赵老师 (群众) already in 乙校第一支部; the deactivated one is not counted.
    assert ("Total 12, of whom party members 4 (probationary 1), league members 2, "
            "democratic parties 1 and the masses 5<") in page
    by_child = dict(queries.get_composition_by_child(org.gen_b))
    assert by_child[org.branch_b].total == 12


def test_composition_counts_the_whole_subtree(org):
    composition = queries.get_composition(org.top)
    assert composition.total == 4
    assert composition.group_count(PoliticalGroup.PARTY_MEMBER) == 3
    assert composition.group_count(PoliticalGroup.MASSES) == 1


def test_people_list_searches_filters_and_paginates(client, org, make_person, login):
    for i in range(7):
        make_person(f"p{i}", unit=org.branch_b, name=f"周{i}",
                    status=PoliticalStatus.MASSES if i % 2 else PoliticalStatus.CPC_MEMBER)
    login(org.admin)
    page = client.get("/manage/people?q=周").get_data(as_text=True)
    assert "7 found" in page and 'aria-current="page">1<' in page  # 5 per page in tests
    page2 = client.get("/manage/people?q=周&page=2").get_data(as_text=True)
    assert len(re.findall(r"周\d", page2)) == 2
    page = client.get(f"/manage/people?unit={org.gen_b.id}&status=13").get_data(as_text=True)
    assert "4 found" in page  # 周1, 周3, 周5 and 赵老师
    page = client.get("/manage/people?q=p3").get_data(as_text=True)
    assert "1 found" in page and "周3" in page


def test_creating_a_person_shows_the_initial_password_once(client, org, login):
    login(org.secretary)
    response = client.post("/manage/people/new", data={
        "account": "00001234", "name": "钱老师", "unit_id": org.branch_a.id,
        "political_status": "03", "phone": "13800138000"})
    page = response.get_data(as_text=True)
    password = re.search(r'class="secret">([^<]+)<', page).group(1)
    person = db.session.scalar(sa.select(Person).where(Person.account == "00001234"))
    assert person.must_change_password and person.check_password(password)
    assert password not in person.password_hash
    assert person.political_status is PoliticalStatus.CYL_MEMBER


def test_duplicate_accounts_are_refused(client, org, login):
    login(org.admin)
    response = client.post("/manage/people/new", data={
        "account": "t1", "name": "重复", "unit_id": org.branch_a.id, "political_status": "13",
        "role": "teacher"})
    assert "already in use" in response.get_data(as_text=True)


def test_moving_a_person_is_audited(client, org, login):
    login(org.admin)
    client.post(f"/manage/people/{org.teacher.id}/edit", data={
        "account": "t1", "name": "李老师", "unit_id": org.branch_b.id,
        "political_status": "01", "role": "teacher"})
    db.session.expire_all()
    assert org.teacher.unit_id == org.branch_b.id
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "person.move"))
    assert entry.details == {"before": org.branch_a.id, "after": org.branch_b.id}


def test_role_changes_are_admin_only_and_audited(client, org, login):
    login(org.admin)
    client.post(f"/manage/people/{org.teacher.id}/edit", data={
        "account": "t1", "name": "李老师", "unit_id": org.branch_a.id,
        "political_status": "01", "role": "secretary", "managed_unit_ids": [org.branch_a.id]})
    db.session.expire_all()
    assert org.teacher.role is Role.SECRETARY
    assert [u.id for u in org.teacher.managed_units] == [org.branch_a.id]
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "person.role"))
    assert entry.actor_id == org.admin.id
    assert entry.details["after"] == {"role": "secretary", "units": [org.branch_a.id]}


def test_a_secretary_cannot_give_roles(client, org, login):
    login(org.secretary)
    page = client.get(f"/manage/people/{org.teacher.id}/edit").get_data(as_text=True)
    assert 'name="role"' not in page
    client.post(f"/manage/people/{org.teacher.id}/edit", data={
        "account": "t1", "name": "李老师", "unit_id": org.branch_a.id,
        "political_status": "01", "role": "admin"})
    db.session.expire_all()
    assert org.teacher.role is Role.TEACHER


def test_an_admin_cannot_change_their_own_role(client, org, login):
    login(org.admin)
    client.post(f"/manage/people/{org.admin.id}/edit", data={
        "account": "admin", "name": "管理员", "unit_id": org.top.id,
        "political_status": "01", "role": "teacher"})
    db.session.expire_all()
    assert org.admin.role is Role.ADMIN


def test_reset_password_forces_a_change_and_is_audited(client, org, login, app):
    login(org.secretary)
    page = client.post(f"/manage/people/{org.teacher.id}/reset-password").get_data(as_text=True)
    password = re.search(r'class="secret">([^<]+)<', page).group(1)
    db.session.expire_all()
    assert org.teacher.must_change_password
    assert db.session.scalar(sa.select(AuditEntry.action).where(
        AuditEntry.target_id == org.teacher.id)) == "person.password_reset"
    other = app.test_client()
    response = other.post("/login", data={"account": "t1", "password": password})
    assert response.location == "/account/password"


def test_deactivating_a_person_signs_them_out_and_keeps_them(client, app, org, login):
    teacher_client = app.test_client()
    teacher_client.post("/login", data={"account": "t1", "password": "correct-horse-9"})
    login(org.admin)
    client.post(f"/manage/people/{org.teacher.id}/deactivate")
    assert teacher_client.get("/").status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, org.teacher.id).is_active is False
    client.post(f"/manage/people/{org.teacher.id}/activate")
    db.session.expire_all()
    assert db.session.get(Person, org.teacher.id).is_active is True


def test_nobody_deactivates_themselves(org):
    with pytest.raises(operations.OrgError):
        operations.set_person_active(org.admin, org.admin, False)


def test_people_search_is_literal_and_ignores_case_in_accounts(client, org, make_person,
                                                              login):
    make_person("AB_12", unit=org.branch_b, name="钟老师")
    make_person("ab912", unit=org.branch_b, name="黄老师")
    login(org.admin)
    page = client.get("/manage/people?q=ab_").get_data(as_text=True)
    assert "1 found" in page and "钟老师" in page


@pytest.mark.parametrize("password, reason", [
    ("12345678", "A run of digits or letters"),
    ("Jiaoshi@2024", "Common words, names and pinyin"),
    ("woaini1314", "This is one of the commonest passwords"),
    ("x-teacher0042-x", "must not contain the account name or the phone number"),
    ("short", "Use 8 to 200 characters."),
    ("Ginkgo-by-gate-3", None),
])
def test_a_rosters_initial_passwords_follow_the_password_rules(app, org, password, reason):
    """A school that gives every new account 12345678 hands them all to whoever tries it
    first: the 初始密码 column passes the same rules as a chosen password (the quick ones)."""
    from flask import current_app

    from studyhall.org import roster

    data = f"工号,姓名,单位,政治面貌,初始密码\nteacher0042,甲,甲校第一支部,群众,{password}\n"
    with current_app.test_request_context(headers={"Cookie": "lang=en"}):
        result = roster.plan_import(org.admin, data.encode(), "a.csv")
    if reason is None:
        assert result.ok, result.issues
    else:
        [issue] = result.issues
        assert issue.column == "Initial password" and reason in issue.reason
