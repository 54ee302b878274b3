"""Roster import, 10,000 rows: the issue's floor is < 30 s, PERFORMANCE.md aims at < 5 s.

Generates a seeded roster in the shape real ones have (a title row, then 序号, 工号, 姓名,
性别, 手机号码, 所属支部 as a full path over 200 branches, 政治面貌, 备注) as .xlsx and as a
GBK .csv, then times on a fresh database each time:

- read + plan (``plan_import``), apply + commit, and re-importing the same file (plan only,
  every row must come out "unchanged"), with the units created by the import;
- the same with the unit tree already in the database;
- the .csv, units created by the import;
- ``flask import-roster --create-units`` end to end, in a subprocess.

Baseline, same run: reading the .xlsx with python-calamine into lists, plus a bare
executemany INSERT of the same rows into a plain table in one transaction. On SQLite
always; on PostgreSQL too when BENCH_DATABASE_URL is set.

    .venv/bin/python bench/run_all.py roster_import
"""

from __future__ import annotations

import csv
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import harness
import sqlalchemy as sa
import xlsxwriter
from python_calamine import CalamineWorkbook

from studyhall.cli import SystemActor
from studyhall.extensions import db
from studyhall.org import operations, roster
from studyhall.org.models import Person, UnitKind

ROWS = 10_000
SEED = 20240901
TITLE = "示例市教育局党委 教职工花名册（2024年9月）"
HEADER = ["序号", "工号", "姓名", "性别", "手机号码", "所属支部", "政治面貌", "备注"]
COMMITTEE = "示例市教育局党委"
SCHOOLS = ["实验中学", "第一中学", "第二中学", "第三中学", "外国语学校", "育才中学", "职业高中",
           "实验小学", "东城小学", "西城小学", "南湖小学", "北山小学", "育英小学", "阳光小学",
           "文化路小学", "解放路小学", "第一幼儿园", "第二幼儿园", "教师进修学校", "局机关"]
SECTIONS = ["行政", "语文", "数学", "英语", "理化生", "政史地", "体艺", "后勤", "年级组",
            "离退休"]
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
            "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红玲芬建国文辉力斌宇浩凯鹏飞"
         "鑫波宁晨欣怡婷雪琳佳颖思涵子轩梓睿博雅晓")
# The short forms rosters use, with rough weights for a school staff.
STATUSES = {"中共党员": 45, "预备党员": 4, "共青团员": 10, "群众": 31, "民盟盟员": 2,
            "民进会员": 2, "九三学社社员": 1, "农工党党员": 1, "民革会员": 1, "无党派人士": 3}
NOTES = {"": 90, "新入职": 4, "借调": 2, "退休返聘": 2, "产假": 2}


def unit_tree() -> list[tuple[str, ...]]:
    """Every unit as its names from the top, parents before children: 1 + 20 + 200."""
    tree = [(COMMITTEE,)]
    for school in SCHOOLS:
        general = (COMMITTEE, f"{school}党总支")
        tree += [general] + [general + (f"{section}党支部",) for section in SECTIONS]
    return tree


def roster_rows() -> list[list]:
    rng = random.Random(SEED)
    branches = ["/".join(names) for names in unit_tree() if len(names) == 3]
    statuses, notes = list(STATUSES), list(NOTES)
    accounts = rng.sample(range(1, 1_000_000), ROWS)
    rows = []
    for number, account in enumerate(accounts, start=1):
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        phone = int(f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}")
        rows.append([number, f"{account:08d}", name, rng.choice("男女"), phone,
                     rng.choice(branches), rng.choices(statuses, STATUSES.values())[0],
                     rng.choices(notes, NOTES.values())[0]])
    return rows


def write_xlsx(rows: list[list], path: Path) -> None:
    """工号 as text, phone numbers as numbers: the way people type them into Excel."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = workbook.add_worksheet("花名册")
    sheet.merge_range(0, 0, 0, len(HEADER) - 1, TITLE, workbook.add_format({"bold": True}))
    sheet.write_row(1, 0, HEADER)
    for index, row in enumerate(rows, start=2):
        sheet.write_number(index, 0, row[0])
        sheet.write_string(index, 1, row[1])
        sheet.write_row(index, 2, row[2:])
    workbook.close()


def write_csv(rows: list[list], path: Path) -> None:
    """What Excel's plain "CSV" saves on a Chinese Windows: GBK, the title row padded."""
    with open(path, "w", newline="", encoding="gbk") as handle:
        writer = csv.writer(handle)
        writer.writerow([TITLE] + [""] * (len(HEADER) - 1))
        writer.writerow(HEADER)
        writer.writerows(rows)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"bench_roster_import: check failed: {message}")


def read_baseline(path: Path) -> float:
    seconds, rows = harness.timed(
        lambda: CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python())
    check(len(rows) == ROWS + 2, f"calamine read {len(rows)} rows")
    return seconds


