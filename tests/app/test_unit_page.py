"""The unit page and the unit lists: the headcount sentence as a work report writes it,
units in natural order, and a breadcrumb that links only to units the viewer may open."""

from __future__ import annotations

from collections import Counter

import pytest
from flask_babel import refresh

from studyhall.extensions import db
from studyhall.org import queries
from studyhall.org.models import PoliticalStatus as S


def sentence(app, counts: dict, lang: str = "zh_CN") -> str:
    with app.test_request_context(headers={"Cookie": f"lang={lang}"}):
        refresh()  # the test's app context would keep the first request's language
        return queries.Composition(Counter(counts)).report_line()


@pytest.mark.parametrize(("counts", "zh", "en"), [
    ({S.CPC_MEMBER: 48, S.CPC_PROBATIONARY: 2, S.CYL_MEMBER: 6, S.CDL: 1, S.MASSES: 40},
     "共97人，其中党员50名（含预备党员2名），团员6名，民主党派1名，群众40名",
     "Total 97, of whom party members 50 (probationary 2), league members 6, "
     "democratic parties 1 and the masses 40"),
    ({S.CPC_MEMBER: 3, S.MASSES: 1}, "共4人，其中党员3名，群众1名",
     "Total 4, of whom party members 3 and the masses 1"),
    ({S.NON_PARTISAN: 1, S.JIUSAN: 1, S.CAPD: 1}, "共3人，其中民主党派2名，无党派人士1名",
     "Total 3, of whom democratic parties 2 and non-partisans 1"),
    ({S.MASSES: 5}, "共5人，其中群众5名", "Total 5, of whom the masses 5"),
    ({}, "共0人", "Total 0"),
])
def test_the_headcount_names_only_groups_that_have_anyone(app, counts, zh, en):
    assert sentence(app, counts) == zh
    assert sentence(app, counts, "en") == en


def test_no_zero_is_stated(app):
    line = sentence(app, {S.CPC_MEMBER: 1, S.CYL_MEMBER: 1})
    assert "0名" not in line and "预备" not in line


# --- natural order ---------------------------------------------------------------------


@pytest.fixture()
def branches(org, make_unit):
    """甲校第一支部 (org.branch_a) and three more branches under 甲校党总支."""
    return [org.branch_a] + [make_unit(name, org.gen_a) for name in
                             ("甲校第三支部", "甲校第十一支部", "甲校第二支部", "甲校第十支部")]


NATURAL = ["甲校第一支部", "甲校第二支部", "甲校第三支部", "甲校第十支部", "甲校第十一支部"]


def order_in(page: str, names: list[str]) -> list[str]:
    return sorted(names, key=page.index)


@pytest.mark.parametrize("url", ["/manage/units", "/manage/people", "/", "unit"])
def test_units_are_listed_in_natural_order(client, org, login, branches, url):
    login(org.admin)
    page = client.get(f"/units/{org.gen_a.id}" if url == "unit" else url).get_data(
        as_text=True)
    assert order_in(page, NATURAL) == NATURAL


def test_sort_order_comes_first(client, org, login, branches):
    branches[4].sort_order = -1  # 甲校第十支部
    db.session.commit()
    assert [u.name for u, _ in queries.get_composition_by_child(org.gen_a)] == [
        "甲校第十支部", *[n for n in NATURAL if n != "甲校第十支部"]]
    login(org.secretary)
    page = client.get("/manage/units").get_data(as_text=True)
    assert order_in(page, NATURAL)[0] == "甲校第十支部"


# --- breadcrumb -----------------------------------------------------------------------


def test_a_secretary_sees_units_above_their_scope_as_text(client, org, login):
    login(org.secretary)  # manages 甲校党总支
    page = client.get(f"/units/{org.branch_a.id}").get_data(as_text=True)
    start = page.index('aria-label="Parent units"')
    nav = page[start:page.index("</nav>", start)]
    assert "<span>教育局党委</span>" in nav
    assert f'href="/units/{org.top.id}"' not in page
    assert f'<a href="/units/{org.gen_a.id}">甲校党总支</a>' in nav
    assert client.get(f"/units/{org.gen_a.id}").status_code == 200


def test_an_admin_gets_every_ancestor_as_a_link(client, org, login):
    login(org.admin)
    page = client.get(f"/units/{org.branch_a.id}").get_data(as_text=True)
    assert f'<a href="/units/{org.top.id}">教育局党委</a>' in page
    assert f'<a href="/units/{org.gen_a.id}">甲校党总支</a>' in page
    top = client.get(f"/units/{org.top.id}").get_data(as_text=True)
    assert 'aria-label="Parent units"' not in top
