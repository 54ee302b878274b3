"""kill -9 in the middle of an import: all or nothing afterwards (issue 12 item 4).

`flask --app studyhall import-roster FILE --create-units` (ROWS rows, 200 branches created
by the import) and `flask --app studyhall import-questions FILE` (QUESTIONS questions over
24 categories), each run as its own process on a fresh database (SQLite; PostgreSQL when
BENCH_DATABASE_URL is set):

1. once to the end, timing the write (from the plan's summary line, printed once every
   row is checked, to the exit: the inserts, the audit entry and the commit);
2. then KILLS times (5), each on a fresh database: SIGKILL at a point spread over that
   write window (10% … 90%; one more during the reading and planning), then the database
   is read: the people, units (or questions, categories) and the import's audit entry
   must be all there or none of them, never a part; when the people are there, so is the
   whole --passwords-out file (it is written before the commit); SQLite's PRAGMA
   integrity_check must say ok; and the same import run again must finish and leave each
   row once.

    .venv/bin/python bench/chaos_import.py
    BENCH_DATABASE_URL=postgresql+psycopg://…_test .venv/bin/python bench/chaos_import.py \
        --db both --rows 3000 --questions 2000 --kills 5

About a minute per importer and database on two cores.
"""

import argparse
import contextlib
import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import bench_question_bank as question_bench
import bench_roster_import as roster_bench
import chaos_common as chaos
import flask_migrate
import harness
import loadapp
import sqlalchemy as sa

import question_bank as qb
from studyhall import create_app
from studyhall.extensions import db


def parse_options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=5)
    return parser.parse_args(argv)


def migrate(url: str) -> None:
    app = create_app(loadapp.load_config(url))
    with app.app_context(), contextlib.redirect_stderr(io.StringIO()):
        flask_migrate.upgrade()
        db.session.remove()
        db.engine.dispose()


def counts(url: str) -> dict[str, object]:
    from studyhall.audit import AuditEntry
    from studyhall.bank.models import Question, QuestionCategory
    from studyhall.org.models import Person, Unit

    app = create_app(loadapp.load_config(url))
    with app.app_context():
        found = {name: db.session.scalar(sa.select(sa.func.count()).select_from(model))
                 for name, model in (("people", Person), ("units", Unit),
                                     ("questions", Question), ("categories", QuestionCategory))}
        found["audit"] = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                                           .where(AuditEntry.action.like("%.import")))
        found["distinct accounts"] = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Person.account))))
        found["integrity"] = (db.session.execute(sa.text("PRAGMA integrity_check")).scalar()
                              if db.engine.dialect.name == "sqlite" else "n/a")
        db.session.remove()
        db.engine.dispose()
    return found


