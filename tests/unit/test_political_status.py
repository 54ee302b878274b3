"""政治面貌 as rosters write it (no Flask app needed)."""

import pytest

from studyhall.org.models import PoliticalGroup, PoliticalStatus


@pytest.mark.parametrize("text, expected", [
    ("中国共产党党员", PoliticalStatus.CPC_MEMBER),
    ("中共党员", PoliticalStatus.CPC_MEMBER),
    ("党员", PoliticalStatus.CPC_MEMBER),
    (" 中共 党员 ", PoliticalStatus.CPC_MEMBER),
    ("中共预备党员", PoliticalStatus.CPC_PROBATIONARY),
    ("共青团员", PoliticalStatus.CYL_MEMBER),
    ("团员", PoliticalStatus.CYL_MEMBER),
    ("民革党员", PoliticalStatus.RCCK),
    ("民盟盟员", PoliticalStatus.CDL),
    ("九三学社社员", PoliticalStatus.JIUSAN),
    ("台盟盟员", PoliticalStatus.TDSGL),
    ("无党派民主人士", PoliticalStatus.NON_PARTISAN),
    ("普通公民", PoliticalStatus.MASSES),
    ("群众", PoliticalStatus.MASSES),
    ("13", PoliticalStatus.MASSES),
    ("1", PoliticalStatus.CPC_MEMBER),
])
def test_roster_forms_are_read(text, expected):
    assert PoliticalStatus.parse(text) is expected


@pytest.mark.parametrize("text", ["", "民主党派", "党外人士", "14", "member"])
def test_unknown_or_ambiguous_forms_are_refused(text):
    assert PoliticalStatus.parse(text) is None


def test_groups_follow_the_report_wording():
    groups = {status: status.group for status in PoliticalStatus}
    assert groups[PoliticalStatus.CPC_PROBATIONARY] is PoliticalGroup.PARTY_MEMBER
    assert [s for s, g in groups.items() if g is PoliticalGroup.DEMOCRATIC_PARTY] == [
        PoliticalStatus(f"{code:02d}") for code in range(4, 12)]
    assert groups[PoliticalStatus.NON_PARTISAN] is PoliticalGroup.NON_PARTISAN


def test_every_status_has_the_standard_label_first():
    assert PoliticalStatus.CPC_MEMBER.label == "中国共产党党员"
    assert PoliticalStatus.MASSES.label == "群众"
    assert len({s.label for s in PoliticalStatus}) == 13


@pytest.mark.parametrize("text, expected", [
    ("01 中共党员", PoliticalStatus.CPC_MEMBER),
    ("13-群众", PoliticalStatus.MASSES),
    ("中国共产主义青年团团员(03)", PoliticalStatus.CYL_MEMBER),
    ("群众（13）", PoliticalStatus.MASSES),
    ("０２", PoliticalStatus.CPC_PROBATIONARY),
    ("农工党员", PoliticalStatus.CPWDP),
    ("致公党员", PoliticalStatus.CZGP),
])
def test_hr_exports_with_codes_and_full_width_digits_are_read(text, expected):
    assert PoliticalStatus.parse(text) is expected


@pytest.mark.parametrize("text", ["02 中共党员", "中共党员(13)", "01 火星人"])
def test_a_code_that_disagrees_with_the_name_is_refused(text):
    assert PoliticalStatus.parse(text) is None
