"""Uploads built to take a worker down are refused, with a message, in little memory.

Each hostile file (tests/fixtures/hostile_files.py) goes through both readers — the
roster's (studyhall.spreadsheets) and the question bank's (question_bank) — in a child
process whose address space is capped at 1 GB: a reader that let calamine allocate the
grid such a file declares would abort the child, not raise."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from question_bank import FORMATS, load_questions
from question_bank.formats.limits import (
    FileRefusedError,
    ReadLimits,
    check_workbook,
    column_name,
    parse_reference,
)
from tests.fixtures import hostile_files

ROOT = Path(__file__).resolve().parents[2]
ADDRESS_SPACE = 1024**3

CHILD = textwrap.dedent("""
    import json, resource, sys
    from config import TestingConfig
    from studyhall import create_app
    from studyhall.spreadsheets import SpreadsheetError, read_rows
    import question_bank as qb
    from tests.fixtures.hostile_files import HOSTILE

    app = create_app(TestingConfig)
    files = {name: build() for name, (build, _) in HOSTILE.items() if name in sys.argv[1:]}
    resource.setrlimit(resource.RLIMIT_AS, (CAP_BYTES, CAP_BYTES))
    out = {}
    with app.app_context():
        for name, data in files.items():
            try:
                rows = read_rows(data, name + ".xlsx")
                roster = "read %d rows" % len(rows)
            except SpreadsheetError as exc:
                roster = [exc.reason, str(exc)]
            try:
                result = qb.load_questions(data, "xlsx", name + ".xlsx")
                bank = [issue.message for issue in result.errors]
            except qb.FileRefusedError as exc:
                bank = [str(exc)]
            out[name] = {"roster": roster, "bank": bank}
            print(json.dumps({name: out[name]}, ensure_ascii=False), flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"peak_mb": peak}), flush=True)
