"""Who may open what: every protected URL, for every role, plus scope (404 outside it)."""

import pytest

STAFF_PAGES = [
    "/manage/units", "/manage/units/new", "/manage/people", "/manage/people/new",
    "/manage/roster", "/manage/roster/template.xlsx",
]


@pytest.mark.parametrize("url", ["/", *STAFF_PAGES, "/account/password"])
def test_anonymous_visitors_are_sent_to_login(client, org, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.location.startswith("/login")


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_teachers_cannot_open_management_pages(client, org, login, url):
    login(org.teacher)
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", ["admin", "secretary"])
@pytest.mark.parametrize("url", STAFF_PAGES)
def test_staff_open_management_pages(client, org, login, role, url):
    login(getattr(org, role))
    assert client.get(url).status_code == 200


def test_secretary_sees_only_their_subtree(client, org, login):
    login(org.secretary)
    assert client.get(f"/units/{org.gen_a.id}").status_code == 200
    assert client.get(f"/units/{org.branch_a.id}").status_code == 200
    for unit in (org.top, org.gen_b, org.branch_b):
        assert client.get(f"/units/{unit.id}").status_code == 404
        assert client.get(f"/manage/units/{unit.id}/edit").status_code == 404
        assert client.get(f"/manage/people?unit={unit.id}").status_code == 404
    assert client.get(f"/manage/people/{org.teacher.id}/edit").status_code == 200
    for person in (org.outsider, org.admin):
        assert client.get(f"/manage/people/{person.id}/edit").status_code == 404
        assert client.post(f"/manage/people/{person.id}/reset-password").status_code == 404
        assert client.post(f"/manage/people/{person.id}/deactivate").status_code == 404
    listing = client.get("/manage/people?state=all").get_data(as_text=True)
    assert "李老师" in listing and "赵老师" not in listing and "管理员" not in listing


def test_secretary_cannot_move_a_person_out_of_scope(client, org, login):
    login(org.secretary)
    response = client.post(f"/manage/people/{org.teacher.id}/edit", data={
        "account": "t1", "name": "李老师", "unit_id": org.branch_b.id,
        "political_status": "01"})
    assert response.status_code == 200  # the unit is not among the choices
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_admin_sees_the_whole_tree(client, org, login):
    login(org.admin)
    for unit in (org.top, org.gen_a, org.gen_b, org.branch_b):
        assert client.get(f"/units/{unit.id}").status_code == 200


def test_unit_admin_with_managed_units_is_limited_to_them(client, org, make_person, login):
    from studyhall.org.models import Role

    school_admin = make_person("sa", unit=org.gen_b, role=Role.ADMIN, manages=[org.gen_b])
    login(school_admin)
    assert client.get(f"/units/{org.branch_b.id}").status_code == 200
    assert client.get(f"/units/{org.gen_a.id}").status_code == 404


def test_someone_managing_several_units_starts_at_the_first_in_tree_order(client, org,
                                                                         make_person, login):
    """Pages opened without ?unit= (the plans overview, the activity figures) show the
    first of scope_roots: for someone managing several units, the first by sort order as
    for an administrator's top units, not whichever unit_manager row the database
    returns first (by the key on SQLite; in physical order, or another, on PostgreSQL)."""
    from studyhall.auth.scope import scope_roots
    from studyhall.extensions import db
    from studyhall.org.models import Role

    org.gen_a.sort_order, org.gen_b.sort_order = 2, 1
    db.session.commit()
    both = make_person("s2", unit=org.gen_a, role=Role.SECRETARY,
                       manages=[org.gen_a, org.gen_b])
    db.session.expire(both)
    assert [u.id for u in scope_roots(both)] == [org.gen_b.id, org.gen_a.id]
    login(both)
    page = client.get("/manage/sessions/plans/overview").get_data(as_text=True)
    assert f'<option value="{org.gen_b.id}" selected>' in page


def test_teacher_dashboard_says_plainly_there_is_nothing_to_do(client, org, login):
    login(org.teacher)
    page = client.get("/").get_data(as_text=True)
    assert "Nothing to do right now" in page


def test_secretary_dashboard_shows_their_units(client, org, login):
    login(org.secretary)
    page = client.get("/").get_data(as_text=True)
    assert "甲校党总支" in page and "乙校党总支" not in page


def test_admin_dashboard_shows_the_whole_tree(client, org, login):
    login(org.admin)
    page = client.get("/").get_data(as_text=True)
    assert all(name in page for name in ("甲校党总支", "乙校党总支", "乙校第一支部"))


def test_a_scoped_admin_cannot_appoint_an_admin_of_the_whole_tree(client, org, make_person,
                                                                  login):
    from studyhall.extensions import db
    from studyhall.org.models import Role

    school_admin = make_person("sa", unit=org.gen_a, role=Role.ADMIN, manages=[org.gen_a])
    login(school_admin)
    response = client.post(f"/manage/people/{org.teacher.id}/edit", data={
        "account": "t1", "name": "李老师", "unit_id": org.branch_a.id,
        "political_status": "01", "role": "admin"})
    assert "Only a bureau administrator" in response.get_data(as_text=True)
    db.session.expire_all()
    assert org.teacher.role is Role.TEACHER and org.teacher.unit_id == org.branch_a.id


def test_nobody_resets_or_deactivates_someone_with_wider_rights(client, org, make_person,
                                                               make_unit, login):
    """The 总支 secretary sits in a branch below; that branch's secretary cannot take over
    their account."""
    from studyhall.org.models import Role

    org.secretary.unit = org.branch_a  # the general branch's secretary, a branch member
    branch_secretary = make_person("bs", unit=org.branch_a, role=Role.SECRETARY,
                                   manages=[org.branch_a])
    login(branch_secretary)
    for url in (f"/manage/people/{org.secretary.id}/reset-password",
                f"/manage/people/{org.secretary.id}/deactivate"):
        assert client.post(url).status_code == 404
    assert client.get(f"/manage/people/{org.secretary.id}/edit").status_code == 404
    assert client.get(f"/manage/people/{org.teacher.id}/edit").status_code == 200


@pytest.mark.parametrize("target", ["/%09/evil.example/", "//evil.example/",
                                    "https://evil.example/", "/\\evil.example", "/ok%0a/x"])
def test_redirects_after_login_and_language_stay_on_the_site(client, org, target):
    assert client.get(f"/lang/en?next={target}").location == "/"
    response = client.post(f"/login?next={target}", data={"account": "t1",
                                                           "password": "correct-horse-9"})
    assert response.location == "/"


def test_a_signed_out_autosave_gets_a_401_not_a_login_page(client, org):
    response = client.post("/attempts/1/answers", json={"position": 1, "response": "A"})
    assert response.status_code == 401 and response.get_json()["error"] == "signed_out"
    assert client.get("/manage/units").status_code == 302


# -- Nobody takes over someone with rights equal to or wider than their own ------------------

def _peer_cases(org, make_person):
    """(viewer, target) where the target's rights are the viewer's own, or wider."""
    from studyhall.org.models import Role

    unit_admin = make_person("ua1", unit=org.gen_a, role=Role.ADMIN, manages=[org.gen_a])
    return {
        "a secretary of the same units": (
            org.secretary, make_person("sec2", unit=org.branch_a, role=Role.SECRETARY,
                                       manages=[org.gen_a])),
        "a unit admin of the same units": (
            unit_admin, make_person("ua2", unit=org.branch_a, role=Role.ADMIN,
                                    manages=[org.gen_a])),
        "a unit admin, seen by a secretary of the same units": (org.secretary, unit_admin),
        "an admin of a unit below, seen by a secretary": (
            org.secretary, make_person("ba", unit=org.branch_a, role=Role.ADMIN,
                                       manages=[org.branch_a])),
        "themselves": (unit_admin, unit_admin),
    }


PEER_CASES = ["a secretary of the same units", "a unit admin of the same units",
              "a unit admin, seen by a secretary of the same units",
              "an admin of a unit below, seen by a secretary", "themselves"]


@pytest.mark.parametrize("case", PEER_CASES)
@pytest.mark.parametrize("action", ["edit", "move", "deactivate", "reset-password"])
def test_nobody_edits_moves_deactivates_or_resets_a_peer(client, org, make_person, login,
                                                         case, action):
    from studyhall.extensions import db
    from studyhall.org.models import Person

    viewer, target = _peer_cases(org, make_person)[case]
    before = (target.unit_id, target.password_hash, target.is_active)
    login(viewer)
    url = f"/manage/people/{target.id}"
    if action == "edit":
        response = client.get(f"{url}/edit")
    elif action == "move":
        response = client.post(f"{url}/edit", data={
            "account": target.account, "name": target.name, "unit_id": org.gen_a.id,
            "political_status": "01"})
    else:
        response = client.post(f"{url}/{action}")
    assert response.status_code == 404
    db.session.expire_all()
    target = db.session.get(Person, target.id)
    assert (target.unit_id, target.password_hash, target.is_active) == before


@pytest.mark.parametrize("case", PEER_CASES[:4])
def test_a_roster_import_does_not_update_a_peer(client, org, make_person, login, case):
    import io

    viewer, target = _peer_cases(org, make_person)[case]
    login(viewer)
    data = f"工号,姓名,单位,政治面貌\n{target.account},改了名字,甲校党总支,群众\n".encode()
    page = client.post("/manage/roster", data={"file": (io.BytesIO(data), "r.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    # The row would change them: refused as on their page (an unchanged row passes,
    # see test_roster), and nothing is offered to confirm.
    assert "Only someone with wider rights can change this person" in page
    assert "Confirm" not in page


def test_narrower_rights_are_still_managed(client, org, make_person, login):
    """A unit admin manages a secretary of the same units; a secretary, a secretary of a
    unit below; a bureau admin, another bureau admin."""
    from studyhall.org.models import Role

    unit_admin = make_person("ua1", unit=org.gen_a, role=Role.ADMIN, manages=[org.gen_a])
    same_units_secretary = make_person("sec2", unit=org.branch_a, role=Role.SECRETARY,
                                       manages=[org.gen_a])
    branch_secretary = make_person("bs", unit=org.branch_a, role=Role.SECRETARY,
                                   manages=[org.branch_a])
    other_bureau_admin = make_person("boss2", unit=org.top, role=Role.ADMIN)
    for viewer, target in ((unit_admin, same_units_secretary), (org.secretary, branch_secretary),
                           (org.admin, other_bureau_admin)):
        login(viewer)
        assert client.get(f"/manage/people/{target.id}/edit").status_code == 200
        client.post("/logout")
    login(org.secretary)
    listing = client.get("/manage/people?state=all").get_data(as_text=True)
    assert f"/manage/people/{branch_secretary.id}/edit" in listing
    assert f"/manage/people/{same_units_secretary.id}/edit" not in listing  # a peer: text only


def test_a_unit_admin_cannot_appoint_a_peer(client, org, make_person, login):
    """Appointing an admin of one's own units would make someone nobody below the bureau
    can manage any more; a secretary of those units is fine."""
    from studyhall.extensions import db
    from studyhall.org.models import Role

    unit_admin = make_person("ua1", unit=org.gen_a, role=Role.ADMIN, manages=[org.gen_a])
    login(unit_admin)
    form = {"account": "t1", "name": "李老师", "unit_id": org.branch_a.id,
            "political_status": "01", "managed_unit_ids": [org.gen_a.id]}
    response = client.post(f"/manage/people/{org.teacher.id}/edit", data={**form, "role": "admin"})
    assert "You can only give rights narrower than your own" in response.get_data(as_text=True)
    db.session.expire_all()
    assert org.teacher.role is Role.TEACHER
    response = client.post(f"/manage/people/{org.teacher.id}/edit",
                           data={**form, "role": "secretary"})
    assert response.status_code == 302
    db.session.expire_all()
    assert org.teacher.role is Role.SECRETARY
