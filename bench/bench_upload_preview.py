"""The largest uploads the limits admit, through the import pages: the preview must answer
well within gunicorn's 30 s timeout (issue 7, item 4), and so must the confirmation.

Through the Flask test client, logged in as an administrator, on a fresh database each
run (SQLite always, PostgreSQL too when BENCH_DATABASE_URL is set):

- roster at the cap (config MAX_ROSTER_ROWS, 10,000 rows: a title, a header and 9,998
  people; the generator of bench_roster_import.py, the unit tree in the database) as
  .xlsx and as GBK .csv:
  POST the file (read + plan + keep + first preview page), GET a further preview page
  (plan again + page 100), POST the confirmation (plan again + apply + commit);
- question bank at the cap (MAX_QUESTION_ROWS, 5,000 rows: a header and 4,999
  questions; the generator of bench_question_bank.py) as .xlsx: the same three steps;
- files within the 10 MB upload limit that the caps refuse, as the issue found them: a
  roster .csv of 230,000 rows and an .xlsx of 300,000 rows in four short columns (工号,
  姓名, 所属支部, 政治面貌), a GIFT file of 26,000 questions: the POST that answers with
  the refusal.

Baseline, same run: a bare read of the same file — python-calamine ``to_python`` for a
workbook, ``csv.reader`` over the decoded text for a CSV, ``load_questions`` with no
limits for the GIFT file (the parse itself).

    .venv/bin/python bench/run_all.py upload_preview
"""

from __future__ import annotations

import csv
import dataclasses
import io
import random
import re
import statistics
import tempfile
from pathlib import Path

import bench_question_bank as bank_bench
import bench_roster_import as roster_bench
import harness
import sqlalchemy as sa
import xlsxwriter
from python_calamine import CalamineWorkbook

import config
import question_bank as qb
from studyhall.bank.models import Question
from studyhall.extensions import db
from studyhall.org import operations
from studyhall.org.models import Person, PoliticalStatus, Role, Unit

PASSWORD = "bench-password-1"
# The caps count a sheet's rows as Excel numbers them: a title row and a header above
# 9,998 people make 10,000; a header above 4,999 questions makes 5,000.
ROSTER_CAP, QUESTION_CAP = config.Config.MAX_ROSTER_ROWS, config.Config.MAX_QUESTION_ROWS
ROSTER_ROWS = ROSTER_CAP - 2
QUESTIONS = QUESTION_CAP - 1
BIG_CSV_ROWS = 230_000
BIG_XLSX_ROWS = 300_000
BIG_GIFT_QUESTIONS = 26_000


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"bench_upload_preview: check failed: {message}")


# --- files ---------------------------------------------------------------------------

def roster_files(tmp: Path, rows: int, stem: str) -> tuple[Path, Path]:
    roster_bench.ROWS = rows
    data = roster_bench.roster_rows()
    xlsx, gbk_csv = tmp / f"{stem}.xlsx", tmp / f"{stem}.csv"
    roster_bench.write_xlsx(data, xlsx)
    roster_bench.write_csv(data, gbk_csv)
    return xlsx, gbk_csv


def narrow_roster(tmp: Path, rows: int, suffix: str) -> Path:
    """The shape of the issue's files at the 10 MB limit: 工号, 姓名, 所属支部 (a branch's
    own name), 政治面貌 — four short columns, so as many rows as 10 MB can hold."""
    rng = random.Random(roster_bench.SEED)
    branches = [f"{school}{section}党支部" for school in roster_bench.SCHOOLS
                for section in roster_bench.SECTIONS]
    statuses = list(roster_bench.STATUSES)
    data = [[f"{n:08d}", rng.choice(roster_bench.SURNAMES) + rng.choice(roster_bench.GIVEN),
             rng.choice(branches), rng.choice(statuses)] for n in range(1, rows + 1)]
    header = ["工号", "姓名", "所属支部", "政治面貌"]
    path = tmp / f"narrow{suffix}"
    if suffix == ".csv":
        with open(path, "w", newline="", encoding="gbk") as handle:
            csv.writer(handle).writerows([header, *data])
    else:
        workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = workbook.add_worksheet()
        for index, row in enumerate([header, *data]):
            sheet.write_row(index, 0, row)
        workbook.close()
    return path


def question_file(tmp: Path) -> Path:
    bank_bench.QUESTIONS = QUESTIONS
    path = tmp / "bank.xlsx"
    path.write_bytes(qb.dump_questions(bank_bench.make_questions(), "xlsx"))
    return path


