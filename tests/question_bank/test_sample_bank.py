"""The shipped sample bank says no more than its sources (question_bank/data/README.md, the
sourcing rule), and its README counts what it holds."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from importlib import resources

import pytest

from question_bank import load_sample_bank

DATA = resources.files("question_bank").joinpath("data")
TYPES = ["单选题", "多选题", "判断题", "填空题", "简答题"]
OPTIONS = [f"选项{letter}" for letter in "ABCDEF"]


@pytest.fixture(scope="module")
def rows() -> dict[str, dict[str, str]]:
    text = DATA.joinpath("sample_bank.csv").read_bytes().decode("utf-8-sig")
    return {row["序号"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}


def shown(row: dict[str, str]) -> str:
    """Everything a taker or a reviewer reads of a question."""
    return " ".join(row[key] for key in ("题干", *OPTIONS, "答案", "解析", "出处"))


def test_the_readme_counts_what_the_bank_holds(rows):
    readme = DATA.joinpath("README.md").read_text(encoding="utf-8")
    counts = Counter((row["分类"], row["题型"]) for row in rows.values())
    for category, *numbers, total in re.findall(
            r"^\| `([^`]+)` [^|]*\|" + r" (\d+) \|" * 6, readme, re.MULTILINE):
        assert [counts[category, kind] for kind in TYPES] == [int(n) for n in numbers], category
        assert sum(counts[category, kind] for kind in TYPES) == int(total)
    difficulty = Counter(row["难度"] for row in rows.values())
    stated = re.search(r"By difficulty: 易 (\d+), 中 (\d+), 难 (\d+)", readme).groups()
    assert [difficulty[level] for level in "易中难"] == [int(n) for n in stated]
    assert len(load_sample_bank()) == len(rows)


def test_no_question_rests_on_the_unconfirmed_document_number(rows):
    """教师〔2018〕18号 was found in no copy of the 处理办法."""
    assert not [no for no, row in rows.items() if "〔2018〕18号" in shown(row)]


def test_an_answer_that_uses_the_theme_party_day_cites_it(rows):
    """主题党日's article is not verified: a 出处 that gives articles names that rule too."""
    for no, row in rows.items():
        if "主题党日" in shown(row) and re.search(r"第[一二三四五六七八九十]+条", row["出处"]):
            assert "主题党日" in row["出处"], no


def test_frequencies_are_not_turned_into_duties(rows):
    """一般每季度召开1次 says how often a meeting is normally held, not that it must be."""
    assert not [no for no, row in rows.items() if re.search(r"一般应|应召开", shown(row))]


def test_the_2014_to_2018_change_is_not_told_as_one_word_replaced(rows):
    """Three items of the 2014 list gave way to 降低岗位等级或撤职 and 开除."""
    replaced = ("降低专业技术职务等级", "撤销专业技术职务或者行政职务", "开除或者解除聘用合同")
    changes = [row for row in rows.values() if "2014" in row["题干"] and row["题型"] == "简答题"]
    assert changes and all(all(item in row["答案"] for item in replaced) for row in changes)
    for no, row in rows.items():
        assert not re.search(r"取代了2014年版处分种类中的", shown(row)), no


def test_the_procedures_list_is_never_taken_as_complete(rows):
    """FACTS.md says only that 第三条 "includes" its sanctions: no option is marked wrong
    for being a kind of party discipline missing from it."""
    party_only = ("严重警告", "留党察看", "开除党籍", "撤销党内职务")
    for no, row in rows.items():
        if "处理办法" not in row["题干"] or "第三条" not in row["题干"]:
            continue
        if "第八条" in row["题干"] or "党员的纪律处分" in row["题干"]:
            continue  # contrasted through 条例 第八条, whose list of five is complete
        if "相比" in row["题干"]:
            continue  # asks which wording took 2014's place: the others are simply not it
        for key in OPTIONS:
            assert row[key] not in party_only, (no, row[key])


def test_a_phrase_that_is_not_a_heading_is_not_said_to_be_absent_from_the_items(rows):
    assert not [no for no, row in rows.items() if re.search(r"为人师表不在十项之中", row["解析"])]
