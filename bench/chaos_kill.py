"""kill -9 a gunicorn worker every 5 s through a minute of load; then check, one by one,
that nothing acknowledged was lost or counted twice (issue 12 item 4).

gunicorn (gthread, WORKERS (4) × 4 threads) serves bench/loadapp.py (the app with CSRF on)
on SQLite and, when BENCH_DATABASE_URL is set, PostgreSQL. A thread sends SIGKILL to one
of the workers, picked at random, every EVERY seconds (5) while the load runs (SECONDS,
60); the master starts a new one. Requests on the killed worker lose their connection;
the clients send them again, as the pages' scripts do (unsent answers are kept and
resent), so an unacknowledged request may have been written or not, never half.

Scenarios (--scenario, default all):

- autosave: TAKERS (50) start an exam, then save their fill-in-the-blank answers back to
  back, each save a new value ("第n次"); 5 s before the end everybody submits (the
  killing goes on). Checks: one attempt per taker; each answer in the database is the
  last value acknowledged (2xx) for it or one sent after it, never an older one; every
  attempt submitted once, graded (score on it and on every answer) and its score the sum
  of its answers'.
- heartbeat: READERS (50) keep a material open, beating about once a second. Checks, per
  reader: the beats counted are at least those acknowledged and at most those sent; the
  credit is at least the last credit acknowledged (``credited_seconds``) and never more
  than the wall-clock time from opening to the last beat (nothing counted twice).
- checkin: PEOPLE (300) each scan the session's QR code once at a random moment of the
  minute, with the code of that moment, and scan again until the phone shows a result.
  Checks: everyone shown 签到成功 or 已签到过 is checked in, with one time and method, and
  nobody else is; nobody was refused (a scan answered 410, the code expired while the
  request queued, is scanned again, as the phone asks, and counted).

Each run prints what it tried and what held; it exits 1 if anything did not.

    .venv/bin/python bench/chaos_kill.py                        # SQLite, all three
    BENCH_DATABASE_URL=postgresql+psycopg://…_test .venv/bin/python bench/chaos_kill.py \
        --db both --scenario autosave --seconds 60 --every 5

About 90 s per scenario and database on two cores. Needs aiohttp (bench only).
"""

import argparse
import asyncio
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import bench_checkin as checkin_bench
import bench_heartbeat as heartbeat_bench
import bench_quiz_load as load
import chaos_common as chaos
import harness
import loadapp
import sqlalchemy as sa

from studyhall import create_app
from studyhall.extensions import db

SUBMIT_BEFORE_END = 5.0


def parse_options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="all",
                        choices=("autosave", "heartbeat", "checkin", "all"))
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between kills")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--takers", type=int, default=50)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--people", type=int, default=300)
    return parser.parse_args(argv)


def in_app(url: str):
    return create_app(loadapp.load_config(url))


