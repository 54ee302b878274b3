"""The database locked or down under load: a clear page and 503, never a traceback, and
back as soon as the database is (issue 12 item 4).

gunicorn (gthread, 2 workers × 4 threads) serves bench/loadapp.py; TAKERS (10) save
answers back to back, each save a new value, resending what was not acknowledged (as the
exam page does); a watcher signed in as another taker reads the home page (GET /), GET
/healthz and, apart, sends a JSON save every 0.25 s and keeps each answer. Then:

- SQLite: another connection (this script's) takes the write lock (BEGIN IMMEDIATE and
  an INSERT) for HOLD seconds (8, longer than the 5 s busy timeout): writes must answer
  503 with Retry-After (JSON for the saves), reads and /healthz 200 (the database is
  there: WAL readers are not blocked).
- PostgreSQL: the script starts a cluster of its own (initdb in a temporary folder, a
  free port, run as the postgres user; the shared server on 5432 is never touched),
  then stops it with `pg_ctl stop -m immediate` (as a crash) for HOLD seconds and starts
  it again.

What must hold: every answer the app gave was 200/302 or a 503 (no 500, no other
status); every 503 page is the Chinese 服务器繁忙 page with Retry-After and no traceback;
/healthz said 503 while the database was unreachable; within RECOVER seconds (15) of
the database's return the page, /healthz and saves answer 200 again, without a restart;
every acknowledged save is in the database afterwards (answer by answer); no traceback
in gunicorn's log.

    .venv/bin/python bench/chaos_database.py --db both      # about a minute each
"""

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import bench_quiz_load as load
import chaos_common as chaos
import loadapp
import sqlalchemy as sa

from studyhall import create_app
from studyhall.extensions import db

BUSY_ZH = "服务器繁忙，请几秒后重试。"
#: The page when the database cannot be reached (PostgreSQL stopped), not merely locked.
DOWN_ZH = "服务器暂时连不上数据库"
#: Debian's PostgreSQL programs, the newest major version installed.
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), default=Path("/usr/lib/postgresql/15/bin"),
             key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)


def parse_options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="both", choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--takers", type=int, default=10)
    parser.add_argument("--hold", type=float, default=8.0)
    parser.add_argument("--recover", type=float, default=15.0)
    return parser.parse_args(argv)


# --- a PostgreSQL cluster of the script's own -------------------------------------------

