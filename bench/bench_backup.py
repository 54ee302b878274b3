"""Backup under load: `flask --app studyhall backup` taken while takers keep saving answers
through gunicorn, then restored and checked answer by answer.

Per database (SQLite always; PostgreSQL when BENCH_DATABASE_URL is set):

- setup, in-process (bench_quiz_load.setup_database): N takers, one published exam;
- gunicorn (gthread, WORKERS × 4 threads) serves loadapp; every taker logs in, starts the
  exam and loads the paper, then saves its fill-in-the-blank answers back to back for
  SECONDS seconds, each save a new value ("第n次"), so every acknowledged save is told
  apart from every other;
- first the same load without a backup (the baseline, on another exam); then, a second
  into the load, `flask --app studyhall backup --out FILE` runs as its own process (the
  real command, on the same database and storage folder; its time includes the start of
  Python and the app, ~2-3 s here);
- the load stops; every request must have been answered 2xx (0 errors);
- gunicorn stops, `flask --app studyhall restore FILE --force` puts the copy back in the
  same database, and each answer in it is compared with what was acknowledged: it must be
  the last value acknowledged before the backup started, or one sent after it (never an
  earlier one, never one that was not sent). The restore's own integrity check (PRAGMA
  integrity_check on SQLite, rows of every table = the manifest's, files' checksums)
  must pass.

    .venv/bin/python bench/bench_backup.py --takers 50 --seconds 6
    BENCH_DATABASE_URL=postgresql+psycopg://…/studyhall_bench_test .venv/bin/python \
        bench/bench_backup.py --db both

A run takes about 60 s per database. Needs aiohttp (bench only), as bench_quiz_load.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import bench_quiz_load as load
import harness
import loadapp
import sqlalchemy as sa

from studyhall import create_app
from studyhall.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def parse_options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--takers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql", "both"))
    return parser.parse_args(argv)


def flask(url: str, storage: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "FILE_STORAGE_DIR": str(storage),
           "PYTHONPATH": str(ROOT), "FLASK_SKIP_DOTENV": "1"}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "studyhall", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=False)


async def autosave_load(base: str, accounts: list[str], quiz_id: int, seconds: float,
                        on_started) -> tuple[dict, list, int]:
    """Every taker saves its fill-blank answers back to back for ``seconds``. Returns
    {(attempt, position): [(value, sent, acked or None), ...]} in order, the samples, and
    how many takers were saving."""
    takers = [load.Taker(a, load.new_session(base)) for a in accounts]
    history: dict[tuple[int, int], list] = {}
    samples: list[load.Sample] = []
    try:
        await asyncio.gather(*(load.log_in(t, quiz_id) for t in takers))
        for taker in takers:  # start one by one: the start burst is not what is measured
            status, _, location = await load.timed_request(
                taker.session, "POST", f"/quizzes/{quiz_id}/start", [],
                data={"csrf_token": taker.csrf})
            taker.attempt_id = int(load.ATTEMPT_URL.search(location).group(1))
            _, body, _ = await load.timed_request(taker.session, "GET",
                                                  f"/attempts/{taker.attempt_id}", [])
            taker.csrf, taker.questions = load.parse_paper(body)
        began = time.perf_counter()
        stop = began + seconds
        on_started()

        async def keep_saving(taker: load.Taker) -> None:
            blanks = [(p, n) for p, kind, n in taker.questions if kind == "fill_blank"]
            count = 0
            while time.perf_counter() < stop:
                for position, n in blanks:
                    count += 1
                    value = [f"第{count}次"] * n
                    key = (taker.attempt_id, position)
                    sent = time.perf_counter()
                    record = [value, sent, None]
                    history.setdefault(key, []).append(record)
                    status, _, _ = await load.timed_request(
                        taker.session, "POST", f"/attempts/{taker.attempt_id}/answers",
                        samples, expect=load.saved,
                        json={"position": position, "response": value},
                        headers={"X-CSRFToken": taker.csrf})
                    if status == 200:
                        record[2] = time.perf_counter()

        await asyncio.gather(*(keep_saving(t) for t in takers))
    finally:
        await asyncio.gather(*(t.session.close() for t in takers))
    return history, samples, len(takers)


def check_copy(url: str, history: dict, backup_started: float) -> dict[str, int]:
    """Each answer in the restored database against what was acknowledged."""
    from studyhall.quizzes.models import AttemptQuestion

    app = create_app(loadapp.load_config(url))
    problems, before_backup = [], 0
    with app.app_context():
        stored = {(r.attempt_id, r.position): r.response
                  for r in db.session.scalars(sa.select(AttemptQuestion))}
        for key, records in history.items():
            acked_before = [i for i, (_v, _s, acked) in enumerate(records)
                            if acked is not None and acked < backup_started]
            floor = acked_before[-1] if acked_before else -1
            before_backup += floor + 1
            allowed = [r[0] for r in records[max(floor, 0):]] if floor >= 0 else \
                [None] + [r[0] for r in records]
            if stored.get(key) not in allowed:
                problems.append(f"{key}: {stored.get(key)!r}, acknowledged before the backup: "
                                f"{records[floor][0] if floor >= 0 else None!r}")
        db.session.remove()
        db.engine.dispose()
    if problems:
        raise SystemExit("bench_backup: the copy lost acknowledged answers: "
                         + "; ".join(problems[:5]))
    return {"answers checked": len(history), "saves acknowledged before the backup":
            before_backup}


def measure(database: str, url: str, options, tmp: Path) -> list:
    accounts, (baseline_quiz, quiz_id) = load.setup_database(url, options.takers, 2)
    storage = tmp / f"files-{database}"
    (storage / "ab").mkdir(parents=True)
    (storage / "ab" / "photo").write_bytes(os.urandom(200_000))  # an uploaded file
    archive = tmp / f"backup-{database}.tar.gz"
    timings: dict[str, float] = {}
    log = tmp / f"gunicorn-{database}.log"

    with load.gunicorn(url, "gthread", options.workers, 4, log) as base:
        # The same load without a backup, on the same server, first: the baseline.
        _history, baseline, _n = asyncio.run(autosave_load(
            base, accounts, baseline_quiz, options.seconds, lambda: None))
        def start_backup_soon() -> None:
            def run() -> None:
                time.sleep(1.0)
                timings["started"] = time.perf_counter()
                done = flask(url, storage, "backup", "--out", str(archive))
                timings["ended"] = time.perf_counter()
                timings["returncode"] = done.returncode
                timings["output"] = (done.stdout + done.stderr).strip()

            threading.Thread(target=run, daemon=True).start()

        history, samples, takers = asyncio.run(autosave_load(
            base, accounts, quiz_id, options.seconds, start_backup_soon))
        while "ended" not in timings:
            time.sleep(0.1)
    tracebacks = log.read_text(errors="replace").count("Traceback") if log.exists() else 0
    if timings["returncode"] != 0:
        raise SystemExit(f"bench_backup: backup failed: {timings['output']}")
    errors = sum(1 for s in samples if not s.ok)
    during = [s for s in samples if timings["started"] <= s.start <= timings["ended"]]
    restored = flask(url, storage, "restore", str(archive), "--force")
    if restored.returncode != 0:
        raise SystemExit(f"bench_backup: restore failed: {restored.stdout}{restored.stderr}")
    checked = check_copy(url, history, timings["started"])
    plain = load.summarise(baseline)
    errors += sum(1 for s in baseline if not s.ok)
    during_summary = load.summarise(during) if during else {"req/s": 0, "p99": 0, "max": 0}
    print(f"  {database}: {takers} takers saving for {options.seconds:g} s; "
          f"{timings['output']}", flush=True)
    print(f"    restore: {restored.stdout.strip()}", flush=True)
    return [database, len(samples) + len(baseline), errors, tracebacks,
            f"{timings['ended'] - timings['started']:.2f}", len(during),
            f"{plain['req/s']:.0f}", f"{during_summary['req/s']:.0f}",
            f"{plain['p99']:.0f}", f"{during_summary['p99']:.0f}",
            f"{during_summary['max']:.0f}", archive.stat().st_size // 1024,
            checked["answers checked"], checked["saves acknowledged before the backup"]]


def main(argv: list[str] | None = None) -> list:
    options = parse_options(argv or [])
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        tmp_path = Path(tmp)
        urls = harness.database_urls(tmp_path)
        wanted = ["sqlite", "postgresql"] if options.db == "both" else [options.db]
        for database in wanted:
            if database not in urls:
                print("BENCH_DATABASE_URL is not set: PostgreSQL skipped")
                continue
            rows.append(measure(database, urls[database](), options, tmp_path))
    print()
    harness.print_table(["database", "saves", "errors", "tracebacks", "backup cmd s",
                         "saves during it", "req/s no backup", "req/s during",
                         "p99 ms no backup", "p99 during", "max during", "archive KiB",
                         "answers checked", "acked before"], rows)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
