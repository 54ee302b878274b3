"""Every parser a user's text or file reaches, fuzzed with hypothesis (issue 12, item 3):
question files (GIFT, Aiken, Moodle XML, CSV, .xlsx), the roster reader, Markdown
(materials and session minutes) and the reflection 字数 counter. Each answers with its
own clean validation error or a result, never another exception, and never hangs
(``budget.time_limit``). Markdown never renders live markup.

Short budget in ``make test``; ``make fuzz`` runs the long one (see budget.py)."""

from __future__ import annotations

import string

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from config import Config
from question_bank import ImportResult, QuestionBankError, ReadLimits, load_questions
from studyhall.sessions.operations import render_minutes
from studyhall.spreadsheets import SpreadsheetError, read_rows
from studyhall.study.materials import parse_image_path, render_markdown
from studyhall.study.text import count_length
from tests.fuzz.budget import FUZZ, time_limit
from tests.fuzz.live_markup import live_markup
from tests.question_bank import test_fuzz as qb

AIKEN_TOKENS, CSV_TOKENS, GIFT_TOKENS, XML_TOKENS = (
    qb.AIKEN_TOKENS, qb.CSV_TOKENS, qb.GIFT_TOKENS, qb.XML_TOKENS)
SHARED_STRINGS, sheets, workbook = qb.SHARED_STRINGS, qb.sheets, qb.workbook

#: What an upload through the pages may hold (the CLI allows a whole sheet: a 1 KB
#: workbook with a cell at row 1,048,576 then costs ~2 s of CPU, by design).
QUESTION_LIMITS = ReadLimits(max_rows=Config.MAX_QUESTION_ROWS)
ROSTER_LIMITS = ReadLimits(max_rows=Config.MAX_ROSTER_ROWS)
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "utf-16"]
#: Characters that break naive parsers: controls, bidi overrides, zero-width, surrogates
#: are excluded by str itself; full-width and combining forms included.
TRICKY = "\x00\x01\x08\x0b\x0c\x1b\x7f\x85\u00a0\u200b\u200c\u200d\u2028\u2029\u202a" \
         "\u202e\u2066\u2069\ufeff\ufffd\u0301\uff1d\uff0b\U0001f600"


def tricky_text(tokens: list[str], max_size: int = 60) -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(tokens), st.text(max_size=6),
                      st.text(alphabet=TRICKY, max_size=4))
    return st.lists(piece, max_size=max_size).map("".join)


def load(data: bytes, format: str | None, filename: str | None = None) -> None:
    with time_limit():
        try:
            result = load_questions(data, format, filename, limits=QUESTION_LIMITS)
        except QuestionBankError:
            return
    assert isinstance(result, ImportResult)


# --- question files -----------------------------------------------------------------------

@pytest.mark.parametrize("format, tokens", [
    ("gift", GIFT_TOKENS), ("aiken", AIKEN_TOKENS), ("moodle_xml", XML_TOKENS),
    ("csv", CSV_TOKENS)])
@FUZZ
@given(data=st.data())
def test_question_files(format, tokens, data):
    text = data.draw(tricky_text(tokens))
    load(text.encode(data.draw(st.sampled_from(ENCODINGS)), errors="replace"), format)


@FUZZ
@given(sheet=sheets(), shared=st.sampled_from(SHARED_STRINGS),
       damage=st.one_of(st.none(), st.tuples(st.integers(0, 4000), st.binary(max_size=8))))
def test_question_workbooks(sheet, shared, damage):
    data = workbook(sheet, shared)
    if damage is not None:  # a byte-level change: a damaged zip must be refused cleanly
        at, junk = damage
        at %= len(data)
        data = data[:at] + junk + data[at + len(junk):]
    load(data, "xlsx", "bank.xlsx")


def test_a_zip_asking_for_a_newer_zip_version_is_refused_cleanly():
    """Found by the fuzzing: zipfile raises NotImplementedError for "zip file version 6.4",
    which went past the workbook check (a 500 on both import pages)."""
    data = bytearray(workbook("<worksheet/>", None))
    at = data.index(b"PK\x01\x02") + 6  # the central directory's "version needed"
    data[at:at + 2] = (64).to_bytes(2, "little")
    result = load_questions(bytes(data), "xlsx", "bank.xlsx", limits=QUESTION_LIMITS)
    assert not result.questions and result.errors
    with pytest.raises(SpreadsheetError):
        read_rows(bytes(data), "花名册.xlsx", ROSTER_LIMITS)


# --- the roster reader --------------------------------------------------------------------

