"""Question bank, 5,000 questions: import an .xlsx and export it again. The issue's floor
for the import is < 10 s (PERFORMANCE.md, "imports").

Generates 5,000 questions of all five types over 20 categories (the shipped sample bank,
180 questions, repeated with a numbered stem so that none is a duplicate of another) and
writes them with ``question_bank.dump_questions(questions, "xlsx")``: the one-sheet,
Chinese-header shape Chinese exam tools use. Then, on a fresh database each time:

- library parse only: ``question_bank.load_questions`` (no database);
- the app's import: ``plan_question_import`` (read + plan), then
  ``apply_question_import`` and commit;
- re-importing the same file: the plan only, every question must come out "duplicate";
- export of all 5,000 the way ``bank/routes_files.py::export_questions`` does it: query
  the rows, ``mapping.to_question`` each, ``dump_questions(..., "xlsx")``.

Baseline, same run: reading the .xlsx with python-calamine into lists, plus a bare
executemany INSERT of the same 5,000 rows (the question table's columns, values computed
beforehand) into a plain table in one transaction; for the export also a bare XlsxWriter
pass over the same cells. On SQLite always; on PostgreSQL too when BENCH_DATABASE_URL is
set.

    .venv/bin/python bench/run_all.py question_bank
    .venv/bin/python bench/bench_question_bank.py --profile   # where the import's time goes
"""

from __future__ import annotations

import cProfile
import dataclasses
import io
import json
import pstats
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

import harness
import sqlalchemy as sa
import xlsxwriter
from python_calamine import CalamineWorkbook

import question_bank as qb
from question_bank.formats import table
from studyhall.bank import mapping, queries
from studyhall.bank.importing import apply_question_import, plan_question_import
from studyhall.bank.models import Question, QuestionCategory
from studyhall.extensions import db

QUESTIONS = 5_000
FILENAME = "bank.xlsx"
# Five subjects of four chapters each: 20 categories that hold questions, 25 in all.
CATEGORIES = [
    (subject, chapter)
    for subject, chapters in {
        "党章党规": ("中国共产党章程", "纪律处分条例", "廉洁自律准则", "问责条例"),
        "党建工作": ("支部工作条例", "组织生活", "党员发展", "党费管理"),
        "师德师风": ("十项准则", "违反职业道德行为处理办法", "师德考核", "典型案例"),
        "教育法规": ("教育法", "教师法", "未成年人保护法", "义务教育法"),
        "理论学习": ("二十大报告", "主题教育", "新时代教育方针", "学习强国"),
    }.items()
    for chapter in chapters
]


def make_questions() -> list[qb.Question]:
    """5,000 distinct questions: the sample bank's 180 in turn, each stem numbered, the
    categories dealt round-robin (so each category gets every type)."""
    sample = qb.load_sample_bank()
    questions = []
    for n in range(QUESTIONS):
        base = sample[n % len(sample)]
        question = dataclasses.replace(base, stem=f"【{n + 1:04d}】{base.stem}",
                                       category=CATEGORIES[n % len(CATEGORIES)])
        questions.append(question)
    return questions


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"bench_question_bank: check failed: {message}")


# --- baselines -------------------------------------------------------------------------

def read_baseline(data: bytes) -> float:
    seconds, rows = harness.timed(
        lambda: CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
        .to_python())
    check(len(rows) == QUESTIONS + 1, f"calamine read {len(rows)} rows")
    return seconds


def insert_values(questions: list[qb.Question]) -> list[dict]:
    """The question table's values for each question, computed outside the timing."""
    values = []
    for n, question in enumerate(questions):
        config = question.to_config()
        for key in mapping.COLUMN_KEYS:
            config.pop(key)
        values.append({"category_id": n % len(CATEGORIES) + 1, "type": question.type.value,
                       "stem": question.stem, "config": json.dumps(config, ensure_ascii=False),
                       "points": question.points, "difficulty": question.difficulty.value,
                       "source": question.source, "tags": mapping.join_tags(question.tags),
                       "dedup_key": qb.normalized_key(question)})
    return values