def gift_file(tmp: Path) -> Path:
    sample = [q for q in qb.load_sample_bank() if not qb.export_problems([q], "gift")]
    questions = []
    for n in range(BIG_GIFT_QUESTIONS):
        base = sample[n % len(sample)]
        questions.append(dataclasses.replace(base, stem=f"【{n + 1:05d}】{base.stem}"))
    path = tmp / "bank.gift"
    path.write_bytes(qb.dump_questions(questions, "gift"))
    return path


# --- baselines -----------------------------------------------------------------------

def bare_read(path: Path) -> float:
    data = path.read_bytes()
    if path.suffix == ".xlsx":
        return harness.timed(lambda: CalamineWorkbook.from_filelike(io.BytesIO(data))
                             .get_sheet_by_index(0).to_python())[0]
    if path.suffix == ".csv":
        return harness.timed(lambda: list(csv.reader(io.StringIO(data.decode("gb18030")))))[0]
    return harness.timed(lambda: qb.load_questions(data, filename=path.name,
                                                   limits=qb.ReadLimits(max_rows=10**9)))[0]


# --- the pages -----------------------------------------------------------------------

def logged_in_client(app):
    """An administrator of the whole tree on the bench's unit tree, logged in."""
    with app.app_context():
        roster_bench.make_unit_tree()
        top = db.session.scalar(sa.select(Unit).where(Unit.parent_id.is_(None)))
        person, _ = operations.create_person(account="bench-admin", name="管理员", unit=top,
                                             political_status=PoliticalStatus.MASSES,
                                             role=Role.ADMIN, password=PASSWORD)
        person.must_change_password = False
        db.session.commit()
    client = app.test_client()
    client.set_cookie("lang", "en")  # the checks read the English source strings
    response = client.post("/login", data={"account": "bench-admin", "password": PASSWORD})
    check(response.status_code == 302, "login")
    return client


def post_file(client, url: str, path: Path, **fields):
    return client.post(url, data={"file": (io.BytesIO(path.read_bytes()), path.name), **fields},
                       content_type="multipart/form-data")


def token_in(page: str) -> str:
    found = re.search(r'name="token"[^>]*value="([^"]+)"', page)
    check(found is not None, "a confirmation form on the preview")
    return found.group(1)


def roster_run(url: str, path: Path) -> dict[str, float]:
    app = harness.make_app(url)
    client = logged_in_client(app)
    with app.app_context():
        preview_s, response = harness.timed(lambda: post_file(client, "/manage/roster", path))
        page = response.get_data(as_text=True)
        check(response.status_code == 200 and f"Import {ROSTER_ROWS} rows" in page,
              "roster preview offers the import")
        token = token_in(page)
        more_s, response = harness.timed(
            lambda: client.get(f"/manage/roster/preview/{token}?page=75"))
        check(response.status_code == 200 and ">7403</td>" in response.get_data(as_text=True),
              "roster preview page 75 shows row 7,403")
        confirm_s, response = harness.timed(
            lambda: client.post("/manage/roster/confirm", data={"token": token}))
        check(response.status_code == 200, f"roster confirm: {response.status_code}")
        db.session.remove()
        people = db.session.scalar(sa.select(sa.func.count(Person.id)))
        check(people == ROSTER_ROWS + 1, f"{people} people stored")
    harness.close_app(app)
    return {"POST file → first preview page": preview_s, "GET a further preview page": more_s,
            "POST confirm → imported": confirm_s, "page KB": len(page) / 1024}


def question_run(url: str, path: Path) -> dict[str, float]:
    app = harness.make_app(url)
    client = logged_in_client(app)
    with app.app_context():
        preview_s, response = harness.timed(lambda: post_file(
            client, "/manage/bank/import", path, format="", category_id=0))
        page = response.get_data(as_text=True)
        check(response.status_code == 200 and f"1–20 of {QUESTIONS}" in page,
              "question preview, first page")
        token = token_in(page)
        more_s, response = harness.timed(
            lambda: client.get(f"/manage/bank/import/preview/{token}?page=150"))
        check("2981–3000" in response.get_data(as_text=True), "question preview page 150")
        confirm_s, response = harness.timed(lambda: client.post(
            "/manage/bank/import/confirm", data={"token": token, "duplicates": "skip"}))
        check(response.status_code == 302, f"question confirm: {response.status_code}")
        db.session.remove()
        stored = db.session.scalar(sa.select(sa.func.count(Question.id)))
        check(stored == QUESTIONS, f"{stored} questions stored")
    harness.close_app(app)
    return {"POST file → first preview page": preview_s, "GET a further preview page": more_s,
            "POST confirm → imported": confirm_s, "page KB": len(page) / 1024}