ROSTER_TOKENS = ["姓名", "工号", "单位", "政治面貌", "手机", "初始密码", "一级部门", "二级部门",
                 "邮箱", ",", ",", "\t", "\n", "\r\n", '"', '""', "中共党员", "群众", "预备党员",
                 "甲校党总支/第一支部", "甲|乙", "t1", "13800000000", "=1+1", "'=1", " ", "题"]


@FUZZ
@given(data=st.data())
def test_roster_csv_reader(data):
    text = data.draw(tricky_text(ROSTER_TOKENS, 80))
    raw = text.encode(data.draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"])),
                      errors="replace")
    name = data.draw(st.sampled_from(["r.csv", "r.txt", "r.xlsx", "r.xls", "r.doc", "R.CSV"]))
    with time_limit():
        try:
            rows = read_rows(raw, name, ROSTER_LIMITS)
        except SpreadsheetError as exc:
            assert str(exc)
            return
    assert all(isinstance(cell, str) for row in rows for cell in row)


@FUZZ
@given(sheet=sheets(), shared=st.sampled_from(SHARED_STRINGS), raw=st.binary(max_size=200))
def test_roster_workbook_and_random_bytes(sheet, shared, raw):
    for data, name in ((workbook(sheet, shared), "花名册.xlsx"), (raw, "花名册.xlsx"),
                       (b"PK\x03\x04" + raw, "r.csv"),
                       (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + raw, "r.xls")):
        with time_limit():
            try:
                rows = read_rows(data, name, ROSTER_LIMITS)
            except SpreadsheetError as exc:
                assert str(exc)
                continue
        assert all(isinstance(cell, str) for row in rows for cell in row)


# --- Markdown -----------------------------------------------------------------------------

MARKDOWN_TOKENS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<svg onload=alert(1)>",
    "[a](javascript:alert(1))", "[a](JaVaScRiPt:alert(1))", "[a](java\tscript:x)",
    "[a](data:text/html,<script>x</script>)", "![i](data:image/svg+xml,<svg/onload=x>)",
    "![i](x.png)", "![i](http://evil.example/p.png)", "![i](/study/materials/1/images/2/",
    "0123456789abcdef)", "<a href=\"javascript:x\">", "&#106;avascript:", "&lt;script&gt;",
    "<!--", "-->", "<![CDATA[", "```\n", "`", "\n\n", "\n", "    ", "> ", "- ", "1. ", "| a |",
    "|---|", "# ", "**", "_", "~~", "[", "]", "(", ")", "<", ">", "\"", "'", "=", "\\",
    "<http://x.example/a>", "<javascript:alert(1)>", "{{ 7*7 }}", "{% raw %}", "on", "error",
    "style=\"x\"", "<iframe src=x>", "<math><mi xlink:href=\"javascript:x\">", "字",
]
MATERIAL_ID, FILE_ID = 1, 2
MARKDOWN_APP = Flask(__name__)
MARKDOWN_APP.config["SECRET_KEY"] = "fuzz"


def own_image(src: str) -> bool:
    with MARKDOWN_APP.app_context():
        return parse_image_path(src) == (MATERIAL_ID, FILE_ID)


@FUZZ
@given(text=tricky_text(MARKDOWN_TOKENS, 80))
def test_markdown_never_renders_live_markup(text):
    with MARKDOWN_APP.app_context(), time_limit():
        material = render_markdown(text, MATERIAL_ID, {"x.png": FILE_ID})
        minutes = render_minutes(text)
    assert live_markup(material, own_image) == []
    assert live_markup(minutes, lambda src: False) == []


def test_the_markdown_check_can_fail():
    """The assertion above is not vacuous: what it looks for, it finds."""
    assert live_markup('<p><img src="x" onerror="a()"><a href=" JAVASCRIPT:x">') == [
        "<img onerror=>", "<a href=' JAVASCRIPT:x'>"]
    assert live_markup('<img src="http://evil.example/x.png">', own_image) != []
    assert live_markup("<p>&lt;script&gt;</p>") == []


# --- the reflection 字数 counter ----------------------------------------------------------

@FUZZ
@given(text=st.one_of(st.text(max_size=400), tricky_text(
    ["党", "的", "二十大", "word", "e-mail", "3.14", "1,000", "\u3000", " ", "。", "，", "'",
     *string.punctuation], 120)))
def test_reflection_counter(text):
    with time_limit():
        count = count_length(text)
    assert isinstance(count, int) and 0 <= count <= len(text) * 2