def insert_baseline(url: str, values: list[dict]) -> float:
    """A bare executemany INSERT of the rows into a plain table shaped like question."""
    bare = sa.Table("bench_question", sa.MetaData(),
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("category_id", sa.Integer), sa.Column("type", sa.String(20)),
                    sa.Column("stem", sa.Text), sa.Column("config", sa.Text),
                    sa.Column("points", sa.Numeric(7, 2)), sa.Column("difficulty", sa.String(10)),
                    sa.Column("source", sa.String(300)), sa.Column("tags", sa.String(500)),
                    sa.Column("dedup_key", sa.String(64)))
    app = harness.make_app(url)
    with app.app_context():
        bare.create(db.engine)

        def insert():
            with db.engine.begin() as conn:
                conn.execute(sa.insert(bare), values)

        seconds, _ = harness.timed(insert)
    harness.close_app(app)
    return seconds


def write_baseline(cells: list[list[str]]) -> float:
    """XlsxWriter writing the same cells, nothing else (the bare row-writer)."""

    def write():
        buffer = io.BytesIO()
        with xlsxwriter.Workbook(buffer, {"in_memory": True}) as workbook:
            sheet = workbook.add_worksheet("题库")
            sheet.write_row(0, 0, table.EXPORT_HEADERS)
            for row, texts in enumerate(cells, start=1):
                for column, text in enumerate(texts):
                    if text:
                        sheet.write_string(row, column, text)
        return buffer.getvalue()

    seconds, _ = harness.timed(write)
    return seconds


# --- the library and the app -----------------------------------------------------------

def parse_run(data: bytes) -> float:
    seconds, result = harness.timed(lambda: qb.load_questions(data, None, FILENAME))
    check(len(result.questions) == QUESTIONS and not result.errors and not result.unsupported,
          f"library parse: {len(result.questions)} questions, {len(result.errors)} errors")
    return seconds


def export_all() -> tuple[bytes, int]:
    """What export_questions does for an unfiltered list, in xlsx."""
    rows = list(db.session.scalars(queries.query_questions(queries.QuestionFilters())))
    names = queries.get_category_names()
    questions = [mapping.to_question(row, names[row.category_id]) for row in rows]
    return qb.dump_questions(questions, "xlsx"), len(rows)


def import_run(url: str, data: bytes) -> dict[str, float]:
    """Import into an empty database, re-import (plan), export. Seconds per phase."""
    app = harness.make_app(url)
    with app.app_context():
        plan_s, plan = harness.timed(lambda: plan_question_import(data, FILENAME))
        check(plan.can_apply(valid_only=False) and plan.counts == {"new": QUESTIONS},
              f"first plan: {plan.counts}, {len(plan.errors)} errors")
        apply_s, done = harness.timed(
            lambda: (apply_question_import(plan), db.session.commit())[0])
        check(done == {"created": QUESTIONS}, f"applied: {done}")
        db.session.remove()  # the re-import and the export start afresh, like new requests
        check(db.session.scalar(sa.select(sa.func.count(Question.id))) == QUESTIONS,
              "questions stored")
        check(db.session.scalar(sa.select(sa.func.count(QuestionCategory.id)))
              == len(CATEGORIES) + len({c[0] for c in CATEGORIES}), "categories stored")
        again_s, again = harness.timed(lambda: plan_question_import(data, FILENAME))
        check(again.counts == {"duplicate": QUESTIONS}, f"re-import plan: {again.counts}")
        db.session.remove()
        export_s, (exported, count) = harness.timed(export_all)
        check(count == QUESTIONS, f"exported {count} rows")
    harness.close_app(app)
    check_export(exported, data)
    return {"app import: read + plan": plan_s, "app import: apply + commit": apply_s,
            "app import: total": plan_s + apply_s, "re-import (plan, all duplicate)": again_s,
            "export all (query + to_question + xlsx)": export_s}


