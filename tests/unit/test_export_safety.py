"""The one formula guard (studyhall/exports/safety.py) and export file names."""

from __future__ import annotations

from datetime import date
from urllib.parse import unquote

import pytest

from studyhall.exports.naming import content_disposition, file_name
from studyhall.exports.safety import csv_text, is_risky, unguard

RISKY = ["=1+1", "+86", "-2", "@SUM(A1)", "＝1", "＋1", "－1", "＠x", "\tx", "\rx"]


@pytest.mark.parametrize("text", RISKY)
def test_risky_text_is_guarded_in_csv_and_read_back_unchanged(text):
    assert is_risky(text)
    assert csv_text(text) == "'" + text
    assert unguard(csv_text(text)) == text


@pytest.mark.parametrize("text", ["李老师", "1+1", "a=b", "'quoted", "", "100"])
def test_ordinary_text_is_left_alone(text):
    assert not is_risky(text)
    assert csv_text(text) == text and unguard(text) == text


def test_none_is_an_empty_cell():
    assert csv_text(None) == ""


def test_file_names_carry_what_unit_and_day():
    name = file_name("党纪考试", "成绩单", "实验小学/第一支部", day=date(2026, 12, 1),
                     suffix="xlsx")
    assert name == "党纪考试-成绩单-实验小学_第一支部-2026-12-01.xlsx"


def test_content_disposition_is_rfc_5987():
    header = content_disposition("成绩单 2026.xlsx", "scores.xlsx")
    assert header.startswith('attachment; filename="scores.xlsx"; filename*=UTF-8\'\'')
    assert unquote(header.split("''", 1)[1]) == "成绩单 2026.xlsx"
    assert " " not in header.split("''", 1)[1]