def run_cli(url: str, args: list[str], kill_after: float | None = None,
            kill_in_plan: bool = False) -> tuple[int, float, float, str]:
    """The command as a process. With ``kill_after``, SIGKILL that many seconds after its
    plan summary line (or after its start, with ``kill_in_plan``). Returns the exit code
    (-9 when killed), the seconds to the summary line, from it to the exit, the output."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(chaos.ROOT),
           "FLASK_SKIP_DOTENV": "1", "PYTHONUNBUFFERED": "1"}
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "studyhall", *args],
                               cwd=chaos.ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    if kill_in_plan:
        timer = threading.Timer(kill_after, process.send_signal, (signal.SIGKILL,))
        timer.start()
    first = process.stdout.readline()
    planned = time.perf_counter()
    if kill_after is not None and not kill_in_plan:
        time.sleep(kill_after)
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
    rest = process.stdout.read()
    code = process.wait()
    if kill_in_plan:
        timer.cancel()
    return code, planned - began, time.perf_counter() - planned, first + rest


def all_or_nothing(found: dict, full: dict, keys: tuple[str, ...]) -> str:
    if all(found[k] == 0 for k in keys) and found["audit"] == 0:
        return "nothing"
    if all(found[k] == full[k] for k in keys) and found["audit"] == 1:
        return "all"
    return "PART: " + ", ".join(f"{k} {found[k]}/{full[k]}" for k in (*keys, "audit"))


def passwords_written(path: Path | None, people: int) -> bool:
    """The --passwords-out file holds a line per new account (and its header)."""
    if path is None:
        return True
    return path.exists() and len(path.read_text(encoding="utf-8-sig").splitlines()) == people + 1


def one_importer(name: str, args: list[str], keys: tuple[str, ...], fresh, options,
                 verdicts: chaos.Verdicts, database: str, passwords: Path | None = None
                 ) -> None:
    url = fresh()
    migrate(url)
    code, plan_s, write_s, output = run_cli(url, args)
    full = counts(url)
    if not verdicts.check(code == 0 and full["audit"] == 1,
                          f"{database} {name}: a whole run imports "
                          + ", ".join(f"{k} {full[k]}" for k in keys)
                          + f" (plan {plan_s:.1f} s, write {write_s:.1f} s)"):
        print(output[-2000:])
        return
    points = [(plan_s * 0.5, True)] + [
        (write_s * (0.1 + 0.8 * i / max(1, options.kills - 1)), False)
        for i in range(options.kills)]
    results = []
    for kill_after, in_plan in points:
        url = fresh()
        migrate(url)
        if passwords is not None:
            passwords.unlink(missing_ok=True)
        code, _plan, _write, output = run_cli(url, args, kill_after, in_plan)
        found = counts(url)
        if found["people"]:
            verdicts.check(passwords_written(passwords, found["people"]),
                           f"{database} {name}: the {found['people']} new accounts' initial "
                           "passwords are in the --passwords-out file")
        outcome = all_or_nothing(found, full, keys) if code == -9 else f"exited {code}"
        where = (f"{kill_after:.1f} s into the plan" if in_plan
                 else f"{kill_after:.1f} s into the write")
        results.append(outcome)
        integrity = found["integrity"] in ("ok", "n/a")
        verdicts.check(outcome in ("nothing", "all") or outcome == "exited 0" and
                       all_or_nothing(found, full, keys) == "all",
                       f"{database} {name}: kill -9 {where}: {outcome}; integrity "
                       f"{found['integrity']}")
        if not integrity:
            verdicts.check(False, f"{database} {name}: integrity_check {found['integrity']}")
        code, _plan, _write, output = run_cli(url, args)
        again = counts(url)
        verdicts.check(code == 0 and all(again[k] == full[k] for k in keys)
                       and again["distinct accounts"] == again["people"],
                       f"{database} {name}: run again after the kill: exit {code}, "
                       + ", ".join(f"{k} {again[k]}" for k in keys) + " (each once)")
    print(f"  {database} {name}: {len(points)} kills → "
          + ", ".join(f"{results.count(r)} {r}" for r in sorted(set(results))), flush=True)


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv or [])
    verdicts = chaos.Verdicts("chaos_import")
    print(f"chaos_import: kill -9 during import-roster ({options.rows} rows) and "
          f"import-questions ({options.questions} questions)", flush=True)
    with tempfile.TemporaryDirectory(prefix="chaos-import-") as tmp:
        tmp_path = Path(tmp)
        roster_file = tmp_path / "roster.xlsx"
        roster_bench.write_xlsx(roster_bench.roster_rows()[:options.rows], roster_file)
        questions_file = tmp_path / "questions.xlsx"
        questions_file.write_bytes(qb.dump_questions(
            question_bench.make_questions()[:options.questions], "xlsx"))
        urls = harness.database_urls(tmp_path)
        for database in chaos.database_choice(options.db):
            began = time.perf_counter()
            one_importer("import-roster", ["import-roster", str(roster_file), "--create-units",
                                           "--passwords-out", str(tmp_path / "pw.csv")],
                         ("people", "units"), urls[database], options, verdicts, database,
                         tmp_path / "pw.csv")
            one_importer("import-questions", ["import-questions", str(questions_file)],
                         ("questions", "categories"), urls[database], options, verdicts,
                         database)
            print(f"  ({time.perf_counter() - began:.0f} s)", flush=True)
    verdicts.finish()


if __name__ == "__main__":
    main(sys.argv[1:])