def refusal_run(url: str, paths: dict[str, tuple[str, Path, str]]) -> dict[str, float]:
    app = harness.make_app(url)
    client = logged_in_client(app)
    figures = {}
    with app.app_context():
        for label, (page_url, path, expected) in paths.items():
            fields = {"format": "", "category_id": 0} if "bank" in page_url else {}
            seconds, response = harness.timed(
                lambda: post_file(client, page_url, path, **fields))  # noqa: B023
            page = response.get_data(as_text=True)
            check(response.status_code == 200 and expected in page,
                  f"{label}: refused with “{expected}”")
            figures[label] = seconds
    harness.close_app(app)
    return figures


def main() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        return run(Path(tmp))


def run(tmp: Path) -> dict[str, float]:
    roster_xlsx, roster_csv = roster_files(tmp, ROSTER_ROWS, "roster")
    big_xlsx = narrow_roster(tmp, BIG_XLSX_ROWS, ".xlsx")
    big_csv = narrow_roster(tmp, BIG_CSV_ROWS, ".csv")
    bank_xlsx, gift = question_file(tmp), gift_file(tmp)
    sizes = {path.name: path.stat().st_size / 1024 / 1024
             for path in (roster_xlsx, roster_csv, big_xlsx, big_csv, bank_xlsx, gift)}
    print("files (MB): " + ", ".join(f"{name} {mb:.2f}" for name, mb in sizes.items()))
    check(max(sizes.values()) < 10, "every file within the 10 MB upload limit")
    limited = f"at most {ROSTER_CAP:,} can be imported"
    refused = {
        f"roster .csv {BIG_CSV_ROWS:,} rows: refused": ("/manage/roster", big_csv, limited),
        f"roster .xlsx {BIG_XLSX_ROWS:,} rows: refused": ("/manage/roster", big_xlsx, limited),
        f"GIFT {BIG_GIFT_QUESTIONS:,} questions: refused": ("/manage/bank/import", gift,
                                                            f"超过上限{QUESTION_CAP:,}道"),
    }
    baselines = {"roster .xlsx": roster_xlsx, "roster .csv": roster_csv, "bank .xlsx": bank_xlsx,
                 "big .xlsx": big_xlsx, "big .csv": big_csv, "GIFT": gift}
    base = {label: statistics.median(bare_read(path) for _ in range(harness.REPEAT))
            for label, path in baselines.items()}
    print("baselines (s, median): " + ", ".join(f"{k} {v:.3f}" for k, v in base.items()))
    figures, table = {}, []
    for database, fresh_url in harness.database_urls(tmp).items():
        groups = [
            (f"roster .xlsx {ROSTER_ROWS:,} rows", base["roster .xlsx"],
             harness.collect([roster_run(fresh_url(), roster_xlsx)
                              for _ in range(harness.REPEAT)])),
            (f"roster .csv {ROSTER_ROWS:,} rows", base["roster .csv"],
             harness.collect([roster_run(fresh_url(), roster_csv)
                              for _ in range(harness.REPEAT)])),
            (f"bank .xlsx {QUESTIONS:,} questions", base["bank .xlsx"],
             harness.collect([question_run(fresh_url(), bank_xlsx)
                              for _ in range(harness.REPEAT)])),
        ]
        refusals = harness.collect([refusal_run(fresh_url(), refused)
                                    for _ in range(harness.REPEAT)])
        for label, baseline, runs in groups:
            kilobytes = runs.pop("page KB")
            for phase, seconds in runs.items():
                table.append(harness.figure_row(database, f"{label}: {phase}", seconds,
                                                baseline))
                figures[f"{database}: {label}: {phase}"] = statistics.median(seconds)
            figures[f"{database}: {label}: first page KB"] = statistics.median(kilobytes)
            print(f"{database}: {label}: first preview page {statistics.median(kilobytes):.0f} KB")
        for (label, seconds), baseline in zip(refusals.items(),
                                              (base["big .csv"], base["big .xlsx"], base["GIFT"]),
                                              strict=True):
            table.append(harness.figure_row(database, label, seconds, baseline))
            figures[f"{database}: {label}"] = statistics.median(seconds)
    harness.print_table(harness.FIGURE_HEADERS, table)
    print(f"peak RSS: {harness.peak_rss_mb():.0f} MB")
    return figures


if __name__ == "__main__":
    main()