def check_export(exported: bytes, imported: bytes) -> None:
    """The export holds every question, and the same ones as the file imported."""
    result = qb.load_questions(exported, "xlsx")
    check(len(result.questions) == QUESTIONS and not result.errors,
          f"export read back: {len(result.questions)} questions, {len(result.errors)} errors")
    keys = Counter(qb.normalized_key(p.question) for p in result.questions)
    original = Counter(qb.normalized_key(p.question)
                       for p in qb.load_questions(imported, "xlsx").questions)
    check(keys == original, "the export's questions differ from the file imported")


# --- main ------------------------------------------------------------------------------

def main() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-bank-") as tmp:
        return run(Path(tmp))


def run(tmp: Path) -> dict[str, float]:
    rss_start = harness.peak_rss_mb()  # peak RSS is the process's: run alone for this one's
    questions = make_questions()
    data = qb.dump_questions(questions, "xlsx")
    (tmp / FILENAME).write_bytes(data)
    types = ", ".join(f"{t} {n}" for t, n in Counter(q.type.value for q in questions).items())
    print(f"question bank: {QUESTIONS} questions ({types}) over {len(CATEGORIES)} categories; "
          f"{len(data) // 1024} KB .xlsx; median of {harness.REPEAT}")

    read_runs = [read_baseline(data) for _ in range(harness.REPEAT)]
    cells = [list(table.question_row(q)) for q in questions]
    write_runs = [write_baseline(cells) for _ in range(harness.REPEAT)]
    parse_runs = [parse_run(data) for _ in range(harness.REPEAT)]
    read_s, write_s = statistics.median(read_runs), statistics.median(write_runs)
    parse_s = statistics.median(parse_runs)
    values = insert_values(questions)
    rss_before = harness.peak_rss_mb()
    figures, table_rows = {}, []
    for database, fresh_url in harness.database_urls(tmp).items():
        insert_runs = [insert_baseline(fresh_url(), values) for _ in range(harness.REPEAT)]
        baseline = read_s + statistics.median(insert_runs)
        phases = {"baseline: calamine read": read_runs, "baseline: bare INSERT": insert_runs,
                  "baseline: bare XlsxWriter of the cells": write_runs,
                  "library parse only (load_questions)": parse_runs}
        runs = [import_run(fresh_url(), data) for _ in range(harness.REPEAT)]
        phases |= harness.collect(runs)
        for phase, seconds in phases.items():
            table_rows.append(harness.figure_row(database, phase, seconds, baseline))
            figures[f"{database}: {phase}"] = statistics.median(seconds)
        export = figures[f"{database}: export all (query + to_question + xlsx)"]
        print(f"{database}: baseline (read + INSERT) {baseline:.3f} s; export is "
              f"{export / write_s:.1f}× the bare XlsxWriter pass; library parse is "
              f"{parse_s / read_s:.1f}× the calamine read")
    harness.print_table(harness.FIGURE_HEADERS, table_rows)
    print(f"peak RSS: {rss_start:.0f} MB at the start, {rss_before:.0f} MB before the app's "
          f"imports (file, baselines, parse), {harness.peak_rss_mb():.0f} MB at the end")
    return figures


def profile() -> None:
    """cProfile of one import (plan + apply) on SQLite: where the time goes."""
    with tempfile.TemporaryDirectory(prefix="bench-bank-") as tmp:
        data = qb.dump_questions(make_questions(), "xlsx")
        app = harness.make_app(f"sqlite:///{Path(tmp) / 'profile.sqlite3'}")
        with app.app_context():
            profiler = cProfile.Profile()
            profiler.enable()
            plan = plan_question_import(data, FILENAME)
            apply_question_import(plan)
            db.session.commit()
            profiler.disable()
        harness.close_app(app)
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    if "--profile" in sys.argv:
        profile()
    else:
        main()