class OwnCluster:
    """initdb into a temporary folder, served on a free port on 127.0.0.1 by the postgres
    user; stop() crashes it (immediate), start() brings it back; removed at the end."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="chaos-pg-"))
        shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"
        self.port = load.free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/chaos"

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=check,
                              capture_output=True, text=True, cwd=self.folder)

    def __enter__(self) -> "OwnCluster":
        self._pg(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U",
                 "postgres", "-E", "UTF8", "--locale=C.UTF-8")
        self.start()
        self._pg(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "chaos")
        return self

    def start(self) -> None:
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "log"),
                 "-w", "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                 "-c shared_buffers=16MB -c max_connections=40", "start")

    def stop(self) -> None:
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def __exit__(self, *_exc) -> None:
        self._pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop",
                 check=False)
        shutil.rmtree(self.folder, ignore_errors=True)


# --- SQLite's locks ---------------------------------------------------------------------

def hold_lock(path: str, seconds: float) -> None:
    """Hold SQLite's write lock from another process's connection for ``seconds``.
    (Exclusive locking mode, which would keep readers out too, cannot be had while the
    app's connections hold the WAL open: a stopped SQLite is the unit tests' refused
    connection, tests/app/test_faults.py.)"""
    # SQLite has no queue for its lock: under the savers' traffic a waiting connection's
    # busy handler (sleeps of up to 100 ms) can miss every gap, so this one polls tightly.
    connection = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise SystemExit("chaos_database: could not take SQLite's write lock"
                                     ) from None
                time.sleep(0.001)
        connection.execute("CREATE TABLE IF NOT EXISTS chaos_lock (x)")
        connection.execute("INSERT INTO chaos_lock VALUES (1)")
        time.sleep(seconds)
        connection.execute("ROLLBACK")
    finally:
        connection.close()


# --- the load and the watcher -------------------------------------------------------------

class Observed:
    """Every answer the clients got: when, to what, its status, whether it was acceptable
    (200/302, or the clear 503) and why not."""

    def __init__(self) -> None:
        self.answers: list[tuple[float, str, int, bool, str]] = []

    def add(self, what: str, status: int, body: str, retry_after: bool) -> None:
        why = ""
        if status in (200, 302):
            ok = True
        elif status == 503:
            ok = retry_after and "Traceback" not in body and clear_503(what, body)
            why = "" if ok else f"503 without the clear answer or Retry-After: {body[:120]!r}"
        else:
            ok, why = False, f"status {status}: {body[:120]!r}"
        self.answers.append((time.perf_counter(), what, status, ok, why))


def clear_503(what: str, body: str) -> bool:
    """The 503 says what happened: busy (SQLite's lock) or the database unreachable."""
    if what == "page":
        return (BUSY_ZH in body or DOWN_ZH in body) and 'lang="zh-CN"' in body
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    if what == "healthz":
        return answer in ({"status": "error", "database": "unavailable"},
                          {"status": "error", "database": "busy"})
    return answer.get("message") == BUSY_ZH or answer.get("message", "").startswith(DOWN_ZH)


async def timed(session, method, url, **kwargs):
    try:
        async with session.request(method, url, allow_redirects=False, **kwargs) as response:
            return response.status, await response.text(), "Retry-After" in response.headers
    except (TimeoutError, aiohttp.ClientError) as exc:  # a dropped connection: status 0
        return 0, repr(exc), False


async def run_load(base: str, accounts: list[str], quiz_id: int, fault, options, seen,
                   phases: dict):
    takers = [load.Taker(a, load.new_session(base)) for a in accounts]
    history: dict[tuple[int, int], list] = {}
    stop = asyncio.Event()
    try:
        for taker in takers:
            await load.log_in(taker, quiz_id)
            _, _, location, _ = await chaos.retried(
                taker.session, "POST", f"/quizzes/{quiz_id}/start",
                load.redirect_to(r"/attempts/\d+$"), data={"csrf_token": taker.csrf})
            taker.attempt_id = int(load.ATTEMPT_URL.search(location).group(1))
            _, body, _, _ = await chaos.retried(taker.session, "GET",
                                                f"/attempts/{taker.attempt_id}",
                                                lambda s, b, _l: s == 200)
            taker.csrf, taker.questions = load.parse_paper(body)
        watcher, savers = takers[0], takers[1:]

        async def keep_saving(taker) -> None:
            blanks = [(p, n) for p, kind, n in taker.questions if kind == "fill_blank"]
            count = 0
            while not stop.is_set():
                for position, n in blanks:
                    count += 1
                    value = [f"第{count}次"] * n
                    record = [value, None]
                    history.setdefault((taker.attempt_id, position), []).append(record)
                    while not stop.is_set():
                        status, body, retry = await timed(
                            taker.session, "POST", f"/attempts/{taker.attempt_id}/answers",
                            json={"position": position, "response": value},
                            headers={"X-CSRFToken": taker.csrf})
                        seen.add("save", status, body, retry)
                        if load.saved(status, body, ""):
                            record[1] = time.perf_counter()
                            break
                        await asyncio.sleep(0.5)
                    # About five saves a second each: the lock's holder must get its turn.
                    await asyncio.sleep(0.2)

        async def watch(probes) -> None:
            while not stop.is_set():
                for what, method, url, kwargs in probes:
                    status, body, retry = await timed(watcher.session, method, url, **kwargs)
                    seen.add(what, status, body, retry)
                await asyncio.sleep(0.25)

        tasks = [asyncio.create_task(keep_saving(t)) for t in savers]
        # Reads in one loop, a save in another: a save waiting out the busy timeout
        # must not hide what the reads answer meanwhile.
        tasks.append(asyncio.create_task(watch([("page", "GET", "/", {}),
                                                ("healthz", "GET", "/healthz", {})])))
        tasks.append(asyncio.create_task(watch([(
            "save", "POST", f"/attempts/{watcher.attempt_id}/answers",
            {"json": {"position": 1, "response": None},
             "headers": {"X-CSRFToken": watcher.csrf}})])))
        await asyncio.sleep(3)
        await asyncio.to_thread(fault, phases)
        await asyncio.sleep(options.recover)
        stop.set()
        await asyncio.gather(*tasks)
    finally:
        await asyncio.gather(*(t.session.close() for t in takers))
    return history


def check_saves(url: str, history: dict, verdicts, label: str) -> None:
    from studyhall.quizzes.models import AttemptQuestion

    app = create_app(loadapp.load_config(url))
    with app.app_context():
        stored = {(r.attempt_id, r.position): r.response
                  for r in db.session.scalars(sa.select(AttemptQuestion))}
        db.session.remove()
        db.engine.dispose()
    lost, acked = 0, 0
    for key, records in history.items():
        acked_at = [i for i, (_v, at) in enumerate(records) if at is not None]
        acked += len(acked_at)
        allowed = [r[0] for r in records[acked_at[-1]:]] if acked_at else \
            [None] + [r[0] for r in records]
        lost += stored.get(key) not in allowed
    verdicts.check(lost == 0, f"{label}: {len(history)} answers checked against {acked} "
                   f"acknowledged saves: {lost} lost")


def judge(seen: Observed, phases: dict, verdicts, label: str, options,
          unreachable: tuple[str, ...]) -> None:
    bad = [a for a in seen.answers if not a[3]]
    counts: dict[str, int] = {}
    for _at, what, status, _ok, _why in seen.answers:
        counts[f"{what} {status}"] = counts.get(f"{what} {status}", 0) + 1
    print(f"    {label}: answers seen {dict(sorted(counts.items()))}", flush=True)
    verdicts.check(not bad, f"{label}: every answer 200/302 or the clear 503 (Chinese page "
                   f"or JSON, Retry-After, no traceback): {len(bad)} others "
                   f"{[a[4] for a in bad[:3]]}")
    for name, (began, ended) in phases.items():
        during = [a for a in seen.answers if began + 0.5 < a[0] < ended]
        for what in unreachable if name != "write lock" else ("save",):
            statuses = {a[2] for a in during if a[1] == what}
            verdicts.check(503 in statuses, f"{label}, {name}: {what} answered 503 "
                           f"(statuses seen: {sorted(statuses)})")
        if name == "write lock":
            reads = {a[2] for a in during if a[1] in ("page", "healthz")}
            verdicts.check(reads == {200}, f"{label}, {name}: pages and /healthz still "
                           f"read (statuses {sorted(reads)})")
    last_end = max(ended for _b, ended in phases.values())
    for what in ("page", "healthz", "save"):
        after = [a for a in seen.answers if a[1] == what and a[0] > last_end]
        back = next((a[0] - last_end for a in after if a[2] == 200), None)
        tail = [a[2] for a in after if back is not None and a[0] > last_end + back]
        when = "never" if back is None else f"{back:.1f} s"
        verdicts.check(back is not None and back <= options.recover and all(
            s == 200 for s in tail), f"{label}: {what} back to 200 {when} after the "
            "database returned, and stays")


def run_sqlite(options, tmp: Path, verdicts) -> None:
    path = tmp / "chaos.sqlite3"
    url = f"sqlite:///{path}"
    accounts, (quiz_id,) = load.setup_database(url, options.takers + 1, 1)
    log = tmp / "gunicorn-sqlite.log"
    seen = Observed()
    phases: dict = {}

    def fault(phases: dict) -> None:
        began = time.perf_counter()
        hold_lock(str(path), options.hold)
        phases["write lock"] = (began, time.perf_counter())

    with chaos.gunicorn(url, log) as (base, _master):
        history = asyncio.run(run_load(base, accounts, quiz_id, fault, options, seen, phases))
    judge(seen, phases, verdicts, "sqlite", options, ("save",))
    check_saves(url, history, verdicts, "sqlite")
    found = chaos.tracebacks(log)
    verdicts.check(found == 0, f"sqlite: no traceback in gunicorn's log ({found})")


def run_postgresql(options, tmp: Path, verdicts) -> None:
    with OwnCluster() as cluster:
        accounts, (quiz_id,) = load.setup_database(cluster.url, options.takers + 1, 1)
        log = tmp / "gunicorn-postgresql.log"
        seen = Observed()
        phases: dict = {}

        def fault(phases: dict) -> None:
            began = time.perf_counter()
            cluster.stop()
            time.sleep(options.hold)
            cluster.start()
            # Recovery is timed from the moment the server accepts connections again.
            phases["server stopped"] = (began, time.perf_counter())

        with chaos.gunicorn(cluster.url, log) as (base, _master):
            history = asyncio.run(run_load(base, accounts, quiz_id, fault, options, seen,
                                           phases))
        judge(seen, phases, verdicts, "postgresql", options, ("page", "healthz", "save"))
        check_saves(cluster.url, history, verdicts, "postgresql")
    found = chaos.tracebacks(log)
    verdicts.check(found == 0, f"postgresql: no traceback in gunicorn's log ({found})")
    if found:
        print(chaos.first_traceback(log))


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv or [])
    verdicts = chaos.Verdicts("chaos_database")
    print(f"chaos_database: {options.takers} takers saving while the database is locked or "
          f"down for {options.hold:g} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="chaos-database-") as tmp:
        wanted = ["sqlite", "postgresql"] if options.db == "both" else [options.db]
        if "sqlite" in wanted:
            run_sqlite(options, Path(tmp), verdicts)
        if "postgresql" in wanted:
            if not (PG_BIN / "initdb").exists() or os.geteuid() != 0:
                print("PostgreSQL skipped: needs Debian's postgresql-15 and root (to run "
                      "initdb as the postgres user)")
            else:
                run_postgresql(options, Path(tmp), verdicts)
    verdicts.finish()


if __name__ == "__main__":
    main(sys.argv[1:])