def insert_baseline(url: str, rows: list[list]) -> float:
    """A bare executemany INSERT of the roster's rows into a plain table, one transaction."""
    table = sa.Table("bench_roster", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     *(sa.Column(f"c{i}", sa.String(100)) for i in range(len(HEADER))))
    values = [{f"c{i}": str(cell) for i, cell in enumerate(row)} for row in rows]
    app = harness.make_app(url)
    with app.app_context():
        table.create(db.engine)
        seconds, _ = harness.timed(lambda: _insert(db.engine, table, values))
    harness.close_app(app)
    return seconds


def _insert(engine: sa.Engine, table: sa.Table, values: list[dict]) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(table), values)


def import_run(url: str, path: Path, create_units: bool) -> dict[str, float]:
    """One import into an empty database; with ``create_units`` False the unit tree is
    made first. Returns seconds per phase."""
    data = path.read_bytes()
    actor = SystemActor()
    app = harness.make_app(url)
    with app.app_context():
        if not create_units:
            make_unit_tree()

        def plan_file():
            return roster.plan_import(actor, data, path.name, create_units=create_units)

        plan_s, plan = harness.timed(plan_file)
        check(plan.ok and plan.counts == {"new": ROWS}, f"first plan: {plan.counts}")
        check(len(plan.new_units) == (len(unit_tree()) if create_units else 0),
              f"{len(plan.new_units)} new units planned")
        apply_s, _ = harness.timed(lambda: (roster.apply_plan(actor, plan), db.session.commit()))
        db.session.remove()  # the re-import starts afresh, like a new request
        check(db.session.scalar(sa.select(sa.func.count(Person.id))) == ROWS, "people stored")
        again_s, again = harness.timed(plan_file)
        check(again.counts == {"unchanged": ROWS}, f"re-import plan: {again.counts}")
    harness.close_app(app)
    return {"read + plan": plan_s, "apply + commit": apply_s, "re-import (plan)": again_s}


def make_unit_tree() -> None:
    units = {}
    kinds = {1: UnitKind.COMMITTEE, 2: UnitKind.GENERAL_BRANCH, 3: UnitKind.BRANCH}
    for names in unit_tree():
        units[names] = operations.create_unit(units.get(names[:-1]), names[-1],
                                              kinds[len(names)])
    db.session.commit()


def cli_run(url: str, path: Path, tmp: Path) -> float:
    """``flask import-roster --create-units`` end to end (schema built first, not timed)."""
    flask = [sys.executable, "-m", "flask", "--app", "studyhall"]
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(flask + ["db", "upgrade"], env=env, check=True, capture_output=True)
    passwords = tmp / "passwords.csv"
    seconds, done = harness.timed(lambda: subprocess.run(
        flask + ["import-roster", str(path), "--create-units", "--passwords-out", str(passwords)],
        env=env, capture_output=True, text=True))
    check(done.returncode == 0, f"import-roster failed: {done.stderr[-2000:]}")
    with open(passwords, encoding="utf-8-sig") as handle:
        check(sum(1 for _ in handle) == ROWS + 1, "a password for every new account")
    return seconds


def main() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-roster-") as tmp:
        return run(Path(tmp))


def run(tmp: Path) -> dict[str, float]:
    rows = roster_rows()
    xlsx, gbk_csv = tmp / "roster.xlsx", tmp / "roster.csv"
    write_xlsx(rows, xlsx)
    write_csv(rows, gbk_csv)
    print(f"roster: {ROWS} rows, {len(unit_tree())} units; {xlsx.stat().st_size // 1024} KB "
          f".xlsx, {gbk_csv.stat().st_size // 1024} KB GBK .csv; median of {harness.REPEAT}")

    read_runs = [read_baseline(xlsx) for _ in range(harness.REPEAT)]
    read_s = statistics.median(read_runs)
    figures, table = {}, []
    for database, fresh_url in harness.database_urls(tmp).items():
        insert_runs = [insert_baseline(fresh_url(), rows) for _ in range(harness.REPEAT)]
        baseline = read_s + statistics.median(insert_runs)
        phases = {"baseline: calamine read": read_runs, "baseline: bare INSERT": insert_runs}
        for label, path, create_units in (("xlsx, new units", xlsx, True),
                                          ("xlsx, units exist", xlsx, False),
                                          ("csv GBK, new units", gbk_csv, True)):
            runs = [import_run(fresh_url(), path, create_units) for _ in range(harness.REPEAT)]
            phases |= {f"{label}: {phase}": s for phase, s in harness.collect(runs).items()}
        phases["CLI import-roster xlsx --create-units"] = [
            cli_run(fresh_url(), xlsx, tmp) for _ in range(harness.REPEAT)]
        for phase, seconds in phases.items():
            table.append(harness.figure_row(database, phase, seconds, baseline))
            figures[f"{database}: {phase}"] = statistics.median(seconds)
    harness.print_table(harness.FIGURE_HEADERS, table)
    print(f"peak RSS: this process {harness.peak_rss_mb():.0f} MB, "
          f"CLI subprocess {harness.peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB")
    return figures


if __name__ == "__main__":
    main()