""").replace("CAP_BYTES", str(ADDRESS_SPACE))


def run_child(names: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CHILD, *names], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"the reader died ({done.returncode}):\n{done.stderr[-3000:]}"
    results: dict = {}
    for line in done.stdout.splitlines():
        results.update(json.loads(line))
    return results


def test_every_hostile_file_is_refused_by_both_readers_within_1_gb():
    results = run_child(list(hostile_files.HOSTILE))
    for name, (_build, reason) in hostile_files.HOSTILE.items():
        roster_reason, message = results[name]["roster"]
        assert roster_reason == reason, (name, message)
        assert message and results[name]["bank"], name
    # Refusing took little memory: the fixtures themselves are about 15 MB.
    assert results["peak_mb"] < 400


def test_the_messages_say_what_was_wrong_and_the_limit():
    results = run_child(["zz200000", "shared_string", "long_cell", "spaces"])
    assert "ZZ" in results["zz200000"]["roster"][1]
    assert "256" in results["zz200000"]["roster"][1]
    assert results["zz200000"]["bank"] == [
        "表格用到第702列（ZZ列），超过上限256列：请删除右侧多余的列"]
    assert "xl/sharedStrings.xml" in results["shared_string"]["bank"][0]
    assert "100倍" in results["shared_string"]["bank"][0]
    assert results["long_cell"]["bank"] == ["单元格B2有40,000个字符，超过上限32,767个"]
    assert "256MB" in results["spaces"]["bank"][0]


def test_an_ordinary_workbook_reads_as_before_within_the_same_cap():
    data = hostile_files.workbook(hostile_files.sheet(
        {1: [hostile_files.cell("A1", "题型"), hostile_files.cell("B1", "题干"),
             hostile_files.cell("C1", "答案")],
         2: [hostile_files.cell("A2", "判断题"), hostile_files.cell("B2", "入党誓词共80字。"),
             hostile_files.cell("C2", "对")]}, "A1:C2"))
    result = load_questions(data, "xlsx")
    assert result.ok and result.questions[0].question.stem == "入党誓词共80字。"


@pytest.mark.parametrize("limits, reason", [
    (ReadLimits(max_rows=200_000), "columns"),
    (ReadLimits(max_rows=1_000, max_columns=20_000), "rows"),
    (ReadLimits(max_columns=1_000), "cells"),
])
def test_the_sheet_scan_applies_each_limit(limits, reason):
    with pytest.raises(FileRefusedError) as refused:
        check_workbook(hostile_files.zz200000(), limits).check_sheet(index=0)
    assert refused.value.reason == reason


def test_a_declared_dimension_alone_is_not_the_grid():
    """calamine sizes its grid by the cells that hold a value (measured: a sheet declaring
    A1:XFD1048576 over one value reads in 12 MB), and Excel's dimension also counts
    formatted empty cells, so only values decide."""
    data = hostile_files.workbook(hostile_files.sheet(
        {1: [hostile_files.cell("A1", "x")], 900_000: ['<c r="XFD900000" s="1"/>']},
        "A1:XFD1048576"))
    scan = check_workbook(data).check_sheet(index=0)
    assert scan.declared == (1048576, 16384) and (scan.rows, scan.columns) == (1, 1)


def test_cell_references():
    assert parse_reference("XFD1048576") == (1048576, 16384)
    assert parse_reference("$B$3") == (3, 2) and parse_reference("3B") is None
    assert [column_name(i) for i in (0, 25, 26, 701, 16383)] == ["A", "Z", "AA", "ZZ", "XFD"]


@pytest.mark.parametrize("format, text", [
    ("gift", "\n\n".join(f"题{n}{{T}}" for n in range(6))),
    ("aiken", "".join(f"题{n}\nA. 甲\nB. 乙\nANSWER: A\n\n" for n in range(6))),
    ("moodle_xml", "<quiz>" + '<question type="essay"></question>' * 6 + "</quiz>"),
])
def test_a_text_file_over_the_question_limit_is_refused_before_it_is_parsed(
        monkeypatch, format, text):
    def parse(*args):
        raise AssertionError("parsed")

    monkeypatch.setitem(FORMATS, format, dataclasses.replace(FORMATS[format], load=parse))
    with pytest.raises(FileRefusedError) as refused:
        load_questions(text.encode(), format, limits=ReadLimits(max_rows=5))
    assert str(refused.value) == "文件有6道题，超过上限5道"


@pytest.mark.parametrize("cells", [
    ['<c t="inlineStr"><is><t>x</t></is></c>'] * 300,  # positions implied, no references
    ["<c r='A1'><v>1</v></c>", "<c r='XFD1'><v>1</v></c>"],  # quoted otherwise
    ['<c r="A1"><v>1</v></c>',
     f'<x:c xmlns:x="{hostile_files.MAIN_NS}" r = "XFD1"><x:v>1</x:v></x:c>'],  # spaced
    ['<c foo=">" r="XFD1"><v>1</v></c>'],  # a ">" inside an attribute
])
def test_cells_written_in_unusual_ways_are_counted_too(cells):
    data = hostile_files.workbook(hostile_files.sheet({1: cells}))
    with pytest.raises(FileRefusedError) as refused:
        check_workbook(data).check_sheet(index=0)
    assert refused.value.reason == "columns"


@pytest.mark.parametrize("reference", ["A99999999999999999999", "A-1", "1A", "A0"])
def test_a_cell_reference_calamine_would_misread_is_refused(reference):
    """The fuzz test found "A99999999999999999999": calamine took it for a row beyond
    any grid and aborted; such a reference is refused as damaged before it reads."""
    data = hostile_files.workbook(hostile_files.sheet(
        {1: [hostile_files.cell("A1", "题型"), f'<c r="{reference}"><v>1</v></c>']}))
    with pytest.raises(FileRefusedError) as refused:
        check_workbook(data).check_sheet(index=0)
    assert refused.value.reason == "damaged" and reference in str(refused.value)