def close(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- autosave ---------------------------------------------------------------------------

async def autosave_load(base: str, accounts: list[str], quiz_id: int, seconds: float,
                        killer: chaos.WorkerKiller):
    takers = [load.Taker(a, load.new_session(base)) for a in accounts]
    history: dict[tuple[int, int], list] = {}
    counts = {"saves sent": 0, "saves acknowledged": 0, "saves resent": 0,
              "submits": 0, "submit retries": 0, "start retries": 0}
    submitted: dict[int, bool] = {}
    try:
        for taker in takers:  # before the killing starts: not what is tested
            await load.log_in(taker, quiz_id)
        killer.start()
        began = time.perf_counter()
        stop = began + seconds
        submit_at = stop - SUBMIT_BEFORE_END

        async def one(taker: load.Taker) -> None:
            status, _, location, tries = await chaos.retried(
                taker.session, "POST", f"/quizzes/{quiz_id}/start",
                load.redirect_to(r"/attempts/\d+$"), data={"csrf_token": taker.csrf})
            counts["start retries"] += tries - 1
            taker.attempt_id = int(load.ATTEMPT_URL.search(location).group(1))
            _, body, _, _ = await chaos.retried(
                taker.session, "GET", f"/attempts/{taker.attempt_id}",
                lambda s, b, _l: s == 200 and "csrf-token" in b)
            taker.csrf, taker.questions = load.parse_paper(body)
            blanks = [(p, n) for p, kind, n in taker.questions if kind == "fill_blank"]
            count = 0
            while time.perf_counter() < submit_at:
                for position, n in blanks:
                    count += 1
                    value = [f"第{count}次"] * n
                    record = [value, None]
                    history.setdefault((taker.attempt_id, position), []).append(record)
                    # Sent until acknowledged, as the page resends what it kept.
                    while True:
                        counts["saves sent"] += 1
                        status, body, _ = await load.timed_request(
                            taker.session, "POST", f"/attempts/{taker.attempt_id}/answers",
                            [], json={"position": position, "response": value},
                            headers={"X-CSRFToken": taker.csrf})
                        if load.saved(status, body, ""):
                            record[1] = time.perf_counter()
                            counts["saves acknowledged"] += 1
                            break
                        if time.perf_counter() >= submit_at:
                            break
                        counts["saves resent"] += 1
                        await asyncio.sleep(0.3)
            # Submit, still under the killing; a lost answer is pressed again.
            status, _, location, tries = await chaos.retried(
                taker.session, "POST", f"/attempts/{taker.attempt_id}/submit",
                load.redirect_to(r"/attempts/\d+/result$"), data={"csrf_token": taker.csrf})
            counts["submits"] += 1
            counts["submit retries"] += tries - 1
            submitted[taker.attempt_id] = status == 302

        await asyncio.gather(*(one(t) for t in takers))
    finally:
        await asyncio.gather(*(t.session.close() for t in takers))
    return history, counts, submitted


def check_autosave(url: str, quiz_id: int, takers: int, history: dict, submitted: dict,
                   verdicts: chaos.Verdicts) -> None:
    from studyhall.quizzes.models import Attempt, AttemptQuestion, AttemptStatus

    app = in_app(url)
    with app.app_context():
        attempts = db.session.scalars(sa.select(Attempt).where(Attempt.quiz_id == quiz_id)
                                      ).all()
        rows = db.session.scalars(sa.select(AttemptQuestion).join(Attempt)
                                  .where(Attempt.quiz_id == quiz_id)).all()
        people = {a.person_id for a in attempts}
        verdicts.check(len(attempts) == takers and len(people) == takers,
                       f"one attempt per taker: {len(attempts)} attempts of {len(people)} "
                       f"people for {takers} takers (starts resent after a kill)")
        stored = {(r.attempt_id, r.position): r.response for r in rows}
        lost, older, acked = [], [], 0
        for key, records in history.items():
            acked_at = [i for i, (_v, at) in enumerate(records) if at is not None]
            acked += len(acked_at)
            allowed = [r[0] for r in records[acked_at[-1]:]] if acked_at else \
                [None] + [r[0] for r in records]
            if stored.get(key) not in allowed:
                (older if stored.get(key) in [r[0] for r in records] else lost).append(key)
        verdicts.check(not lost and not older,
                       f"{len(history)} answers checked one by one against {acked} "
                       f"acknowledged saves: {len(lost)} lost, {len(older)} older than the "
                       "last acknowledged")
        not_submitted = [a.id for a in attempts if a.status is not AttemptStatus.SUBMITTED
                         or a.submitted_at is None or a.score is None]
        verdicts.check(not not_submitted and all(submitted.values()),
                       f"every attempt submitted and graded: {len(not_submitted)} not; "
                       f"{sum(not v for v in submitted.values())} submits never answered")
        by_attempt: dict[int, Decimal] = {}
        ungraded = 0
        for r in rows:
            if r.score is None:
                ungraded += 1
            by_attempt[r.attempt_id] = by_attempt.get(r.attempt_id, Decimal(0)) + (
                r.score or 0)
        mismatched = [a.id for a in attempts if a.score is not None
                      and a.score != by_attempt.get(a.id, Decimal(0))]
        verdicts.check(not ungraded and not mismatched,
                       f"graded once: {ungraded} answers without a score, {len(mismatched)} "
                       "attempts whose score is not the sum of their answers'")
    close(app)


def run_autosave(database: str, url: str, options, tmp: Path, verdicts) -> None:
    accounts, (quiz_id,) = load.setup_database(url, options.takers, 1)
    log = tmp / f"gunicorn-autosave-{database}.log"
    with (chaos.gunicorn(url, log, workers=options.workers) as (base, master),
          chaos.WorkerKiller(master.pid, options.every) as killer):
        history, counts, submitted = asyncio.run(
            autosave_load(base, accounts, quiz_id, options.seconds, killer))
    print(f"  {database} autosave: {options.takers} takers, {len(killer.kills)} workers "
          f"killed (every {options.every:g} s); {counts}", flush=True)
    verdicts.check(len(killer.kills) >= options.seconds // options.every - 1,
                   f"{len(killer.kills)} kill -9 sent during the load")
    check_autosave(url, quiz_id, options.takers, history, submitted, verdicts)
    found = chaos.tracebacks(log)
    if not verdicts.check(found == 0, f"no traceback in gunicorn's log ({found})"):
        print(chaos.first_traceback(log), flush=True)


# --- heartbeats -------------------------------------------------------------------------

async def heartbeat_load(base: str, accounts: list[str], page: str, seconds: float,
                         rng: random.Random, killer: chaos.WorkerKiller):
    readers = [heartbeat_bench.Reader(a, load.new_session(base)) for a in accounts]
    sent = dict.fromkeys(accounts, 0)
    acked = dict.fromkeys(accounts, 0)
    credited = dict.fromkeys(accounts, 0)
    failures = {"beats unanswered": 0}
    try:
        for reader in readers:
            await heartbeat_bench.open_page(reader, page)
        killer.start()
        stop = time.perf_counter() + seconds

        async def one(reader: heartbeat_bench.Reader) -> None:
            await asyncio.sleep(rng.uniform(0, 1.0))
            while time.perf_counter() < stop:
                sent[reader.account] += 1
                status, body, _ = await load.timed_request(
                    reader.session, "POST", page + "/beat", [],
                    json={"token": reader.token, "active": True},
                    headers={"X-CSRFToken": reader.csrf})
                if heartbeat_bench.beat_ok(status, body, ""):
                    acked[reader.account] += 1
                    credited[reader.account] = max(
                        credited[reader.account],
                        int(body.split('"credited_seconds":')[1].split(",")[0].split("}")[0]))
                else:
                    failures["beats unanswered"] += 1
                await asyncio.sleep(rng.uniform(0.8, 1.2))

        await asyncio.gather(*(one(r) for r in readers))
    finally:
        await asyncio.gather(*(r.session.close() for r in readers))
    return sent, acked, credited, failures


def check_heartbeats(url: str, assignment_id: int, sent: dict, acked: dict, credited: dict,
                     verdicts: chaos.Verdicts) -> None:
    from studyhall.org.models import Person
    from studyhall.study.models import ReadingProgress

    app = in_app(url)
    with app.app_context():
        rows = {r.account: r for r in db.session.execute(
            sa.select(Person.account, ReadingProgress.beats, ReadingProgress.credited_ms,
                      ReadingProgress.opened_ms, ReadingProgress.last_beat_ms)
            .join(Person, Person.id == ReadingProgress.person_id)
            .where(ReadingProgress.assignment_id == assignment_id))}
    close(app)
    few = [a for a in acked if a not in rows or rows[a].beats < acked[a]]
    many = [a for a in acked if a in rows and rows[a].beats > sent[a]]
    verdicts.check(not few and not many,
                   f"{len(acked)} readers' beats: {sum(acked.values())} acknowledged of "
                   f"{sum(sent.values())} sent; {len(few)} readers with fewer counted than "
                   f"acknowledged, {len(many)} with more than sent")
    lost = [a for a in credited if a not in rows or rows[a].credited_ms // 1000 < credited[a]]
    verdicts.check(not lost, f"acknowledged reading time never lost: {len(lost)} readers "
                   "credited less than their last acknowledged credit")
    double = [a for a, r in rows.items() if r.credited_ms > r.last_beat_ms - r.opened_ms]
    total = sum(r.credited_ms for r in rows.values()) // 1000
    verdicts.check(not double, f"never counted twice: {len(double)} readers credited beyond "
                   f"the wall-clock time they had the page open ({total} s credited in all)")


def run_heartbeat(database: str, url: str, options, tmp: Path, verdicts) -> None:
    accounts, assignment_id, material_id = heartbeat_bench.setup_database(url, options.readers)
    page = f"/study/assignments/{assignment_id}/materials/{material_id}"
    log = tmp / f"gunicorn-heartbeat-{database}.log"
    with (chaos.gunicorn(url, log, workers=options.workers) as (base, master),
          chaos.WorkerKiller(master.pid, options.every) as killer):
        sent, acked, credited, failures = asyncio.run(heartbeat_load(
            base, accounts, page, options.seconds, random.Random(2), killer))
    print(f"  {database} heartbeat: {options.readers} readers, {len(killer.kills)} workers "
          f"killed; {sum(sent.values())} beats sent, {failures}", flush=True)
    verdicts.check(len(killer.kills) >= options.seconds // options.every - 1,
                   f"{len(killer.kills)} kill -9 sent during the load")
    check_heartbeats(url, assignment_id, sent, acked, credited, verdicts)
    found = chaos.tracebacks(log)
    if not verdicts.check(found == 0, f"no traceback in gunicorn's log ({found})"):
        print(chaos.first_traceback(log), flush=True)


# --- check-ins --------------------------------------------------------------------------

async def checkin_load(base: str, accounts: list[str], session: dict, seconds: float,
                       rng: random.Random, killer: chaos.WorkerKiller):
    clients = [load.new_session(base) for _ in accounts]
    outcomes: dict[str, str] = {}
    tries_total = {"scans resent": 0, "expired, scanned again": 0}
    try:
        for client, account in zip(clients, accounts, strict=True):
            await checkin_bench.log_in(client, account)
        killer.start()

        async def one(client, account: str) -> None:
            await asyncio.sleep(rng.uniform(0, seconds - 5))
            sid = session["id"]
            for attempt in range(40):
                token = checkin_bench.token_now(session)
                status, _, location = await load.timed_request(
                    client, "GET", f"/checkin/{sid}/{token}", [])
                if status == 302 and "/done" in location:
                    status, body, _ = await load.timed_request(client, "GET", location, [])
                    found = checkin_bench.OUTCOME.search(body)
                    if status == 200 and found:
                        outcomes[account] = found.group(1)
                        tries_total["scans resent"] += attempt
                        return
                elif status == 410:
                    # 二维码已过期，请重新扫描: the scan waited in a queue longer than the
                    # code lives (10-20 s) on the loaded box; the phone says to scan again.
                    tries_total["expired, scanned again"] += 1
                elif status not in (0, 502, 503):
                    outcomes[account] = f"HTTP {status}"
                    return
                await asyncio.sleep(0.5)
            outcomes[account] = "never answered"

        await asyncio.gather(*(one(c, a) for c, a in zip(clients, accounts, strict=True)))
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    return outcomes, tries_total


def check_checkins(url: str, session_id: int, outcomes: dict[str, str],
                   verdicts: chaos.Verdicts) -> None:
    from studyhall.org.models import Person
    from studyhall.sessions.models import Attendance

    app = in_app(url)
    with app.app_context():
        rows = db.session.execute(
            sa.select(Person.account, Attendance.status, Attendance.checked_in_at,
                      Attendance.method)
            .join(Person, Person.id == Attendance.person_id)
            .where(Attendance.session_id == session_id)).all()
    close(app)
    by_account: dict[str, list] = {}
    for row in rows:
        by_account.setdefault(row.account, []).append(row)
    shown = {a for a, o in outcomes.items() if o in ("checked_in", "already")}
    refused = {a: o for a, o in outcomes.items() if a not in shown}
    recorded = {a for a, rs in by_account.items()
                if any(r.checked_in_at is not None and r.method for r in rs)}
    doubled = [a for a, rs in by_account.items() if len(rs) != 1]
    verdicts.check(not refused, f"{len(outcomes)} people scanned under the killing: "
                   f"{len(shown)} shown 签到成功 or 已签到过, refused or unanswered: "
                   f"{len(refused)} {list(refused.items())[:3]}")
    verdicts.check(shown == recorded and not doubled,
                   f"every acknowledged check-in recorded once: {len(recorded)} recorded, "
                   f"{len(shown - recorded)} acknowledged but missing, "
                   f"{len(recorded - shown)} recorded but never shown, {len(doubled)} "
                   "people with other than one row")


def run_checkin(database: str, url: str, options, tmp: Path, verdicts) -> None:
    accounts, sessions = checkin_bench.setup_database(url, options.people, 1)
    log = tmp / f"gunicorn-checkin-{database}.log"
    with (chaos.gunicorn(url, log, workers=options.workers) as (base, master),
          chaos.WorkerKiller(master.pid, options.every) as killer):
        outcomes, counts = asyncio.run(checkin_load(
            base, accounts, sessions[0], options.seconds, random.Random(3), killer))
    kinds: dict[str, int] = {}
    for outcome in outcomes.values():
        kinds[outcome] = kinds.get(outcome, 0) + 1
    print(f"  {database} check-in: {options.people} people, {len(killer.kills)} workers "
          f"killed; outcomes {kinds}, {counts}", flush=True)
    verdicts.check(len(killer.kills) >= options.seconds // options.every - 1,
                   f"{len(killer.kills)} kill -9 sent during the check-ins")
    check_checkins(url, sessions[0]["id"], outcomes, verdicts)
    found = chaos.tracebacks(log)
    if not verdicts.check(found == 0, f"no traceback in gunicorn's log ({found})"):
        print(chaos.first_traceback(log), flush=True)


SCENARIOS = {"autosave": run_autosave, "heartbeat": run_heartbeat, "checkin": run_checkin}


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv or [])
    verdicts = chaos.Verdicts("chaos_kill")
    names = list(SCENARIOS) if options.scenario == "all" else [options.scenario]
    print(f"chaos_kill: kill -9 a gunicorn worker every {options.every:g} s through "
          f"{options.seconds:g} s of {', '.join(names)} load", flush=True)
    with tempfile.TemporaryDirectory(prefix="chaos-kill-") as tmp:
        tmp_path = Path(tmp)
        urls = harness.database_urls(tmp_path)
        for database in chaos.database_choice(options.db):
            for name in names:
                began = time.perf_counter()
                SCENARIOS[name](database, urls[database](), options, tmp_path, verdicts)
                print(f"  ({time.perf_counter() - began:.0f} s)", flush=True)
    verdicts.finish()


if __name__ == "__main__":
    main(sys.argv[1:])
